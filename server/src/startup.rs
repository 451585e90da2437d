//! Building the router and running the HTTP server.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::state::AppState;
use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use http::header::{AUTHORIZATION, COOKIE, SET_COOKIE, X_CONTENT_TYPE_OPTIONS};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use url::Url;

use crate::auth::oidc::OidcClient;
use crate::auth::rate_limit::Limits;
use crate::auth::{Auth, AuthState};
use crate::config::{Config, OidcConfig};
use crate::dev_portal::{DevPortal, PortalClient, PortalHandle};

/// Maximum duration of one request; slower requests get 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// State of the axum router: Leptos' options, the application state and
/// the sign-in state.
#[derive(Clone, Debug)]
pub struct ServerState {
    pub leptos: LeptosOptions,
    pub app: AppState,
    pub auth: Auth,
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(state: &ServerState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<ServerState> for AppState {
    fn from_ref(state: &ServerState) -> Self {
        state.app.clone()
    }
}

/// Opens the database, applies migrations and, when configured, the demo data.
pub async fn prepare_database(config: &Config) -> anyhow::Result<AppState> {
    if config.is_sqlite() {
        std::fs::create_dir_all(&config.data_dir).map_err(|error| {
            anyhow::anyhow!(
                "cannot create NINGYU_DATA_DIR {}: {error}",
                config.data_dir.display()
            )
        })?;
    }
    let settings = app::db::PoolSettings {
        max_connections: config.db_max_connections,
        acquire_timeout: config.db_acquire_timeout,
    };
    let db = app::db::connect(config.database_url.expose_secret(), &settings)
        .await
        .map_err(|error| anyhow::anyhow!("cannot connect to DATABASE_URL: {error}"))?;
    app::db::migrate(&db)
        .await
        .map_err(|error| anyhow::anyhow!("database migration failed: {error}"))?;
    if config.demo_data {
        let inserted = app::domain::demo::seed_demo_data(&db, chrono::Utc::now())
            .await
            .map_err(|error| anyhow::anyhow!("cannot insert the demo data: {error}"))?;
        tracing::info!(inserted, "demo data checked");
    }
    // Searches read the database until the snapshot is loaded, so a
    // failed first load only slows them; the background refresh retries.
    let search = app::domain::nearby::SearchIndex::default();
    if let Err(error) = search.reload(&db).await {
        tracing::warn!(error = %error, "cannot load the search snapshot; searches read the database");
    }
    Ok(AppState {
        db,
        booking: config.booking.clone(),
        first_page: app::domain::places::FirstPageCache::default(),
        map: config.map.clone(),
        search,
        media: config.media.clone(),
    })
}

/// Builds the whole router: pages, server functions, REST API, health
/// checks and static files, with request ids, tracing and limits.
pub fn router(config: &Config, app_state: AppState, auth: Auth) -> Router {
    let leptos = LeptosOptions::builder()
        .output_name("ningyu")
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .build();
    let state = ServerState {
        leptos: leptos.clone(),
        app: app_state.clone(),
        auth: auth.clone(),
    };

    let routes = route_list();
    let context = {
        let app_state = app_state.clone();
        move || provide_context(app_state.clone())
    };
    let shell = {
        let leptos = leptos.clone();
        move || app::shell(leptos.clone())
    };

    let not_found_page =
        leptos_axum::render_app_to_stream_with_context(context.clone(), shell.clone());
    let static_files = ServeDir::new(&config.site_root)
        .precompressed_br()
        .precompressed_gzip()
        .call_fallback_on_method_not_allowed(true)
        .not_found_service(tower::service_fn(move |request| {
            let render = not_found_page.clone();
            async move { Ok::<_, Infallible>(render(request).await) }
        }));

    let sensitive_headers = [AUTHORIZATION, COOKIE, SET_COOKIE];
    let middleware = ServiceBuilder::new()
        .layer(SetSensitiveHeadersLayer::new(sensitive_headers))
        // Browsers must take every response, uploaded lesson files included,
        // as the type it declares and never guess another.
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            http::HeaderValue::from_static("nosniff"),
        ))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(crate::telemetry::request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(CatchPanicLayer::custom(crate::web::panic_response))
        .layer(axum::middleware::from_fn(crate::web::explain_body_limit))
        // Media files are compressed already, and a compressed range
        // response would not match its Content-Range.
        .layer(
            CompressionLayer::new().compress_when(
                DefaultPredicate::new()
                    .and(NotForContentType::const_new("video/"))
                    .and(NotForContentType::const_new("audio/")),
            ),
        )
        .layer(axum::middleware::from_fn_with_state(
            crate::media::RequestLimits {
                body_bytes: config.max_body_bytes as u64,
                upload_bytes: config.media.max_upload_bytes,
                timeout: REQUEST_TIMEOUT,
            },
            crate::media::limit_request,
        ));

    Router::new()
        .route("/healthz", get(crate::web::healthz))
        .route("/readyz", get(crate::web::readyz))
        .route("/prefs", post(crate::web::save_prefs))
        .route("/api/docs", get(crate::web::api_docs))
        .route("/family/export.json", get(crate::web::export_family))
        .route("/calendar/{file}", get(crate::rest::calendar_feed))
        .route("/bookings/{id}/qr.svg", get(crate::web::check_in_qr))
        .route("/sessions/{id}/live", get(crate::web::live_session))
        .route("/admin/places/import", post(crate::web::upload_places))
        .route(
            "/admin/courses/{id}/lessons",
            post(crate::media::upload_lesson_form)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/media/lessons/{id}/{file}", get(crate::media::lesson_file))
        .merge(crate::auth::router(&auth.limits))
        .nest("/api/v1", crate::rest::router(&auth.limits))
        // Registers the pages and every server function under /sfn/.
        .leptos_routes_with_context(&state, routes, context, shell)
        // The signed-in person is looked up for routes only: static files
        // under the fallback need no session, which saves signed-in browsers
        // two queries per asset.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::session::resolve_viewer,
        ))
        .fallback_service(static_files)
        .with_state(state.clone())
        .layer(axum::middleware::map_response(
            crate::web::server_fn_error_status,
        ))
        .layer(axum::middleware::from_fn_with_state(
            auth.limits.sign_in.clone(),
            crate::auth::rate_limit::limit_server_functions,
        ))
        .layer(axum::middleware::from_fn_with_state(
            auth,
            crate::auth::csrf::check_origin,
        ))
        .layer(axum::middleware::from_fn_with_state(
            crate::page_cache::PageCache::default(),
            crate::page_cache::serve_cached_page,
        ))
        .layer(middleware)
}

