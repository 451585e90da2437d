import type { Page } from "@playwright/test";

import { expect, expectAccessible, expectNoOverflow, open, test } from "./fixtures";
import { startNingyu, type Ningyu } from "./server";
import { startTileServer, type TileServer } from "./tile-server";

// The demo data: from 湖南路 a 3 km search finds two places and a 10 km
// search finds all four, the farthest about 5.6 km away.

/**
 * Collects the paths of every request for the map's own code: the vendored
 * Leaflet files and the map island's split-off WASM. The small loader of
 * split WASM files (`__wasm_split.*.js`) is imported by every page.
 */
function mapCodeRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (/^\/vendor\/leaflet|^\/pkg\/split_/.test(path)) seen.push(path);
  });
  return seen;
}

/** Counts the places on the map: one per marker plus each cluster's count. */
async function markedPlaces(page: Page): Promise<number> {
  return page.evaluate(() => {
    let total = 0;
    for (const icon of Array.from(document.querySelectorAll(".leaflet-marker-icon"))) {
      if (icon.classList.contains("marker-cluster")) {
        total += Number(icon.querySelector("[aria-hidden]")?.textContent ?? "0");
      } else {
        total += 1;
      }
    }
    return total;
  });
}

test("home page and list view never load the map code", async ({ page, jsEnabled }) => {
  const mapCode = mapCodeRequests(page);

  await open(page, "/", jsEnabled);
  await open(page, "/search?q=湖南路", jsEnabled);

  await expect(page.locator(".nearby-list > li")).toHaveCount(2);
  await expect(page.getByRole("link", { name: "列表", exact: true })).toHaveAttribute("aria-current", "page");
  expect(mapCode).toEqual([]);
});

test("map link keeps the list without JavaScript", async ({ page, jsEnabled }) => {
  test.skip(jsEnabled, "checks the page that browsers without JavaScript get");
  const mapCode = mapCodeRequests(page);
  await open(page, "/search?q=湖南路", jsEnabled);

  await page.getByRole("link", { name: "地图", exact: true }).click();

  await expect(page).toHaveURL(/view=map/);
  await expect(page.getByRole("status").filter({ hasText: "地图需要浏览器启用 JavaScript" })).toBeVisible();
  await expect(page.locator(".nearby-list > li")).toHaveCount(2);
  await expect(page.locator("#map-canvas")).toBeHidden();
  await expectNoOverflow(page);
  await expectAccessible(page);

  await page.getByRole("link", { name: "列表", exact: true }).click();
  await expect(page).not.toHaveURL(/view=map/);
  await expect(page.locator(".nearby-list > li")).toHaveCount(2);
  expect(mapCode).toEqual([]);
});

test("map without tiles requests nothing from other hosts", async ({ page, jsEnabled, baseURL }) => {
  test.skip(!jsEnabled, "the map needs JavaScript");
  const elsewhere: string[] = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(`${baseURL}/`)) elsewhere.push(request.url());
  });

  await open(page, "/search?q=湖南路&view=map", jsEnabled);

  await expect(page.locator(".leaflet-container")).toBeVisible();
  await expect.poll(() => markedPlaces(page)).toBe(2);
  await expect(page.getByText("本站没有配置底图")).toBeVisible();
  await expect(page.locator(".leaflet-tile")).toHaveCount(0);
  expect(elsewhere).toEqual([]);
});

// The tests below run against a second Ningyu server whose map tiles come
// from a tile server that the spec starts on loopback.
const tiled = test.extend<object, { tiles: TileServer; tiledNingyu: Ningyu }>({
  tiles: [
    async ({}, use) => {
      const tiles = await startTileServer();
      await use(tiles);
      await tiles.close();
    },
    { scope: "worker" },
  ],
  tiledNingyu: [
    async ({ tiles }, use) => {
      const ningyu = await startNingyu({
        NINGYU_MAP_TILE_URL: tiles.template,
        NINGYU_MAP_TILE_ATTRIBUTION: "测试底图",
        NINGYU_MAP_MAX_ZOOM: "18",
      });
      await use(ningyu);
      ningyu.stop();
    },
    { scope: "worker" },
  ],
  baseURL: async ({ tiledNingyu }, use) => {
    await use(tiledNingyu.baseUrl);
  },
});

