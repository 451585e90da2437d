//! Configuration, read once at start-up from environment variables.
//!
//! Every variable has a documented default in `.env.example`. A value that
//! does not parse stops start-up with a message naming the variable and
//! what it expects.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use app::map::{DEFAULT_MAX_ZOOM, MapSettings, TileCrs, TileSource};
use secrecy::SecretString;
use url::Url;

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
    /// database connection before it gets 503.
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
    /// `NINGYU_PUBLIC_URL`: the URL at which browsers reach Ningyu, without
    /// a trailing slash; `http://` plus the listen address when unset.
    pub public_url: Option<Url>,
    /// Sign-in settings.
    pub auth: AuthConfig,
    /// `NINGYU_WEEKLY_BOOKINGS_PER_CHILD` (0 for no limit, default 3) and
    /// `NINGYU_OFFER_WINDOWS` (default `72h=12h,24h=4h,6h=1h,0=30m`: how
    /// long a waitlist offer keeps its place, by the time before the
    /// session starts).
    pub booking: app::domain::booking::BookingRules,
    /// `NINGYU_JOB_INTERVAL_SECS`: how often offers expire, draws run and
    /// notifications go out; 1 to 3600, default 15.
    pub job_interval: Duration,
    /// `NINGYU_SEARCH_REFRESH_SECS`: how often the nearby search snapshot
    /// reads the places and sessions changed since its last refresh; 1 to
    /// 3600, default 1.
    pub search_refresh: Duration,
    /// `NINGYU_MAP_*`: the map view's tiles and zoom, with no tiles by default.
    pub map: MapSettings,
    /// Course media: the local copies and the largest upload.
    pub media: app::state::MediaSettings,
}

/// Sign-in settings for citizens.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The portal's OpenID Connect settings; `None` when sign-in is off or
    /// when the stand-in portal provides them at start-up.
    pub oidc: Option<OidcConfig>,
    /// `NINGYU_DEV_PORTAL=on`: address of the stand-in portal
    /// (`NINGYU_DEV_PORTAL_LISTEN`, loopback only).
    pub dev_portal: Option<SocketAddr>,
    /// `NINGYU_SESSION_HOURS`: lifetime of a web session.
    pub session_lifetime: Duration,
    /// `NINGYU_OIDC_LEEWAY_SECS`: allowed clock difference with the portal.
    pub leeway: Duration,
    /// `NINGYU_OIDC_SCOPES`: space-separated scopes to ask for.
    pub scopes: String,
    /// Claim names for the citizen's details.
    pub claims: ClaimNames,
    /// `NINGYU_SIGN_IN_PER_MINUTE`: sign-in requests allowed per client
    /// address per minute.
    pub sign_in_per_minute: std::num::NonZeroU32,
    /// `NINGYU_TRUSTED_PROXIES`: addresses and CIDR networks of the reverse
    /// proxies whose `Forwarded` and `X-Forwarded-For` headers name the
    /// client; empty by default, so those headers are ignored.
    pub trusted_proxies: crate::auth::rate_limit::TrustedProxies,
    /// `NINGYU_APP_REDIRECT_URIS`: comma-separated addresses the mobile
    /// app sign-in may return to.
    pub app_redirect_uris: Vec<String>,
}

/// Names of the ID token or userinfo claims that carry a citizen's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    /// `NINGYU_OIDC_CLAIM_SUBJECT`, default `sub`.
    pub subject: String,
    /// `NINGYU_OIDC_CLAIM_NAME`, default `name`.
    pub name: String,
    /// `NINGYU_OIDC_CLAIM_MOBILE`, default `phone_number`.
    pub mobile: String,
    /// `NINGYU_OIDC_CLAIM_VERIFIED`, default `real_name_verified`.
    pub verified: String,
}

