use leptos::prelude::*;
use leptos_meta::Title;

use super::home::place_kind_label;
use super::place::{fee_label, service_label};
use crate::api::{search_children, search_nearby};
use crate::components::{ErrorNotice, LocateButton};
use crate::i18n::{Locale, t, t_string, use_i18n};
use crate::model::{
    NearbyParams, NearbyPlace, NearbyResults, NextSession, OriginKind, SearchChild, Service,
};
use crate::time::{Ago, ago, format_span};

/// Radius choices of the form, in metres.
const RADIUS_CHOICES: [u32; 5] = [1_000, 3_000, 5_000, 10_000, 20_000];

/// Renders the nearby search: a plain GET form and the places it finds,
/// nearest first. It works without JavaScript; the location button is an
/// island that appears only when the WASM runs.
#[component]
pub fn SearchPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = request_params();
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
                    view! {
                        <SearchForm params children />
                        {match results {
                            None => ().into_any(),
                            Some(Ok(results)) => view! { <Results results typed /> }.into_any(),
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
fn request_params() -> NearbyParams {
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
    NearbyParams {
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
    }
}

/// Renders the search form, filled in from the current query.
#[component]
fn SearchForm(params: NearbyParams, children: Vec<SearchChild>) -> impl IntoView {
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
fn Results(results: NearbyResults, typed: String) -> impl IntoView {
    let i18n = use_i18n();
    let Some(origin) = results.origin else {
        let q = typed.trim().to_owned();
        return view! {
            <p class="notice" role="status">{t_string!(i18n, search_no_match, q).to_string()}</p>
        }
        .into_any();
    };
    let origin_line = match (origin.kind, origin.label) {
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
    let kind = place.kind;
    let distance = distance_label(i18n, distance_m);
    let minutes = walking_minutes;
    let walking = t_string!(i18n, search_walking, minutes).to_string();
    let fee = fee.map(|fee| fee_label(i18n, fee));

    view! {
        <li class="place nearby">
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
