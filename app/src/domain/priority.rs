//! Priority groups for fair-release draws. City administrators define the
//! groups, for example left-behind children or children with special
//! needs, and put children in them. A session created with
//! `draw_by_priority` then draws the members before everyone else.
//!
//! Membership is sensitive, so only city administrators read or change it,
//! every read and change is audited, and a guardian is shown their own
//! children's groups. The draw's public record shows each entry's group
//! rank, never the group or the child.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use crate::domain::audit::{self, AuditEntry};
use crate::domain::family::age_in_months;
use crate::entity::{account, child, child_priority, family, priority_group};
use crate::error::AppError;
use crate::model::{
    NewPriorityGroup, PriorityGrant, PriorityGroupName, PriorityGroupView, PriorityMember, Viewer,
};
use crate::time::local_date;
use crate::validate::{normalize_mobile, normalize_name, one_line};

/// The rank of an entry whose child is in no group; such entries are drawn
/// after all groups.
pub const NO_GROUP: i32 = 0;

fn require_city_admin(viewer: &Viewer) -> Result<(), AppError> {
    if viewer.is_city_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Lists the groups with how many children each holds.
pub async fn list_groups(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
) -> Result<Vec<PriorityGroupView>, AppError> {
    require_city_admin(viewer)?;
    let groups = priority_group::Entity::find()
        .order_by_asc(priority_group::Column::Rank)
        .order_by_asc(priority_group::Column::Id)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let mut views = Vec::with_capacity(groups.len());
    for group in groups {
        let members = child_priority::Entity::find()
            .filter(child_priority::Column::GroupId.eq(group.id))
            .count(db)
            .await
            .map_err(AppError::from_db)?;
        views.push(group_view(group, members));
    }
    Ok(views)
}

fn group_view(group: priority_group::Model, members: u64) -> PriorityGroupView {
    PriorityGroupView {
        id: group.id,
        code: group.code,
        name: PriorityGroupName {
            zh: group.name_zh,
            en: group.name_en,
        },
        rank: u32::try_from(group.rank).unwrap_or(0),
        members: u32::try_from(members).unwrap_or(u32::MAX),
    }
}

/// Defines a new group; its code must be unused.
pub async fn create_group(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    input: &NewPriorityGroup,
    now: DateTime<Utc>,
) -> Result<PriorityGroupView, AppError> {
    require_city_admin(viewer)?;
    let code = input.code.trim();
    if code.is_empty()
        || code.len() > 32
        || !code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(AppError::invalid(
            "code",
            "must be 1 to 32 lowercase letters, digits or underscores",
        ));
    }
    let name_zh = one_line("name_zh", &input.name_zh, 50)?;
    let name_en = one_line("name_en", &input.name_en, 80)?;

    if !(1..=9).contains(&input.rank) {
        return Err(AppError::invalid("rank", "must be from 1 to 9"));
    }
    let taken = priority_group::Entity::find()
        .filter(priority_group::Column::Code.eq(code))
        .one(db)
        .await
        .map_err(AppError::from_db)?;
    if taken.is_some() {
        return Err(AppError::Conflict {
            reason: format!("a priority group with code {code} exists"),
        });
    }

    let row = priority_group::ActiveModel {
        code: Set(code.to_owned()),
        name_zh: Set(name_zh),
        name_en: Set(name_en),
        rank: Set(i32::try_from(input.rank).map_err(|_| AppError::Internal)?),
        created_by: Set(Some(viewer.account_id)),
        created_at: Set(now),
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
            district_code: None,
            action: "priority_group.create",
            target_kind: "priority_group",
            target_id: Some(row.id.to_string()),
            detail: Some(json!({ "code": row.code, "rank": row.rank })),
        },
        now,
    )
    .await?;
    Ok(group_view(row, 0))
}

async fn find_group(
    db: &impl ConnectionTrait,
    group_id: i64,
) -> Result<priority_group::Model, AppError> {
    priority_group::Entity::find_by_id(group_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)
}

/// Lists the children in a group. The read is audited.
pub async fn members(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    group_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<PriorityMember>, AppError> {
    require_city_admin(viewer)?;
    let group = find_group(db, group_id).await?;
    let rows = child_priority::Entity::find()
        .filter(child_priority::Column::GroupId.eq(group.id))
        .order_by_asc(child_priority::Column::GrantedAt)
        .order_by_asc(child_priority::Column::ChildId)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let child_ids: Vec<i64> = rows.iter().map(|row| row.child_id).collect();
    let children: HashMap<i64, child::Model> = child::Entity::find()
        .filter(child::Column::Id.is_in(child_ids))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|child| (child.id, child))
        .collect();
    audit::record(
        db,
        AuditEntry {
            actor: Some(viewer.account_id),
            on_behalf_of: None,
            district_code: None,
            action: "priority_group.members_read",
            target_kind: "priority_group",
            target_id: Some(group.id.to_string()),
            detail: None,
        },
        now,
    )
    .await?;
    let today = local_date(now);
    Ok(rows
        .into_iter()
        .map(|row| {
            let child = children.get(&row.child_id);
            PriorityMember {
                child_id: row.child_id,
                child_name: child
                    .map(|child| child.display_name.clone())
                    .unwrap_or_default(),
                age_months: child.and_then(|child| age_in_months(child.birth_date, today)),
                granted_at: row.granted_at,
            }
        })
        .collect())
}