/// The portal's endpoints and Ningyu's client registration with it.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// `NINGYU_OIDC_ISSUER`: the `iss` of its ID tokens.
    pub issuer: String,
    /// `NINGYU_OIDC_DISCOVERY_URL`: fills the endpoints not given below.
    pub discovery_url: Option<Url>,
    /// `NINGYU_OIDC_AUTHORIZE_URL`.
    pub authorize_url: Option<Url>,
    /// `NINGYU_OIDC_TOKEN_URL`.
    pub token_url: Option<Url>,
    /// `NINGYU_OIDC_USERINFO_URL`.
    pub userinfo_url: Option<Url>,
    /// `NINGYU_OIDC_JWKS_URL`.
    pub jwks_url: Option<Url>,
    /// `NINGYU_OIDC_END_SESSION_URL`.
    pub end_session_url: Option<Url>,
    /// `NINGYU_OIDC_CLIENT_ID`.
    pub client_id: String,
    /// `NINGYU_OIDC_CLIENT_SECRET`.
    pub client_secret: SecretString,
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

        let public_url = parse_url(&get, "NINGYU_PUBLIC_URL")?;
        if let Some(url) = &public_url
            && (url.path() != "/" || url.query().is_some())
        {
            return Err(ConfigError {
                variable: "NINGYU_PUBLIC_URL",
                expected: "a URL without a path, such as https://ningyu.example.cn",
            });
        }
        let auth = auth_config(&get)?;
        let booking = booking_rules(&get)?;
        let job_interval_secs = parse_in_range(
            &get,
            "NINGYU_JOB_INTERVAL_SECS",
            "seconds from 1 to 3600",
            1..=3600,
            15,
        )?;
        let search_refresh_secs = parse_in_range(
            &get,
            "NINGYU_SEARCH_REFRESH_SECS",
            "seconds from 1 to 3600",
            1..=3600,
            app::domain::nearby::REFRESH_INTERVAL.as_secs(),
        )?;
        let map = map_settings(&get)?;
        let media = app::state::MediaSettings {
            cache_dir: get("NINGYU_MEDIA_CACHE_DIR")
                .map_or_else(|| data_dir.join("media-cache"), PathBuf::from),
            max_upload_bytes: parse_in_range(
                &get,
                "NINGYU_MEDIA_MAX_BYTES",
                "a size in bytes from 1048576 to 4294967296",
                1024 * 1024..=4 * 1024 * 1024 * 1024,
                512 * 1024 * 1024,
            )?,
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
            public_url,
            auth,
            booking,
            job_interval: Duration::from_secs(job_interval_secs),
            search_refresh: Duration::from_secs(search_refresh_secs),
            map,
            media,
        })
    }

    /// Returns the URL at which browsers reach Ningyu, without a trailing
    /// slash, given the address the server actually bound.
    pub fn public_base(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }

    /// Returns whether the database is the embedded SQLite one.
    pub fn is_sqlite(&self) -> bool {
        use secrecy::ExposeSecret;

        self.database_url.expose_secret().starts_with("sqlite:")
    }
}

