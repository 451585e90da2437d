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
}
