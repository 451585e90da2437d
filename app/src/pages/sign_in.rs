use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::i18n::{t, t_string, use_i18n};
use crate::prefs::safe_return_path;

/// Renders the sign-in page: one button that goes to the city portal, and
/// the reason when the last attempt failed.
#[component]
pub fn SignInPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let error = move || query.with(|query| query.get("error"));
    let login_href = move || {
        let return_to = query
            .with(|query| query.get("return_to"))
            .unwrap_or_default();
        let return_to = safe_return_path(&return_to).to_owned();
        let encoded = serde_urlencoded::to_string([("return_to", return_to)]).unwrap_or_default();
        format!("/auth/login?{encoded}")
    };

    view! {
        <Title text=t_string!(i18n, sign_in_title).to_string() />
        <h1>{t!(i18n, sign_in_title)}</h1>
        {move || error().map(|code| {
            let message = match code.as_str() {
                "not_configured" => t_string!(i18n, sign_in_not_configured),
                "provider_unavailable" | "unavailable" => t_string!(i18n, sign_in_unavailable),
                _ => t_string!(i18n, sign_in_failed),
            };
            let code_line = t_string!(i18n, sign_in_error_code, code = code.clone()).to_string();
            view! {
                <div class="notice notice-error" role="alert">
                    <p>{message}</p>
                    <p class="error-code">{code_line}</p>
                </div>
            }
        })}
        <p>{t!(i18n, sign_in_intro)}</p>
        <p>
            <a class="button primary" href=login_href rel="external">
                {t!(i18n, sign_in_button)}
            </a>
        </p>
    }
}