/// Returns the page routes, listed once per process.
///
/// Listing the routes renders the app with resource loading switched off
/// through a flag that leptos_server keeps for the whole process, so a page
/// whose resource first runs while another thread lists routes waits
/// forever (`IS_SUPPRESSING_RESOURCE_LOAD` in leptos_server 0.8). Listing
/// once, before any router exists, keeps several servers in one process
/// (the tests) from meeting that.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// Logs a warning when the site was built without `cargo leptos build
/// --split`. Its `ningyu.js` then imports a placeholder module that
/// browsers cannot load, so no island hydrates.
fn warn_if_site_is_not_split(site_root: &std::path::Path) {
    let pkg = site_root.join("pkg");
    if pkg.join("ningyu.wasm").exists() && !pkg.join("__wasm_split_manifest.json").exists() {
        tracing::warn!(
            site_root = %site_root.display(),
            "the site was built without `cargo leptos build --split`, so no island will hydrate"
        );
    }
}

/// A bound server, ready to run. Tests build one on port 0.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    limits: Limits,
    dev_portal: Option<(PortalHandle, String)>,
    job_interval: Duration,
    search_refresh: Duration,
}

impl Application {
    /// Prepares the database, binds the configured address and, when
    /// configured, starts the stand-in portal.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        warn_if_site_is_not_split(&config.site_root);
        let app_state = prepare_database(config).await?;
        let listener = TcpListener::bind(config.listen).await.map_err(|error| {
            anyhow::anyhow!("cannot listen on NINGYU_LISTEN {}: {error}", config.listen)
        })?;
        let public_base = config.public_base(listener.local_addr()?);

