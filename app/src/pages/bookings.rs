use leptos::prelude::*;
use leptos_meta::Title;

use super::session::{BookingItem, WaitlistItem};
use crate::api::booking::{
    AcceptOffer, CancelBooking, LeaveWaitlist, load_inbox, load_my_bookings,
};
use crate::components::{ActionError, ErrorNotice};
use crate::error::AppError;
use crate::i18n::{t, t_string, use_i18n};
use crate::model::{BookingView, CancelKind, MyBookings, NotificationKind, NotificationView};
use crate::time::{format_span, to_local};

/// Renders the family's bookings: upcoming ones with their check-in codes,
/// waitlist entries and offers, and recent past or cancelled ones.
#[component]
pub fn BookingsPage() -> impl IntoView {
    let i18n = use_i18n();
    let cancel = ServerAction::<CancelBooking>::new();
    let accept = ServerAction::<AcceptOffer>::new();
    let leave = ServerAction::<LeaveWaitlist>::new();
    let data = Resource::new(
        move || {
            (
                cancel.version().get(),
                accept.version().get(),
                leave.version().get(),
            )
        },
        |_| load_my_bookings(),
    );
    view! {
        <Title text=t_string!(i18n, bookings_title).to_string() />
        <h1>{t!(i18n, bookings_title)}</h1>
        <ActionError action=cancel />
        <ActionError action=accept />
        <ActionError action=leave />
        <Suspense>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(mine) => view! { <BookingsContent mine cancel accept leave /> }.into_any(),
                    Err(AppError::Unauthenticated) => view! {
                        <SignInFirst return_to="/bookings" />
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignInFirst(return_to: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let href = format!("/auth/login?return_to={return_to}");
    view! {
        <p>{t!(i18n, bookings_sign_in_needed)}</p>
        <p>
            <a class="button primary" href=href rel="external">{t!(i18n, sign_in_button)}</a>
        </p>
    }
}

#[component]
fn BookingsContent(
    mine: MyBookings,
    cancel: ServerAction<CancelBooking>,
    accept: ServerAction<AcceptOffer>,
    leave: ServerAction<LeaveWaitlist>,
) -> impl IntoView {
    let i18n = use_i18n();
    let MyBookings {
        upcoming,
        waitlist,
        past,
    } = mine;
    let nothing = upcoming.is_empty() && waitlist.is_empty();
    view! {
        <Show when=move || nothing>
            <p>{t!(i18n, bookings_none)}</p>
            <p><a class="button" href="/">{t!(i18n, bookings_find)}</a></p>
        </Show>
        <Show when={
            let waitlist = waitlist.clone();
            move || !waitlist.is_empty()
        }>
            <section aria-labelledby="waitlist-heading">
                <h2 id="waitlist-heading">{t!(i18n, bookings_waitlist)}</h2>
                <ul class="booking-list">
                    {waitlist
                        .clone()
                        .into_iter()
                        .map(|entry| view! { <WaitlistItem entry accept leave /> })
                        .collect_view()}
                </ul>
            </section>
        </Show>
        <Show when={
            let upcoming = upcoming.clone();
            move || !upcoming.is_empty()
        }>
            <section aria-labelledby="upcoming-heading">
                <h2 id="upcoming-heading">{t!(i18n, bookings_upcoming)}</h2>
                <ul class="booking-list">
                    {upcoming
                        .clone()
                        .into_iter()
                        .map(|booking| view! { <BookingItem booking cancel /> })
                        .collect_view()}
                </ul>
            </section>
        </Show>
        <Show when={
            let past = past.clone();
            move || !past.is_empty()
        }>
            <section aria-labelledby="past-heading">
                <h2 id="past-heading">{t!(i18n, bookings_past)}</h2>
                <ul class="booking-list">
                    {past.clone().into_iter().map(|booking| view! { <PastItem booking /> }).collect_view()}
                </ul>
            </section>
        </Show>
    }
}

#[component]
fn PastItem(booking: BookingView) -> impl IntoView {
    let i18n = use_i18n();
    let when = move || format_span(booking.starts_at, booking.ends_at, i18n.get_locale());
    let status = move || match booking.cancel_kind {
        Some(CancelKind::Family) => t_string!(i18n, booking_cancelled).to_string(),
        Some(CancelKind::Late) => t_string!(i18n, booking_cancelled_late).to_string(),
        Some(CancelKind::Staff) => t_string!(
            i18n,
            booking_cancelled_by_staff,
            reason = booking.cancel_reason.clone().unwrap_or_default()
        )
        .to_string(),
        Some(CancelKind::Withdrawn) => t_string!(i18n, booking_cancelled).to_string(),
        None => t_string!(i18n, booking_attended_or_ended).to_string(),
    };
    view! {
        <li class="booking booking-past">
            <p class="booking-title">{booking.session_title.clone()} " · " {booking.place_name.clone()}</p>
            <p>{when} " · " {booking.child_name.clone()}</p>
            <p class="muted">{status}</p>
        </li>
    }
}

/// Renders the inbox, newest first; opening it marks the messages read.
#[component]
pub fn InboxPage() -> impl IntoView {
    let i18n = use_i18n();
    let messages = Resource::new(|| (), |_| load_inbox());
    view! {
        <Title text=t_string!(i18n, inbox_title).to_string() />
        <h1>{t!(i18n, inbox_title)}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                match messages.await {
                    Ok(messages) if messages.is_empty() => {
                        view! { <p>{t!(i18n, inbox_empty)}</p> }.into_any()
                    }
                    Ok(messages) => view! {
                        <ul class="inbox">
                            {messages.into_iter().map(|message| view! { <Message message /> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(AppError::Unauthenticated) => view! {
                        <SignInFirst return_to="/inbox" />
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Message(message: NotificationView) -> impl IntoView {
    let i18n = use_i18n();
    let session = message.session_title.clone().unwrap_or_default();
    let child = message.child_name.clone().unwrap_or_default();
    let at = to_local(message.created_at)
        .format("%m-%d %H:%M")
        .to_string();
    let deadline = message
        .deadline
        .map(|deadline| to_local(deadline).format("%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let reason = message.reason.clone().unwrap_or_default();
    let course = message.course_title.clone().unwrap_or_default();
    let text = move || match message.kind {
        NotificationKind::Booked => t_string!(
            i18n,
            inbox_booked,
            child = child.clone(),
            session = session.clone()
        )
        .to_string(),
        NotificationKind::OfferReceived => t_string!(
            i18n,
            inbox_offer,
            child = child.clone(),
            session = session.clone(),
            deadline = deadline.clone()
        )
        .to_string(),
        NotificationKind::OfferExpired => t_string!(
            i18n,
            inbox_offer_expired,
            child = child.clone(),
            session = session.clone()
        )
        .to_string(),
        NotificationKind::CancelledByStaff => t_string!(
            i18n,
            inbox_cancelled_by_staff,
            child = child.clone(),
            session = session.clone(),
            reason = reason.clone()
        )
        .to_string(),
        NotificationKind::Reminder => t_string!(
            i18n,
            inbox_reminder,
            child = child.clone(),
            session = session.clone()
        )
        .to_string(),
        NotificationKind::DrawLost => t_string!(
            i18n,
            inbox_draw_lost,
            child = child.clone(),
            session = session.clone()
        )
        .to_string(),
        NotificationKind::NewCourse => {
            t_string!(i18n, inbox_new_course, course = course.clone()).to_string()
        }
    };
    let link = match (message.session_id, message.course_id) {
        (Some(id), _) => format!("/sessions/{id}"),
        (None, Some(id)) => format!("/courses/{id}"),
        (None, None) => "/bookings".to_owned(),
    };
    view! {
        <li class=if message.read { "message" } else { "message message-unread" }>
            <p><a href=link>{text}</a></p>
            <p class="muted">{at}</p>
        </li>
    }
}
