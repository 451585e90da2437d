//! The staff console's reads: the rooms a person runs with their upcoming
//! sessions. Rosters, check-in, cancellation and new sessions are in
//! `domain::booking`, shared with the REST API.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::booking::may_manage_place;
use crate::entity::{booking, care_session, district, place, waitlist_entry};
use crate::error::AppError;
use crate::model::{Role, SessionKind, StaffOverview, StaffRoom, StaffSession, Viewer};
use crate::time::{SHANGHAI, local_date};

/// How far ahead the console lists sessions, counted from today in Nanjing.
const LOOKAHEAD_DAYS: i64 = 14;
/// Maximum number of sessions an administrator's overview lists, because a
/// city administrator's scope contains every place of the city.
const MAX_ADMIN_SESSIONS: u64 = 200;

/// Returns whether the viewer has any role that the staff console serves.
pub fn runs_rooms(viewer: &Viewer) -> bool {
    !viewer.roles.is_empty()
}

/// Lists the rooms the viewer runs, with their sessions from the start of
/// today in Nanjing to 14 days ahead, earliest first.
///
/// Room staff see each of their rooms, with or without sessions.
/// Administrators see the places in their scope that have sessions in that
/// time, at most 200 sessions. Anyone without a role gets `NotFound`, as
/// for a page that does not exist.
pub async fn overview(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    now: DateTime<Utc>,
) -> Result<StaffOverview, AppError> {
    if !runs_rooms(viewer) {
        return Err(AppError::NotFound);
    }
    let today_start = local_date(now)
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| midnight.and_local_timezone(SHANGHAI).single())
        .map(|midnight| midnight.with_timezone(&Utc))
        .ok_or(AppError::Internal)?;
    let until = today_start + Duration::days(LOOKAHEAD_DAYS + 1);

    let staff_places: Vec<i64> = viewer
        .roles
        .iter()
        .filter_map(|role| match role {
            Role::RoomStaff { place_id } => Some(*place_id),
            _ => None,
        })
        .collect();
    let administrator = viewer.is_admin();

    // The places whose sessions to list: the staff's rooms, plus the
    // administrator's district or, for a city administrator, every place.
    let mut sessions_query = care_session::Entity::find()
        .filter(care_session::Column::EndsAt.gt(today_start))
        .filter(care_session::Column::StartsAt.lt(until))
        .order_by_asc(care_session::Column::StartsAt)
        .order_by_asc(care_session::Column::Id);
    if !viewer.is_city_admin() {
        let mut scope = Condition::any().add(place::Column::Id.is_in(staff_places.clone()));
        let district_names = administered_district_names(db, viewer).await?;
        if !district_names.is_empty() {
            scope = scope.add(place::Column::District.is_in(district_names));
        }
        let place_ids: Vec<i64> = place::Entity::find()
            .select_only()
            .column(place::Column::Id)
            .filter(scope)
            .into_tuple()
            .all(db)
            .await
            .map_err(AppError::from_db)?;
        sessions_query = sessions_query.filter(care_session::Column::PlaceId.is_in(place_ids));
    }
    if administrator {
        sessions_query = sessions_query.limit(MAX_ADMIN_SESSIONS);
    }
    let sessions = sessions_query.all(db).await.map_err(AppError::from_db)?;
    let session_ids: Vec<i64> = sessions.iter().map(|row| row.id).collect();
    let counts = session_counts(db, &session_ids).await?;

    // Staff rooms come first, in the order of their roles, then the other
    // places by their first session.
    let mut order: Vec<i64> = staff_places.clone();
    for row in &sessions {
        if !order.contains(&row.place_id) {
            order.push(row.place_id);
        }
    }
    let names: HashMap<i64, String> = place::Entity::find()
        .filter(place::Column::Id.is_in(order.clone()))
        .all(db)
        .await
        .map_err(AppError::from_db)?
        .into_iter()
        .map(|row| (row.id, row.name))
        .collect();
    let mut by_place: BTreeMap<i64, Vec<StaffSession>> = BTreeMap::new();
    for row in sessions {
        let count = counts.get(&row.id).copied().unwrap_or_default();
        by_place
            .entry(row.place_id)
            .or_default()
            .push(StaffSession {
                id: row.id,
                kind: SessionKind::parse(&row.kind).unwrap_or(SessionKind::ParentChildActivity),
                title: row.title,
                starts_at: row.starts_at,
                ends_at: row.ends_at,
                capacity: u32::try_from(row.capacity).unwrap_or(0),
                booked: count.booked,
                waiting: count.waiting,
                checked_in: count.checked_in,
            });
    }
    let rooms = order
        .into_iter()
        .filter_map(|place_id| {
            // A role may name a place that was deleted since.
            let place_name = names.get(&place_id)?.clone();
            Some(StaffRoom {
                place_id,
                place_name,
                sessions: by_place.remove(&place_id).unwrap_or_default(),
            })
        })
        .collect();
    Ok(StaffOverview {
        rooms,
        administrator,
    })
}

