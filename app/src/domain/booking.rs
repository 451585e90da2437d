//! Booking: places in sessions, cancellation, the waitlist with timed
//! offers, and the fair-release draw.
//!
//! `care_session.booked` counts the places that are taken: confirmed
//! bookings plus places held by an open waitlist offer. It only changes in
//! a conditional update that keeps it between 0 and `capacity`, and a check
//! constraint backs that up.
//!
//! Every write runs in one transaction that locks the rows it decides on.
//! On SQLite the transaction is `BEGIN IMMEDIATE`, which takes the single
//! write lock at once (waiting up to the busy timeout), so no transaction
//! reads a state that another one is about to change. On PostgreSQL a
//! booking locks the children's rows in id order and then the session's
//! row. The children's locks keep two sessions booked for one child from
//! both passing the overlap check; the session's lock orders all writers
//! of one session. Checks that need no lock run before the transaction,
//! so the session's row is held for a few statements only, and booking
//! requests that arrive together are written together (see `batch`).
//!
//! Because every decision is made from rows inside such a transaction,
//! any number of server processes may share one database and run the jobs
//! at the same time.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::domain::audit::{self, AuditEntry};
use crate::domain::family::{self, ChildAccess, age_in_months};
use crate::domain::priority;
use crate::entity::{
    booking, booking_request, care_session, child, delegation, family as family_entity,
    notification, place, waitlist_entry,
};
use crate::error::{AppError, Refusal};
use crate::model::{
    BookOutcome, BookingStatus, BookingView, CancelKind, CheckInOutcome, MyBookings, NewSession,
    NotificationKind, ReleaseMode, RosterEntry, SessionDetail, Viewer, WaitlistStatus,
    WaitlistView,
};
use crate::time::{SHANGHAI, local_date};

/// Attempts of a write transaction that found the database busy.
pub(crate) const WRITE_ATTEMPTS: u32 = 4;
/// Letters of check-in codes: digits and capitals without 0, 1, I, L, O.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LENGTH: usize = 6;
/// Maximum length of an idempotency key, in bytes.
pub const MAX_IDEMPOTENCY_KEY: usize = 64;
pub use crate::model::MAX_REASON_CHARS;

/// The time a waitlist offer keeps its place, chosen by the time left
/// before the session starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfferWindow {
    /// The window applies when the session starts at least this far ahead.
    pub min_lead: Duration,
    /// How long the place is held.
    pub hold: Duration,
}

/// The booking rules that the server's configuration sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRules {
    /// Most confirmed bookings per child in one week (Monday to Sunday in
    /// Nanjing); 0 for no limit.
    pub weekly_limit: u32,
    /// Maximum number of children in one request.
    pub max_children: usize,
    /// Offer windows, longest lead first.
    pub offer_windows: Vec<OfferWindow>,
    /// The shortest offer worth making; with less time before the cut-off
    /// the place stays open for anyone to book.
    pub min_offer: Duration,
}

impl Default for BookingRules {
    fn default() -> Self {
        Self {
            weekly_limit: 3,
            max_children: 4,
            offer_windows: vec![
                OfferWindow {
                    min_lead: Duration::hours(72),
                    hold: Duration::hours(12),
                },
                OfferWindow {
                    min_lead: Duration::hours(24),
                    hold: Duration::hours(4),
                },
                OfferWindow {
                    min_lead: Duration::hours(6),
                    hold: Duration::hours(1),
                },
                OfferWindow {
                    min_lead: Duration::zero(),
                    hold: Duration::minutes(30),
                },
            ],
            min_offer: Duration::minutes(5),
        }
    }
}

impl BookingRules {
    /// Parses offer windows written `72h=12h,24h=4h,6h=1h,0=30m`: for each
    /// lead, how long an offer holds. Units are `d`, `h` and `m`.
    pub fn parse_offer_windows(text: &str) -> Result<Vec<OfferWindow>, String> {
        let mut windows = Vec::new();
        for part in text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let (lead, hold) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not LEAD=HOLD"))?;
            let min_lead = parse_span(lead)?;
            let hold = parse_span(hold)?;
            if hold <= Duration::zero() {
                return Err(format!("`{part}` holds an offer for no time"));
            }
            windows.push(OfferWindow { min_lead, hold });
        }
        windows.sort_by_key(|window| std::cmp::Reverse(window.min_lead));
        if windows
            .last()
            .is_none_or(|last| last.min_lead > Duration::zero())
        {
            return Err("one window must start at a lead of 0".to_owned());
        }
        Ok(windows)
    }

    /// Returns when an offer made at `now` expires, or `None` when no offer
    /// may be made: at or after the booking cut-off, or too close to it.
    pub fn offer_deadline(
        &self,
        starts_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if now >= closes_at {
            return None;
        }
        let lead = starts_at - now;
        let hold = self
            .offer_windows
            .iter()
            .find(|window| lead >= window.min_lead)
            .or(self.offer_windows.last())
            .map_or(Duration::minutes(30), |window| window.hold);
        let deadline = Ord::min(now + hold, closes_at);
        (deadline - now >= self.min_offer).then_some(deadline)
    }
}

fn parse_span(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::zero());
    }
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let number: i64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a number followed by d, h or m"))?;
    if !(0..=10_000).contains(&number) {
        return Err(format!("`{text}` is out of range"));
    }
    match unit {
        "d" => Ok(Duration::days(number)),
        "h" => Ok(Duration::hours(number)),
        "m" => Ok(Duration::minutes(number)),
        _ => Err(format!("`{text}` needs a unit: d, h or m")),
    }
}

/// A request to book places for one or more children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookRequest {
    pub session_id: i64,
    pub child_ids: Vec<i64>,
    /// Join the waitlist when the session is full, instead of refusing.
    pub join_waitlist: bool,
    /// Makes a retried request return the first outcome instead of booking
    /// again.
    pub idempotency_key: Option<String>,
}

/// Returns when booking for `session` closes.
fn closes_at(session: &care_session::Model) -> DateTime<Utc> {
    session.booking_closes_at.unwrap_or(session.starts_at)
}

/// Returns the end of the fair-release window, for sessions that have one.
fn draw_ends_at(session: &care_session::Model) -> Option<DateTime<Utc>> {
    if ReleaseMode::parse(&session.release_mode) != Some(ReleaseMode::FairRelease) {
        return None;
    }
    let opens = session.booking_opens_at?;
    Some(opens + Duration::minutes(i64::from(Ord::max(session.release_window_minutes, 0))))
}

async fn begin_write(
    db: &DatabaseConnection,
) -> Result<(DatabaseTransaction, crate::db::WriterTurn), AppError> {
    crate::db::begin_write(db).await.map_err(AppError::from_db)
}

/// Runs an async block again, after a short random pause, when the
/// database was busy; any other result is final. A macro rather than a
/// function taking an async closure, whose futures the compiler cannot yet
/// prove `Send` for every lifetime.
macro_rules! retry_busy {
    ($operation:expr) => {{
        let mut attempt = 1;
        loop {
            match $operation.await {
                Err(AppError::Unavailable) if attempt < $crate::domain::booking::WRITE_ATTEMPTS => {
                    $crate::domain::booking::pause_before_retry(attempt).await;
                    attempt += 1;
                }
                other => break other,
            }
        }
    }};
}

mod batch;

pub use batch::{WriteStats, waiting_to_write, write_stats};

pub(crate) async fn pause_before_retry(attempt: u32) {
    let pause = rand::thread_rng().gen_range(5..50) * u64::from(attempt);
    tokio::time::sleep(StdDuration::from_millis(pause)).await;
}

/// Locks the session's row for the rest of the transaction and reads it.
async fn lock_session(
    txn: &DatabaseTransaction,
    session_id: i64,
) -> Result<care_session::Model, AppError> {
    care_session::Entity::update_many()
        .col_expr(
            care_session::Column::Booked,
            Expr::col(care_session::Column::Booked),
        )
        .filter(care_session::Column::Id.eq(session_id))
        .exec_with_returning(txn)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)
}

/// Locks a child's row, after the session's, and reads it.
async fn lock_child(txn: &DatabaseTransaction, child_id: i64) -> Result<child::Model, AppError> {
    child::Entity::update_many()
        .col_expr(
            child::Column::UpdatedAt,
            Expr::col(child::Column::UpdatedAt),
        )
        .filter(child::Column::Id.eq(child_id))
        .exec_with_returning(txn)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)
}

/// Changes the taken places by `delta` when the result stays within
/// `0..=capacity`; returns whether it did.
async fn adjust_taken(
    txn: &DatabaseTransaction,
    session_id: i64,
    delta: i32,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let taken = Expr::col(care_session::Column::Booked).add(delta);
    let changed = care_session::Entity::update_many()
        .col_expr(care_session::Column::Booked, taken.clone())
        .col_expr(care_session::Column::UpdatedAt, Expr::value(now))
        .filter(care_session::Column::Id.eq(session_id))
        .filter(taken.clone().gte(0))
        .filter(taken.lte(Expr::col(care_session::Column::Capacity)))
        .exec(txn)
        .await
        .map_err(AppError::from_db)?
        .rows_affected;
    Ok(changed == 1)
}