fn auth_config(get: &impl Fn(&str) -> Option<String>) -> Result<AuthConfig, ConfigError> {
    let dev_portal_on = parse_bool(get, "NINGYU_DEV_PORTAL")?.unwrap_or(false);
    let dev_portal = if dev_portal_on {
        let listen: SocketAddr = parse(
            get,
            "NINGYU_DEV_PORTAL_LISTEN",
            "a loopback socket address such as 127.0.0.1:3002",
        )?
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3002)));
        if !listen.ip().is_loopback() {
            return Err(ConfigError {
                variable: "NINGYU_DEV_PORTAL_LISTEN",
                expected: "a loopback address: the stand-in portal never serves other machines",
            });
        }
        Some(listen)
    } else {
        None
    };

    let oidc = match get("NINGYU_OIDC_CLIENT_ID") {
        None => None,
        Some(_) if dev_portal.is_some() => {
            return Err(ConfigError {
                variable: "NINGYU_DEV_PORTAL",
                expected: "off when NINGYU_OIDC_CLIENT_ID names a real portal",
            });
        }
        Some(client_id) => {
            let client_secret = get("NINGYU_OIDC_CLIENT_SECRET").ok_or(ConfigError {
                variable: "NINGYU_OIDC_CLIENT_SECRET",
                expected: "the client secret issued by the portal",
            })?;
            let issuer = get("NINGYU_OIDC_ISSUER").ok_or(ConfigError {
                variable: "NINGYU_OIDC_ISSUER",
                expected: "the portal's issuer identifier, the `iss` of its ID tokens",
            })?;
            let config = OidcConfig {
                issuer,
                discovery_url: parse_url(get, "NINGYU_OIDC_DISCOVERY_URL")?,
                authorize_url: parse_url(get, "NINGYU_OIDC_AUTHORIZE_URL")?,
                token_url: parse_url(get, "NINGYU_OIDC_TOKEN_URL")?,
                userinfo_url: parse_url(get, "NINGYU_OIDC_USERINFO_URL")?,
                jwks_url: parse_url(get, "NINGYU_OIDC_JWKS_URL")?,
                end_session_url: parse_url(get, "NINGYU_OIDC_END_SESSION_URL")?,
                client_id,
                client_secret: SecretString::from(client_secret),
            };
            if config.discovery_url.is_none() {
                for (variable, value) in [
                    ("NINGYU_OIDC_AUTHORIZE_URL", &config.authorize_url),
                    ("NINGYU_OIDC_TOKEN_URL", &config.token_url),
                    ("NINGYU_OIDC_JWKS_URL", &config.jwks_url),
                ] {
                    if value.is_none() {
                        return Err(ConfigError {
                            variable,
                            expected: "a URL, required when NINGYU_OIDC_DISCOVERY_URL is unset",
                        });
                    }
                }
            }
            Some(config)
        }
    };

    let session_hours = parse_in_range(
        get,
        "NINGYU_SESSION_HOURS",
        "hours from 1 to 2160",
        1..=2160,
        720,
    )?;
    let leeway_secs = parse_in_range(
        get,
        "NINGYU_OIDC_LEEWAY_SECS",
        "seconds from 0 to 60",
        0..=60,
        30,
    )?;
    let sign_in_per_minute = parse_in_range(
        get,
        "NINGYU_SIGN_IN_PER_MINUTE",
        "a whole number from 1 to 10000",
        1..=10_000,
        30,
    )?;
    let trusted_proxies = crate::auth::rate_limit::TrustedProxies::parse(
        &get("NINGYU_TRUSTED_PROXIES").unwrap_or_default(),
    )
    .map_err(|_| ConfigError {
        variable: "NINGYU_TRUSTED_PROXIES",
        expected: "IP addresses or CIDR networks separated by commas, such as 10.0.0.0/8,::1",
    })?;
    let claim = |variable: &str, default: &str| get(variable).unwrap_or_else(|| default.to_owned());
    Ok(AuthConfig {
        oidc,
        dev_portal,
        session_lifetime: Duration::from_secs(session_hours * 3600),
        app_redirect_uris: get("NINGYU_APP_REDIRECT_URIS")
            .unwrap_or_else(|| "ningyu://auth".to_owned())
            .split(',')
            .map(|uri| uri.trim().to_owned())
            .filter(|uri| !uri.is_empty())
            .collect(),
        sign_in_per_minute: std::num::NonZeroU32::new(sign_in_per_minute)
            .unwrap_or(std::num::NonZeroU32::MIN),
        trusted_proxies,
        leeway: Duration::from_secs(leeway_secs),
        scopes: get("NINGYU_OIDC_SCOPES").unwrap_or_else(|| "openid profile phone".to_owned()),
        claims: ClaimNames {
            subject: claim("NINGYU_OIDC_CLAIM_SUBJECT", "sub"),
            name: claim("NINGYU_OIDC_CLAIM_NAME", "name"),
            mobile: claim("NINGYU_OIDC_CLAIM_MOBILE", "phone_number"),
            verified: claim("NINGYU_OIDC_CLAIM_VERIFIED", "real_name_verified"),
        },
    })
}

