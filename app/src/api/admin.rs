//! Server functions for administrators' pages: saving a place from the
//! place form and reading the record of an upload. They call the same
//! domain functions as the REST API.

use leptos::prelude::*;

use crate::error::AppError;

/// The place form as the browser posts it: every field as text, so that a
/// form without JavaScript can send it. [`save_place`] checks and converts it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PlaceForm {
    pub kind: String,
    pub name: String,
    pub address: String,
    pub district: String,
    #[serde(default)]
    pub street: String,
    pub latitude: String,
    pub longitude: String,
    pub crs: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub opening_hours: String,
    #[serde(default)]
    pub min_age_months: String,
    #[serde(default)]
    pub max_age_months: String,
    /// Checked services, by their API names.
    #[serde(default)]
    pub services: Vec<String>,
    /// `free`, `per_hour`, `per_month` or empty.
    #[serde(default)]
    pub fee_kind: String,
    /// The fee in yuan, for example `12.50`.
    #[serde(default)]
    pub fee_yuan: String,
    #[serde(default)]
    pub childcare_places: String,
    /// `yes`, `no` or empty (not disclosed).
    #[serde(default)]
    pub public_benefit: String,
    #[serde(default)]
    pub public_benefit_source: String,
    #[serde(default)]
    pub public_benefit_date: String,
    #[serde(default)]
    pub registration: String,
    #[serde(default)]
    pub registration_source: String,
    #[serde(default)]
    pub registration_date: String,
    /// 1 to 5, or empty.
    #[serde(default)]
    pub star_rating: String,
    #[serde(default)]
    pub star_rating_source: String,
    #[serde(default)]
    pub star_rating_date: String,
}

/// Creates a place (without `place_id`) or replaces one, then opens its
/// page. A rejected plain form post returns to the form with the error and
/// the typed values kept as the form's draft.
#[server(prefix = "/sfn", endpoint = "save_place")]
pub async fn save_place(place_id: Option<i64>, form: PlaceForm) -> Result<(), AppError> {
    use super::form_redirect;
    use super::support::{require_viewer, state, with_status};

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let now = chrono::Utc::now();
    let saved = match convert::place_input(&form) {
        Ok(input) => match place_id {
            Some(id) => {
                crate::domain::place_admin::update_place(&state.db, &viewer, id, &input, now).await
            }
            None => crate::domain::place_admin::create_place(&state.db, &viewer, &input, now).await,
        },
        Err(error) => Err(error),
    };
    if let Err(error) = &saved {
        let page = match place_id {
            Some(id) => format!("/admin/places/{id}/edit"),
            None => "/admin/places/new".to_owned(),
        };
        form_redirect::reject(&page, &SavePlace { place_id, form }, error).await;
    }
    let saved = with_status(saved)?;
    leptos_axum::redirect(&format!("/places/{}", saved.place.id));
    Ok(())
}

/// Returns the record of an uploaded places file; city administrators only.
#[server(prefix = "/sfn", endpoint = "import_run")]
pub async fn import_run(id: i64) -> Result<crate::model::ImportRunView, AppError> {
    use super::support::{require_viewer, state, with_status};

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    with_status(crate::domain::import::import_run(&state.db, &viewer, id).await)
}

#[cfg(feature = "ssr")]
mod convert {
    use chrono::NaiveDate;

    use super::PlaceForm;
    use crate::error::AppError;
    use crate::geo::Crs;
    use crate::model::{Disclosure, Fee, PlaceInput, PlaceKind, Service};

    fn optional(value: &str) -> Option<String> {
        let value = value.trim();
        (!value.is_empty()).then(|| value.to_owned())
    }

    fn number<T: std::str::FromStr>(
        field: &'static str,
        value: &str,
    ) -> Result<Option<T>, AppError> {
        optional(value)
            .map(|text| {
                text.parse()
                    .map_err(|_| AppError::invalid(field, "must be a whole number"))
            })
            .transpose()
    }

    fn coordinate(field: &'static str, value: &str) -> Result<f64, AppError> {
        value
            .trim()
            .parse()
            .map_err(|_| AppError::invalid(field, "must be a number in degrees"))
    }