        let (oidc_config, dev_portal) = match config.auth.dev_portal {
            Some(listen) => {
                let (oidc, handle, issuer) = start_dev_portal(listen, &public_base).await?;
                if config.demo_data {
                    grant_demo_roles(&app_state).await?;
                }
                (Some(oidc), Some((handle, issuer)))
            }
            None => (config.auth.oidc.clone(), None),
        };
        let oidc = oidc_config
            .map(|oidc| {
                OidcClient::new(
                    oidc,
                    config.auth.scopes.clone(),
                    config.auth.claims.clone(),
                    config.auth.leeway,
                    format!("{public_base}/auth/callback"),
                )
            })
            .transpose()?;
        if oidc.is_none() {
            tracing::warn!("no portal is configured: signing in is off");
        }
        let auth = Arc::new(AuthState {
            oidc,
            public_origin: public_base.clone(),
            origin_from_host: config.public_url.is_none(),
            secure_cookies: public_base.starts_with("https://"),
            session_lifetime: config.auth.session_lifetime,
            limits: Limits::new(
                config.auth.sign_in_per_minute,
                config.auth.trusted_proxies.clone(),
                app_state.db.clone(),
            ),
            access_tokens: crate::auth::tokens::AccessTokens::default(),
            app_redirect_uris: config.auth.app_redirect_uris.clone(),
        });
        if !config.auth.trusted_proxies.is_empty() {
            tracing::info!(
                proxies = ?config.auth.trusted_proxies,
                "client addresses are read from the forwarding headers of trusted proxies"
            );
        }
        Ok(Self {
            listener,
            limits: auth.limits.clone(),
            router: router(config, app_state.clone(), auth),
            state: app_state,
            dev_portal,
            job_interval: config.job_interval,
            search_refresh: config.search_refresh,
        })
    }

    /// Returns the stand-in portal's handle and issuer URL, when it runs.
    pub fn dev_portal(&self) -> Option<&(PortalHandle, String)> {
        self.dev_portal.as_ref()
    }

    /// Returns the state the server runs with, for tests and CLI commands.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Returns the address actually bound, with the port the OS chose.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until SIGTERM or Ctrl-C, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        use axum::serve::ListenerExt;

        let housekeeping = tokio::spawn(housekeeping(self.state.db.clone()));
        let booking_jobs = tokio::spawn(booking_jobs(self.state.clone(), self.job_interval));
        let search_refresh = tokio::spawn(search_refresh(self.state.clone(), self.search_refresh));
        let rate_limit_purge = tokio::spawn(rate_limit_purge(self.limits.clone()));

        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        // Without TCP_NODELAY a body sent in several writes (static files)
        // waits for the client's delayed ACK: about 40 ms per response.
        let listener = self.listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::warn!(error = %error, "cannot set TCP_NODELAY");
            }
        });
        axum::serve(listener, service)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        housekeeping.abort();
        booking_jobs.abort();
        search_refresh.abort();
        rate_limit_purge.abort();
        Ok(())
    }
}

/// How often expired sign-in state and sessions are deleted.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(3600);

/// Deletes expired sign-in requests, web sessions, app hand-off codes,
/// refresh tokens, form drafts and unused media files every hour. Deleting
/// what has expired is idempotent, so every server process runs it.
async fn housekeeping(db: sea_orm::DatabaseConnection) {
    let mut interval = tokio::time::interval(HOUSEKEEPING_INTERVAL);
    loop {
        interval.tick().await;
        let now = chrono::Utc::now();
        let web = app::domain::sessions::purge_expired(&db, now).await;
        let app_tokens = app::domain::app_tokens::purge_expired(&db, now).await;
        let drafts = app::domain::form_drafts::purge_expired(&db, now).await;
        match (web, app_tokens, drafts) {
            (Ok(web), Ok(app_tokens), Ok(drafts)) => {
                tracing::debug!(
                    deleted = web + app_tokens + drafts,
                    "expired sign-in state and form drafts deleted"
                );
            }
            (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
                tracing::warn!(error = %error, "housekeeping failed");
            }
        }
        // NOTE: local copies of deleted media files stay on disk until the
        // cache directory is cleared; they are at most the library's size.
        match app::domain::media::remove_unused(&db, now).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "unused media files deleted"),
            Err(error) => tracing::warn!(error = %error, "media housekeeping failed"),
        }
    }
}

/// Deletes ended rate-limit windows once per window length. Every server
/// runs it, and a second delete of the same rows finds nothing.
async fn rate_limit_purge(limits: Limits) {
    let mut ticker = tokio::time::interval(crate::auth::rate_limit::WINDOW);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        limits.purge(chrono::Utc::now()).await;
    }
}

