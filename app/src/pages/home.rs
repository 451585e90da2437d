use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::list_places;
use crate::components::ErrorNotice;
use crate::i18n::{t, t_string, use_i18n};
use crate::model::{PlaceKind, PlaceSummary};

/// Renders the home page: what Ningyu offers and the places in its database.
#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let places = Resource::new(|| (), |()| list_places());

    view! {
        <Title text="" />
        <section class="hero">
            <h1>{t!(i18n, home_title)}</h1>
            <p>{t!(i18n, home_intro)}</p>
            <form class="home-search" method="get" action="/search">
                <label for="home-q">{t!(i18n, home_search_label)}</label>
                <input id="home-q" name="q" type="search" maxlength="50" />
                <button type="submit" class="button primary">{t!(i18n, search_submit)}</button>
            </form>
        </section>
        <section aria-labelledby="places-heading">
            <h2 id="places-heading">{t!(i18n, home_places_heading)}</h2>
            <Suspense>
                {move || Suspend::new(async move {
                    match places.await {
                        Ok(page) => view! { <PlaceList places=page.items /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn PlaceList(places: Vec<PlaceSummary>) -> impl IntoView {
    let i18n = use_i18n();
    if places.is_empty() {
        return view! { <p>{t!(i18n, home_no_places)}</p> }.into_any();
    }
    let any_demo = places.iter().any(|place| place.is_demo);
    view! {
        <Show when=move || any_demo>
            <p class="notice notice-demo">{t!(i18n, demo_notice)}</p>
        </Show>
        <ul class="place-list">
            {places.into_iter().map(|place| view! { <PlaceItem place /> }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn PlaceItem(place: PlaceSummary) -> impl IntoView {
    let i18n = use_i18n();
    let href = format!("/places/{}", place.id);
    let kind = place.kind;
    view! {
        <li class="place">
            <a href=href class="place-link">
                <span class="place-kind">{move || place_kind_label(i18n, kind)}</span>
                <span class="place-name">{place.name}</span>
                <span class="place-address">{place.address}</span>
            </a>
            <Show when=move || place.is_demo>
                <span class="badge badge-demo">{t!(i18n, demo_badge)}</span>
            </Show>
        </li>
    }
}

/// Returns the translated name of a place kind.
pub fn place_kind_label(
    i18n: leptos_i18n::I18nContext<crate::i18n::Locale>,
    kind: PlaceKind,
) -> &'static str {
    match kind {
        PlaceKind::CommunityRoom => t_string!(i18n, place_kind_community_room),
        PlaceKind::ChildcareProvider => t_string!(i18n, place_kind_childcare_provider),
        PlaceKind::ToddlerClass => t_string!(i18n, place_kind_toddler_class),
        PlaceKind::EmployerChildcare => t_string!(i18n, place_kind_employer_childcare),
        PlaceKind::HealthCentre => t_string!(i18n, place_kind_health_centre),
    }
}
