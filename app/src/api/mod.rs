//! Server functions: thin doors from the browser to the domain functions.
//! They live under `/sfn/`, apart from the public REST API under `/api/v1/`.

use leptos::prelude::*;

pub mod admin;
pub mod booking;
pub mod courses;
pub mod family;
pub mod staff;

use crate::error::AppError;
use crate::model::{
    NearbyParams, NearbyResults, Page, PlaceDetail, PlaceSummary, SearchChild, Viewer,
};

#[cfg(feature = "ssr")]
pub(crate) mod support {
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
    pub fn require_viewer() -> Result<crate::model::Viewer, AppError> {
        viewer().ok_or(AppError::Unauthenticated)
    }

    /// Sets the response status from an error before handing the result on,
    /// so that server function calls and server-rendered pages carry the
    /// right HTTP status.
    ///
    /// A plain form post to a server function (no JavaScript) is left alone:
    /// server_fn redirects it back to its page with the error in the query
    /// string, and that redirect must keep its 302.
    pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(error) = &result
            && !is_plain_form_post()
        {
            set_status(error.status());
        }
        result
    }

    /// Returns whether the request is a form that a browser posted to a
    /// server function without JavaScript, which expects a redirect.
    pub fn is_plain_form_post() -> bool {
        use_context::<http::request::Parts>().is_some_and(|parts| {
            parts.method == http::Method::POST
                && parts.uri.path().starts_with("/sfn/")
                && parts
                    .headers
                    .get(http::header::ACCEPT)
                    .and_then(|value| value.to_str().ok())
                    .is_some_and(|accept| accept.contains("text/html"))
        })
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

#[cfg(feature = "ssr")]
pub(crate) mod form_redirect {
    use crate::error::AppError;

    /// Sends a plain form post back to `page` with `pairs` in the query
    /// string, and the error in the `__path` and `__err` parameters that
    /// `components::ActionError` reads. Does nothing for calls from scripts,
    /// which receive the result itself.
    pub fn back_to(page: &str, pairs: &[(&str, &str)], error: Option<(&str, &AppError)>) {
        use base64::Engine;

        if !super::support::is_plain_form_post() {
            return;
        }
        let mut query: Vec<(&str, String)> = pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| (*name, (*value).to_owned()))
            .collect();
        if let Some((path, error)) = error {
            let json = serde_json::to_vec(error).unwrap_or_default();
            query.push(("__path", path.to_owned()));
            query.push((
                "__err",
                base64::engine::general_purpose::URL_SAFE.encode(json),
            ));
        }
        let target = match serde_urlencoded::to_string(&query) {
            Ok(encoded) if !encoded.is_empty() => format!("{page}?{encoded}"),
            _ => page.to_owned(),
        };
        leptos_axum::redirect(&target);
    }

    /// Sends a rejected plain form post back to `page` with the error, and
    /// saves `call`, the rejected call's arguments, as the session's draft
    /// of the form, which the page reads once through `use_form_draft`.
    /// Does nothing for calls from scripts, which keep their own form.
    ///
    /// The values stay on the server, never in the redirect's address,
    /// because many of them are personal data: a child's name, birth date
    /// and care notes, or a mobile number. The pages that use this keep
    /// every field this way, so no form has to sort its fields.
    pub async fn reject<S>(page: &str, call: &S, error: &AppError)
    where
        S: leptos::server_fn::ServerFn + serde::Serialize,
    {
        if !super::support::is_plain_form_post() {
            return;
        }
        keep_draft(S::PATH, call).await;
        back_to(page, &[], Some((S::PATH, error)));
    }

    /// Saves the draft of form `path` for the request's web session. A
    /// failure is logged and leaves the form empty, the state before drafts.
    async fn keep_draft(path: &str, call: &impl serde::Serialize) {
        use leptos::prelude::use_context;

        let token = use_context::<http::request::Parts>().and_then(|parts| {
            parts
                .extensions
                .get::<crate::domain::sessions::SessionToken>()
                .cloned()
        });
        let Some(crate::domain::sessions::SessionToken(token)) = token else {
            return;
        };
        let Ok(state) = super::support::state() else {
            return;
        };
        let fields = match serde_json::to_value(call) {
            Ok(fields) => fields,
            Err(error) => {
                tracing::error!(form = path, error = %error, "cannot serialise a form draft");
                return;
            }
        };
        let saved =
            crate::domain::form_drafts::save(&state.db, &token, path, fields, chrono::Utc::now())
                .await;
        if let Err(error) = saved {
            tracing::warn!(form = path, error = %error, "cannot keep a form draft");
        }
    }
}

