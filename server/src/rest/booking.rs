//! `/api/v1/sessions`, `/api/v1/bookings`, `/api/v1/waitlist`,
//! `/api/v1/notifications` and `/api/v1/calendar`: booking for the mobile
//! apps. Each handler calls `app::domain::booking` or its neighbours.

use app::domain::booking::{self, BookRequest, DrawRecord};
use app::domain::{calendar, inbox};
use app::model::{
    BookOutcome, BookingView, MyBookings, NewSession, NotificationView, RosterEntry, SessionDetail,
};
use app::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiError;
use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, SignedIn};

/// Returns a session with its booking rules and places left.
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}",
    tag = "booking",
    params(("id" = i64, Path, description = "Session id")),
    responses(
        (status = 200, description = "The session", body = SessionDetail),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ),
)]
pub async fn get_session(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SessionDetail>, ApiError> {
    Ok(Json(booking::session_detail(&state.db, id).await?))
}

/// Publishes a session at a place; for its staff and administrators.
#[utoipa::path(
    post,
    path = "/api/v1/places/{id}/sessions",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Place id")),
    request_body = NewSession,
    responses(
        (status = 201, description = "The new session", body = SessionDetail),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not staff of this place", body = ErrorBody),
        (status = 422, description = "A field is out of range", body = ErrorBody),
    ),
)]
pub async fn create_session(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(place_id): ApiPath<i64>,
    ApiJson(input): ApiJson<NewSession>,
) -> Result<(StatusCode, Json<SessionDetail>), ApiError> {
    let detail = booking::create_session(&state.db, &viewer, place_id, &input, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// Children to book places for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookBody {
    /// One to four children of the family, or children the caller cares for.
    pub child_ids: Vec<i64>,
    /// Join the waitlist when the session is full instead of returning 409.
    #[serde(default)]
    pub join_waitlist: bool,
}

/// Books places, or joins the waitlist or the fair-release draw.
///
/// Send an `Idempotency-Key` header (1 to 64 visible ASCII characters) to
/// make a retried request return the first outcome instead of booking again.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/bookings",
    tag = "booking",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Session id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry key"),
    ),
    request_body = BookBody,
    responses(
        (status = 200, description = "Booked, waitlisted or entered in the draw", body = BookOutcome),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such session or child", body = ErrorBody),
        (status = 409, description = "Full, or refused by the booking rules", body = ErrorBody),
        (status = 422, description = "A field is out of range", body = ErrorBody),
        (status = 503, description = "The database is busy or unavailable; retry with the same key", body = ErrorBody),
    ),
)]
pub async fn book(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(session_id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BookBody>,
) -> Result<Json<BookOutcome>, ApiError> {
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| {
                    app::error::AppError::invalid("idempotency_key", "must be visible ASCII")
                })?
                .to_owned(),
        ),
    };
    let request = BookRequest {
        session_id,
        child_ids: body.child_ids,
        join_waitlist: body.join_waitlist,
        idempotency_key,
    };
    Ok(Json(
        booking::book(
            &state.db,
            &state.booking,
            viewer.account_id,
            &request,
            Utc::now(),
        )
        .await?,
    ))
}

/// Returns the bookings and waitlist entries of every child the caller
/// may act for.
#[utoipa::path(
    get,
    path = "/api/v1/bookings",
    tag = "booking",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Bookings and waitlist entries", body = MyBookings),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
)]
pub async fn my_bookings(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Json<MyBookings>, ApiError> {
    Ok(Json(
        booking::my_bookings(&state.db, viewer.account_id, Utc::now()).await?,
    ))
}

/// Returns one booking.
#[utoipa::path(
    get,
    path = "/api/v1/bookings/{id}",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Booking id")),
    responses(
        (status = 200, description = "The booking", body = BookingView),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such booking of yours", body = ErrorBody),
    ),
)]
pub async fn get_booking(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BookingView>, ApiError> {
    Ok(Json(
        booking::get_booking(&state.db, viewer.account_id, id, Utc::now()).await?,
    ))
}

/// Cancels a booking. After the cancellation cut-off it is recorded as
/// late; cancelling again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/bookings/{id}/cancel",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Booking id")),
    responses(
        (status = 200, description = "The cancelled booking", body = BookingView),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such booking of yours", body = ErrorBody),
        (status = 409, description = "The session is over", body = ErrorBody),
    ),
)]
pub async fn cancel(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BookingView>, ApiError> {
    Ok(Json(
        booking::cancel(&state.db, &state.booking, viewer.account_id, id, Utc::now()).await?,
    ))
}

/// A member of staff's reason for cancelling.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffCancelBody {
    /// 1 to 200 characters, shown to the family.
    pub reason: String,
}