/// A booked session of a child, as the booking checks need it.
#[derive(Debug, Clone, Copy)]
struct Held {
    session_id: i64,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

/// Reads, for each of `child_ids`, the booked sessions that could matter
/// to a booking of `session`: those that end after its week starts and
/// start before it or the week ends. One query for all the children.
async fn held_near(
    db: &impl ConnectionTrait,
    session: &care_session::Model,
    child_ids: &[i64],
) -> Result<HashMap<i64, Vec<Held>>, AppError> {
    let (week_start, week_end) = local_week(local_date(session.starts_at));
    let to_session = booking::Entity::belongs_to(care_session::Entity)
        .from(booking::Column::SessionId)
        .to(care_session::Column::Id)
        .into();
    let rows: Vec<(i64, i64, DateTime<Utc>, DateTime<Utc>)> = booking::Entity::find()
        .select_only()
        .column(booking::Column::ChildId)
        .column(care_session::Column::Id)
        .column(care_session::Column::StartsAt)
        .column(care_session::Column::EndsAt)
        .join(sea_orm::JoinType::InnerJoin, to_session)
        // `child_id` is indexed; a cancelled booking has no active child.
        .filter(booking::Column::ChildId.is_in(child_ids.iter().copied()))
        .filter(booking::Column::ActiveChildId.is_not_null())
        .filter(care_session::Column::EndsAt.gt(Ord::min(week_start, session.starts_at)))
        .filter(care_session::Column::StartsAt.lt(Ord::max(week_end, session.ends_at)))
        .into_tuple()
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let mut held: HashMap<i64, Vec<Held>> = HashMap::new();
    for (child_id, session_id, starts_at, ends_at) in rows {
        held.entry(child_id).or_default().push(Held {
            session_id,
            starts_at,
            ends_at,
        });
    }
    Ok(held)
}

/// Decides whether a child born on `birth_date` may take a place in
/// `session`, given the sessions it holds nearby ([`held_near`]): age on
/// the session date, no place in it yet, no other booking at the same
/// time, and the weekly limit.
fn judge_child(
    rules: &BookingRules,
    session: &care_session::Model,
    birth_date: NaiveDate,
    held: &[Held],
) -> Result<(), Refusal> {
    let session_date = local_date(session.starts_at);
    let in_range = age_in_months(birth_date, session_date).is_some_and(|months| {
        i64::from(months) >= i64::from(session.min_age_months)
            && i64::from(months) <= i64::from(session.max_age_months)
    });
    if !in_range {
        return Err(Refusal::AgeOutOfRange);
    }
    if held.iter().any(|other| other.session_id == session.id) {
        return Err(Refusal::AlreadyBooked);
    }
    if held
        .iter()
        .any(|other| other.starts_at < session.ends_at && other.ends_at > session.starts_at)
    {
        return Err(Refusal::Overlap);
    }
    if rules.weekly_limit > 0 {
        let (week_start, week_end) = local_week(session_date);
        let this_week = held
            .iter()
            .filter(|other| other.starts_at >= week_start && other.starts_at < week_end)
            .count();
        if this_week >= rules.weekly_limit as usize {
            return Err(Refusal::WeeklyLimit);
        }
    }
    Ok(())
}

/// Checks whether `child` may take a place in `session` ([`judge_child`]).
/// The outer error is a database failure.
async fn check_child(
    db: &impl ConnectionTrait,
    rules: &BookingRules,
    session: &care_session::Model,
    child: &child::Model,
) -> Result<Result<(), Refusal>, AppError> {
    let held = held_near(db, session, &[child.id]).await?;
    let held = held.get(&child.id).map_or(&[][..], Vec::as_slice);
    Ok(judge_child(rules, session, child.birth_date, held))
}

/// Returns the instants that bound the week (Monday 00:00 to Monday 00:00
/// in Nanjing) around `date`.
fn local_week(date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let monday = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
    let start = SHANGHAI
        .from_local_datetime(&monday.and_time(NaiveTime::MIN))
        .single()
        .map_or(DateTime::<Utc>::MIN_UTC, |local| local.with_timezone(&Utc));
    (start, start + Duration::days(7))
}

/// Books places, or joins the waitlist or the draw, for the children in
/// `request`. The actor must be guardian of each child or a carer for it.
///
/// The session's times and the actor's right to each child are checked
/// first, outside the writer's turn. The session's writer (`batch`) then
/// writes this request together with every other one that waited with it.
/// It locks the children and the session, checks each child's age,
/// bookings and waitlist entry, and takes places or queues. A refused or failed request with an idempotency key is
/// answered with the stored outcome of an earlier one, when there is one.
pub async fn book(
    db: &DatabaseConnection,
    rules: &BookingRules,
    actor: i64,
    request: &BookRequest,
    now: DateTime<Utc>,
) -> Result<BookOutcome, AppError> {
    let child_ids: BTreeSet<i64> = request.child_ids.iter().copied().collect();
    if child_ids.is_empty() || child_ids.len() > rules.max_children {
        return Err(AppError::invalid(
            "child_ids",
            format!("choose 1 to {} children", rules.max_children),
        ));
    }
    let key = request.idempotency_key.as_deref();
    if let Some(key) = key
        && (key.is_empty()
            || key.len() > MAX_IDEMPOTENCY_KEY
            || !key.bytes().all(|byte| byte.is_ascii_graphic()))
    {
        return Err(AppError::invalid(
            "idempotency_key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"),
        ));
    }
    // A retried request is not looked up first, which saves a read on every
    // first request. The checks reject a retry (the child has its place or
    // its entry), and a rejected request then returns the stored outcome.
    // Were the checks to pass, the key's unique index would reject the write.
    match check_and_write(db, rules, actor, request, &child_ids, now).await {
        Err(error) => match earlier_outcome(db, actor, key).await? {
            Some(earlier) => Ok(earlier),
            None => Err(error),
        },
        outcome => outcome,
    }
}

/// Checks the request's session and the actor's right to each child, then
/// hands it to its session's writer.
async fn check_and_write(
    db: &DatabaseConnection,
    rules: &BookingRules,
    actor: i64,
    request: &BookRequest,
    child_ids: &BTreeSet<i64>,
    now: DateTime<Utc>,
) -> Result<BookOutcome, AppError> {
    let (session, place) = care_session::Entity::find_by_id(request.session_id)
        .find_also_related(place::Entity)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    check_times(&session, now)?;
    // The children's bookings and waitlist entries are checked by the
    // writer, once for every request it writes together.
    let mut requested = Vec::with_capacity(child_ids.len());
    for &child_id in child_ids {
        let (child, access) = family::child_with_access(db, actor, child_id).await?;
        requested.push(Requested { child, access });
    }
    let place_name = place.map(|row| row.name).unwrap_or_default();
    let job = batch::Job {
        actor,
        session,
        place_name,
        requested,
        join_waitlist: request.join_waitlist,
        key: request.idempotency_key.clone(),
        rules: rules.clone(),
        now,
    };
    // A twin sent at the same time fails on the unique indexes, and `book`
    // then returns the stored outcome.
    batch::submit(db, job).await
}

/// Writes one prepared request in a transaction of its own.
async fn write_one(db: &DatabaseConnection, job: &batch::Job) -> Result<BookOutcome, AppError> {
    let (txn, _turn) = begin_write(db).await?;
    // Children first, in id order, then the session: the order every
    // booking transaction locks in.
    for entry in &job.requested {
        let child = lock_child(&txn, entry.child.id).await?;
        check_child(&txn, &job.rules, &job.session, &child).await??;
        if open_entry(&txn, job.session.id, child.id).await?.is_some() {
            return Err(Refusal::AlreadyWaiting.into());
        }
    }
    let session = lock_session(&txn, job.session.id).await?;
    let outcome = book_locked(&txn, job, &session).await?;
    store_outcome(&txn, [(job, &outcome)]).await?;
    txn.commit().await.map_err(AppError::from_db)?;
    Ok(outcome)
}

/// Stores the outcome of each request that carries an idempotency key, in
/// the transaction that wrote it.
async fn store_outcome<'a>(
    txn: &DatabaseTransaction,
    written: impl IntoIterator<Item = (&'a batch::Job, &'a BookOutcome)>,
) -> Result<(), AppError> {
    let mut rows = Vec::new();
    for (job, outcome) in written {
        let Some(key) = &job.key else { continue };
        let stored = serde_json::to_value(outcome).map_err(|error| {
            tracing::error!(%error, "booking outcome does not serialise");
            AppError::Internal
        })?;
        rows.push(booking_request::ActiveModel {
            account_id: Set(job.actor),
            idempotency_key: Set(key.clone()),
            outcome: Set(stored),
            created_at: Set(job.now),
            ..Default::default()
        });
    }
    if !rows.is_empty() {
        booking_request::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await
            .map_err(AppError::from_db)?;
    }
    Ok(())
}

/// Returns the stored answer to an earlier request with this key.
async fn earlier_outcome(
    db: &impl ConnectionTrait,
    actor: i64,
    key: Option<&str>,
) -> Result<Option<BookOutcome>, AppError> {
    let Some(key) = key else {
        return Ok(None);
    };
    let Some(row) = booking_request::Entity::find()
        .filter(booking_request::Column::AccountId.eq(actor))
        .filter(booking_request::Column::IdempotencyKey.eq(key))
        .one(db)
        .await
        .map_err(AppError::from_db)?
    else {
        return Ok(None);
    };
    serde_json::from_value(row.outcome)
        .map(Some)
        .map_err(|error| {
            tracing::error!(%error, "stored booking outcome does not parse");
            AppError::Internal
        })
}

/// Refuses a request outside the session's booking window.
fn check_times(session: &care_session::Model, now: DateTime<Utc>) -> Result<(), AppError> {
    if now >= session.ends_at {
        return Err(Refusal::SessionOver.into());
    }
    if session.booking_opens_at.is_some_and(|opens| now < opens) {
        return Err(Refusal::NotOpenYet.into());
    }
    if now >= closes_at(session) {
        return Err(Refusal::Closed.into());
    }
    Ok(())
}

