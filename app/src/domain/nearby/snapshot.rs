//! A read-only, in-memory copy of what nearby search reads: every place's
//! point, filters and names, its upcoming sessions, and the streets and
//! towns with a seat, with a grid of cells for nearest-first reads.
//!
//! A snapshot never changes once built. `SearchIndex` (in `index.rs`)
//! builds a new one from the database, or from an older one and the rows
//! changed since, and swaps it in whole.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::FromQueryResult;

use super::candidates::{FIRST_REACH_M, bounding_box};
use super::{
    ChildAge, NearbySearch, PlaceFacts, Window, origin_point, place_needs_session, walking_minutes,
    within_service_circle,
};
use crate::domain::places::fee_from_columns;
use crate::error::AppError;
use crate::geo::GeoPoint;
use crate::model::{
    NearbyPlace, NearbyResults, NextSession, Origin, OriginKind, PlaceKind, PlaceSummary, Service,
    SessionKind, SessionSummary,
};
use crate::time::local_date;

/// Side of a grid cell in degrees of latitude and of longitude: about
/// 1.1 km north to south and 0.9 km east to west in Nanjing, so the first
/// 1 km ring reads about nine cells.
const CELL_DEGREES: f64 = 0.01;

/// A grid cell: latitude and longitude divided by [`CELL_DEGREES`], rounded down.
type Cell = (i32, i32);

fn cell_of(latitude: f64, longitude: f64) -> Cell {
    // Valid coordinates divided by 0.01 stay far inside i32.
    (
        (latitude / CELL_DEGREES).floor() as i32,
        (longitude / CELL_DEGREES).floor() as i32,
    )
}

/// The columns of `place` that the snapshot keeps.
#[derive(Debug, Clone, FromQueryResult)]
pub(super) struct PlaceRow {
    pub(super) id: i64,
    pub(super) kind: String,
    pub(super) name: String,
    pub(super) address: String,
    pub(super) district: Option<String>,
    pub(super) latitude: f64,
    pub(super) longitude: f64,
    pub(super) is_demo: bool,
    pub(super) min_age_months: Option<i32>,
    pub(super) max_age_months: Option<i32>,
    pub(super) offers_hourly_care: bool,
    pub(super) offers_parent_child_activity: bool,
    pub(super) offers_toddler_class: bool,
    pub(super) offers_full_day: bool,
    pub(super) fee_kind: Option<String>,
    pub(super) fee_fen: Option<i32>,
    pub(super) public_benefit: Option<bool>,
}

/// The columns of `care_session` that the snapshot keeps.
#[derive(Debug, Clone, FromQueryResult)]
pub(super) struct SessionRow {
    pub(super) id: i64,
    pub(super) place_id: i64,
    pub(super) kind: String,
    pub(super) title: String,
    pub(super) starts_at: DateTime<Utc>,
    pub(super) ends_at: DateTime<Utc>,
    pub(super) capacity: i32,
    pub(super) booked: i32,
    pub(super) min_age_months: i32,
    pub(super) max_age_months: i32,
    pub(super) price_fen: i32,
    pub(super) updated_at: DateTime<Utc>,
}

