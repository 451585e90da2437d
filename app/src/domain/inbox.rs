//! The in-app inbox, and delivery of its messages to other channels.
//!
//! Booking code writes notifications in its own transaction; they are the
//! inbox and, until `delivered_at` is set, the outbox. A [`Channel`] (SMS,
//! portal push) receives each message once from [`deliver_pending`], so a
//! channel is added without touching booking code.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::{care_session, child, course, notification};
use crate::error::AppError;
use crate::model::{NotificationKind, NotificationView};

/// How many messages the inbox shows.
const INBOX_SIZE: u64 = 50;

/// A message as a delivery channel receives it: the recipient's account
/// and what happened, without names.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub id: i64,
    pub account_id: i64,
    pub kind: NotificationKind,
    pub session_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// Somewhere messages go besides the inbox.
pub trait Channel: Send + Sync {
    /// Sends one message; an error leaves it for the next run.
    fn send(
        &self,
        message: &Outgoing,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

/// A channel that writes each message to the log, for development and for
/// deployments without SMS or push.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogChannel;

impl Channel for LogChannel {
    async fn send(&self, message: &Outgoing) -> Result<(), String> {
        tracing::info!(
            notification.id = message.id,
            account.id = message.account_id,
            kind = message.kind.as_str(),
            "notification delivered to the log channel"
        );
        Ok(())
    }
}

/// Hands undelivered messages to `channel`, each at most once across every
/// server: a message is claimed by a conditional update before it is sent.
pub async fn deliver_pending(
    db: &impl ConnectionTrait,
    channel: &impl Channel,
    now: DateTime<Utc>,
) -> Result<u32, AppError> {
    let pending = notification::Entity::find()
        .filter(notification::Column::DeliveredAt.is_null())
        .order_by_asc(notification::Column::Id)
        .limit(200)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let mut sent = 0;
    for row in pending {
        let claimed = notification::Entity::update_many()
            .col_expr(notification::Column::DeliveredAt, Expr::value(now))
            .filter(notification::Column::Id.eq(row.id))
            .filter(notification::Column::DeliveredAt.is_null())
            .exec(db)
            .await
            .map_err(AppError::from_db)?
            .rows_affected;
        let Some(kind) = NotificationKind::parse(&row.kind) else {
            continue;
        };
        if claimed == 0 {
            continue;
        }
        let message = Outgoing {
            id: row.id,
            account_id: row.account_id,
            kind,
            session_id: row.session_id,
            created_at: row.created_at,
        };
        if let Err(error) = channel.send(&message).await {
            tracing::warn!(notification.id = row.id, %error, "delivery failed; retried later");
            notification::Entity::update_many()
                .col_expr(
                    notification::Column::DeliveredAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(notification::Column::Id.eq(row.id))
                .exec(db)
                .await
                .map_err(AppError::from_db)?;
            continue;
        }
        sent += 1;
    }
    Ok(sent)
}

/// Returns the newest messages of the account, newest first.
pub async fn inbox(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Vec<NotificationView>, AppError> {
    let rows = notification::Entity::find()
        .filter(notification::Column::AccountId.eq(account_id))
        .order_by_desc(notification::Column::Id)
        .limit(INBOX_SIZE)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let session_ids: BTreeSet<i64> = rows.iter().filter_map(|row| row.session_id).collect();
    let sessions: HashMap<i64, care_session::Model> = care_session::Entity::find()
        .filter(care_session::Column::Id.is_in(session_ids))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let course_ids: BTreeSet<i64> = rows.iter().filter_map(|row| row.course_id).collect();
    let courses: HashMap<i64, String> = course::Entity::find()
        .filter(course::Column::Id.is_in(course_ids))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|row| (row.id, row.title))
        .collect();
    let detail_i64 = |row: &notification::Model, key: &str| {
        row.detail
            .as_ref()
            .and_then(|detail| detail.get(key))
            .and_then(serde_json::Value::as_i64)
    };
    let child_ids: BTreeSet<i64> = rows
        .iter()
        .filter_map(|row| detail_i64(row, "child_id"))
        .collect();
    let children: HashMap<i64, String> = child::Entity::find()
        .filter(child::Column::Id.is_in(child_ids))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|row| (row.id, row.display_name))
        .collect();
    Ok(rows
        .iter()
        .filter_map(|row| {
            let kind = NotificationKind::parse(&row.kind)?;
            let session = row.session_id.and_then(|id| sessions.get(&id));
            let text = |key: &str| {
                row.detail
                    .as_ref()
                    .and_then(|detail| detail.get(key))
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            };
            Some(NotificationView {
                id: row.id,
                kind,
                session_id: row.session_id,
                session_title: session.map(|session| session.title.clone()),
                starts_at: session.map(|session| session.starts_at),
                child_name: detail_i64(row, "child_id").and_then(|id| children.get(&id).cloned()),
                deadline: text("deadline")
                    .and_then(|text| DateTime::parse_from_rfc3339(&text).ok())
                    .map(|deadline| deadline.with_timezone(&Utc)),
                reason: text("reason"),
                course_id: row.course_id,
                course_title: row.course_id.and_then(|id| courses.get(&id).cloned()),
                created_at: row.created_at,
                read: row.read_at.is_some(),
            })
        })
        .collect())
}

/// Returns how many messages the account has not read.
pub async fn unread_count(db: &impl ConnectionTrait, account_id: i64) -> Result<u64, AppError> {
    notification::Entity::find()
        .filter(notification::Column::AccountId.eq(account_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await
        .map_err(AppError::from_db)
}

/// Marks every message of the account read.
pub async fn mark_all_read(
    db: &impl ConnectionTrait,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::AccountId.eq(account_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(())
}
