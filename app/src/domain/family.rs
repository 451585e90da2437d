//! Families: a guardian's children, the consent behind each child record,
//! carers invited to act for named children, and the family's rights to
//! export and delete its data.
//!
//! Every function takes the acting account and checks ownership itself. A
//! record that belongs to someone else is reported as `NotFound`, exactly
//! like one that does not exist.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use crate::domain::audit::{self, AuditEntry};
use crate::domain::booking::{self, BookingRules};
use crate::domain::secrets::sha256_hex;
use crate::entity::{
    account, audit_log, child, child_consent, child_priority, course_lesson, course_progress,
    delegation, family, invitation, priority_group, role_grant, web_session,
};
use crate::error::AppError;
use crate::model::{
    CHILD_NOTICE_VERSION, CarerView, ChildRelation, ChildView, FamilyOverview, InvitationView,
    NewInvitation,
};
use crate::time::local_date;
use crate::validate::normalize_name;

/// How long an invitation code stays valid.
pub const INVITATION_TTL: Duration = Duration::days(7);
/// Maximum length of care notes, in characters.
pub const MAX_CARE_NOTES_CHARS: usize = 500;
/// Oldest birth date accepted, in years before today: the service is for
/// children under three, with room for older siblings kept on record.
const MAX_AGE_YEARS: i32 = 7;
/// Letters of invitation codes: digits and capitals without 0, 1, I, L, O.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LENGTH: usize = 10;

/// A child's details as a guardian enters them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildInput {
    pub display_name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub care_notes: Option<String>,
}

/// Returns the whole months between `birth` and `today`, or `None` before birth.
pub fn age_in_months(birth: NaiveDate, today: NaiveDate) -> Option<u32> {
    if today < birth {
        return None;
    }
    let months = (today.year() - birth.year()) * 12 + today.month() as i32 - birth.month() as i32;
    let months = if today.day() < birth.day() && !is_last_day_of_month(today) {
        months - 1
    } else {
        months
    };
    u32::try_from(months).ok()
}

fn is_last_day_of_month(date: NaiveDate) -> bool {
    date.succ_opt()
        .is_none_or(|next| next.month() != date.month())
}

fn check_child(
    input: &ChildInput,
    today: NaiveDate,
) -> Result<(String, NaiveDate, Option<String>), AppError> {
    let name = normalize_name(&input.display_name).ok_or_else(|| {
        AppError::invalid(
            "display_name",
            "must be 1 to 40 characters without markup or control characters",
        )
    })?;
    let birth = NaiveDate::parse_from_str(input.birth_date.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("birth_date", "must be a date written YYYY-MM-DD"))?;
    if birth > today {
        return Err(AppError::invalid("birth_date", "cannot be in the future"));
    }
    if birth.year() < today.year() - MAX_AGE_YEARS {
        return Err(AppError::invalid(
            "birth_date",
            format!("must be within the last {MAX_AGE_YEARS} years"),
        ));
    }
    let notes = input
        .care_notes
        .as_deref()
        .map(str::trim)
        .filter(|notes| !notes.is_empty())
        .map(str::to_owned);
    if let Some(notes) = &notes
        && (notes.chars().count() > MAX_CARE_NOTES_CHARS
            || notes
                .chars()
                .any(|ch| ch.is_control() && ch != '\n' && ch != '\r'))
    {
        return Err(AppError::invalid(
            "care_notes",
            format!("must be at most {MAX_CARE_NOTES_CHARS} characters"),
        ));
    }
    Ok((name, birth, notes))
}

