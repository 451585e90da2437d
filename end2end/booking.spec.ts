import { expect, expectAccessible, open, test, type Page } from "./fixtures";

/** Signs in from the family page as the demo citizen whose name matches. */
async function signIn(page: Page, jsEnabled: boolean, citizen: RegExp): Promise<void> {
  await open(page, "/family", jsEnabled);
  await page.getByRole("link", { name: "使用“我的南京”登录" }).click();
  await page.getByRole("button", { name: citizen }).click();
  await expect(page).toHaveURL(/\/family$/);
}

/** Adds a child with consent unless the family already has one by that name. */
async function ensureChild(page: Page, name: string): Promise<void> {
  if ((await page.locator(".child-name", { hasText: name }).count()) > 0) return;
  await page.getByLabel("孩子姓名").fill(name);
  await page.getByLabel("出生日期").fill("2025-01-01");
  await page.getByRole("checkbox", { name: /单独同意/ }).check();
  await page.getByRole("button", { name: "保存" }).click();
  await expect(page.locator(".child-name", { hasText: name })).toBeVisible();
}

test("families book, wait, cancel and take an offered place", async ({ page, browser, baseURL, jsEnabled }) => {
  // A city administrator publishes a one-place session for this run.
  await signIn(page, jsEnabled, /张伟/);
  const places = await (await page.request.get("/api/v1/places?limit=1")).json();
  const starts = new Date(Date.now() + 3 * 24 * 3600 * 1000);
  starts.setUTCMinutes(0, 0, 0);
  const ends = new Date(starts.getTime() + 3600 * 1000);
  const title = jsEnabled ? "周末绘本" : "绘本时光";
  const created = await page.request.post(`/api/v1/places/${places.items[0].id}/sessions`, {
    headers: { origin: baseURL ?? "" },
    data: {
      kind: "parent_child_activity",
      title,
      starts_at: starts.toISOString(),
      ends_at: ends.toISOString(),
      capacity: 1,
      min_age_months: 6,
      max_age_months: 36,
    },
  });
  expect(created.status()).toBe(201);
  const session = (await created.json()).id as number;
  await page.context().clearCookies();

  // A visitor keeps the session page open while the place goes.
  const other = await browser.newContext({ javaScriptEnabled: jsEnabled, locale: "zh-CN" });
  const second = await other.newPage();
  await open(second, `/sessions/${session}`, jsEnabled);
  await expect(second.locator(".session-left")).toHaveText("剩余 1 个名额（共 1 个）");

  // The first family books the only place.
  const first = jsEnabled ? "小满" : "小雪";
  await signIn(page, jsEnabled, /陈静/);
  await ensureChild(page, first);
  await open(page, `/sessions/${session}`, jsEnabled);
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await expect(page.getByText("剩余 1 个名额")).toBeVisible();
  await expectAccessible(page);
  await page.getByRole("checkbox", { name: new RegExp(first) }).check();
  await page.getByRole("button", { name: "确认预约" }).click();
  await expect(page.locator(".check-in-code")).toHaveText(/^[2-9A-Z]{6}$/);
  await expect(page.getByText("已满", { exact: true })).toBeVisible();

  // With JavaScript the open page learns it is full without a reload.
  if (jsEnabled) {
    await expect(second.locator(".session-left")).toHaveText("已满", { timeout: 10_000 });
  }

  // The visitor signs in as a second family, finds it full and joins the
  // waitlist.
  const secondChild = jsEnabled ? "小禾" : "小麦";
  await signIn(second, jsEnabled, /阿依古丽/);
  await ensureChild(second, secondChild);
  await open(second, `/sessions/${session}`, jsEnabled);
  await second.getByRole("checkbox", { name: new RegExp(secondChild) }).check();
  await second.getByRole("button", { name: "加入候补" }).click();
  await expect(second.getByText("候补第 1 位")).toBeVisible();

  // The first family cancels; the place is offered to the second.
  await open(page, "/bookings", jsEnabled);
  await expectAccessible(page);
  const booking = page.locator(".booking", { hasText: title });
  await booking.getByRole("button", { name: "取消预约" }).click();
  await expect(page.locator(".booking-past", { hasText: title })).toContainText("已取消");

  await open(second, "/bookings", jsEnabled);
  const offer = second.locator(".booking-offer", { hasText: title });
  await expect(offer).toContainText("有名额了");
  await expectAccessible(second);
  await offer.getByRole("button", { name: "确认预约" }).click();
  await expect(second.locator(".booking", { hasText: title }).locator(".check-in-code")).toHaveText(
    /^[2-9A-Z]{6}$/,
  );
  await open(second, "/inbox", jsEnabled);
  // Newest first: the booking, then the offer that led to it.
  const messages = second.locator(".message", { hasText: title });
  await expect(messages.first()).toContainText(`已为${secondChild}预约`);
  await expect(messages.filter({ hasText: "有名额了" }).first()).toBeVisible();
  await other.close();
});