/// The children of a request, each with the family it belongs to and the
/// actor's right to act for it.
struct Requested {
    child: child::Model,
    access: ChildAccess,
}

impl Requested {
    fn family_id(&self) -> i64 {
        match self.access {
            ChildAccess::Guardian { family_id } | ChildAccess::Carer { family_id, .. } => family_id,
        }
    }
}

/// Takes places for the children of one request, or queues them, in a
/// transaction that has locked their rows and the session's (`session` is
/// the locked row).
async fn book_locked(
    txn: &DatabaseTransaction,
    job: &batch::Job,
    session: &care_session::Model,
) -> Result<BookOutcome, AppError> {
    if let Some(draw_ends) = draw_ends_at(session) {
        if job.now < draw_ends {
            return enqueue_one(txn, job, session, true).await;
        }
        if session.drawn_at.is_none() {
            run_draw(txn, &job.rules, session, job.now).await?;
        }
    }

    let wanted = i32::try_from(job.requested.len()).map_err(|_| AppError::Internal)?;
    // The locked row shows whether the places are free.
    let fits = session.booked + wanted <= session.capacity;
    if fits && adjust_taken(txn, session.id, wanted, job.now).await? {
        return take_places(txn, job, session).await;
    }
    if !job.join_waitlist {
        return Err(AppError::Full);
    }
    enqueue_one(txn, job, session, false).await
}

/// Books the request's children into places already counted as taken.
async fn take_places(
    txn: &DatabaseTransaction,
    job: &batch::Job,
    session: &care_session::Model,
) -> Result<BookOutcome, AppError> {
    let mut bookings = Vec::with_capacity(job.requested.len());
    for entry in &job.requested {
        bookings.push(insert_booking(txn, job.actor, session, entry, job.now).await?);
    }
    let views = booking_views(txn, bookings, job.now).await?;
    Ok(BookOutcome::Booked { bookings: views })
}

async fn enqueue_one(
    txn: &DatabaseTransaction,
    job: &batch::Job,
    session: &care_session::Model,
    in_draw: bool,
) -> Result<BookOutcome, AppError> {
    let mut outcomes = enqueue(txn, session, &[(job, in_draw)]).await?;
    outcomes.pop().ok_or(AppError::Internal)
}

/// Inserts a confirmed booking for a place already counted as taken, with
/// its notification and audit entry.
async fn insert_booking(
    txn: &DatabaseTransaction,
    actor: i64,
    session: &care_session::Model,
    requested: &Requested,
    now: DateTime<Utc>,
) -> Result<booking::Model, AppError> {
    let code = loop {
        let code = check_in_code();
        let taken = booking::Entity::find()
            .filter(booking::Column::SessionId.eq(session.id))
            .filter(booking::Column::CheckInCode.eq(code.as_str()))
            .one(txn)
            .await
            .map_err(AppError::from_db)?;
        if taken.is_none() {
            break code;
        }
    };
    let row = booking::ActiveModel {
        session_id: Set(session.id),
        child_id: Set(requested.child.id),
        family_id: Set(requested.family_id()),
        booked_by: Set(Some(actor)),
        status: Set("confirmed".to_owned()),
        active_child_id: Set(Some(requested.child.id)),
        check_in_code: Set(code),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(AppError::from_db)?;
    notify_family(
        txn,
        requested.family_id(),
        Some(actor),
        NotificationKind::Booked,
        session.id,
        json!({ "child_id": requested.child.id, "booking_id": row.id }),
        now,
    )
    .await?;
    // The audit trail records acts for someone else's child; a guardian's
    // own bookings are in the booking rows themselves.
    let Some(guardian) = requested.access.on_behalf_of() else {
        return Ok(row);
    };
    audit::record(
        txn,
        AuditEntry {
            actor: Some(actor),
            on_behalf_of: Some(guardian),
            district_code: audit::place_district(txn, session.place_id).await?,
            action: "booking.create",
            target_kind: "booking",
            target_id: Some(row.id.to_string()),
            detail: Some(json!({ "session_id": session.id })),
        },
        now,
    )
    .await?;
    Ok(row)
}

/// Returns a random check-in code.
fn check_in_code() -> String {
    let mut rng = rand::thread_rng();
    (0..CODE_LENGTH)
        .map(|_| char::from(CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())]))
        .collect()
}

/// Returns the child's waiting or offered entry for the session, if any.
async fn open_entry(
    txn: &impl ConnectionTrait,
    session_id: i64,
    child_id: i64,
) -> Result<Option<waitlist_entry::Model>, AppError> {
    waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::SessionId.eq(session_id))
        .filter(waitlist_entry::Column::ActiveChildId.eq(child_id))
        .one(txn)
        .await
        .map_err(AppError::from_db)
}

/// Puts the children of each request on the session's waitlist, or into
/// its draw when the request's flag is set, with one insert for all of
/// them. The session must be locked. Returns an outcome per request, in
/// order.
async fn enqueue(
    txn: &DatabaseTransaction,
    session: &care_session::Model,
    requests: &[(&batch::Job, bool)],
) -> Result<Vec<BookOutcome>, AppError> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    // The session is locked, so the queue only grows by these entries.
    let ahead = queue_length(txn, session.id).await?;
    let models = requests.iter().flat_map(|&(job, in_draw)| {
        job.requested
            .iter()
            .map(move |entry| waitlist_entry::ActiveModel {
                session_id: Set(session.id),
                child_id: Set(entry.child.id),
                family_id: Set(entry.family_id()),
                joined_by: Set(Some(job.actor)),
                status: Set(WaitlistStatus::Waiting.as_str().to_owned()),
                active_child_id: Set(Some(entry.child.id)),
                priority: Set(0),
                in_draw: Set(in_draw),
                created_at: Set(job.now),
                ..Default::default()
            })
    });
    let mut rows = waitlist_entry::Entity::insert_many(models)
        .exec_with_returning(txn)
        .await
        .map_err(AppError::from_db)?;
    // Positions follow ids, which follow the order of insertion.
    rows.sort_by_key(|row| row.id);
    let mut position = ahead;
    let mut by_child = HashMap::with_capacity(rows.len());
    for row in rows {
        let queued = (!row.in_draw).then(|| {
            position += 1;
            position
        });
        by_child.insert(row.child_id, (row, queued));
    }

    let mut outcomes = Vec::with_capacity(requests.len());
    for &(job, in_draw) in requests {
        let mut views = Vec::with_capacity(job.requested.len());
        for entry in &job.requested {
            let (row, position) = by_child.remove(&entry.child.id).ok_or_else(|| {
                tracing::error!(session.id, "a queued child has no waitlist row");
                AppError::Internal
            })?;
            if let Some(guardian) = entry.access.on_behalf_of() {
                audit::record(
                    txn,
                    AuditEntry {
                        actor: Some(job.actor),
                        on_behalf_of: Some(guardian),
                        district_code: audit::place_district(txn, session.place_id).await?,
                        action: if in_draw {
                            "draw.enter"
                        } else {
                            "waitlist.join"
                        },
                        target_kind: "waitlist_entry",
                        target_id: Some(row.id.to_string()),
                        detail: Some(json!({ "session_id": session.id })),
                    },
                    job.now,
                )
                .await?;
            }
            views.push(WaitlistView {
                id: row.id,
                session_id: session.id,
                session_title: session.title.clone(),
                place_name: job.place_name.clone(),
                starts_at: session.starts_at,
                child_id: entry.child.id,
                child_name: entry.child.display_name.clone(),
                status: WaitlistStatus::Waiting,
                position: position.map(|position| u32::try_from(position).unwrap_or(u32::MAX)),
                in_draw,
                offer_expires_at: None,
            });
        }
        outcomes.push(if in_draw {
            BookOutcome::InDraw { entries: views }
        } else {
            BookOutcome::Waitlisted { entries: views }
        });
    }
    Ok(outcomes)
}

/// Hands one freed place on: to the first waiting child who may still take
/// it, as a timed offer, or back to the open places when there is none or
/// when the booking cut-off is too near. The session must be locked.
async fn release_place(
    txn: &DatabaseTransaction,
    rules: &BookingRules,
    session_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let session = care_session::Entity::find_by_id(session_id)
        .one(txn)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let undrawn = draw_ends_at(&session).is_some() && session.drawn_at.is_none();
    if !undrawn
        && let Some(deadline) = rules.offer_deadline(session.starts_at, closes_at(&session), now)
    {
        // Skipped entries leave the queue, so each batch starts at its head.
        loop {
            let batch = queue(txn, session.id, QUEUE_BATCH).await?;
            let exhausted = batch.len() < QUEUE_BATCH as usize;
            for entry in batch {
                let Some(child) = child::Entity::find_by_id(entry.child_id)
                    .one(txn)
                    .await
                    .map_err(AppError::from_db)?
                else {
                    close_entry(txn, &entry, WaitlistStatus::Skipped, None, now).await?;
                    continue;
                };
                if let Err(refusal) = check_child(txn, rules, &session, &child).await? {
                    close_entry(txn, &entry, WaitlistStatus::Skipped, Some(refusal), now).await?;
                    continue;
                }
                let offered = waitlist_entry::Entity::update_many()
                    .col_expr(
                        waitlist_entry::Column::Status,
                        Expr::value(WaitlistStatus::Offered.as_str()),
                    )
                    .col_expr(waitlist_entry::Column::OfferedAt, Expr::value(now))
                    .col_expr(
                        waitlist_entry::Column::OfferExpiresAt,
                        Expr::value(deadline),
                    )
                    .filter(waitlist_entry::Column::Id.eq(entry.id))
                    .filter(waitlist_entry::Column::Status.eq(WaitlistStatus::Waiting.as_str()))
                    .exec(txn)
                    .await
                    .map_err(AppError::from_db)?
                    .rows_affected;
                if offered == 1 {
                    notify_family(
                        txn,
                        entry.family_id,
                        entry.joined_by,
                        NotificationKind::OfferReceived,
                        session.id,
                        json!({ "child_id": entry.child_id, "entry_id": entry.id, "deadline": deadline }),
                        now,
                    )
                    .await?;
                    return Ok(());
                }
            }
            if exhausted {
                break;
            }
        }
    }
    if !adjust_taken(txn, session.id, -1, now).await? {
        tracing::error!(session.id, "a released place was not counted as taken");
        return Err(AppError::Internal);
    }
    Ok(())
}

