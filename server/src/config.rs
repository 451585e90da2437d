//! Configuration, read once at start-up from environment variables.
//!
//! Every variable has a documented default in `.env.example`. A value that
//! does not parse stops start-up with a message naming the variable and
//! what it expects.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

/// Format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, for development.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Ningyu's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `NINGYU_LISTEN`: address and port the HTTP server binds.
    pub listen: SocketAddr,
    /// `NINGYU_DATA_DIR`: folder for the embedded SQLite database.
    pub data_dir: PathBuf,
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`; may hold a password.
    pub database_url: SecretString,
    /// `NINGYU_DB_MAX_CONNECTIONS`: size of the connection pool.
    pub db_max_connections: u32,
    /// `NINGYU_DB_ACQUIRE_TIMEOUT_MS`: how long a request waits for a
    /// database connection before it is answered 503.
    pub db_acquire_timeout: Duration,
    /// `NINGYU_DEMO_DATA`: insert the demo dataset at start-up.
    pub demo_data: bool,
    /// `NINGYU_SITE_ROOT` (or `LEPTOS_SITE_ROOT`): folder of the built site
    /// (`pkg/` with the WASM, JS and CSS, and the copied `public/` files).
    pub site_root: PathBuf,
    /// `NINGYU_MAX_BODY_BYTES`: largest request body accepted.
    pub max_body_bytes: usize,
    /// `NINGYU_LOG`: a tracing filter such as `info` or `ningyu=debug,info`.
    pub log_filter: String,
    /// `NINGYU_LOG_FORMAT`: `text` or `json`.
    pub log_format: LogFormat,
}

/// A configuration value that is missing or does not parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}: expected {expected}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub expected: &'static str,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, which returns a variable's
    /// value or `None` when it is unset. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let listen = parse(
            &get,
            "NINGYU_LISTEN",
            "a socket address such as 127.0.0.1:3000",
        )?
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));
        let data_dir = get("NINGYU_DATA_DIR").map_or_else(|| PathBuf::from("data"), PathBuf::from);
        let database_url = match get("DATABASE_URL") {
            Some(url)
                if url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://") =>
            {
                url
            }
            Some(_) => {
                return Err(ConfigError {
                    variable: "DATABASE_URL",
                    expected: "a URL starting with sqlite:, postgres:// or postgresql://",
                });
            }
            None => format!("sqlite://{}?mode=rwc", data_dir.join("ningyu.db").display()),
        };
        let db_max_connections = parse_in_range(
            &get,
            "NINGYU_DB_MAX_CONNECTIONS",
            "a whole number from 1 to 1000",
            1..=1000,
            10,
        )?;
        let acquire_ms = parse_in_range(
            &get,
            "NINGYU_DB_ACQUIRE_TIMEOUT_MS",
            "milliseconds from 100 to 60000",
            100..=60_000,
            3000,
        )?;
        let demo_data = parse_bool(&get, "NINGYU_DEMO_DATA")?.unwrap_or(false);
        let site_root = get("NINGYU_SITE_ROOT")
            .or_else(|| get("LEPTOS_SITE_ROOT"))
            .map_or_else(|| PathBuf::from("target/site"), PathBuf::from);
        let max_body_bytes = parse_in_range(
            &get,
            "NINGYU_MAX_BODY_BYTES",
            "a size in bytes from 1024 to 104857600",
            1024..=100 * 1024 * 1024,
            1024 * 1024,
        )?;
        let log_filter = get("NINGYU_LOG").unwrap_or_else(|| "info".to_owned());
        let log_format = match get("NINGYU_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => {
                return Err(ConfigError {
                    variable: "NINGYU_LOG_FORMAT",
                    expected: "text or json",
                });
            }
        };

        Ok(Self {
            listen,
            data_dir,
            database_url: SecretString::from(database_url),
            db_max_connections,
            db_acquire_timeout: Duration::from_millis(acquire_ms),
            demo_data,
            site_root,
            max_body_bytes,
            log_filter,
            log_format,
        })
    }

    /// Returns whether the database is the embedded SQLite one.
    pub fn is_sqlite(&self) -> bool {
        use secrecy::ExposeSecret;

        self.database_url.expose_secret().starts_with("sqlite:")
    }
}

/// Parses a variable when it is set; `Ok(None)` when it is unset.
fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    expected: &'static str,
) -> Result<Option<T>, ConfigError> {
    match get(variable) {
        None => Ok(None),
        Some(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ConfigError { variable, expected }),
    }
}

/// Parses a variable that must lie in `range`; `default` when it is unset.
fn parse_in_range<T: std::str::FromStr + PartialOrd>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    expected: &'static str,
    range: std::ops::RangeInclusive<T>,
    default: T,
) -> Result<T, ConfigError> {
    match parse(get, variable, expected)? {
        None => Ok(default),
        Some(value) if range.contains(&value) => Ok(value),
        Some(_) => Err(ConfigError { variable, expected }),
    }
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<bool>, ConfigError> {
    match get(variable)
        .map(|value| value.trim().to_ascii_lowercase())
        .as_deref()
    {
        None => Ok(None),
        Some("1" | "true" | "yes" | "on") => Ok(Some(true)),
        Some("0" | "false" | "no" | "off") => Ok(Some(false)),
        Some(_) => Err(ConfigError {
            variable,
            expected: "true or false",
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn config_from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_use_embedded_sqlite() {
        let config = config_from(&[]).expect("empty environment is valid");
        assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 3000)));
        assert_eq!(
            config.database_url.expose_secret(),
            "sqlite://data/ningyu.db?mode=rwc"
        );
        assert!(config.is_sqlite());
        assert!(!config.demo_data);
        assert_eq!(config.log_format, LogFormat::Text);
    }

    #[test]
    fn invalid_values_name_their_variable() {
        let cases = [
            ("NINGYU_LISTEN", "not an address"),
            ("DATABASE_URL", "mysql://localhost/db"),
            ("NINGYU_DB_MAX_CONNECTIONS", "0"),
            ("NINGYU_DB_MAX_CONNECTIONS", "many"),
            ("NINGYU_DB_ACQUIRE_TIMEOUT_MS", "5"),
            ("NINGYU_DEMO_DATA", "maybe"),
            ("NINGYU_MAX_BODY_BYTES", "-1"),
            ("NINGYU_LOG_FORMAT", "xml"),
        ];
        for (variable, value) in cases {
            let error = config_from(&[(variable, value)]).expect_err(variable);
            assert_eq!(error.variable, variable, "value {value:?}");
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("invalid {variable}: expected"))
            );
        }
    }

    #[test]
    fn database_url_is_not_printed_by_debug() {
        let config =
            config_from(&[("DATABASE_URL", "postgres://user:hunter2@db/ningyu")]).expect("valid");
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!config.is_sqlite());
    }
}
