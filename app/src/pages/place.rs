use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::home::place_kind_label;
use crate::api::get_place;
use crate::components::{ErrorNotice, SessionCard, format_yuan};
use crate::error::AppError;
use crate::geo::{Crs, GeoPoint};
use crate::i18n::{Locale, t, t_string, use_i18n};
use crate::model::{Disclosure, Fee, PlaceDetail, PlaceDetails, Service, Viewer};
use crate::time::format_date;

/// Renders a place's page: what it is, where, what it discloses, how to
/// get there, and its upcoming sessions.
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

    // Administrators get a link to the place form; the form's server
    // function checks their district again.
    let viewer = Resource::new(|| (), |()| crate::api::current_viewer());

    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let viewer = viewer.await.ok().flatten();
                let may_edit = viewer.as_ref().is_some_and(Viewer::is_admin);
                match place.await {
                    Ok(detail) => {
                        // Staff of the place, and administrators, get a link to
                        // the new-session form, which checks their scope.
                        let may_publish = may_edit
                            || viewer.as_ref().is_some_and(|viewer| viewer.is_staff_of(detail.place.id));
                        view! { <PlaceView detail may_edit may_publish /> }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PlaceView(detail: PlaceDetail, may_edit: bool, may_publish: bool) -> impl IntoView {
    let i18n = use_i18n();
    let PlaceDetail {
        place,
        phone,
        details,
        sessions,
    } = detail;
    let kind = place.kind;
    let has_sessions = !sessions.is_empty();
    let point = GeoPoint {
        latitude: place.latitude,
        longitude: place.longitude,
    };
    let links = DirectionLinks::new(point, &place.name);
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
            <section aria-labelledby="directions-heading">
                <h2 id="directions-heading">{t!(i18n, place_directions_heading)}</h2>
                <ul class="directions">
                    <li><a href=links.amap rel="external noopener">{t!(i18n, place_directions_amap)}</a></li>
                    <li><a href=links.tencent rel="external noopener">{t!(i18n, place_directions_tencent)}</a></li>
                    <li><a href=links.geo rel="external noopener">{t!(i18n, place_directions_other)}</a></li>
                </ul>
            </section>
            <ServicesAndFees details=details.clone() />
            <Disclosures details />
            <section aria-labelledby="sessions-heading">
                <h2 id="sessions-heading">{t!(i18n, place_sessions_heading)}</h2>
                <Show when=move || has_sessions fallback=move || view! { <p>{t!(i18n, place_no_sessions)}</p> }>
                    <ul class="session-list">
                        {sessions.clone().into_iter().map(|session| view! { <SessionCard session /> }).collect_view()}
                    </ul>
                </Show>
            </section>
            <Show when=move || may_publish>
                <p><a href=format!("/staff/places/{}/sessions/new", place.id)>{t!(i18n, staff_new_session)}</a></p>
            </Show>
            <Show when=move || may_edit>
                <p><a href=format!("/admin/places/{}/edit", place.id)>{t!(i18n, place_edit_title)}</a></p>
            </Show>
            <p><a href="/search">{t!(i18n, place_back)}</a></p>
        </article>
    }
}

/// Returns the translated name of a service.
pub fn service_label(
    i18n: leptos_i18n::I18nContext<crate::i18n::Locale>,
    service: Service,
) -> &'static str {
    match service {
        Service::HourlyCare => t_string!(i18n, service_hourly_care),
        Service::ParentChildActivity => t_string!(i18n, service_parent_child_activity),
        Service::ToddlerClass => t_string!(i18n, service_toddler_class),
        Service::FullDay => t_string!(i18n, service_full_day),
    }
}