/// Puts a child in a group, found by its guardian's mobile number and its
/// display name as the family's papers give them. No match gives 404, which
/// does not say which part failed to match. Granting again changes nothing.
pub async fn grant(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    group_id: i64,
    input: &PriorityGrant,
    now: DateTime<Utc>,
) -> Result<PriorityMember, AppError> {
    require_city_admin(viewer)?;
    let group = find_group(db, group_id).await?;

    let mobile = normalize_mobile(&input.guardian_mobile).ok_or_else(|| {
        AppError::invalid(
            "guardian_mobile",
            "must be an 11-digit mainland mobile number",
        )
    })?;
    let name = normalize_name(&input.child_name)
        .ok_or_else(|| AppError::invalid("child_name", "must be a name of 1 to 40 characters"))?;
    let guardians: Vec<i64> = account::Entity::find()
        .filter(account::Column::Mobile.eq(mobile))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|account| account.id)
        .collect();
    let families: Vec<i64> = family::Entity::find()
        .filter(family::Column::GuardianAccountId.is_in(guardians))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|family| family.id)
        .collect();

    let mut matches = child::Entity::find()
        .filter(child::Column::FamilyId.is_in(families))
        .filter(child::Column::DisplayName.eq(name))
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let child = match (matches.pop(), matches.is_empty()) {
        (Some(child), true) => child,
        (Some(_), false) => {
            return Err(AppError::Conflict {
                reason: "two children of this guardian have this name".into(),
            });
        }
        (None, _) => return Err(AppError::NotFound),
    };

    child_priority::Entity::insert(child_priority::ActiveModel {
        child_id: Set(child.id),
        group_id: Set(group.id),
        granted_by: Set(Some(viewer.account_id)),
        granted_at: Set(now),
    })
    .on_conflict_do_nothing_on([
        child_priority::Column::ChildId,
        child_priority::Column::GroupId,
    ])
    .exec(db)
    .await
    .map_err(AppError::from_db)?;
    audit::record(
        db,
        AuditEntry {
            actor: Some(viewer.account_id),
            on_behalf_of: None,
            district_code: None,
            action: "priority_group.grant",
            target_kind: "child",
            target_id: Some(child.id.to_string()),
            detail: Some(json!({ "group_id": group.id })),
        },
        now,
    )
    .await?;
    let granted_at = child_priority::Entity::find_by_id((child.id, group.id))
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .map_or(now, |row| row.granted_at);
    Ok(PriorityMember {
        child_id: child.id,
        age_months: age_in_months(child.birth_date, local_date(now)),
        child_name: child.display_name,
        granted_at,
    })
}

/// Takes a child out of a group; 404 when it was not in it.
pub async fn revoke(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    group_id: i64,
    child_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    require_city_admin(viewer)?;
    let deleted = child_priority::Entity::delete_many()
        .filter(child_priority::Column::GroupId.eq(group_id))
        .filter(child_priority::Column::ChildId.eq(child_id))
        .exec(db)
        .await
        .map_err(AppError::from_db)?;
    if deleted.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        db,
        AuditEntry {
            actor: Some(viewer.account_id),
            on_behalf_of: None,
            district_code: None,
            action: "priority_group.revoke",
            target_kind: "child",
            target_id: Some(child_id.to_string()),
            detail: Some(json!({ "group_id": group_id })),
        },
        now,
    )
    .await
}

/// Returns each membership of these children with its group.
async fn memberships(
    db: &impl ConnectionTrait,
    child_ids: &[i64],
) -> Result<Vec<(i64, priority_group::Model)>, AppError> {
    if child_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = child_priority::Entity::find()
        .filter(child_priority::Column::ChildId.is_in(child_ids.iter().copied()))
        .find_also_related(priority_group::Entity)
        .order_by_asc(priority_group::Column::Rank)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(rows
        .into_iter()
        .filter_map(|(membership, group)| Some((membership.child_id, group?)))
        .collect())
}

/// Returns the best (lowest) group rank of each child that is in a group.
pub async fn ranks(
    db: &impl ConnectionTrait,
    child_ids: &[i64],
) -> Result<HashMap<i64, i32>, AppError> {
    let mut best: HashMap<i64, i32> = HashMap::new();
    for (child_id, group) in memberships(db, child_ids).await? {
        best.entry(child_id)
            .and_modify(|current| *current = Ord::min(*current, group.rank))
            .or_insert(group.rank);
    }
    Ok(best)
}

/// Returns the groups each of these children is in, by rank, for their
/// guardian.
pub async fn groups_of(
    db: &impl ConnectionTrait,
    child_ids: &[i64],
) -> Result<HashMap<i64, Vec<PriorityGroupName>>, AppError> {
    let mut groups: HashMap<i64, Vec<PriorityGroupName>> = HashMap::new();
    for (child_id, group) in memberships(db, child_ids).await? {
        groups.entry(child_id).or_default().push(PriorityGroupName {
            zh: group.name_zh,
            en: group.name_en,
        });
    }
    Ok(groups)
}
