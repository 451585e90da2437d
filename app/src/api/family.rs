//! Server functions for the family page: children, carers and the
//! family's privacy rights. Each one takes the viewer from the session and
//! calls `domain::family`, which checks ownership.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{FamilyOverview, NewInvitation};

#[cfg(feature = "ssr")]
use super::form_redirect;
#[cfg(feature = "ssr")]
use super::support::{require_viewer, state, with_status};

/// The page the family's forms return to after a plain form post.
#[cfg(feature = "ssr")]
const FAMILY_PAGE: &str = "/family";

/// Returns what the family page shows to the signed-in person.
#[server(prefix = "/sfn", endpoint = "load_family")]
pub async fn load_family() -> Result<FamilyOverview, AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    with_status(
        crate::domain::family::overview(&state.db, viewer.account_id, chrono::Utc::now()).await,
    )
}

/// Adds a child. `consent` is the checkbox for the separate consent to
/// processing the child's information: `on` when ticked, absent otherwise.
///
/// A plain form post returns to the family page; when rejected, with the
/// error and the typed values kept as the form's draft.
#[server(prefix = "/sfn", endpoint = "add_child")]
pub async fn add_child(
    display_name: String,
    birth_date: String,
    care_notes: Option<String>,
    consent: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::family::{self, ChildInput};

    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let input = ChildInput {
        display_name: display_name.clone(),
        birth_date: birth_date.clone(),
        care_notes: care_notes.clone(),
    };
    let consent_given = consent
        .as_deref()
        .is_some_and(|value| value == "on" || value == "true");
    let result = family::add_child(
        &state.db,
        viewer.account_id,
        &input,
        consent_given,
        chrono::Utc::now(),
    )
    .await
    .map(|_| ());
    match &result {
        Ok(()) => form_redirect::back_to(FAMILY_PAGE, &[], None),
        Err(error) => {
            let call = AddChild {
                display_name,
                birth_date,
                care_notes,
                consent,
            };
            form_redirect::reject(FAMILY_PAGE, &call, error).await;
        }
    }
    with_status(result)
}

/// Withdraws the consent for a child, which deletes the child's record.
#[server(prefix = "/sfn", endpoint = "withdraw_child_consent")]
pub async fn withdraw_child_consent(child_id: i64) -> Result<(), AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    with_status(
        crate::domain::family::withdraw_consent(
            &state.db,
            &state.booking,
            viewer.account_id,
            child_id,
            chrono::Utc::now(),
        )
        .await,
    )
}

/// Creates an invitation for a carer to act for the chosen children.
///
/// A plain form post (no JavaScript) goes on to the page that shows the
/// code, because the code cannot be shown again later. A rejected one
/// returns to the family page with the chosen children kept.
#[server(prefix = "/sfn", endpoint = "create_invitation")]
pub async fn create_invitation(
    #[server(default)] child_ids: Vec<i64>,
) -> Result<NewInvitation, AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let result = crate::domain::family::create_invitation(
        &state.db,
        viewer.account_id,
        &child_ids,
        chrono::Utc::now(),
    )
    .await;
    if let Err(error) = &result {
        form_redirect::reject(FAMILY_PAGE, &CreateInvitation { child_ids }, error).await;
    }
    let invitation = with_status(result)?;
    let query = serde_urlencoded::to_string([("code", invitation.code.as_str())])
        .map_err(|_| AppError::Internal)?;
    leptos_axum::redirect(&format!("/family/invitation?{query}"));
    Ok(invitation)
}

/// Cancels an invitation that has not been accepted yet.
#[server(prefix = "/sfn", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(invitation_id: i64) -> Result<(), AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    with_status(
        crate::domain::family::revoke_invitation(
            &state.db,
            viewer.account_id,
            invitation_id,
            chrono::Utc::now(),
        )
        .await,
    )
}

/// Ends a carer's access to the family's children.
#[server(prefix = "/sfn", endpoint = "revoke_carer")]
pub async fn revoke_carer(carer_id: i64) -> Result<(), AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    with_status(
        crate::domain::family::revoke_carer(
            &state.db,
            viewer.account_id,
            carer_id,
            chrono::Utc::now(),
        )
        .await,
    )
}

/// Accepts an invitation code and goes to the family page. A rejected
/// plain form post returns to `/invite` with the code kept as the form's
/// draft, not in the address.
#[server(prefix = "/sfn", endpoint = "accept_invitation")]
pub async fn accept_invitation(code: String) -> Result<(), AppError> {
    let viewer = with_status(require_viewer())?;
    let state = state()?;
    let result = crate::domain::family::accept_invitation(
        &state.db,
        viewer.account_id,
        &code,
        chrono::Utc::now(),
    )
    .await;
    if let Err(error) = &result {
        form_redirect::reject("/invite", &AcceptInvitation { code }, error).await;
    }
    with_status(result)?;
    leptos_axum::redirect(FAMILY_PAGE);
    Ok(())
}

/// Deletes the signed-in account and its family. `confirm` is the ticked
/// confirmation box.
#[server(prefix = "/sfn", endpoint = "delete_account")]
pub async fn delete_account(confirm: Option<String>) -> Result<(), AppError> {
    let viewer = with_status(require_viewer())?;
    if confirm.is_none() {
        return with_status(Err(AppError::invalid(
            "confirm",
            "tick the box to confirm the deletion",
        )));
    }
    let state = state()?;
    with_status(
        crate::domain::family::delete_account(
            &state.db,
            &state.booking,
            viewer.account_id,
            chrono::Utc::now(),
        )
        .await,
    )?;
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.append_header(
            http::header::SET_COOKIE,
            http::HeaderValue::from_static(
                "ningyu_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
            ),
        );
    }
    leptos_axum::redirect("/?deleted=1");
    Ok(())
}
