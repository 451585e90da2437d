//! The REST API for the mobile apps, under `/api/v1`, with its OpenAPI
//! document. Handlers are thin: they parse input and call `app::domain`.

mod admin;
mod auth;
mod booking;
mod courses;
mod error;
mod extract;
mod family;
mod nearby;
mod places;
mod priority;

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

pub use booking::feed as calendar_feed;
pub use error::{ApiError, error_response, render_errors, request_id};

use crate::startup::ServerState;

/// The OpenAPI description of `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ningyu API",
        description = "REST API of Ningyu (宁育), Nanjing's childcare service, for its mobile apps. \
                       Error bodies carry a stable `code` and a `message` in the language chosen \
                       by the `i18n_pref_locale` cookie or `Accept-Language` (Simplified Chinese by default).",
        version = "1",
    ),
    paths(
        places::list_places,
        nearby::search_nearby,
        places::get_place,
        auth::token,
        auth::revoke,
        family::me,
        family::get_family,
        family::add_child,
        family::get_child,
        family::export,
        family::delete_account,
        booking::get_session,
        booking::create_session,
        booking::book,
        booking::draw,
        booking::my_bookings,
        booking::get_booking,
        booking::cancel,
        booking::booking_calendar,
        booking::cancel_by_staff,
        booking::accept_offer,
        booking::leave_waitlist,
        booking::notifications,
        booking::mark_read,
        booking::feed_address,
        booking::roster,
        booking::check_in,
        priority::list_groups,
        priority::create_group,
        priority::members,
        priority::grant,
        priority::revoke,
        admin::create_place,
        admin::update_place,
        admin::coverage,
        admin::import_places,
        admin::audit_log,
        courses::list,
        courses::for_children,
        courses::get,
        courses::progress,
        courses::admin_list,
        courses::create,
        courses::update,
        courses::set_status,
        courses::upload_lesson,
        courses::remove_lesson,
    ),
    components(schemas(error::ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "places", description = "Community rooms, childcare providers and their sessions"),
        (name = "auth", description = "Tokens for the mobile apps"),
        (name = "family", description = "The signed-in person, their children and carers"),
        (name = "booking", description = "Sessions, bookings, the waitlist, notifications and calendars"),
        (name = "courses", description = "Parenting courses (家长课堂) and where the caller stopped in each lesson"),
        (name = "admin", description = "Administration: places and their disclosures, coverage, imports, the audit log, priority groups for fair-release draws, and parenting courses"),
    ),
)]
pub struct ApiDoc;

/// Declares the bearer access tokens that `/api/v1/auth/token` issues.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Builds the `/api/v1` router.
pub fn router(limits: &crate::auth::rate_limit::Limits) -> Router<ServerState> {
    let token = Router::new()
        .route("/auth/token", axum::routing::post(auth::token))
        .route_layer(axum::middleware::from_fn_with_state(
            limits.sign_in.clone(),
            crate::auth::rate_limit::limit,
        ));
    Router::new()
        .merge(token)
        .route("/openapi.json", get(openapi_json))
        .route("/places", get(places::list_places))
        .route("/places/nearby", get(nearby::search_nearby))
        .route("/places/{id}", get(places::get_place))
        .route("/me", get(family::me))
        .route("/family", get(family::get_family))
        .route("/family/children", axum::routing::post(family::add_child))
        .route("/family/children/{id}", get(family::get_child))
        .route("/family/export", get(family::export))
        .route("/account", axum::routing::delete(family::delete_account))
        .route("/auth/revoke", axum::routing::post(auth::revoke))
        .route("/sessions/{id}", get(booking::get_session))
        .route(
            "/sessions/{id}/bookings",
            axum::routing::post(booking::book),
        )
        .route("/sessions/{id}/draw", get(booking::draw))
        .route(
            "/places/{id}/sessions",
            axum::routing::post(booking::create_session),
        )
        .route("/bookings", get(booking::my_bookings))
        .route("/bookings/{id}", get(booking::get_booking))
        .route(
            "/bookings/{id}/cancel",
            axum::routing::post(booking::cancel),
        )
        .route("/bookings/{id}/calendar", get(booking::booking_calendar))
        .route(
            "/staff/bookings/{id}/cancel",
            axum::routing::post(booking::cancel_by_staff),
        )
        .route(
            "/waitlist/{id}/accept",
            axum::routing::post(booking::accept_offer),
        )
        .route(
            "/waitlist/{id}/leave",
            axum::routing::post(booking::leave_waitlist),
        )
        .route("/notifications", get(booking::notifications))
        .route(
            "/notifications/read",
            axum::routing::post(booking::mark_read),
        )
        .route("/calendar", get(booking::feed_address))
        .route("/staff/sessions/{id}/roster", get(booking::roster))
        .route("/admin/places", axum::routing::post(admin::create_place))
        .route(
            "/admin/places/{id}",
            axum::routing::put(admin::update_place),
        )
        .route("/admin/coverage", get(admin::coverage))
        .route("/admin/audit", get(admin::audit_log))
        .route(
            "/admin/imports/places",
            axum::routing::post(admin::import_places),
        )
        .route(
            "/admin/priority-groups",
            get(priority::list_groups).post(priority::create_group),
        )
        .route(
            "/admin/priority-groups/{id}/members",
            get(priority::members).post(priority::grant),
        )
        .route(
            "/admin/priority-groups/{id}/members/{child_id}",
            axum::routing::delete(priority::revoke),
        )
        .route(
            "/staff/sessions/{id}/check-in",
            axum::routing::post(booking::check_in),
        )
        .route("/courses", get(courses::list))
        .route("/courses/for-children", get(courses::for_children))
        .route("/courses/{id}", get(courses::get))
        .route(
            "/courses/lessons/{id}/progress",
            axum::routing::put(courses::progress),
        )
        .route(
            "/admin/courses",
            get(courses::admin_list).post(courses::create),
        )
        .route("/admin/courses/{id}", axum::routing::put(courses::update))
        .route(
            "/admin/courses/{id}/status",
            axum::routing::post(courses::set_status),
        )
        .route(
            "/admin/courses/{id}/lessons",
            // `media::limit_request` bounds uploads by NINGYU_MEDIA_MAX_BYTES.
            axum::routing::post(courses::upload_lesson)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/admin/courses/lessons/{id}",
            axum::routing::delete(courses::remove_lesson),
        )
        .fallback(|| async { ApiError(app::error::AppError::NotFound) })
        .layer(axum::middleware::from_fn(render_errors))
}

async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
