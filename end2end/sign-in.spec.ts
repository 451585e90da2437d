import { expect, expectAccessible, open, test } from "./fixtures";

test("a parent signs in through the stand-in portal and out again", async ({ page, jsEnabled }) => {
  await open(page, "/account", jsEnabled);
  await expect(page.getByText("您还没有登录。")).toBeVisible();
  await expectAccessible(page);

  await page.getByRole("link", { name: "使用“我的南京”登录" }).click();

  // The stand-in portal's own login page, on its own port.
  await expect(page.getByRole("heading", { level: 1 })).toContainText("我的南京");
  await page.getByRole("button", { name: /陈静/ }).click();

  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByText("陈静")).toBeVisible();
  await expect(page.getByRole("link", { name: "我的", exact: true })).toBeVisible();
  await expectAccessible(page);

  await page.getByRole("button", { name: "退出登录" }).click();
  // Signed out at the portal too, then back on the home page.
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/$/);
  await open(page, "/account", jsEnabled);
  await expect(page.getByText("您还没有登录。")).toBeVisible();
});

test("a failed sign-in explains itself and offers another try", async ({ page, jsEnabled }) => {
  await open(page, "/sign-in?error=state_used&return_to=/account", jsEnabled);
  await expect(page.getByRole("alert")).toContainText("登录没有成功");
  await expect(page.getByRole("alert")).toContainText("state_used");
  await expect(page.getByRole("link", { name: "使用“我的南京”登录" })).toHaveAttribute(
    "href",
    "/auth/login?return_to=%2Faccount",
  );
  await expectAccessible(page);
});