/// Entries read at a time when looking for the next child to offer a place.
const QUEUE_BATCH: u64 = 32;

/// Returns the first `limit` waiting entries of the session in queue
/// order: drawn entries by their rank, then the rest by arrival.
/// Entries still waiting for the draw are not in the queue yet.
async fn queue(
    txn: &impl ConnectionTrait,
    session_id: i64,
    limit: u64,
) -> Result<Vec<waitlist_entry::Model>, AppError> {
    waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::SessionId.eq(session_id))
        .filter(waitlist_entry::Column::Status.eq(WaitlistStatus::Waiting.as_str()))
        .filter(in_queue())
        .order_by_desc(waitlist_entry::Column::InDraw)
        .order_by_asc(waitlist_entry::Column::DrawRank)
        .order_by_asc(waitlist_entry::Column::Id)
        .limit(limit)
        .all(txn)
        .await
        .map_err(AppError::from_db)
}

/// Returns the number of entries in the session's queue.
async fn queue_length(txn: &impl ConnectionTrait, session_id: i64) -> Result<u64, AppError> {
    waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::SessionId.eq(session_id))
        .filter(waitlist_entry::Column::Status.eq(WaitlistStatus::Waiting.as_str()))
        .filter(in_queue())
        .count(txn)
        .await
        .map_err(AppError::from_db)
}

/// Entries in the queue: those not in a draw, and those the draw ranked.
fn in_queue() -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(waitlist_entry::Column::InDraw.eq(false))
        .add(waitlist_entry::Column::DrawRank.is_not_null())
}

/// Returns an entry's place in its session's queue, from 1, counting the
/// entries before it instead of reading the queue.
async fn queue_position(
    db: &impl ConnectionTrait,
    entry: &waitlist_entry::Model,
) -> Result<u32, AppError> {
    use sea_orm::Condition;

    let drawn = Condition::all()
        .add(waitlist_entry::Column::InDraw.eq(true))
        .add(waitlist_entry::Column::DrawRank.is_not_null());
    let ahead = match entry.draw_rank {
        // Drawn entries queue by rank, before everyone who came later.
        Some(rank) => drawn.add(waitlist_entry::Column::DrawRank.lt(rank)),
        None => Condition::any().add(drawn).add(
            Condition::all()
                .add(waitlist_entry::Column::InDraw.eq(false))
                .add(waitlist_entry::Column::Id.lt(entry.id)),
        ),
    };
    let count = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::SessionId.eq(entry.session_id))
        .filter(waitlist_entry::Column::Status.eq(WaitlistStatus::Waiting.as_str()))
        .filter(ahead)
        .count(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(u32::try_from(count + 1).unwrap_or(u32::MAX))
}

