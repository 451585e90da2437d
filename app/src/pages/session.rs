use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::booking::{
    AcceptOffer, BookSession, CancelBooking, ChildChoice, LeaveWaitlist, SessionPageData,
    load_session_page,
};
use crate::components::{ActionError, ErrorNotice, LivePlaces, use_form_draft};
use crate::error::AppError;
use crate::i18n::{t, t_string, use_i18n};
use crate::model::{
    BookingStatus, BookingView, ReleaseMode, SessionKind, WaitlistStatus, WaitlistView,
};
use crate::time::{format_instant, format_span};

/// Renders a session's page: its time and age range, places left, the
/// booking rules, and the booking form. Every form works without JavaScript.
#[component]
pub fn SessionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    };
    let book = ServerAction::<BookSession>::new();
    let cancel = ServerAction::<CancelBooking>::new();
    let accept = ServerAction::<AcceptOffer>::new();
    let leave = ServerAction::<LeaveWaitlist>::new();
    let data = Resource::new(
        move || {
            (
                id(),
                book.version().get(),
                cancel.version().get(),
                accept.version().get(),
                leave.version().get(),
            )
        },
        |(id, ..)| async move {
            match id {
                Some(id) => load_session_page(id).await,
                None => {
                    #[cfg(feature = "ssr")]
                    crate::api::set_status(404);
                    Err(AppError::NotFound)
                }
            }
        },
    );
    // The children chosen in a plain form post that the server rejected.
    let book_draft = use_form_draft::<BookSession>();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let chosen = book_draft.await.map(|draft| draft.child_ids).unwrap_or_default();
                match data.await {
                    Ok(data) => view! { <SessionView data chosen book cancel accept leave /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SessionView(
    data: SessionPageData,
    /// Children to show ticked in the booking form.
    chosen: Vec<i64>,
    book: ServerAction<BookSession>,
    cancel: ServerAction<CancelBooking>,
    accept: ServerAction<AcceptOffer>,
    leave: ServerAction<LeaveWaitlist>,
) -> impl IntoView {
    let i18n = use_i18n();
    let SessionPageData {
        detail,
        signed_in,
        children,
        mine,
    } = data;
    let session = detail.session.clone();
    let session_id = session.id;
    let when = move || format_span(session.starts_at, session.ends_at, i18n.get_locale());
    let kind = session.kind;
    let kind_label = move || match kind {
        SessionKind::HourlyCare => t_string!(i18n, session_kind_hourly_care),
        SessionKind::ParentChildActivity => t_string!(i18n, session_kind_parent_child_activity),
        SessionKind::Class => t_string!(i18n, session_kind_class),
    };
    let places_left = session.places_left;
    let capacity = session.capacity;
    let availability = move || {
        if places_left == 0 {
            t_string!(i18n, session_full).to_string()
        } else {
            t_string!(i18n, session_places_left, left = places_left, capacity).to_string()
        }
    };
    let updated = updated_ago(detail.updated_at, chrono::Utc::now());
    let updated_line = move || match updated {
        0 => t_string!(i18n, session_updated_now).to_string(),
        minutes => t_string!(i18n, session_updated_minutes, minutes).to_string(),
    };
    let age = t_string!(
        i18n,
        session_age_range,
        min = session.min_age_months,
        max = session.max_age_months
    )
    .to_string();
    let price = if session.price_fen == 0 {
        t_string!(i18n, session_free).to_string()
    } else {
        let yuan = crate::components::format_yuan(session.price_fen);
        t_string!(i18n, session_price, yuan).to_string()
    };
    let locale = i18n.get_locale();
    let local = |instant| format_instant(instant, locale);
    let opens = detail.booking_opens_at.map(local);
    let closes = local(detail.booking_closes_at);
    let cancel_until = local(detail.cancel_until);
    let fair = detail.release_mode == ReleaseMode::FairRelease;
    let window = detail.release_window_minutes;
    let by_priority = detail.draw_by_priority;
    let waiting = detail.waiting;
    let return_to = format!("/auth/login?return_to=/sessions/{session_id}");
    let has_mine = !mine.upcoming.is_empty() || !mine.waitlist.is_empty();
    let mine_bookings = mine.upcoming;
    let mine_waitlist = mine.waitlist;
    // A child already booked or waiting here is not offered again.
    let taken: std::collections::BTreeSet<i64> = mine_bookings
        .iter()
        .filter(|booking| booking.status == BookingStatus::Confirmed)
        .map(|booking| booking.child_id)
        .chain(
            mine_waitlist
                .iter()
                .filter(|entry| {
                    matches!(
                        entry.status,
                        WaitlistStatus::Waiting | WaitlistStatus::Offered
                    )
                })
                .map(|entry| entry.child_id),
        )
        .collect();
    let all_taken = !children.is_empty() && children.iter().all(|child| taken.contains(&child.id));
    let bookable_children: Vec<_> = children
        .iter()
        .filter(|child| !taken.contains(&child.id))
        .cloned()
        .collect();

    view! {
        <Title text=session.title.clone() />
        <article class="session-page">
            <p class="session-kind">{kind_label}</p>
            <h1>{session.title.clone()}</h1>
            <p>
                <a href=format!("/places/{}", detail.place_id)>{detail.place_name.clone()}</a>
            </p>
            <dl class="place-facts">
                <dt>{t!(i18n, session_when)}</dt>
                <dd>{when}</dd>
                <dt>{t!(i18n, session_for_whom)}</dt>
                <dd>{age} " · " {price}</dd>
                <dt>{t!(i18n, session_places)}</dt>
                <dd>
                    <LivePlaces
                        session_id
                        text=availability()
                        left=t_string!(i18n, session_places_left, left = "{left}", capacity = "{capacity}")
                            .to_string()
                        full=t_string!(i18n, session_full).to_string()
                    />
                    " "
                    <span class="muted">{updated_line}</span>
                    {(waiting > 0).then(|| view! {
                        <span class="muted">
                            " · " {t_string!(i18n, session_waiting, count = waiting).to_string()}
                        </span>
                    })}
                </dd>
                {opens.map(|opens| view! {
                    <dt>{t!(i18n, session_opens)}</dt>
                    <dd>{opens}</dd>
                })}
                <dt>{t!(i18n, session_closes)}</dt>
                <dd>{closes}</dd>
                <dt>{t!(i18n, session_cancel_until)}</dt>
                <dd>{cancel_until}</dd>
            </dl>
            <Show when=move || detail.guardian_attends>
                <p class="notice">{t!(i18n, session_guardian_attends)}</p>
            </Show>
            <p class="notice">
                {move || if fair {
                    t_string!(i18n, session_fair_release, minutes = window).to_string()
                } else {
                    t_string!(i18n, session_first_come).to_string()
                }}
            </p>
            <Show when=move || fair && by_priority>
                <p class="notice">{t!(i18n, session_priority_draw)}</p>
            </Show>

            <ActionError action=cancel />
            <ActionError action=accept />
            <ActionError action=leave />
            <Show when=move || has_mine>
                <section aria-labelledby="mine-heading">
                    <h2 id="mine-heading">{t!(i18n, session_mine)}</h2>
                    <ul class="booking-list">
                        {mine_bookings
                            .clone()
                            .into_iter()
                            .map(|booking| view! { <BookingItem booking cancel /> })
                            .collect_view()}
                        {mine_waitlist
                            .clone()
                            .into_iter()
                            .map(|entry| view! { <WaitlistItem entry accept leave /> })
                            .collect_view()}
                    </ul>
                </section>
            </Show>

            <section aria-labelledby="book-heading">
                <h2 id="book-heading">{t!(i18n, session_book_heading)}</h2>
                {if !signed_in {
                    view! {
                        <p>{t!(i18n, session_sign_in_to_book)}</p>
                        <p>
                            <a class="button primary" href=return_to rel="external">
                                {t!(i18n, sign_in_button)}
                            </a>
                        </p>
                    }
                    .into_any()
                } else if all_taken {
                    // A form posted from an older copy of the page may still
                    // have been refused; its reason shows here.
                    view! {
                        <ActionError action=book />
                        <p>{t!(i18n, session_all_children_booked)}</p>
                    }
                    .into_any()
                } else if bookable_children.is_empty() {
                    view! {
                        <p>{t!(i18n, session_add_child_first)}</p>
                        <p><a class="button" href="/family">{t!(i18n, nav_family)}</a></p>
                    }
                    .into_any()
                } else {
                    view! {
                        <BookForm
                            book
                            session_id
                            children=bookable_children
                            chosen=chosen.clone()
                            min_age=session.min_age_months
                            max_age=session.max_age_months
                            full=places_left == 0
                        />
                    }
                    .into_any()
                }}
            </section>
        </article>
    }
}

/// Returns whole minutes between `updated` and `now`, never negative.
fn updated_ago(updated: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> i64 {
    (now - updated).num_minutes().max(0)
}

#[component]
fn BookForm(
    book: ServerAction<BookSession>,
    session_id: i64,
    children: Vec<ChildChoice>,
    chosen: Vec<i64>,
    min_age: u32,
    max_age: u32,
    full: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    // One key per rendered form: a double tap or a resent form books once.
    let key = form_key();
    view! {
        <ActionError action=book />
        <ActionForm action=book attr:class="stacked-form">
            <input type="hidden" name="session_id" value=session_id />
            <input type="hidden" name="idempotency_key" value=key />
            <fieldset>
                <legend>{t!(i18n, session_choose_children)}</legend>
                {children
                    .into_iter()
                    .enumerate()
                    .map(|(index, child)| {
                        let name = format!("child_ids[{index}]");
                        let fits = child
                            .age_months
                            .is_some_and(|months| months >= min_age && months <= max_age);
                        let age = child
                            .age_months
                            .map(|months| t_string!(i18n, family_age_months, months).to_string())
                            .unwrap_or_default();
                        view! {
                            <label class="check">
                                <input type="checkbox" name=name value=child.id disabled=!fits
                                    checked=fits && chosen.contains(&child.id) />
                                <span>
                                    {child.name} " "
                                    <span class="muted">{age}</span>
                                    {(!fits).then(|| view! {
                                        " " <span class="muted">{t!(i18n, session_age_not_fitting)}</span>
                                    })}
                                </span>
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            {if full {
                view! {
                    <input type="hidden" name="join_waitlist" value="on" />
                    <p>{t!(i18n, session_full_explain)}</p>
                    <button type="submit" class="primary">{t!(i18n, session_join_waitlist)}</button>
                }
                .into_any()
            } else {
                view! {
                    <button type="submit" class="primary">{t!(i18n, session_book)}</button>
                }
                .into_any()
            }}
        </ActionForm>
    }
}

/// Returns a fresh idempotency key for a form, made on the server; the
/// browser keeps whatever the server rendered.
fn form_key() -> String {
    #[cfg(feature = "ssr")]
    {
        crate::domain::secrets::random_token(16)
    }
    #[cfg(not(feature = "ssr"))]
    {
        String::new()
    }
}

/// Renders one booking with its check-in code, calendar file and cancel button.
#[component]
pub fn BookingItem(booking: BookingView, cancel: ServerAction<CancelBooking>) -> impl IntoView {
    let i18n = use_i18n();
    let when = move || format_span(booking.starts_at, booking.ends_at, i18n.get_locale());
    let late = booking.cancel_is_late;
    let code = booking.check_in_code.clone().unwrap_or_default();
    let qr = format!("/bookings/{}/qr.svg", booking.id);
    let ics = format!("/api/v1/bookings/{}/calendar", booking.id);
    let session_link = format!("/sessions/{}", booking.session_id);
    view! {
        <li class="booking">
            <p class="booking-title">
                <a href=session_link>{booking.session_title.clone()}</a>
                " · " {booking.place_name.clone()}
            </p>
            <p>{when} " · " {booking.child_name.clone()}</p>
            <p class="check-in">
                {t!(i18n, booking_check_in_code)} "："
                <strong class="check-in-code">{code.clone()}</strong>
            </p>
            <img class="check-in-qr" src=qr width="160" height="160" alt=t_string!(i18n, booking_qr_alt).to_string() loading="lazy" />
            <p>
                <a href=ics rel="external" download="ningyu.ics">{t!(i18n, booking_add_to_calendar)}</a>
            </p>
            <ActionForm action=cancel attr:class="inline-form">
                <input type="hidden" name="booking_id" value=booking.id />
                {late.then(|| view! { <p class="muted">{t!(i18n, booking_cancel_late_warning)}</p> })}
                <button type="submit" class="danger">{t!(i18n, booking_cancel)}</button>
            </ActionForm>
        </li>
    }
}

/// Renders one waitlist entry: its position, or the offer with its deadline.
#[component]
pub fn WaitlistItem(
    entry: WaitlistView,
    accept: ServerAction<AcceptOffer>,
    leave: ServerAction<LeaveWaitlist>,
) -> impl IntoView {
    let i18n = use_i18n();
    let offered = entry.status == WaitlistStatus::Offered;
    let status = move || {
        if offered {
            let deadline = entry
                .offer_expires_at
                .map(|deadline| format_instant(deadline, i18n.get_locale()))
                .unwrap_or_default();
            t_string!(i18n, waitlist_offered, deadline).to_string()
        } else if entry.in_draw {
            t_string!(i18n, waitlist_in_draw).to_string()
        } else {
            let position = entry.position.unwrap_or_default();
            t_string!(i18n, waitlist_position, position).to_string()
        }
    };
    let session_link = format!("/sessions/{}", entry.session_id);
    view! {
        <li class=if offered { "booking booking-offer" } else { "booking" }>
            <p class="booking-title">
                <a href=session_link>{entry.session_title.clone()}</a>
                " · " {entry.place_name.clone()}
            </p>
            <p>{entry.child_name.clone()}</p>
            <p><strong>{status}</strong></p>
            <Show when=move || offered>
                <ActionForm action=accept attr:class="inline-form">
                    <input type="hidden" name="entry_id" value=entry.id />
                    <button type="submit" class="primary">{t!(i18n, waitlist_accept)}</button>
                </ActionForm>
            </Show>
            <ActionForm action=leave attr:class="inline-form">
                <input type="hidden" name="entry_id" value=entry.id />
                <button type="submit">
                    {move || if offered {
                        t_string!(i18n, waitlist_decline)
                    } else {
                        t_string!(i18n, waitlist_leave)
                    }}
                </button>
            </ActionForm>
        </li>
    }
}