/// The columns of `street` that the snapshot keeps.
#[derive(Debug, Clone, FromQueryResult)]
pub(super) struct StreetRow {
    pub(super) mca_code: String,
    pub(super) name: String,
    pub(super) latitude: Option<f64>,
    pub(super) longitude: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
struct PlaceEntry {
    id: i64,
    /// `None` for a kind this version does not know; a search that would
    /// show the place fails as the database search does.
    kind: Option<PlaceKind>,
    name: String,
    /// `name` with ASCII letters in lower case, for the typed-name match.
    folded_name: String,
    name_chars: usize,
    address: String,
    district: Option<String>,
    point: GeoPoint,
    is_demo: bool,
    facts: PlaceFacts,
    /// Whether the place is disclosed as public-benefit (普惠).
    public_benefit: bool,
    /// Upcoming sessions by start, then id.
    sessions: Vec<SessionEntry>,
}

impl PlaceEntry {
    fn from_row(row: PlaceRow, sessions: Vec<SessionEntry>) -> Self {
        Self {
            id: row.id,
            kind: PlaceKind::parse(&row.kind),
            folded_name: row.name.to_ascii_lowercase(),
            name_chars: row.name.chars().count(),
            name: row.name,
            address: row.address,
            district: row.district,
            point: GeoPoint {
                latitude: row.latitude,
                longitude: row.longitude,
            },
            is_demo: row.is_demo,
            facts: PlaceFacts {
                min_age_months: row.min_age_months,
                max_age_months: row.max_age_months,
                offers_hourly_care: row.offers_hourly_care,
                offers_parent_child_activity: row.offers_parent_child_activity,
                offers_toddler_class: row.offers_toddler_class,
                offers_full_day: row.offers_full_day,
                fee: fee_from_columns(row.fee_kind.as_deref(), row.fee_fen),
            },
            public_benefit: row.public_benefit == Some(true),
            sessions,
        }
    }

    /// Inserts or replaces a session, keeping the order by start and id.
    fn put_session(&mut self, session: SessionEntry) {
        self.sessions.retain(|kept| kept.id != session.id);
        let at = self
            .sessions
            .partition_point(|kept| (kept.starts_at, kept.id) < (session.starts_at, session.id));
        self.sessions.insert(at, session);
    }
}

#[derive(Debug, Clone, PartialEq)]
struct SessionEntry {
    id: i64,
    /// `None` for a kind this version does not know, as for places.
    kind: Option<SessionKind>,
    /// Shared between the sessions with the same title.
    title: Arc<str>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    capacity: i32,
    booked: i32,
    min_age_months: i32,
    max_age_months: i32,
    price_fen: i32,
    updated_at: DateTime<Utc>,
}

impl SessionEntry {
    fn from_row(row: SessionRow, title: Arc<str>) -> Self {
        Self {
            id: row.id,
            kind: SessionKind::parse(&row.kind),
            title,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            capacity: row.capacity,
            booked: row.booked,
            min_age_months: row.min_age_months,
            max_age_months: row.max_age_months,
            price_fen: row.price_fen,
            updated_at: row.updated_at,
        }
    }

