//! Administration of places: creating and replacing them with every
//! disclosure, and the coverage of childcare per district and street.
//!
//! A city administrator acts on every place; a district administrator on
//! the places of their district. Each change is audited.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use crate::domain::audit::{self, AuditEntry};
use crate::domain::places;
use crate::entity::{district, place, street};
use crate::error::AppError;
use crate::geo::GeoPoint;
use crate::model::{
    CoverageReport, Disclosure, DistrictCoverage, Fee, PLACES_PER_1000_TARGET, PlaceDetail,
    PlaceInput, Service, StreetCoverage, Viewer,
};
use crate::validate::{one_line, optional_one_line};

/// Most childcare places one place may record.
const MAX_CHILDCARE_PLACES: u32 = 5_000;
/// Highest fee accepted, in fen: 100,000 yuan.
const MAX_FEE_FEN: u32 = 10_000_000;

/// Returns the district names a viewer administers, or `None` for the
/// whole city.
async fn districts_in_scope(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
) -> Result<Option<Vec<String>>, AppError> {
    if viewer.is_city_admin() {
        return Ok(None);
    }
    let codes = viewer.district_codes();
    if codes.is_empty() {
        return Err(AppError::Forbidden);
    }
    let names = district::Entity::find()
        .filter(district::Column::Code.is_in(codes))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|row| row.name)
        .collect();
    Ok(Some(names))
}

fn check_disclosure<T>(
    field: &'static str,
    disclosure: Option<&Disclosure<T>>,
    now: DateTime<Utc>,
) -> Result<Option<(String, chrono::NaiveDate)>, AppError> {
    let Some(disclosure) = disclosure else {
        return Ok(None);
    };
    let source = one_line(field, &disclosure.source, 200)?;
    if disclosure.date > crate::time::local_date(now) {
        return Err(AppError::invalid(
            field,
            "the decision date is in the future",
        ));
    }
    Ok(Some((source, disclosure.date)))
}

/// Checks `input` and writes it over `model`.
async fn apply(
    db: &impl ConnectionTrait,
    scope: Option<&[String]>,
    model: &mut place::ActiveModel,
    input: &PlaceInput,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let name = one_line("name", &input.name, 200)?;
    let address = one_line("address", &input.address, 500)?;
    let district_name = input.district.trim();
    let known = district::Entity::find()
        .filter(district::Column::Name.eq(district_name))
        .one(db)
        .await
        .map_err(AppError::from_db)?;
    let Some(known) = known else {
        return Err(AppError::invalid(
            "district",
            "is not a district of Nanjing",
        ));
    };
    if scope.is_some_and(|names| !names.contains(&known.name)) {
        // Outside the district administrator's scope.
        return Err(AppError::Forbidden);
    }
    let street_name = optional_one_line("street", input.street.as_deref(), 50)?;
    if let Some(street_name) = &street_name {
        let found = street::Entity::find()
            .filter(street::Column::Name.eq(street_name.as_str()))
            .filter(street::Column::DistrictCode.eq(known.code.as_str()))
            .one(db)
            .await
            .map_err(AppError::from_db)?;
        if found.is_none() {
            return Err(AppError::invalid(
                "street",
                "is not a street of that district",
            ));
        }
    }
    let source_point = GeoPoint::new(input.latitude, input.longitude)
        .map_err(|error| AppError::invalid("latitude", error.to_string()))?;
    let point = source_point.to_wgs84(input.crs);
    if let (Some(min), Some(max)) = (input.min_age_months, input.max_age_months)
        && min > max
    {
        return Err(AppError::invalid(
            "max_age_months",
            "must not be below the minimum age",
        ));
    }
    if input.min_age_months.is_some() != input.max_age_months.is_some()
        || input.max_age_months.is_some_and(|max| max > 72)
    {
        return Err(AppError::invalid(
            "max_age_months",
            "give both ages, at most 72 months",
        ));
    }
    let (fee_kind, fee_fen) = match input.fee {
        None => (None, None),
        Some(Fee::Free) => (Some("free"), None),
        Some(Fee::PerHour { fen } | Fee::PerMonth { fen }) if fen == 0 || fen > MAX_FEE_FEN => {
            return Err(AppError::invalid(
                "fee",
                format!("the amount must be from 1 to {MAX_FEE_FEN} fen"),
            ));
        }
        Some(Fee::PerHour { fen }) => (Some("per_hour"), Some(fen)),
        Some(Fee::PerMonth { fen }) => (Some("per_month"), Some(fen)),
    };
    if input
        .childcare_places
        .is_some_and(|places| places > MAX_CHILDCARE_PLACES)
    {
        return Err(AppError::invalid(
            "childcare_places",
            format!("must be at most {MAX_CHILDCARE_PLACES}"),
        ));
    }
    let public_benefit = check_disclosure("public_benefit", input.public_benefit.as_ref(), now)?;
    let registration = check_disclosure("registration", input.registration.as_ref(), now)?;
    let star_rating = check_disclosure("star_rating", input.star_rating.as_ref(), now)?;
    if input
        .star_rating
        .as_ref()
        .is_some_and(|stars| !(1..=5).contains(&stars.value))
    {
        return Err(AppError::invalid(
            "star_rating",
            "must be from 1 to 5 stars",
        ));
    }

    let number = |value: u32| i32::try_from(value).map_err(|_| AppError::Internal);
    let optional_number = |value: Option<u32>| value.map(number).transpose();
    model.kind = Set(input.kind.as_str().to_owned());
    model.name = Set(name);
    model.address = Set(address);
    model.district = Set(Some(known.name));
    model.street = Set(street_name);
    model.latitude = Set(point.latitude);
    model.longitude = Set(point.longitude);
    model.source_crs = Set(input.crs.as_str().to_owned());
    model.source_latitude = Set(source_point.latitude);
    model.source_longitude = Set(source_point.longitude);
    model.phone = Set(optional_one_line("phone", input.phone.as_deref(), 40)?);
    model.contact = Set(optional_one_line("contact", input.contact.as_deref(), 200)?);
    model.opening_hours = Set(optional_one_line(
        "opening_hours",
        input.opening_hours.as_deref(),
        200,
    )?);
    model.min_age_months = Set(optional_number(input.min_age_months)?);
    model.max_age_months = Set(optional_number(input.max_age_months)?);
    model.offers_hourly_care = Set(input.services.contains(&Service::HourlyCare));
    model.offers_parent_child_activity =
        Set(input.services.contains(&Service::ParentChildActivity));
    model.offers_toddler_class = Set(input.services.contains(&Service::ToddlerClass));
    model.offers_full_day = Set(input.services.contains(&Service::FullDay));
    model.fee_kind = Set(fee_kind.map(str::to_owned));
    model.fee_fen = Set(optional_number(fee_fen)?);
    model.childcare_places = Set(optional_number(input.childcare_places)?);
    model.public_benefit = Set(input.public_benefit.as_ref().map(|d| d.value));
    model.public_benefit_source = Set(public_benefit.as_ref().map(|(s, _)| s.clone()));
    model.public_benefit_date = Set(public_benefit.map(|(_, date)| date));
    model.registered = Set(input.registration.as_ref().map(|d| d.value));
    model.registration_source = Set(registration.as_ref().map(|(s, _)| s.clone()));
    model.registration_date = Set(registration.map(|(_, date)| date));
    model.star_rating = Set(input.star_rating.as_ref().map(|d| i32::from(d.value)));
    model.star_rating_source = Set(star_rating.as_ref().map(|(s, _)| s.clone()));
    model.star_rating_date = Set(star_rating.map(|(_, date)| date));
    model.updated_at = Set(now);
    Ok(())
}

