//! The map view of the nearby search: an island that loads Leaflet and
//! the marker-cluster plugin from `/vendor` when it mounts, so no other
//! page ever requests them. The island is lazy: `cargo leptos build
//! --split` moves its code into a WASM file of its own, which the browser
//! fetches only when the island hydrates.
//!
//! Leaflet is called through direct wasm-bindgen bindings to the few
//! functions the map needs. leptos-leaflet 0.10 has no marker clustering,
//! and its map container creates the map as soon as it mounts, so Leaflet
//! would have to be on the page already.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::geo::GeoPoint;
use crate::map::MapSettings;

/// A place to mark on the map. Its card is the place's entry in the result
/// list (`<li id="place-{id}">`), copied into the marker's popup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapPlace {
    pub id: i64,
    pub name: String,
    /// The stored WGS-84 point.
    pub point: GeoPoint,
}

/// The start point of the search and its radius.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapOrigin {
    /// WGS-84.
    pub point: GeoPoint,
    pub radius_m: u32,
}

/// The translated texts of the map view. The island receives them as props
/// because it cannot read the page's locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapTexts {
    /// Shown until the island runs: the map needs JavaScript, the list
    /// below has the same places.
    pub needs_script: String,
    pub loading: String,
    pub failed: String,
    /// Shown under a map without tiles.
    pub no_tiles: String,
    /// Instructions for starting a search from the map.
    pub hint: String,
    /// Accessible name of the map.
    pub label: String,
    pub zoom_in: String,
    pub zoom_out: String,
    /// Label of a popup's close button.
    pub close: String,
    /// Button that searches from the map's centre.
    pub search_centre: String,
    /// Link in the popup at a tapped point.
    pub search_here: String,
    /// Accessible name of a cluster, with `{count}` for its number of places.
    pub cluster: String,
}

