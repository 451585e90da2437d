use leptos::prelude::*;
use leptos_meta::Title;

use super::home::place_kind_label;
use super::place::{fee_label, service_label};
use crate::api::{search_children, search_nearby};
use crate::components::{ErrorNotice, LocateButton, MapOrigin, MapPlace, MapTexts, MapView};
use crate::geo::GeoPoint;
use crate::i18n::{Locale, t, t_string, use_i18n};
use crate::map::MapSettings;
use crate::model::{
    NearbyParams, NearbyPlace, NearbyResults, NextSession, OriginKind, SearchChild, Service,
};
use crate::time::{Ago, ago, format_span};

/// Radius choices of the form, in metres.
const RADIUS_CHOICES: [u32; 5] = [1_000, 3_000, 5_000, 10_000, 20_000];

/// Presentation of the places found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResultView {
    /// The list alone, the default.
    List,
    /// The map island above the same list (`view=map`).
    Map,
}

/// The query string of a search page: the search itself and how to show it.
#[derive(Debug, Clone)]
struct PageQuery {
    params: NearbyParams,
    view: ResultView,
    /// Whether `lat` and `lon` were picked on the map (`start=map`).
    picked_on_map: bool,
}

/// Renders the nearby search: a plain GET form and the places it finds,
/// nearest first, as a list or as a map above the list. It works without
/// JavaScript. The location button and the map are islands that appear
/// only when the WASM runs.
#[component]
pub fn SearchPage() -> impl IntoView {
    let i18n = use_i18n();
    let PageQuery {
        params,
        view,
        picked_on_map,
    } = request_query();
    // A first visit shows the form alone; a submitted form always searches,
    // so that an empty name gets its error message.
    let submitted = params.q.is_some() || params.lat.is_some() || params.lon.is_some();
    let results = Resource::new(
        {
            let params = params.clone();
            move || params.clone()
        },
        move |params| async move {
            if submitted {
                Some(search_nearby(params).await)
            } else {
                None
            }
        },
    );
    let children = Resource::new(|| (), |()| search_children());

    view! {
        <Title text=t_string!(i18n, search_title).to_string() />
        <h1>{t!(i18n, search_title)}</h1>
        <p>{t!(i18n, search_intro)}</p>
        <Suspense>
            {move || {
                let params = params.clone();
                Suspend::new(async move {
                    // Children are only a convenience: the form works without them.
                    let children = children.await.unwrap_or_default();
                    let results = results.await;
                    let typed = params.q.clone().unwrap_or_default();
                    let map = match (view, &results) {
                        (ResultView::List, _) | (_, Some(Err(_))) => None,
                        (ResultView::Map, None) => Some(map_view(i18n, &params, None)),
                        (ResultView::Map, Some(Ok(results))) => {
                            Some(map_view(i18n, &params, Some(results)))
                        }
                    };
                    view! {
                        <SearchForm params=params.clone() children view picked_on_map />
                        <ViewSwitch params view picked_on_map />
                        {map}
                        {match results {
                            None => ().into_any(),
                            Some(Ok(results)) => {
                                view! { <Results results typed picked_on_map /> }.into_any()
                            }
                            Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                        }}
                    }
                })
            }}
        </Suspense>
    }
}

/// Returns the search parameters of the request's query string.
///
/// The query string is decoded once, here, as a form. The router's query
/// map decodes twice, so a typed `50%25` would arrive as `50%`. The first of
/// repeated keys wins.
fn request_query() -> PageQuery {
    #[cfg(feature = "ssr")]
    let query = use_context::<http::request::Parts>()
        .and_then(|parts| parts.uri.query().map(str::to_owned))
        .unwrap_or_default();
    // Pages render on the server only (islands mode), so the browser build
    // never reads a query here.
    #[cfg(not(feature = "ssr"))]
    let query = String::new();

    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&query).unwrap_or_default();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let params = NearbyParams {
        lat: get("lat"),
        lon: get("lon"),
        q: get("q"),
        radius: get("radius"),
        age: get("age"),
        child: get("child"),
        from: get("from"),
        to: get("to"),
        service: get("service"),
        public_benefit: get("public_benefit"),
        free: get("free"),
        places_left: get("places_left"),
        limit: get("limit"),
    };
    PageQuery {
        params,
        view: match get("view").as_deref() {
            Some("map") => ResultView::Map,
            _ => ResultView::List,
        },
        picked_on_map: get("start").as_deref() == Some("map"),
    }
}

