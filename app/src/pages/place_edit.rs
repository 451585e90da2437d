use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::home::place_kind_label;
use super::place::service_label;
use crate::api::admin::SavePlace;
use crate::api::get_place;
use crate::components::{ActionError, ErrorNotice};
use crate::i18n::{t, t_string, use_i18n};
use crate::model::{Disclosure, Fee, PlaceDetail, PlaceKind, Service};

/// Renders the place form for administrators: a new place at
/// `/admin/places/new`, or the place `:id` at `/admin/places/:id/edit`.
/// Saving checks the administrator's district on the server.
#[component]
pub fn PlaceEditPage() -> impl IntoView {
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
            Some(id) => get_place(id).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <Title text=t_string!(i18n, place_edit_title).to_string() />
        <h1>{t!(i18n, place_edit_title)}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                match place.await {
                    Ok(detail) => view! { <PlaceFormView detail /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PlaceFormView(detail: Option<PlaceDetail>) -> impl IntoView {
    let i18n = use_i18n();
    let save = ServerAction::<SavePlace>::new();
    let place_id = detail.as_ref().map(|detail| detail.place.id);
    let summary = detail.as_ref().map(|detail| detail.place.clone());
    let details = detail
        .as_ref()
        .map(|detail| detail.details.clone())
        .unwrap_or_default();
    let kind = summary
        .as_ref()
        .map_or(PlaceKind::CommunityRoom, |place| place.kind);
    let text = |value: Option<String>| value.unwrap_or_default();
    let number = |value: Option<u32>| value.map(|value| value.to_string()).unwrap_or_default();
    let (fee_kind, fee_yuan) = match details.fee {
        None => ("", String::new()),
        Some(Fee::Free) => ("free", String::new()),
        Some(Fee::PerHour { fen }) => ("per_hour", format!("{:.2}", f64::from(fen) / 100.0)),
        Some(Fee::PerMonth { fen }) => ("per_month", format!("{:.2}", f64::from(fen) / 100.0)),
    };
    view! {
        <ActionError action=save />
        <ActionForm action=save attr:class="stacked-form place-form">
            {place_id.map(|id| view! { <input type="hidden" name="place_id" value=id /> })}
            <label for="place-kind">{t!(i18n, place_edit_kind)}</label>
            <select id="place-kind" name="form[kind]">
                {PlaceKind::ALL
                    .into_iter()
                    .map(|option| view! {
                        <option value=option.as_str() selected=option == kind>
                            {place_kind_label(i18n, option)}
                        </option>
                    })
                    .collect_view()}
            </select>
            <label for="place-name">{t!(i18n, place_edit_name)}</label>
            <input id="place-name" name="form[name]" required maxlength="200"
                value=summary.as_ref().map(|place| place.name.clone()) />
            <label for="place-address">{t!(i18n, place_edit_address)}</label>
            <input id="place-address" name="form[address]" required maxlength="500"
                value=summary.as_ref().map(|place| place.address.clone()) />
            <label for="place-district">{t!(i18n, place_edit_district)}</label>
            <input id="place-district" name="form[district]" required maxlength="20"
                value=summary.as_ref().and_then(|place| place.district.clone()) />
            <label for="place-street">{t!(i18n, place_edit_street)}</label>
            <input id="place-street" name="form[street]" maxlength="50" value=text(details.street.clone()) />
            <fieldset>
                <legend>{t!(i18n, place_edit_point)}</legend>
                <label for="place-lat">{t!(i18n, place_edit_latitude)}</label>
                <input id="place-lat" name="form[latitude]" required inputmode="decimal"
                    value=summary.as_ref().map(|place| format!("{:.6}", place.latitude)) />
                <label for="place-lon">{t!(i18n, place_edit_longitude)}</label>
                <input id="place-lon" name="form[longitude]" required inputmode="decimal"
                    value=summary.as_ref().map(|place| format!("{:.6}", place.longitude)) />
                <label for="place-crs">{t!(i18n, place_edit_crs)}</label>
                <select id="place-crs" name="form[crs]">
                    <option value="wgs84" selected>{t!(i18n, place_edit_crs_wgs84)}</option>
                    <option value="gcj02">{t!(i18n, place_edit_crs_gcj02)}</option>
                    <option value="bd09">{t!(i18n, place_edit_crs_bd09)}</option>
                </select>
            </fieldset>
            <label for="place-phone">{t!(i18n, place_edit_phone)}</label>
            <input id="place-phone" name="form[phone]" type="tel" maxlength="40"
                value=detail.as_ref().and_then(|detail| detail.phone.clone()) />
            <label for="place-contact">{t!(i18n, place_edit_contact)}</label>
            <input id="place-contact" name="form[contact]" maxlength="200" value=text(details.contact.clone()) />
            <label for="place-hours">{t!(i18n, place_edit_hours)}</label>
            <input id="place-hours" name="form[opening_hours]" maxlength="200" value=text(details.opening_hours.clone()) />
            <fieldset>
                <legend>{t!(i18n, place_edit_ages)}</legend>
                <label for="place-min-age">{t!(i18n, place_edit_min_age)}</label>
                <input id="place-min-age" name="form[min_age_months]" inputmode="numeric" value=number(details.min_age_months) />
                <label for="place-max-age">{t!(i18n, place_edit_max_age)}</label>
                <input id="place-max-age" name="form[max_age_months]" inputmode="numeric" value=number(details.max_age_months) />
            </fieldset>
            <fieldset>
                <legend>{t!(i18n, place_edit_services)}</legend>
                {Service::ALL
                    .into_iter()
                    .enumerate()
                    .map(|(index, service)| {
                        let name = format!("form[services][{index}]");
                        let id = format!("place-service-{}", service.as_str());
                        let label_for = id.clone();
                        view! {
                            <label class="check" for=label_for>
                                <input type="checkbox" id=id name=name value=service.as_str()
                                    checked=details.services.contains(&service) />
                                {service_label(i18n, service)}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <fieldset>
                <legend>{t!(i18n, place_edit_fee)}</legend>
                <select id="place-fee-kind" name="form[fee_kind]" aria-label=t_string!(i18n, place_edit_fee).to_string()>
                    <option value="" selected=fee_kind.is_empty()>{t!(i18n, place_edit_not_disclosed)}</option>
                    <option value="free" selected=fee_kind == "free">{t!(i18n, place_edit_fee_free)}</option>
                    <option value="per_hour" selected=fee_kind == "per_hour">{t!(i18n, place_edit_fee_per_hour)}</option>
                    <option value="per_month" selected=fee_kind == "per_month">{t!(i18n, place_edit_fee_per_month)}</option>
                </select>
                <label for="place-fee">{t!(i18n, place_edit_fee_yuan)}</label>
                <input id="place-fee" name="form[fee_yuan]" inputmode="decimal" value=fee_yuan />
            </fieldset>
            <label for="place-seats">{t!(i18n, place_edit_childcare_places)}</label>
            <input id="place-seats" name="form[childcare_places]" inputmode="numeric" value=number(details.childcare_places) />
            <DisclosureFields
                field="public_benefit"
                legend=t_string!(i18n, place_public_benefit).to_string()
                value=details.public_benefit.as_ref().map(|d| if d.value { "yes" } else { "no" }.to_owned())
                disclosure=details.public_benefit.as_ref().map(plain)
            />
            <DisclosureFields
                field="registration"
                legend=t_string!(i18n, place_registration).to_string()
                value=details.registration.as_ref().map(|d| if d.value { "yes" } else { "no" }.to_owned())
                disclosure=details.registration.as_ref().map(plain)
            />
            <fieldset>
                <legend>{t!(i18n, place_star_rating)}</legend>
                <label for="star_rating-value">{t!(i18n, place_edit_stars)}</label>
                <input id="star_rating-value" name="form[star_rating]" inputmode="numeric"
                    value=details.star_rating.as_ref().map(|d| d.value.to_string()) />
                <SourceFields field="star_rating" disclosure=details.star_rating.as_ref().map(plain) />
            </fieldset>
            <button type="submit" class="button primary">{t!(i18n, place_edit_save)}</button>
        </ActionForm>
    }
}

/// A disclosure's source and date as the form shows them.
#[derive(Debug, Clone)]
struct SourceAndDate {
    source: String,
    date: String,
}

fn plain<T>(disclosure: &Disclosure<T>) -> SourceAndDate {
    SourceAndDate {
        source: disclosure.source.clone(),
        date: disclosure.date.to_string(),
    }
}

#[component]
fn DisclosureFields(
    field: &'static str,
    legend: String,
    value: Option<String>,
    disclosure: Option<SourceAndDate>,
) -> impl IntoView {
    let i18n = use_i18n();
    let value = value.unwrap_or_default();
    let id = format!("{field}-value");
    let label_for = id.clone();
    view! {
        <fieldset>
            <legend>{legend}</legend>
            <label for=label_for>{t!(i18n, place_edit_status)}</label>
            <select id=id name=format!("form[{field}]")>
                <option value="" selected=value.is_empty()>{t!(i18n, place_edit_not_disclosed)}</option>
                <option value="yes" selected=value == "yes">{t!(i18n, place_edit_yes)}</option>
                <option value="no" selected=value == "no">{t!(i18n, place_edit_no)}</option>
            </select>
            <SourceFields field disclosure />
        </fieldset>
    }
}

#[component]
fn SourceFields(field: &'static str, disclosure: Option<SourceAndDate>) -> impl IntoView {
    let i18n = use_i18n();
    let source_id = format!("{field}-source");
    let date_id = format!("{field}-date");
    let (source_for, date_for) = (source_id.clone(), date_id.clone());
    view! {
        <label for=source_for>{t!(i18n, place_edit_source)}</label>
        <input id=source_id name=format!("form[{field}_source]") maxlength="200"
            value=disclosure.as_ref().map(|d| d.source.clone()) />
        <label for=date_for>{t!(i18n, place_edit_date)}</label>
        <input id=date_id name=format!("form[{field}_date]") type="date"
            value=disclosure.as_ref().map(|d| d.date.clone()) />
    }
}
