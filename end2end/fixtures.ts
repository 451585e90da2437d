// Shared fixtures: the server's base URL, a check that hydration happened
// when JavaScript is on, and an accessibility scan.
import AxeBuilder from "@axe-core/playwright";
import { expect, test as base, type BrowserContext, type Page } from "@playwright/test";

export const test = base.extend<{ jsEnabled: boolean }>({
  baseURL: async ({}, use) => {
    const url = process.env.NINGYU_BASE_URL;
    if (!url) throw new Error("NINGYU_BASE_URL is not set; global-setup starts the server");
    await use(url);
  },
  jsEnabled: async ({ javaScriptEnabled }, use) => {
    await use(javaScriptEnabled !== false);
  },
});

export { expect };

/** Opens `path` and, with JavaScript on, waits until the page has hydrated. */
export async function open(page: Page, path: string, jsEnabled: boolean): Promise<void> {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(path);
  if (jsEnabled) {
    await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
    expect(errors, "no script errors during hydration").toEqual([]);
  } else {
    await expect(page.locator("html")).not.toHaveAttribute("data-hydrated", "true");
  }
}

/**
 * Fails on any axe-core violation of WCAG 2.1 A and AA rules.
 *
 * axe-core runs as a script, which a page without JavaScript cannot run. For
 * those pages the scan runs in a second, script-enabled page that loads the
 * same URL with the same cookies but is denied Ningyu's own JS and WASM, so
 * it scans the same server-rendered DOM without hydrating it.
 */
export async function expectAccessible(page: Page): Promise<void> {
  let scanned = page;
  let scratch: BrowserContext | null = null;
  if ((await page.locator("html").getAttribute("data-hydrated")) !== "true") {
    const browser = page.context().browser();
    if (!browser) throw new Error("no browser for the accessibility scan");
    scratch = await browser.newContext({ javaScriptEnabled: true, locale: "zh-CN" });
    await scratch.addCookies(await page.context().cookies());
    scanned = await scratch.newPage();
    await scanned.route(/\/pkg\/.*\.(js|wasm)$/, (route) => route.abort());
    await scanned.setViewportSize(page.viewportSize() ?? { width: 393, height: 851 });
    await scanned.goto(page.url());
  }
  try {
    const results = await new AxeBuilder({ page: scanned }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    const summary = results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    expect(summary, "axe-core violations").toEqual([]);
  } finally {
    await scratch?.close();
  }
}

/** Fails when the page scrolls sideways or a control's text is clipped. */
export async function expectNoOverflow(page: Page): Promise<void> {
  const problems = await page.evaluate(() => {
    const found: string[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth + 1) {
      found.push(`page is ${root.scrollWidth}px wide in a ${root.clientWidth}px viewport`);
    }
    for (const element of Array.from(document.querySelectorAll("a, button, h1, h2, h3, p, li, label, dd, dt"))) {
      const style = getComputedStyle(element);
      if (style.display === "none" || style.visibility === "hidden") continue;
      const box = element as HTMLElement;
      if (box.scrollWidth > box.clientWidth + 1 && style.overflowX !== "visible") {
        found.push(`${element.tagName.toLowerCase()} "${box.innerText.slice(0, 20)}" is clipped`);
      }
      const rect = element.getBoundingClientRect();
      if (rect.right > root.clientWidth + 1) {
        found.push(`${element.tagName.toLowerCase()} "${box.innerText.slice(0, 20)}" sticks out to ${rect.right}px`);
      }
    }
    return found;
  });
  expect(problems, "layout overflow").toEqual([]);
}
