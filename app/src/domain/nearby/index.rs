//! The search snapshot of this server process and how it stays fresh.
//!
//! Every server process keeps its own snapshot and refreshes it from the
//! database, so several stateless processes can share one database. A
//! refresh reads only the rows whose `updated_at` is recent: every write
//! to `place`, `care_session` and `street` sets it (bookings through
//! `booking::adjust_taken`, administrators' edits in `place_admin`,
//! imports in `import`). A full reload on start and every
//! [`FULL_RELOAD_INTERVAL`] drops past sessions and rows deleted meanwhile.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::snapshot::{PlaceRow, SessionRow, Snapshot, StreetRow};
use crate::entity::{care_session, place, street};
use crate::error::AppError;
use crate::model::{NearbyParams, NearbyResults};

/// How often the server refreshes its snapshot.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(1);
/// How often a refresh reads everything again instead of recent changes.
pub const FULL_RELOAD_INTERVAL: Duration = Duration::from_secs(600);
/// How far back before the last refresh a refresh looks for changed rows.
/// A row's `updated_at` is the writer's clock when its transaction wrote
/// it, which can be earlier than the commit, and other server processes'
/// clocks can differ from this one's. A write whose transaction took
/// longer than this, or a clock further off, shows at the next full reload.
// NOTE: an import of many rows runs in one transaction; one that takes
// more than a minute shows only after the next full reload.
pub const CHANGE_OVERLAP: Duration = Duration::from_secs(60);
/// Age of the last successful refresh beyond which searches read the
/// database instead, so a snapshot that cannot be refreshed (the database
/// is unreachable) never shows old places-left figures for long.
pub const MAX_SNAPSHOT_AGE: Duration = Duration::from_secs(30);

/// The snapshot in use and when it was last known to be fresh.
#[derive(Debug, Clone)]
struct Current {
    snapshot: Arc<Snapshot>,
    refreshed_at: Instant,
}

/// Bookkeeping that one refresh passes to the next.
#[derive(Debug, Default)]
struct RefreshMark {
    /// When the last successful refresh started, by this process's clock.
    started_at: Option<DateTime<Utc>>,
    /// When the last full reload started.
    full_at: Option<Instant>,
}

#[derive(Debug, Default)]
struct Inner {
    current: RwLock<Option<Current>>,
    /// Held for a whole refresh, so refreshes never overlap and an older
    /// one never replaces a newer snapshot.
    mark: tokio::sync::Mutex<RefreshMark>,
}

/// Nearby search on an in-memory snapshot, shared by the requests of one
/// server process. Cloning shares the snapshot.
///
/// The snapshot is behind an `RwLock` that a search holds only to clone the
/// `Arc`, and a refresh only to swap in a new one.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    inner: Arc<Inner>,
}

