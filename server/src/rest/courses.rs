//! `/api/v1/courses` and `/api/v1/admin/courses`: families list, open and
//! resume parenting courses; administrators write and publish them and
//! upload their lessons. Each handler calls `app::domain::courses`.

use app::domain::courses::{self, CourseFilter};
use app::model::{
    CourseDetail, CourseInput, CourseStatus, CourseSummary, CourseTopic, CoursesForChild,
    LessonProgress, Page, Viewer,
};
use app::state::AppState;
use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, ApiQuery, SignedIn};

/// How to narrow and page the list of courses.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CourseQuery {
    /// Only courses on this topic.
    pub topic: Option<CourseTopic>,
    /// Only courses for a child of this age in months (0–36).
    #[param(maximum = 36)]
    pub age_months: Option<u32>,
    /// Courses per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Courses to skip, for paging.
    #[serde(default)]
    #[param(maximum = 9_223_372_036_854_775_807_i64)]
    pub offset: u64,
}

/// Lists published courses, newest first. Signed in, each shows how many
/// of its lessons the caller has finished.
#[utoipa::path(
    get,
    path = "/api/v1/courses",
    tag = "courses",
    params(CourseQuery),
    responses(
        (status = 200, description = "One page of courses", body = Page<CourseSummary>),
        (status = 400, description = "Malformed query", body = ErrorBody),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    viewer: Option<axum::Extension<Viewer>>,
    ApiQuery(query): ApiQuery<CourseQuery>,
) -> Result<Json<Page<CourseSummary>>, ApiError> {
    let filter = CourseFilter {
        topic: query.topic,
        age_months: query.age_months,
    };
    let limit = query.limit.unwrap_or(20);
    if !(1..=courses::MAX_PAGE).contains(&limit) {
        return Err(app::error::AppError::InvalidQuery {
            field: "limit".to_owned(),
            reason: format!("must be from 1 to {}", courses::MAX_PAGE),
        }
        .into());
    }
    let account = viewer.map(|axum::Extension(viewer)| viewer.account_id);
    Ok(Json(
        courses::list_published(&state.db, filter, account, limit, query.offset).await?,
    ))
}

/// For each child the caller looks after, the published courses that suit
/// the child's age in months today.
#[utoipa::path(
    get,
    path = "/api/v1/courses/for-children",
    tag = "courses",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Courses per child, youngest child last", body = Vec<CoursesForChild>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
)]
pub async fn for_children(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Json<Vec<CoursesForChild>>, ApiError> {
    let today = app::time::local_date(Utc::now());
    Ok(Json(
        courses::for_children(&state.db, viewer.account_id, today).await?,
    ))
}

/// A course with its lessons, each with the address of its file and, when
/// signed in, where the caller stopped.
#[utoipa::path(
    get,
    path = "/api/v1/courses/{id}",
    tag = "courses",
    params(("id" = i64, Path, description = "Course id")),
    responses(
        (status = 200, description = "The course", body = CourseDetail),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 404, description = "No such published course", body = ErrorBody),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    viewer: Option<axum::Extension<Viewer>>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CourseDetail>, ApiError> {
    let viewer = viewer.map(|axum::Extension(viewer)| viewer);
    Ok(Json(
        courses::get_course(&state.db, viewer.as_ref(), id).await?,
    ))
}

/// Records where the caller stopped in a lesson, to resume there on any
/// device. A lesson once finished stays finished.
#[utoipa::path(
    put,
    path = "/api/v1/courses/lessons/{id}/progress",
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Lesson id")),
    request_body = LessonProgress,
    responses(
        (status = 204, description = "Recorded"),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such lesson of a published course", body = ErrorBody),
        (status = 422, description = "A position beyond a day", body = ErrorBody),
    ),
)]
pub async fn progress(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(progress): ApiJson<LessonProgress>,
) -> Result<StatusCode, ApiError> {
    courses::record_progress(&state.db, viewer.account_id, id, progress, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lists the courses the caller may write, in any state, last changed first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/courses",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The courses", body = Vec<CourseSummary>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
    ),
)]
pub async fn admin_list(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Json<Vec<CourseSummary>>, ApiError> {
    Ok(Json(courses::admin_list(&state.db, &viewer).await?))
}

/// Creates a draft course. District administrators create their district's
/// courses, city administrators any.
#[utoipa::path(
    post,
    path = "/api/v1/admin/courses",
    tag = "admin",
    security(("bearer" = [])),
    request_body = CourseInput,
    responses(
        (status = 201, description = "The new draft", body = CourseDetail),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator of that district", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiJson(input): ApiJson<CourseInput>,
) -> Result<(StatusCode, Json<CourseDetail>), ApiError> {
    let id = courses::create_course(&state.db, &viewer, &input, Utc::now()).await?;
    let detail = courses::get_course(&state.db, Some(&viewer), id).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// Replaces a course's titles, description, topic, ages and district.
#[utoipa::path(
    put,
    path = "/api/v1/admin/courses/{id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Course id")),
    request_body = CourseInput,
    responses(
        (status = 200, description = "The course as stored", body = CourseDetail),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the new district is not yours", body = ErrorBody),
        (status = 404, description = "No such course among yours", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<CourseInput>,
) -> Result<Json<CourseDetail>, ApiError> {
    courses::update_course(&state.db, &viewer, id, &input, Utc::now()).await?;
    Ok(Json(
        courses::get_course(&state.db, Some(&viewer), id).await?,
    ))
}

/// A course's new state.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub status: CourseStatus,
}

