//! The one error type that users may see.
//!
//! Every variant is safe to show and has a translation. Internal causes
//! (database text, upstream responses) never travel in it: the server logs
//! them where they happen and sends only the variant.

use serde::{Deserialize, Serialize};

/// An error that may be shown to a user, in a page, a server function
/// response or the REST API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum AppError {
    /// The request itself is malformed: bad encoding, wrong types, unknown
    /// fields, a body that is too large. Maps to 400.
    #[error("bad request: {detail}")]
    BadRequest { detail: String },
    /// A search parameter is malformed or out of range, for example a
    /// latitude that is not a number. Maps to 400.
    #[error("invalid search parameter {field}: {reason}")]
    InvalidQuery { field: String, reason: String },
    /// The request body is larger than the server accepts. Maps to 413.
    #[error("request body too large")]
    TooLarge,
    /// The caller is not signed in. Maps to 401.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The caller is signed in but lacks the role for this action. Maps to 403.
    #[error("forbidden")]
    Forbidden,
    /// The resource does not exist, or belongs to someone else. Maps to 404.
    #[error("not found")]
    NotFound,
    /// The request conflicts with the current state. Maps to 409.
    #[error("conflict: {reason}")]
    Conflict { reason: String },
    /// No places are left. Maps to 409.
    #[error("full")]
    Full,
    /// The booking rules refuse the request. Maps to 409.
    #[error("refused: {reason:?}")]
    Refused { reason: Refusal },
    /// A field is well-formed but its value is not acceptable. Maps to 422.
    #[error("invalid field {field}: {reason}")]
    Invalid { field: String, reason: String },
    /// Too many requests from this caller. Maps to 429.
    #[error("rate limited, retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u32 },
    /// A dependency (the database) is unreachable. Maps to 503.
    #[error("unavailable")]
    Unavailable,
    /// Anything unexpected; the cause is in the server log. Maps to 500.
    #[error("internal error")]
    Internal,
}

impl AppError {
    /// Returns the HTTP status code for this error.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest { .. } | Self::InvalidQuery { .. } => 400,
            Self::TooLarge => 413,
            Self::Unauthenticated => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict { .. } | Self::Full | Self::Refused { .. } => 409,
            Self::Invalid { .. } => 422,
            Self::RateLimited { .. } => 429,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    /// Returns the stable machine-readable code, as serialised in `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "bad_request",
            Self::InvalidQuery { .. } => "invalid_query",
            Self::TooLarge => "too_large",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::Full => "full",
            Self::Refused { .. } => "refused",
            Self::Invalid { .. } => "invalid",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    /// Returns the translated message for this error in `locale`.
    pub fn message(&self, locale: crate::i18n::Locale) -> &'static str {
        use leptos_i18n::td_string;

        match self {
            Self::BadRequest { .. } => td_string!(locale, error_bad_request),
            Self::InvalidQuery { .. } => td_string!(locale, error_invalid_query),
            Self::TooLarge => td_string!(locale, error_too_large),
            Self::Unauthenticated => td_string!(locale, error_unauthenticated),
            Self::Forbidden => td_string!(locale, error_forbidden),
            Self::NotFound => td_string!(locale, error_not_found),
            Self::Conflict { .. } => td_string!(locale, error_conflict),
            Self::Full => td_string!(locale, error_full),
            Self::Refused { reason } => reason.message(locale),
            Self::Invalid { .. } => td_string!(locale, error_invalid),
            Self::RateLimited { .. } => td_string!(locale, error_rate_limited),
            Self::Unavailable => td_string!(locale, error_unavailable),
            Self::Internal => td_string!(locale, error_internal),
        }
    }

    /// Builds an `InvalidQuery` error for the search parameter `field`.
    pub fn invalid_query(field: &str, reason: impl Into<String>) -> Self {
        Self::InvalidQuery {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// Builds an `Invalid` error for `field`.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The reason the booking rules reject a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Refusal {
    /// Booking has not opened yet.
    NotOpenYet,
    /// The booking cut-off has passed.
    Closed,
    /// The child already has a place in this session.
    AlreadyBooked,
    /// The child is already on this session's waitlist.
    AlreadyWaiting,
    /// The child has a booking at the same time.
    Overlap,
    /// The child has reached the limit of bookings in one week.
    WeeklyLimit,
    /// The child's age on the session date is outside its age range.
    AgeOutOfRange,
    /// Places are left, so there is no waitlist to join.
    PlacesLeft,
    /// The offer has expired or was already accepted or declined.
    OfferGone,
    /// The session has started or ended.
    SessionOver,
}

impl Refusal {
    /// Returns the translated message for this refusal in `locale`.
    pub fn message(self, locale: crate::i18n::Locale) -> &'static str {
        use leptos_i18n::td_string;

        match self {
            Self::NotOpenYet => td_string!(locale, refusal_not_open_yet),
            Self::Closed => td_string!(locale, refusal_closed),
            Self::AlreadyBooked => td_string!(locale, refusal_already_booked),
            Self::AlreadyWaiting => td_string!(locale, refusal_already_waiting),
            Self::Overlap => td_string!(locale, refusal_overlap),
            Self::WeeklyLimit => td_string!(locale, refusal_weekly_limit),
            Self::AgeOutOfRange => td_string!(locale, refusal_age_out_of_range),
            Self::PlacesLeft => td_string!(locale, refusal_places_left),
            Self::OfferGone => td_string!(locale, refusal_offer_gone),
            Self::SessionOver => td_string!(locale, refusal_session_over),
        }
    }
}