/// Returns the name of a place that the viewer may publish sessions at,
/// or `NotFound` for anyone else, as for a place that does not exist.
pub async fn managed_place_name(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    place_id: i64,
) -> Result<String, AppError> {
    if !may_manage_place(db, viewer, place_id).await? {
        return Err(AppError::NotFound);
    }
    place::Entity::find_by_id(place_id)
        .one(db)
        .await
        .map_err(AppError::from_db)?
        .map(|row| row.name)
        .ok_or(AppError::NotFound)
}

async fn administered_district_names(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
) -> Result<Vec<String>, AppError> {
    let codes = viewer.district_codes();
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    district::Entity::find()
        .select_only()
        .column(district::Column::Name)
        .filter(district::Column::Code.is_in(codes))
        .into_tuple()
        .all(db)
        .await
        .map_err(AppError::from_db)
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    booked: u32,
    waiting: u32,
    checked_in: u32,
}

#[derive(Debug, FromQueryResult)]
struct CountRow {
    session_id: i64,
    n: i64,
}

/// Counts confirmed bookings, check-ins and waiting children per session.
async fn session_counts(
    db: &impl ConnectionTrait,
    session_ids: &[i64],
) -> Result<HashMap<i64, Counts>, AppError> {
    let mut counts: HashMap<i64, Counts> = HashMap::new();
    if session_ids.is_empty() {
        return Ok(counts);
    }
    let to_u32 = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    let confirmed = || {
        booking::Entity::find()
            .select_only()
            .column(booking::Column::SessionId)
            .column_as(Expr::expr(Func::count(Expr::col(booking::Column::Id))), "n")
            .filter(booking::Column::SessionId.is_in(session_ids.to_vec()))
            .filter(booking::Column::Status.eq("confirmed"))
            .group_by(booking::Column::SessionId)
    };
    for row in confirmed()
        .into_model::<CountRow>()
        .all(db)
        .await
        .map_err(AppError::from_db)?
    {
        counts.entry(row.session_id).or_default().booked = to_u32(row.n);
    }
    for row in confirmed()
        .filter(booking::Column::CheckedInAt.is_not_null())
        .into_model::<CountRow>()
        .all(db)
        .await
        .map_err(AppError::from_db)?
    {
        counts.entry(row.session_id).or_default().checked_in = to_u32(row.n);
    }
    for row in waitlist_entry::Entity::find()
        .select_only()
        .column(waitlist_entry::Column::SessionId)
        .column_as(
            Expr::expr(Func::count(Expr::col(waitlist_entry::Column::Id))),
            "n",
        )
        .filter(waitlist_entry::Column::SessionId.is_in(session_ids.to_vec()))
        .filter(waitlist_entry::Column::ActiveChildId.is_not_null())
        .group_by(waitlist_entry::Column::SessionId)
        .into_model::<CountRow>()
        .all(db)
        .await
        .map_err(AppError::from_db)?
    {
        counts.entry(row.session_id).or_default().waiting = to_u32(row.n);
    }
    Ok(counts)
}