/// Shows the places of a nearby search on a Leaflet map with clustered
/// markers. Tapping a marker opens the place's card. Tapping the map offers
/// a search from that point, and a button searches from the map's centre.
///
/// `filters` is the encoded query string of the search's other parameters,
/// kept in those searches. Until the island runs it shows
/// `texts.needs_script`, so a browser without JavaScript explains the
/// missing map.
#[island(lazy)]
pub fn MapView(
    settings: MapSettings,
    places: Vec<MapPlace>,
    origin: Option<MapOrigin>,
    filters: String,
    texts: MapTexts,
) -> impl IntoView {
    let (status, set_status) = signal(texts.needs_script.clone());
    let (ready, set_ready) = signal(false);
    let search_centre = texts.search_centre.clone();
    let hint = texts.hint.clone();
    let label = texts.label.clone();
    // Effects run only in the browser, after hydration.
    Effect::new({
        let filters = filters.clone();
        let settings = settings.clone();
        move |_| {
            set_status.set(texts.loading.clone());
            #[cfg(feature = "hydrate")]
            browser::start(
                browser::Setup {
                    settings: settings.clone(),
                    places: places.clone(),
                    origin: origin.clone(),
                    filters: filters.clone(),
                    texts: texts.clone(),
                },
                set_status,
                set_ready,
            );
            #[cfg(not(feature = "hydrate"))]
            let _ = (&settings, &places, &origin, &filters, set_ready);
        }
    });
    let on_search_centre = move |_| {
        #[cfg(feature = "hydrate")]
        browser::search_from_centre(&settings, &filters);
        #[cfg(not(feature = "hydrate"))]
        let _ = (&settings, &filters);
    };
    view! {
        <div class="map-view">
            // Leaflet owns this element's children. The element stays hidden
            // until the scripts have loaded.
            <div id="map-canvas" class="map-canvas" role="region" aria-label=label hidden></div>
            <p class="map-status" role="status">{move || status.get()}</p>
            <p class="map-hint" hidden=move || !ready.get()>{hint}</p>
            <button type="button" class="button" hidden=move || !ready.get() on:click=on_search_centre>
                {search_centre}
            </button>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    //! Loading Leaflet and drawing the map.

    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::js_sys::{Array, Function, Object, Promise, Reflect};
    use web_sys::{Element, HtmlElement};

    use super::{MapOrigin, MapPlace, MapTexts};
    use crate::geo::GeoPoint;
    use crate::map::{MapSettings, NANJING_CENTRE, search_from_point_href};

    const LEAFLET_CSS: &str = "/vendor/leaflet/leaflet.css";
    const LEAFLET_JS: &str = "/vendor/leaflet/leaflet.js";
    const CLUSTER_CSS: [&str; 2] = [
        "/vendor/leaflet.markercluster/MarkerCluster.css",
        "/vendor/leaflet.markercluster/MarkerCluster.Default.css",
    ];
    const CLUSTER_JS: &str = "/vendor/leaflet.markercluster/leaflet.markercluster.js";

    /// Zoom level of a map that shows a start point without places.
    const ORIGIN_ZOOM: u8 = 14;
    /// Zoom level of the map of Nanjing before any search.
    const CITY_ZOOM: u8 = 12;
    /// Highest zoom level that fitting the places on screen may choose.
    const FIT_MAX_ZOOM: u8 = 16;

    #[wasm_bindgen]
    extern "C" {
        /// `L.Map`.
        type Map;
        #[wasm_bindgen(js_namespace = L, js_name = map)]
        fn new_map(element: &HtmlElement, options: &Object) -> Map;
        #[wasm_bindgen(method, js_name = setView)]
        fn set_view(this: &Map, center: &Array, zoom: u8);
        #[wasm_bindgen(method, js_name = fitBounds)]
        fn fit_bounds(this: &Map, corners: &Array, options: &Object);
        #[wasm_bindgen(method, js_name = getCenter)]
        fn center(this: &Map) -> LatLng;
        #[wasm_bindgen(method, js_name = openPopup)]
        fn open_popup(this: &Map, content: &Element, at: &LatLng, options: &Object);
        #[wasm_bindgen(method)]
        fn on(this: &Map, event: &str, handler: &Function);

        /// `L.Layer` and `L.Control`: anything with `addTo`.
        type Layer;
        #[wasm_bindgen(method, js_name = addTo)]
        fn add_to(this: &Layer, map: &Map);
        #[wasm_bindgen(method, js_name = addLayer)]
        fn add_layer(this: &Layer, layer: &Layer);
        #[wasm_bindgen(method, js_name = bindPopup)]
        fn bind_popup(this: &Layer, content: &Element, options: &Object);

        #[wasm_bindgen(js_namespace = L, js_name = tileLayer)]
        fn tile_layer(template: &str, options: &Object) -> Layer;
        #[wasm_bindgen(js_namespace = L, js_name = marker)]
        fn marker(at: &Array, options: &Object) -> Layer;
        #[wasm_bindgen(js_namespace = L, js_name = circle)]
        fn circle(at: &Array, options: &Object) -> Layer;
        #[wasm_bindgen(js_namespace = L, js_name = circleMarker)]
        fn circle_marker(at: &Array, options: &Object) -> Layer;
        #[wasm_bindgen(js_namespace = L, js_name = markerClusterGroup)]
        fn marker_cluster_group(options: &Object) -> Layer;
        #[wasm_bindgen(js_namespace = ["L", "control"], js_name = zoom)]
        fn zoom_control(options: &Object) -> Layer;
        #[wasm_bindgen(js_namespace = L, js_name = divIcon)]
        fn div_icon(options: &Object) -> JsValue;

        /// `L.LatLng`.
        type LatLng;
        #[wasm_bindgen(method, getter)]
        fn lat(this: &LatLng) -> f64;
        #[wasm_bindgen(method, getter)]
        fn lng(this: &LatLng) -> f64;

        /// The event of a map click: `L.LeafletMouseEvent`.
        type MapClick;
        #[wasm_bindgen(method, getter)]
        fn latlng(this: &MapClick) -> LatLng;

        /// The event of `popupopen`: `L.PopupEvent`.
        type PopupEvent;
        #[wasm_bindgen(method, getter)]
        fn popup(this: &PopupEvent) -> Popup;

        /// `L.Popup`.
        type Popup;
        #[wasm_bindgen(method, js_name = getElement)]
        fn element(this: &Popup) -> Option<Element>;

        /// `L.MarkerCluster`, as the plugin passes it to `iconCreateFunction`.
        type Cluster;
        #[wasm_bindgen(method, js_name = getChildCount)]
        fn child_count(this: &Cluster) -> u32;
    }

    thread_local! {
        /// The page's one map, for the "search from the centre" button.
        static MAP: RefCell<Option<Map>> = const { RefCell::new(None) };
    }

    /// Everything the map needs, from the island's props.
    pub struct Setup {
        pub settings: MapSettings,
        pub places: Vec<MapPlace>,
        pub origin: Option<MapOrigin>,
        pub filters: String,
        pub texts: MapTexts,
    }

    /// Loads Leaflet and the cluster plugin, then draws the map. Reports
    /// progress and failure through `status`.
    pub fn start(setup: Setup, status: WriteSignal<String>, ready: WriteSignal<bool>) {
        leptos::task::spawn_local(async move {
            if load_assets().await.is_err() {
                status.set(setup.texts.failed.clone());
                return;
            }
            let Some(canvas) = document()
                .get_element_by_id("map-canvas")
                .and_then(|element| element.dyn_into::<HtmlElement>().ok())
            else {
                status.set(setup.texts.failed.clone());
                return;
            };
            // Leaflet measures the element, so it must be visible first.
            canvas.set_hidden(false);
            let map = draw(&canvas, &setup);
            MAP.with(|slot| *slot.borrow_mut() = Some(map));
            let shown = if setup.settings.tiles.is_none() {
                setup.texts.no_tiles.clone()
            } else {
                String::new()
            };
            status.set(shown);
            ready.set(true);
        });
    }

    /// Navigates to a search from the centre of the map.
    pub fn search_from_centre(settings: &MapSettings, filters: &str) {
        let centre = MAP.with(|slot| slot.borrow().as_ref().map(|map| point_of(&map.center())));
        if let Some(centre) = centre {
            let href = search_from_point_href(filters, settings.from_display(centre));
            let _ = window().location().set_href(&href);
        }
    }

    /// Adds the stylesheets and scripts to the page and waits until they
    /// have loaded. The cluster plugin extends `L`, so it loads after
    /// Leaflet.
    async fn load_assets() -> Result<(), JsValue> {
        let leaflet_css = load(stylesheet(LEAFLET_CSS)?)?;
        for href in CLUSTER_CSS {
            // Only their look depends on these, so they are not awaited.
            let _ = load(stylesheet(href)?)?;
        }
        JsFuture::from(load(script(LEAFLET_JS)?)?).await?;
        JsFuture::from(load(script(CLUSTER_JS)?)?).await?;
        // Leaflet finds its marker images through its stylesheet.
        JsFuture::from(leaflet_css).await?;
        Ok(())
    }

    fn stylesheet(href: &str) -> Result<Element, JsValue> {
        let link = document().create_element("link")?;
        link.set_attribute("rel", "stylesheet")?;
        link.set_attribute("href", href)?;
        Ok(link)
    }

    fn script(src: &str) -> Result<Element, JsValue> {
        let script = document().create_element("script")?;
        script.set_attribute("src", src)?;
        Ok(script)
    }

    /// Appends `element` to `<head>` and returns a promise that settles on
    /// its `load` or `error` event.
    fn load(element: Element) -> Result<Promise, JsValue> {
        let mut listened = Ok(());
        let promise = Promise::new(&mut |resolve, reject| {
            listened = element
                .add_event_listener_with_callback("load", &resolve)
                .and_then(|()| element.add_event_listener_with_callback("error", &reject));
        });
        listened?;
        let head = document()
            .head()
            .ok_or_else(|| JsValue::from_str("no <head>"))?;
        head.append_child(&element)?;
        Ok(promise)
    }

    /// Builds a Leaflet options object from name and value pairs.
    fn options(pairs: &[(&str, JsValue)]) -> Object {
        let object = Object::new();
        for (name, value) in pairs {
            let _ = Reflect::set(&object, &JsValue::from_str(name), value);
        }
        object
    }

    fn lat_lng(point: GeoPoint) -> Array {
        Array::of2(&point.latitude.into(), &point.longitude.into())
    }

    fn point_of(lat_lng: &LatLng) -> GeoPoint {
        GeoPoint {
            latitude: lat_lng.lat(),
            longitude: lat_lng.lng(),
        }
    }

    /// Creates the map on `canvas` with its tiles, controls, start point and
    /// clustered markers, and frames what it shows.
    fn draw(canvas: &HtmlElement, setup: &Setup) -> Map {
        let Setup {
            settings,
            places,
            origin,
            filters,
            texts,
        } = setup;
        let max_zoom = JsValue::from(settings.max_zoom);
        let map = new_map(
            canvas,
            &options(&[("zoomControl", false.into()), ("maxZoom", max_zoom.clone())]),
        );
        zoom_control(&options(&[
            ("zoomInTitle", texts.zoom_in.as_str().into()),
            ("zoomOutTitle", texts.zoom_out.as_str().into()),
        ]))
        .add_to(&map);

        if let Some(tiles) = &settings.tiles {
            let tile_options = options(&[
                ("maxZoom", max_zoom.clone()),
                ("subdomains", tiles.subdomains.as_str().into()),
                ("attribution", tiles.attribution_html().into()),
            ]);
            tile_layer(&tiles.url, &tile_options).add_to(&map);
            if let Some(labels) = &tiles.labels_url {
                tile_layer(
                    labels,
                    &options(&[
                        ("maxZoom", max_zoom),
                        ("subdomains", tiles.subdomains.as_str().into()),
                    ]),
                )
                .add_to(&map);
            }
        }

        // Vectors that ignore taps, so a tap inside the circle still picks
        // a point.
        if let Some(origin) = origin {
            let centre = lat_lng(settings.to_display(origin.point));
            circle(
                &centre,
                &options(&[
                    ("radius", origin.radius_m.into()),
                    ("interactive", false.into()),
                    ("weight", 1.into()),
                    ("fillOpacity", 0.04.into()),
                ]),
            )
            .add_to(&map);
            circle_marker(
                &centre,
                &options(&[
                    ("radius", 7.into()),
                    ("interactive", false.into()),
                    ("fillOpacity", 1.into()),
                ]),
            )
            .add_to(&map);
        }

        add_markers(&map, settings, places, &texts.cluster);
        frame(&map, settings, places, origin.as_ref());
        handle_taps(&map, settings, filters, texts);
        map
    }

    /// Adds one marker per place to a cluster group. Each marker's popup is
    /// a copy of the place's entry in the result list.
    fn add_markers(map: &Map, settings: &MapSettings, places: &[MapPlace], cluster_text: &str) {
        let cluster_text = cluster_text.to_owned();
        let icon_for_cluster = Closure::<dyn Fn(Cluster) -> JsValue>::new(
            move |cluster: Cluster| {
                let count = cluster.child_count();
                // The cluster's button is named by its text: the visible count
                // and, for screen readers, what it counts.
                let name = cluster_text.replace("{count}", &count.to_string());
                let size = if count < 10 {
                    "small"
                } else if count < 100 {
                    "medium"
                } else {
                    "large"
                };
                let html = format!(
                    r#"<div><span aria-hidden="true">{count}</span><span class="visually-hidden">{}</span></div>"#,
                    escape_text(&name)
                );
                div_icon(&options(&[
                    ("html", html.into()),
                    (
                        "className",
                        format!("marker-cluster marker-cluster-{size}").into(),
                    ),
                    ("iconSize", Array::of2(&40.into(), &40.into()).into()),
                ]))
            },
        );
        let group = marker_cluster_group(&options(&[
            ("iconCreateFunction", icon_for_cluster.as_ref().clone()),
            ("showCoverageOnHover", false.into()),
        ]));
        // The map keeps the group, and the group calls this for as long as
        // the page is open.
        icon_for_cluster.forget();

        for place in places {
            let marker = marker(
                &lat_lng(settings.to_display(place.point)),
                &options(&[
                    ("title", place.name.as_str().into()),
                    ("alt", place.name.as_str().into()),
                ]),
            );
            if let Some(card) = place_card(place) {
                marker.bind_popup(&card, &options(&[("maxWidth", 280.into())]));
            }
            group.add_layer(&marker);
        }
        group.add_to(map);
    }

    /// Copies the place's entry in the result list into a new element, or
    /// makes a link to the place page when the list has no such entry.
    fn place_card(place: &MapPlace) -> Option<Element> {
        let card = document().create_element("div").ok()?;
        card.set_class_name("map-card");
        let entry = document()
            .get_element_by_id(&format!("place-{}", place.id))
            .and_then(|entry| entry.clone_node_with_deep(true).ok());
        match entry {
            Some(copy) => {
                // The children only: an `<li>` outside a list is invalid.
                while let Some(child) = copy.first_child() {
                    card.append_child(&child).ok()?;
                }
            }
            None => {
                let link = document().create_element("a").ok()?;
                link.set_attribute("href", &format!("/places/{}", place.id))
                    .ok()?;
                link.set_text_content(Some(&place.name));
                card.append_child(&link).ok()?;
            }
        }
        Some(card)
    }

    /// Shows every place and the start point, or the start point alone, or
    /// the centre of Nanjing.
    fn frame(map: &Map, settings: &MapSettings, places: &[MapPlace], origin: Option<&MapOrigin>) {
        let corners = Array::new();
        for place in places {
            corners.push(&lat_lng(settings.to_display(place.point)));
        }
        match origin {
            Some(origin) if !places.is_empty() => {
                corners.push(&lat_lng(settings.to_display(origin.point)));
            }
            Some(origin) => {
                map.set_view(&lat_lng(settings.to_display(origin.point)), ORIGIN_ZOOM);
                return;
            }
            None if places.is_empty() => {
                map.set_view(&lat_lng(settings.to_display(NANJING_CENTRE)), CITY_ZOOM);
                return;
            }
            None => {}
        }
        map.fit_bounds(
            &corners,
            &options(&[
                ("padding", Array::of2(&32.into(), &32.into()).into()),
                ("maxZoom", FIT_MAX_ZOOM.into()),
            ]),
        );
    }

    /// Opens a popup with a search link where the map is tapped, unless the
    /// tap only closed an open popup. Names the popups' close buttons.
    fn handle_taps(map: &Map, settings: &MapSettings, filters: &str, texts: &MapTexts) {
        let popup_open = Rc::new(Cell::new(false));
        // Leaflet closes an open popup on `preclick`, before `click`.
        let tap_closes_popup = Rc::new(Cell::new(false));

        let on_popup_open = Closure::<dyn Fn(PopupEvent)>::new({
            let popup_open = Rc::clone(&popup_open);
            let close = texts.close.clone();
            move |event: PopupEvent| {
                mark_popup_open(&popup_open, true);
                let button = event.popup().element().and_then(|popup| {
                    popup
                        .query_selector(".leaflet-popup-close-button")
                        .ok()
                        .flatten()
                });
                if let Some(button) = button {
                    let _ = button.set_attribute("aria-label", &close);
                    let _ = button.set_attribute("title", &close);
                }
            }
        });
        let on_popup_close = Closure::<dyn Fn()>::new({
            let popup_open = Rc::clone(&popup_open);
            move || mark_popup_open(&popup_open, false)
        });
        let on_preclick = Closure::<dyn Fn()>::new({
            let popup_open = Rc::clone(&popup_open);
            let tap_closes_popup = Rc::clone(&tap_closes_popup);
            move || tap_closes_popup.set(popup_open.get())
        });
        let on_click = Closure::<dyn Fn(MapClick)>::new({
            let map: Map = AsRef::<JsValue>::as_ref(map).clone().unchecked_into();
            let settings = settings.clone();
            let filters = filters.to_owned();
            let text = texts.search_here.clone();
            move |event: MapClick| {
                if tap_closes_popup.get() {
                    return;
                }
                let at = event.latlng();
                let href = search_from_point_href(&filters, settings.from_display(point_of(&at)));
                let Ok(link) = document().create_element("a") else {
                    return;
                };
                if link.set_attribute("href", &href).is_err() {
                    return;
                }
                link.set_class_name("map-search-here");
                link.set_text_content(Some(&text));
                map.open_popup(&link, &at, &Object::new());
            }
        });

        map.on("popupopen", on_popup_open.as_ref().unchecked_ref());
        map.on("popupclose", on_popup_close.as_ref().unchecked_ref());
        map.on("preclick", on_preclick.as_ref().unchecked_ref());
        map.on("click", on_click.as_ref().unchecked_ref());
        // The map calls these for as long as the page is open.
        on_popup_open.forget();
        on_popup_close.forget();
        on_preclick.forget();
        on_click.forget();
    }

    /// Records whether a popup is open, and marks the map so that its
    /// stylesheet hides the centre cross over the popup.
    fn mark_popup_open(popup_open: &Cell<bool>, open: bool) {
        popup_open.set(open);
        if let Some(canvas) = document().get_element_by_id("map-canvas") {
            let _ = canvas.class_list().toggle_with_force("popup-open", open);
        }
    }

    /// Escapes text for use inside an HTML element.
    fn escape_text(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
}
