//! Server functions for the session, bookings and inbox pages. Each one
//! takes the viewer from the session and calls `domain::booking`, which
//! checks the viewer's right to act for each child.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::{BookOutcome, MyBookings, NotificationView, SessionDetail};

#[cfg(feature = "ssr")]
use super::support::{require_viewer, state, viewer, with_status};

/// A child the viewer may book for, as the booking form lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildChoice {
    pub id: i64,
    pub name: String,
    /// Age in months on the session's date in Nanjing.
    pub age_months: Option<u32>,
}

/// The session page's data: the session, and for a signed-in viewer the
/// children to choose from and their bookings and entries in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionPageData {
    pub detail: SessionDetail,
    pub signed_in: bool,
    pub children: Vec<ChildChoice>,
    pub mine: MyBookings,
}

/// Loads the session page.
#[server(prefix = "/sfn", endpoint = "load_session_page")]
pub async fn load_session_page(session_id: i64) -> Result<SessionPageData, AppError> {
    use crate::domain::{booking, family};
    use crate::entity::child;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    let state = state()?;
    let detail = with_status(booking::session_detail(&state.db, session_id).await)?;
    let now = chrono::Utc::now();
    let Some(viewer) = viewer() else {
        return Ok(SessionPageData {
            detail,
            signed_in: false,
            children: Vec::new(),
            mine: MyBookings {
                upcoming: Vec::new(),
                waitlist: Vec::new(),
                past: Vec::new(),
            },
        });
    };
    let ids = with_status(booking::reachable_children(&state.db, viewer.account_id).await)?;
    let rows = with_status(
        child::Entity::find()
            .filter(child::Column::Id.is_in(ids))
            .order_by_asc(child::Column::BirthDate)
            .all(&state.db)
            .await
            .map_err(AppError::from_db),
    )?;
    let session_date = crate::time::local_date(detail.session.starts_at);
    let children = rows
        .into_iter()
        .map(|row| ChildChoice {
            id: row.id,
            name: row.display_name,
            age_months: family::age_in_months(row.birth_date, session_date),
        })
        .collect();
    let mut mine = with_status(booking::my_bookings(&state.db, viewer.account_id, now).await)?;
    mine.upcoming.retain(|view| view.session_id == session_id);
    mine.waitlist.retain(|view| view.session_id == session_id);
    mine.past.retain(|view| view.session_id == session_id);
    Ok(SessionPageData {
        detail,
        signed_in: true,
        children,
        mine,
    })
}

/// Books the chosen children into the session, or puts them on its
/// waitlist when `join_waitlist` is `on` and the session is full.
///
/// A plain form post returns to the session page; when rejected, with the
/// error and the chosen children kept as the form's draft.
#[server(prefix = "/sfn", endpoint = "book_session")]
pub async fn book_session(
    session_id: i64,
    #[server(default)] child_ids: Vec<i64>,
    join_waitlist: Option<String>,
    idempotency_key: Option<String>,
) -> Result<BookOutcome, AppError> {
    use super::form_redirect;
    use crate::domain::booking::{self, BookRequest};

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let request = BookRequest {
        session_id,
        child_ids: child_ids.clone(),
        join_waitlist: join_waitlist
            .as_deref()
            .is_some_and(|value| value == "on" || value == "true"),
        idempotency_key: idempotency_key.clone().filter(|key| !key.is_empty()),
    };
    let result = booking::book(
        &state.db,
        &state.booking,
        viewer.account_id,
        &request,
        chrono::Utc::now(),
    )
    .await;
    let page = format!("/sessions/{session_id}");
    match &result {
        Ok(_) => form_redirect::back_to(&page, &[], None),
        Err(error) => {
            let call = BookSession {
                session_id,
                child_ids,
                join_waitlist,
                idempotency_key,
            };
            form_redirect::reject(&page, &call, error).await;
        }
    }
    with_status(result)
}

/// Loads the viewer's bookings and waitlist entries.
#[server(prefix = "/sfn", endpoint = "load_my_bookings")]
pub async fn load_my_bookings() -> Result<MyBookings, AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    with_status(
        crate::domain::booking::my_bookings(&state.db, viewer.account_id, chrono::Utc::now()).await,
    )
}

/// Cancels a booking.
#[server(prefix = "/sfn", endpoint = "cancel_booking")]
pub async fn cancel_booking(booking_id: i64) -> Result<(), AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    with_status(
        crate::domain::booking::cancel(
            &state.db,
            &state.booking,
            viewer.account_id,
            booking_id,
            chrono::Utc::now(),
        )
        .await
        .map(|_| ()),
    )
}

/// Accepts a waitlist offer.
#[server(prefix = "/sfn", endpoint = "accept_offer")]
pub async fn accept_offer(entry_id: i64) -> Result<(), AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    with_status(
        crate::domain::booking::accept_offer(
            &state.db,
            &state.booking,
            viewer.account_id,
            entry_id,
            chrono::Utc::now(),
        )
        .await
        .map(|_| ()),
    )
}

/// Declines an offer or leaves the waitlist.
#[server(prefix = "/sfn", endpoint = "leave_waitlist")]
pub async fn leave_waitlist(entry_id: i64) -> Result<(), AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    with_status(
        crate::domain::booking::leave_waitlist(
            &state.db,
            &state.booking,
            viewer.account_id,
            entry_id,
            chrono::Utc::now(),
        )
        .await,
    )
}

/// Loads the inbox and marks its messages read.
#[server(prefix = "/sfn", endpoint = "load_inbox")]
pub async fn load_inbox() -> Result<Vec<NotificationView>, AppError> {
    use crate::domain::inbox;

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let messages = with_status(inbox::inbox(&state.db, viewer.account_id).await)?;
    with_status(inbox::mark_all_read(&state.db, viewer.account_id, chrono::Utc::now()).await)?;
    Ok(messages)
}
