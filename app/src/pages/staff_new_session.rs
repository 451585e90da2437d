use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::NotFoundPage;
use crate::api::staff::{SessionForm, StaffCreateSession, staff_place_name};
use crate::components::{ActionError, ErrorNotice, decode_url_error};
use crate::error::AppError;
use crate::i18n::{t, t_string, use_i18n};
use crate::model::{ReleaseMode, SessionKind};

/// Renders the form that publishes a session at `/staff/places/:id/sessions/new`,
/// for the place's staff and administrators. After an invalid post the
/// form comes back with the values as typed and the field named.
#[component]
pub fn NewSessionPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    };
    let place = Resource::new(id, |id| async move {
        match id {
            Some(id) => staff_place_name(id).await.map(|name| (id, name)),
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match place.await {
                    Ok((place_id, place_name)) => view! {
                        <Title text=t_string!(i18n, staff_new_session).to_string() />
                        <p><a href="/staff">{t!(i18n, staff_back)}</a></p>
                        <h1>{t!(i18n, staff_new_session)}</h1>
                        <p>{place_name}</p>
                        <SessionFormView place_id />
                    }
                    .into_any(),
                    Err(AppError::NotFound) => view! { <NotFoundPage /> }.into_any(),
                    Err(AppError::Unauthenticated) => {
                        let href = format!(
                            "/auth/login?return_to=/staff/places/{}/sessions/new",
                            id().unwrap_or_default()
                        );
                        view! {
                            <h1>{t!(i18n, staff_new_session)}</h1>
                            <p>{t!(i18n, account_signed_out)}</p>
                            <p><a class="button primary" href=href rel="external">{t!(i18n, sign_in_button)}</a></p>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SessionFormView(place_id: i64) -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<StaffCreateSession>::new();
    let query = use_query_map();
    let form = query.with_untracked(|query| SessionForm::from_query(|name| query.get(name)));
    // The field that the last post got wrong, marked for screen readers.
    let invalid = query.with_untracked(|query| {
        match query
            .get("__err")
            .and_then(|encoded| decode_url_error(&encoded))
        {
            Some(AppError::Invalid { field, .. }) => Some(field),
            _ => None,
        }
    });
    let wrong = move |names: &[&str]| {
        invalid
            .as_deref()
            .is_some_and(|field| names.contains(&field))
            .then_some("true")
    };
    let kind = SessionKind::parse(&form.kind).unwrap_or(SessionKind::ParentChildActivity);
    let fair = form.release_mode == ReleaseMode::FairRelease.as_str();
    let or = |value: &str, default: &str| {
        if value.is_empty() {
            default.to_owned()
        } else {
            value.to_owned()
        }
    };
    view! {
        <ActionError action=create />
        <ActionForm action=create attr:class="stacked-form session-form">
            <input type="hidden" name="place_id" value=place_id />
            <label for="session-title">{t!(i18n, staff_form_title)}</label>
            <input id="session-title" name="form[title]" required maxlength="100"
                value=form.title.clone() aria-invalid=wrong(&["title"]) />
            <label for="session-kind">{t!(i18n, staff_form_kind)}</label>
            <select id="session-kind" name="form[kind]" aria-invalid=wrong(&["kind"])>
                {SessionKind::ALL
                    .into_iter()
                    .map(|option| view! {
                        <option value=option.as_str() selected=option == kind>
                            {super::staff::kind_label(i18n, option)}
                        </option>
                    })
                    .collect_view()}
            </select>
            <fieldset>
                <legend>{t!(i18n, staff_form_time)}</legend>
                <p class="hint">{t!(i18n, staff_form_time_hint)}</p>
                <label for="session-starts">{t!(i18n, staff_form_starts_at)}</label>
                <input id="session-starts" name="form[starts_at]" type="datetime-local" required
                    value=form.starts_at.clone() aria-invalid=wrong(&["starts_at"]) />
                <label for="session-ends">{t!(i18n, staff_form_ends_at)}</label>
                <input id="session-ends" name="form[ends_at]" type="datetime-local" required
                    value=form.ends_at.clone() aria-invalid=wrong(&["ends_at"]) />
            </fieldset>
            <label for="session-capacity">{t!(i18n, staff_form_capacity)}</label>
            <input id="session-capacity" name="form[capacity]" type="number" min="1" max="500" required
                inputmode="numeric" value=or(&form.capacity, "10") aria-invalid=wrong(&["capacity"]) />
            <fieldset>
                <legend>{t!(i18n, staff_form_ages)}</legend>
                <label for="session-min-age">{t!(i18n, staff_form_min_age)}</label>
                <input id="session-min-age" name="form[min_age_months]" type="number" min="0" max="72"
                    required inputmode="numeric" value=or(&form.min_age_months, "0")
                    aria-invalid=wrong(&["min_age_months"]) />
                <label for="session-max-age">{t!(i18n, staff_form_max_age)}</label>
                <input id="session-max-age" name="form[max_age_months]" type="number" min="0" max="72"
                    required inputmode="numeric" value=or(&form.max_age_months, "36")
                    aria-invalid=wrong(&["max_age_months"]) />
            </fieldset>
            <label for="session-price">{t!(i18n, staff_form_price)}</label>
            <input id="session-price" name="form[price_yuan]" inputmode="decimal"
                value=form.price_yuan.clone() aria-invalid=wrong(&["price_fen"])
                aria-describedby="session-price-hint" />
            <p class="hint" id="session-price-hint">{t!(i18n, staff_form_price_hint)}</p>
            <fieldset>
                <legend>{t!(i18n, staff_form_booking)}</legend>
                <p class="hint">{t!(i18n, staff_form_booking_hint)}</p>
                <label for="session-opens">{t!(i18n, staff_form_opens_at)}</label>
                <input id="session-opens" name="form[booking_opens_at]" type="datetime-local"
                    value=form.booking_opens_at.clone() aria-invalid=wrong(&["booking_opens_at"]) />
                <label for="session-closes">{t!(i18n, staff_form_closes_at)}</label>
                <input id="session-closes" name="form[booking_closes_at]" type="datetime-local"
                    value=form.booking_closes_at.clone() aria-invalid=wrong(&["booking_closes_at"]) />
                <label for="session-cancel-until">{t!(i18n, staff_form_cancel_until)}</label>
                <input id="session-cancel-until" name="form[cancel_until]" type="datetime-local"
                    value=form.cancel_until.clone() aria-invalid=wrong(&["cancel_until"]) />
            </fieldset>
            <label class="check" for="session-guardian">
                <input type="checkbox" id="session-guardian" name="form[guardian_attends]" value="on"
                    checked=form.guardian_attends == "on" />
                {t!(i18n, staff_form_guardian_attends)}
            </label>
            <fieldset>
                <legend>{t!(i18n, staff_form_release)}</legend>
                <label class="check" for="session-first-come">
                    <input type="radio" id="session-first-come" name="form[release_mode]"
                        value=ReleaseMode::FirstCome.as_str() checked=!fair />
                    {t!(i18n, staff_form_first_come)}
                </label>
                <label class="check" for="session-fair">
                    <input type="radio" id="session-fair" name="form[release_mode]"
                        value=ReleaseMode::FairRelease.as_str() checked=fair
                        aria-invalid=wrong(&["release_mode"]) />
                    {t!(i18n, staff_form_fair_release)}
                </label>
                <label for="session-window">{t!(i18n, staff_form_window)}</label>
                <input id="session-window" name="form[release_window_minutes]" type="number" min="1"
                    max="120" inputmode="numeric" value=or(&form.release_window_minutes, "10")
                    aria-invalid=wrong(&["release_window_minutes"]) />
                <label class="check" for="session-priority">
                    <input type="checkbox" id="session-priority" name="form[draw_by_priority]" value="on"
                        checked=form.draw_by_priority == "on" aria-invalid=wrong(&["draw_by_priority"]) />
                    {t!(i18n, staff_form_draw_by_priority)}
                </label>
            </fieldset>
            <button type="submit" class="primary big">{t!(i18n, staff_form_submit)}</button>
        </ActionForm>
    }
}