fn audit_detail(input: &PlaceInput) -> serde_json::Value {
    json!({
        "public_benefit": input.public_benefit,
        "registration": input.registration,
        "star_rating": input.star_rating,
        "childcare_places": input.childcare_places,
    })
}

/// Creates a place. District administrators create places in their district.
pub async fn create_place(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &PlaceInput,
    now: DateTime<Utc>,
) -> Result<PlaceDetail, AppError> {
    let scope = districts_in_scope(db, viewer).await?;
    let mut model = place::ActiveModel {
        is_demo: Set(false),
        source_key: Set(None),
        created_at: Set(now),
        ..Default::default()
    };
    apply(db, scope.as_deref(), &mut model, input, now).await?;
    let row = model.insert(db).await.map_err(AppError::from_db)?;
    audit::record(
        db,
        AuditEntry {
            actor: Some(viewer.account_id),
            on_behalf_of: None,
            district_code: audit::place_district(db, row.id).await?,
            action: "place.create",
            target_kind: "place",
            target_id: Some(row.id.to_string()),
            detail: Some(audit_detail(input)),
        },
        now,
    )
    .await?;
    places::get_place(db, row.id, now).await
}

/// Replaces a place's fields. A place outside the viewer's districts gives
/// 404, as an unknown one does.
pub async fn update_place(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    place_id: i64,
    input: &PlaceInput,
    now: DateTime<Utc>,
) -> Result<PlaceDetail, AppError> {
    let scope = districts_in_scope(db, viewer).await?;
    let row = place::Entity::find_by_id(place_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    if let Some(names) = &scope
        && !row
            .district
            .as_ref()
            .is_some_and(|name| names.contains(name))
    {
        return Err(AppError::NotFound);
    }
    let district_before = audit::place_district(db, place_id).await?;
    let mut model: place::ActiveModel = row.into();
    apply(db, scope.as_deref(), &mut model, input, now).await?;
    model.update(db).await.map_err(AppError::from_db)?;
    let district_after = audit::place_district(db, place_id).await?;
    audit::record(
        db,
        AuditEntry {
            actor: Some(viewer.account_id),
            on_behalf_of: None,
            district_code: district_after.clone(),
            action: "place.update",
            target_kind: "place",
            target_id: Some(place_id.to_string()),
            detail: Some(audit_detail(input)),
        },
        now,
    )
    .await?;
    // A place moved to another district leaves an entry in the district
    // it left too, whose administrators would otherwise lose sight of it.
    if district_before.is_some() && district_before != district_after {
        audit::record(
            db,
            AuditEntry {
                actor: Some(viewer.account_id),
                on_behalf_of: None,
                district_code: district_before,
                action: "place.move_out",
                target_kind: "place",
                target_id: Some(place_id.to_string()),
                detail: Some(json!({ "to_district": district_after })),
            },
            now,
        )
        .await?;
    }
    places::get_place(db, place_id, now).await
}

/// Returns coverage for the districts the viewer administers.
pub async fn coverage(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    now: DateTime<Utc>,
) -> Result<CoverageReport, AppError> {
    let scope = districts_in_scope(db, viewer).await?;
    let districts: Vec<district::Model> = district::Entity::find()
        .order_by_asc(district::Column::Code)
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .filter(|row| scope.as_ref().is_none_or(|names| names.contains(&row.name)))
        .collect();
    let names: Vec<String> = districts.iter().map(|row| row.name.clone()).collect();
    let codes: Vec<String> = districts.iter().map(|row| row.code.clone()).collect();
    let streets = street::Entity::find()
        .filter(street::Column::DistrictCode.is_in(codes))
        .order_by_asc(street::Column::DistrictCode)
        .order_by_asc(street::Column::McaCode)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    // NOTE: every place of the districts is read once; with a few thousand
    // places per city that is cheaper than one grouped query per figure.
    let rows = place::Entity::find()
        .filter(place::Column::District.is_in(names))
        .filter(place::Column::IsDemo.eq(false))
        .all(db)
        .await
        .map_err(AppError::from_db)?;

    let mut per_district: HashMap<&str, (u32, u32)> = HashMap::new();
    let mut per_street: HashMap<(&str, &str), (u32, u32)> = HashMap::new();
    let mut without_street = 0u32;
    for row in &rows {
        let Some(district_name) = row.district.as_deref() else {
            continue;
        };
        let seats = row
            .childcare_places
            .and_then(|places| u32::try_from(places).ok());
        let totals = per_district.entry(district_name).or_default();
        match seats {
            Some(seats) => totals.0 += seats,
            None => totals.1 += 1,
        }
        if row.public_benefit == Some(true) {
            match row.street.as_deref() {
                Some(street_name) => {
                    let street_totals = per_street.entry((district_name, street_name)).or_default();
                    street_totals.0 += 1;
                    street_totals.1 += seats.unwrap_or(0);
                }
                None => without_street += 1,
            }
        }
    }

    let district_names: HashMap<&str, &str> = districts
        .iter()
        .map(|row| (row.code.as_str(), row.name.as_str()))
        .collect();
    let street_views: Vec<StreetCoverage> = streets
        .iter()
        .map(|row| {
            let district_name = district_names
                .get(row.district_code.as_str())
                .copied()
                .unwrap_or_default();
            let (providers, seats) = per_street
                .get(&(district_name, row.name.as_str()))
                .copied()
                .unwrap_or_default();
            StreetCoverage {
                code: row.mca_code.clone(),
                name: row.name.clone(),
                district: district_name.to_owned(),
                public_benefit_providers: providers,
                public_benefit_places: seats,
            }
        })
        .collect();
    let district_views = districts
        .iter()
        .map(|row| {
            let (seats, without_figure) = per_district
                .get(row.name.as_str())
                .copied()
                .unwrap_or_default();
            let population = row
                .population_10k
                .filter(|people| people.is_finite() && *people > 0.0)
                .map(|people| (people * 10_000.0).round());
            let per_1000 = population.map(|people| f64::from(seats) * 1000.0 / people);
            let in_district = street_views.iter().filter(|view| view.district == row.name);
            DistrictCoverage {
                code: row.code.clone(),
                name: row.name.clone(),
                // Parsing the rounded figure avoids an unchecked float cast.
                population: population.and_then(|people| format!("{people:.0}").parse().ok()),
                childcare_places: seats,
                places_without_figure: without_figure,
                per_1000: per_1000.map(|value| (value * 100.0).round() / 100.0),
                meets_target: per_1000.map(|value| value > PLACES_PER_1000_TARGET),
                streets: u32::try_from(in_district.clone().count()).unwrap_or(u32::MAX),
                streets_without_public_benefit: u32::try_from(
                    in_district
                        .filter(|view| view.public_benefit_providers == 0)
                        .count(),
                )
                .unwrap_or(u32::MAX),
            }
        })
        .collect();
    let guidance = crate::domain::courses::guidance_reach(db, crate::time::local_date(now)).await?;
    Ok(CoverageReport {
        districts: district_views,
        streets: street_views,
        public_benefit_without_street: without_street,
        guidance,
    })
}
