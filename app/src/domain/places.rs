//! Reading places and their upcoming sessions.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::{care_session, place};
use crate::error::AppError;
use crate::model::{
    Disclosure, Fee, Page, PlaceDetail, PlaceDetails, PlaceKind, PlaceSummary, Service,
    SessionKind, SessionSummary,
};

/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The page size when the caller names none.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// How many upcoming sessions a place page lists.
const UPCOMING_SESSIONS: u64 = 50;

/// A request for one page of places, already checked by [`PlaceListQuery::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaceListQuery {
    limit: u32,
    offset: u64,
}

impl PlaceListQuery {
    /// Checks the paging values; `limit` defaults to [`DEFAULT_PAGE_SIZE`].
    pub fn new(limit: Option<u32>, offset: Option<u64>) -> Result<Self, AppError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(AppError::invalid(
                "limit",
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        let offset = offset.unwrap_or(0);
        if offset > i64::MAX as u64 {
            return Err(AppError::invalid("offset", "is too large"));
        }
        Ok(Self { limit, offset })
    }
}

impl Default for PlaceListQuery {
    fn default() -> Self {
        Self {
            limit: DEFAULT_PAGE_SIZE,
            offset: 0,
        }
    }
}

/// Lists places ordered by name, one page at a time.
pub async fn list_places(
    db: &impl ConnectionTrait,
    query: PlaceListQuery,
) -> Result<Page<PlaceSummary>, AppError> {
    let total = place::Entity::find()
        .count(db)
        .await
        .map_err(AppError::from_db)?;
    let rows = place::Entity::find()
        .order_by_asc(place::Column::Name)
        .order_by_asc(place::Column::Id)
        .limit(u64::from(query.limit))
        .offset(query.offset)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let items = rows
        .into_iter()
        .map(summarise_place)
        .collect::<Result<_, _>>()?;
    Ok(Page {
        items,
        total,
        limit: query.limit,
        offset: query.offset,
    })
}

/// How long the home page may show a list of places read earlier.
pub const FIRST_PAGE_TTL: Duration = Duration::from_secs(1);

/// The first page of places, the same for every visitor of the home page,
/// kept for a short time so a busy home page reads the database about once
/// per interval instead of on every request. The list contains names and
/// addresses, which change rarely, and no places-left figures. Each server
/// process keeps its own copy, so a change shows everywhere within the
/// interval.
#[derive(Debug, Clone)]
pub struct FirstPageCache {
    ttl: Duration,
    page: Arc<Mutex<Option<ReadPage>>>,
}

/// A first page of places and when it was read.
type ReadPage = (Instant, Page<PlaceSummary>);

impl Default for FirstPageCache {
    fn default() -> Self {
        Self::new(FIRST_PAGE_TTL)
    }
}

impl FirstPageCache {
    /// Creates a cache whose copy is used for `ttl` after it was read.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            page: Arc::default(),
        }
    }

    /// Returns the first page of places, read again once the copy is older
    /// than the interval. Errors are not kept: the next request retries.
    pub async fn get(&self, db: &impl ConnectionTrait) -> Result<Page<PlaceSummary>, AppError> {
        if let Some((read_at, page)) = self.slot().as_ref()
            && read_at.elapsed() < self.ttl
        {
            return Ok(page.clone());
        }
        let read_at = Instant::now();
        let page = list_places(db, PlaceListQuery::default()).await?;
        *self.slot() = Some((read_at, page.clone()));
        Ok(page)
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<ReadPage>> {
        // The value is replaced whole, so a panic elsewhere cannot leave it
        // half-written.
        self.page.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Loads one place with the sessions that have not ended by `now`.
pub async fn get_place(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<PlaceDetail, AppError> {
    let row = place::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let sessions = care_session::Entity::find()
        .filter(care_session::Column::PlaceId.eq(id))
        .filter(care_session::Column::EndsAt.gt(now))
        .order_by_asc(care_session::Column::StartsAt)
        .order_by_asc(care_session::Column::Id)
        .limit(UPCOMING_SESSIONS)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let phone = row.phone.clone();
    let details = place_details(&row);
    Ok(PlaceDetail {
        place: summarise_place(row)?,
        phone,
        details,
        sessions: sessions
            .into_iter()
            .map(summarise_session)
            .collect::<Result<_, _>>()?,
    })
}

/// Collects what a place row discloses.
///
/// The schema's checks keep each disclosure whole (value, source and date
/// together) and the numbers in range. A row that breaks them anyway shows
/// the broken part as not disclosed instead of failing the page.
pub(crate) fn place_details(row: &place::Model) -> PlaceDetails {
    let months = |value: Option<i32>| value.and_then(|months| u32::try_from(months).ok());
    PlaceDetails {
        min_age_months: months(row.min_age_months),
        max_age_months: months(row.max_age_months),
        services: place_services(row),
        fee: place_fee(row),
        opening_hours: row.opening_hours.clone(),
        contact: row.contact.clone(),
        public_benefit: disclosure(
            row.public_benefit,
            &row.public_benefit_source,
            row.public_benefit_date,
        ),
        registration: disclosure(
            row.registered,
            &row.registration_source,
            row.registration_date,
        ),
        star_rating: disclosure(
            row.star_rating
                .and_then(|stars| u8::try_from(stars).ok())
                .filter(|stars| (1..=5).contains(stars)),
            &row.star_rating_source,
            row.star_rating_date,
        ),
        street: row.street.clone(),
        childcare_places: row
            .childcare_places
            .and_then(|places| u32::try_from(places).ok()),
    }
}

/// Returns the services a place row declares, in [`Service::ALL`] order.
pub(crate) fn place_services(row: &place::Model) -> Vec<Service> {
    Service::ALL
        .into_iter()
        .filter(|service| offers(row, *service))
        .collect()
}

/// Returns whether a place row declares `service`.
pub(crate) fn offers(row: &place::Model, service: Service) -> bool {
    match service {
        Service::HourlyCare => row.offers_hourly_care,
        Service::ParentChildActivity => row.offers_parent_child_activity,
        Service::ToddlerClass => row.offers_toddler_class,
        Service::FullDay => row.offers_full_day,
    }
}

/// Returns the fee a place row discloses.
pub(crate) fn place_fee(row: &place::Model) -> Option<Fee> {
    fee_from_columns(row.fee_kind.as_deref(), row.fee_fen)
}

/// Returns the fee that the `fee_kind` and `fee_fen` columns describe.
pub(crate) fn fee_from_columns(kind: Option<&str>, fen: Option<i32>) -> Option<Fee> {
    let fen = fen.and_then(|fen| u32::try_from(fen).ok());
    match (kind, fen) {
        (Some("free"), _) => Some(Fee::Free),
        (Some("per_hour"), Some(fen)) => Some(Fee::PerHour { fen }),
        (Some("per_month"), Some(fen)) => Some(Fee::PerMonth { fen }),
        _ => None,
    }
}

fn disclosure<T>(
    value: Option<T>,
    source: &Option<String>,
    date: Option<chrono::NaiveDate>,
) -> Option<Disclosure<T>> {
    Some(Disclosure {
        value: value?,
        source: source.clone()?,
        date: date?,
    })
}

pub(crate) fn summarise_place(row: place::Model) -> Result<PlaceSummary, AppError> {
    let kind = PlaceKind::parse(&row.kind).ok_or_else(|| {
        tracing::error!(place.id = row.id, kind = %row.kind, "place has an unknown kind");
        AppError::Internal
    })?;
    Ok(PlaceSummary {
        id: row.id,
        kind,
        name: row.name,
        address: row.address,
        district: row.district,
        latitude: row.latitude,
        longitude: row.longitude,
        is_demo: row.is_demo,
    })
}

pub(crate) fn summarise_session(row: care_session::Model) -> Result<SessionSummary, AppError> {
    let kind = SessionKind::parse(&row.kind).ok_or_else(|| {
        tracing::error!(session.id = row.id, kind = %row.kind, "session has an unknown kind");
        AppError::Internal
    })?;
    // The schema's check constraints keep these non-negative.
    let non_negative = |value: i32| u32::try_from(value).unwrap_or(0);
    let capacity = non_negative(row.capacity);
    Ok(SessionSummary {
        id: row.id,
        kind,
        title: row.title,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        capacity,
        places_left: capacity.saturating_sub(non_negative(row.booked)),
        min_age_months: non_negative(row.min_age_months),
        max_age_months: non_negative(row.max_age_months),
        price_fen: non_negative(row.price_fen),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_query_rejects_out_of_range_limits() {
        let cases = [
            (Some(0), false, "zero"),
            (Some(1), true, "smallest"),
            (Some(MAX_PAGE_SIZE), true, "largest"),
            (Some(MAX_PAGE_SIZE + 1), false, "above the maximum"),
            (None, true, "default"),
        ];
        for (limit, accepted, case) in cases {
            assert_eq!(PlaceListQuery::new(limit, None).is_ok(), accepted, "{case}");
        }
    }

    #[test]
    fn list_query_rejects_offset_beyond_i64() {
        assert!(PlaceListQuery::new(None, Some(u64::MAX)).is_err());
    }
}
