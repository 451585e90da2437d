//! Group commit for booking requests.
//!
//! When a popular session opens, thousands of requests for it arrive within
//! seconds, and each one needs the session's row locked while it writes.
//! Written one at a time, the statements of each transaction queue behind
//! each other and the queue grows by seconds. Instead, a request that finds
//! its session's writer busy waits. The writer then takes every waiting
//! request for the session and writes them in one transaction: one lock of
//! the session, one read each of the children's bookings and waitlist
//! entries, one insert for all new waitlist entries and one for the stored
//! outcomes.
//!
//! Each request is still decided on its own, in arrival order, against the
//! locked rows, exactly as if it had been written alone. The children's
//! age, bookings and waitlist entries are checked here, not before.
//!
//! A batch that cannot be written whole (a database error, a draw that is
//! due) is rolled back and its requests are written one at a time instead,
//! and so is a request that names a child or an idempotency key of an
//! earlier one in the batch.
//!
//! The writers live in this process; other processes batch their own
//! requests, and the session's row lock orders the batches of all of them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{LazyLock, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::LockType;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::oneshot;

use super::{
    BookingRules, Requested, adjust_taken, begin_write, draw_ends_at, enqueue, held_near,
    judge_child, lock_session, store_outcome, take_places, write_one,
};
use crate::entity::{care_session, child, waitlist_entry};
use crate::error::{AppError, Refusal};
use crate::model::BookOutcome;

/// Most requests written in one transaction.
const MAX_BATCH: usize = 128;

/// A booking request for a session that takes requests, from someone who
/// may act for its children, waiting to be written.
pub(super) struct Job {
    pub actor: i64,
    /// The session as read before the write.
    pub session: care_session::Model,
    pub place_name: String,
    pub requested: Vec<Requested>,
    pub join_waitlist: bool,
    pub key: Option<String>,
    pub rules: BookingRules,
    pub now: DateTime<Utc>,
}

type Reply = oneshot::Sender<Result<BookOutcome, AppError>>;

/// The requests waiting for one session's writer, in arrival order.
#[derive(Default)]
struct Lane {
    waiting: Vec<(Job, Reply)>,
    /// Requests taken by the writer whose outcome is not yet sent.
    writing: usize,
}

/// A lane per database and session. A lane exists while its writer runs.
type LaneKey = (usize, i64);

static LANES: LazyLock<Mutex<HashMap<LaneKey, Lane>>> = LazyLock::new(Mutex::default);

fn lanes() -> std::sync::MutexGuard<'static, HashMap<LaneKey, Lane>> {
    LANES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts of the booking requests that this process wrote to one database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Transactions that wrote booking requests.
    pub transactions: u64,
    /// Requests written.
    pub requests: u64,
}

static STATS: LazyLock<Mutex<HashMap<usize, WriteStats>>> = LazyLock::new(Mutex::default);

fn count_written(db: &DatabaseConnection, transactions: usize, requests: usize) {
    let mut stats = STATS.lock().unwrap_or_else(PoisonError::into_inner);
    let entry = stats.entry(crate::db::pool_id(db)).or_default();
    entry.transactions += transactions as u64;
    entry.requests += requests as u64;
}

/// Returns what this process's booking writers have written to `db`.
pub fn write_stats(db: &DatabaseConnection) -> WriteStats {
    let stats = STATS.lock().unwrap_or_else(PoisonError::into_inner);
    stats
        .get(&crate::db::pool_id(db))
        .copied()
        .unwrap_or_default()
}

/// Returns how many requests for the session this process has yet to
/// write, counting those being written.
pub fn waiting_to_write(db: &DatabaseConnection, session_id: i64) -> usize {
    lanes()
        .get(&(crate::db::pool_id(db), session_id))
        .map_or(0, |lane| lane.waiting.len() + lane.writing)
}

