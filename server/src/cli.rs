//! Command-line interface of the `ningyu` binary.

use clap::{Parser, Subcommand};

/// Ningyu (宁育): childcare services for Nanjing families with children under three.
///
/// Configuration comes from environment variables; see `.env.example`.
#[derive(Debug, Parser)]
#[command(name = "ningyu", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Import places, districts or streets from files.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage accounts and roles.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Run only the stand-in city portal, for development: an OpenID
    /// Connect provider with demo citizens, on loopback.
    DevPortal {
        /// Loopback address to listen on.
        #[arg(long, default_value = "127.0.0.1:3002")]
        listen: std::net::SocketAddr,
        /// Client id to register.
        #[arg(long, default_value = "ningyu-dev")]
        client_id: String,
        /// Client secret to register.
        #[arg(long, env = "NINGYU_DEV_PORTAL_CLIENT_SECRET")]
        client_secret: String,
        /// Redirect URI to register, for example http://127.0.0.1:3000/auth/callback.
        #[arg(long)]
        redirect_uri: String,
        /// Address to return to after signing out.
        #[arg(long)]
        post_logout_redirect_uri: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Grant a role to the account with a portal subject. The account is
    /// created when the citizen has not signed in yet, so this also makes
    /// the first city administrator.
    Grant {
        /// The citizen's subject at the portal (the `sub` claim).
        #[arg(long)]
        subject: String,
        /// city-admin, district-admin or room-staff.
        #[arg(long)]
        role: String,
        /// Six-digit district code, for district-admin.
        #[arg(long)]
        district: Option<String>,
        /// Place id of the room, for room-staff.
        #[arg(long)]
        place: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import places from a CSV file with a header row. Columns: kind (or
    /// category), name, longitude and latitude (or lng/lat, optionally with
    /// a _gcj02, _wgs84 or _bd09 suffix), and optional address, district and
    /// phone.
    Places {
        /// The CSV file, or a GeoJSON FeatureCollection of points when the
        /// name ends in .geojson or .json.
        file: std::path::PathBuf,
        /// Reference system of the coordinates: wgs84, gcj02 or bd09.
        #[arg(long)]
        crs: String,
        /// Short name of the data source, part of each row's import key;
        /// importing the same source again updates its rows.
        #[arg(long, default_value = "import")]
        source: String,
        /// Check and count everything, then roll back.
        #[arg(long)]
        dry_run: bool,
    },
    /// Import the Nanjing reference data folder: districts.csv, streets.csv
    /// and places-amap2018-gcj02.csv, all in GCJ-02.
    Nanjing {
        /// The folder that contains the three files.
        folder: std::path::PathBuf,
        /// Check and count everything, then roll back.
        #[arg(long)]
        dry_run: bool,
    },
}
