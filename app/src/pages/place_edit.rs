use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::home::place_kind_label;
use super::place::service_label;
use crate::api::admin::{PlaceForm, SavePlace};
use crate::api::get_place;
use crate::components::{ActionError, ErrorNotice, use_form_draft};
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
    // After a rejected plain post, the form as typed.
    let draft = use_form_draft::<SavePlace>();
    view! {
        <Title text=t_string!(i18n, place_edit_title).to_string() />
        <h1>{t!(i18n, place_edit_title)}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                let draft = draft.await;
                match place.await {
                    Ok(detail) => {
                        let place_id = detail.as_ref().map(|detail| detail.place.id);
                        let form = match draft {
                            Some(draft) if draft.place_id == place_id => draft.form,
                            _ => detail.as_ref().map(form_from_detail).unwrap_or_default(),
                        };
                        view! { <PlaceFormView place_id form /> }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Returns the form's fields for a stored place, as the form shows them.
fn form_from_detail(detail: &PlaceDetail) -> PlaceForm {
    let place = &detail.place;
    let details = &detail.details;
    let number = |value: Option<u32>| value.map(|value| value.to_string()).unwrap_or_default();
    let yuan = |fen: u32| format!("{:.2}", f64::from(fen) / 100.0);
    let (fee_kind, fee_yuan) = match details.fee {
        None => (String::new(), String::new()),
        Some(Fee::Free) => ("free".to_owned(), String::new()),
        Some(Fee::PerHour { fen }) => ("per_hour".to_owned(), yuan(fen)),
        Some(Fee::PerMonth { fen }) => ("per_month".to_owned(), yuan(fen)),
    };
    let yes_no = |disclosure: &Option<Disclosure<bool>>| {
        disclosure
            .as_ref()
            .map(|d| if d.value { "yes" } else { "no" }.to_owned())
            .unwrap_or_default()
    };
    let source =
        |disclosure: Option<SourceAndDate>| disclosure.map(|d| d.source).unwrap_or_default();
    let date = |disclosure: Option<SourceAndDate>| disclosure.map(|d| d.date).unwrap_or_default();
    PlaceForm {
        kind: place.kind.as_str().to_owned(),
        name: place.name.clone(),
        address: place.address.clone(),
        district: place.district.clone().unwrap_or_default(),
        street: details.street.clone().unwrap_or_default(),
        latitude: format!("{:.6}", place.latitude),
        longitude: format!("{:.6}", place.longitude),
        // Stored points are WGS-84.
        crs: "wgs84".to_owned(),
        phone: detail.phone.clone().unwrap_or_default(),
        contact: details.contact.clone().unwrap_or_default(),
        opening_hours: details.opening_hours.clone().unwrap_or_default(),
        min_age_months: number(details.min_age_months),
        max_age_months: number(details.max_age_months),
        services: details
            .services
            .iter()
            .map(|service| service.as_str().to_owned())
            .collect(),
        fee_kind,
        fee_yuan,
        childcare_places: number(details.childcare_places),
        public_benefit: yes_no(&details.public_benefit),
        public_benefit_source: source(details.public_benefit.as_ref().map(plain)),
        public_benefit_date: date(details.public_benefit.as_ref().map(plain)),
        registration: yes_no(&details.registration),
        registration_source: source(details.registration.as_ref().map(plain)),
        registration_date: date(details.registration.as_ref().map(plain)),
        star_rating: details
            .star_rating
            .as_ref()
            .map(|d| d.value.to_string())
            .unwrap_or_default(),
        star_rating_source: source(details.star_rating.as_ref().map(plain)),
        star_rating_date: date(details.star_rating.as_ref().map(plain)),
    }
}

#[component]
fn PlaceFormView(place_id: Option<i64>, form: PlaceForm) -> impl IntoView {
    let i18n = use_i18n();
    let save = ServerAction::<SavePlace>::new();
    // A new place starts as a community room, the most common kind.
    let kind = if form.kind.is_empty() {
        PlaceKind::CommunityRoom.as_str().to_owned()
    } else {
        form.kind.clone()
    };
    let crs = form.crs.clone();
    let fee_kind = form.fee_kind.clone();
    let services = form.services.clone();
    view! {
        <ActionError action=save />
        <ActionForm action=save attr:class="stacked-form place-form">
            {place_id.map(|id| view! { <input type="hidden" name="place_id" value=id /> })}
            <label for="place-kind">{t!(i18n, place_edit_kind)}</label>
            <select id="place-kind" name="form[kind]">
                {PlaceKind::ALL
                    .into_iter()
                    .map(|option| view! {
                        <option value=option.as_str() selected=option.as_str() == kind>
                            {place_kind_label(i18n, option)}
                        </option>
                    })
                    .collect_view()}
            </select>
            <label for="place-name">{t!(i18n, place_edit_name)}</label>
            <input id="place-name" name="form[name]" required maxlength="200" value=form.name />
            <label for="place-address">{t!(i18n, place_edit_address)}</label>
            <input id="place-address" name="form[address]" required maxlength="500" value=form.address />
            <label for="place-district">{t!(i18n, place_edit_district)}</label>
            <input id="place-district" name="form[district]" required maxlength="20" value=form.district />
            <label for="place-street">{t!(i18n, place_edit_street)}</label>
            <input id="place-street" name="form[street]" maxlength="50" value=form.street />
            <fieldset>
                <legend>{t!(i18n, place_edit_point)}</legend>
                <label for="place-lat">{t!(i18n, place_edit_latitude)}</label>
                <input id="place-lat" name="form[latitude]" required inputmode="decimal" value=form.latitude />
                <label for="place-lon">{t!(i18n, place_edit_longitude)}</label>
                <input id="place-lon" name="form[longitude]" required inputmode="decimal" value=form.longitude />
                <label for="place-crs">{t!(i18n, place_edit_crs)}</label>
                <select id="place-crs" name="form[crs]">
                    <option value="wgs84" selected=crs != "gcj02" && crs != "bd09">{t!(i18n, place_edit_crs_wgs84)}</option>
                    <option value="gcj02" selected=crs == "gcj02">{t!(i18n, place_edit_crs_gcj02)}</option>
                    <option value="bd09" selected=crs == "bd09">{t!(i18n, place_edit_crs_bd09)}</option>
                </select>
            </fieldset>
            <label for="place-phone">{t!(i18n, place_edit_phone)}</label>
            <input id="place-phone" name="form[phone]" type="tel" maxlength="40" value=form.phone />
            <label for="place-contact">{t!(i18n, place_edit_contact)}</label>
            <input id="place-contact" name="form[contact]" maxlength="200" value=form.contact />
            <label for="place-hours">{t!(i18n, place_edit_hours)}</label>
            <input id="place-hours" name="form[opening_hours]" maxlength="200" value=form.opening_hours />
            <fieldset>
                <legend>{t!(i18n, place_edit_ages)}</legend>
                <label for="place-min-age">{t!(i18n, place_edit_min_age)}</label>
                <input id="place-min-age" name="form[min_age_months]" inputmode="numeric" value=form.min_age_months />
                <label for="place-max-age">{t!(i18n, place_edit_max_age)}</label>
                <input id="place-max-age" name="form[max_age_months]" inputmode="numeric" value=form.max_age_months />
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
                        let checked = services.iter().any(|chosen| chosen == service.as_str());
                        view! {
                            <label class="check" for=label_for>
                                <input type="checkbox" id=id name=name value=service.as_str() checked=checked />
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
                <input id="place-fee" name="form[fee_yuan]" inputmode="decimal" value=form.fee_yuan />
            </fieldset>
            <label for="place-seats">{t!(i18n, place_edit_childcare_places)}</label>
            <input id="place-seats" name="form[childcare_places]" inputmode="numeric" value=form.childcare_places />
            <DisclosureFields
                field="public_benefit"
                legend=t_string!(i18n, place_public_benefit).to_string()
                value=form.public_benefit
                disclosure=SourceAndDate { source: form.public_benefit_source, date: form.public_benefit_date }
            />
            <DisclosureFields
                field="registration"
                legend=t_string!(i18n, place_registration).to_string()
                value=form.registration
                disclosure=SourceAndDate { source: form.registration_source, date: form.registration_date }
            />
            <fieldset>
                <legend>{t!(i18n, place_star_rating)}</legend>
                <label for="star_rating-value">{t!(i18n, place_edit_stars)}</label>
                <input id="star_rating-value" name="form[star_rating]" inputmode="numeric" value=form.star_rating />
                <SourceFields
                    field="star_rating"
                    disclosure=SourceAndDate { source: form.star_rating_source, date: form.star_rating_date }
                />
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
    /// `yes`, `no` or empty (not disclosed).
    value: String,
    disclosure: SourceAndDate,
) -> impl IntoView {
    let i18n = use_i18n();
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
fn SourceFields(field: &'static str, disclosure: SourceAndDate) -> impl IntoView {
    let i18n = use_i18n();
    let source_id = format!("{field}-source");
    let date_id = format!("{field}-date");
    let (source_for, date_for) = (source_id.clone(), date_id.clone());
    view! {
        <label for=source_for>{t!(i18n, place_edit_source)}</label>
        <input id=source_id name=format!("form[{field}_source]") maxlength="200" value=disclosure.source />
        <label for=date_for>{t!(i18n, place_edit_date)}</label>
        <input id=date_id name=format!("form[{field}_date]") type="date" value=disclosure.date />
    }
}