impl From<Refusal> for AppError {
    fn from(reason: Refusal) -> Self {
        Self::Refused { reason }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(error: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;

        match error {
            E::Args(detail) | E::Deserialization(detail) | E::MissingArg(detail) => {
                Self::BadRequest { detail }
            }
            // A request that never reached the server, as seen by the browser.
            E::Request(_) | E::Response(_) => Self::Unavailable,
            _ => Self::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
mod server {
    use sea_orm::{DbErr, RuntimeErr, SqlErr};

    use super::AppError;

    impl AppError {
        /// Maps a database error to what the user may see and logs its cause.
        ///
        /// Connection failures become `Unavailable` (503) so clients retry;
        /// constraint violations that reach this point are programming errors
        /// because domain code maps the expected ones itself.
        pub fn from_db(error: DbErr) -> Self {
            if is_connection_error(&error) {
                tracing::warn!(error = %error, "database unavailable");
                return Self::Unavailable;
            }
            if is_contention(&error) {
                tracing::warn!(error = %error, "database busy");
                return Self::Unavailable;
            }
            if let Some(SqlErr::UniqueConstraintViolation(_)) = error.sql_err() {
                tracing::error!(error = %error, "unexpected unique constraint violation");
                return Self::Internal;
            }
            tracing::error!(error = %error, "database error");
            Self::Internal
        }
    }

    /// Returns whether `error` is a transaction that lost to another one and
    /// may succeed when tried again: SQLite still busy after its timeout,
    /// or a PostgreSQL deadlock or serialisation failure.
    fn is_contention(error: &DbErr) -> bool {
        let (DbErr::Query(RuntimeErr::SqlxError(inner))
        | DbErr::Exec(RuntimeErr::SqlxError(inner))
        | DbErr::Conn(RuntimeErr::SqlxError(inner))) = error
        else {
            return false;
        };
        let sea_orm::sqlx::Error::Database(database) = inner.as_ref() else {
            return false;
        };
        // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6) with their extended
        // codes; PostgreSQL: 40001 and 40P01.
        let code = database.code().unwrap_or_default();
        let sqlite_busy = code
            .parse::<i32>()
            .is_ok_and(|code| matches!(code & 0xff, 5 | 6));
        sqlite_busy || code == "40001" || code == "40P01"
    }

    /// Returns whether `error` means the database could not be reached, as
    /// opposed to a query that the database rejected.
    fn is_connection_error(error: &DbErr) -> bool {
        match error {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
            DbErr::Query(RuntimeErr::SqlxError(inner))
            | DbErr::Exec(RuntimeErr::SqlxError(inner)) => {
                use sea_orm::sqlx::Error as SqlxError;
                matches!(
                    inner.as_ref(),
                    SqlxError::Io(_)
                        | SqlxError::PoolTimedOut
                        | SqlxError::PoolClosed
                        | SqlxError::Tls(_)
                )
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn status_codes_cover_every_documented_status() {
        let cases = [
            (
                AppError::BadRequest {
                    detail: String::new(),
                },
                400,
            ),
            (AppError::invalid_query("lat", "not a number"), 400),
            (AppError::TooLarge, 413),
            (AppError::Unauthenticated, 401),
            (AppError::Forbidden, 403),
            (AppError::NotFound, 404),
            (
                AppError::Conflict {
                    reason: String::new(),
                },
                409,
            ),
            (AppError::Full, 409),
            (AppError::invalid("name", "empty"), 422),
            (
                AppError::RateLimited {
                    retry_after_secs: 5,
                },
                429,
            ),
            (AppError::Unavailable, 503),
            (AppError::Internal, 500),
        ];
        for (error, status) in cases {
            assert_eq!(error.status(), status, "status of {error:?}");
        }
    }

    #[test]
    fn serialised_code_matches_code_method() {
        let error = AppError::invalid("capacity", "must be positive");
        let json = serde_json::to_value(&error).unwrap_or_default();
        assert_eq!(json["code"], error.code());
        assert_eq!(json["field"], "capacity");
    }

    #[test]
    fn unavailable_message_is_chinese_by_default() {
        let message = AppError::Unavailable.message(crate::i18n::Locale::default());
        assert_eq!(message, "服务暂时不可用，请稍后再试。");
    }
}