    /// Converts the session as `summarise_session` converts a row.
    fn summary(&self) -> Result<NextSession, AppError> {
        let kind = self.kind.ok_or_else(|| {
            tracing::error!(session.id = self.id, "session has an unknown kind");
            AppError::Internal
        })?;
        // The schema's check constraints keep these non-negative.
        let non_negative = |value: i32| u32::try_from(value).unwrap_or(0);
        let capacity = non_negative(self.capacity);
        Ok(NextSession {
            session: SessionSummary {
                id: self.id,
                kind,
                title: self.title.to_string(),
                starts_at: self.starts_at,
                ends_at: self.ends_at,
                capacity,
                places_left: capacity.saturating_sub(non_negative(self.booked)),
                min_age_months: non_negative(self.min_age_months),
                max_age_months: non_negative(self.max_age_months),
                price_fen: non_negative(self.price_fen),
            },
            updated_at: self.updated_at,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
struct StreetEntry {
    mca_code: String,
    name: String,
    folded_name: String,
    name_chars: usize,
    seat: GeoPoint,
}

impl StreetEntry {
    /// Returns the street, or `None` when it has no seat to start from.
    fn from_row(row: StreetRow) -> Option<Self> {
        let (Some(latitude), Some(longitude)) = (row.latitude, row.longitude) else {
            return None;
        };
        Some(Self {
            folded_name: row.name.to_ascii_lowercase(),
            name_chars: row.name.chars().count(),
            mca_code: row.mca_code,
            name: row.name,
            seat: GeoPoint {
                latitude,
                longitude,
            },
        })
    }
}

/// Places, sessions and streets as nearby search reads them.
#[derive(Debug, Default)]
pub(super) struct Snapshot {
    /// Places by id.
    places: Vec<Arc<PlaceEntry>>,
    /// Indexes into `places` by the cell of the place's point.
    grid: HashMap<Cell, Vec<u32>>,
    /// Indexes into `places` in the order a typed name tries them: shortest
    /// name first, then by id.
    names: Vec<u32>,
    /// Streets and towns with a seat, shortest name first, then by code.
    streets: Vec<StreetEntry>,
}

impl Snapshot {
    /// Builds a snapshot from whole tables. Sessions of unknown places are
    /// left out.
    pub(super) fn build(
        places: Vec<PlaceRow>,
        sessions: Vec<SessionRow>,
        streets: Vec<StreetRow>,
    ) -> Self {
        let mut titles: HashMap<String, Arc<str>> = HashMap::new();
        let mut by_place: HashMap<i64, Vec<SessionEntry>> = HashMap::new();
        for row in sessions {
            let title = titles
                .entry(row.title.clone())
                .or_insert_with(|| Arc::from(row.title.as_str()))
                .clone();
            by_place
                .entry(row.place_id)
                .or_default()
                .push(SessionEntry::from_row(row, title));
        }
        let mut entries: Vec<Arc<PlaceEntry>> = places
            .into_iter()
            .map(|row| {
                let mut sessions = by_place.remove(&row.id).unwrap_or_default();
                sessions.sort_by_key(|session| (session.starts_at, session.id));
                Arc::new(PlaceEntry::from_row(row, sessions))
            })
            .collect();
        entries.sort_by_key(|place| place.id);
        let streets = streets
            .into_iter()
            .filter_map(StreetEntry::from_row)
            .collect();
        Self::index(entries, streets)
    }

    /// Builds the grid and the name orders over `places` (sorted by id).
    fn index(places: Vec<Arc<PlaceEntry>>, mut streets: Vec<StreetEntry>) -> Self {
        let mut grid: HashMap<Cell, Vec<u32>> = HashMap::new();
        for (index, place) in places.iter().enumerate() {
            let cell = cell_of(place.point.latitude, place.point.longitude);
            grid.entry(cell).or_default().push(index as u32);
        }
        let mut names: Vec<u32> = (0..places.len() as u32).collect();
        names.sort_by_key(|&index| {
            let place = &places[index as usize];
            (place.name_chars, place.id)
        });
        // Codes are digits, so byte order is every database's order.
        streets.sort_by(|a, b| (a.name_chars, &a.mca_code).cmp(&(b.name_chars, &b.mca_code)));
        Self {
            places,
            grid,
            names,
            streets,
        }
    }

    /// Returns the number of places and of sessions held.
    pub(super) fn counts(&self) -> (usize, usize) {
        let sessions = self.places.iter().map(|place| place.sessions.len()).sum();
        (self.places.len(), sessions)
    }

    /// Returns an estimate of the memory the snapshot holds, in bytes:
    /// its structures and the text they own, counted from their sizes and
    /// capacities, without the allocator's overhead. Titles shared between
    /// sessions count once per session.
    pub(super) fn estimated_bytes(&self) -> usize {
        use std::mem::size_of;

        let text = |text: &str| text.len();
        let places: usize = self
            .places
            .iter()
            .map(|place| {
                size_of::<Arc<PlaceEntry>>()
                    + size_of::<PlaceEntry>()
                    + text(&place.name)
                    + text(&place.folded_name)
                    + text(&place.address)
                    + place.district.as_deref().map_or(0, text)
                    + place.sessions.capacity() * size_of::<SessionEntry>()
            })
            .sum();
        let grid: usize = self
            .grid
            .values()
            .map(|indexes| size_of::<(Cell, Vec<u32>)>() + indexes.capacity() * size_of::<u32>())
            .sum();
        let streets: usize = self
            .streets
            .iter()
            .map(|street| {
                size_of::<StreetEntry>()
                    + text(&street.mca_code)
                    + text(&street.name)
                    + text(&street.folded_name)
            })
            .sum();
        places + grid + self.names.capacity() * size_of::<u32>() + streets
    }

    fn place(&self, id: i64) -> Option<&Arc<PlaceEntry>> {
        self.places
            .binary_search_by_key(&id, |place| place.id)
            .ok()
            .map(|index| &self.places[index])
    }

    /// Returns a snapshot with the rows changed since this one was built
    /// applied, or `None` when they change nothing. A session whose place
    /// is unknown is left out; the next refresh reads it again.
    pub(super) fn with_changes(
        &self,
        places: Vec<PlaceRow>,
        sessions: Vec<SessionRow>,
        streets: Vec<StreetRow>,
    ) -> Option<Self> {
        let mut changed: BTreeMap<i64, PlaceEntry> = BTreeMap::new();
        for row in places {
            let kept = self.place(row.id);
            let sessions = kept.map(|kept| kept.sessions.clone()).unwrap_or_default();
            let entry = PlaceEntry::from_row(row, sessions);
            if kept.is_none_or(|kept| **kept != entry) {
                changed.insert(entry.id, entry);
            }
        }
        for row in sessions {
            let place_id = row.place_id;
            let title: Arc<str> = Arc::from(row.title.as_str());
            let session = SessionEntry::from_row(row, title);
            let entry = match changed.get_mut(&place_id) {
                Some(entry) => entry,
                None => {
                    let Some(kept) = self.place(place_id) else {
                        continue;
                    };
                    if kept.sessions.contains(&session) {
                        continue;
                    }
                    changed.entry(place_id).or_insert((**kept).clone())
                }
            };
            entry.put_session(session);
        }

        let mut street_list = self.streets.clone();
        let mut streets_changed = false;
        for row in streets {
            let code = row.mca_code.clone();
            let entry = StreetEntry::from_row(row);
            let at = street_list.iter().position(|kept| kept.mca_code == code);
            if at.map(|at| &street_list[at]) == entry.as_ref() {
                continue;
            }
            streets_changed = true;
            if let Some(at) = at {
                street_list.remove(at);
            }
            street_list.extend(entry);
        }

        if changed.is_empty() && !streets_changed {
            return None;
        }
        let mut merged = Vec::with_capacity(self.places.len() + changed.len());
        let mut changed = changed.into_iter().peekable();
        for kept in &self.places {
            while let Some((id, _)) = changed.peek()
                && *id < kept.id
            {
                if let Some((_, entry)) = changed.next() {
                    merged.push(Arc::new(entry));
                }
            }
            match changed.next_if(|(id, _)| *id == kept.id) {
                Some((_, entry)) => merged.push(Arc::new(entry)),
                None => merged.push(Arc::clone(kept)),
            }
        }
        merged.extend(changed.map(|(_, entry)| Arc::new(entry)));
        Some(Self::index(merged, street_list))
    }

    /// Looks a typed name up as `resolve_name` does in the database: first
    /// streets and towns with a seat, then places, the shortest matching
    /// name first.
    // NOTE: ASCII letters match in either case, as SQLite's LIKE does;
    // PostgreSQL's LIKE in the database search tells them apart.
    fn resolve_name(&self, name: &str) -> Option<Origin> {
        let folded = name.to_ascii_lowercase();
        if let Some(street) = self
            .streets
            .iter()
            .find(|street| street.folded_name.contains(&folded))
        {
            return Some(Origin {
                kind: OriginKind::Street,
                label: Some(street.name.clone()),
                latitude: street.seat.latitude,
                longitude: street.seat.longitude,
            });
        }
        let place = self
            .names
            .iter()
            .map(|&index| &self.places[index as usize])
            .find(|place| place.folded_name.contains(&folded))?;
        Some(Origin {
            kind: OriginKind::Place,
            label: Some(place.name.clone()),
            latitude: place.point.latitude,
            longitude: place.point.longitude,
        })
    }

    /// Calls `visit` with the index of every place in the box around
    /// `centre` that contains the circle of `radius_m`, or of every place
    /// where that box would cross a pole or the antimeridian.
    fn for_each_near(&self, centre: GeoPoint, radius_m: f64, mut visit: impl FnMut(usize)) {
        let ((south, north), longitudes) = bounding_box(centre, radius_m);
        let Some((west, east)) = longitudes else {
            (0..self.places.len()).for_each(visit);
            return;
        };
        let (first, last) = (cell_of(south, west), cell_of(north, east));
        for row in first.0..=last.0 {
            for column in first.1..=last.1 {
                if let Some(indexes) = self.grid.get(&(row, column)) {
                    indexes.iter().for_each(|&index| visit(index as usize));
                }
            }
        }
    }

    /// Runs a parsed search on this snapshot; the same result as the
    /// database search at the same instant.
    pub(super) fn search(
        &self,
        search: &NearbySearch,
        age: Option<ChildAge>,
        now: DateTime<Utc>,
    ) -> Result<NearbyResults, AppError> {
        let origin = match &search.start {
            super::Start::Point(point) => Some(super::point_origin(*point)),
            super::Start::Name(name) => self.resolve_name(name),
        };
        let Some(origin) = origin else {
            return Ok(super::no_origin(search));
        };

        let centre = origin_point(&origin);
        let filter = SessionFilter::new(search, age, super::session_window(search, now));
        let mut rings = Rings::new(self, search, age, centre, local_date(now));
        let mut items = Vec::with_capacity(search.limit as usize);
        while items.len() < search.limit as usize {
            let Some(found) = rings.next() else {
                break;
            };
            let place = &self.places[found.index];
            let next = filter.next_session(&place.sessions);
            if found.needs_session && next.is_none() {
                continue;
            }
            items.push(nearby_place(place, found.distance_m, next)?);
        }
        Ok(NearbyResults {
            origin: Some(origin),
            radius_m: search.radius_m,
            items,
        })
    }
}

/// The session-level filters of a search, as the database search's
/// `next_sessions` applies them.
struct SessionFilter {
    window: Window,
    kind: Option<SessionKind>,
    free_only: bool,
    age: Option<ChildAge>,
    /// The child's age at the start and at the end of the window.
    youngest: i64,
    oldest: i64,
}

impl SessionFilter {
    fn new(search: &NearbySearch, age: Option<ChildAge>, window: Window) -> Self {
        let months_on = |instant: DateTime<Utc>| {
            age.and_then(|age| age.months_on(local_date(instant)))
                .map_or(0, i64::from)
        };
        Self {
            window,
            kind: search.service.and_then(Service::session_kind),
            free_only: search.free_only,
            age,
            youngest: months_on(window.start),
            oldest: months_on(window.end),
        }
    }

    /// Returns the earliest session (by start, then id) in the window that
    /// has places left and passes the filters.
    fn next_session<'a>(&self, sessions: &'a [SessionEntry]) -> Option<&'a SessionEntry> {
        let first = sessions.partition_point(|session| session.starts_at < self.window.start);
        sessions[first..]
            .iter()
            .take_while(|session| session.starts_at < self.window.end)
            .find(|session| self.accepts(session))
    }

    fn accepts(&self, session: &SessionEntry) -> bool {
        if session.booked >= session.capacity {
            return false;
        }
        if self.kind.is_some_and(|kind| session.kind != Some(kind)) {
            return false;
        }
        if self.free_only && session.price_fen != 0 {
            return false;
        }
        let Some(age) = self.age else {
            return true;
        };
        if i64::from(session.max_age_months) < self.youngest
            || i64::from(session.min_age_months) > self.oldest
        {
            return false;
        }
        let (Ok(min), Ok(max)) = (
            u32::try_from(session.min_age_months),
            u32::try_from(session.max_age_months),
        ) else {
            return false;
        };
        age.fits_on(local_date(session.starts_at), min, max)
    }
}

/// A place inside the radius that passed the place-level filters.
struct Found {
    index: usize,
    distance_m: f64,
    /// Whether only a matching next session can qualify the place.
    needs_session: bool,
}

/// The places around a start point, nearest first, read from the grid a
/// ring at a time: each ring holds the places whose haversine distance is
/// beyond the last ring and up to twice as far, starting at 1 km. Every
/// place of a ring is nearer than every place of the next, so sorting each
/// ring by distance and id gives the database search's order.
struct Rings<'a> {
    snapshot: &'a Snapshot,
    search: &'a NearbySearch,
    age: Option<ChildAge>,
    today: NaiveDate,
    centre: GeoPoint,
    /// Distance in metres up to which every place has been read.
    reach_m: f64,
    /// Places of the rings read and not handed out, nearest last.
    pending: Vec<Found>,
}

impl<'a> Rings<'a> {
    fn new(
        snapshot: &'a Snapshot,
        search: &'a NearbySearch,
        age: Option<ChildAge>,
        centre: GeoPoint,
        today: NaiveDate,
    ) -> Self {
        Self {
            snapshot,
            search,
            age,
            today,
            centre,
            reach_m: 0.0,
            pending: Vec::new(),
        }
    }