/// Reads the map view's settings. Without `NINGYU_MAP_TILE_URL` the map has
/// no tiles, and the other tile variables are not read.
fn map_settings(get: &impl Fn(&str) -> Option<String>) -> Result<MapSettings, ConfigError> {
    let max_zoom = parse_in_range(
        get,
        "NINGYU_MAP_MAX_ZOOM",
        "a zoom level from 1 to 22",
        1..=22,
        DEFAULT_MAX_ZOOM,
    )?;
    let url = match get("NINGYU_MAP_TILE_URL") {
        None => None,
        Some(url) if url.trim().eq_ignore_ascii_case("none") => None,
        Some(url) => Some(url.trim().to_owned()),
    };
    let Some(url) = url else {
        return Ok(MapSettings {
            tiles: None,
            max_zoom,
        });
    };

    const TEMPLATE: &str = "an http://, https:// or /path tile URL template with {z}, {x} and {y}, \
                            and no placeholders besides {s}, {r} and {-y}";
    if !is_tile_template(&url) {
        return Err(ConfigError {
            variable: "NINGYU_MAP_TILE_URL",
            expected: TEMPLATE,
        });
    }
    let labels_url = get("NINGYU_MAP_LABEL_URL").map(|url| url.trim().to_owned());
    if labels_url
        .as_deref()
        .is_some_and(|url| !is_tile_template(url))
    {
        return Err(ConfigError {
            variable: "NINGYU_MAP_LABEL_URL",
            expected: TEMPLATE,
        });
    }
    let subdomains = get("NINGYU_MAP_TILE_SUBDOMAINS").map_or_else(
        || "abc".to_owned(),
        |subdomains| subdomains.trim().to_owned(),
    );
    if !subdomains.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ConfigError {
            variable: "NINGYU_MAP_TILE_SUBDOMAINS",
            expected: "letters or digits, one per subdomain, such as abc or 01234567",
        });
    }
    let attribution = get("NINGYU_MAP_TILE_ATTRIBUTION")
        .map(|text| text.trim().to_owned())
        .filter(|text| text.chars().count() <= 300)
        .ok_or(ConfigError {
            variable: "NINGYU_MAP_TILE_ATTRIBUTION",
            expected: "the tile provider's credit line as plain text of at most 300 characters, \
                       required with NINGYU_MAP_TILE_URL",
        })?;
    let crs = match get("NINGYU_MAP_TILE_CRS") {
        None => TileCrs::Wgs84,
        Some(name) => TileCrs::parse(&name).ok_or(ConfigError {
            variable: "NINGYU_MAP_TILE_CRS",
            expected: "wgs84 (OpenStreetMap, Tianditu) or gcj02 (AMap, Tencent Maps)",
        })?,
    };
    Ok(MapSettings {
        tiles: Some(TileSource {
            url,
            labels_url,
            subdomains,
            attribution,
            crs,
        }),
        max_zoom,
    })
}

