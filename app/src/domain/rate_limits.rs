//! Rate-limit windows kept in the database, so that every server process
//! on one database counts the same requests.
//!
//! Each key has one row with the start of its window and the requests
//! counted since. A request counts itself with one atomic upsert, which
//! starts a new window when the old one has ended. The window is fixed
//! from its first request, so a client can send up to twice the limit
//! across the end of one window and the start of the next.
//!
//! Keys contain client addresses, which may be personal information, so
//! every server deletes a window's row within about a minute after it ends
//! (`purge_ended`).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entity::rate_limit_window::{self, Column};
use crate::error::AppError;

/// The state of a key's window after one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    /// Requests counted in the window, this one included.
    pub hits: u32,
    /// When the window ends and the count starts again.
    pub window_ends_at: DateTime<Utc>,
}

/// Counts one request for `key` in a window of `window` that started at
/// its first request, and returns the count with the window's end.
pub async fn count_request(
    db: &impl ConnectionTrait,
    key: &str,
    window: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<WindowCount, AppError> {
    let now_ms = now.timestamp_millis();
    let window_ms = window.num_milliseconds();

    let ended =
        Expr::col((rate_limit_window::Entity, Column::WindowStartMs)).lte(now_ms - window_ms);
    // Both SET expressions read the row as it was before the update, on
    // SQLite and PostgreSQL alike, so an ended window restarts at `now`
    // with one request.
    let upsert = Query::insert()
        .into_table(rate_limit_window::Entity)
        .columns([Column::Key, Column::WindowStartMs, Column::Hits])
        .values([key.into(), now_ms.into(), 1.into()])
        .map_err(|error| {
            tracing::error!(error = %error, "cannot build the rate-limit upsert");
            AppError::Internal
        })?
        .on_conflict(
            OnConflict::column(Column::Key)
                .values([
                    (
                        Column::WindowStartMs,
                        Expr::case(ended.clone(), now_ms)
                            .finally(Expr::col((
                                rate_limit_window::Entity,
                                Column::WindowStartMs,
                            )))
                            .into(),
                    ),
                    (
                        Column::Hits,
                        Expr::case(ended, 1)
                            .finally(Expr::col((rate_limit_window::Entity, Column::Hits)).add(1))
                            .into(),
                    ),
                ])
                .to_owned(),
        )
        .returning(Query::returning().columns([Column::WindowStartMs, Column::Hits]))
        .to_owned();

    let row = db
        .query_one(&upsert)
        .await
        .map_err(AppError::from_db)?
        .ok_or_else(|| {
            tracing::error!("the rate-limit upsert returned no row");
            AppError::Internal
        })?;

    let start_ms: i64 = row
        .try_get("", "window_start_ms")
        .map_err(AppError::from_db)?;
    let hits: i32 = row.try_get("", "hits").map_err(AppError::from_db)?;
    let window_ends_at =
        DateTime::from_timestamp_millis(start_ms.saturating_add(window_ms)).unwrap_or(now);
    Ok(WindowCount {
        hits: u32::try_from(hits).unwrap_or(0),
        window_ends_at,
    })
}

/// Deletes the windows that started before `started_before`, and returns
/// how many. Deleting ended windows is idempotent, so every server runs it.
pub async fn purge_ended(
    db: &impl ConnectionTrait,
    started_before: DateTime<Utc>,
) -> Result<u64, AppError> {
    let deleted = rate_limit_window::Entity::delete_many()
        .filter(Column::WindowStartMs.lt(started_before.timestamp_millis()))
        .exec(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(deleted.rows_affected)
}