tiled("map view shows tiles, clusters and place cards", async ({ page, jsEnabled, tiles }) => {
  const mapCode = mapCodeRequests(page);

  await open(page, "/search?q=湖南路&radius=10000&view=map", jsEnabled);

  await expect(page.locator(".nearby-list > li")).toHaveCount(4);
  if (!jsEnabled) {
    await expect(page.getByRole("status").filter({ hasText: "地图需要浏览器启用 JavaScript" })).toBeVisible();
    expect(mapCode).toEqual([]);
    expect(tiles.requested).toEqual([]);
    return;
  }
  await expect(page.locator(".leaflet-tile-loaded").first()).toBeVisible();
  expect(tiles.requested.filter((path) => /^\/tiles\/\d+\/\d+\/\d+\.png$/.test(path)).length).toBeGreaterThan(0);
  await expect(page.locator(".leaflet-control-attribution")).toContainText("测试底图");
  await expect.poll(() => markedPlaces(page)).toBe(4);
  await expectNoOverflow(page);
  await expectAccessible(page);

  // Zoomed out far enough, the four places share one cluster; tapping it
  // zooms back in.
  const zoomOut = page.getByRole("button", { name: "缩小" });
  const cluster = page.getByRole("button", { name: "此处有 4 个场所，点按放大" });
  for (let step = 0; step < 6 && !(await cluster.isVisible()); step++) {
    await zoomOut.click();
    await page.waitForTimeout(400);
  }
  await expect(cluster).toBeVisible();
  await cluster.click();
  await expect(cluster).toBeHidden();
  await expect.poll(() => markedPlaces(page)).toBe(4);

  // Tapping a marker opens the place's card from the list.
  const marker = page.getByRole("button", { name: "【演示】玄武区普惠托育中心" });
  for (let step = 0; step < 6 && !(await marker.isVisible()); step++) {
    await page.locator(".marker-cluster").first().click();
    await page.waitForTimeout(400);
  }
  await marker.click();
  const card = page.locator(".leaflet-popup .map-card");
  await expect(card).toContainText("托育机构");
  await expect(card).toContainText("步行约");
  await expect(card).toContainText("最近一场");
  await expect(page.locator(".leaflet-popup").getByRole("button", { name: "关闭" })).toBeVisible();
  await expectAccessible(page);

  await card.getByRole("link", { name: /玄武区普惠托育中心/ }).click();
  await expect(page).toHaveURL(/\/places\/\d+$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("玄武区普惠托育中心");
  for (const loaded of [/^\/pkg\/split_.*\.wasm$/, /^\/vendor\/leaflet\/leaflet\.js$/, /^\/vendor\/leaflet\.markercluster\//]) {
    expect(mapCode.some((path) => loaded.test(path)), `${loaded} was requested`).toBe(true);
  }
});

tiled("tapping the map searches from that point", async ({ page, jsEnabled }) => {
  test.skip(!jsEnabled, "the map needs JavaScript");
  await open(page, "/search?q=湖南路&age=20&view=map", jsEnabled);
  await expect.poll(() => markedPlaces(page)).toBe(2);

  // The two places lie to the north-west and south-east; the north-east
  // corner is empty.
  const canvas = page.locator("#map-canvas");
  const box = await canvas.boundingBox();
  if (!box) throw new Error("the map has no size");
  await canvas.click({ position: { x: box.width * 0.85, y: box.height * 0.2 } });
  await page.getByRole("link", { name: "从这里查找附近的托育" }).click();

  await expect(page).toHaveURL(/[?&]lat=32\.\d{6}&lon=118\.\d{6}&start=map&view=map$/);
  await expect(page).toHaveURL(/age=20/);
  await expect(page.getByText("从地图上选的位置出发")).toBeVisible();
  await expect(page.getByLabel("孩子月龄")).toHaveValue("20");
  await expect(page.locator(".leaflet-container")).toBeVisible();

  // After the map moves, the button searches from its new centre.
  const before = page.url();
  await page.locator("#map-canvas").press("ArrowRight");
  await page.getByRole("button", { name: "查找地图中心附近的托育" }).click();
  await expect(page).not.toHaveURL(before);
  await expect(page).toHaveURL(/[?&]lat=32\.\d{6}&lon=118\.\d{6}&start=map&view=map$/);
  await expect(page.getByText("从地图上选的位置出发")).toBeVisible();
});
