//! The staff console: `/staff` lists the rooms a person runs with their
//! upcoming sessions, and `/staff/sessions/:id` is a session's roster with
//! check-in at the door and cancellation.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::NotFoundPage;
use crate::api::staff::{
    StaffCancelBooking, StaffCheckIn, StaffSessionData, load_staff_overview, load_staff_session,
};
use crate::components::{ActionError, ErrorNotice, ScanButton};
use crate::error::AppError;
use crate::i18n::{t, t_string, use_i18n};
use crate::model::{MAX_REASON_CHARS, RosterEntry, SessionKind, StaffRoom, StaffSession};
use crate::time::{format_span, local_date, to_local};

/// Renders the staff console's start page.
#[component]
pub fn StaffPage() -> impl IntoView {
    let i18n = use_i18n();
    let data = Resource::new(|| (), |()| load_staff_overview());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(overview) => {
                        let note = overview.administrator.then(|| view! {
                            <p class="notice">{t!(i18n, staff_admin_note)}</p>
                        });
                        let empty = overview.rooms.is_empty();
                        view! {
                            <Title text=t_string!(i18n, staff_title).to_string() />
                            <h1>{t!(i18n, staff_title)}</h1>
                            {note}
                            {empty.then(|| view! { <p>{t!(i18n, staff_no_rooms)}</p> })}
                            {overview
                                .rooms
                                .into_iter()
                                .map(|room| view! { <RoomSection room /> })
                                .collect_view()}
                        }
                        .into_any()
                    }
                    Err(error) => view! { <StaffError error return_to="/staff".into() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Shows a staff page's error: the page of a missing address for
/// `NotFound`, so no one learns that a session or room exists, and a
/// sign-in link for a signed-out visitor.
#[component]
fn StaffError(error: AppError, return_to: String) -> impl IntoView {
    let i18n = use_i18n();
    match error {
        AppError::NotFound => view! { <NotFoundPage /> }.into_any(),
        AppError::Unauthenticated => {
            let href = format!("/auth/login?return_to={return_to}");
            view! {
                <Title text=t_string!(i18n, staff_title).to_string() />
                <h1>{t!(i18n, staff_title)}</h1>
                <p>{t!(i18n, account_signed_out)}</p>
                <p><a class="button primary" href=href rel="external">{t!(i18n, sign_in_button)}</a></p>
            }
            .into_any()
        }
        error => view! { <ErrorNotice error /> }.into_any(),
    }
}

#[component]
fn RoomSection(room: StaffRoom) -> impl IntoView {
    let i18n = use_i18n();
    let heading_id = format!("room-{}", room.place_id);
    let new_session = format!("/staff/places/{}/sessions/new", room.place_id);
    let place_link = format!("/places/{}", room.place_id);
    let empty = room.sessions.is_empty();
    view! {
        <section class="staff-room" aria-labelledby=heading_id.clone()>
            <h2 id=heading_id.clone()><a href=place_link>{room.place_name.clone()}</a></h2>
            <p><a class="button" href=new_session>{t!(i18n, staff_new_session)}</a></p>
            {empty.then(|| view! { <p>{t!(i18n, staff_no_sessions)}</p> })}
            <ul class="staff-sessions">
                {room.sessions.into_iter().map(|session| view! { <SessionLine session /> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn SessionLine(session: StaffSession) -> impl IntoView {
    let i18n = use_i18n();
    let today = local_date(chrono::Utc::now()) == local_date(session.starts_at);
    let when = move || format_span(session.starts_at, session.ends_at, i18n.get_locale());
    let kind = kind_label(i18n, session.kind);
    let counts = t_string!(
        i18n,
        staff_session_counts,
        booked = session.booked,
        capacity = session.capacity,
        checked_in = session.checked_in
    )
    .to_string();
    let waiting = session.waiting;
    let link = format!("/staff/sessions/{}", session.id);
    view! {
        <li class="staff-session">
            <a class="staff-session-link" href=link>
                <span class="staff-session-title">
                    {today.then(|| view! { <span class="badge">{t!(i18n, staff_today)}</span> " " })}
                    {session.title.clone()}
                </span>
                <span class="staff-session-when">{when} " · " {kind}</span>
                <span class="staff-session-counts">
                    {counts}
                    {(waiting > 0).then(|| view! {
                        " · " {t_string!(i18n, session_waiting, count = waiting).to_string()}
                    })}
                </span>
            </a>
        </li>
    }
}

pub(super) fn kind_label(
    i18n: leptos_i18n::I18nContext<crate::i18n::Locale>,
    kind: SessionKind,
) -> &'static str {
    match kind {
        SessionKind::HourlyCare => t_string!(i18n, session_kind_hourly_care),
        SessionKind::ParentChildActivity => t_string!(i18n, session_kind_parent_child_activity),
        SessionKind::Class => t_string!(i18n, session_kind_class),
    }
}

/// Renders a session's roster for its staff: the check-in form, the booked
/// children with their care notes, and a cancel form for each booking.
#[component]
pub fn StaffSessionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    };
    let data = Resource::new(id, |id| async move {
        match id {
            Some(id) => load_staff_session(id).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let return_to = id().map(|id| format!("/staff/sessions/{id}")).unwrap_or_default();
                match data.await {
                    Ok(data) => view! { <RosterView data /> }.into_any(),
                    Err(error) => view! { <StaffError error return_to /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RosterView(data: StaffSessionData) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let check_in = ServerAction::<StaffCheckIn>::new();
    let cancel = ServerAction::<StaffCancelBooking>::new();
    let StaffSessionData { detail, roster } = data;
    let session = detail.session.clone();
    let session_id = session.id;
    let when = move || format_span(session.starts_at, session.ends_at, i18n.get_locale());
    let checked_in = roster
        .iter()
        .filter(|entry| entry.checked_in_at.is_some())
        .count();
    let counts = t_string!(
        i18n,
        staff_session_counts,
        booked = roster.len(),
        capacity = session.capacity,
        checked_in
    )
    .to_string();
    let waiting = detail.waiting;
    let guardian_attends = detail.guardian_attends;

    // What the last form post did, from the query string it returned with.
    let read = |name: &str| query.with_untracked(|query| query.get(name));
    let checked: Option<i64> = read("checked").and_then(|id| id.parse().ok());
    let repeat = read("repeat").is_some();
    let result = checked
        .and_then(|id| roster.iter().find(|entry| entry.booking_id == id).cloned())
        .map(|entry| view! { <CheckInResult entry repeat /> });
    let cancelled = read("cancelled").is_some();
    let typed_code = read("code").unwrap_or_default();
    let check_in_failed = read("__path").as_deref() == Some(StaffCheckIn::PATH);
    let cancel_for: Option<i64> = read("cancel").and_then(|id| id.parse().ok());
    let typed_reason = read("reason").unwrap_or_default();

    view! {
        <Title text=session.title.clone() />
        <p><a href="/staff">{t!(i18n, staff_back)}</a></p>
        <h1>{session.title.clone()}</h1>
        <p>
            <a href=format!("/places/{}", detail.place_id)>{detail.place_name.clone()}</a>
            " · "
            <a href=format!("/sessions/{session_id}")>{t!(i18n, staff_public_page)}</a>
        </p>
        <dl class="place-facts">
            <dt>{t!(i18n, session_when)}</dt>
            <dd>{when}</dd>
            <dt>{t!(i18n, session_places)}</dt>
            <dd>{counts}</dd>
            <dt>{t!(i18n, staff_waitlist)}</dt>
            <dd>{t_string!(i18n, staff_waitlist_count, count = waiting).to_string()}</dd>
        </dl>
        <Show when=move || guardian_attends>
            <p class="notice">{t!(i18n, session_guardian_attends)}</p>
        </Show>

        <section class="check-in-box" aria-labelledby="check-in-heading">
            <h2 id="check-in-heading">{t!(i18n, staff_check_in_heading)}</h2>
            {result}
            {check_in_failed.then(|| view! { <CheckInError action=check_in /> })}
            <ActionForm action=check_in attr:class="stacked-form check-in-form" attr:id="check-in-form">
                <input type="hidden" name="session_id" value=session_id />
                <label for="check-in-code">{t!(i18n, staff_check_in_label)}</label>
                <input
                    id="check-in-code"
                    class="check-in-input"
                    name="code"
                    required
                    autofocus
                    autocomplete="off"
                    autocapitalize="characters"
                    spellcheck="false"
                    maxlength="200"
                    value=typed_code
                    aria-describedby="check-in-hint"
                />
                <p class="hint" id="check-in-hint">{t!(i18n, staff_check_in_hint)}</p>
                <button type="submit" class="primary big">{t!(i18n, staff_check_in_submit)}</button>
            </ActionForm>
            <ScanButton
                label=t_string!(i18n, staff_scan_button).to_string()
                scanning=t_string!(i18n, staff_scan_scanning).to_string()
                failed=t_string!(i18n, staff_scan_failed).to_string()
                stop=t_string!(i18n, staff_scan_stop).to_string()
            />
        </section>

        <section aria-labelledby="roster-heading">
            <h2 id="roster-heading">{t!(i18n, staff_roster_heading)}</h2>
            {cancelled.then(|| view! {
                <p class="notice" role="status">{t!(i18n, staff_cancelled_notice)}</p>
            })}
            <ActionError action=cancel />
            {roster.is_empty().then(|| view! { <p>{t!(i18n, staff_roster_empty)}</p> })}
            <ul class="roster">
                {roster
                    .into_iter()
                    .map(|entry| {
                        let reason = (cancel_for == Some(entry.booking_id))
                            .then(|| typed_reason.clone());
                        view! { <RosterItem entry session_id guardian_attends cancel reason /> }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// Shows the error of the last check-in, with its own words for an unknown code.
#[component]
fn CheckInError(action: ServerAction<StaffCheckIn>) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let not_found = query.with_untracked(|query| {
        query
            .get("__err")
            .and_then(|encoded| crate::components::decode_url_error(&encoded))
            == Some(AppError::NotFound)
    });
    if not_found {
        view! {
            <section class="notice notice-error" role="alert">
                <p class="check-in-result">{t!(i18n, staff_check_in_unknown)}</p>
            </section>
        }
        .into_any()
    } else {
        view! { <ActionError action /> }.into_any()
    }
}

#[component]
fn CheckInResult(entry: RosterEntry, repeat: bool) -> impl IntoView {
    let i18n = use_i18n();
    let time = entry
        .checked_in_at
        .map(|at| to_local(at).format("%H:%M").to_string())
        .unwrap_or_default();
    let name = entry.child_name.clone();
    let text = move || {
        if repeat {
            t_string!(
                i18n,
                staff_check_in_repeat,
                name = name.clone(),
                time = time.clone()
            )
            .to_string()
        } else {
            t_string!(
                i18n,
                staff_check_in_done,
                name = name.clone(),
                time = time.clone()
            )
            .to_string()
        }
    };
    let class = if repeat {
        "notice check-in-result"
    } else {
        "notice notice-ok check-in-result"
    };
    view! { <p class=class role="status">{text}</p> }
}

#[component]
fn RosterItem(
    entry: RosterEntry,
    session_id: i64,
    guardian_attends: bool,
    cancel: ServerAction<StaffCancelBooking>,
    reason: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let age = entry
        .age_months
        .map(|months| t_string!(i18n, family_age_months, months).to_string())
        .unwrap_or_default();
    let checked = entry
        .checked_in_at
        .map(|at| to_local(at).format("%H:%M").to_string());
    let reason_id = format!("reason-{}", entry.booking_id);
    let reason_for = reason_id.clone();
    let open = reason.is_some();
    view! {
        <li class="roster-entry" id=format!("booking-{}", entry.booking_id)>
            <p class="roster-name">
                <strong>{entry.child_name.clone()}</strong> " " <span class="muted">{age}</span>
            </p>
            <p>
                {match checked {
                    Some(time) => view! {
                        <span class="badge badge-ok">
                            {t_string!(i18n, staff_checked_in_at, time).to_string()}
                        </span>
                    }
                    .into_any(),
                    None => view! { <span class="badge">{t!(i18n, staff_not_checked_in)}</span> }.into_any(),
                }}
                {guardian_attends.then(|| view! {
                    " " <span class="badge">{t!(i18n, staff_guardian_attends)}</span>
                })}
            </p>
            <p class="muted">{t!(i18n, staff_guardian)} "：" {entry.guardian_name.clone()}</p>
            {entry.care_notes.clone().map(|notes| view! {
                <div class="care-notes">
                    <p class="care-notes-label">{t!(i18n, staff_care_notes_sensitive)}</p>
                    <p>{notes}</p>
                </div>
            })}
            <details class="cancel-details" open=open>
                <summary>{t!(i18n, staff_cancel_summary)}</summary>
                <ActionForm action=cancel attr:class="stacked-form">
                    <input type="hidden" name="session_id" value=session_id />
                    <input type="hidden" name="booking_id" value=entry.booking_id />
                    <label for=reason_for>{t!(i18n, staff_cancel_reason)}</label>
                    <input id=reason_id name="reason" required maxlength=MAX_REASON_CHARS
                        value=reason.unwrap_or_default() />
                    <p class="hint">{t!(i18n, staff_cancel_hint)}</p>
                    <button type="submit" class="danger">{t!(i18n, staff_cancel_submit)}</button>
                </ActionForm>
            </details>
        </li>
    }
}
