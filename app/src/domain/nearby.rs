//! Nearby search: places around a start point, nearest first, with a
//! walking-time estimate and each place's next session that has places left.
//!
//! Requests search an in-memory snapshot of places and sessions
//! ([`SearchIndex`], in `index.rs` and `snapshot.rs`). [`search_nearby`]
//! searches the database itself and is the reference the snapshot is
//! tested against: it reads places in rings around the start point,
//! nearest first (see `candidates`), computes the exact haversine distance
//! of each, and then looks up next sessions for the nearest places, a
//! chunk at a time, until it has enough results.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};

use crate::domain::family::{age_in_months, child_access};
use crate::domain::places::{place_fee, place_services, summarise_place, summarise_session};
use crate::entity::{care_session, child, place, street};
use crate::error::AppError;
use crate::geo::GeoPoint;
use crate::model::{
    Fee, NearbyParams, NearbyPlace, NearbyResults, NextSession, Origin, OriginKind, Service,
};
use crate::time::{SHANGHAI, local_date};

mod candidates;
mod index;
mod snapshot;

use candidates::{Candidate, Candidates};
pub use index::{
    CHANGE_OVERLAP, FULL_RELOAD_INTERVAL, MAX_SNAPSHOT_AGE, REFRESH_INTERVAL, SearchIndex,
};

/// Search radius when the caller names none, in metres.
pub const DEFAULT_RADIUS_M: u32 = crate::model::DEFAULT_SEARCH_RADIUS_M;
/// Smallest radius accepted, in metres.
pub const MIN_RADIUS_M: u32 = 100;
/// Largest radius accepted, in metres: about the width of Nanjing's main
/// urban area, and it keeps the bounding box to a few thousand places.
pub const MAX_RADIUS_M: u32 = 20_000;
/// Number of results when the caller names none.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest number of results a caller may ask for.
pub const MAX_LIMIT: u32 = 50;
/// Maximum length of a typed street, community or place name, in characters.
pub const MAX_QUERY_CHARS: usize = 50;
/// Oldest age accepted in the age filter, in months: the service is for
/// children under three, with room for older siblings.
pub const MAX_AGE_MONTHS: u32 = 84;
/// Maximum length of a date range, in days.
pub const MAX_DATE_SPAN_DAYS: u64 = 31;
/// How far ahead a search looks for a next session when it names no dates.
pub const SESSION_HORIZON_DAYS: u64 = 30;
/// How far ahead a date range may start, in days.
const MAX_DAYS_AHEAD: u64 = 366;

/// Walking speed for the estimate: 4.5 km/h, a relaxed adult pace with a
/// small child, in metres per minute.
const WALKING_M_PER_MINUTE: u64 = 75;
/// Ratio of the walked route to the straight line in tenths, so 13 is 1.3,
/// because street grids make a walk longer than the haversine distance.
/// 1.3 is an assumed value for city streets, not a measurement of Nanjing's.
/// Integer tenths keep the minutes exact: 1500 m is 26 minutes, not 27.
const DETOUR_TENTHS: u64 = 13;
/// Walking minutes of the 15-minute childcare service circle.
pub const SERVICE_CIRCLE_MINUTES: u32 = 15;
/// Metres per degree of latitude on the sphere that `GeoPoint::distance_m` uses.
const METRES_PER_DEGREE: f64 = 111_195.0;
/// Most places whose next sessions one query looks up. The first query
/// covers just `limit` places, which is enough unless filters drop some;
/// each later one covers twice as many, up to this.
const MAX_SESSION_CHUNK: usize = 256;

/// Returns the estimated walking time for a straight-line distance in
/// whole metres, in whole minutes rounded up and at least 1. The walk is
/// the distance times [`DETOUR_TENTHS`] / 10 at [`WALKING_M_PER_MINUTE`].
pub fn walking_minutes(distance_m: u32) -> u32 {
    let walked_tenths = u64::from(distance_m) * DETOUR_TENTHS;
    let minutes = std::cmp::max(walked_tenths.div_ceil(WALKING_M_PER_MINUTE * 10), 1);
    u32::try_from(minutes).unwrap_or(u32::MAX)
}