/// Returns the translated fee, for example 每小时 15 元.
pub fn fee_label(i18n: leptos_i18n::I18nContext<crate::i18n::Locale>, fee: Fee) -> String {
    match fee {
        Fee::Free => t_string!(i18n, fee_free).to_string(),
        Fee::PerHour { fen } => {
            let yuan = format_yuan(fen);
            t_string!(i18n, fee_per_hour, yuan).to_string()
        }
        Fee::PerMonth { fen } => {
            let yuan = format_yuan(fen);
            t_string!(i18n, fee_per_month, yuan).to_string()
        }
    }
}

/// Renders age range, services, fee, opening hours and contact. Each shows
/// 未公示 (not disclosed) when the place has not disclosed it.
#[component]
fn ServicesAndFees(details: PlaceDetails) -> impl IntoView {
    let i18n = use_i18n();
    let not_disclosed = move || t_string!(i18n, place_not_disclosed).to_string();
    let ages = match (details.min_age_months, details.max_age_months) {
        (Some(min), Some(max)) => t_string!(i18n, place_age_value, min, max).to_string(),
        _ => not_disclosed(),
    };
    let services = if details.services.is_empty() {
        not_disclosed()
    } else {
        let separator = match i18n.get_locale() {
            Locale::en => ", ",
            _ => "、",
        };
        details
            .services
            .iter()
            .map(|service| service_label(i18n, *service))
            .collect::<Vec<_>>()
            .join(separator)
    };
    let fee = details
        .fee
        .map_or_else(not_disclosed, |fee| fee_label(i18n, fee));
    let hours = details.opening_hours.unwrap_or_else(not_disclosed);
    let contact = details.contact.unwrap_or_else(not_disclosed);
    view! {
        <section aria-labelledby="details-heading">
            <h2 id="details-heading">{t!(i18n, place_details_heading)}</h2>
            <dl class="place-facts place-details">
                <dt>{t!(i18n, place_age_range)}</dt>
                <dd>{ages}</dd>
                <dt>{t!(i18n, place_services)}</dt>
                <dd>{services}</dd>
                <dt>{t!(i18n, place_fee)}</dt>
                <dd>{fee}</dd>
                <dt>{t!(i18n, place_hours)}</dt>
                <dd>{hours}</dd>
                <dt>{t!(i18n, place_contact)}</dt>
                <dd>{contact}</dd>
            </dl>
        </section>
    }
}

/// Renders the 普惠, 备案 and 星级 disclosures, each with its source and date.
#[component]
fn Disclosures(details: PlaceDetails) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale();
    let describe = move |value: String, source: String, date: chrono::NaiveDate| {
        let date = format_date(date, locale);
        let source_line = t_string!(i18n, place_disclosure_source, source, date).to_string();
        view! {
            <dd>
                <span class="disclosure-value">{value}</span>
                " "
                <span class="disclosure-source">{source_line}</span>
            </dd>
        }
        .into_any()
    };
    let not_disclosed = move || view! { <dd>{t!(i18n, place_not_disclosed)}</dd> }.into_any();
    let yes_no = move |disclosure: Disclosure<bool>, yes: &str, no: &str| {
        let value = if disclosure.value { yes } else { no };
        describe(value.to_owned(), disclosure.source, disclosure.date)
    };
    let public_benefit = details
        .public_benefit
        .map_or_else(not_disclosed, |disclosure| {
            yes_no(
                disclosure,
                t_string!(i18n, place_public_benefit_yes),
                t_string!(i18n, place_public_benefit_no),
            )
        });
    let registration = details
        .registration
        .map_or_else(not_disclosed, |disclosure| {
            yes_no(
                disclosure,
                t_string!(i18n, place_registered_yes),
                t_string!(i18n, place_registered_no),
            )
        });
    let star_rating = details
        .star_rating
        .map_or_else(not_disclosed, |disclosure| {
            let stars = disclosure.value;
            let value = t_string!(i18n, place_stars, stars).to_string();
            describe(value, disclosure.source, disclosure.date)
        });
    view! {
        <section aria-labelledby="disclosures-heading">
            <h2 id="disclosures-heading">{t!(i18n, place_disclosures_heading)}</h2>
            <dl class="place-facts disclosures">
                <dt>{t!(i18n, place_public_benefit)}</dt>
                {public_benefit}
                <dt>{t!(i18n, place_registration)}</dt>
                {registration}
                <dt>{t!(i18n, place_star_rating)}</dt>
                {star_rating}
            </dl>
        </section>
    }
}

