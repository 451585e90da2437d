//! Server functions for the staff console: the rooms a person runs, a
//! session's roster with check-in and cancellation, and publishing a
//! session. They call the same domain functions as the REST API under
//! `/api/v1/staff` and `/api/v1/places/{id}/sessions`.
//!
//! The console's forms post without JavaScript. On such a post the
//! functions that change something redirect the browser themselves, so the
//! page can show what happened (the child checked in) or keep what was
//! typed next to the error.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::{CheckInOutcome, RosterEntry, SessionDetail, StaffOverview};

#[cfg(feature = "ssr")]
use super::form_redirect;
#[cfg(feature = "ssr")]
use super::support::{require_viewer, state, with_status};

/// The staff session page's data: the session and its roster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffSessionData {
    pub detail: SessionDetail,
    pub roster: Vec<RosterEntry>,
}

/// The new-session form as the browser posts it: every field as text, so
/// that a form without JavaScript can send it and an invalid value can be
/// shown again as typed. Times are Nanjing local time, `YYYY-MM-DDTHH:MM`
/// as `<input type="datetime-local">` sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionForm {
    pub kind: String,
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    pub capacity: String,
    pub min_age_months: String,
    pub max_age_months: String,
    /// Price in yuan, for example `12.50`. Empty means free.
    pub price_yuan: String,
    pub booking_opens_at: String,
    pub booking_closes_at: String,
    pub cancel_until: String,
    /// `on` when the box is checked, empty otherwise.
    pub guardian_attends: String,
    pub release_mode: String,
    pub release_window_minutes: String,
    /// `on` when the box is checked, empty otherwise.
    pub draw_by_priority: String,
}

impl SessionForm {
    /// Returns the form's fields as `(name, value)` pairs, in the order of the form.
    pub fn fields(&self) -> [(&'static str, &str); 15] {
        [
            ("kind", &self.kind),
            ("title", &self.title),
            ("starts_at", &self.starts_at),
            ("ends_at", &self.ends_at),
            ("capacity", &self.capacity),
            ("min_age_months", &self.min_age_months),
            ("max_age_months", &self.max_age_months),
            ("price_yuan", &self.price_yuan),
            ("booking_opens_at", &self.booking_opens_at),
            ("booking_closes_at", &self.booking_closes_at),
            ("cancel_until", &self.cancel_until),
            ("guardian_attends", &self.guardian_attends),
            ("release_mode", &self.release_mode),
            ("release_window_minutes", &self.release_window_minutes),
            ("draw_by_priority", &self.draw_by_priority),
        ]
    }

    /// Rebuilds the form from a page's query parameters, as the server
    /// sends them back after an invalid post.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let value = |name: &str| get(name).unwrap_or_default();
        Self {
            kind: value("kind"),
            title: value("title"),
            starts_at: value("starts_at"),
            ends_at: value("ends_at"),
            capacity: value("capacity"),
            min_age_months: value("min_age_months"),
            max_age_months: value("max_age_months"),
            price_yuan: value("price_yuan"),
            booking_opens_at: value("booking_opens_at"),
            booking_closes_at: value("booking_closes_at"),
            cancel_until: value("cancel_until"),
            guardian_attends: value("guardian_attends"),
            release_mode: value("release_mode"),
            release_window_minutes: value("release_window_minutes"),
            draw_by_priority: value("draw_by_priority"),
        }
    }
}

/// Lists the rooms the viewer runs with their upcoming sessions. Anyone
/// without a staff or administrator role gets `NotFound`.
#[server(prefix = "/sfn", endpoint = "load_staff_overview")]
pub async fn load_staff_overview() -> Result<StaffOverview, AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    with_status(crate::domain::staff::overview(&state.db, &viewer, chrono::Utc::now()).await)
}

/// Loads a session with its roster for the staff who run its place. The
/// roster read is audited, and anyone else gets `NotFound`.
#[server(prefix = "/sfn", endpoint = "load_staff_session")]
pub async fn load_staff_session(session_id: i64) -> Result<StaffSessionData, AppError> {
    use crate::domain::booking;

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    // The roster checks the viewer's right first, so nothing of the
    // session is read for anyone else.
    let roster =
        with_status(booking::roster(&state.db, &viewer, session_id, chrono::Utc::now()).await)?;
    let detail = with_status(booking::session_detail(&state.db, session_id).await)?;
    Ok(StaffSessionData { detail, roster })
}