/// Returns and deletes the values of the signed-in browser's last rejected
/// post to the server function at `form`, such as `/sfn/add_child`, as
/// JSON. Returns `None` when there is none or it has expired.
#[server(prefix = "/sfn", endpoint = "take_form_draft")]
pub async fn take_form_draft(form: String) -> Result<Option<serde_json::Value>, AppError> {
    let token = use_context::<http::request::Parts>().and_then(|parts| {
        parts
            .extensions
            .get::<crate::domain::sessions::SessionToken>()
            .cloned()
    });
    let Some(crate::domain::sessions::SessionToken(token)) = token else {
        return Ok(None);
    };
    let state = support::state()?;
    crate::domain::form_drafts::take(&state.db, &token, &form, chrono::Utc::now()).await
}

/// Lists the first page of places, as the home page shows it.
#[server(prefix = "/sfn", endpoint = "list_places")]
pub async fn list_places() -> Result<Page<PlaceSummary>, AppError> {
    let state = support::state()?;
    support::with_status(state.first_page.get(&state.db).await)
}

/// Loads one place with its upcoming sessions.
#[server(prefix = "/sfn", endpoint = "get_place")]
pub async fn get_place(id: i64) -> Result<PlaceDetail, AppError> {
    use crate::domain::places;

    let state = support::state()?;
    support::with_status(places::get_place(&state.db, id, chrono::Utc::now()).await)
}

/// Searches places near a point or a typed name, nearest first.
#[server(prefix = "/sfn", endpoint = "search_nearby")]
pub async fn search_nearby(params: NearbyParams) -> Result<NearbyResults, AppError> {
    let state = support::state()?;
    let viewer = support::viewer().map(|viewer| viewer.account_id);
    support::with_status(
        state
            .search
            .search_nearby(&state.db, &params, viewer, chrono::Utc::now())
            .await,
    )
}

/// Returns the children the signed-in person may search for: their own and
/// those they care for. Empty when signed out.
#[server(prefix = "/sfn", endpoint = "search_children")]
pub async fn search_children() -> Result<Vec<SearchChild>, AppError> {
    let Some(viewer) = support::viewer() else {
        return Ok(Vec::new());
    };
    let state = support::state()?;
    // No status is set on failure: the search page treats the list as
    // optional and still renders, and `from_db` has logged the cause.
    let overview =
        crate::domain::family::overview(&state.db, viewer.account_id, chrono::Utc::now()).await?;
    Ok(overview
        .children
        .into_iter()
        .chain(overview.cared_for)
        .map(|child| SearchChild {
            id: child.id,
            display_name: child.display_name,
            age_months: child.age_months,
        })
        .collect())
}

/// Returns the signed-in person, or `None` when signed out.
#[server(prefix = "/sfn", endpoint = "current_viewer")]
pub async fn current_viewer() -> Result<Option<Viewer>, AppError> {
    Ok(support::viewer())
}

/// Returns the newest audit log entries; administrators only.
#[server(prefix = "/sfn", endpoint = "audit_log")]
pub async fn audit_log() -> Result<Vec<crate::model::AuditEntryView>, AppError> {
    let viewer = support::with_status(support::require_viewer())?;
    let state = support::state()?;
    support::with_status(crate::domain::audit::for_admin(&state.db, &viewer, 200).await)
}

/// Returns the coverage of childcare in the districts the viewer administers.
#[server(prefix = "/sfn", endpoint = "coverage_report")]
pub async fn coverage_report() -> Result<crate::model::CoverageReport, AppError> {
    let viewer = support::with_status(support::require_viewer())?;
    let state = support::state()?;
    support::with_status(
        crate::domain::place_admin::coverage(&state.db, &viewer, chrono::Utc::now()).await,
    )
}

/// Returns the signed-in person's contact mobile number.
#[server(prefix = "/sfn", endpoint = "contact_mobile")]
pub async fn contact_mobile() -> Result<Option<String>, AppError> {
    let viewer = support::with_status(support::require_viewer())?;
    let state = support::state()?;
    support::with_status(crate::domain::accounts::mobile_of(&state.db, viewer.account_id).await)
}

/// Changes the signed-in person's contact mobile number. A plain form post
/// returns to the account page, and when rejected, with the error and the
/// number as typed kept as the form's draft.
#[server(prefix = "/sfn", endpoint = "update_mobile")]
pub async fn update_mobile(mobile: String) -> Result<String, AppError> {
    let viewer = support::with_status(support::require_viewer())?;
    let state = support::state()?;
    let result = crate::domain::accounts::set_mobile(&state.db, viewer.account_id, &mobile).await;
    match &result {
        Ok(_) => form_redirect::back_to("/account", &[], None),
        Err(error) => form_redirect::reject("/account", &UpdateMobile { mobile }, error).await,
    }
    support::with_status(result)
}
