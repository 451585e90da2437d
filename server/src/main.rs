use std::process::ExitCode;

use clap::Parser;
use secrecy::ExposeSecret;
use server::cli::{Cli, Command};
use server::config::Config;
use server::startup::Application;

// Rendering a page allocates many small strings from several threads at
// once. mimalloc's per-thread heaps serve that faster than glibc's
// allocator here: +27 % on a page without data (docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    // mimalloc requests transparent huge pages, and a fresh server growing
    // its heaps under a booking rush then spent a fifth of its time zeroing
    // 2 MiB pages on first touch: p99 went from about 400 ms to about 60 ms
    // without them (docs/BENCHMARKS.md). The setting holds for every later
    // page fault of the process, so it works after the runtime has started.
    #[cfg(target_os = "linux")]
    if let Err(error) = nix::sys::prctl::set_thp_disable(true) {
        eprintln!("transparent huge pages stay on: {error}");
    }
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("ningyu: {error}");
            return ExitCode::from(2);
        }
    };
    if let Err(error) = server::telemetry::init(&config.log_filter, config.log_format) {
        eprintln!("ningyu: {error}");
        return ExitCode::from(2);
    }

    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&config).await,
        Command::Migrate => migrate(&config).await,
        Command::Import(command) => server::import::run(&config, command).await,
        Command::Admin(command) => server::admin::run(&config, command).await,
        Command::DevPortal {
            listen,
            client_id,
            client_secret,
            redirect_uri,
            post_logout_redirect_uri,
        } => {
            let client = server::dev_portal::PortalClient {
                client_id,
                client_secret,
                redirect_uris: vec![redirect_uri],
                post_logout_redirect_uris: post_logout_redirect_uri.into_iter().collect(),
            };
            dev_portal(listen, client).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error, "ningyu stopped with an error");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let application = Application::build(config).await?;
    let address = application.local_addr()?;
    tracing::info!(
        %address,
        database = database_kind(config),
        demo_data = config.demo_data,
        "ningyu started, serving http://{address}/"
    );
    application.run_until_stopped().await?;
    tracing::info!("ningyu stopped");
    Ok(())
}

async fn dev_portal(
    listen: std::net::SocketAddr,
    client: server::dev_portal::PortalClient,
) -> anyhow::Result<()> {
    if !listen.ip().is_loopback() {
        anyhow::bail!("the stand-in portal listens on loopback addresses only, not {listen}");
    }
    let portal = server::dev_portal::DevPortal::bind(listen, vec![client]).await?;
    tracing::warn!(
        issuer = %portal.issuer(),
        "stand-in portal started; it is for development only"
    );
    portal
        .run_until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    if config.is_sqlite() {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let settings = app::db::PoolSettings {
        max_connections: 1,
        acquire_timeout: config.db_acquire_timeout,
    };
    let db = app::db::connect(config.database_url.expose_secret(), &settings).await?;
    app::db::migrate(&db).await?;
    tracing::info!(database = database_kind(config), "migrations applied");
    Ok(())
}

fn database_kind(config: &Config) -> &'static str {
    if config.is_sqlite() {
        "sqlite"
    } else {
        "postgres"
    }
}
