//! Form drafts: the values of a form that the server rejected, kept beside
//! the web session for the next page to show once.
//!
//! A plain form post without JavaScript loses what was typed, because the
//! browser follows a redirect back to the page. Putting the values into
//! that redirect's address would write children's names, birth dates,
//! care notes and mobile numbers into server logs and browser history, so
//! they stay in the database instead, tied to the session that typed them.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::domain::secrets::sha256_hex;
use crate::entity::form_draft::{self, Column};
use crate::error::AppError;

/// How long a draft waits for the page that shows it.
pub const DRAFT_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

/// Keeps `fields` as the draft of `form` for the web session whose cookie
/// value is `session_token`, replacing an earlier draft of that form.
pub async fn save(
    db: &impl ConnectionTrait,
    session_token: &str,
    form: &str,
    fields: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let draft = form_draft::ActiveModel {
        session_hash: Set(sha256_hex(session_token)),
        form: Set(form.to_owned()),
        fields: Set(fields),
        expires_at: Set(now + DRAFT_LIFETIME),
    };
    form_draft::Entity::insert(draft)
        .on_conflict(
            OnConflict::columns([Column::SessionHash, Column::Form])
                .update_columns([Column::Fields, Column::ExpiresAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(())
}

/// Removes and returns the draft of `form` for the session, unless it has
/// expired. A second call returns `None`.
pub async fn take(
    db: &impl ConnectionTrait,
    session_token: &str,
    form: &str,
    now: DateTime<Utc>,
) -> Result<Option<serde_json::Value>, AppError> {
    let key = (sha256_hex(session_token), form.to_owned());
    let Some(draft) = form_draft::Entity::find_by_id(key.clone())
        .one(db)
        .await
        .map_err(AppError::from_db)?
    else {
        return Ok(None);
    };
    form_draft::Entity::delete_by_id(key)
        .exec(db)
        .await
        .map_err(AppError::from_db)?;
    Ok((draft.expires_at > now).then_some(draft.fields))
}

/// Deletes expired drafts and returns how many. Idempotent, so every
/// server runs it.
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, AppError> {
    let deleted = form_draft::Entity::delete_many()
        .filter(Column::ExpiresAt.lt(now))
        .exec(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(deleted.rows_affected)
}
