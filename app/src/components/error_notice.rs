use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::{use_location, use_query_map};

use crate::error::AppError;
use crate::i18n::{Locale, t, use_i18n};

/// Renders the translated, user-safe message of an error in an alert region.
/// An invalid field is named, so the person can tell what to correct.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let i18n = use_i18n();
    let field = match &error {
        AppError::Invalid { field, .. } | AppError::InvalidQuery { field, .. } => {
            Some(field.clone())
        }
        _ => None,
    };
    let signed_out = matches!(error, AppError::Unauthenticated);
    let message = move || error.message(i18n.get_locale());
    let field_line = {
        let field = field.clone();
        move || {
            field
                .as_deref()
                .and_then(|field| field_label(field, i18n.get_locale()))
                .map(|label| view! { <p class="error-field">{label}</p> })
        }
    };
    let hint_line = move || {
        field
            .as_deref()
            .and_then(|field| field_hint(field, i18n.get_locale()))
            .map(|hint| view! { <p>{hint}</p> })
    };
    // Signed out: offer the way in right here, and come back afterwards.
    let sign_in = signed_out.then(|| {
        let location = use_location();
        let path = location.pathname.get_untracked();
        let query = serde_urlencoded::to_string([("return_to", path)]).unwrap_or_default();
        view! {
            <p>
                <a class="button primary" href=format!("/auth/login?{query}") rel="external">
                    {t!(i18n, sign_in_button)}
                </a>
            </p>
        }
    });
    view! {
        <section class="notice notice-error" role="alert">
            <h2>{t!(i18n, error_title)}</h2>
            <p>{message}</p>
            {field_line}
            {hint_line}
            {sign_in}
        </section>
    }
}

/// Returns what a valid value of `field` looks like, for the fields whose
/// rule a person cannot guess from the label.
fn field_hint(field: &str, locale: Locale) -> Option<&'static str> {
    use leptos_i18n::td_string;

    Some(match field {
        "consent" => td_string!(locale, hint_consent),
        "birth_date" => td_string!(locale, hint_birth_date),
        "mobile" => td_string!(locale, hint_mobile),
        "min_age_months" | "max_age_months" => td_string!(locale, hint_ages),
        "captions" => td_string!(locale, hint_captions),
        _ => return None,
    })
}

/// Returns the translated label of a form field named in an `Invalid` error.
fn field_label(field: &str, locale: Locale) -> Option<&'static str> {
    use leptos_i18n::td_string;

    Some(match field {
        "display_name" => td_string!(locale, field_display_name),
        "birth_date" => td_string!(locale, field_birth_date),
        "care_notes" => td_string!(locale, field_care_notes),
        "consent" => td_string!(locale, field_consent),
        "child_ids" => td_string!(locale, field_child_ids),
        "confirm" => td_string!(locale, field_confirm),
        "mobile" => td_string!(locale, field_mobile),
        "lat" | "lon" => td_string!(locale, field_location),
        "q" => td_string!(locale, field_search_name),
        "radius" => td_string!(locale, field_radius),
        "age" => td_string!(locale, field_age),
        "child" => td_string!(locale, field_child),
        "from" | "to" => td_string!(locale, field_dates),
        "service" => td_string!(locale, field_service),
        "public_benefit" | "free" | "places_left" => td_string!(locale, field_filters),
        "limit" => td_string!(locale, field_limit),
        "title" => td_string!(locale, staff_form_title),
        "title_en" => td_string!(locale, field_title_en),
        "summary" | "summary_en" => td_string!(locale, field_summary),
        "topic" => td_string!(locale, field_topic),
        "district_code" => td_string!(locale, field_district_code),
        "file" => td_string!(locale, field_file),
        "captions" => td_string!(locale, field_captions),
        "age_months" => td_string!(locale, field_age),
        "kind" => td_string!(locale, staff_form_kind),
        "starts_at" => td_string!(locale, staff_form_starts_at),
        "ends_at" => td_string!(locale, staff_form_ends_at),
        "capacity" => td_string!(locale, staff_form_capacity),
        "min_age_months" => td_string!(locale, staff_form_min_age),
        "max_age_months" => td_string!(locale, staff_form_max_age),
        "price_fen" => td_string!(locale, staff_form_price),
        "booking_opens_at" => td_string!(locale, staff_form_opens_at),
        "booking_closes_at" => td_string!(locale, staff_form_closes_at),
        "cancel_until" => td_string!(locale, staff_form_cancel_until),
        "release_mode" | "release_window_minutes" => td_string!(locale, staff_form_release),
        "draw_by_priority" => td_string!(locale, staff_form_draw_by_priority),
        "reason" => td_string!(locale, staff_cancel_reason),
        _ => return None,
    })
}

/// Shows the error of a form's last submission: from the action when
/// JavaScript ran it, or from the `__err` query parameter that the server
/// adds when it redirects a plain form post back to its page.
#[component]
pub fn ActionError<S>(action: ServerAction<S>) -> impl IntoView
where
    S: ServerFn<Error = AppError> + Send + Sync + Clone + 'static,
    S::Output: Send + Sync + Clone + 'static,
{
    let query = use_query_map();
    let from_url = move || {
        query.with(|query| {
            if query.get("__path").as_deref() != Some(S::PATH) {
                return None;
            }
            query
                .get("__err")
                .and_then(|encoded| decode_url_error(&encoded))
        })
    };
    let error = move || match action.value().get() {
        Some(Err(error)) => Some(error),
        Some(Ok(_)) => None,
        None => from_url(),
    };
    move || error().map(|error| view! { <ErrorNotice error /> })
}

/// Decodes the error that server_fn puts in `__err`: base64url of its JSON.
pub(crate) fn decode_url_error(encoded: &str) -> Option<AppError> {
    use base64::Engine;

    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(encoded)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_errors_decode_to_app_errors() {
        use base64::Engine;

        let error = AppError::invalid("consent", "missing");
        let json = serde_json::to_vec(&error).unwrap_or_default();
        let encoded = base64::engine::general_purpose::URL_SAFE.encode(json);
        assert_eq!(decode_url_error(&encoded), Some(error));
        assert_eq!(decode_url_error("not base64!"), None);
    }
}