/// Cancels a booking as the room's staff and sends the family the reason.
#[utoipa::path(
    post,
    path = "/api/v1/staff/bookings/{id}/cancel",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Booking id")),
    request_body = StaffCancelBody,
    responses(
        (status = 204, description = "Cancelled, or already cancelled"),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such booking at a place you run", body = ErrorBody),
        (status = 422, description = "The reason is empty or too long", body = ErrorBody),
    ),
)]
pub async fn cancel_by_staff(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StaffCancelBody>,
) -> Result<StatusCode, ApiError> {
    booking::cancel_by_staff(
        &state.db,
        &state.booking,
        &viewer,
        id,
        &body.reason,
        Utc::now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accepts a waitlist offer, which books the held place.
#[utoipa::path(
    post,
    path = "/api/v1/waitlist/{id}/accept",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Waitlist entry id")),
    responses(
        (status = 200, description = "The booking", body = BookingView),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such entry of yours", body = ErrorBody),
        (status = 409, description = "The offer has expired or was already accepted or declined", body = ErrorBody),
    ),
)]
pub async fn accept_offer(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BookingView>, ApiError> {
    Ok(Json(
        booking::accept_offer(&state.db, &state.booking, viewer.account_id, id, Utc::now()).await?,
    ))
}

/// Leaves the waitlist, or declines an offer, which passes the place on.
#[utoipa::path(
    post,
    path = "/api/v1/waitlist/{id}/leave",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Waitlist entry id")),
    responses(
        (status = 204, description = "Left, or had left already"),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such entry of yours", body = ErrorBody),
    ),
)]
pub async fn leave_waitlist(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    booking::leave_waitlist(&state.db, &state.booking, viewer.account_id, id, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Returns the record of a session's fair-release draw: the seed and the
/// drawn order of entry ids, for anyone to check.
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}/draw",
    tag = "booking",
    params(("id" = i64, Path, description = "Session id")),
    responses(
        (status = 200, description = "The draw", body = DrawRecord),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "No such session, or no draw yet", body = ErrorBody),
    ),
)]
pub async fn draw(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DrawRecord>, ApiError> {
    Ok(Json(booking::draw_record(&state.db, id).await?))
}

/// Returns the newest messages, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "booking",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The inbox", body = Vec<NotificationView>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
)]
pub async fn notifications(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Json<Vec<NotificationView>>, ApiError> {
    Ok(Json(inbox::inbox(&state.db, viewer.account_id).await?))
}

/// Marks every message read.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/read",
    tag = "booking",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Marked"),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
)]
pub async fn mark_read(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<StatusCode, ApiError> {
    inbox::mark_all_read(&state.db, viewer.account_id, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Returns one booking as an iCalendar file.
#[utoipa::path(
    get,
    path = "/api/v1/bookings/{id}/calendar",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Booking id")),
    responses(
        (status = 200, description = "An iCalendar file", content_type = "text/calendar"),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such booking of yours", body = ErrorBody),
    ),
)]
pub async fn booking_calendar(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let text = calendar::booking_ics(&state.db, viewer.account_id, id, Utc::now()).await?;
    Ok(ics_response(text, &format!("ningyu-booking-{id}.ics")))
}

/// The address of the family's private calendar feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedAddress {
    /// Path of the feed, to subscribe to in a calendar app. Anyone with it
    /// can read the family's bookings; reset it if it leaks.
    pub path: String,
}

/// Returns the family's calendar feed address, creating it on first use.
#[utoipa::path(
    get,
    path = "/api/v1/calendar",
    tag = "booking",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The feed address", body = FeedAddress),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "The account has no family yet", body = ErrorBody),
    ),
)]
pub async fn feed_address(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Json<FeedAddress>, ApiError> {
    let token = calendar::feed_token(&state.db, viewer.account_id).await?;
    Ok(Json(FeedAddress {
        path: format!("/calendar/{token}.ics"),
    }))
}

/// Serves a family's calendar feed by its token: `/calendar/{token}.ics`.
pub async fn feed(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let token = file
        .strip_suffix(".ics")
        .ok_or(ApiError(app::error::AppError::NotFound))?;
    let text = calendar::family_feed(&state.db, token, Utc::now()).await?;
    Ok(ics_response(text, "ningyu.ics"))
}

fn ics_response(text: String, file_name: &str) -> axum::response::Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        text,
    )
        .into_response()
}

/// Returns a session's booked children with their care notes, for the
/// staff of its place. Each read is audited.
#[utoipa::path(
    get,
    path = "/api/v1/staff/sessions/{id}/roster",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Session id")),
    responses(
        (status = 200, description = "The roster", body = Vec<RosterEntry>),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such session at a place you run", body = ErrorBody),
    ),
)]
pub async fn roster(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<RosterEntry>>, ApiError> {
    Ok(Json(
        booking::roster(&state.db, &viewer, id, Utc::now()).await?,
    ))
}

/// A check-in code as typed or scanned at the door.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInBody {
    /// The 6-character code, or the QR code's text `NINGYU:{id}:{code}`.
    #[schema(max_length = 64)]
    pub code: String,
}

/// Checks a child in by the booking's code; checking in twice keeps the
/// first time.
#[utoipa::path(
    post,
    path = "/api/v1/staff/sessions/{id}/check-in",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Session id")),
    request_body = CheckInBody,
    responses(
        (status = 200, description = "The child checked in", body = RosterEntry),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such code in a session you run", body = ErrorBody),
    ),
)]
pub async fn check_in(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CheckInBody>,
) -> Result<Json<RosterEntry>, ApiError> {
    Ok(Json(
        booking::check_in(&state.db, &viewer, id, &body.code, Utc::now())
            .await?
            .entry,
    ))
}