/// Expires waitlist offers, runs fair-release draws, writes reminders,
/// announces new courses and delivers notifications, every `interval`.
/// Each step decides from rows
/// it changes conditionally, so every server process runs them safely.
async fn booking_jobs(state: AppState, interval: Duration) {
    use app::domain::{booking, courses, inbox};

    // The first run comes one interval after start, so a test that runs
    // the jobs itself at chosen instants is not overtaken by the server.
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = chrono::Utc::now();
        let db = &state.db;
        let rules = &state.booking;
        let results = [
            ("offer expiry", booking::expire_offers(db, rules, now).await),
            ("draws", booking::run_due_draws(db, rules, now).await),
            ("reminders", booking::send_reminders(db, now).await),
            (
                "course announcements",
                courses::announce_published(db, now).await,
            ),
            (
                "delivery",
                inbox::deliver_pending(db, &inbox::LogChannel, now).await,
            ),
        ];
        for (job, result) in results {
            match result {
                Ok(0) => {}
                Ok(count) => tracing::info!(job, count, "booking job done"),
                Err(error) => tracing::warn!(job, error = %error, "booking job failed"),
            }
        }
    }
}

/// Refreshes the nearby search snapshot every `interval`. A failure is
/// logged when it starts and then every 60th time while it lasts; searches
/// read the database once the snapshot is too old.
async fn search_refresh(state: AppState, interval: Duration) {
    // The snapshot was loaded at start, so the first refresh waits.
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failures: u64 = 0;
    loop {
        ticker.tick().await;
        match state.search.refresh(&state.db).await {
            Ok(()) if failures > 0 => {
                tracing::info!(failures, "search snapshot refreshed again");
                failures = 0;
            }
            Ok(()) => {}
            Err(error) => {
                failures += 1;
                if failures == 1 || failures.is_multiple_of(60) {
                    tracing::warn!(failures, error = %error, "search snapshot refresh failed");
                }
            }
        }
    }
}

/// Starts the stand-in portal on `listen` with Ningyu registered as its
/// client, and returns the settings to reach it.
async fn start_dev_portal(
    listen: SocketAddr,
    public_base: &str,
) -> anyhow::Result<(OidcConfig, PortalHandle, String)> {
    let client_secret = app::domain::secrets::random_token(32);
    let client = PortalClient {
        client_id: DEV_CLIENT_ID.to_owned(),
        client_secret: client_secret.clone(),
        redirect_uris: vec![format!("{public_base}/auth/callback")],
        post_logout_redirect_uris: vec![format!("{public_base}/")],
    };
    let portal = DevPortal::bind(listen, vec![client])
        .await
        .map_err(|error| {
            anyhow::anyhow!("cannot start the stand-in portal on {listen}: {error}")
        })?;
    let issuer = portal.issuer();
    let handle = portal.handle();
    tracing::warn!(
        portal = %issuer,
        "the stand-in portal is on: anyone can sign in as a demo citizen. \
         Never turn NINGYU_DEV_PORTAL on in production."
    );
    tokio::spawn(async move {
        if let Err(error) = portal.run_until(std::future::pending()).await {
            tracing::error!(error = %error, "the stand-in portal stopped");
        }
    });
    let discovery = Url::parse(&format!("{issuer}/.well-known/openid-configuration"))?;
    let config = OidcConfig {
        issuer: issuer.clone(),
        discovery_url: Some(discovery),
        authorize_url: None,
        token_url: None,
        userinfo_url: None,
        jwks_url: None,
        end_session_url: None,
        client_id: DEV_CLIENT_ID.to_owned(),
        client_secret: client_secret.into(),
    };
    Ok((config, handle, issuer))
}

/// Client id of Ningyu at the stand-in portal.
const DEV_CLIENT_ID: &str = "ningyu-dev";

/// Gives the stand-in portal's demo staff and administrators their roles,
/// so that a newcomer can try every part of Ningyu at once.
async fn grant_demo_roles(state: &AppState) -> anyhow::Result<()> {
    use app::domain::accounts::grant_role;
    use app::model::Role;

    let now = chrono::Utc::now();
    let room = app::domain::demo::first_demo_room(&state.db)
        .await
        .map_err(|error| anyhow::anyhow!("cannot find a demo room: {error}"))?;
    let mut grants = vec![
        ("demo-city-admin", Role::CityAdmin),
        (
            "demo-district-admin",
            Role::DistrictAdmin {
                district_code: app::domain::demo::DEMO_DISTRICT_CODE.to_owned(),
            },
        ),
    ];
    if let Some(place_id) = room {
        grants.push(("demo-staff", Role::RoomStaff { place_id }));
    }
    for (subject, role) in grants {
        grant_role(&state.db, subject, &role, None, now)
            .await
            .map_err(|error| anyhow::anyhow!("cannot grant a demo role: {error}"))?;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(error = %error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received, finishing requests in flight");
}