/// Returns whether a walk of `minutes` is inside the 15-minute circle.
pub fn within_service_circle(minutes: u32) -> bool {
    minutes <= SERVICE_CIRCLE_MINUTES
}

/// A child's age for eligibility: a fixed number of months as typed, or a
/// birth date that gives the age on each session's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildAge {
    Months(u32),
    BornOn(NaiveDate),
}

impl ChildAge {
    /// Returns the age in whole months on `date`, or `None` before birth.
    pub fn months_on(self, date: NaiveDate) -> Option<u32> {
        match self {
            Self::Months(months) => Some(months),
            Self::BornOn(birth) => age_in_months(birth, date),
        }
    }

    /// Returns whether the child is within `min..=max` months on `date`.
    pub fn fits_on(self, date: NaiveDate, min: u32, max: u32) -> bool {
        self.months_on(date)
            .is_some_and(|age| (min..=max).contains(&age))
    }
}

/// Start point of a search, before a typed name is looked up.
#[derive(Debug, Clone, PartialEq)]
enum Start {
    Point(GeoPoint),
    Name(String),
}

/// The age filter as requested: typed months or one of the family's children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AgeInput {
    Months(u32),
    Child(i64),
}

/// A nearby search whose parameters passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbySearch {
    start: Start,
    radius_m: u32,
    age: Option<AgeInput>,
    /// First and last date in Nanjing, both inclusive.
    dates: Option<(NaiveDate, NaiveDate)>,
    service: Option<Service>,
    public_benefit_only: bool,
    free_only: bool,
    places_left_only: bool,
    limit: u32,
}

/// Returns the trimmed value, or `None` when absent or blank.
fn present(value: &Option<String>) -> Option<&str> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

fn parse_number<T: std::str::FromStr>(
    params: &Option<String>,
    field: &str,
    expected: &str,
) -> Result<Option<T>, AppError> {
    present(params)
        .map(|text| {
            text.parse::<T>()
                .map_err(|_| AppError::invalid_query(field, format!("must be {expected}")))
        })
        .transpose()
}

fn parse_flag(value: &Option<String>, field: &str) -> Result<bool, AppError> {
    match present(value) {
        None | Some("false" | "0" | "off") => Ok(false),
        Some("true" | "1" | "on") => Ok(true),
        Some(_) => Err(AppError::invalid_query(field, "must be true or false")),
    }
}

fn parse_date(value: &Option<String>, field: &str) -> Result<Option<NaiveDate>, AppError> {
    present(value)
        .map(|text| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| AppError::invalid_query(field, "must be a date written YYYY-MM-DD"))
        })
        .transpose()
}

impl NearbySearch {
    /// Checks and parses the raw parameters. `today` is the date in Nanjing.
    ///
    /// A typed name wins over coordinates, so that a person who typed a
    /// new name after sharing their location searches from that name.
    pub fn parse(params: &NearbyParams, today: NaiveDate) -> Result<Self, AppError> {
        let start = parse_start(params)?;

        let radius_m = parse_number::<u32>(&params.radius, "radius", "a whole number of metres")?
            .unwrap_or(DEFAULT_RADIUS_M);
        if !(MIN_RADIUS_M..=MAX_RADIUS_M).contains(&radius_m) {
            return Err(AppError::invalid_query(
                "radius",
                format!("must be from {MIN_RADIUS_M} to {MAX_RADIUS_M} metres"),
            ));
        }

        let months = parse_number::<u32>(&params.age, "age", "a whole number of months")?;
        if months.is_some_and(|months| months > MAX_AGE_MONTHS) {
            return Err(AppError::invalid_query(
                "age",
                format!("must be from 0 to {MAX_AGE_MONTHS} months"),
            ));
        }
        let child = parse_number::<i64>(&params.child, "child", "a child id")?;
        // A chosen child wins over a typed age: the birth date is exact.
        let age = match (child, months) {
            (Some(id), _) if id > 0 => Some(AgeInput::Child(id)),
            (Some(_), _) => return Err(AppError::invalid_query("child", "must be a child id")),
            (None, Some(months)) => Some(AgeInput::Months(months)),
            (None, None) => None,
        };

        let service = present(&params.service)
            .map(|name| {
                Service::parse(name).ok_or_else(|| {
                    AppError::invalid_query(
                        "service",
                        "must be hourly_care, parent_child_activity, toddler_class or full_day",
                    )
                })
            })
            .transpose()?;

        let limit =
            parse_number::<u32>(&params.limit, "limit", "a whole number")?.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(AppError::invalid_query(
                "limit",
                format!("must be from 1 to {MAX_LIMIT}"),
            ));
        }

