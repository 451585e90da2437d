//! Calendars: an `.ics` file per booking and a private feed per family.
//! Times are written in UTC with `Z`, which every calendar converts to the
//! reader's zone; Nanjing has no daylight saving to get wrong.

use chrono::{DateTime, Duration, Utc};
use icalendar::{Calendar, Component, Event, EventLike};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

use crate::domain::booking;
use crate::domain::family;
use crate::domain::secrets::random_token;
use crate::entity::{calendar_feed, place};
use crate::error::AppError;
use crate::model::{BookingStatus, BookingView};

/// How far back the family feed reaches.
const FEED_HISTORY: Duration = Duration::days(30);

/// Returns the `.ics` text of one booking of a child the account may act for.
pub async fn booking_ics(
    db: &impl ConnectionTrait,
    account_id: i64,
    booking_id: i64,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let view = booking::get_booking(db, account_id, booking_id, now).await?;
    let address = place_address(db, view.place_id).await?;
    let mut calendar = Calendar::new();
    calendar.name("宁育 Ningyu");
    calendar.push(event(&view, &address, now));
    Ok(calendar.done().to_string())
}

/// Returns the family feed's token for the guardian, creating it once.
pub async fn feed_token(db: &DatabaseConnection, guardian: i64) -> Result<String, AppError> {
    let family_id = family::family_of(db, guardian)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(row) = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::FamilyId.eq(family_id))
        .one(db)
        .await
        .map_err(AppError::from_db)?
    {
        return Ok(row.token);
    }
    let token = random_token(24);
    calendar_feed::ActiveModel {
        family_id: Set(family_id),
        token: Set(token.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(AppError::from_db)?;
    Ok(token)
}

/// Replaces the family feed's token, so that the old address stops working.
pub async fn reset_feed_token(db: &DatabaseConnection, guardian: i64) -> Result<String, AppError> {
    let family_id = family::family_of(db, guardian)
        .await?
        .ok_or(AppError::NotFound)?;
    calendar_feed::Entity::delete_many()
        .filter(calendar_feed::Column::FamilyId.eq(family_id))
        .exec(db)
        .await
        .map_err(AppError::from_db)?;
    feed_token(db, guardian).await
}

/// Returns the family feed for `token`: confirmed bookings from the last
/// 30 days on. An unknown token is `NotFound`.
pub async fn family_feed(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    if token.is_empty() || token.len() > 64 {
        return Err(AppError::NotFound);
    }
    let feed = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::Token.eq(token))
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?;
    let guardian = crate::entity::family::Entity::find_by_id(feed.family_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .ok_or(AppError::NotFound)?
        .guardian_account_id;
    let mine = booking::my_bookings(db, guardian, now - FEED_HISTORY).await?;
    let mut calendar = Calendar::new();
    calendar.name("宁育 Ningyu");
    for view in mine
        .upcoming
        .iter()
        .filter(|view| view.status == BookingStatus::Confirmed)
    {
        let address = place_address(db, view.place_id).await?;
        calendar.push(event(view, &address, now));
    }
    Ok(calendar.done().to_string())
}

async fn place_address(db: &impl ConnectionTrait, place_id: i64) -> Result<String, AppError> {
    Ok(place::Entity::find_by_id(place_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .map(|row| row.address)
        .unwrap_or_default())
}

fn event(view: &BookingView, address: &str, now: DateTime<Utc>) -> Event {
    let location = if address.is_empty() {
        view.place_name.clone()
    } else {
        format!("{} {address}", view.place_name)
    };
    let mut description = format!("{}：{}", view.child_name, view.session_title);
    if let Some(code) = &view.check_in_code {
        description.push_str(&format!("\n签到码 Check-in code: {code}"));
    }
    Event::new()
        .uid(&format!("booking-{}@ningyu", view.id))
        .timestamp(now)
        .starts(view.starts_at)
        .ends(view.ends_at)
        .summary(&format!("{} · {}", view.session_title, view.place_name))
        .location(&location)
        .description(&description)
        .done()
}
