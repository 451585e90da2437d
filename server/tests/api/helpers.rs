//! The test harness: `TestApp::spawn` starts the real server on port 0
//! against a fresh database and hands back an HTTP client for it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use server::config::Config;
use server::dev_portal::PortalHandle;
use server::startup::Application;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one test per backend from an async function taking a `Backend`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await;
            }
        }
    };
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    /// The server's database pool, for tests that call domain functions.
    pub db: sea_orm::DatabaseConnection,
    /// The server's nearby search snapshot.
    pub search: app::domain::nearby::SearchIndex,
    /// The proxy between the server and PostgreSQL, to simulate outages.
    pub db_proxy: Option<DbProxy>,
    /// The stand-in portal's handle and issuer, when it runs.
    pub portal: Option<(PortalHandle, String)>,
    /// The configuration the server started with.
    vars: HashMap<String, String>,
    _data_dir: Option<TempDir>,
    server: JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    /// Starts the server with the demo data on a fresh database.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// Starts the server with the stand-in portal on a free port.
    pub async fn spawn_with_portal(backend: Backend) -> Self {
        Self::spawn_with(
            backend,
            &[
                ("NINGYU_DEV_PORTAL", "on"),
                ("NINGYU_DEV_PORTAL_LISTEN", "127.0.0.1:0"),
            ],
        )
        .await
    }

    /// Starts the server with extra configuration variables.
    pub async fn spawn_with(backend: Backend, extra: &[(&str, &str)]) -> Self {
        let mut vars: HashMap<String, String> = HashMap::new();
        vars.insert("NINGYU_SIGN_IN_PER_MINUTE".into(), "10000".into());
        vars.insert("NINGYU_LISTEN".into(), "127.0.0.1:0".into());
        vars.insert("NINGYU_DEMO_DATA".into(), "true".into());
        vars.insert("NINGYU_DB_ACQUIRE_TIMEOUT_MS".into(), "5000".into());
        vars.insert("NINGYU_MAX_BODY_BYTES".into(), "65536".into());
        // Tests run the booking jobs themselves at chosen instants, so the
        // server's own runs must not come during a test.
        vars.insert("NINGYU_JOB_INTERVAL_SECS".into(), "3600".into());
        // Tests refresh the search snapshot themselves, so that a search
        // sees exactly the writes made before the refresh.
        vars.insert("NINGYU_SEARCH_REFRESH_SECS".into(), "3600".into());
        vars.insert("NINGYU_SITE_ROOT".into(), site_root().display().to_string());

        // A fresh data folder for either database: SQLite's file, and files
        // such as copies of lesson media, never land in the checkout.
        let data_dir = TempDir::new();
        vars.insert(
            "NINGYU_DATA_DIR".into(),
            data_dir.path.display().to_string(),
        );
        let mut db_proxy = None;
        if backend == Backend::Postgres {
            let (url, proxy) = fresh_postgres_database().await;
            vars.insert("DATABASE_URL".into(), url);
            db_proxy = Some(proxy);
        }

        for (name, value) in extra {
            vars.insert((*name).to_owned(), (*value).to_owned());
        }
        Self::start(vars, Some(data_dir), db_proxy).await
    }

    /// Starts a second server process on this one's database, as a
    /// deployment with several servers behind a load balancer runs.
    pub async fn spawn_beside(&self) -> Self {
        let mut vars = self.vars.clone();
        vars.insert("DATABASE_URL".into(), self.database_url());
        vars.remove("NINGYU_DEV_PORTAL");
        // Its own disk, as another machine has: only the database is shared.
        let cache = TempDir::new();
        vars.insert(
            "NINGYU_MEDIA_CACHE_DIR".into(),
            cache.path.display().to_string(),
        );
        Self::start(vars, Some(cache), None).await
    }

    /// Returns the server's data folder.
    pub fn data_dir(&self) -> PathBuf {
        PathBuf::from(self.vars.get("NINGYU_DATA_DIR").expect("a data folder"))
    }

    /// Returns the folder of the server's copies of lesson files.
    pub fn media_cache_dir(&self) -> PathBuf {
        self.vars
            .get("NINGYU_MEDIA_CACHE_DIR")
            .map_or_else(|| self.data_dir().join("media-cache"), PathBuf::from)
    }

    /// Returns the database URL this server uses.
    pub fn database_url(&self) -> String {
        match self.vars.get("DATABASE_URL") {
            Some(url) => url.clone(),
            None => {
                let dir = self.vars.get("NINGYU_DATA_DIR").expect("a data folder");
                format!("sqlite://{dir}/ningyu.db?mode=rwc")
            }
        }
    }

    async fn start(
        vars: HashMap<String, String>,
        data_dir: Option<TempDir>,
        db_proxy: Option<DbProxy>,
    ) -> Self {
        let config = Config::from_lookup(|name| vars.get(name).cloned())
            .expect("test configuration is valid");
        let application = Application::build(&config).await.expect("server starts");
        let address = application.local_addr().expect("bound address");
        let db = application.state().db.clone();
        let search = application.state().search.clone();
        let portal = application.dev_portal().cloned();
        let server = tokio::spawn(async move {
            application.run_until_stopped().await.expect("server runs");
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        Self {
            address,
            client,
            db,
            search,
            db_proxy,
            portal,
            vars,
            _data_dir: data_dir,
            server,
        }
    }

    /// Reloads the nearby search snapshot, so that searches see the rows a
    /// test wrote directly, whatever their `updated_at`.
    pub async fn reload_search(&self) {
        self.search
            .reload(&self.db)
            .await
            .expect("search snapshot reloads");
    }

    /// Returns the absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request is sent")
    }

    pub async fn get_with(&self, path: &str, header: (&str, &str)) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header(header.0, header.1)
            .send()
            .await
            .expect("request is sent")
    }
}