/// Closes a waiting or offered entry with `status`.
async fn close_entry(
    txn: &DatabaseTransaction,
    entry: &waitlist_entry::Model,
    status: WaitlistStatus,
    refusal: Option<Refusal>,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let note = refusal.map(|refusal| {
        serde_json::to_value(refusal)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default()
    });
    let closed = waitlist_entry::Entity::update_many()
        .col_expr(waitlist_entry::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            waitlist_entry::Column::ActiveChildId,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(waitlist_entry::Column::ClosedAt, Expr::value(now))
        .col_expr(waitlist_entry::Column::Note, Expr::value(note))
        .filter(waitlist_entry::Column::Id.eq(entry.id))
        .filter(waitlist_entry::Column::Status.eq(entry.status.as_str()))
        .exec(txn)
        .await
        .map_err(AppError::from_db)?
        .rows_affected;
    Ok(closed == 1)
}

/// Books the offered place for the entry's child.
pub async fn accept_offer(
    db: &DatabaseConnection,
    rules: &BookingRules,
    actor: i64,
    entry_id: i64,
    now: DateTime<Utc>,
) -> Result<BookingView, AppError> {
    let outcome = retry_busy!(async {
        let (txn, _turn) = begin_write(db).await?;
        let entry = waitlist_entry::Entity::find_by_id(entry_id)
            .one(&txn)
            .await
            .map_err(AppError::from_db)?
            .ok_or(AppError::NotFound)?;
        // The child's row, then the session's: the order of booking.
        let child = lock_child(&txn, entry.child_id).await?;
        let access = family::access_to_child(&txn, actor, &child).await?;
        let session = lock_session(&txn, entry.session_id).await?;
        let entry = waitlist_entry::Entity::find_by_id(entry_id)
            .one(&txn)
            .await
            .map_err(AppError::from_db)?
            .ok_or(AppError::NotFound)?;
        if entry.status != WaitlistStatus::Offered.as_str() {
            return Err(Refusal::OfferGone.into());
        }
        if entry
            .offer_expires_at
            .is_none_or(|deadline| deadline <= now)
        {
            // The expiry job has not got to it yet: expire it now.
            if close_entry(&txn, &entry, WaitlistStatus::Expired, None, now).await? {
                release_place(&txn, rules, session.id, now).await?;
            }
            txn.commit().await.map_err(AppError::from_db)?;
            return Ok(Err(Refusal::OfferGone));
        }
        if let Err(refusal) = check_child(&txn, rules, &session, &child).await? {
            if close_entry(&txn, &entry, WaitlistStatus::Skipped, Some(refusal), now).await? {
                release_place(&txn, rules, session.id, now).await?;
            }
            txn.commit().await.map_err(AppError::from_db)?;
            return Ok(Err(refusal));
        }
        close_entry(&txn, &entry, WaitlistStatus::Booked, None, now).await?;
        let requested = Requested { child, access };
        let row = insert_booking(&txn, actor, &session, &requested, now).await?;
        let view = booking_views(&txn, vec![row], now).await?;
        txn.commit().await.map_err(AppError::from_db)?;
        view.into_iter().next().map(Ok).ok_or(AppError::Internal)
    })?;
    outcome.map_err(AppError::from)
}

/// Declines an offer, or leaves the waitlist; an offered place passes on.
/// Leaving twice is not an error.
pub async fn leave_waitlist(
    db: &DatabaseConnection,
    rules: &BookingRules,
    actor: i64,
    entry_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    retry_busy!(async {
        let (txn, _turn) = begin_write(db).await?;
        let (entry, access) = find_entry(&txn, actor, entry_id).await?;
        lock_session(&txn, entry.session_id).await?;
        let entry = waitlist_entry::Entity::find_by_id(entry_id)
            .one(&txn)
            .await
            .map_err(AppError::from_db)?
            .ok_or(AppError::NotFound)?;
        let status = WaitlistStatus::parse(&entry.status);
        let closed = match status {
            Some(WaitlistStatus::Offered) => {
                let closed = close_entry(&txn, &entry, WaitlistStatus::Declined, None, now).await?;
                if closed {
                    release_place(&txn, rules, entry.session_id, now).await?;
                }
                closed
            }
            Some(WaitlistStatus::Waiting) => {
                close_entry(&txn, &entry, WaitlistStatus::Left, None, now).await?
            }
            _ => false,
        };
        if closed {
            audit::record(
                &txn,
                AuditEntry {
                    actor: Some(actor),
                    on_behalf_of: access.on_behalf_of(),
                    district_code: audit::session_district(&txn, entry.session_id).await?,
                    action: "waitlist.leave",
                    target_kind: "waitlist_entry",
                    target_id: Some(entry.id.to_string()),
                    detail: None,
                },
                now,
            )
            .await?;
        }
        txn.commit().await.map_err(AppError::from_db)
    })
}

/// Finds an entry of a child the actor may act for, with the actor's
/// access; others are `NotFound`.
async fn find_entry(
    txn: &DatabaseTransaction,
    actor: i64,
    entry_id: i64,
) -> Result<(waitlist_entry::Model, ChildAccess), AppError> {
    let entry = waitlist_entry::Entity::find_by_id(entry_id)
        .one(txn)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let access = family::child_access(txn, actor, entry.child_id).await?;
    Ok((entry, access))
}

/// Cancels a booking for the family. After the cancellation cut-off it is
/// recorded as late. Cancelling a cancelled booking changes nothing, so a
/// place is released once however many requests arrive.
pub async fn cancel(
    db: &DatabaseConnection,
    rules: &BookingRules,
    actor: i64,
    booking_id: i64,
    now: DateTime<Utc>,
) -> Result<BookingView, AppError> {
    retry_busy!(async {
        let (txn, _turn) = begin_write(db).await?;
        let row = booking::Entity::find_by_id(booking_id)
            .one(&txn)
            .await
            .map_err(AppError::from_db)?
            .ok_or(AppError::NotFound)?;
        let access = family::child_access(&txn, actor, row.child_id).await?;
        let session = lock_session(&txn, row.session_id).await?;
        if now >= session.ends_at {
            return Err(Refusal::SessionOver.into());
        }
        let cancel_until = session.cancel_until.unwrap_or(session.starts_at);
        let kind = if now >= cancel_until {
            CancelKind::Late
        } else {
            CancelKind::Family
        };
        if mark_cancelled(&txn, booking_id, actor, kind, None, now).await? {
            release_place(&txn, rules, session.id, now).await?;
            audit::record(
                &txn,
                AuditEntry {
                    actor: Some(actor),
                    on_behalf_of: access.on_behalf_of(),
                    district_code: audit::place_district(&txn, session.place_id).await?,
                    action: "booking.cancel",
                    target_kind: "booking",
                    target_id: Some(booking_id.to_string()),
                    detail: Some(json!({ "kind": kind.as_str() })),
                },
                now,
            )
            .await?;
        }
        let row = booking::Entity::find_by_id(booking_id)
            .one(&txn)
            .await
            .map_err(AppError::from_db)?
            .ok_or(AppError::NotFound)?;
        let view = booking_views(&txn, vec![row], now).await?;
        txn.commit().await.map_err(AppError::from_db)?;
        view.into_iter().next().ok_or(AppError::Internal)
    })
}

/// Marks a confirmed booking cancelled; returns false when it was not
/// confirmed any more.
async fn mark_cancelled(
    txn: &DatabaseTransaction,
    booking_id: i64,
    actor: i64,
    kind: CancelKind,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let changed = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value("cancelled"))
        .col_expr(
            booking::Column::ActiveChildId,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(booking::Column::CancelledAt, Expr::value(now))
        .col_expr(booking::Column::CancelledBy, Expr::value(actor))
        .col_expr(booking::Column::CancelKind, Expr::value(kind.as_str()))
        .col_expr(
            booking::Column::CancelReason,
            Expr::value(reason.map(str::to_owned)),
        )
        .filter(booking::Column::Id.eq(booking_id))
        .filter(booking::Column::Status.eq("confirmed"))
        .exec(txn)
        .await
        .map_err(AppError::from_db)?
        .rows_affected;
    Ok(changed == 1)
}

/// Returns whether the viewer runs the place: its staff, an administrator
/// of its district, or a city administrator.
pub async fn may_manage_place(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    place_id: i64,
) -> Result<bool, AppError> {
    use crate::entity::district;
    if viewer.is_staff_of(place_id) {
        return Ok(true);
    }
    let codes = viewer.district_codes();
    if codes.is_empty() {
        return Ok(false);
    }
    let Some(row) = place::Entity::find_by_id(place_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
    else {
        return Ok(false);
    };
    let Some(name) = row.district else {
        return Ok(false);
    };
    let found = district::Entity::find()
        .filter(district::Column::Code.is_in(codes))
        .filter(district::Column::Name.eq(name))
        .one(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(found.is_some())
}

/// Cancels a booking for the room's staff, with a reason shown to the family.
pub async fn cancel_by_staff(
    db: &DatabaseConnection,
    rules: &BookingRules,
    viewer: &Viewer,
    booking_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let reason = reason.trim();
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON_CHARS
        || reason.chars().any(char::is_control)
    {
        return Err(AppError::invalid(
            "reason",
            format!("must be 1 to {MAX_REASON_CHARS} characters on one line"),
        ));
    }
    retry_busy!(async {
        let (txn, _turn) = begin_write(db).await?;
        let row = booking::Entity::find_by_id(booking_id)
            .one(&txn)
            .await
            .map_err(AppError::from_db)?
            .ok_or(AppError::NotFound)?;
        let session = lock_session(&txn, row.session_id).await?;
        if !may_manage_place(&txn, viewer, session.place_id).await? {
            return Err(AppError::NotFound);
        }
        if mark_cancelled(
            &txn,
            booking_id,
            viewer.account_id,
            CancelKind::Staff,
            Some(reason),
            now,
        )
        .await?
        {
            release_place(&txn, rules, session.id, now).await?;
            notify_family(
                &txn,
                row.family_id,
                row.booked_by,
                NotificationKind::CancelledByStaff,
                session.id,
                json!({ "child_id": row.child_id, "booking_id": row.id, "reason": reason }),
                now,
            )
            .await?;
            audit::record(
                &txn,
                AuditEntry {
                    actor: Some(viewer.account_id),
                    on_behalf_of: None,
                    district_code: audit::place_district(&txn, session.place_id).await?,
                    action: "booking.cancel_by_staff",
                    target_kind: "booking",
                    target_id: Some(booking_id.to_string()),
                    detail: Some(json!({ "session_id": session.id })),
                },
                now,
            )
            .await?;
        }
        txn.commit().await.map_err(AppError::from_db)
    })
}

/// Cancels the bookings and closes the waitlist entries of children whose
/// records are about to be deleted, handing their places on. Runs in the
/// caller's transaction, which must have started as a write.
pub async fn release_children(
    txn: &DatabaseTransaction,
    rules: &BookingRules,
    actor: i64,
    child_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if child_ids.is_empty() {
        return Ok(());
    }
    let bookings = booking::Entity::find()
        .filter(booking::Column::ActiveChildId.is_in(child_ids.to_vec()))
        .order_by_asc(booking::Column::SessionId)
        .all(txn)
        .await
        .map_err(AppError::from_db)?;
    for row in bookings {
        let session = lock_session(txn, row.session_id).await?;
        if mark_cancelled(txn, row.id, actor, CancelKind::Withdrawn, None, now).await?
            && now < session.ends_at
        {
            release_place(txn, rules, session.id, now).await?;
        } else if now >= session.ends_at {
            adjust_taken(txn, session.id, -1, now).await?;
        }
    }
    let entries = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::ActiveChildId.is_in(child_ids.to_vec()))
        .order_by_asc(waitlist_entry::Column::SessionId)
        .all(txn)
        .await
        .map_err(AppError::from_db)?;
    for entry in entries {
        lock_session(txn, entry.session_id).await?;
        let offered = entry.status == WaitlistStatus::Offered.as_str();
        if close_entry(txn, &entry, WaitlistStatus::Left, None, now).await? && offered {
            release_place(txn, rules, entry.session_id, now).await?;
        }
    }
    Ok(())
}

/// Expires the offers whose deadline has passed and hands their places on.
/// Safe to run on every server at once: each offer expires in a
/// transaction that locks its session and changes it only if still open.
pub async fn expire_offers(
    db: &DatabaseConnection,
    rules: &BookingRules,
    now: DateTime<Utc>,
) -> Result<u32, AppError> {
    let due = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::Status.eq(WaitlistStatus::Offered.as_str()))
        .filter(waitlist_entry::Column::OfferExpiresAt.lte(now))
        .order_by_asc(waitlist_entry::Column::OfferExpiresAt)
        .limit(200)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let mut expired = 0;
    for entry in due {
        let done = retry_busy!(async {
            let (txn, _turn) = begin_write(db).await?;
            lock_session(&txn, entry.session_id).await?;
            let Some(current) = waitlist_entry::Entity::find_by_id(entry.id)
                .one(&txn)
                .await
                .map_err(AppError::from_db)?
            else {
                return Ok(false);
            };
            let due = current.status == WaitlistStatus::Offered.as_str()
                && current
                    .offer_expires_at
                    .is_some_and(|deadline| deadline <= now);
            if !due || !close_entry(&txn, &current, WaitlistStatus::Expired, None, now).await? {
                return Ok(false);
            }
            notify_family(
                &txn,
                current.family_id,
                current.joined_by,
                NotificationKind::OfferExpired,
                current.session_id,
                json!({ "child_id": current.child_id, "entry_id": current.id }),
                now,
            )
            .await?;
            release_place(&txn, rules, current.session_id, now).await?;
            txn.commit().await.map_err(AppError::from_db)?;
            Ok(true)
        })?;
        expired += u32::from(done);
    }
    Ok(expired)
}

/// Runs the fair-release draw of every session whose window has closed.
pub async fn run_due_draws(
    db: &DatabaseConnection,
    rules: &BookingRules,
    now: DateTime<Utc>,
) -> Result<u32, AppError> {
    let candidates = due_draw_candidates(now)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let mut drawn = 0;
    for session in candidates {
        if draw_ends_at(&session).is_none_or(|ends| ends > now) {
            continue;
        }
        let done = retry_busy!(async {
            let (txn, _turn) = begin_write(db).await?;
            let session = lock_session(&txn, session.id).await?;
            if session.drawn_at.is_some() {
                return Ok(false);
            }
            run_draw(&txn, rules, &session, now).await?;
            txn.commit().await.map_err(AppError::from_db)?;
            Ok(true)
        })?;
        drawn += u32::from(done);
    }
    Ok(drawn)
}

/// Builds the query for the fair-release sessions that [`run_due_draws`]
/// may draw at `now`: not drawn yet, booking open and not ended, at most
/// 200 a run.
///
/// The release mode is a literal in the SQL, not a bound parameter, so the
/// partial index `idx_care_session_due_draw` (`WHERE release_mode =
/// 'fair_release' AND drawn_at IS NULL`) serves PostgreSQL's generic plan
/// too, which cannot see parameter values. With a parameter, PostgreSQL
/// 15's generic plan scans the whole table.
pub fn due_draw_candidates(now: DateTime<Utc>) -> Select<care_session::Entity> {
    let fair_release = Expr::cust(format!("'{}'", ReleaseMode::FairRelease.as_str()));
    care_session::Entity::find()
        .filter(Expr::col(care_session::Column::ReleaseMode).eq(fair_release))
        .filter(care_session::Column::DrawnAt.is_null())
        .filter(care_session::Column::BookingOpensAt.lte(now))
        .filter(care_session::Column::EndsAt.gt(now))
        .limit(200)
}

/// Returns the draw order of `entries` (id and priority group rank) for
/// `seed`: members of a group first, by rank (1 first), then everyone else
/// ([`priority::NO_GROUP`]), each part ordered by the SHA-256 of the seed
/// and the entry id, both as 8-byte little-endian integers. Anyone with the
/// seed, the entry ids and their ranks can compute it again.
pub fn draw_order(seed: i64, entries: &[(i64, i32)]) -> Vec<i64> {
    let mut keyed: Vec<(bool, i32, [u8; 32], i64)> = entries
        .iter()
        .map(|&(id, rank)| {
            let mut hasher = Sha256::new();
            hasher.update(seed.to_le_bytes());
            hasher.update(id.to_le_bytes());
            (
                rank == priority::NO_GROUP,
                rank,
                hasher.finalize().into(),
                id,
            )
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, _, _, id)| id).collect()
}

/// Draws the fair-release requests: ranks them with a fresh seed, gives the
/// free places in that order to children who may still take them, and
/// leaves the rest waiting in rank order. The session must be locked.
async fn run_draw(
    txn: &DatabaseTransaction,
    rules: &BookingRules,
    session: &care_session::Model,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let seed: i64 = rand::thread_rng().r#gen();
    let entries = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::SessionId.eq(session.id))
        .filter(waitlist_entry::Column::InDraw.eq(true))
        .filter(waitlist_entry::Column::Status.eq(WaitlistStatus::Waiting.as_str()))
        .all(txn)
        .await
        .map_err(AppError::from_db)?;
    // Ranks are read at the draw, so a group granted or revoked while the
    // window was open counts, and stored with the entry for the record.
    let ranks = if session.draw_by_priority {
        let child_ids: Vec<i64> = entries.iter().map(|entry| entry.child_id).collect();
        priority::ranks(txn, &child_ids).await?
    } else {
        HashMap::new()
    };
    let rank_of = |entry: &waitlist_entry::Model| {
        ranks
            .get(&entry.child_id)
            .copied()
            .unwrap_or(priority::NO_GROUP)
    };
    let keys: Vec<(i64, i32)> = entries.iter().map(|e| (e.id, rank_of(e))).collect();
    let order = draw_order(seed, &keys);
    let rank_by_id: HashMap<i64, i32> = keys.iter().copied().collect();
    let by_id: HashMap<i64, waitlist_entry::Model> =
        entries.into_iter().map(|entry| (entry.id, entry)).collect();
    for (rank, id) in order.iter().enumerate() {
        waitlist_entry::Entity::update_many()
            .col_expr(
                waitlist_entry::Column::DrawRank,
                Expr::value(i32::try_from(rank + 1).unwrap_or(i32::MAX)),
            )
            .col_expr(
                waitlist_entry::Column::Priority,
                Expr::value(rank_by_id.get(id).copied().unwrap_or(priority::NO_GROUP)),
            )
            .filter(waitlist_entry::Column::Id.eq(*id))
            .exec(txn)
            .await
            .map_err(AppError::from_db)?;
    }
    care_session::Entity::update_many()
        .col_expr(care_session::Column::DrawnAt, Expr::value(now))
        .col_expr(care_session::Column::DrawSeed, Expr::value(seed))
        .filter(care_session::Column::Id.eq(session.id))
        .exec(txn)
        .await
        .map_err(AppError::from_db)?;
    for id in &order {
        let Some(entry) = by_id.get(id) else { continue };
        let Some(child) = child::Entity::find_by_id(entry.child_id)
            .one(txn)
            .await
            .map_err(AppError::from_db)?
        else {
            continue;
        };
        if let Err(refusal) = check_child(txn, rules, session, &child).await? {
            close_entry(txn, entry, WaitlistStatus::Skipped, Some(refusal), now).await?;
            continue;
        }
        if !adjust_taken(txn, session.id, 1, now).await? {
            notify_family(
                txn,
                entry.family_id,
                entry.joined_by,
                NotificationKind::DrawLost,
                session.id,
                json!({ "child_id": entry.child_id, "entry_id": entry.id }),
                now,
            )
            .await?;
            continue;
        }
        close_entry(txn, entry, WaitlistStatus::Booked, None, now).await?;
        let actor = entry.joined_by.unwrap_or_default();
        let access = match family::child_access(txn, actor, child.id).await {
            Ok(access) => access,
            // The carer who asked lost the delegation: book for the family.
            Err(_) => ChildAccess::Guardian {
                family_id: entry.family_id,
            },
        };
        insert_booking(txn, actor, session, &Requested { child, access }, now).await?;
    }
    audit::record(
        txn,
        AuditEntry {
            actor: None,
            on_behalf_of: None,
            district_code: audit::place_district(txn, session.place_id).await?,
            action: "session.draw",
            target_kind: "care_session",
            target_id: Some(session.id.to_string()),
            detail: Some(json!({ "seed": seed, "order": order })),
        },
        now,
    )
    .await
}

