import { defineConfig, devices } from "@playwright/test";

// Every spec runs twice in a phone-sized Chromium: with JavaScript (the page
// hydrates) and without (plain server-rendered HTML, links and forms only).
const phone = {
  ...devices["Pixel 5"],
  browserName: "chromium" as const,
  // Families in Nanjing: a Chinese browser, so pages start in Chinese.
  locale: "zh-CN",
  timezoneId: "Asia/Shanghai",
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  },
};

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  reporter: [["list"]],
  globalSetup: "./global-setup.ts",
  globalTeardown: "./global-teardown.ts",
  projects: [
    { name: "js-on", use: { ...phone, javaScriptEnabled: true } },
    { name: "js-off", use: { ...phone, javaScriptEnabled: false } },
  ],
});