/// Returns the folder of the built site (`cargo leptos build`). Pages render
/// without it; static-file tests need it.
pub fn site_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/site")
}

/// A folder removed when dropped.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new() -> Self {
        let path =
            std::env::temp_dir().join(format!("ningyu-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("temporary folder");
        Self { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Creates an empty database on the test PostgreSQL server and returns a URL
/// for it that goes through a [`DbProxy`].
///
/// The server comes from `NINGYU_TEST_POSTGRES_URL` (a URL to its
/// maintenance database). Without it the test fails rather than skip, so
/// that a run without PostgreSQL can never pass as a full run.
async fn fresh_postgres_database() -> (String, DbProxy) {
    use sea_orm::{ConnectionTrait, Database};

    let admin_url = std::env::var("NINGYU_TEST_POSTGRES_URL").expect(
        "NINGYU_TEST_POSTGRES_URL must point to a PostgreSQL server for the postgres tests; \
         the README's test command starts one",
    );
    let name = format!("ningyu_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(admin_url.as_str())
        .await
        .expect("PostgreSQL is reachable");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("test database is created");
    admin.close().await.ok();

    let target = postgres_host_port(&admin_url);
    let proxy = DbProxy::start(target.clone()).await;
    let (prefix, _) = admin_url.rsplit_once('/').expect("URL has a database name");
    let prefix = prefix.replace(&target, &proxy.address.to_string());
    (format!("{prefix}/{name}"), proxy)
}

/// Returns `host:port` of a `postgres://user:password@host:port/db` URL.
fn postgres_host_port(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let after_credentials = after_scheme
        .rsplit_once('@')
        .map_or(after_scheme, |(_, rest)| rest);
    let host_port = after_credentials
        .split('/')
        .next()
        .unwrap_or(after_credentials);
    if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    }
}

/// A TCP proxy in front of PostgreSQL that a test can cut and restore, to
/// check how the server behaves while the database is unreachable.
pub struct DbProxy {
    pub address: SocketAddr,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept_loop: JoinHandle<()>,
}

impl DbProxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let address = listener.local_addr().expect("proxy address");
        let open = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept_loop = {
            let open = open.clone();
            let connections = connections.clone();
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !open.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    let target = target.clone();
                    let task = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&target).await {
                            let _ = inbound.set_nodelay(true);
                            let _ = outbound.set_nodelay(true);
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    connections.lock().await.push(task);
                }
            })
        };
        Self {
            address,
            open,
            connections,
            accept_loop,
        }
    }

    /// Drops every open connection and refuses new ones.
    pub async fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for task in self.connections.lock().await.drain(..) {
            task.abort();
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for DbProxy {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}
