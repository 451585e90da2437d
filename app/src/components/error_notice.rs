use leptos::prelude::*;

use crate::error::AppError;
use crate::i18n::{t, use_i18n};

/// Renders the translated, user-safe message of an error in an alert region.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let i18n = use_i18n();
    let message = move || error.message(i18n.get_locale());
    view! {
        <section class="notice notice-error" role="alert">
            <h2>{t!(i18n, error_title)}</h2>
            <p>{message}</p>
        </section>
    }
}