/// Publishes a course, withdraws it, or returns it to draft. Publishing
/// sends one message to the guardians of children of its ages.
#[utoipa::path(
    post,
    path = "/api/v1/admin/courses/{id}/status",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Course id")),
    request_body = StatusChange,
    responses(
        (status = 200, description = "The course as stored", body = CourseDetail),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such course among yours", body = ErrorBody),
        (status = 409, description = "A course without lessons cannot be published", body = ErrorBody),
    ),
)]
pub async fn set_status(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(change): ApiJson<StatusChange>,
) -> Result<Json<CourseDetail>, ApiError> {
    courses::set_status(&state.db, &viewer, id, change.status, Utc::now()).await?;
    Ok(Json(
        courses::get_course(&state.db, Some(&viewer), id).await?,
    ))
}

/// The multipart form of a lesson upload, for the OpenAPI document.
#[derive(Debug, ToSchema)]
#[allow(
    dead_code,
    reason = "it only describes the form in the OpenAPI document"
)]
pub struct LessonUploadForm {
    /// Chinese title, 1 to 60 characters.
    pub title: String,
    pub title_en: Option<String>,
    /// Optional WebVTT captions in Chinese, UTF-8, up to 256 KiB.
    #[schema(format = Binary, content_media_type = "text/vtt")]
    pub captions: Option<String>,
    /// An MP4, WebM or MP3 file, up to `NINGYU_MEDIA_MAX_BYTES`.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    pub file: String,
}

/// Adds a lesson to the end of a course from an uploaded video or audio
/// file. The file's kind is read from its first bytes.
#[utoipa::path(
    post,
    path = "/api/v1/admin/courses/{id}/lessons",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Course id")),
    request_body(content = LessonUploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The course with its new lesson", body = CourseDetail),
        (status = 400, description = "Malformed form", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such course among yours", body = ErrorBody),
        (status = 409, description = "The course has as many lessons as it may", body = ErrorBody),
        (status = 413, description = "The file is too large", body = ErrorBody),
        (status = 422, description = "No file, a file of another kind, or a bad title", body = ErrorBody),
    ),
)]
pub async fn upload_lesson(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<CourseDetail>), ApiError> {
    let multipart = multipart.map_err(|rejection| app::error::AppError::BadRequest {
        detail: rejection.body_text(),
    })?;
    crate::media::add_uploaded_lesson(&state, &viewer, id, multipart).await?;
    let detail = courses::get_course(&state.db, Some(&viewer), id).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// Removes a lesson. A published course keeps its last lesson.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/courses/lessons/{id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Lesson id")),
    responses(
        (status = 200, description = "The course without the lesson", body = CourseDetail),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such lesson among your courses", body = ErrorBody),
        (status = 409, description = "The last lesson of a published course", body = ErrorBody),
    ),
)]
pub async fn remove_lesson(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CourseDetail>, ApiError> {
    let course = courses::remove_lesson(&state.db, &viewer, id, Utc::now()).await?;
    Ok(Json(
        courses::get_course(&state.db, Some(&viewer), course).await?,
    ))
}
