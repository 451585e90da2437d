//! The audit trail: staff reads of children's records and every staff or
//! administrator change. Entries carry account ids, never names or numbers.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryOrder, QuerySelect, Set};

use crate::entity::audit_log;
use crate::error::AppError;

/// One thing that happened, about to be recorded.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: Option<i64>,
    pub on_behalf_of: Option<i64>,
    pub action: &'static str,
    pub target_kind: &'static str,
    pub target_id: Option<String>,
    pub detail: Option<serde_json::Value>,
}

/// Records `entry` at `now`, in the caller's transaction when given one.
pub async fn record(
    db: &impl ConnectionTrait,
    entry: AuditEntry,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    audit_log::ActiveModel {
        at: Set(now),
        actor_account_id: Set(entry.actor),
        on_behalf_of_account_id: Set(entry.on_behalf_of),
        action: Set(entry.action.to_owned()),
        target_kind: Set(entry.target_kind.to_owned()),
        target_id: Set(entry.target_id),
        detail: Set(entry.detail),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(AppError::from_db)?;
    Ok(())
}

/// Returns the newest `limit` entries, newest first.
pub async fn recent(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<audit_log::Model>, AppError> {
    audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await
        .map_err(AppError::from_db)
}
