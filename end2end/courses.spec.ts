import type { Browser } from "@playwright/test";
import { expect, expectAccessible, open, test, type Page } from "./fixtures";

/** Signs in through the stand-in portal as the demo citizen whose name matches. */
async function signIn(page: Page, jsEnabled: boolean, citizen: RegExp): Promise<void> {
  await open(page, "/family", jsEnabled);
  await page.getByRole("link", { name: "使用“我的南京”登录" }).click();
  await page.getByRole("button", { name: citizen }).click();
  await expect(page).toHaveURL(/\/family$/);
}

async function signOut(page: Page, jsEnabled: boolean): Promise<void> {
  await open(page, "/account", jsEnabled);
  await page.getByRole("button", { name: "退出登录" }).click();
}

/**
 * Records a two-second WebM film of a moving square with the browser's
 * MediaRecorder, in a scratch page with JavaScript on, so the lesson is a
 * real video that Chromium can play.
 */
async function recordFilm(browser: Browser): Promise<Buffer> {
  const context = await browser.newContext({ javaScriptEnabled: true });
  try {
    const page = await context.newPage();
    const base64 = await page.evaluate(async () => {
      const canvas = document.createElement("canvas");
      canvas.width = 160;
      canvas.height = 120;
      const draw = canvas.getContext("2d");
      if (!draw) throw new Error("no 2D canvas");
      const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: "video/webm" });
      const parts: Blob[] = [];
      recorder.ondataavailable = (event) => parts.push(event.data);
      const stopped = new Promise((resolve) => (recorder.onstop = resolve));
      recorder.start();
      const started = performance.now();
      await new Promise<void>((resolve) => {
        const frame = () => {
          const elapsed = performance.now() - started;
          draw.fillStyle = "#fff8f0";
          draw.fillRect(0, 0, 160, 120);
          draw.fillStyle = "#b4412f";
          draw.fillRect((elapsed / 20) % 140, 50, 20, 20);
          if (elapsed < 2000) requestAnimationFrame(frame);
          else resolve();
        };
        frame();
      });
      recorder.stop();
      await stopped;
      const bytes = new Uint8Array(await new Blob(parts, { type: "video/webm" }).arrayBuffer());
      let text = "";
      for (const byte of bytes) text += String.fromCharCode(byte);
      return btoa(text);
    });
    return Buffer.from(base64, "base64");
  } finally {
    await context.close();
  }
}

test("an administrator publishes a course and a parent watches it", async ({ page, browser, jsEnabled }) => {
  const title = jsEnabled ? "【测试】宝宝睡眠好习惯" : "【测试】宝宝辅食第一口";
  const film = await recordFilm(browser);

  await signIn(page, jsEnabled, /张伟/);
  await open(page, "/admin/courses", jsEnabled);
  await expectAccessible(page);
  await page.getByRole("link", { name: "新建课程" }).click();
  await expect(page).toHaveURL(/\/admin\/courses\/new$/);
  await page.getByLabel("课程名称").fill(title);
  await page.getByLabel("课程简介").fill("睡前的安排和夜醒时怎么做。\n适合新手爸妈。");
  await page.getByLabel("主题").selectOption("sleep");
  await page.getByLabel("最小月龄").fill("0");
  await page.getByLabel("最大月龄").fill("36");
  await page.getByRole("button", { name: "保存" }).click();
  await expect(page).toHaveURL(/\/admin\/courses\/\d+\?saved=1$/);
  await expect(page.getByRole("status")).toContainText("已保存");
  await expectAccessible(page);

  await page.getByLabel("本节名称").fill("第一节：睡前安排");
  await page.getByLabel(/视频或音频文件/).setInputFiles({ name: "lesson.webm", mimeType: "video/webm", buffer: film });
  await page.getByLabel(/字幕文件/).setInputFiles({
    name: "lesson.vtt",
    mimeType: "text/vtt",
    buffer: Buffer.from("WEBVTT\n\n00:00.000 --> 00:02.000\n睡前一小时调暗灯光。\n"),
  });
  await page.getByRole("button", { name: "上传" }).click();
  await expect(page).toHaveURL(/\/admin\/courses\/\d+\?added=\d+$/);
  await expect(page.getByRole("status")).toContainText("已添加一节");
  await page.getByRole("button", { name: "发布", exact: true }).click();
  await expect(page.locator(".badge", { hasText: "已发布" })).toBeVisible();
  const courseUrl = await page.getByRole("link", { name: "查看课程页" }).getAttribute("href");
  expect(courseUrl).toMatch(/^\/courses\/\d+$/);
  await signOut(page, jsEnabled);

  // The parent finds it in the list and opens it.
  await signIn(page, jsEnabled, /陈静/);
  await open(page, "/courses", jsEnabled);
  await expect(page.getByRole("heading", { level: 1, name: "家长课堂" })).toBeVisible();
  await expectAccessible(page);
  await page.getByRole("link", { name: new RegExp(title) }).first().click();
  await expect(page).toHaveURL(new RegExp(`${courseUrl}$`));
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await expect(page.getByText("夜醒时怎么做")).toBeVisible();
  const video = page.locator("video.lesson-media");
  await expect(video).toHaveAttribute("preload", "none");
  const source = await video.locator("source").getAttribute("src");
  expect(source).toMatch(/^\/media\/lessons\/\d+\/[0-9a-f]{16}\.webm$/);
  await expect(video.locator("track")).toHaveAttribute("label", "中文字幕");
  await expectAccessible(page);

  // The file streams in ranges, as a player asks for it.
  const range = await page.request.get(source ?? "", { headers: { Range: "bytes=0-99" } });
  expect(range.status()).toBe(206);
  expect((await range.body()).length).toBe(100);

  if (jsEnabled) {
    // Played for a moment and paused, the place is kept for next time.
    await video.evaluate(async (element: HTMLVideoElement) => {
      element.muted = true;
      await element.play();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      element.pause();
    });
    const id = courseUrl?.split("/").pop();
    await expect
      .poll(async () => {
        const course = await (await page.request.get(`/api/v1/courses/${id}`)).json();
        return course.lessons[0].resume_seconds ?? 0;
      })
      .toBeGreaterThanOrEqual(1);
    await open(page, courseUrl ?? "/", jsEnabled);
    await expect(page.locator(".lesson-status")).toContainText("上次看到 0:0");
  }
});