/// Checks a child in by the typed code or the scanned QR text.
///
/// A plain form post returns to the session page with `checked` (the
/// booking id) and `repeat=1` when the child was checked in before, or with
/// the error and `code` as typed.
#[server(prefix = "/sfn", endpoint = "staff_check_in")]
pub async fn staff_check_in(session_id: i64, code: String) -> Result<CheckInOutcome, AppError> {
    use leptos::server_fn::ServerFn;

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let result =
        crate::domain::booking::check_in(&state.db, &viewer, session_id, &code, chrono::Utc::now())
            .await;
    let page = format!("/staff/sessions/{session_id}");
    match &result {
        Ok(outcome) => {
            let booking = outcome.entry.booking_id.to_string();
            let mut pairs = vec![("checked", booking.as_str())];
            if !outcome.first {
                pairs.push(("repeat", "1"));
            }
            form_redirect::back_to(&page, &pairs, None);
        }
        Err(error) => form_redirect::back_to(
            &page,
            &[("code", code.as_str())],
            Some((StaffCheckIn::PATH, error)),
        ),
    }
    with_status(result)
}

/// Cancels a confirmed booking with a reason that the family receives.
#[server(prefix = "/sfn", endpoint = "staff_cancel_booking")]
pub async fn staff_cancel_booking(
    session_id: i64,
    booking_id: i64,
    reason: String,
) -> Result<(), AppError> {
    use leptos::server_fn::ServerFn;

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let result = crate::domain::booking::cancel_by_staff(
        &state.db,
        &state.booking,
        &viewer,
        booking_id,
        &reason,
        chrono::Utc::now(),
    )
    .await;
    let page = format!("/staff/sessions/{session_id}");
    let booking = booking_id.to_string();
    match &result {
        Ok(()) => form_redirect::back_to(&page, &[("cancelled", booking.as_str())], None),
        Err(error) => form_redirect::back_to(
            &page,
            &[("cancel", booking.as_str()), ("reason", reason.as_str())],
            Some((StaffCancelBooking::PATH, error)),
        ),
    }
    with_status(result)
}

/// Returns the name of a place where the viewer may publish sessions, or
/// `NotFound` for anyone else.
#[server(prefix = "/sfn", endpoint = "staff_place_name")]
pub async fn staff_place_name(place_id: i64) -> Result<String, AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    with_status(crate::domain::staff::managed_place_name(&state.db, &viewer, place_id).await)
}

/// Publishes a session from the new-session form and opens its staff page.
/// An invalid form returns to the form with the values as typed.
#[server(prefix = "/sfn", endpoint = "staff_create_session")]
pub async fn staff_create_session(place_id: i64, form: SessionForm) -> Result<i64, AppError> {
    use leptos::server_fn::ServerFn;

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let now = chrono::Utc::now();
    let result = match convert::new_session(&form) {
        Ok(input) => {
            crate::domain::booking::create_session(&state.db, &viewer, place_id, &input, now)
                .await
                .map(|detail| detail.session.id)
        }
        Err(error) => Err(error),
    };
    // Someone who may not publish here learns no more than a stranger.
    let result = result.map_err(|error| match error {
        AppError::Forbidden => AppError::NotFound,
        other => other,
    });
    match &result {
        Ok(id) => form_redirect::back_to(&format!("/staff/sessions/{id}"), &[], None),
        Err(error) => form_redirect::back_to(
            &format!("/staff/places/{place_id}/sessions/new"),
            &form.fields(),
            Some((StaffCreateSession::PATH, error)),
        ),
    }
    with_status(result)
}

#[cfg(feature = "ssr")]
mod convert {
    use chrono::{DateTime, NaiveDateTime, Utc};

    use super::SessionForm;
    use crate::error::AppError;
    use crate::model::{NewSession, ReleaseMode, SessionKind};
    use crate::time::SHANGHAI;