impl SearchIndex {
    /// Searches as [`super::search_nearby`] does, on the snapshot. Before
    /// the first load, or when the last refresh is older than
    /// [`MAX_SNAPSHOT_AGE`], it searches the database instead. A family
    /// child's birth date and the access check always come from the
    /// database.
    pub async fn search_nearby(
        &self,
        db: &impl ConnectionTrait,
        params: &NearbyParams,
        viewer: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<NearbyResults, AppError> {
        let Some(snapshot) = self.fresh_snapshot() else {
            return super::search_nearby(db, params, viewer, now).await;
        };
        let (search, age) = super::prepare(db, params, viewer, now).await?;
        snapshot.search(&search, age, now)
    }

    /// Searches the snapshot whatever its age; `Unavailable` before the
    /// first load. For tests that compare it with the database search.
    pub async fn search_snapshot(
        &self,
        db: &impl ConnectionTrait,
        params: &NearbyParams,
        viewer: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<NearbyResults, AppError> {
        let snapshot = self.fresh_or_kept().ok_or(AppError::Unavailable)?;
        let (search, age) = super::prepare(db, params, viewer, now).await?;
        snapshot.search(&search, age, now)
    }

    fn fresh_snapshot(&self) -> Option<Arc<Snapshot>> {
        let current = self
            .inner
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|current| current.refreshed_at.elapsed() < MAX_SNAPSHOT_AGE)
            .map(|current| Arc::clone(&current.snapshot))
    }

    /// Returns the number of places and sessions in the snapshot, or `None`
    /// before the first load.
    pub fn counts(&self) -> Option<(usize, usize)> {
        let current = self
            .inner
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        current.as_ref().map(|current| current.snapshot.counts())
    }

    /// Returns an estimate of the snapshot's memory in bytes (see
    /// `Snapshot::estimated_bytes`), or `None` before the first load.
    pub fn estimated_bytes(&self) -> Option<usize> {
        self.fresh_or_kept()
            .map(|snapshot| snapshot.estimated_bytes())
    }

    fn replace(&self, snapshot: Option<Snapshot>, refreshed_at: Instant) {
        let mut current = self
            .inner
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let snapshot = match (snapshot, current.take()) {
            (Some(snapshot), _) => Arc::new(snapshot),
            (None, Some(kept)) => kept.snapshot,
            (None, None) => Arc::default(),
        };
        *current = Some(Current {
            snapshot,
            refreshed_at,
        });
    }

    /// Reads every place, upcoming session and street again.
    pub async fn reload(&self, db: &impl ConnectionTrait) -> Result<(), AppError> {
        let mut mark = self.inner.mark.lock().await;
        self.reload_locked(db, &mut mark).await
    }

    async fn reload_locked(
        &self,
        db: &impl ConnectionTrait,
        mark: &mut RefreshMark,
    ) -> Result<(), AppError> {
        let started = Instant::now();
        let started_at = Utc::now();
        let places = read_places(db, None).await?;
        let sessions = read_sessions(db, None, started_at).await?;
        let streets = read_streets(db, None).await?;
        let snapshot = Snapshot::build(places, sessions, streets);
        let (places, sessions) = snapshot.counts();
        self.replace(Some(snapshot), started);
        *mark = RefreshMark {
            started_at: Some(started_at),
            full_at: Some(started),
        };
        tracing::debug!(
            places,
            sessions,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "search snapshot loaded"
        );
        Ok(())
    }

    /// Applies the rows changed since the last refresh, or reloads
    /// everything when no snapshot is loaded or a full reload is due.
    pub async fn refresh(&self, db: &impl ConnectionTrait) -> Result<(), AppError> {
        let mut mark = self.inner.mark.lock().await;
        let (Some(last_started_at), Some(full_at)) = (mark.started_at, mark.full_at) else {
            return self.reload_locked(db, &mut mark).await;
        };
        if full_at.elapsed() >= FULL_RELOAD_INTERVAL {
            return self.reload_locked(db, &mut mark).await;
        }

        let started = Instant::now();
        let started_at = Utc::now();
        let overlap = chrono::Duration::from_std(CHANGE_OVERLAP).unwrap_or_default();
        let since = last_started_at - overlap;
        let places = read_places(db, Some(since)).await?;
        let sessions = read_sessions(db, Some(since), started_at).await?;
        let streets = read_streets(db, Some(since)).await?;
        let changed = self
            .fresh_or_kept()
            .and_then(|kept| kept.with_changes(places, sessions, streets));
        self.replace(changed, started);
        mark.started_at = Some(started_at);
        Ok(())
    }

    /// Returns the snapshot whatever its age, for a refresh to build on.
    fn fresh_or_kept(&self) -> Option<Arc<Snapshot>> {
        let current = self
            .inner
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .map(|current| Arc::clone(&current.snapshot))
    }
}

/// Reads the places changed since `since`, or all of them.
async fn read_places(
    db: &impl ConnectionTrait,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<PlaceRow>, AppError> {
    use place::Column;

    let mut query = place::Entity::find().select_only().columns([
        Column::Id,
        Column::Kind,
        Column::Name,
        Column::Address,
        Column::District,
        Column::Latitude,
        Column::Longitude,
        Column::IsDemo,
        Column::MinAgeMonths,
        Column::MaxAgeMonths,
        Column::OffersHourlyCare,
        Column::OffersParentChildActivity,
        Column::OffersToddlerClass,
        Column::OffersFullDay,
        Column::FeeKind,
        Column::FeeFen,
        Column::PublicBenefit,
    ]);
    if let Some(since) = since {
        query = query.filter(Column::UpdatedAt.gte(since));
    }
    query
        .into_model::<PlaceRow>()
        .all(db)
        .await
        .map_err(AppError::from_db)
}

/// Reads the sessions that start from `now` on and changed since `since`,
/// or all of them.
async fn read_sessions(
    db: &impl ConnectionTrait,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Vec<SessionRow>, AppError> {
    use care_session::Column;

    let mut query = care_session::Entity::find()
        .select_only()
        .columns([
            Column::Id,
            Column::PlaceId,
            Column::Kind,
            Column::Title,
            Column::StartsAt,
            Column::EndsAt,
            Column::Capacity,
            Column::Booked,
            Column::MinAgeMonths,
            Column::MaxAgeMonths,
            Column::PriceFen,
            Column::UpdatedAt,
        ])
        .filter(Column::StartsAt.gte(now));
    if let Some(since) = since {
        query = query.filter(Column::UpdatedAt.gte(since));
    }
    query
        .into_model::<SessionRow>()
        .all(db)
        .await
        .map_err(AppError::from_db)
}

/// Reads the streets changed since `since`, or all of them.
async fn read_streets(
    db: &impl ConnectionTrait,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<StreetRow>, AppError> {
    use street::Column;

    let mut query = street::Entity::find().select_only().columns([
        Column::McaCode,
        Column::Name,
        Column::Latitude,
        Column::Longitude,
    ]);
    if let Some(since) = since {
        query = query.filter(Column::UpdatedAt.gte(since));
    }
    query
        .into_model::<StreetRow>()
        .all(db)
        .await
        .map_err(AppError::from_db)
}
