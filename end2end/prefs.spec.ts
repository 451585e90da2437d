import { expect, expectAccessible, expectNoOverflow, open, test } from "./fixtures";

test("large text mode scales text 1.5 times and is remembered", async ({ page, jsEnabled }) => {
  await open(page, "/", jsEnabled);
  const normalSize = await page.getByRole("heading", { level: 1 }).evaluate((h) => parseFloat(getComputedStyle(h).fontSize));

  await page.getByRole("button", { name: "大字" }).click();

  await expect(page.locator("html")).toHaveClass(/text-large/);
  const largeSize = await page.getByRole("heading", { level: 1 }).evaluate((h) => parseFloat(getComputedStyle(h).fontSize));
  // Allow for floating-point rounding of the computed sizes.
  expect(largeSize / normalSize).toBeGreaterThanOrEqual(1.5 - 1e-6);
  await expectNoOverflow(page);
  await expectAccessible(page);

  // Remembered on this device: a fresh visit keeps it.
  await open(page, "/settings", jsEnabled);
  await expect(page.locator("html")).toHaveClass(/text-large/);
  await expect(page.getByLabel("大字模式")).toBeChecked();

  await page.getByRole("button", { name: "标准字" }).click();
  await expect(page.locator("html")).not.toHaveClass(/text-large/);
});

test("large text survives a narrow screen and 200% zoom", async ({ page, jsEnabled, context }) => {
  await context.addCookies([{ name: "ningyu_text", value: "large", url: process.env.NINGYU_BASE_URL! }]);
  // A 360 px phone at 200% zoom lays out in 180 CSS pixels.
  await page.setViewportSize({ width: 180, height: 640 });

  for (const path of ["/", "/settings", "/search?q=%E6%B9%96%E5%8D%97%E8%B7%AF", "/courses"]) {
    await open(page, path, jsEnabled);
    await expect(page.locator("html")).toHaveClass(/text-large/);
    await expectNoOverflow(page);
  }
  await page.getByRole("link", { name: "首页" }).click();
  await page.locator(".place-link").first().click();
  await expectNoOverflow(page);
});

test("language switch to English and back", async ({ page, jsEnabled }) => {
  await open(page, "/", jsEnabled);

  await page.getByRole("button", { name: "English" }).click();

  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Childcare close to home");
  await expectAccessible(page);

  await page.getByRole("button", { name: "中文" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("家门口的托育服务");
});

test("settings form saves language and text size together", async ({ page, jsEnabled }) => {
  await open(page, "/settings", jsEnabled);
  await expectAccessible(page);

  await page.getByLabel("English").check();
  await page.getByLabel("大字模式").check();
  await page.getByRole("button", { name: "保存" }).click();

  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.locator("html")).toHaveClass(/text-large/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Settings");
});
