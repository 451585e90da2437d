//! Accounts keyed by the city portal's subject, and the roles granted to them.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::domain::audit::{self, AuditEntry};
use crate::entity::{account, place, role_grant};
use crate::error::AppError;
use crate::model::{Role, Viewer};

/// A citizen's details from the portal at sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalIdentity {
    pub subject: String,
    pub display_name: String,
    /// Already normalised to 11 digits; `None` when absent or malformed.
    pub mobile: Option<String>,
    pub real_name_verified: bool,
}

/// Creates the account for `identity` or refreshes its portal details, and
/// records the sign-in time. Returns the account id.
pub async fn sign_in(
    db: &impl ConnectionTrait,
    identity: &PortalIdentity,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let row = account::ActiveModel {
        subject: Set(identity.subject.clone()),
        display_name: Set(identity.display_name.clone()),
        mobile: Set(identity.mobile.clone()),
        real_name_verified: Set(identity.real_name_verified),
        created_at: Set(now),
        last_sign_in_at: Set(Some(now)),
        ..Default::default()
    };
    account::Entity::insert(row)
        .on_conflict(
            OnConflict::column(account::Column::Subject)
                .update_columns([
                    account::Column::DisplayName,
                    account::Column::RealNameVerified,
                    account::Column::LastSignInAt,
                ])
                // A contact number the person set themselves wins over the
                // portal's, which fills it only while it is empty.
                .value(
                    account::Column::Mobile,
                    sea_orm::sea_query::Expr::cust(
                        r#"COALESCE("account"."mobile", excluded."mobile")"#,
                    ),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(AppError::from_db)?;
    account_id_by_subject(db, &identity.subject)
        .await?
        .ok_or(AppError::Internal)
}

/// Returns the id of the account with portal subject `subject`.
pub async fn account_id_by_subject(
    db: &impl ConnectionTrait,
    subject: &str,
) -> Result<Option<i64>, AppError> {
    Ok(account::Entity::find()
        .filter(account::Column::Subject.eq(subject))
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .map(|account| account.id))
}

/// Loads the viewer for `account_id`: name and roles.
pub async fn viewer(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Option<Viewer>, AppError> {
    load_viewer(db, account::Column::Id.eq(account_id)).await
}

/// Loads the viewer of the account that `filter` selects, with its roles,
/// in one query: this runs on every signed-in request.
pub(crate) async fn load_viewer(
    db: &impl ConnectionTrait,
    filter: impl sea_orm::sea_query::IntoCondition,
) -> Result<Option<Viewer>, AppError> {
    let found = account::Entity::find()
        .filter(filter)
        .find_with_related(role_grant::Entity)
        .order_by_asc(role_grant::Column::Id)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    let Some((account, grants)) = found.into_iter().next() else {
        return Ok(None);
    };
    Ok(Some(Viewer {
        account_id: account.id,
        display_name: account.display_name,
        roles: grants.into_iter().filter_map(role_from_row).collect(),
    }))
}

/// Returns the roles granted to `account_id`, oldest first.
pub async fn roles_of(db: &impl ConnectionTrait, account_id: i64) -> Result<Vec<Role>, AppError> {
    let grants = role_grant::Entity::find()
        .filter(role_grant::Column::AccountId.eq(account_id))
        .order_by_asc(role_grant::Column::Id)
        .all(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(grants.into_iter().filter_map(role_from_row).collect())
}

fn role_from_row(row: role_grant::Model) -> Option<Role> {
    match (row.role.as_str(), row.place_id, row.district_code) {
        ("room_staff", Some(place_id), _) => Some(Role::RoomStaff { place_id }),
        ("district_admin", _, Some(district_code)) => Some(Role::DistrictAdmin { district_code }),
        ("city_admin", _, _) => Some(Role::CityAdmin),
        _ => {
            tracing::error!(grant = row.id, "role grant row is inconsistent; ignored");
            None
        }
    }
}

/// Grants `role` to the account with portal subject `subject`, creating
/// the account (without details until its first sign-in) when needed.
/// Granting a role the account already has changes nothing. `actor` is the
/// account that granted it, `None` for the command line.
pub async fn grant_role(
    db: &DatabaseConnection,
    subject: &str,
    role: &Role,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let subject = subject.trim();
    if subject.is_empty() || subject.len() > 255 {
        return Err(AppError::invalid("subject", "must be 1 to 255 bytes"));
    }
    let (txn, _turn) = crate::db::begin_write(db)
        .await
        .map_err(AppError::from_db)?;
    let account_id = match account_id_by_subject(&txn, subject).await? {
        Some(id) => id,
        None => {
            account::ActiveModel {
                subject: Set(subject.to_owned()),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await
            .map_err(AppError::from_db)?
            .id
        }
    };
    if let Role::RoomStaff { place_id } = role {
        let exists = place::Entity::find_by_id(*place_id)
            .one(&txn)
            .await
            .map_err(AppError::from_db)?
            .is_some();
        if !exists {
            return Err(AppError::invalid("place_id", "no such place"));
        }
    }
    if roles_of(&txn, account_id).await?.contains(role) {
        txn.commit().await.map_err(AppError::from_db)?;
        return Ok(account_id);
    }
    let (name, place_id, district_code) = match role {
        Role::RoomStaff { place_id } => ("room_staff", Some(*place_id), None),
        Role::DistrictAdmin { district_code } => {
            ("district_admin", None, Some(district_code.clone()))
        }
        Role::CityAdmin => ("city_admin", None, None),
    };
    role_grant::ActiveModel {
        account_id: Set(account_id),
        role: Set(name.to_owned()),
        place_id: Set(place_id),
        district_code: Set(district_code),
        granted_at: Set(now),
        granted_by: Set(actor),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(AppError::from_db)?;
    // A district administrator's grant belongs to that district, and room
    // staff's to the district of their room.
    let audit_district = match role {
        Role::RoomStaff { place_id } => audit::place_district(&txn, *place_id).await?,
        Role::DistrictAdmin { district_code } => Some(district_code.clone()),
        Role::CityAdmin => None,
    };
    audit::record(
        &txn,
        AuditEntry {
            actor,
            on_behalf_of: None,
            district_code: audit_district,
            action: "role.grant",
            target_kind: "account",
            target_id: Some(account_id.to_string()),
            detail: serde_json::to_value(role).ok(),
        },
        now,
    )
    .await?;
    txn.commit().await.map_err(AppError::from_db)?;
    Ok(account_id)
}

/// Sets the account's contact mobile number from what the person typed:
/// full-width digits, spaces, dashes and a +86 prefix are accepted and
/// stored as 11 digits. Returns the stored number.
pub async fn set_mobile(
    db: &impl ConnectionTrait,
    account_id: i64,
    input: &str,
) -> Result<String, AppError> {
    let mobile = crate::validate::normalize_mobile(input).ok_or_else(|| {
        AppError::invalid(
            "mobile",
            "must be an 11-digit mainland mobile number, such as 139 1234 5678",
        )
    })?;
    let updated = account::Entity::update_many()
        .col_expr(
            account::Column::Mobile,
            sea_orm::sea_query::Expr::value(mobile.clone()),
        )
        .filter(account::Column::Id.eq(account_id))
        .exec(db)
        .await
        .map_err(AppError::from_db)?
        .rows_affected;
    if updated == 0 {
        return Err(AppError::NotFound);
    }
    Ok(mobile)
}

/// Returns the account's contact mobile number, if any.
pub async fn mobile_of(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Option<String>, AppError> {
    Ok(account::Entity::find_by_id(account_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .and_then(|account| account.mobile))
}
