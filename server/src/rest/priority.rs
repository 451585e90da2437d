//! `/api/v1/admin/priority-groups`: the groups a fair-release draw may
//! serve first, and the children in them. City administrators only; each
//! handler calls `app::domain::priority`.

use app::domain::priority;
use app::model::{NewPriorityGroup, PriorityGrant, PriorityGroupView, PriorityMember};
use app::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;

use super::ApiError;
use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, SignedIn};

/// Lists the priority groups with their member counts.
#[utoipa::path(
    get,
    path = "/api/v1/admin/priority-groups",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The groups, by rank", body = Vec<PriorityGroupView>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a city administrator", body = ErrorBody),
    ),
)]
pub async fn list_groups(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Json<Vec<PriorityGroupView>>, ApiError> {
    Ok(Json(priority::list_groups(&state.db, &viewer).await?))
}

/// Defines a priority group.
#[utoipa::path(
    post,
    path = "/api/v1/admin/priority-groups",
    tag = "admin",
    security(("bearer" = [])),
    request_body = NewPriorityGroup,
    responses(
        (status = 201, description = "The new group", body = PriorityGroupView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a city administrator", body = ErrorBody),
        (status = 409, description = "The code is taken", body = ErrorBody),
        (status = 422, description = "A field is out of range", body = ErrorBody),
    ),
)]
pub async fn create_group(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiJson(input): ApiJson<NewPriorityGroup>,
) -> Result<(StatusCode, Json<PriorityGroupView>), ApiError> {
    let group = priority::create_group(&state.db, &viewer, &input, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(group)))
}

/// Lists the children in a group; the read is audited.
#[utoipa::path(
    get,
    path = "/api/v1/admin/priority-groups/{id}/members",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Group id")),
    responses(
        (status = 200, description = "The members", body = Vec<PriorityMember>),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a city administrator", body = ErrorBody),
        (status = 404, description = "No such group", body = ErrorBody),
    ),
)]
pub async fn members(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<PriorityMember>>, ApiError> {
    Ok(Json(
        priority::members(&state.db, &viewer, id, Utc::now()).await?,
    ))
}

/// Puts a child, named by its guardian's mobile number and its name, in a group.
#[utoipa::path(
    post,
    path = "/api/v1/admin/priority-groups/{id}/members",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Group id")),
    request_body = PriorityGrant,
    responses(
        (status = 201, description = "The child is in the group", body = PriorityMember),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a city administrator", body = ErrorBody),
        (status = 404, description = "No such group, or no child of that name with that guardian", body = ErrorBody),
        (status = 409, description = "The guardian has two children of that name", body = ErrorBody),
        (status = 422, description = "The mobile number or the name is invalid", body = ErrorBody),
    ),
)]
pub async fn grant(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PriorityGrant>,
) -> Result<(StatusCode, Json<PriorityMember>), ApiError> {
    let member = priority::grant(&state.db, &viewer, id, &input, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(member)))
}

/// Takes a child out of a group.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/priority-groups/{id}/members/{child_id}",
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Group id"),
        ("child_id" = i64, Path, description = "Child id"),
    ),
    responses(
        (status = 204, description = "The child is no longer in the group"),
        (status = 400, description = "An id is not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a city administrator", body = ErrorBody),
        (status = 404, description = "The child is not in that group", body = ErrorBody),
    ),
)]
pub async fn revoke(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath((id, child_id)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    priority::revoke(&state.db, &viewer, id, child_id, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
