use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::home::place_kind_label;
use crate::api::get_place;
use crate::components::{ErrorNotice, SessionCard};
use crate::error::AppError;
use crate::i18n::{t, use_i18n};
use crate::model::PlaceDetail;

/// Renders a place's page: what it is, where, and its upcoming sessions.
#[component]
pub fn PlacePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    };
    let place = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_place(id).await,
            None => {
                #[cfg(feature = "ssr")]
                crate::api::set_status(404);
                Err(AppError::NotFound)
            }
        }
    });

    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match place.await {
                    Ok(detail) => view! { <PlaceView detail /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PlaceView(detail: PlaceDetail) -> impl IntoView {
    let i18n = use_i18n();
    let PlaceDetail {
        place,
        phone,
        sessions,
    } = detail;
    let kind = place.kind;
    let has_sessions = !sessions.is_empty();
    view! {
        <Title text=place.name.clone() />
        <article class="place-page">
            <p class="place-kind">{move || place_kind_label(i18n, kind)}</p>
            <h1>{place.name}</h1>
            <Show when=move || place.is_demo>
                <p class="notice notice-demo">{t!(i18n, demo_notice)}</p>
            </Show>
            <dl class="place-facts">
                <dt>{t!(i18n, place_address)}</dt>
                <dd>{place.address}</dd>
                {place.district.map(|district| view! {
                    <dt>{t!(i18n, place_district)}</dt>
                    <dd>{district}</dd>
                })}
                {phone.map(|phone| {
                    let tel = format!("tel:{phone}");
                    view! {
                        <dt>{t!(i18n, place_phone)}</dt>
                        <dd><a href=tel>{phone}</a></dd>
                    }
                })}
            </dl>
            <section aria-labelledby="sessions-heading">
                <h2 id="sessions-heading">{t!(i18n, place_sessions_heading)}</h2>
                <Show when=move || has_sessions fallback=move || view! { <p>{t!(i18n, place_no_sessions)}</p> }>
                    <ul class="session-list">
                        {sessions.clone().into_iter().map(|session| view! { <SessionCard session /> }).collect_view()}
                    </ul>
                </Show>
            </section>
            <p><a href="/">{t!(i18n, place_back)}</a></p>
        </article>
    }
}
