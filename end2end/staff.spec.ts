import { expect, expectAccessible, open, test, type Page } from "./fixtures";

/** Signs in from `path` as the demo citizen whose name matches. */
async function signIn(page: Page, jsEnabled: boolean, path: string, citizen: RegExp): Promise<void> {
  await open(page, path, jsEnabled);
  await page.getByRole("link", { name: "使用“我的南京”登录" }).first().click();
  await page.getByRole("button", { name: citizen }).click();
  await expect(page).toHaveURL(new RegExp(`${path}$`));
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

/** Formats an instant as a `datetime-local` input takes it, in Nanjing time. */
function nanjingInput(instant: number): string {
  return new Date(instant + 8 * 3600 * 1000).toISOString().slice(0, 16);
}

test("room staff publish a session, check a child in and cancel a booking", async ({ page, browser, jsEnabled }) => {
  // The demo room's staff member opens the console from the account page.
  await signIn(page, jsEnabled, "/account", /周敏/);
  await page.getByRole("link", { name: "亲子室工作台" }).click();
  await expect(page).toHaveURL(/\/staff$/);
  await expect(page.getByRole("heading", { level: 1, name: "亲子室工作台" })).toBeVisible();
  await expectAccessible(page);

  // A session three days ahead, published through the form. An end before
  // the start comes back with the field named and the title kept.
  const title = jsEnabled ? "周末亲子律动" : "周末亲子手工";
  const starts = Date.now() + 3 * 24 * 3600 * 1000;
  await page.getByRole("link", { name: "发布新活动" }).first().click();
  await expect(page.getByRole("heading", { level: 1, name: "发布新活动" })).toBeVisible();
  await expectAccessible(page);
  await page.getByLabel("活动名称").fill(title);
  await page.getByLabel("开始时间").fill(nanjingInput(starts));
  await page.getByLabel("结束时间").fill(nanjingInput(starts - 3600 * 1000));
  await page.getByLabel("名额（1—500）").fill("4");
  await page.getByRole("button", { name: "发布" }).click();
  await expect(page.getByRole("alert")).toContainText("结束时间");
  await expect(page.getByLabel("活动名称")).toHaveValue(title);
  await page.getByLabel("结束时间").fill(nanjingInput(starts + 3600 * 1000));
  await page.getByRole("button", { name: "发布" }).click();
  await expect(page).toHaveURL(/\/staff\/sessions\/\d+$/);
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  const sessionPath = new URL(page.url()).pathname.replace("/staff", "");

  // A family books two children into it.
  const family = await browser.newContext({ javaScriptEnabled: jsEnabled, locale: "zh-CN" });
  const parent = await family.newPage();
  const [first, second] = jsEnabled ? ["小林", "小森"] : ["小溪", "小河"];
  await signIn(parent, jsEnabled, "/family", /陈静/);
  await ensureChild(parent, first);
  await ensureChild(parent, second);
  await open(parent, sessionPath, jsEnabled);
  await parent.getByRole("checkbox", { name: new RegExp(first) }).check();
  await parent.getByRole("checkbox", { name: new RegExp(second) }).check();
  await parent.getByRole("button", { name: "确认预约" }).click();
  await expect(parent.locator(".check-in-code")).toHaveCount(2);
  await open(parent, "/bookings", jsEnabled);
  const code = await parent
    .locator(".booking", { hasText: title })
    .filter({ hasText: first })
    .locator(".check-in-code")
    .innerText();

  // Chromium on Linux has no BarcodeDetector, so with JavaScript on the
  // page gets a stand-in detector that "sees" the first child's QR code and
  // a camera stream drawn on a canvas.
  if (jsEnabled) {
    await page.addInitScript((text: string) => {
      (window as unknown as { BarcodeDetector: unknown }).BarcodeDetector = class {
        async detect(): Promise<{ rawValue: string }[]> {
          return [{ rawValue: text }];
        }
      };
      const getUserMedia = async (): Promise<MediaStream> => {
        const canvas = document.createElement("canvas");
        canvas.width = 64;
        canvas.height = 64;
        canvas.getContext("2d")?.fillRect(0, 0, 64, 64);
        return canvas.captureStream();
      };
      Object.defineProperty(navigator, "mediaDevices", { value: { getUserMedia }, configurable: true });
    }, `NINGYU:0:${code}`);
  }

  // The staff member finds the session on the console and checks the
  // first child in by the code as typed, in lower case with a space.
  await open(page, "/staff", jsEnabled);
  await page.getByRole("link", { name: new RegExp(title) }).click();
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await expect(page.locator(".roster-entry", { hasText: first })).toContainText("未签到");
  await expectAccessible(page);
  const field = page.getByLabel("签到码");
  await expect(field).toBeFocused();
  await field.fill(`${code.slice(0, 3)} ${code.slice(3)}`.toLowerCase());
  await page.getByRole("button", { name: "签到", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: `${first} 签到成功` })).toBeVisible();
  await expect(page.locator(".roster-entry", { hasText: first })).toContainText("已签到");

  // A mistyped code is explained and stays in the field.
  await page.getByLabel("签到码").fill("XX-XXXX");
  await page.getByRole("button", { name: "签到", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("没有找到这个签到码");
  await expect(page.getByLabel("签到码")).toHaveValue("XX-XXXX");

  // With JavaScript the camera button reads the QR code and submits it:
  // the child was checked in already, and the first time stays.
  const scan = page.getByRole("button", { name: "用摄像头扫码" });
  if (jsEnabled) {
    await scan.click();
    await expect(page.getByRole("status").filter({ hasText: `${first} 已经在` })).toContainText("签到过了");
  } else {
    await expect(scan).toBeHidden();
  }

  // The second child's booking is cancelled with a reason.
  const entry = page.locator(".roster-entry", { hasText: second });
  await entry.getByText("取消这个预约").click();
  await entry.getByLabel("取消原因").fill("老师生病，活动改期");
  await entry.getByRole("button", { name: "确认取消并通知家长" }).click();
  await expect(page.getByText("已取消这个预约，并已通知家长。")).toBeVisible();
  await expect(page.locator(".roster-entry", { hasText: second })).toHaveCount(0);

  // The family reads the reason in the inbox.
  await open(parent, "/inbox", jsEnabled);
  await expect(parent.locator(".message", { hasText: title }).first()).toContainText("老师生病，活动改期");
  await family.close();
});

test("families get the missing page at the staff console", async ({ page, jsEnabled }) => {
  await signIn(page, jsEnabled, "/family", /陈静/);
  const response = await page.goto("/staff");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1, name: "页面不存在" })).toBeVisible();
});
