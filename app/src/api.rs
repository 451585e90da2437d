//! Server functions: thin doors from the browser to the domain functions.
//! They live under `/sfn/`, apart from the public REST API under `/api/v1/`.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Page, PlaceDetail, PlaceSummary, Viewer};

#[cfg(feature = "ssr")]
mod support {
    use leptos::prelude::*;

    use crate::error::AppError;
    use crate::state::AppState;

    /// Returns the server state provided by the router.
    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState is missing from the server function context");
            AppError::Internal
        })
    }

    /// Returns the signed-in viewer of the request being served, which the
    /// server's session middleware put into the request's extensions.
    pub fn viewer() -> Option<crate::model::Viewer> {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<crate::model::Viewer>().cloned())
    }

    /// Returns the viewer, or `Unauthenticated` (401) when signed out.
    #[allow(dead_code, reason = "used by the family server functions")]
    pub fn require_viewer() -> Result<crate::model::Viewer, AppError> {
        viewer().ok_or(AppError::Unauthenticated)
    }

    /// Sets the response status from an error before handing the result on,
    /// so that server function calls and server-rendered pages carry the
    /// right HTTP status.
    pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(error) = &result {
            set_status(error.status());
        }
        result
    }

    /// Sets the status of the response being built, when there is one.
    pub fn set_status(status: u16) {
        if let (Some(options), Ok(code)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(status),
        ) {
            options.set_status(code);
        }
    }
}

#[cfg(feature = "ssr")]
pub use support::{set_status, viewer};

/// Lists the first page of places.
#[server(prefix = "/sfn", endpoint = "list_places")]
pub async fn list_places() -> Result<Page<PlaceSummary>, AppError> {
    use crate::domain::places::{self, PlaceListQuery};

    let state = support::state()?;
    support::with_status(places::list_places(&state.db, PlaceListQuery::default()).await)
}

/// Loads one place with its upcoming sessions.
#[server(prefix = "/sfn", endpoint = "get_place")]
pub async fn get_place(id: i64) -> Result<PlaceDetail, AppError> {
    use crate::domain::places;

    let state = support::state()?;
    support::with_status(places::get_place(&state.db, id, chrono::Utc::now()).await)
}

/// Returns the signed-in person, or `None` when signed out.
#[server(prefix = "/sfn", endpoint = "current_viewer")]
pub async fn current_viewer() -> Result<Option<Viewer>, AppError> {
    Ok(support::viewer())
}