/// Writes `job`, together with the other requests for its session that
/// wait at the same time, and returns its outcome.
pub(super) async fn submit(db: &DatabaseConnection, job: Job) -> Result<BookOutcome, AppError> {
    let key = (crate::db::pool_id(db), job.session.id);
    let (reply, answer) = oneshot::channel();
    let start_writer = {
        let mut lanes = lanes();
        let start = !lanes.contains_key(&key);
        lanes.entry(key).or_default().waiting.push((job, reply));
        start
    };
    if start_writer {
        // The writer runs on its own task, so a request whose client hangs
        // up is still written, and the requests batched with it still get
        // their outcomes.
        tokio::spawn(write_lane(db.clone(), key));
    }
    answer.await.unwrap_or_else(|_| {
        tracing::error!(
            session.id = key.1,
            "booking writer stopped before sending an outcome"
        );
        Err(AppError::Internal)
    })
}

/// Removes the lane when its writer ends, also by a panic. The next request
/// then starts a new writer, and the waiting ones fail with `Internal`
/// because their replies are dropped with the lane.
struct LaneGuard(LaneKey);

impl Drop for LaneGuard {
    fn drop(&mut self) {
        lanes().remove(&self.0);
    }
}

/// Writes the lane's waiting requests, a batch at a time, until none wait.
async fn write_lane(db: DatabaseConnection, key: LaneKey) {
    let _guard = LaneGuard(key);
    loop {
        let batch: Vec<(Job, Reply)> = {
            let mut lanes = lanes();
            let Some(lane) = lanes.get_mut(&key) else {
                return;
            };
            if lane.waiting.is_empty() {
                lanes.remove(&key);
                return;
            }
            let count = lane.waiting.len().min(MAX_BATCH);
            lane.writing = count;
            lane.waiting.drain(..count).collect()
        };
        let (jobs, replies): (Vec<Job>, Vec<Reply>) = batch.into_iter().unzip();
        let outcomes = write_jobs(&db, &jobs).await;
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            // A request whose caller went away needs no answer.
            let _ = reply.send(outcome);
        }
    }
}

/// Writes the jobs in one transaction when it can, else one at a time. A
/// job that names a child or an idempotency key of an earlier job in the
/// batch is written alone after the batch, so that it sees what the batch
/// wrote.
async fn write_jobs(db: &DatabaseConnection, jobs: &[Job]) -> Vec<Result<BookOutcome, AppError>> {
    let mut together = Vec::with_capacity(jobs.len());
    let mut alone = Vec::new();
    let mut children = HashSet::new();
    let mut keys = HashSet::new();
    for (index, job) in jobs.iter().enumerate() {
        let fresh_children = job
            .requested
            .iter()
            .all(|entry| !children.contains(&entry.child.id));
        let fresh_key = job
            .key
            .as_ref()
            .is_none_or(|key| !keys.contains(&(job.actor, key.as_str())));
        if fresh_children && fresh_key {
            children.extend(job.requested.iter().map(|entry| entry.child.id));
            if let Some(key) = &job.key {
                keys.insert((job.actor, key.as_str()));
            }
            together.push(index);
        } else {
            alone.push(index);
        }
    }

    let mut outcomes: Vec<Option<Result<BookOutcome, AppError>>> =
        jobs.iter().map(|_| None).collect();
    if together.len() > 1 {
        let batch: Vec<&Job> = together.iter().map(|&index| &jobs[index]).collect();
        match retry_busy!(write_batch(db, &batch)) {
            Ok(Some(written)) => {
                count_written(db, 1, batch.len());
                for (&index, outcome) in together.iter().zip(written) {
                    outcomes[index] = Some(outcome);
                }
                together.clear();
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(
                    %error,
                    session.id = batch[0].session.id,
                    jobs = batch.len(),
                    "booking batch failed, so its requests are written one at a time"
                );
            }
        }
    }
    together.append(&mut alone);
    together.sort_unstable();
    for &index in &together {
        outcomes[index] = Some(retry_busy!(write_one(db, &jobs[index])));
    }
    count_written(db, together.len(), together.len());
    outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or(Err(AppError::Internal)))
        .collect()
}