/// Returns the named values that are set and not blank, as query pairs.
fn present_pairs<'a>(
    fields: impl IntoIterator<Item = (&'static str, &'a Option<String>)>,
) -> Vec<(&'static str, String)> {
    fields
        .into_iter()
        .filter_map(|(name, value)| {
            let value = value.as_deref()?.trim();
            (!value.is_empty()).then(|| (name, value.to_owned()))
        })
        .collect()
}

/// Returns the filters of a search as query pairs: everything but the
/// start point, without empty values.
fn filter_pairs(params: &NearbyParams) -> Vec<(&'static str, String)> {
    present_pairs([
        ("radius", &params.radius),
        ("child", &params.child),
        ("age", &params.age),
        ("from", &params.from),
        ("to", &params.to),
        ("service", &params.service),
        ("public_benefit", &params.public_benefit),
        ("free", &params.free),
        ("places_left", &params.places_left),
        ("limit", &params.limit),
    ])
}

/// Returns the address of the same search shown as `view`.
fn view_href(params: &NearbyParams, picked_on_map: bool, view: ResultView) -> String {
    let mut pairs = present_pairs([("q", &params.q), ("lat", &params.lat), ("lon", &params.lon)]);
    if picked_on_map {
        pairs.push(("start", "map".to_owned()));
    }
    pairs.extend(filter_pairs(params));
    if view == ResultView::Map {
        pairs.push(("view", "map".to_owned()));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if query.is_empty() {
        "/search".to_owned()
    } else {
        format!("/search?{query}")
    }
}

/// Returns the settings of the map view from the server state.
fn map_settings() -> MapSettings {
    #[cfg(feature = "ssr")]
    let settings = use_context::<crate::state::AppState>()
        .map(|state| state.map)
        .unwrap_or_default();
    // Pages render on the server only (islands mode).
    #[cfg(not(feature = "ssr"))]
    let settings = MapSettings::default();
    settings
}

/// Renders the map island for the results, or for no search yet.
fn map_view(
    i18n: leptos_i18n::I18nContext<Locale>,
    params: &NearbyParams,
    results: Option<&NearbyResults>,
) -> impl IntoView + use<> {
    let places: Vec<MapPlace> = results
        .map(|results| {
            results
                .items
                .iter()
                .map(|item| MapPlace {
                    id: item.place.id,
                    name: item.place.name.clone(),
                    point: GeoPoint {
                        latitude: item.place.latitude,
                        longitude: item.place.longitude,
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let origin = results.and_then(|results| {
        let origin = results.origin.as_ref()?;
        Some(MapOrigin {
            point: GeoPoint {
                latitude: origin.latitude,
                longitude: origin.longitude,
            },
            radius_m: results.radius_m,
        })
    });
    let filters = serde_urlencoded::to_string(filter_pairs(params)).unwrap_or_default();
    let texts = MapTexts {
        needs_script: t_string!(i18n, map_needs_script).to_string(),
        loading: t_string!(i18n, map_loading).to_string(),
        failed: t_string!(i18n, map_failed).to_string(),
        no_tiles: t_string!(i18n, map_no_tiles).to_string(),
        hint: t_string!(i18n, map_hint).to_string(),
        label: t_string!(i18n, map_label).to_string(),
        zoom_in: t_string!(i18n, map_zoom_in).to_string(),
        zoom_out: t_string!(i18n, map_zoom_out).to_string(),
        close: t_string!(i18n, map_close).to_string(),
        search_centre: t_string!(i18n, map_search_centre).to_string(),
        search_here: t_string!(i18n, map_search_here).to_string(),
        cluster: t_string!(i18n, map_cluster, count = "{count}").to_string(),
    };
    view! { <MapView settings=map_settings() places origin filters texts /> }
}

/// Renders the links between the list and the map of the same search.
#[component]
fn ViewSwitch(params: NearbyParams, view: ResultView, picked_on_map: bool) -> impl IntoView {
    let i18n = use_i18n();
    let list_href = view_href(&params, picked_on_map, ResultView::List);
    let map_href = view_href(&params, picked_on_map, ResultView::Map);
    let current = |shown: ResultView| (view == shown).then_some("page");
    view! {
        <nav class="view-switch" aria-label=move || t_string!(i18n, search_view_label)>
            <a href=list_href aria-current=current(ResultView::List)>{t!(i18n, search_view_list)}</a>
            <a href=map_href aria-current=current(ResultView::Map)>{t!(i18n, search_view_map)}</a>
        </nav>
    }
}

/// Renders the search form, filled in from the current query. It keeps
/// the view and whether the start point was picked on the map.
#[component]
fn SearchForm(
    params: NearbyParams,
    children: Vec<SearchChild>,
    view: ResultView,
    picked_on_map: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let value = |field: &Option<String>| field.clone().unwrap_or_default();
    let checked = |field: &Option<String>| {
        matches!(field.as_deref().map(str::trim), Some("true" | "1" | "on"))
    };
    let radius = params
        .radius
        .as_deref()
        .and_then(|radius| radius.trim().parse::<u32>().ok())
        .unwrap_or(crate::model::DEFAULT_SEARCH_RADIUS_M);
    let chosen_child = value(&params.child);
    let service = value(&params.service);
    let has_children = !children.is_empty();

    view! {
        <form id="search-form" class="search-form" method="get" action="/search">
            <div class="field">
                <label for="search-q">{t!(i18n, search_q_label)}</label>
                <input
                    id="search-q"
                    name="q"
                    type="search"
                    maxlength="50"
                    value=value(&params.q)
                    placeholder=move || t_string!(i18n, search_q_hint)
                />
            </div>
            <input id="search-lat" type="hidden" name="lat" value=value(&params.lat) />
            <input id="search-lon" type="hidden" name="lon" value=value(&params.lon) />
            // The location button empties this field.
            {picked_on_map.then(|| view! { <input id="search-start" type="hidden" name="start" value="map" /> })}
            {(view == ResultView::Map).then(|| view! { <input type="hidden" name="view" value="map" /> })}
            <LocateButton
                label=t_string!(i18n, search_locate).to_string()
                asking=t_string!(i18n, search_locate_asking).to_string()
                failed=t_string!(i18n, search_locate_failed).to_string()
            />
            <div class="field">
                <label for="search-radius">{t!(i18n, search_radius_label)}</label>
                <select id="search-radius" name="radius">
                    {RADIUS_CHOICES
                        .into_iter()
                        .map(|metres| {
                            let km = metres / 1_000;
                            view! {
                                <option value=metres.to_string() selected=metres == radius>
                                    {t_string!(i18n, search_radius_option, km).to_string()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <Show when=move || has_children>
                <div class="field">
                    <label for="search-child">{t!(i18n, search_child_label)}</label>
                    <select id="search-child" name="child">
                        <option value="">{t!(i18n, search_child_none)}</option>
                        {children
                            .clone()
                            .into_iter()
                            .map(|child| {
                                let id = child.id.to_string();
                                let selected = id == chosen_child;
                                let name = child.display_name;
                                let months = child.age_months;
                                view! {
                                    <option value=id selected=selected>
                                        {t_string!(i18n, search_child_option, name, months).to_string()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
            </Show>
            <div class="field">
                <label for="search-age">{t!(i18n, search_age_label)}</label>
                <input
                    id="search-age"
                    name="age"
                    type="number"
                    min="0"
                    max="84"
                    inputmode="numeric"
                    value=value(&params.age)
                />
            </div>
            <div class="field-row">
                <div class="field">
                    <label for="search-from">{t!(i18n, search_from_label)}</label>
                    <input id="search-from" name="from" type="date" value=value(&params.from) />
                </div>
                <div class="field">
                    <label for="search-to">{t!(i18n, search_to_label)}</label>
                    <input id="search-to" name="to" type="date" value=value(&params.to) />
                </div>
            </div>
            <div class="field">
                <label for="search-service">{t!(i18n, search_service_label)}</label>
                <select id="search-service" name="service">
                    <option value="">{t!(i18n, search_service_any)}</option>
                    {Service::ALL
                        .into_iter()
                        .map(|choice| {
                            view! {
                                <option value=choice.as_str() selected=choice.as_str() == service>
                                    {move || service_label(i18n, choice)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <fieldset class="filters">
                <legend>{t!(i18n, field_filters)}</legend>
                <label>
                    <input type="checkbox" name="public_benefit" value="true" checked=checked(&params.public_benefit) />
                    {t!(i18n, search_public_benefit)}
                </label>
                <label>
                    <input type="checkbox" name="free" value="true" checked=checked(&params.free) />
                    {t!(i18n, search_free)}
                </label>
                <label>
                    <input type="checkbox" name="places_left" value="true" checked=checked(&params.places_left) />
                    {t!(i18n, search_places_left)}
                </label>
            </fieldset>
            <button type="submit" class="button primary">{t!(i18n, search_submit)}</button>
        </form>
    }
}

/// Renders the origin line and the places found, or why there are none.
#[component]
fn Results(results: NearbyResults, typed: String, picked_on_map: bool) -> impl IntoView {
    let i18n = use_i18n();
    let Some(origin) = results.origin else {
        let q = typed.trim().to_owned();
        return view! {
            <p class="notice" role="status">{t_string!(i18n, search_no_match, q).to_string()}</p>
        }
        .into_any();
    };
    let origin_line = match (origin.kind, origin.label) {
        (OriginKind::Coordinates, _) if picked_on_map => {
            t_string!(i18n, search_origin_map).to_string()
        }
        (OriginKind::Coordinates, _) | (_, None) => {
            t_string!(i18n, search_origin_coordinates).to_string()
        }
        (_, Some(name)) => t_string!(i18n, search_origin_named, name).to_string(),
    };
    let any_demo = results.items.iter().any(|item| item.place.is_demo);
    let items = results.items;
    view! {
        <section aria-labelledby="results-heading" class="search-results">
            <h2 id="results-heading">{t!(i18n, search_results_heading)}</h2>
            <p class="search-origin">{origin_line}</p>
            <Show when=move || any_demo>
                <p class="notice notice-demo">{t!(i18n, demo_notice)}</p>
            </Show>
            {if items.is_empty() {
                view! { <p role="status">{t!(i18n, search_no_results)}</p> }.into_any()
            } else {
                view! {
                    <ol class="place-list nearby-list">
                        {items.into_iter().map(|item| view! { <NearbyItem item /> }).collect_view()}
                    </ol>
                }
                .into_any()
            }}
        </section>
    }
    .into_any()
}

/// Renders one place of the results: distance, walking time, badges and the
/// next session.
#[component]
fn NearbyItem(item: NearbyPlace) -> impl IntoView {
    let i18n = use_i18n();
    let NearbyPlace {
        place,
        distance_m,
        walking_minutes,
        within_service_circle,
        public_benefit,
        fee,
        next_session,
        ..
    } = item;

    let href = format!("/places/{}", place.id);
    let entry_id = format!("place-{}", place.id);
    let kind = place.kind;
    let distance = distance_label(i18n, distance_m);
    let minutes = walking_minutes;
    let walking = t_string!(i18n, search_walking, minutes).to_string();
    let fee = fee.map(|fee| fee_label(i18n, fee));

    view! {
        // The map view copies this entry into the marker's popup.
        <li class="place nearby" id=entry_id>
            <a href=href class="place-link">
                <span class="place-kind">{move || place_kind_label(i18n, kind)}</span>
                <span class="place-name">{place.name}</span>
                <span class="place-address">{place.address}</span>
            </a>
            <p class="nearby-distance">{distance}" · "{walking}</p>
            <p class="badges">
                <Show when=move || within_service_circle>
                    <span class="badge badge-circle">{t!(i18n, search_circle_badge)}</span>
                </Show>
                <Show when=move || public_benefit>
                    <span class="badge badge-public-benefit">{t!(i18n, badge_public_benefit)}</span>
                </Show>
                <Show when=move || place.is_demo>
                    <span class="badge badge-demo">{t!(i18n, demo_badge)}</span>
                </Show>
                {fee.map(|fee| view! { <span class="badge badge-fee">{fee}</span> })}
            </p>
            <NextSessionLine next_session />
        </li>
    }
}

/// Renders a place's next session with its places left and the age of that
/// figure, or a line saying that there is none.
#[component]
fn NextSessionLine(next_session: Option<NextSession>) -> impl IntoView {
    let i18n = use_i18n();
    let Some(next) = next_session else {
        return view! { <p class="next-session none">{t!(i18n, search_no_session)}</p> }.into_any();
    };

    let when = format_span(
        next.session.starts_at,
        next.session.ends_at,
        i18n.get_locale(),
    );
    let left = next.session.places_left;
    let capacity = next.session.capacity;
    let places = t_string!(i18n, session_places_left, left, capacity).to_string();
    let updated = updated_label(i18n, ago(next.updated_at, chrono::Utc::now()));

    view! {
        <p class="next-session">
            <span class="next-label">{t!(i18n, search_next_session)}</span>
            " "
            <span class="session-title">{next.session.title}</span>
            " · "
            <span class="session-when">{when}</span>
            " · "
            <span class="session-left">{places}</span>
            " "
            <span class="updated">{updated}</span>
        </p>
    }
    .into_any()
}

/// Formats a distance: metres below 1 km, else kilometres with one decimal.
fn distance_label(i18n: leptos_i18n::I18nContext<Locale>, metres: u32) -> String {
    if metres < 1_000 {
        t_string!(i18n, search_distance_m, metres).to_string()
    } else {
        let km = format!("{:.1}", f64::from(metres) / 1_000.0);
        t_string!(i18n, search_distance_km, km).to_string()
    }
}

/// Formats how long ago the places-left figure changed, such as 3 分钟前更新.
fn updated_label(i18n: leptos_i18n::I18nContext<Locale>, ago: Ago) -> String {
    match ago {
        Ago::JustNow => t_string!(i18n, updated_just_now).to_string(),
        Ago::Minutes(count) => t_string!(i18n, updated_minutes_ago, count).to_string(),
        Ago::Hours(count) => t_string!(i18n, updated_hours_ago, count).to_string(),
        Ago::Days(count) => t_string!(i18n, updated_days_ago, count).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> NearbyParams {
        let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
        serde_urlencoded::from_str(&query).unwrap_or_default()
    }

    #[test]
    fn view_links_keep_the_search() {
        let search = params(&[("q", "湖南路"), ("age", "20"), ("radius", "5000")]);

        assert_eq!(
            view_href(&search, false, ResultView::List),
            "/search?q=%E6%B9%96%E5%8D%97%E8%B7%AF&radius=5000&age=20"
        );
        assert_eq!(
            view_href(&search, false, ResultView::Map),
            "/search?q=%E6%B9%96%E5%8D%97%E8%B7%AF&radius=5000&age=20&view=map"
        );
    }

    #[test]
    fn view_links_drop_blank_fields() {
        let search = params(&[
            ("q", " "),
            ("lat", "32.0668"),
            ("lon", "118.7756"),
            ("age", ""),
        ]);

        assert_eq!(
            view_href(&search, true, ResultView::Map),
            "/search?lat=32.0668&lon=118.7756&start=map&view=map"
        );
        assert_eq!(
            view_href(&NearbyParams::default(), false, ResultView::List),
            "/search"
        );
    }

    #[test]
    fn map_filters_leave_out_the_start_point() {
        let search = params(&[
            ("q", "湖南路"),
            ("lat", "32.0668"),
            ("lon", "118.7756"),
            ("service", "hourly_care"),
            ("free", "true"),
        ]);

        let filters = filter_pairs(&search);

        assert_eq!(
            filters,
            vec![
                ("service", "hourly_care".to_owned()),
                ("free", "true".to_owned())
            ]
        );
    }
}
