import { expect, expectAccessible, open, test, type Page } from "./fixtures";

/** Signs in from the family page as the demo citizen whose name matches. */
async function signIn(page: Page, jsEnabled: boolean, citizen: RegExp): Promise<void> {
  await open(page, "/family", jsEnabled);
  await page.getByRole("link", { name: "使用“我的南京”登录" }).click();
  await page.getByRole("button", { name: citizen }).click();
  await expect(page).toHaveURL(/\/family$/);
  await expect(page.getByRole("heading", { level: 1, name: "我的家庭" })).toBeVisible();
}

async function signOut(page: Page, jsEnabled: boolean): Promise<void> {
  await open(page, "/account", jsEnabled);
  await page.getByRole("button", { name: "退出登录" }).click();
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/$/);
}

test("a parent adds a child and a grandparent helps with it", async ({ page, jsEnabled }) => {
  const childName = jsEnabled ? "王小宝" : "阿依古丽·小花";
  await signIn(page, jsEnabled, /陈静/);

  // Without the separate consent nothing is stored, the form shows why and
  // keeps what was typed, and the address carries none of it.
  await page.getByLabel("孩子姓名").fill(childName);
  await page.getByLabel("出生日期").fill("2025-06-01");
  await page.getByLabel("照护注意事项").fill("花生过敏");
  await page.getByRole("button", { name: "保存" }).click();
  await expect(page.getByRole("alert")).toContainText("儿童个人信息处理同意");
  await expect(page.getByLabel("孩子姓名")).toHaveValue(childName);
  await expect(page.getByLabel("出生日期")).toHaveValue("2025-06-01");
  await expect(page.getByLabel("照护注意事项")).toHaveValue("花生过敏");
  const rejectedAt = decodeURIComponent(page.url());
  for (const typed of [childName, "2025-06-01", "花生过敏"]) {
    expect(rejectedAt).not.toContain(typed);
  }

  await page.getByRole("checkbox", { name: /单独同意/ }).check();
  await page.getByRole("button", { name: "保存" }).click();
  const child = page.locator(".child", { hasText: childName });
  await expect(child.locator(".child-name")).toHaveText(childName);
  await expect(child).toContainText("花生过敏");
  await expectAccessible(page);

  // Invite a carer for this child; the code is shown once.
  await page.getByRole("checkbox", { name: childName }).check();
  await page.getByRole("button", { name: "生成邀请码" }).click();
  await expect(page).toHaveURL(/\/family\/invitation\?code=/);
  const code = (await page.locator(".invitation-code").textContent())?.trim() ?? "";
  expect(code).toMatch(/^[2-9A-Z]{10}$/);
  await expectAccessible(page);
  await signOut(page, jsEnabled);

  // The grandparent signs in, follows the link and finds the child listed.
  await signIn(page, jsEnabled, /李建国/);
  await open(page, `/invite/${code}`, jsEnabled);
  await expect(page.getByLabel("邀请码")).toHaveValue(code);
  await expectAccessible(page);
  await page.getByRole("button", { name: "接受邀请" }).click();
  await expect(page).toHaveURL(/\/family$/);
  const cared = page.locator("section", { has: page.getByRole("heading", { name: "我帮忙照护的孩子" }) });
  const caredChild = cared.locator(".child", { hasText: childName });
  await expect(caredChild.locator(".child-name")).toHaveText(childName);
  await expect(caredChild).toContainText("陈静家的孩子");
  // A grandparent without children of their own gets the child first, and
  // the form for adding one of their own stays folded away.
  await expect(page.locator("main h2").first()).toHaveText("我帮忙照护的孩子");
  await expect(page.getByLabel("孩子姓名")).toBeHidden();
  await expect(page.getByText("添加自己的孩子")).toBeVisible();
  await expectAccessible(page);
  await signOut(page, jsEnabled);
});