/// The published record of a fair-release draw.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DrawRecord {
    pub session_id: i64,
    pub drawn_at: DateTime<Utc>,
    pub seed: i64,
    /// Entry ids with their priority group, in drawn order.
    pub entries: Vec<DrawnEntry>,
}

/// One request in a draw, without anything that identifies the child.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DrawnEntry {
    pub entry_id: i64,
    pub priority: i32,
    pub rank: u32,
}

/// Returns the record of a session's draw, for anyone to check.
pub async fn draw_record(
    db: &impl ConnectionTrait,
    session_id: i64,
) -> Result<DrawRecord, AppError> {
    let session = care_session::Entity::find_by_id(session_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let (Some(drawn_at), Some(seed)) = (session.drawn_at, session.draw_seed) else {
        return Err(AppError::NotFound);
    };
    let entries = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::SessionId.eq(session_id))
        .filter(waitlist_entry::Column::DrawRank.is_not_null())
        .order_by_asc(waitlist_entry::Column::DrawRank)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(DrawRecord {
        session_id,
        drawn_at,
        seed,
        entries: entries
            .into_iter()
            .map(|entry| DrawnEntry {
                entry_id: entry.id,
                priority: entry.priority,
                rank: entry
                    .draw_rank
                    .and_then(|rank| u32::try_from(rank).ok())
                    .unwrap_or_default(),
            })
            .collect(),
    })
}