/// Returns whether `template` is a Leaflet tile URL template that Ningyu
/// accepts: an absolute http(s) URL or a path on Ningyu's own host, with
/// `{z}`, `{x}` and `{y}`, and only the placeholders that Leaflet fills in
/// without further options.
fn is_tile_template(template: &str) -> bool {
    const PLACEHOLDERS: [&str; 6] = ["{s}", "{z}", "{x}", "{y}", "{-y}", "{r}"];

    if !["{z}", "{x}"]
        .iter()
        .all(|needed| template.contains(needed))
        || !(template.contains("{y}") || template.contains("{-y}"))
    {
        return false;
    }
    // With the known placeholders filled in, no brace may remain.
    let mut filled = template.to_owned();
    for placeholder in PLACEHOLDERS {
        filled = filled.replace(placeholder, "0");
    }
    if filled.contains(['{', '}']) || filled.chars().any(char::is_whitespace) {
        return false;
    }
    if filled.starts_with('/') {
        return !filled.starts_with("//");
    }
    Url::parse(&filled)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

/// Parses an `http://` or `https://` URL when the variable is set.
fn parse_url(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<Url>, ConfigError> {
    let Some(url) = parse::<Url>(get, variable, "an http:// or https:// URL")? else {
        return Ok(None);
    };
    if matches!(url.scheme(), "http" | "https") && url.host().is_some() {
        Ok(Some(url))
    } else {
        Err(ConfigError {
            variable,
            expected: "an http:// or https:// URL",
        })
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
fn booking_rules(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<app::domain::booking::BookingRules, ConfigError> {
    use app::domain::booking::BookingRules;

    let mut rules = BookingRules::default();
    rules.weekly_limit = parse_in_range(
        get,
        "NINGYU_WEEKLY_BOOKINGS_PER_CHILD",
        "a whole number from 0 to 100",
        0..=100,
        rules.weekly_limit,
    )?;
    if let Some(text) = get("NINGYU_OFFER_WINDOWS") {
        rules.offer_windows =
            BookingRules::parse_offer_windows(&text).map_err(|_| ConfigError {
                variable: "NINGYU_OFFER_WINDOWS",
                expected: "LEAD=HOLD pairs such as 72h=12h,24h=4h,6h=1h,0=30m",
            })?;
    }
    Ok(rules)
}

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
            ("NINGYU_PUBLIC_URL", "ftp://example.cn"),
            ("NINGYU_PUBLIC_URL", "https://example.cn/ningyu"),
            ("NINGYU_DEV_PORTAL", "sometimes"),
            ("NINGYU_OIDC_LEEWAY_SECS", "120"),
            ("NINGYU_SESSION_HOURS", "0"),
            ("NINGYU_MAP_MAX_ZOOM", "23"),
            ("NINGYU_MAP_MAX_ZOOM", "0"),
            ("NINGYU_MAP_TILE_URL", "tiles.example.cn/{z}/{x}/{y}.png"),
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
    fn dev_portal_needs_an_explicit_setting_and_loopback() {
        let config = config_from(&[]).expect("valid");
        assert_eq!(config.auth.dev_portal, None);
        assert!(config.auth.oidc.is_none());

        let config = config_from(&[("NINGYU_DEV_PORTAL", "on")]).expect("valid");
        assert_eq!(
            config.auth.dev_portal,
            Some(SocketAddr::from(([127, 0, 0, 1], 3002)))
        );

        let error = config_from(&[
            ("NINGYU_DEV_PORTAL", "on"),
            ("NINGYU_DEV_PORTAL_LISTEN", "0.0.0.0:3002"),
        ])
        .expect_err("public address");
        assert_eq!(error.variable, "NINGYU_DEV_PORTAL_LISTEN");

        let error = config_from(&[
            ("NINGYU_DEV_PORTAL", "on"),
            ("NINGYU_OIDC_CLIENT_ID", "ningyu"),
        ])
        .expect_err("both portals");
        assert_eq!(error.variable, "NINGYU_DEV_PORTAL");
    }

    #[test]
    fn portal_settings_name_what_is_missing() {
        let error = config_from(&[("NINGYU_OIDC_CLIENT_ID", "ningyu")]).expect_err("no secret");
        assert_eq!(error.variable, "NINGYU_OIDC_CLIENT_SECRET");

        let base = [
            ("NINGYU_OIDC_CLIENT_ID", "ningyu"),
            ("NINGYU_OIDC_CLIENT_SECRET", "s3cret-value"),
            ("NINGYU_OIDC_ISSUER", "https://portal.example.cn"),
        ];
        let error = config_from(&base).expect_err("no endpoints");
        assert_eq!(error.variable, "NINGYU_OIDC_AUTHORIZE_URL");

        let mut with_discovery = base.to_vec();
        with_discovery.push((
            "NINGYU_OIDC_DISCOVERY_URL",
            "https://portal.example.cn/.well-known/openid-configuration",
        ));
        let config = config_from(&with_discovery).expect("discovery is enough");
        let oidc = config.auth.oidc.expect("portal configured");
        assert_eq!(oidc.client_id, "ningyu");
        assert!(!format!("{oidc:?}").contains("s3cret-value"));
        assert_eq!(config.auth.leeway, Duration::from_secs(30));
    }

    #[test]
    fn database_url_is_not_printed_by_debug() {
        let config =
            config_from(&[("DATABASE_URL", "postgres://user:hunter2@db/ningyu")]).expect("valid");
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!config.is_sqlite());
    }

    const OSM: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";

    #[test]
    fn map_has_no_tiles_by_default() {
        let config = config_from(&[]).expect("valid");
        assert_eq!(config.map, MapSettings::default());
        assert_eq!(config.map.max_zoom, 18);

        let config = config_from(&[("NINGYU_MAP_TILE_URL", "none")]).expect("valid");
        assert_eq!(config.map.tiles, None);
    }

    #[test]
    fn map_tiles_read_every_setting() {
        let tianditu = "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile\
                        &LAYER=vec&TILEMATRIXSET=w&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY";
        let labels = tianditu.replace("vec", "cva");
        let config = config_from(&[
            ("NINGYU_MAP_TILE_URL", tianditu),
            ("NINGYU_MAP_LABEL_URL", &labels),
            ("NINGYU_MAP_TILE_SUBDOMAINS", "01234567"),
            ("NINGYU_MAP_TILE_ATTRIBUTION", "天地图"),
            ("NINGYU_MAP_TILE_CRS", "CGCS2000"),
            ("NINGYU_MAP_MAX_ZOOM", "17"),
        ])
        .expect("valid");

        let tiles = config.map.tiles.expect("tiles configured");
        assert_eq!(tiles.url, tianditu);
        assert_eq!(tiles.labels_url.as_deref(), Some(labels.as_str()));
        assert_eq!(tiles.subdomains, "01234567");
        assert_eq!(tiles.attribution, "天地图");
        assert_eq!(tiles.crs, TileCrs::Wgs84);
        assert_eq!(config.map.max_zoom, 17);
    }

    #[test]
    fn map_tile_defaults_suit_openstreetmap() {
        let config = config_from(&[
            ("NINGYU_MAP_TILE_URL", OSM),
            (
                "NINGYU_MAP_TILE_ATTRIBUTION",
                "© OpenStreetMap contributors",
            ),
        ])
        .expect("valid");

        let tiles = config.map.tiles.expect("tiles configured");
        assert_eq!(tiles.subdomains, "abc");
        assert_eq!(tiles.labels_url, None);
        assert_eq!(tiles.crs, TileCrs::Wgs84);
    }

    #[test]
    fn gcj02_tiles_are_accepted_and_bd09_is_not() {
        let base = [
            ("NINGYU_MAP_TILE_URL", OSM),
            ("NINGYU_MAP_TILE_ATTRIBUTION", "Example"),
        ];

        let mut gcj02 = base.to_vec();
        gcj02.push(("NINGYU_MAP_TILE_CRS", "gcj-02"));
        let tiles = config_from(&gcj02).expect("valid").map.tiles;
        assert_eq!(tiles.map(|tiles| tiles.crs), Some(TileCrs::Gcj02));

        let mut bd09 = base.to_vec();
        bd09.push(("NINGYU_MAP_TILE_CRS", "bd09"));
        let error = config_from(&bd09).expect_err("BD-09 tiles");
        assert_eq!(error.variable, "NINGYU_MAP_TILE_CRS");
    }

    #[test]
    fn map_tiles_need_an_attribution() {
        let error = config_from(&[("NINGYU_MAP_TILE_URL", OSM)]).expect_err("no attribution");
        assert_eq!(error.variable, "NINGYU_MAP_TILE_ATTRIBUTION");

        let long = "x".repeat(301);
        let error = config_from(&[
            ("NINGYU_MAP_TILE_URL", OSM),
            ("NINGYU_MAP_TILE_ATTRIBUTION", &long),
        ])
        .expect_err("long attribution");
        assert_eq!(error.variable, "NINGYU_MAP_TILE_ATTRIBUTION");
    }

    #[test]
    fn tile_templates_are_checked() {
        let cases = [
            (OSM, true),
            ("http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png", true),
            ("/tiles/{z}/{x}/{y}{r}.png", true),
            ("https://{s}.tiles.example.cn/{z}/{x}/{-y}.png", true),
            ("https://tiles.example.cn/{z}/{x}.png", false),
            (
                "https://tiles.example.cn/{z}/{x}/{y}.png?style={style}",
                false,
            ),
            ("//tiles.example.cn/{z}/{x}/{y}.png", false),
            ("ftp://tiles.example.cn/{z}/{x}/{y}.png", false),
            ("javascript:alert(1)//{z}{x}{y}", false),
            ("https://tiles.example.cn/{z}/{x}/{y}.png extra", false),
        ];
        for (template, expected) in cases {
            assert_eq!(is_tile_template(template), expected, "{template}");
        }
    }

    #[test]
    fn invalid_map_settings_name_their_variable() {
        let cases = [
            ("NINGYU_MAP_LABEL_URL", "https://labels.example.cn/{z}.png"),
            ("NINGYU_MAP_TILE_SUBDOMAINS", "a,b,c"),
            ("NINGYU_MAP_TILE_CRS", "epsg:3857"),
        ];
        for (variable, value) in cases {
            let error = config_from(&[
                ("NINGYU_MAP_TILE_URL", OSM),
                ("NINGYU_MAP_TILE_ATTRIBUTION", "Example"),
                (variable, value),
            ])
            .expect_err(variable);
            assert_eq!(error.variable, variable, "value {value:?}");
        }
    }
}