    fn next(&mut self) -> Option<Found> {
        let radius = f64::from(self.search.radius_m);
        while self.pending.is_empty() && self.reach_m < radius {
            self.read_ring(radius);
        }
        self.pending.pop()
    }

    fn read_ring(&mut self, radius: f64) {
        let first = self.reach_m == 0.0;
        let inner_m = self.reach_m;
        let outer_m = if first { FIRST_REACH_M } else { inner_m * 2.0 }.min(radius);
        let places = &self.snapshot.places;
        let mut found = Vec::new();
        self.snapshot.for_each_near(self.centre, outer_m, |index| {
            let place = &places[index];
            let distance_m = self.centre.distance_m(place.point);
            if distance_m > outer_m || (!first && distance_m <= inner_m) {
                return;
            }
            if self.search.public_benefit_only && !place.public_benefit {
                return;
            }
            if let Some(needs_session) =
                place_needs_session(&place.facts, self.search, self.age, self.today)
            {
                found.push(Found {
                    index,
                    distance_m,
                    needs_session,
                });
            }
        });
        // Farthest first, so that `pop` hands out the nearest.
        found.sort_by(|a, b| {
            b.distance_m
                .total_cmp(&a.distance_m)
                .then(places[b.index].id.cmp(&places[a.index].id))
        });
        self.pending = found;
        self.reach_m = outer_m;
    }
}

fn nearby_place(
    place: &PlaceEntry,
    distance_m: f64,
    next: Option<&SessionEntry>,
) -> Result<NearbyPlace, AppError> {
    let kind = place.kind.ok_or_else(|| {
        tracing::error!(place.id = place.id, "place has an unknown kind");
        AppError::Internal
    })?;
    // Whole metres, as shown, so the minutes agree with the distance shown.
    // The radius limit keeps the distance far below u32::MAX.
    let distance_m = distance_m.round() as u32;
    let minutes = walking_minutes(distance_m);
    let services = Service::ALL
        .into_iter()
        .filter(|service| place.facts.offers(*service))
        .collect();
    Ok(NearbyPlace {
        place: PlaceSummary {
            id: place.id,
            kind,
            name: place.name.clone(),
            address: place.address.clone(),
            district: place.district.clone(),
            latitude: place.point.latitude,
            longitude: place.point.longitude,
            is_demo: place.is_demo,
        },
        distance_m,
        walking_minutes: minutes,
        within_service_circle: within_service_circle(minutes),
        public_benefit: place.public_benefit,
        services,
        fee: place.facts.fee,
        next_session: next.map(SessionEntry::summary).transpose()?,
    })
}