/// Returns the id of the family that `account_id` is guardian of.
pub async fn family_of(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Option<i64>, AppError> {
    Ok(family::Entity::find()
        .filter(family::Column::GuardianAccountId.eq(account_id))
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .map(|family| family.id))
}

async fn ensure_family(
    db: &impl ConnectionTrait,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    if let Some(id) = family_of(db, account_id).await? {
        return Ok(id);
    }
    let row = family::ActiveModel {
        guardian_account_id: Set(account_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(AppError::from_db)?;
    Ok(row.id)
}

/// Adds a child to the guardian's family. `consent` is the guardian's
/// separate, explicit consent to processing the child's information under
/// the notice [`CHILD_NOTICE_VERSION`]. Without it nothing is stored.
pub async fn add_child(
    db: &DatabaseConnection,
    guardian: i64,
    input: &ChildInput,
    consent: bool,
    now: DateTime<Utc>,
) -> Result<ChildView, AppError> {
    let today = local_date(now);
    let (name, birth, notes) = check_child(input, today)?;
    if !consent {
        return Err(AppError::invalid(
            "consent",
            "the guardian must agree to the processing of the child's information",
        ));
    }
    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    let family_id = ensure_family(&txn, guardian, now).await?;
    let consent = child_consent::ActiveModel {
        family_id: Set(family_id),
        given_by: Set(guardian),
        notice_version: Set(CHILD_NOTICE_VERSION.to_owned()),
        given_at: Set(now),
        withdrawn_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(AppError::from_db)?;
    let row = child::ActiveModel {
        family_id: Set(family_id),
        consent_id: Set(consent.id),
        display_name: Set(name),
        birth_date: Set(birth),
        care_notes: Set(notes),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(AppError::from_db)?;
    audit::record(
        &txn,
        AuditEntry {
            actor: Some(guardian),
            on_behalf_of: None,
            district_code: None,
            action: "child.create",
            target_kind: "child",
            target_id: Some(row.id.to_string()),
            detail: Some(json!({ "notice_version": CHILD_NOTICE_VERSION })),
        },
        now,
    )
    .await?;
    txn.commit().await.map_err(AppError::from_db)?;
    Ok(child_view(row, today, ChildRelation::Guardian))
}

/// Changes a child's details. Only the guardian may.
pub async fn update_child(
    db: &DatabaseConnection,
    guardian: i64,
    child_id: i64,
    input: &ChildInput,
    now: DateTime<Utc>,
) -> Result<ChildView, AppError> {
    let today = local_date(now);
    let (name, birth, notes) = check_child(input, today)?;
    let row = own_child(db, guardian, child_id).await?;
    let mut active: child::ActiveModel = row.into();
    active.display_name = Set(name);
    active.birth_date = Set(birth);
    active.care_notes = Set(notes);
    active.updated_at = Set(now);
    let row = active.update(db).await.map_err(AppError::from_db)?;
    Ok(child_view(row, today, ChildRelation::Guardian))
}

/// Withdraws the consent behind a child's record, which deletes the record
/// and every carer's access to it. Only the guardian may.
pub async fn withdraw_consent(
    db: &DatabaseConnection,
    rules: &BookingRules,
    guardian: i64,
    child_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    let row = own_child(&txn, guardian, child_id).await?;
    booking::release_children(&txn, rules, guardian, &[row.id], now).await?;
    child::Entity::delete_by_id(row.id)
        .exec(&txn)
        .await
        .map_err(AppError::from_db)?;
    child_consent::Entity::update_many()
        .col_expr(child_consent::Column::WithdrawnAt, Expr::value(now))
        .filter(child_consent::Column::Id.eq(row.consent_id))
        .exec(&txn)
        .await
        .map_err(AppError::from_db)?;
    audit::record(
        &txn,
        AuditEntry {
            actor: Some(guardian),
            on_behalf_of: None,
            district_code: None,
            action: "child.consent_withdrawn",
            target_kind: "child",
            target_id: Some(row.id.to_string()),
            detail: None,
        },
        now,
    )
    .await?;
    txn.commit().await.map_err(AppError::from_db)
}

/// Returns the guardian's own child `child_id`, or `NotFound`.
async fn own_child(
    db: &impl ConnectionTrait,
    guardian: i64,
    child_id: i64,
) -> Result<child::Model, AppError> {
    let family_id = family_of(db, guardian).await?.ok_or(AppError::NotFound)?;
    child::Entity::find_by_id(child_id)
        .filter(child::Column::FamilyId.eq(family_id))
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)
}

/// An account's right to act for a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildAccess {
    /// The account is the child's guardian.
    Guardian { family_id: i64 },
    /// The account is a carer acting for the guardian `guardian`.
    Carer { family_id: i64, guardian: i64 },
}

impl ChildAccess {
    /// Returns the account acted for, to record beside the actor, or `None`
    /// for the guardian acting alone.
    pub fn on_behalf_of(self) -> Option<i64> {
        match self {
            Self::Guardian { .. } => None,
            Self::Carer { guardian, .. } => Some(guardian),
        }
    }
}

/// Checks that `account_id` may book and check in for `child_id`: as its
/// guardian or as a carer with a live delegation. Anyone else gets `NotFound`.
pub async fn child_access(
    db: &impl ConnectionTrait,
    account_id: i64,
    child_id: i64,
) -> Result<ChildAccess, AppError> {
    child_with_access(db, account_id, child_id)
        .await
        .map(|(_, access)| access)
}

/// Reads a child that `account_id` may act for, with that right, in one
/// query for a guardian and two for a carer ([`child_access`]).
pub async fn child_with_access(
    db: &impl ConnectionTrait,
    account_id: i64,
    child_id: i64,
) -> Result<(child::Model, ChildAccess), AppError> {
    let to_family = child::Entity::belongs_to(family::Entity)
        .from(child::Column::FamilyId)
        .to(family::Column::Id)
        .into();
    let (child, owner) = child::Entity::find_by_id(child_id)
        .select_also(family::Entity)
        .join(sea_orm::JoinType::InnerJoin, to_family)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let owner = owner.ok_or(AppError::NotFound)?;
    let access = access_given_owner(db, account_id, &child, &owner).await?;
    Ok((child, access))
}

/// Checks the same right as [`child_access`] for a child row already read.
pub async fn access_to_child(
    db: &impl ConnectionTrait,
    account_id: i64,
    child: &child::Model,
) -> Result<ChildAccess, AppError> {
    let owner = family::Entity::find_by_id(child.family_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    access_given_owner(db, account_id, child, &owner).await
}

async fn access_given_owner(
    db: &impl ConnectionTrait,
    account_id: i64,
    child: &child::Model,
    owner: &family::Model,
) -> Result<ChildAccess, AppError> {
    if owner.guardian_account_id == account_id {
        return Ok(ChildAccess::Guardian {
            family_id: owner.id,
        });
    }
    let delegated = delegation::Entity::find()
        .filter(delegation::Column::ChildId.eq(child.id))
        .filter(delegation::Column::CarerAccountId.eq(account_id))
        .filter(delegation::Column::RevokedAt.is_null())
        .one(db)
        .await
        .map_err(AppError::from_db)?;
    match delegated {
        Some(_) => Ok(ChildAccess::Carer {
            family_id: owner.id,
            guardian: owner.guardian_account_id,
        }),
        None => Err(AppError::NotFound),
    }
}

/// Returns one child that `account_id` may see, as guardian or carer.
pub async fn get_child(
    db: &impl ConnectionTrait,
    account_id: i64,
    child_id: i64,
    now: DateTime<Utc>,
) -> Result<ChildView, AppError> {
    let access = child_access(db, account_id, child_id).await?;
    let row = child::Entity::find_by_id(child_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let (relation, priority_groups) = match access {
        ChildAccess::Guardian { .. } => {
            let mut groups = crate::domain::priority::groups_of(db, &[child_id]).await?;
            (
                ChildRelation::Guardian,
                groups.remove(&child_id).unwrap_or_default(),
            )
        }
        ChildAccess::Carer { guardian, .. } => (
            ChildRelation::Carer {
                guardian_name: display_name(db, guardian).await?,
            },
            Vec::new(),
        ),
    };
    Ok(ChildView {
        priority_groups,
        ..child_view(row, local_date(now), relation)
    })
}

/// Returns what the family page shows to `account_id`.
pub async fn overview(
    db: &impl ConnectionTrait,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<FamilyOverview, AppError> {
    let today = local_date(now);
    let mut overview = FamilyOverview::default();

    if let Some(family_id) = family_of(db, account_id).await? {
        let children = child::Entity::find()
            .filter(child::Column::FamilyId.eq(family_id))
            .order_by_asc(child::Column::BirthDate)
            .order_by_asc(child::Column::Id)
            .all(db)
            .await
            .map_err(AppError::from_db)?;
        let names: HashMap<i64, String> = children
            .iter()
            .map(|child| (child.id, child.display_name.clone()))
            .collect();
        let ids: Vec<i64> = children.iter().map(|child| child.id).collect();
        let mut groups = crate::domain::priority::groups_of(db, &ids).await?;
        overview.children = children
            .into_iter()
            .map(|row| {
                let child_groups = groups.remove(&row.id).unwrap_or_default();
                ChildView {
                    priority_groups: child_groups,
                    ..child_view(row, today, ChildRelation::Guardian)
                }
            })
            .collect();

        let delegations = delegation::Entity::find()
            .filter(delegation::Column::FamilyId.eq(family_id))
            .filter(delegation::Column::RevokedAt.is_null())
            .order_by_asc(delegation::Column::Id)
            .all(db)
            .await
            .map_err(AppError::from_db)?;
        let mut carers: BTreeMap<i64, CarerView> = BTreeMap::new();
        for row in delegations {
            let entry = match carers.entry(row.carer_account_id) {
                std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::btree_map::Entry::Vacant(entry) => entry.insert(CarerView {
                    account_id: row.carer_account_id,
                    display_name: display_name(db, row.carer_account_id).await?,
                    children: Vec::new(),
                    since: row.created_at,
                }),
            };
            let name = names.get(&row.child_id).cloned().unwrap_or_default();
            entry.children.push((row.child_id, name));
            entry.since = Ord::min(entry.since, row.created_at);
        }
        overview.carers = carers.into_values().collect();

        let invitations = invitation::Entity::find()
            .filter(invitation::Column::FamilyId.eq(family_id))
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::RevokedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(now))
            .order_by_asc(invitation::Column::Id)
            .all(db)
            .await
            .map_err(AppError::from_db)?;
        overview.invitations = invitations
            .into_iter()
            .map(|row| InvitationView {
                id: row.id,
                children: child_ids(&row.child_ids)
                    .iter()
                    .filter_map(|id| names.get(id).cloned())
                    .collect(),
                expires_at: row.expires_at,
            })
            .collect();
    }

    let cared = delegation::Entity::find()
        .filter(delegation::Column::CarerAccountId.eq(account_id))
        .filter(delegation::Column::RevokedAt.is_null())
        .order_by_asc(delegation::Column::Id)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    for row in cared {
        overview
            .cared_for
            .push(get_child(db, account_id, row.child_id, now).await?);
    }
    Ok(overview)
}

async fn display_name(db: &impl ConnectionTrait, account_id: i64) -> Result<String, AppError> {
    Ok(account::Entity::find_by_id(account_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .map(|account| account.display_name)
        .unwrap_or_default())
}

fn child_view(row: child::Model, today: NaiveDate, relation: ChildRelation) -> ChildView {
    ChildView {
        id: row.id,
        age_months: age_in_months(row.birth_date, today).unwrap_or(0),
        display_name: row.display_name,
        birth_date: row.birth_date,
        care_notes: row.care_notes,
        priority_groups: Vec::new(),
        relation,
    }
}

fn child_ids(value: &serde_json::Value) -> Vec<i64> {
    value
        .as_array()
        .map(|ids| ids.iter().filter_map(serde_json::Value::as_i64).collect())
        .unwrap_or_default()
}

/// Creates a one-time invitation for a carer to act for `children`, all of
/// which must be the guardian's. Returns the code, shown once.
pub async fn create_invitation(
    db: &DatabaseConnection,
    guardian: i64,
    children: &[i64],
    now: DateTime<Utc>,
) -> Result<NewInvitation, AppError> {
    if children.is_empty() {
        return Err(AppError::invalid("child_ids", "choose at least one child"));
    }
    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    let mut ids = Vec::with_capacity(children.len());
    for &child_id in children {
        let row = own_child(&txn, guardian, child_id).await?;
        if !ids.contains(&row.id) {
            ids.push(row.id);
        }
    }
    let family_id = family_of(&txn, guardian).await?.ok_or(AppError::NotFound)?;
    let code = invitation_code();
    let expires_at = now + INVITATION_TTL;
    let row = invitation::ActiveModel {
        family_id: Set(family_id),
        code_hash: Set(sha256_hex(&code)),
        child_ids: Set(json!(ids)),
        created_by: Set(guardian),
        created_at: Set(now),
        expires_at: Set(expires_at),
        accepted_by: Set(None),
        accepted_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(AppError::from_db)?;
    audit::record(
        &txn,
        AuditEntry {
            actor: Some(guardian),
            on_behalf_of: None,
            district_code: None,
            action: "invitation.create",
            target_kind: "invitation",
            target_id: Some(row.id.to_string()),
            detail: Some(json!({ "child_ids": ids })),
        },
        now,
    )
    .await?;
    txn.commit().await.map_err(AppError::from_db)?;
    Ok(NewInvitation { code, expires_at })
}

fn invitation_code() -> String {
    use rand::Rng;

    let mut rng = rand::rngs::OsRng;
    (0..CODE_LENGTH)
        .map(|_| char::from(CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())]))
        .collect()
}

/// Normalises a typed invitation code: capitals, without spaces or dashes.
pub fn normalize_code(input: &str) -> String {
    input
        .chars()
        .filter(|ch| !ch.is_whitespace() && *ch != '-')
        .map(|ch| ch.to_ascii_uppercase())
        .collect()
}

/// Revokes an invitation that has not been accepted yet.
pub async fn revoke_invitation(
    db: &DatabaseConnection,
    guardian: i64,
    invitation_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let family_id = family_of(db, guardian).await?.ok_or(AppError::NotFound)?;
    let changed = invitation::Entity::update_many()
        .col_expr(invitation::Column::RevokedAt, Expr::value(now))
        .filter(invitation::Column::Id.eq(invitation_id))
        .filter(invitation::Column::FamilyId.eq(family_id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map_err(AppError::from_db)?
        .rows_affected;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        db,
        AuditEntry {
            actor: Some(guardian),
            on_behalf_of: None,
            district_code: None,
            action: "invitation.revoke",
            target_kind: "invitation",
            target_id: Some(invitation_id.to_string()),
            detail: None,
        },
        now,
    )
    .await
}

/// Accepts an invitation: the carer may then act for its children. A code
/// that is unknown, used, revoked or expired gives `NotFound`, and the
/// guardian's own code gives `Conflict`.
pub async fn accept_invitation(
    db: &DatabaseConnection,
    carer: i64,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, AppError> {
    let code = normalize_code(code);
    if code.len() != CODE_LENGTH {
        return Err(AppError::NotFound);
    }
    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    let row = invitation::Entity::find()
        .filter(invitation::Column::CodeHash.eq(sha256_hex(&code)))
        .one(&txn)
        .await
        .map_err(AppError::from_db)?
        .filter(|row| row.accepted_at.is_none() && row.revoked_at.is_none() && row.expires_at > now)
        .ok_or(AppError::NotFound)?;
    let owner = family::Entity::find_by_id(row.family_id)
        .one(&txn)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    if owner.guardian_account_id == carer {
        return Err(AppError::Conflict {
            reason: "this invitation is from your own family".to_owned(),
        });
    }
    // The conditional update makes the code single-use under races.
    let claimed = invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(now))
        .col_expr(invitation::Column::AcceptedBy, Expr::value(carer))
        .filter(invitation::Column::Id.eq(row.id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .exec(&txn)
        .await
        .map_err(AppError::from_db)?
        .rows_affected;
    if claimed != 1 {
        return Err(AppError::NotFound);
    }
    let mut granted = Vec::new();
    for child_id in child_ids(&row.child_ids) {
        let exists = child::Entity::find_by_id(child_id)
            .filter(child::Column::FamilyId.eq(row.family_id))
            .one(&txn)
            .await
            .map_err(AppError::from_db)?
            .is_some();
        let already = delegation::Entity::find()
            .filter(delegation::Column::ChildId.eq(child_id))
            .filter(delegation::Column::CarerAccountId.eq(carer))
            .filter(delegation::Column::RevokedAt.is_null())
            .one(&txn)
            .await
            .map_err(AppError::from_db)?
            .is_some();
        if !exists || already {
            continue;
        }
        delegation::ActiveModel {
            family_id: Set(row.family_id),
            carer_account_id: Set(carer),
            child_id: Set(child_id),
            invitation_id: Set(Some(row.id)),
            created_at: Set(now),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(AppError::from_db)?;
        granted.push(child_id);
    }
    audit::record(
        &txn,
        AuditEntry {
            actor: Some(carer),
            on_behalf_of: Some(owner.guardian_account_id),
            district_code: None,
            action: "invitation.accept",
            target_kind: "invitation",
            target_id: Some(row.id.to_string()),
            detail: Some(json!({ "child_ids": granted })),
        },
        now,
    )
    .await?;
    txn.commit().await.map_err(AppError::from_db)?;
    Ok(granted)
}

/// Ends a carer's access to every child of the guardian's family.
pub async fn revoke_carer(
    db: &DatabaseConnection,
    guardian: i64,
    carer: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let family_id = family_of(db, guardian).await?.ok_or(AppError::NotFound)?;
    let changed = delegation::Entity::update_many()
        .col_expr(delegation::Column::RevokedAt, Expr::value(now))
        .filter(delegation::Column::FamilyId.eq(family_id))
        .filter(delegation::Column::CarerAccountId.eq(carer))
        .filter(delegation::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map_err(AppError::from_db)?
        .rows_affected;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        db,
        AuditEntry {
            actor: Some(guardian),
            on_behalf_of: None,
            district_code: None,
            action: "delegation.revoke",
            target_kind: "account",
            target_id: Some(carer.to_string()),
            detail: None,
        },
        now,
    )
    .await
}

/// Returns everything Ningyu stores about `account_id` and its family, as
/// one JSON document.
pub async fn export(
    db: &impl ConnectionTrait,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, AppError> {
    let account = account::Entity::find_by_id(account_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let roles = role_grant::Entity::find()
        .filter(role_grant::Column::AccountId.eq(account_id))
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let sessions = web_session::Entity::find()
        .filter(web_session::Column::AccountId.eq(account_id))
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let family_id = family_of(db, account_id).await?;
    let (children, consents, invitations, carers) = match family_id {
        Some(family_id) => (
            child::Entity::find()
                .filter(child::Column::FamilyId.eq(family_id))
                .all(db)
                .await
                .map_err(AppError::from_db)?,
            child_consent::Entity::find()
                .filter(child_consent::Column::FamilyId.eq(family_id))
                .all(db)
                .await
                .map_err(AppError::from_db)?,
            invitation::Entity::find()
                .filter(invitation::Column::FamilyId.eq(family_id))
                .all(db)
                .await
                .map_err(AppError::from_db)?,
            delegation::Entity::find()
                .filter(delegation::Column::FamilyId.eq(family_id))
                .all(db)
                .await
                .map_err(AppError::from_db)?,
        ),
        None => Default::default(),
    };
    let cared_for = delegation::Entity::find()
        .filter(delegation::Column::CarerAccountId.eq(account_id))
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let memberships = child_priority::Entity::find()
        .filter(child_priority::Column::ChildId.is_in(children.iter().map(|child| child.id)))
        .find_also_related(priority_group::Entity)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let watched = course_progress::Entity::find()
        .filter(course_progress::Column::AccountId.eq(account_id))
        .find_also_related(course_lesson::Entity)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let audit_entries = audit_log::Entity::find()
        .filter(
            audit_log::Column::ActorAccountId
                .eq(account_id)
                .or(audit_log::Column::OnBehalfOfAccountId.eq(account_id)),
        )
        .order_by_asc(audit_log::Column::Id)
        .all(db)
        .await
        .map_err(AppError::from_db)?;

    Ok(json!({
        "exported_at": now,
        "account": {
            "id": account.id,
            "portal_subject": account.subject,
            "display_name": account.display_name,
            "mobile": account.mobile,
            "real_name_verified": account.real_name_verified,
            "created_at": account.created_at,
            "last_sign_in_at": account.last_sign_in_at,
        },
        "roles": roles.iter().map(|role| json!({
            "role": role.role,
            "place_id": role.place_id,
            "district_code": role.district_code,
            "granted_at": role.granted_at,
        })).collect::<Vec<_>>(),
        "sessions": sessions.iter().map(|session| json!({
            "created_at": session.created_at,
            "expires_at": session.expires_at,
            "revoked_at": session.revoked_at,
        })).collect::<Vec<_>>(),
        "family_id": family_id,
        "children": children.iter().map(|child| json!({
            "id": child.id,
            "display_name": child.display_name,
            "birth_date": child.birth_date,
            "care_notes": child.care_notes,
            "priority_groups": memberships.iter()
                .filter(|(membership, _)| membership.child_id == child.id)
                .map(|(membership, group)| json!({
                    "name_zh": group.as_ref().map(|group| &group.name_zh),
                    "name_en": group.as_ref().map(|group| &group.name_en),
                    "granted_at": membership.granted_at,
                }))
                .collect::<Vec<_>>(),
            "created_at": child.created_at,
            "updated_at": child.updated_at,
        })).collect::<Vec<_>>(),
        "consents": consents.iter().map(|consent| json!({
            "id": consent.id,
            "notice_version": consent.notice_version,
            "given_at": consent.given_at,
            "withdrawn_at": consent.withdrawn_at,
        })).collect::<Vec<_>>(),
        "invitations": invitations.iter().map(|invitation| json!({
            "id": invitation.id,
            "child_ids": invitation.child_ids,
            "created_at": invitation.created_at,
            "expires_at": invitation.expires_at,
            "accepted_by": invitation.accepted_by,
            "accepted_at": invitation.accepted_at,
            "revoked_at": invitation.revoked_at,
        })).collect::<Vec<_>>(),
        "carers": carers.iter().map(delegation_json).collect::<Vec<_>>(),
        "cared_for": cared_for.iter().map(delegation_json).collect::<Vec<_>>(),
        "course_progress": watched.iter().map(|(progress, lesson)| json!({
            "lesson_id": progress.lesson_id,
            "course_id": lesson.as_ref().map(|lesson| lesson.course_id),
            "lesson_title": lesson.as_ref().map(|lesson| &lesson.title),
            "position_seconds": progress.position_seconds,
            "finished_at": progress.completed_at,
            "updated_at": progress.updated_at,
        })).collect::<Vec<_>>(),
        "audit": audit_entries.iter().map(|entry| json!({
            "at": entry.at,
            "actor_account_id": entry.actor_account_id,
            "on_behalf_of_account_id": entry.on_behalf_of_account_id,
            "action": entry.action,
            "target_kind": entry.target_kind,
            "target_id": entry.target_id,
            "detail": entry.detail,
        })).collect::<Vec<_>>(),
    }))
}

fn delegation_json(row: &delegation::Model) -> serde_json::Value {
    json!({
        "id": row.id,
        "family_id": row.family_id,
        "carer_account_id": row.carer_account_id,
        "child_id": row.child_id,
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
    })
}

/// Deletes the account and its family: children (whose bookings are
/// cancelled and places handed on first), consents, invitations,
/// delegations, sessions and roles. The audit log keeps its entries, which
/// hold account ids that no longer identify anyone, and one entry with the
/// number of children deleted.
pub async fn delete_account(
    db: &DatabaseConnection,
    rules: &BookingRules,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    let family_id = family_of(&txn, account_id).await?;
    let mut children = 0;
    if let Some(family_id) = family_id {
        let ids: Vec<i64> = child::Entity::find()
            .filter(child::Column::FamilyId.eq(family_id))
            .all(&txn)
            .await
            .map_err(AppError::from_db)?
            .into_iter()
            .map(|row| row.id)
            .collect();
        booking::release_children(&txn, rules, account_id, &ids, now).await?;
        // Children first: their foreign keys point at the consents.
        children = child::Entity::delete_many()
            .filter(child::Column::FamilyId.eq(family_id))
            .exec(&txn)
            .await
            .map_err(AppError::from_db)?
            .rows_affected;
        family::Entity::delete_by_id(family_id)
            .exec(&txn)
            .await
            .map_err(AppError::from_db)?;
    }
    let deleted = account::Entity::delete_by_id(account_id)
        .exec(&txn)
        .await
        .map_err(AppError::from_db)?
        .rows_affected;
    if deleted == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        &txn,
        AuditEntry {
            actor: Some(account_id),
            on_behalf_of: None,
            district_code: None,
            action: "account.delete",
            target_kind: "account",
            target_id: Some(account_id.to_string()),
            detail: Some(json!({ "children": children })),
        },
        now,
    )
    .await?;
    txn.commit().await.map_err(AppError::from_db)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn age_in_whole_months() {
        let cases = [
            ("2026-12-04", "2026-12-04", Some(0)),
            ("2026-11-04", "2026-12-04", Some(1)),
            ("2026-11-05", "2026-12-04", Some(0)),
            ("2024-12-04", "2026-12-04", Some(24)),
            // Born on the 31st: a month passes on the last day of shorter months.
            ("2026-01-31", "2026-02-28", Some(1)),
            ("2024-01-31", "2024-02-29", Some(1)),
            ("2026-12-05", "2026-12-04", None),
        ];
        for (birth, today, expected) in cases {
            assert_eq!(
                age_in_months(date(birth), date(today)),
                expected,
                "{birth} → {today}"
            );
        }
    }

    #[test]
    fn child_details_are_checked() {
        let today = date("2026-12-04");
        let good = ChildInput {
            display_name: " 阿依古丽 • 买买提 ".into(),
            birth_date: "2025-06-01".into(),
            care_notes: Some("  花生过敏  ".into()),
        };
        let (name, birth, notes) = check_child(&good, today).unwrap_or_default();
        assert_eq!(name, "阿依古丽·买买提");
        assert_eq!(birth, date("2025-06-01"));
        assert_eq!(notes.as_deref(), Some("花生过敏"));

        let bad = [
            ("", "2025-06-01", "display_name"),
            ("小明", "2025-13-01", "birth_date"),
            ("小明", "2026-12-05", "birth_date"),
            ("小明", "2018-01-01", "birth_date"),
        ];
        for (name, birth, field) in bad {
            let input = ChildInput {
                display_name: name.into(),
                birth_date: birth.into(),
                care_notes: None,
            };
            match check_child(&input, today) {
                Err(AppError::Invalid { field: got, .. }) => assert_eq!(got, field),
                other => panic!("{name:?} {birth:?}: expected invalid {field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn invitation_codes_avoid_confusable_letters() {
        for _ in 0..100 {
            let code = invitation_code();
            assert_eq!(code.len(), CODE_LENGTH);
            assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{code}");
        }
        assert_eq!(normalize_code(" abcd-efgh 23 "), "ABCDEFGH23");
    }
}