/// Writes the jobs, all for one session, in one transaction. Returns
/// `None`, having written nothing, when they must be written one at a time.
async fn write_batch(
    db: &DatabaseConnection,
    jobs: &[&Job],
) -> Result<Option<Vec<Result<BookOutcome, AppError>>>, AppError> {
    let Some(first) = jobs.first() else {
        return Ok(Some(Vec::new()));
    };
    let child_ids: Vec<i64> = jobs
        .iter()
        .flat_map(|job| job.requested.iter().map(|entry| entry.child.id))
        .collect::<BTreeSet<i64>>()
        .into_iter()
        .collect();

    let (txn, _turn) = begin_write(db).await?;
    // Children first, in id order, then the session, as in every booking
    // transaction. `FOR NO KEY UPDATE` is the lock an update of the row
    // takes, as `lock_child` does: it lets other transactions insert rows
    // that refer to the child, as a draw holding the session does. SQLite
    // ignores the row lock: `begin_write` holds the write lock already.
    let children: HashMap<i64, child::Model> = child::Entity::find()
        .filter(child::Column::Id.is_in(child_ids.iter().copied()))
        .order_by_asc(child::Column::Id)
        .lock(LockType::NoKeyUpdate)
        .all(&txn)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let session = lock_session(&txn, first.session.id).await?;
    let draw_ends = draw_ends_at(&session);
    if let Some(ends) = draw_ends
        && session.drawn_at.is_none()
        && jobs.iter().any(|job| job.now >= ends)
    {
        return Ok(None);
    }
    let held = held_near(&txn, &session, &child_ids).await?;
    let waiting: HashSet<i64> = waitlist_entry::Entity::find()
        .select_only()
        .column(waitlist_entry::Column::ChildId)
        .filter(waitlist_entry::Column::SessionId.eq(session.id))
        .filter(waitlist_entry::Column::ActiveChildId.is_in(child_ids.iter().copied()))
        .into_tuple()
        .all(&txn)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .collect();

    let mut outcomes: Vec<Option<Result<BookOutcome, AppError>>> = Vec::with_capacity(jobs.len());
    let mut queued = Vec::new();
    let mut taken = session.booked;
    for &job in jobs {
        let checked = job.requested.iter().try_for_each(|entry| {
            let child = children.get(&entry.child.id).ok_or(AppError::NotFound)?;
            let held = held.get(&child.id).map_or(&[][..], Vec::as_slice);
            judge_child(&job.rules, &session, child.birth_date, held)?;
            if waiting.contains(&child.id) {
                return Err(Refusal::AlreadyWaiting.into());
            }
            Ok(())
        });
        if let Err(refusal) = checked {
            outcomes.push(Some(Err(refusal)));
            continue;
        }
        let in_draw = draw_ends.is_some_and(|ends| job.now < ends);
        let wanted = i32::try_from(job.requested.len()).map_err(|_| AppError::Internal)?;
        if !in_draw
            && taken + wanted <= session.capacity
            && adjust_taken(&txn, session.id, wanted, job.now).await?
        {
            taken += wanted;
            outcomes.push(Some(Ok(take_places(&txn, job, &session).await?)));
        } else if in_draw || job.join_waitlist {
            queued.push((job, in_draw));
            outcomes.push(None);
        } else {
            outcomes.push(Some(Err(AppError::Full)));
        }
    }
    let mut queued_outcomes = enqueue(&txn, &session, &queued).await?.into_iter();
    let outcomes: Vec<Result<BookOutcome, AppError>> = outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or_else(|| queued_outcomes.next().ok_or(AppError::Internal)))
        .collect();
    let written = jobs
        .iter()
        .zip(&outcomes)
        .filter_map(|(&job, outcome)| Some((job, outcome.as_ref().ok()?)));
    store_outcome(&txn, written).await?;
    txn.commit().await.map_err(AppError::from_db)?;
    Ok(Some(outcomes))
}
