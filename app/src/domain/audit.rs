//! The audit trail: staff reads of children's records and every staff or
//! administrator change. Entries carry account ids, never names or numbers.
//!
//! An entry about a place, or about a session or booking at a place,
//! records the code of the place's district, so that district
//! administrators read their district's entries only. Entries without a
//! district (families' own actions, priority groups, imports) are for city
//! administrators.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::entity::{audit_log, care_session, district, place};
use crate::error::AppError;
use crate::model::Viewer;

/// One thing that happened, about to be recorded.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: Option<i64>,
    pub on_behalf_of: Option<i64>,
    /// Code of the district the entry concerns, from [`place_district`].
    pub district_code: Option<String>,
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
        district_code: Set(entry.district_code),
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

/// Returns the code of the district that place `place_id` lies in, or
/// `None` when the place is unknown or its district name matches no row
/// of `district`.
pub async fn place_district(
    db: &impl ConnectionTrait,
    place_id: i64,
) -> Result<Option<String>, AppError> {
    let place_district = Query::select()
        .column(place::Column::District)
        .from(place::Entity)
        .and_where(place::Column::Id.eq(place_id))
        .to_owned();
    Ok(district::Entity::find()
        .filter(district::Column::Name.in_subquery(place_district))
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .map(|row| row.code))
}

/// Returns the code of the district of the place where session
/// `session_id` happens, as [`place_district`] does for a place.
pub async fn session_district(
    db: &impl ConnectionTrait,
    session_id: i64,
) -> Result<Option<String>, AppError> {
    let session_place = Query::select()
        .column(care_session::Column::PlaceId)
        .from(care_session::Entity)
        .and_where(care_session::Column::Id.eq(session_id))
        .to_owned();
    let place_district = Query::select()
        .column(place::Column::District)
        .from(place::Entity)
        .and_where(place::Column::Id.in_subquery(session_place))
        .to_owned();
    Ok(district::Entity::find()
        .filter(district::Column::Name.in_subquery(place_district))
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .map(|row| row.code))
}

/// Returns the newest `limit` entries that `viewer` may read, newest
/// first: every entry for a city administrator, and for a district
/// administrator the entries of their districts. Anyone else gets
/// `Forbidden`.
pub async fn for_admin(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    limit: u64,
) -> Result<Vec<crate::model::AuditEntryView>, AppError> {
    let mut query = audit_log::Entity::find();
    if !viewer.is_city_admin() {
        let codes = viewer.district_codes();
        if codes.is_empty() {
            return Err(AppError::Forbidden);
        }
        query = query.filter(audit_log::Column::DistrictCode.is_in(codes));
    }
    let entries = query
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(entries
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
            district_code: entry.district_code,
        })
        .collect())
}
