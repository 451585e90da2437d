//! The map view of the nearby search as the server renders it: the island
//! with the configured tiles, the list under it, and no Leaflet on other
//! pages. The browser side runs in `end2end/map.spec.ts`.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

/// The demo room on 湖南路, as the search names it.
const HUNAN_ROAD: &str = "%E6%B9%96%E5%8D%97%E8%B7%AF";

async fn page(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.expect("body")
}

async fn map_view_keeps_the_list_under_the_island(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            (
                "NINGYU_MAP_TILE_URL",
                "https://tiles.example.cn/{z}/{x}/{y}.png",
            ),
            ("NINGYU_MAP_TILE_ATTRIBUTION", "Example <tiles>"),
            ("NINGYU_MAP_TILE_CRS", "gcj02"),
        ],
    )
    .await;

    let html = page(&app, &format!("/search?q={HUNAN_ROAD}&age=20&view=map")).await;

    let island = html
        .find(r#"<leptos-island data-component="MapView"#)
        .expect("the map island");
    let list = html
        .find(r#"class="place-list nearby-list""#)
        .expect("the list");
    assert!(island < list, "the map comes before the list");
    for expected in [
        "https://tiles.example.cn/{z}/{x}/{y}.png",
        "&quot;crs&quot;:&quot;gcj02&quot;",
        "Example &lt;tiles&gt;",
        "&quot;filters&quot;:&quot;age=20&quot;",
        "&quot;radius_m&quot;:3000",
    ] {
        assert!(html.contains(expected), "island props carry {expected}");
    }
    assert!(
        html.contains(r#"<p role="status" class="map-status">地图需要浏览器启用 JavaScript"#),
        "a note for browsers without JavaScript"
    );
    assert!(
        html.contains(r#"<li id="place-1" class="place nearby">"#),
        "list entries carry the id the map's cards copy"
    );
    assert!(
        html.contains(r#"<input type="hidden" name="view" value="map">"#),
        "the form keeps the map view"
    );
    assert!(
        html.contains(&format!(
            r#"<a href="/search?q={HUNAN_ROAD}&amp;age=20&amp;view=map" aria-current="page">"#
        )),
        "the map link is the current view"
    );
    assert!(
        !html.contains("/vendor/leaflet"),
        "Leaflet loads from the island only"
    );
}
on_both_backends!(map_view_keeps_the_list_under_the_island);

#[tokio::test]
async fn other_pages_carry_no_map() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    for path in ["/".to_owned(), format!("/search?q={HUNAN_ROAD}")] {
        let html = page(&app, &path).await;

        assert!(!html.contains("MapView"), "no map island on {path}");
        assert!(!html.contains("leaflet"), "no Leaflet on {path}");
    }
    let list = page(&app, &format!("/search?q={HUNAN_ROAD}")).await;
    assert!(
        list.contains(&format!(
            r#"<a href="/search?q={HUNAN_ROAD}&amp;view=map">地图"#
        )),
        "the list links to the map"
    );
}

#[tokio::test]
async fn map_view_without_tiles_by_default() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let html = page(&app, "/search?view=map").await;

    assert!(
        html.contains("&quot;tiles&quot;:null"),
        "no tile provider unless configured"
    );
    assert!(!html.contains("附近的场所"), "no results before a search");
    assert!(
        html.contains("&quot;origin&quot;:null"),
        "no start point yet"
    );
}

#[tokio::test]
async fn point_picked_on_the_map_names_its_origin() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let picked = page(&app, "/search?lat=32.0668&lon=118.7756&start=map&view=map").await;
    let located = page(&app, "/search?lat=32.0668&lon=118.7756").await;

    assert!(picked.contains("从地图上选的位置出发"), "origin line");
    assert!(
        picked.contains(r#"<input id="search-start" type="hidden" name="start" value="map">"#),
        "the form keeps where the point came from"
    );
    assert!(located.contains("从您的位置出发"), "origin line");
    assert!(!located.contains(r#"name="start""#), "no map start");
}