/// Links that open a map app with walking directions to a place.
///
/// AMap and Tencent Maps take GCJ-02, so the stored WGS-84 point is
/// converted for them. The `geo:` URI (RFC 5870) takes WGS-84 and lets
/// Android offer every installed map app.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DirectionLinks {
    amap: String,
    tencent: String,
    geo: String,
}

impl DirectionLinks {
    fn new(point: GeoPoint, name: &str) -> Self {
        let gcj = point.from_wgs84(Crs::Gcj02);
        // AMap separates the parts of `to` with commas.
        let amap_name = name.replace(',', " ");
        let amap_query = serde_urlencoded::to_string([
            (
                "to",
                format!("{:.6},{:.6},{amap_name}", gcj.longitude, gcj.latitude),
            ),
            ("mode", "walk".to_owned()),
            ("coordinate", "gaode".to_owned()),
            ("callnative", "1".to_owned()),
        ])
        .unwrap_or_default();
        // NOTE: these AMap and Tencent parameters follow their URI APIs as
        // published, untested on a phone here. Tencent's `referer` names
        // the calling app, and Ningyu has no Tencent key, so it sends its name.
        let tencent_query = serde_urlencoded::to_string([
            ("type", "walk".to_owned()),
            ("to", name.to_owned()),
            (
                "tocoord",
                format!("{:.6},{:.6}", gcj.latitude, gcj.longitude),
            ),
            ("referer", "ningyu".to_owned()),
        ])
        .unwrap_or_default();
        let geo_label = serde_urlencoded::to_string([(
            "q",
            format!("{:.6},{:.6}({name})", point.latitude, point.longitude),
        )])
        .unwrap_or_default();
        Self {
            amap: format!("https://uri.amap.com/navigation?{amap_query}"),
            tencent: format!("qqmap://map/routeplan?{tencent_query}"),
            geo: format!(
                "geo:{:.6},{:.6}?{geo_label}",
                point.latitude, point.longitude
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_links_use_gcj02_for_chinese_apps() {
        let wgs = GeoPoint {
            latitude: 32.0415,
            longitude: 118.7784,
        };
        let gcj = wgs.from_wgs84(Crs::Gcj02);

        let links = DirectionLinks::new(wgs, "测试,亲子室");

        let amap_to = format!("{:.6}%2C{:.6}%2C", gcj.longitude, gcj.latitude);
        assert!(links.amap.contains(&amap_to), "{}", links.amap);
        assert!(links.amap.contains("mode=walk"), "{}", links.amap);
        let tencent_to = format!("tocoord={:.6}%2C{:.6}", gcj.latitude, gcj.longitude);
        assert!(links.tencent.contains(&tencent_to), "{}", links.tencent);
        assert!(
            links.geo.starts_with("geo:32.041500,118.778400?"),
            "{}",
            links.geo
        );
    }

    #[test]
    fn amap_link_keeps_commas_out_of_the_name() {
        let links = DirectionLinks::new(
            GeoPoint {
                latitude: 32.0,
                longitude: 118.0,
            },
            "甲,乙",
        );
        let decoded: Vec<(String, String)> = links
            .amap
            .split_once('?')
            .and_then(|(_, query)| serde_urlencoded::from_str(query).ok())
            .unwrap_or_default();
        let to = decoded
            .iter()
            .find(|(key, _)| key == "to")
            .map(|(_, value)| value.clone())
            .unwrap_or_default();
        assert_eq!(to.split(',').count(), 3, "{to}");
        assert!(to.ends_with("甲 乙"), "{to}");
    }
}