/// Writes a reminder to each family with a booking that starts within the
/// next day; each booking gets one, whichever server sends it.
pub async fn send_reminders(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u32, AppError> {
    let soon = Query::select()
        .column(care_session::Column::Id)
        .from(care_session::Entity)
        .and_where(Expr::col(care_session::Column::StartsAt).gt(now))
        .and_where(Expr::col(care_session::Column::StartsAt).lte(now + Duration::days(1)))
        .to_owned();
    let due = booking::Entity::find()
        .filter(booking::Column::SessionId.in_subquery(soon))
        .filter(booking::Column::Status.eq("confirmed"))
        .filter(booking::Column::RemindedAt.is_null())
        .limit(500)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let mut sent = 0;
    for row in due {
        let (txn, _turn) = crate::db::begin_write(db)
            .await
            .map_err(AppError::from_db)?;
        let claimed = booking::Entity::update_many()
            .col_expr(booking::Column::RemindedAt, Expr::value(now))
            .filter(booking::Column::Id.eq(row.id))
            .filter(booking::Column::RemindedAt.is_null())
            .exec(&txn)
            .await
            .map_err(AppError::from_db)?
            .rows_affected;
        if claimed == 1 {
            notify_family(
                &txn,
                row.family_id,
                row.booked_by,
                NotificationKind::Reminder,
                row.session_id,
                json!({ "child_id": row.child_id, "booking_id": row.id }),
                now,
            )
            .await?;
            sent += 1;
        }
        txn.commit().await.map_err(AppError::from_db)?;
    }
    Ok(sent)
}

/// Writes a notification to the family's guardian, and to the carer who
/// acted when that is someone else.
async fn notify_family(
    txn: &impl ConnectionTrait,
    family_id: i64,
    actor: Option<i64>,
    kind: NotificationKind,
    session_id: i64,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let guardian = family_entity::Entity::find_by_id(family_id)
        .one(txn)
        .await
        .map_err(AppError::from_db)?
        .map(|row| row.guardian_account_id);
    let mut recipients: BTreeSet<i64> = guardian.into_iter().collect();
    if let Some(actor) = actor
        && actor != 0
    {
        recipients.insert(actor);
    }
    for account_id in recipients {
        notification::ActiveModel {
            account_id: Set(account_id),
            kind: Set(kind.as_str().to_owned()),
            session_id: Set(Some(session_id)),
            detail: Set(Some(detail.clone())),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(AppError::from_db)?;
    }
    Ok(())
}

/// Returns the children the account may act for: its own and those it
/// cares for through a live delegation.
pub async fn reachable_children(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Vec<i64>, AppError> {
    let mut ids = BTreeSet::new();
    if let Some(family_id) = family::family_of(db, account_id).await? {
        let own = child::Entity::find()
            .filter(child::Column::FamilyId.eq(family_id))
            .all(db)
            .await
            .map_err(AppError::from_db)?;
        ids.extend(own.into_iter().map(|row| row.id));
    }
    let delegated = delegation::Entity::find()
        .filter(delegation::Column::CarerAccountId.eq(account_id))
        .filter(delegation::Column::RevokedAt.is_null())
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    ids.extend(delegated.into_iter().map(|row| row.child_id));
    Ok(ids.into_iter().collect())
}

/// Returns the bookings and waitlist entries of every child the account
/// may act for.
pub async fn my_bookings(
    db: &impl ConnectionTrait,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<MyBookings, AppError> {
    let children = reachable_children(db, account_id).await?;
    if children.is_empty() {
        return Ok(MyBookings {
            upcoming: Vec::new(),
            waitlist: Vec::new(),
            past: Vec::new(),
        });
    }
    let rows = booking::Entity::find()
        .filter(booking::Column::ChildId.is_in(children.clone()))
        .order_by_desc(booking::Column::Id)
        .limit(200)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let views = booking_views(db, rows, now).await?;
    let (mut upcoming, mut past): (Vec<_>, Vec<_>) = views
        .into_iter()
        .partition(|view| view.status == BookingStatus::Confirmed && view.ends_at > now);
    upcoming.sort_by_key(|view| (view.starts_at, view.id));
    past.truncate(20);
    let entries = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::ChildId.is_in(children))
        .filter(waitlist_entry::Column::ActiveChildId.is_not_null())
        .order_by_asc(waitlist_entry::Column::Id)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let mut waitlist = waitlist_views(db, entries).await?;
    waitlist.retain(|entry| entry.starts_at > now);
    Ok(MyBookings {
        upcoming,
        waitlist,
        past,
    })
}

/// Returns one booking of a child the account may act for.
pub async fn get_booking(
    db: &impl ConnectionTrait,
    account_id: i64,
    booking_id: i64,
    now: DateTime<Utc>,
) -> Result<BookingView, AppError> {
    let row = booking::Entity::find_by_id(booking_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    family::child_access(db, account_id, row.child_id).await?;
    booking_views(db, vec![row], now)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)
}

/// Returns a session with its booking rules.
pub async fn session_detail(
    db: &impl ConnectionTrait,
    session_id: i64,
) -> Result<SessionDetail, AppError> {
    let row = care_session::Entity::find_by_id(session_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let place_row = place::Entity::find_by_id(row.place_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let waiting = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::SessionId.eq(session_id))
        .filter(waitlist_entry::Column::ActiveChildId.is_not_null())
        .count(db)
        .await
        .map_err(AppError::from_db)?;
    let release_mode = ReleaseMode::parse(&row.release_mode).unwrap_or(ReleaseMode::FirstCome);
    Ok(SessionDetail {
        place_id: row.place_id,
        place_name: place_row.name,
        booking_opens_at: row.booking_opens_at,
        booking_closes_at: closes_at(&row),
        cancel_until: row.cancel_until.unwrap_or(row.starts_at),
        guardian_attends: row.guardian_attends,
        release_mode,
        release_window_minutes: u32::try_from(row.release_window_minutes).unwrap_or(0),
        draw_by_priority: row.draw_by_priority,
        waiting: u32::try_from(waiting).unwrap_or(u32::MAX),
        updated_at: row.updated_at,
        session: crate::domain::places::summarise_session(row)?,
    })
}

/// The names and times that views show next to a booking or an entry.
struct Context {
    sessions: HashMap<i64, care_session::Model>,
    places: HashMap<i64, String>,
    children: HashMap<i64, String>,
}

async fn context(
    db: &impl ConnectionTrait,
    session_ids: Vec<i64>,
    child_ids: Vec<i64>,
) -> Result<Context, AppError> {
    let sessions: HashMap<i64, care_session::Model> = care_session::Entity::find()
        .filter(care_session::Column::Id.is_in(session_ids))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let place_ids: BTreeSet<i64> = sessions.values().map(|row| row.place_id).collect();
    let places = place::Entity::find()
        .filter(place::Column::Id.is_in(place_ids))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|row| (row.id, row.name))
        .collect();
    let children = child::Entity::find()
        .filter(child::Column::Id.is_in(child_ids))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|row| (row.id, row.display_name))
        .collect();
    Ok(Context {
        sessions,
        places,
        children,
    })
}

async fn booking_views(
    db: &impl ConnectionTrait,
    rows: Vec<booking::Model>,
    now: DateTime<Utc>,
) -> Result<Vec<BookingView>, AppError> {
    let context = context(
        db,
        rows.iter().map(|row| row.session_id).collect(),
        rows.iter().map(|row| row.child_id).collect(),
    )
    .await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(session) = context.sessions.get(&row.session_id) else {
            continue;
        };
        let confirmed = row.status == "confirmed";
        views.push(BookingView {
            id: row.id,
            session_id: row.session_id,
            session_title: session.title.clone(),
            place_id: session.place_id,
            place_name: context
                .places
                .get(&session.place_id)
                .cloned()
                .unwrap_or_default(),
            starts_at: session.starts_at,
            ends_at: session.ends_at,
            child_id: row.child_id,
            child_name: context
                .children
                .get(&row.child_id)
                .cloned()
                .unwrap_or_default(),
            status: if confirmed {
                BookingStatus::Confirmed
            } else {
                BookingStatus::Cancelled
            },
            check_in_code: confirmed.then(|| row.check_in_code.clone()),
            cancel_kind: row.cancel_kind.as_deref().and_then(CancelKind::parse),
            cancel_reason: row.cancel_reason,
            cancel_is_late: now >= session.cancel_until.unwrap_or(session.starts_at),
            created_at: row.created_at,
        });
    }
    Ok(views)
}

async fn waitlist_views(
    db: &impl ConnectionTrait,
    rows: Vec<waitlist_entry::Model>,
) -> Result<Vec<WaitlistView>, AppError> {
    let context = context(
        db,
        rows.iter().map(|row| row.session_id).collect(),
        rows.iter().map(|row| row.child_id).collect(),
    )
    .await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(session) = context.sessions.get(&row.session_id) else {
            continue;
        };
        let status = WaitlistStatus::parse(&row.status).unwrap_or(WaitlistStatus::Left);
        let in_queue =
            status == WaitlistStatus::Waiting && !(row.in_draw && row.draw_rank.is_none());
        let position = if in_queue {
            Some(queue_position(db, &row).await?)
        } else {
            None
        };
        views.push(WaitlistView {
            id: row.id,
            session_id: row.session_id,
            session_title: session.title.clone(),
            place_name: context
                .places
                .get(&session.place_id)
                .cloned()
                .unwrap_or_default(),
            starts_at: session.starts_at,
            child_id: row.child_id,
            child_name: context
                .children
                .get(&row.child_id)
                .cloned()
                .unwrap_or_default(),
            status,
            position,
            in_draw: row.in_draw && row.draw_rank.is_none(),
            offer_expires_at: (status == WaitlistStatus::Offered)
                .then_some(row.offer_expires_at)
                .flatten(),
        });
    }
    Ok(views)
}

/// Publishes a session at a place that the viewer runs.
pub async fn create_session(
    db: &DatabaseConnection,
    viewer: &Viewer,
    place_id: i64,
    input: &NewSession,
    now: DateTime<Utc>,
) -> Result<SessionDetail, AppError> {
    if !may_manage_place(db, viewer, place_id).await? {
        return Err(AppError::Forbidden);
    }
    let title = crate::validate::one_line("title", &input.title, 100)?;
    if input.starts_at <= now {
        return Err(AppError::invalid("starts_at", "must be in the future"));
    }
    if input.ends_at <= input.starts_at || input.ends_at - input.starts_at > Duration::hours(24) {
        return Err(AppError::invalid(
            "ends_at",
            "must be after the start and at most 24 hours later",
        ));
    }
    if !(1..=500).contains(&input.capacity) {
        return Err(AppError::invalid("capacity", "must be from 1 to 500"));
    }
    if input.max_age_months > 72 || input.min_age_months > input.max_age_months {
        return Err(AppError::invalid(
            "max_age_months",
            "must be at most 72 and not below the minimum age",
        ));
    }
    if input.price_fen > 1_000_000 {
        return Err(AppError::invalid(
            "price_fen",
            "must be at most 1000000 fen",
        ));
    }
    let closes = input.booking_closes_at.unwrap_or(input.starts_at);
    if closes > input.ends_at {
        return Err(AppError::invalid(
            "booking_closes_at",
            "must not be after the session ends",
        ));
    }
    if input.booking_opens_at.is_some_and(|opens| opens >= closes) {
        return Err(AppError::invalid(
            "booking_opens_at",
            "must be before booking closes",
        ));
    }
    if input
        .cancel_until
        .is_some_and(|until| until > input.ends_at)
    {
        return Err(AppError::invalid(
            "cancel_until",
            "must not be after the session ends",
        ));
    }
    let window = input.release_window_minutes.unwrap_or(10);
    if input.release_mode == ReleaseMode::FairRelease
        && (input.booking_opens_at.is_none() || !(1..=120).contains(&window))
    {
        return Err(AppError::invalid(
            "release_mode",
            "a fair release needs an opening time and a window of 1 to 120 minutes",
        ));
    }
    if input.draw_by_priority && input.release_mode != ReleaseMode::FairRelease {
        return Err(AppError::invalid(
            "draw_by_priority",
            "priority groups apply only to a fair release",
        ));
    }
    let count = |value: u32| i32::try_from(value).map_err(|_| AppError::Internal);
    let row = care_session::ActiveModel {
        place_id: Set(place_id),
        kind: Set(input.kind.as_str().to_owned()),
        title: Set(title),
        starts_at: Set(input.starts_at),
        ends_at: Set(input.ends_at),
        capacity: Set(count(input.capacity)?),
        booked: Set(0),
        min_age_months: Set(count(input.min_age_months)?),
        max_age_months: Set(count(input.max_age_months)?),
        price_fen: Set(count(input.price_fen)?),
        is_demo: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        booking_opens_at: Set(input.booking_opens_at),
        booking_closes_at: Set(input.booking_closes_at),
        cancel_until: Set(input.cancel_until),
        guardian_attends: Set(input.guardian_attends),
        release_mode: Set(input.release_mode.as_str().to_owned()),
        release_window_minutes: Set(count(window)?),
        drawn_at: Set(None),
        draw_seed: Set(None),
        draw_by_priority: Set(input.draw_by_priority),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(AppError::from_db)?;
    audit::record(
        db,
        AuditEntry {
            actor: Some(viewer.account_id),
            on_behalf_of: None,
            district_code: audit::place_district(db, place_id).await?,
            action: "session.create",
            target_kind: "care_session",
            target_id: Some(row.id.to_string()),
            detail: Some(json!({ "place_id": place_id })),
        },
        now,
    )
    .await?;
    session_detail(db, row.id).await
}

/// Returns the check-in QR code of a confirmed booking as SVG. It encodes
/// `NINGYU:{booking id}:{code}`, which staff scan or type at the door.
pub async fn check_in_qr(
    db: &impl ConnectionTrait,
    account_id: i64,
    booking_id: i64,
) -> Result<String, AppError> {
    let row = booking::Entity::find_by_id(booking_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    family::child_access(db, account_id, row.child_id).await?;
    if row.status != "confirmed" {
        return Err(AppError::NotFound);
    }
    let text = format!("NINGYU:{}:{}", row.id, row.check_in_code);
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|error| {
        tracing::error!(%error, "QR code cannot be made");
        AppError::Internal
    })?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(160, 160)
        .quiet_zone(true)
        .build())
}