    fn disclosure<T>(
        field: &'static str,
        value: Option<T>,
        source: &str,
        date: &str,
    ) -> Result<Option<Disclosure<T>>, AppError> {
        let Some(value) = value else {
            return Ok(None);
        };
        let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| {
            AppError::invalid(field, "needs the decision date, for example 2026-10-01")
        })?;
        Ok(Some(Disclosure {
            value,
            source: source.trim().to_owned(),
            date,
        }))
    }

    fn yes_no(field: &'static str, value: &str) -> Result<Option<bool>, AppError> {
        match value.trim() {
            "" => Ok(None),
            "yes" => Ok(Some(true)),
            "no" => Ok(Some(false)),
            _ => Err(AppError::invalid(field, "must be yes, no or empty")),
        }
    }

    /// Converts the posted form into the input the domain checks.
    pub fn place_input(form: &PlaceForm) -> Result<PlaceInput, AppError> {
        let kind = PlaceKind::parse(form.kind.trim())
            .ok_or_else(|| AppError::invalid("kind", "is not a kind of place"))?;
        let crs = Crs::parse(&form.crs)
            .ok_or_else(|| AppError::invalid("crs", "must be wgs84, gcj02 or bd09"))?;
        let services = form
            .services
            .iter()
            .map(|name| {
                Service::parse(name)
                    .ok_or_else(|| AppError::invalid("services", "is not a service"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let fen = || -> Result<u32, AppError> {
            let yuan: f64 = form
                .fee_yuan
                .trim()
                .parse()
                .map_err(|_| AppError::invalid("fee", "needs an amount in yuan"))?;
            if !yuan.is_finite() || !(0.01..=100_000.0).contains(&yuan) {
                return Err(AppError::invalid("fee", "must be from 0.01 to 100000 yuan"));
            }
            format!("{:.0}", yuan * 100.0)
                .parse()
                .map_err(|_| AppError::invalid("fee", "needs an amount in yuan"))
        };
        let fee = match form.fee_kind.trim() {
            "" => None,
            "free" => Some(Fee::Free),
            "per_hour" => Some(Fee::PerHour { fen: fen()? }),
            "per_month" => Some(Fee::PerMonth { fen: fen()? }),
            _ => return Err(AppError::invalid("fee", "is not a kind of fee")),
        };
        let stars: Option<u8> = number("star_rating", &form.star_rating)?;
        Ok(PlaceInput {
            kind,
            name: form.name.clone(),
            address: form.address.clone(),
            district: form.district.clone(),
            street: optional(&form.street),
            latitude: coordinate("latitude", &form.latitude)?,
            longitude: coordinate("longitude", &form.longitude)?,
            crs,
            phone: optional(&form.phone),
            contact: optional(&form.contact),
            opening_hours: optional(&form.opening_hours),
            min_age_months: number("min_age_months", &form.min_age_months)?,
            max_age_months: number("max_age_months", &form.max_age_months)?,
            services,
            fee,
            childcare_places: number("childcare_places", &form.childcare_places)?,
            public_benefit: disclosure(
                "public_benefit",
                yes_no("public_benefit", &form.public_benefit)?,
                &form.public_benefit_source,
                &form.public_benefit_date,
            )?,
            registration: disclosure(
                "registration",
                yes_no("registration", &form.registration)?,
                &form.registration_source,
                &form.registration_date,
            )?,
            star_rating: disclosure(
                "star_rating",
                stars,
                &form.star_rating_source,
                &form.star_rating_date,
            )?,
        })
    }
}

/// Lists the priority groups; city administrators only.
#[server(prefix = "/sfn", endpoint = "priority_groups")]
pub async fn priority_groups() -> Result<Vec<crate::model::PriorityGroupView>, AppError> {
    use super::support::{require_viewer, state, with_status};

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    with_status(crate::domain::priority::list_groups(&state.db, &viewer).await)
}

/// The page the priority group forms return to after a plain form post.
#[cfg(feature = "ssr")]
const PRIORITY_PAGE: &str = "/admin/priority-groups";

/// Defines a priority group from the form on the priority groups page. A
/// rejected plain form post returns there with the typed values kept.
#[server(prefix = "/sfn", endpoint = "create_priority_group")]
pub async fn create_priority_group(
    code: String,
    name_zh: String,
    name_en: String,
    rank: String,
) -> Result<(), AppError> {
    use super::form_redirect;
    use super::support::{require_viewer, state, with_status};

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let result = match rank.trim().parse::<u32>() {
        Ok(rank) => {
            let input = crate::model::NewPriorityGroup {
                code: code.clone(),
                name_zh: name_zh.clone(),
                name_en: name_en.clone(),
                rank,
            };
            crate::domain::priority::create_group(&state.db, &viewer, &input, chrono::Utc::now())
                .await
                .map(|_| ())
        }
        Err(_) => Err(AppError::invalid("rank", "must be from 1 to 9")),
    };
    match &result {
        Ok(()) => form_redirect::back_to(PRIORITY_PAGE, &[], None),
        Err(error) => {
            let call = CreatePriorityGroup {
                code,
                name_zh,
                name_en,
                rank,
            };
            form_redirect::reject(PRIORITY_PAGE, &call, error).await;
        }
    }
    with_status(result)
}

/// Puts a child in a priority group from the form on the priority groups
/// page. A rejected plain form post returns there with the typed mobile
/// number and name kept as the form's draft, not in the address.
#[server(prefix = "/sfn", endpoint = "grant_priority")]
pub async fn grant_priority(
    group_id: i64,
    guardian_mobile: String,
    child_name: String,
) -> Result<(), AppError> {
    use super::form_redirect;
    use super::support::{require_viewer, state, with_status};

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let input = crate::model::PriorityGrant {
        guardian_mobile: guardian_mobile.clone(),
        child_name: child_name.clone(),
    };
    let result =
        crate::domain::priority::grant(&state.db, &viewer, group_id, &input, chrono::Utc::now())
            .await
            .map(|_| ());
    match &result {
        Ok(()) => form_redirect::back_to(PRIORITY_PAGE, &[], None),
        Err(error) => {
            let call = GrantPriority {
                group_id,
                guardian_mobile,
                child_name,
            };
            form_redirect::reject(PRIORITY_PAGE, &call, error).await;
        }
    }
    with_status(result)
}

/// The members page of a priority group: the group and the children in it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PriorityGroupMembers {
    pub group: crate::model::PriorityGroupView,
    pub members: Vec<crate::model::PriorityMember>,
}

/// Loads a priority group with its members for city administrators. The
/// members read is audited as in the REST API. Anyone else gets `NotFound`,
/// the same response as for a group that does not exist.
#[server(prefix = "/sfn", endpoint = "load_priority_members")]
pub async fn load_priority_members(group_id: i64) -> Result<PriorityGroupMembers, AppError> {
    use super::support::{require_viewer, state, with_status};
    use crate::domain::priority;

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    // `members` checks the viewer's role first and audits the read.
    let members = priority::members(&state.db, &viewer, group_id, chrono::Utc::now())
        .await
        .map_err(hide_forbidden);
    let members = with_status(members)?;
    let group = priority::list_groups(&state.db, &viewer)
        .await
        .map_err(hide_forbidden)
        .and_then(|groups| {
            groups
                .into_iter()
                .find(|group| group.id == group_id)
                .ok_or(AppError::NotFound)
        });
    let group = with_status(group)?;
    Ok(PriorityGroupMembers { group, members })
}

/// Takes a child out of a priority group from the members page. The form
/// must carry `confirm=on`, the box the administrator ticks to confirm.
///
/// A plain form post returns to the members page with `revoked` (the
/// child's id), or with the error.
#[server(prefix = "/sfn", endpoint = "revoke_priority")]
pub async fn revoke_priority(
    group_id: i64,
    child_id: i64,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use leptos::server_fn::ServerFn;

    use super::form_redirect;
    use super::support::{require_viewer, state, with_status};

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let result = if confirm.as_deref() == Some("on") {
        crate::domain::priority::revoke(&state.db, &viewer, group_id, child_id, chrono::Utc::now())
            .await
            .map_err(hide_forbidden)
    } else {
        Err(AppError::invalid(
            "confirm",
            "tick the box to confirm the removal",
        ))
    };
    let page = format!("/admin/priority-groups/{group_id}");
    let child = child_id.to_string();
    match &result {
        Ok(()) => form_redirect::back_to(&page, &[("revoked", child.as_str())], None),
        Err(error) => form_redirect::back_to(&page, &[], Some((RevokePriority::PATH, error))),
    }
    with_status(result)
}

/// Turns `Forbidden` into `NotFound`, so that someone who may not see a
/// priority group learns no more than from a group that does not exist.
#[cfg(feature = "ssr")]
fn hide_forbidden(error: AppError) -> AppError {
    match error {
        AppError::Forbidden => AppError::NotFound,
        other => other,
    }
}
