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

/// Returns the newest `limit` entries for an administrator, newest first.
/// Anyone else gets `Forbidden`.
pub async fn for_admin(
    db: &impl ConnectionTrait,
    viewer: &crate::model::Viewer,
    limit: u64,
) -> Result<Vec<crate::model::AuditEntryView>, AppError> {
    let is_admin = viewer.roles.iter().any(|role| {
        matches!(
            role,
            crate::model::Role::CityAdmin | crate::model::Role::DistrictAdmin { .. }
        )
    });
    if !is_admin {
        return Err(AppError::Forbidden);
    }
    // NOTE: district administrators see the whole log; entries carry no
    // district yet, so it cannot be narrowed to theirs.
    Ok(recent(db, limit)
        .await?
        .into_iter()
        .map(|entry| crate::model::AuditEntryView {
            at: entry.at,
            actor_account_id: entry.actor_account_id,
            on_behalf_of_account_id: entry.on_behalf_of_account_id,
            action: entry.action,
            target: match entry.target_id {
                Some(id) => format!("{} {id}", entry.target_kind),
                None => entry.target_kind,
            },
        })
        .collect())
}