/// Returns the confirmed bookings of a session for the staff who run its
/// place, with each child's care notes. Reading them is audited; anyone
/// else gets `NotFound`.
pub async fn roster(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    session_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<RosterEntry>, AppError> {
    let session = care_session::Entity::find_by_id(session_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    if !may_manage_place(db, viewer, session.place_id).await? {
        return Err(AppError::NotFound);
    }
    let rows = booking::Entity::find()
        .filter(booking::Column::SessionId.eq(session_id))
        .filter(booking::Column::Status.eq("confirmed"))
        .order_by_asc(booking::Column::Id)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in &rows {
        entries.push(roster_entry(db, &session, row).await?);
    }
    audit::record(
        db,
        AuditEntry {
            actor: Some(viewer.account_id),
            on_behalf_of: None,
            district_code: audit::place_district(db, session.place_id).await?,
            action: "session.roster_read",
            target_kind: "care_session",
            target_id: Some(session_id.to_string()),
            detail: Some(json!({ "children": entries.len() })),
        },
        now,
    )
    .await?;
    Ok(entries)
}

async fn roster_entry(
    db: &impl ConnectionTrait,
    session: &care_session::Model,
    row: &booking::Model,
) -> Result<RosterEntry, AppError> {
    let child = child::Entity::find_by_id(row.child_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let guardian = family_entity::Entity::find_by_id(row.family_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let guardian_name = crate::entity::account::Entity::find_by_id(guardian.guardian_account_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .map(|account| account.display_name)
        .unwrap_or_default();
    Ok(RosterEntry {
        booking_id: row.id,
        child_name: child.display_name,
        age_months: age_in_months(child.birth_date, local_date(session.starts_at)),
        care_notes: child.care_notes,
        guardian_name,
        checked_in_at: row.checked_in_at,
    })
}

/// Checks a child in at the door by the booking's code, typed (case, spaces
/// and dashes do not matter) or scanned from its QR code
/// (`NINGYU:{id}:{code}`). Checking in twice keeps the first time, and the
/// outcome tells which happened. Staff of other places, and unknown codes,
/// get `NotFound`.
pub async fn check_in(
    db: &DatabaseConnection,
    viewer: &Viewer,
    session_id: i64,
    code: &str,
    now: DateTime<Utc>,
) -> Result<CheckInOutcome, AppError> {
    let session = care_session::Entity::find_by_id(session_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    if !may_manage_place(db, viewer, session.place_id).await? {
        return Err(AppError::NotFound);
    }
    let typed = code.trim();
    let code = typed.rsplit(':').next().unwrap_or(typed);
    let code: String = code
        .chars()
        .filter(|ch| !ch.is_whitespace() && *ch != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    if code.len() != CODE_LENGTH {
        return Err(AppError::NotFound);
    }
    let row = booking::Entity::find()
        .filter(booking::Column::SessionId.eq(session_id))
        .filter(booking::Column::CheckInCode.eq(code.as_str()))
        .filter(booking::Column::Status.eq("confirmed"))
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let first = booking::Entity::update_many()
        .col_expr(booking::Column::CheckedInAt, Expr::value(now))
        .filter(booking::Column::Id.eq(row.id))
        .filter(booking::Column::CheckedInAt.is_null())
        .exec(db)
        .await
        .map_err(AppError::from_db)?
        .rows_affected
        == 1;
    if first {
        audit::record(
            db,
            AuditEntry {
                actor: Some(viewer.account_id),
                on_behalf_of: None,
                district_code: audit::place_district(db, session.place_id).await?,
                action: "booking.check_in",
                target_kind: "booking",
                target_id: Some(row.id.to_string()),
                detail: None,
            },
            now,
        )
        .await?;
    }
    let row = booking::Entity::find_by_id(row.id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    Ok(CheckInOutcome {
        entry: roster_entry(db, &session, &row).await?,
        first,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|instant| instant.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn offer_window_shrinks_with_lead_time_and_stops_at_the_cut_off() {
        let rules = BookingRules::default();
        let now = at("2026-12-05T02:00:00Z");
        let cases = [
            // (session start, cut-off, expected deadline)
            (
                "2026-12-10T02:00:00Z",
                "2026-12-10T02:00:00Z",
                Some("2026-12-05T14:00:00Z"),
            ),
            (
                "2026-12-06T08:00:00Z",
                "2026-12-06T08:00:00Z",
                Some("2026-12-05T06:00:00Z"),
            ),
            (
                "2026-12-05T09:00:00Z",
                "2026-12-05T09:00:00Z",
                Some("2026-12-05T03:00:00Z"),
            ),
            (
                "2026-12-05T04:00:00Z",
                "2026-12-05T04:00:00Z",
                Some("2026-12-05T02:30:00Z"),
            ),
            // The cut-off comes first: the offer ends there.
            (
                "2026-12-05T04:00:00Z",
                "2026-12-05T02:10:00Z",
                Some("2026-12-05T02:10:00Z"),
            ),
            // Too close to the cut-off, and past it: no offer.
            ("2026-12-05T04:00:00Z", "2026-12-05T02:04:00Z", None),
            ("2026-12-05T04:00:00Z", "2026-12-05T02:00:00Z", None),
        ];
        for (starts, closes, expected) in cases {
            assert_eq!(
                rules.offer_deadline(at(starts), at(closes), now),
                expected.map(at),
                "session at {starts}, cut-off {closes}"
            );
        }
    }

    #[test]
    fn offer_windows_parse_and_need_a_zero_lead() {
        let windows = BookingRules::parse_offer_windows("6h=1h, 3d=12h,0=30m");
        assert_eq!(
            windows,
            Ok(vec![
                OfferWindow {
                    min_lead: Duration::days(3),
                    hold: Duration::hours(12)
                },
                OfferWindow {
                    min_lead: Duration::hours(6),
                    hold: Duration::hours(1)
                },
                OfferWindow {
                    min_lead: Duration::zero(),
                    hold: Duration::minutes(30)
                },
            ])
        );
        for bad in ["", "6h=1h", "6h", "6x=1h", "0=0m", "0=-5m", "0=99999d"] {
            assert!(BookingRules::parse_offer_windows(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn draw_order_is_reproducible_and_respects_priority_groups() {
        let entries: Vec<(i64, i32)> = (1..=50).map(|id| (id, 0)).collect();
        let first = draw_order(42, &entries);
        assert_eq!(first, draw_order(42, &entries));
        assert_ne!(first, draw_order(43, &entries));
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=50).collect::<Vec<_>>());

        let grouped = [(1, 2), (2, 0), (3, 1), (4, 0), (5, 2), (6, 1)];
        let order = draw_order(7, &grouped);
        let groups: Vec<i32> = order
            .iter()
            .map(|id| grouped.iter().find(|e| e.0 == *id).map_or(-1, |e| e.1))
            .collect();
        assert_eq!(
            groups,
            vec![1, 1, 2, 2, 0, 0],
            "groups by rank, then the rest"
        );
    }

    #[test]
    fn weeks_run_monday_to_monday_in_nanjing() {
        // Sunday 2026-12-06 belongs to the week starting Monday 2026-11-30,
        // which starts at 2026-11-29T16:00Z.
        let sunday = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default();
        let (start, end) = local_week(sunday);
        assert_eq!(start, at("2026-11-29T16:00:00Z"));
        assert_eq!(end, at("2026-12-06T16:00:00Z"));
    }

    #[test]
    fn check_in_codes_avoid_confusable_letters() {
        for _ in 0..100 {
            let code = check_in_code();
            assert_eq!(code.len(), CODE_LENGTH);
            assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{code}");
        }
    }
}