    /// Parses a Nanjing local time as `datetime-local` inputs send it, with
    /// or without seconds, or with a space in place of the `T`.
    pub fn local_time(field: &'static str, value: &str) -> Result<DateTime<Utc>, AppError> {
        let text = value.trim().replace(' ', "T");
        ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(&text, format).ok())
            .and_then(|local| local.and_local_timezone(SHANGHAI).single())
            .map(|instant| instant.with_timezone(&Utc))
            .ok_or_else(|| {
                AppError::invalid(field, "needs a date and time, for example 2026-12-08T09:30")
            })
    }

    fn optional_time(field: &'static str, value: &str) -> Result<Option<DateTime<Utc>>, AppError> {
        if value.trim().is_empty() {
            return Ok(None);
        }
        local_time(field, value).map(Some)
    }

    fn whole(field: &'static str, value: &str) -> Result<u32, AppError> {
        value
            .trim()
            .parse()
            .map_err(|_| AppError::invalid(field, "must be a whole number"))
    }

    /// Converts yuan with at most two decimals to fen. Empty means free.
    pub fn fen(value: &str) -> Result<u32, AppError> {
        let text = value.trim();
        if text.is_empty() {
            return Ok(0);
        }
        let invalid =
            || AppError::invalid("price_fen", "needs an amount in yuan, for example 12.50");
        let (yuan, cents) = text.split_once('.').unwrap_or((text, ""));
        if yuan.is_empty() || cents.len() > 2 || !cents.chars().all(|ch| ch.is_ascii_digit()) {
            return Err(invalid());
        }
        let yuan: u32 = yuan.parse().map_err(|_| invalid())?;
        let cents: u32 = format!("{cents:0<2}").parse().map_err(|_| invalid())?;
        yuan.checked_mul(100)
            .and_then(|fen| fen.checked_add(cents))
            .ok_or_else(invalid)
    }

    /// Converts the posted form into the input that `create_session` checks.
    pub fn new_session(form: &SessionForm) -> Result<NewSession, AppError> {
        let kind = SessionKind::parse(form.kind.trim())
            .ok_or_else(|| AppError::invalid("kind", "is not a kind of session"))?;
        let release_mode = match form.release_mode.trim() {
            "" => ReleaseMode::FirstCome,
            mode => ReleaseMode::parse(mode)
                .ok_or_else(|| AppError::invalid("release_mode", "is not a release mode"))?,
        };
        let release_window_minutes = match form.release_window_minutes.trim() {
            "" => None,
            minutes => Some(whole("release_window_minutes", minutes)?),
        };
        let checked = |value: &str| matches!(value.trim(), "on" | "true");
        Ok(NewSession {
            kind,
            title: form.title.clone(),
            starts_at: local_time("starts_at", &form.starts_at)?,
            ends_at: local_time("ends_at", &form.ends_at)?,
            capacity: whole("capacity", &form.capacity)?,
            min_age_months: whole("min_age_months", &form.min_age_months)?,
            max_age_months: whole("max_age_months", &form.max_age_months)?,
            price_fen: fen(&form.price_yuan)?,
            booking_opens_at: optional_time("booking_opens_at", &form.booking_opens_at)?,
            booking_closes_at: optional_time("booking_closes_at", &form.booking_closes_at)?,
            cancel_until: optional_time("cancel_until", &form.cancel_until)?,
            guardian_attends: checked(&form.guardian_attends),
            release_mode,
            release_window_minutes,
            draw_by_priority: checked(&form.draw_by_priority),
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn local_times_are_nanjing_time() {
            let parsed = local_time("starts_at", "2026-12-08T09:30");
            assert_eq!(
                parsed.map(|instant| instant.to_rfc3339()),
                Ok("2026-12-08T01:30:00+00:00".to_owned())
            );
            assert!(
                local_time("starts_at", "2026-12-08 09:30:00").is_ok(),
                "space and seconds"
            );
            for bad in ["", "2026-12-08", "09:30", "2026-13-08T09:30"] {
                assert_eq!(
                    local_time("starts_at", bad).map_err(|error| error.code()),
                    Err("invalid"),
                    "{bad:?}"
                );
            }
        }

        #[test]
        fn prices_in_yuan_become_fen() {
            let cases = [
                ("", Some(0)),
                ("0", Some(0)),
                ("12", Some(1200)),
                ("12.5", Some(1250)),
                ("12.50", Some(1250)),
                (" 0.05 ", Some(5)),
                ("12.505", None),
                ("-1", None),
                (".5", None),
                ("abc", None),
                ("99999999999", None),
            ];
            for (typed, expected) in cases {
                assert_eq!(fen(typed).ok(), expected, "{typed:?}");
            }
        }
    }
}