        Ok(Self {
            start,
            radius_m,
            age,
            dates: parse_dates(params, today)?,
            service,
            public_benefit_only: parse_flag(&params.public_benefit, "public_benefit")?,
            free_only: parse_flag(&params.free, "free")?,
            places_left_only: parse_flag(&params.places_left, "places_left")?,
            limit,
        })
    }
}

fn parse_start(params: &NearbyParams) -> Result<Start, AppError> {
    if let Some(name) = present(&params.q) {
        // Malformed percent-encoding reaches here as U+FFFD.
        if name
            .chars()
            .any(|ch| ch.is_control() || ch == char::REPLACEMENT_CHARACTER)
        {
            return Err(AppError::invalid_query(
                "q",
                "contains characters that are not text; check its percent-encoding",
            ));
        }
        if name.chars().count() > MAX_QUERY_CHARS {
            return Err(AppError::invalid_query(
                "q",
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        return Ok(Start::Name(name.to_owned()));
    }
    let latitude = parse_number::<f64>(&params.lat, "lat", "a latitude in degrees")?;
    let longitude = parse_number::<f64>(&params.lon, "lon", "a longitude in degrees")?;
    match (latitude, longitude) {
        (Some(latitude), Some(longitude)) => GeoPoint::new(latitude, longitude)
            .map(Start::Point)
            .map_err(|error| {
                let field = match error {
                    crate::geo::GeoPointError::Latitude => "lat",
                    crate::geo::GeoPointError::Longitude => "lon",
                };
                AppError::invalid_query(field, error.to_string())
            }),
        (Some(_), None) => Err(AppError::invalid_query("lon", "is missing")),
        (None, Some(_)) => Err(AppError::invalid_query("lat", "is missing")),
        (None, None) => Err(AppError::invalid_query(
            "q",
            "give a street, community or place name, or lat and lon",
        )),
    }
}

/// Parses the date range. With `from` alone it looks
/// [`SESSION_HORIZON_DAYS`] ahead, and with `to` alone it starts today. A
/// range that began in the past starts today.
fn parse_dates(
    params: &NearbyParams,
    today: NaiveDate,
) -> Result<Option<(NaiveDate, NaiveDate)>, AppError> {
    let from = parse_date(&params.from, "from")?;
    let to = parse_date(&params.to, "to")?;
    let (from, to) = match (from, to) {
        (None, None) => return Ok(None),
        (Some(from), None) => (
            from,
            from.checked_add_days(Days::new(SESSION_HORIZON_DAYS))
                .unwrap_or(from),
        ),
        (None, Some(to)) => (today, to),
        (Some(from), Some(to)) => (from, to),
    };
    if to < from {
        return Err(AppError::invalid_query("to", "must not be before from"));
    }
    if to < today {
        return Err(AppError::invalid_query("to", "must not be in the past"));
    }
    let latest_start = today.checked_add_days(Days::new(MAX_DAYS_AHEAD));
    if latest_start.is_none_or(|latest| from > latest) {
        return Err(AppError::invalid_query(
            "from",
            format!("must be within {MAX_DAYS_AHEAD} days from today"),
        ));
    }
    let from = std::cmp::max(from, today);
    if to.signed_duration_since(from).num_days() > MAX_DATE_SPAN_DAYS as i64 {
        return Err(AppError::invalid_query(
            "to",
            format!("must be at most {MAX_DATE_SPAN_DAYS} days after from"),
        ));
    }
    Ok(Some((from, to)))
}

/// Searches places around the start point, nearest first, reading the
/// database. This is the reference implementation: the doors search the
/// in-memory snapshot (`SearchIndex`), and a property test checks that it
/// returns the same results as this function.
///
/// `viewer` is the signed-in account, needed only to search for one of the
/// family's children. A child that the account may not act for is
/// `NotFound`, as everywhere else. A typed name that matches no street or
/// place gives an empty result without an origin.
pub async fn search_nearby(
    db: &impl ConnectionTrait,
    params: &NearbyParams,
    viewer: Option<i64>,
    now: DateTime<Utc>,
) -> Result<NearbyResults, AppError> {
    let (search, age) = prepare(db, params, viewer, now).await?;
    let origin = match &search.start {
        Start::Point(point) => Some(point_origin(*point)),
        Start::Name(name) => resolve_name(db, name).await?,
    };
    let Some(origin) = origin else {
        return Ok(no_origin(&search));
    };

    let centre = origin_point(&origin);
    let candidates = Candidates::new(&search, age, centre, local_date(now));
    let window = session_window(&search, now);
    let items = pick_results(db, &search, age, window, candidates).await?;
    Ok(NearbyResults {
        origin: Some(origin),
        radius_m: search.radius_m,
        items,
    })
}

/// Parses the parameters and resolves the age filter. A family child's
/// birth date comes from the database, after the access check.
async fn prepare(
    db: &impl ConnectionTrait,
    params: &NearbyParams,
    viewer: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(NearbySearch, Option<ChildAge>), AppError> {
    let search = NearbySearch::parse(params, local_date(now))?;
    let age = match search.age {
        None => None,
        Some(AgeInput::Months(months)) => Some(ChildAge::Months(months)),
        Some(AgeInput::Child(child_id)) => {
            let account = viewer.ok_or(AppError::Unauthenticated)?;
            Some(ChildAge::BornOn(
                birth_date_of(db, account, child_id).await?,
            ))
        }
    };
    Ok((search, age))
}

fn point_origin(point: GeoPoint) -> Origin {
    Origin {
        kind: OriginKind::Coordinates,
        label: None,
        latitude: point.latitude,
        longitude: point.longitude,
    }
}

fn origin_point(origin: &Origin) -> GeoPoint {
    GeoPoint {
        latitude: origin.latitude,
        longitude: origin.longitude,
    }
}

/// The result of a search whose typed name matched nothing.
fn no_origin(search: &NearbySearch) -> NearbyResults {
    NearbyResults {
        origin: None,
        radius_m: search.radius_m,
        items: Vec::new(),
    }
}

/// What the place-level filters read of a place.
#[derive(Debug, Clone, PartialEq)]
struct PlaceFacts {
    /// The disclosed age range in months, as stored; both or neither.
    min_age_months: Option<i32>,
    max_age_months: Option<i32>,
    offers_hourly_care: bool,
    offers_parent_child_activity: bool,
    offers_toddler_class: bool,
    offers_full_day: bool,
    fee: Option<Fee>,
}

impl PlaceFacts {
    fn offers(&self, service: Service) -> bool {
        match service {
            Service::HourlyCare => self.offers_hourly_care,
            Service::ParentChildActivity => self.offers_parent_child_activity,
            Service::ToddlerClass => self.offers_toddler_class,
            Service::FullDay => self.offers_full_day,
        }
    }
}

/// Applies the place-level filters. Returns `None` when the place is out,
/// or whether it still needs a matching next session to qualify.
///
/// A place that discloses an age range must take the child today; one that
/// does not is judged by its sessions. A service or free-only filter is met
/// by what the place declares, or else by a matching session. The
/// public-benefit filter is left to the caller.
fn place_needs_session(
    place: &PlaceFacts,
    search: &NearbySearch,
    age: Option<ChildAge>,
    today: NaiveDate,
) -> Option<bool> {
    if let (Some(age), Some(min), Some(max)) = (age, place.min_age_months, place.max_age_months) {
        let (Ok(min), Ok(max)) = (u32::try_from(min), u32::try_from(max)) else {
            return None;
        };
        if !age.fits_on(today, min, max) {
            return None;
        }
    }
    let mut needs_session = search.places_left_only || search.dates.is_some();
    if let Some(service) = search.service
        && !place.offers(service)
    {
        // Toddler classes and full-day places are never sessions, so only
        // the place's own declaration counts for them.
        service.session_kind()?;
        needs_session = true;
    }
    if search.free_only && place.fee != Some(Fee::Free) {
        needs_session = true;
    }
    Some(needs_session)
}

/// Returns the birth date of a child that `account_id` may act for.
async fn birth_date_of(
    db: &impl ConnectionTrait,
    account_id: i64,
    child_id: i64,
) -> Result<NaiveDate, AppError> {
    child_access(db, account_id, child_id).await?;
    child::Entity::find_by_id(child_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .map(|row| row.birth_date)
        .ok_or(AppError::NotFound)
}

/// Escapes `%`, `_` and the escape character itself for a LIKE pattern.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    escaped
}

/// Looks a typed name up: first streets and towns with a known seat, then
/// places. Among matches the shortest name wins, so an exact match comes
/// first and 湖南路 finds 湖南路街道.
// NOTE: the place lookup is a substring match (LIKE '%…%'), which no
// B-tree index serves; it scans the name index on SQLite and the place
// table on PostgreSQL.
async fn resolve_name(db: &impl ConnectionTrait, name: &str) -> Result<Option<Origin>, AppError> {
    let pattern = || LikeExpr::new(format!("%{}%", escape_like(name))).escape('\\');

    let found_street = street::Entity::find()
        .filter(street::Column::Name.like(pattern()))
        .filter(street::Column::Latitude.is_not_null())
        .filter(street::Column::Longitude.is_not_null())
        .order_by(Expr::cust("LENGTH(name)"), Order::Asc)
        .order_by_asc(street::Column::McaCode)
        .one(db)
        .await
        .map_err(AppError::from_db)?;
    if let Some(found) = found_street
        && let (Some(latitude), Some(longitude)) = (found.latitude, found.longitude)
    {
        return Ok(Some(Origin {
            kind: OriginKind::Street,
            label: Some(found.name),
            latitude,
            longitude,
        }));
    }

    // The id alone first: SQLite then scans the name index, which contains
    // the name and the id, instead of the whole table.
    let found_id = place::Entity::find()
        .select_only()
        .column(place::Column::Id)
        .filter(place::Column::Name.like(pattern()))
        .order_by(Expr::cust("LENGTH(name)"), Order::Asc)
        .order_by_asc(place::Column::Id)
        .into_tuple::<i64>()
        .one(db)
        .await
        .map_err(AppError::from_db)?;
    let Some(id) = found_id else {
        return Ok(None);
    };
    let found_place = place::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(found_place.map(|found| Origin {
        kind: OriginKind::Place,
        label: Some(found.name),
        latitude: found.latitude,
        longitude: found.longitude,
    }))
}

/// The instants between which a next session may start.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

fn local_midnight(date: NaiveDate) -> Option<DateTime<Utc>> {
    SHANGHAI
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .map(|local| local.with_timezone(&Utc))
}

fn session_window(search: &NearbySearch, now: DateTime<Utc>) -> Window {
    let horizon = now + chrono::Duration::days(SESSION_HORIZON_DAYS as i64);
    match search.dates {
        None => Window {
            start: now,
            end: horizon,
        },
        Some((from, to)) => Window {
            start: local_midnight(from).map_or(now, |start| std::cmp::max(start, now)),
            end: to.succ_opt().and_then(local_midnight).unwrap_or(horizon),
        },
    }
}

/// Walks the candidates nearest first, a chunk at a time, and keeps those
/// that qualify with their next session until it has `limit`. Then it loads
/// the whole rows of the places kept.
async fn pick_results(
    db: &impl ConnectionTrait,
    search: &NearbySearch,
    age: Option<ChildAge>,
    window: Window,
    mut candidates: Candidates<'_>,
) -> Result<Vec<NearbyPlace>, AppError> {
    let limit = search.limit as usize;
    let mut kept: Vec<(Candidate, Option<care_session::Model>)> = Vec::with_capacity(limit);
    let mut chunk_size = limit;
    while kept.len() < limit {
        let chunk = candidates.next(db, chunk_size).await?;
        if chunk.is_empty() {
            break;
        }
        chunk_size = (chunk_size * 2).min(MAX_SESSION_CHUNK);
        let ids: Vec<i64> = chunk.iter().map(|candidate| candidate.id).collect();
        let mut sessions = next_sessions(db, search, age, window, ids).await?;
        for candidate in chunk {
            let next = sessions.remove(&candidate.id);
            if candidate.needs_session && next.is_none() {
                continue;
            }
            kept.push((candidate, next));
            if kept.len() == limit {
                break;
            }
        }
    }

    let ids: Vec<i64> = kept.iter().map(|(candidate, _)| candidate.id).collect();
    let mut rows: std::collections::HashMap<i64, place::Model> = place::Entity::find()
        .filter(place::Column::Id.is_in(ids))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let mut results = Vec::with_capacity(kept.len());
    for (candidate, next) in kept {
        // A place deleted since the first query is left out.
        if let Some(row) = rows.remove(&candidate.id) {
            results.push(nearby_place(row, candidate.distance_m, next)?);
        }
    }
    Ok(results)
}

/// Returns, for each of `place_ids`, its earliest session in `window` that
/// has places left and matches the filters.
///
/// The database picks each place's earliest matching session, so one row
/// per place comes back. A child's birth date is the exception: whether the
/// child fits a session's ages then depends on the session's date, which is
/// checked here, so every matching session comes back in date order.
async fn next_sessions(
    db: &impl ConnectionTrait,
    search: &NearbySearch,
    age: Option<ChildAge>,
    window: Window,
    place_ids: Vec<i64>,
) -> Result<std::collections::HashMap<i64, care_session::Model>, AppError> {
    use care_session::Column;

    let mut query = care_session::Entity::find()
        .filter(Column::StartsAt.gte(window.start))
        .filter(Column::StartsAt.lt(window.end))
        .filter(Expr::col(Column::Booked).lt(Expr::col(Column::Capacity)));
    if let Some(kind) = search.service.and_then(Service::session_kind) {
        query = query.filter(Column::Kind.eq(kind.as_str()));
    }
    if search.free_only {
        query = query.filter(Column::PriceFen.eq(0));
    }
    if let Some(age) = age {
        // A child's age grows during the window: the youngest age bounds
        // the sessions' oldest age, and the oldest bounds the youngest.
        let youngest = age.months_on(local_date(window.start)).unwrap_or(0);
        let oldest = age.months_on(local_date(window.end)).unwrap_or(0);
        query = query
            .filter(Column::MaxAgeMonths.gte(i64::from(youngest)))
            .filter(Column::MinAgeMonths.lte(i64::from(oldest)));
    }
    let rows = if matches!(age, Some(ChildAge::BornOn(_))) {
        query
            .filter(Column::PlaceId.is_in(place_ids))
            .order_by_asc(Column::PlaceId)
            .order_by_asc(Column::StartsAt)
            .order_by_asc(Column::Id)
            .all(db)
            .await
    } else {
        first_per_place(db, query, place_ids).await
    }
    .map_err(AppError::from_db)?;

    let mut next = std::collections::HashMap::new();
    for row in rows {
        if next.contains_key(&row.place_id) {
            continue;
        }
        if let Some(age) = age {
            let (Ok(min), Ok(max)) = (
                u32::try_from(row.min_age_months),
                u32::try_from(row.max_age_months),
            ) else {
                continue;
            };
            if !age.fits_on(local_date(row.starts_at), min, max) {
                continue;
            }
        }
        next.insert(row.place_id, row);
    }
    Ok(next)
}

/// Runs a query for sessions and returns only each place's first row by
/// start. A subquery per place walks `idx_care_session_place_starts` in
/// date order and stops at the first session that passes the filters.
///
/// The ids come first and the rows by primary key after. As one query
/// (`id IN (…)`), PostgreSQL 15 planned a hash join over every session for
/// a few hundred places, which took 86 ms on the benchmark's data.
async fn first_per_place(
    db: &impl ConnectionTrait,
    query: sea_orm::Select<care_session::Entity>,
    place_ids: Vec<i64>,
) -> Result<Vec<care_session::Model>, sea_orm::DbErr> {
    use care_session::Column;
    use sea_orm::sea_query::Query;

    // Inside the subquery `care_session` is its own table, and `place` is
    // the row of the query around it.
    let first = query
        .select_only()
        .column(Column::Id)
        .filter(
            Expr::col((care_session::Entity, Column::PlaceId))
                .equals((place::Entity, place::Column::Id)),
        )
        .order_by_asc(Column::StartsAt)
        .order_by_asc(Column::Id)
        .limit(1)
        .into_query();
    let per_place = Query::select()
        .expr_as(Expr::SubQuery(None, Box::new(first.into())), "session_id")
        .from(place::Entity)
        .and_where(Expr::col((place::Entity, place::Column::Id)).is_in(place_ids))
        .to_owned();
    let mut session_ids = Vec::new();
    for row in db.query_all(&per_place).await? {
        if let Some(id) = row.try_get::<Option<i64>>("", "session_id")? {
            session_ids.push(id);
        }
    }
    if session_ids.is_empty() {
        return Ok(Vec::new());
    }
    care_session::Entity::find()
        .filter(Column::Id.is_in(session_ids))
        .all(db)
        .await
}

fn nearby_place(
    row: place::Model,
    distance_m: f64,
    next: Option<care_session::Model>,
) -> Result<NearbyPlace, AppError> {
    // Whole metres, as shown, so the minutes agree with the distance shown.
    // The radius limit keeps the distance far below u32::MAX.
    let distance_m = distance_m.round() as u32;
    let minutes = walking_minutes(distance_m);
    let public_benefit = row.public_benefit == Some(true);
    let services = place_services(&row);
    let fee = place_fee(&row);
    let next_session = next
        .map(|session| {
            let updated_at = session.updated_at;
            summarise_session(session).map(|session| NextSession {
                session,
                updated_at,
            })
        })
        .transpose()?;
    Ok(NearbyPlace {
        place: summarise_place(row)?,
        distance_m,
        walking_minutes: minutes,
        within_service_circle: within_service_circle(minutes),
        public_benefit,
        services,
        fee,
        next_session,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
    }

    fn params(pairs: &[(&str, &str)]) -> NearbyParams {
        let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
        serde_urlencoded::from_str(&query).unwrap_or_default()
    }

    fn rejected_field(pairs: &[(&str, &str)]) -> Option<String> {
        match NearbySearch::parse(&params(pairs), date("2026-12-05")) {
            Err(AppError::InvalidQuery { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn walking_minutes_round_up_with_detour() {
        let cases = [
            (0, 1, "a place at the door still takes a minute"),
            (75, 2, "75 m straight is 97.5 m walked"),
            (865, 15, "865 m is the edge of the circle"),
            (866, 16, "one metre more is outside"),
            (1_500, 26, "1.5 km is exactly 26 minutes"),
            (3_000, 52, "3 km"),
            (u32::MAX, 74_446_100, "no overflow"),
        ];
        for (distance, minutes, case) in cases {
            assert_eq!(walking_minutes(distance), minutes, "{case}");
        }
    }

    #[test]
    fn service_circle_badge_at_fifteen_minutes() {
        assert!(within_service_circle(walking_minutes(865)));
        assert!(!within_service_circle(walking_minutes(866)));
        assert!(within_service_circle(1));
        assert!(!within_service_circle(16));
    }

    #[test]
    fn born_child_turns_twelve_months_on_the_day() {
        let child = ChildAge::BornOn(date("2025-12-05"));
        assert!(!child.fits_on(date("2026-12-04"), 12, 36), "day before");
        assert!(child.fits_on(date("2026-12-05"), 12, 36), "first birthday");
    }

    #[test]
    fn age_range_bounds_are_inclusive() {
        let cases = [
            (11, false, "one month too young"),
            (12, true, "youngest accepted"),
            (36, true, "oldest accepted"),
            (37, false, "one month too old"),
        ];
        for (months, fits, case) in cases {
            assert_eq!(
                ChildAge::Months(months).fits_on(date("2026-12-05"), 12, 36),
                fits,
                "{case}"
            );
        }
    }

    #[test]
    fn month_end_birthday_ages_on_last_day() {
        // Born 31 January: a month passes on the last day of shorter months.
        let child = ChildAge::BornOn(date("2026-01-31"));
        let cases = [
            ("2026-02-27", 0),
            ("2026-02-28", 1),
            ("2026-03-30", 1),
            ("2026-03-31", 2),
            ("2026-04-30", 3),
        ];
        for (day, months) in cases {
            assert_eq!(child.months_on(date(day)), Some(months), "on {day}");
        }
        assert!(
            child.fits_on(date("2026-02-28"), 1, 3),
            "one month on 28 Feb"
        );
        assert!(
            !child.fits_on(date("2026-02-27"), 1, 3),
            "not yet on 27 Feb"
        );
    }

    #[test]
    fn child_before_birth_fits_nothing() {
        let child = ChildAge::BornOn(date("2026-12-05"));
        assert!(!child.fits_on(date("2026-12-04"), 0, 36));
    }

    #[test]
    fn bad_parameters_name_their_field() {
        let cases: [(&[(&str, &str)], &str); 17] = [
            (&[], "q"),
            (&[("lat", "NaN"), ("lon", "118.7")], "lat"),
            (&[("lat", "inf"), ("lon", "118.7")], "lat"),
            (&[("lat", "91"), ("lon", "118.7")], "lat"),
            (&[("lat", "32"), ("lon", "-181")], "lon"),
            (&[("lat", "abc"), ("lon", "118.7")], "lat"),
            (&[("lat", "32")], "lon"),
            (&[("q", "湖南路"), ("radius", "1000000")], "radius"),
            (&[("q", "湖南路"), ("radius", "-5")], "radius"),
            (&[("q", "湖南路"), ("age", "85")], "age"),
            (&[("q", "湖南路"), ("service", "massage")], "service"),
            (&[("q", "湖南路"), ("free", "yes please")], "free"),
            (
                &[
                    ("q", "湖南路"),
                    ("from", "2026-12-10"),
                    ("to", "2026-12-09"),
                ],
                "to",
            ),
            (
                &[
                    ("q", "湖南路"),
                    ("from", "2026-12-05"),
                    ("to", "2027-02-01"),
                ],
                "to",
            ),
            (&[("q", "湖南路"), ("to", "2026-12-01")], "to"),
            (&[("q", "湖南路"), ("from", "12/05/2026")], "from"),
            (&[("q", "湖南路"), ("limit", "0")], "limit"),
        ];
        for (pairs, field) in cases {
            assert_eq!(rejected_field(pairs).as_deref(), Some(field), "{pairs:?}");
        }
    }

    #[test]
    fn query_text_is_checked() {
        let long = "街".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(rejected_field(&[("q", &long)]).as_deref(), Some("q"));
        assert_eq!(
            rejected_field(&[("q", "湖南\u{FFFD}路")]).as_deref(),
            Some("q")
        );
        assert_eq!(
            rejected_field(&[("q", "湖南\u{7}路")]).as_deref(),
            Some("q")
        );
        let longest = "街".repeat(MAX_QUERY_CHARS);
        assert_eq!(rejected_field(&[("q", &longest)]), None);
    }

    #[test]
    fn typed_name_wins_over_coordinates() {
        let parsed = NearbySearch::parse(
            &params(&[("q", " 湖南路 "), ("lat", "32.0"), ("lon", "118.7")]),
            date("2026-12-05"),
        );
        assert_eq!(
            parsed.map(|search| search.start).ok(),
            Some(Start::Name("湖南路".to_owned()))
        );
    }

    #[test]
    fn blank_fields_count_as_absent() {
        let parsed = NearbySearch::parse(
            &params(&[
                ("q", ""),
                ("lat", "32.06"),
                ("lon", "118.77"),
                ("age", ""),
                ("from", ""),
                ("service", ""),
            ]),
            date("2026-12-05"),
        );
        let Ok(search) = parsed else {
            panic!("blank fields are accepted: {parsed:?}");
        };
        assert_eq!(search.age, None);
        assert_eq!(search.dates, None);
        assert_eq!(search.radius_m, DEFAULT_RADIUS_M);
    }

    #[test]
    fn dates_in_the_past_start_today() {
        let parsed = NearbySearch::parse(
            &params(&[
                ("q", "湖南路"),
                ("from", "2026-12-01"),
                ("to", "2026-12-07"),
            ]),
            date("2026-12-05"),
        );
        assert_eq!(
            parsed.map(|search| search.dates).ok(),
            Some(Some((date("2026-12-05"), date("2026-12-07"))))
        );
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(escape_like("100%_a\\b"), "100\\%\\_a\\\\b");
    }
}
