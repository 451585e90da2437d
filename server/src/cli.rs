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
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import places from a CSV file with a header row. Columns: kind (or
    /// category), name, longitude and latitude (or lng/lat, optionally with
    /// a _gcj02, _wgs84 or _bd09 suffix), and optional address, district and
    /// phone.
    Places {
        /// The CSV file.
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
