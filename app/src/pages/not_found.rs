use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::{t, t_string, use_i18n};

/// Renders the page for any path without a route, with status 404.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::api::set_status(404);

    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, not_found_title).to_string() />
        <h1>{t!(i18n, not_found_title)}</h1>
        <p>{t!(i18n, not_found_body)}</p>
        <p><a href="/">{t!(i18n, back_home)}</a></p>
    }
}
