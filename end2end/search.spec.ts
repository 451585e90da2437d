import { expect, expectAccessible, expectNoOverflow, open, test } from "./fixtures";

// The demo data: 湖南路 room at (32.0668, 118.7756), the 玄武区 provider
// about 2.5 km away, the others beyond the 3 km default radius.

test("typed name lists places nearest first", async ({ page, jsEnabled }) => {
  await open(page, "/", jsEnabled);

  await page.getByLabel("输入街道、社区或场所名称，查找附近的托育").fill("湖南路");
  await page.getByRole("button", { name: "搜索" }).click();

  await expect(page).toHaveURL(/\/search\?q=/);
  await expect(page.getByText("从“【演示】湖南路街道社区亲子室”出发")).toBeVisible();
  const items = page.locator(".nearby-list > li");
  await expect(items).toHaveCount(2);
  await expect(items.first()).toContainText("湖南路街道社区亲子室");
  await expect(items.first()).toContainText("15分钟托育服务圈内");
  await expect(items.first()).toContainText(/(刚刚|分钟前)更新/);
  await expect(items.nth(1)).toContainText("玄武区普惠托育中心");
  await expect(items.nth(1)).toContainText("公里");
  await expectNoOverflow(page);
  await expectAccessible(page);
});

test("service filter keeps full-day places", async ({ page, jsEnabled }) => {
  await open(page, "/search?q=湖南路", jsEnabled);

  await page.getByLabel("服务类型").selectOption("full_day");
  await page.getByRole("button", { name: "搜索" }).click();

  await expect(page).toHaveURL(/service=full_day/);
  const items = page.locator(".nearby-list > li");
  await expect(items).toHaveCount(1);
  await expect(items.first()).toContainText("玄武区普惠托育中心");
  await expect(page.getByLabel("服务类型")).toHaveValue("full_day");
});

test("bad coordinates explain the problem", async ({ page }) => {
  const response = await page.goto("/search?lat=NaN&lon=118.78");

  expect(response?.status()).toBe(400);
  await expect(page.getByRole("alert")).toContainText("搜索条件有误");
  await expect(page.getByRole("alert")).toContainText("位置");
});

test("location button searches from the position", async ({ page, context, jsEnabled }) => {
  await context.grantPermissions(["geolocation"]);
  await context.setGeolocation({ latitude: 32.0668, longitude: 118.7756 });
  await open(page, "/search", jsEnabled);
  const button = page.locator(".locate button");

  if (!jsEnabled) {
    await expect(button).toBeHidden();
    return;
  }
  await page.getByLabel("从哪里出发").fill("旧的名称");
  await button.click();

  await expect(page).toHaveURL(/lat=32\.066800&lon=118\.775600/);
  await expect(page.getByText("从您的位置出发")).toBeVisible();
  await expect(page.locator(".nearby-list > li").first()).toContainText("湖南路街道社区亲子室");
  await expect(page.getByLabel("从哪里出发")).toHaveValue("");
});

test("denied location falls back to the name", async ({ page, context, jsEnabled }) => {
  test.skip(!jsEnabled, "the button exists only with JavaScript");
  await context.clearPermissions();
  await open(page, "/search", jsEnabled);

  await page.locator(".locate button").click();

  await expect(page.getByRole("status").filter({ hasText: "没能获取您的位置" })).toBeVisible();
  await expect(page.getByLabel("从哪里出发")).toBeFocused();
});

test("place page shows disclosures and directions", async ({ page, jsEnabled }) => {
  await open(page, "/search?q=玄武区普惠托育中心", jsEnabled);

  await page.getByRole("link", { name: /玄武区普惠托育中心/ }).click();

  await expect(page.getByRole("heading", { name: "公示信息" })).toBeVisible();
  await expect(page.getByText("已备案")).toBeVisible();
  await expect(page.getByText("4 星")).toBeVisible();
  await expect(page.getByText(/来源：【演示】虚构的区卫健委公示，2026年11月1日/).first()).toBeVisible();
  const amap = page.getByRole("link", { name: "用高德地图导航" });
  await expect(amap).toHaveAttribute("href", /^https:\/\/uri\.amap\.com\/navigation\?to=118\.\d{6}%2C32\.\d{6}%2C/);
  await expectAccessible(page);
});
