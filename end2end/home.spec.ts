import { expect, expectAccessible, open, test } from "./fixtures";

test("home page lists demo places in Chinese", async ({ page, jsEnabled }) => {
  await open(page, "/", jsEnabled);

  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("家门口的托育服务");
  await expect(page.getByRole("navigation", { name: "主导航" })).toBeVisible();
  await expect(page.getByRole("main")).toBeVisible();
  await expect(page.getByRole("contentinfo")).toBeVisible();
  await expect(page.getByText("演示数据").first()).toBeVisible();
  await expectAccessible(page);
});

test("place page shows upcoming sessions", async ({ page, jsEnabled }) => {
  await open(page, "/", jsEnabled);

  await page.getByRole("link", { name: /湖南路街道社区亲子室/ }).click();

  await expect(page).toHaveURL(/\/places\/\d+$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("湖南路街道社区亲子室");
  await expect(page.getByRole("heading", { name: "近期活动与托育时段" })).toBeVisible();
  await expect(page.locator(".session").first()).toContainText("月龄");
  await expectAccessible(page);
});

test("unknown page answers 404 with a way home", async ({ page, jsEnabled }) => {
  const response = await page.goto("/no/such/page");

  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("页面不存在");
  await page.getByRole("link", { name: "返回首页" }).click();
  await expect(page).toHaveURL(/\/$/);
  if (jsEnabled) await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expectAccessible(page);
});

test("skip link moves focus to the main content", async ({ page, jsEnabled }) => {
  await open(page, "/", jsEnabled);

  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "跳到主要内容" });
  await expect(skip).toBeFocused();
  await page.keyboard.press("Enter");

  await expect(page).toHaveURL(/#main$/);
});
