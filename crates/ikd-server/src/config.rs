//! Server configuration: a TOML file, then `IKD_*` environment variables, then
//! command-line flags, each overriding the one before (see `docs/server.md`).

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything `ikd serve` needs to run.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port (printed at start).
    pub addr: SocketAddr,
    /// Address of the respondent web app (invitation links); port 0 picks a
    /// free port; `None` (`IKD_WEB_ADDR=off`) serves no web app.
    pub web_addr: Option<SocketAddr>,
    /// Address of the Prometheus metrics listener (`GET /metrics`, no token:
    /// bind it to an internal address); port 0 picks a free port; `None`
    /// (`IKD_METRICS_ADDR=off`) serves no metrics and records none.
    pub metrics_addr: Option<SocketAddr>,
    /// Browser origins (`https://portal.example.go.id`) allowed to call the
    /// API through gRPC-Web; none by default (`IKD_CORS_ORIGINS`, comma-separated).
    pub cors_origins: Vec<String>,
    /// `sqlite://FILE` or `postgres://…`; default: `ikd.sqlite3` in `data_dir`.
    pub database_url: Option<String>,
    /// Where the default database, the pseudonym key and the first-run admin
    /// token hash live.
    pub data_dir: PathBuf,
    /// Instrument files, or directories holding `<id>/instrument.toml`.
    pub instruments: Vec<PathBuf>,
    /// Extra plugin directories, searched before the bundled plugins.
    pub plugin_dirs: Vec<PathBuf>,
    /// Secret for respondent pseudonyms (HMAC-SHA256 key), read from this file.
    /// Default: `pseudonym.key` in `data_dir`, created on first start. Servers
    /// sharing a database must share this secret.
    pub pseudonym_key_file: Option<PathBuf>,
    /// Bearer tokens (also `IKD_TOKENS`, a JSON array of the same objects).
    pub tokens: Vec<TokenConfig>,
    pub tls: Option<TlsConfig>,
    /// Aggregates of fewer results than this are suppressed.
    pub min_group_size: u32,
    pub limits: Limits,
}

/// One bearer token. Give `sha256` (hex of the token's SHA-256) rather than
/// the token itself, so that the config file holds no secret.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds the token (for logs).
    pub name: String,
    /// `service`, `analyst` (aggregates and organisation reports only),
    /// `steward` (per-person exports and results, audited), `admin`.
    pub roles: Vec<String>,
    /// Organisation units the token may act on; empty: all.
    #[serde(default)]
    pub org_prefix: String,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    /// Unix seconds after which the token is refused.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// Limits that keep one client from taking the server down.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request message accepted, in bytes.
    pub max_request_bytes: usize,
    /// Requests handled at once over all connections; more are refused with
    /// `RESOURCE_EXHAUSTED` at once rather than queued.
    pub max_concurrent_requests: usize,
    /// Requests handled at once on one connection, advertised as HTTP/2
    /// `max_concurrent_streams`: clients queue beyond it instead of failing.
    pub max_concurrent_per_connection: usize,
    /// Connections open at once; at the cap the server stops accepting until
    /// one closes. Lowered to fit the process's descriptor limit.
    pub max_connections: usize,
    /// A connection that makes no request within this many seconds is closed.
    pub handshake_timeout_seconds: u64,
    /// A connection with no request in flight for this many seconds is closed.
    pub idle_timeout_seconds: u64,
    /// A unary request's message must arrive within this many seconds of its headers.
    pub request_body_timeout_seconds: u64,
    /// HTTP/2 PING interval in seconds; a peer that does not answer within
    /// the same time is disconnected. 0: no pings.
    pub http2_keepalive_seconds: u64,
    /// TCP keep-alive probes after this many idle seconds. 0: off.
    pub tcp_keepalive_seconds: u64,
    /// Deadline of a unary request, in seconds.
    pub request_timeout_seconds: u64,
    /// ScoreStream: requests read ahead and scored as one batch.
    pub stream_batch: usize,
    /// On shutdown, in-flight requests get this long before the process exits.
    pub shutdown_grace_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 1 << 20,
            max_concurrent_requests: 1024,
            max_concurrent_per_connection: 256,
            max_connections: 4096,
            handshake_timeout_seconds: 10,
            idle_timeout_seconds: 300,
            request_body_timeout_seconds: 10,
            http2_keepalive_seconds: 60,
            tcp_keepalive_seconds: 60,
            request_timeout_seconds: 30,
            stream_batch: 512,
            shutdown_grace_seconds: 10,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            web_addr: Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
            metrics_addr: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
            cors_origins: Vec::new(),
            database_url: None,
            data_dir: PathBuf::from("ikd-data"),
            instruments: Vec::new(),
            plugin_dirs: Vec::new(),
            pseudonym_key_file: None,
            tokens: Vec::new(),
            tls: None,
            min_group_size: 5,
            limits: Limits::default(),
        }
    }
}

/// A configuration that cannot be used, naming the file, variable or field.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl ServerConfig {
    /// The defaults, overridden by `file` when given, then by `IKD_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None => ServerConfig::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let fail = |message: String| ConfigError::File {
            path: path.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let mut config: ServerConfig = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
        // Relative paths in a config file are relative to the file.
        let base = path.parent().unwrap_or(Path::new("."));
        let rebase = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        rebase(&mut config.data_dir);
        config.instruments.iter_mut().for_each(rebase);
        config.plugin_dirs.iter_mut().for_each(rebase);
        if let Some(p) = config.pseudonym_key_file.as_mut() {
            rebase(p);
        }
        if let Some(tls) = config.tls.as_mut() {
            rebase(&mut tls.cert);
            rebase(&mut tls.key);
        }
        Ok(config)
    }

    /// Applies `IKD_*` variables read through `var` (a parameter so tests need
    /// not touch the process environment).
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            value.parse().map_err(|e: T::Err| ConfigError::Env {
                name: name.to_owned(),
                message: format!("'{value}': {e}"),
            })
        }
        let paths = |value: &str| std::env::split_paths(value).collect::<Vec<_>>();
        if let Some(v) = var("IKD_ADDR") {
            self.addr = parse("IKD_ADDR", &v)?;
        }
        if let Some(v) = var("IKD_WEB_ADDR") {
            self.web_addr = match v.as_str() {
                "off" => None,
                _ => Some(parse("IKD_WEB_ADDR", &v)?),
            };
        }
        if let Some(v) = var("IKD_METRICS_ADDR") {
            self.metrics_addr = match v.as_str() {
                "off" => None,
                _ => Some(parse("IKD_METRICS_ADDR", &v)?),
            };
        }
        if let Some(v) = var("IKD_CORS_ORIGINS") {
            self.cors_origins = v
                .split(',')
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect();
        }
        if let Some(v) = var("IKD_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = var("IKD_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = var("IKD_INSTRUMENTS") {
            self.instruments = paths(&v);
        }
        if let Some(v) = var("IKD_PLUGIN_PATH") {
            self.plugin_dirs.extend(paths(&v));
        }
        if let Some(v) = var("IKD_PSEUDONYM_KEY_FILE") {
            self.pseudonym_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = var("IKD_TOKENS") {
            let tokens: Vec<TokenConfig> =
                serde_json::from_str(&v).map_err(|e| ConfigError::Env {
                    name: "IKD_TOKENS".into(),
                    message: format!("not a JSON array of tokens: {e}"),
                })?;
            self.tokens.extend(tokens);
        }
        if let (Some(cert), Some(key)) = (var("IKD_TLS_CERT"), var("IKD_TLS_KEY")) {
            self.tls = Some(TlsConfig {
                cert: cert.into(),
                key: key.into(),
            });
        }
        if let Some(v) = var("IKD_MIN_GROUP_SIZE") {
            self.min_group_size = parse("IKD_MIN_GROUP_SIZE", &v)?;
        }
        let limits = &mut self.limits;
        for (name, slot) in [
            ("IKD_MAX_REQUEST_BYTES", &mut limits.max_request_bytes),
            (
                "IKD_MAX_CONCURRENT_REQUESTS",
                &mut limits.max_concurrent_requests,
            ),
            (
                "IKD_MAX_CONCURRENT_PER_CONNECTION",
                &mut limits.max_concurrent_per_connection,
            ),
            ("IKD_STREAM_BATCH", &mut limits.stream_batch),
            ("IKD_MAX_CONNECTIONS", &mut limits.max_connections),
        ] {
            if let Some(v) = var(name) {
                *slot = parse(name, &v)?;
            }
        }
        for (name, slot) in [
            (
                "IKD_REQUEST_TIMEOUT_SECONDS",
                &mut limits.request_timeout_seconds,
            ),
            (
                "IKD_SHUTDOWN_GRACE_SECONDS",
                &mut limits.shutdown_grace_seconds,
            ),
            (
                "IKD_HANDSHAKE_TIMEOUT_SECONDS",
                &mut limits.handshake_timeout_seconds,
            ),
            ("IKD_IDLE_TIMEOUT_SECONDS", &mut limits.idle_timeout_seconds),
            (
                "IKD_REQUEST_BODY_TIMEOUT_SECONDS",
                &mut limits.request_body_timeout_seconds,
            ),
            (
                "IKD_HTTP2_KEEPALIVE_SECONDS",
                &mut limits.http2_keepalive_seconds,
            ),
            (
                "IKD_TCP_KEEPALIVE_SECONDS",
                &mut limits.tcp_keepalive_seconds,
            ),
        ] {
            if let Some(v) = var(name) {
                *slot = parse(name, &v)?;
            }
        }
        Ok(())
    }

    /// The database URL, defaulting to an SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("ikd.sqlite3").display()),
        }
    }

    /// Checks what serde cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.min_group_size == 0 {
            return Err(ConfigError::Invalid(
                "min_group_size must be at least 1".into(),
            ));
        }
        let l = &self.limits;
        for (name, value) in [
            ("limits.max_request_bytes", l.max_request_bytes),
            ("limits.max_concurrent_requests", l.max_concurrent_requests),
            (
                "limits.max_concurrent_per_connection",
                l.max_concurrent_per_connection,
            ),
            ("limits.stream_batch", l.stream_batch),
            ("limits.max_connections", l.max_connections),
            (
                "limits.handshake_timeout_seconds",
                l.handshake_timeout_seconds as usize,
            ),
            (
                "limits.idle_timeout_seconds",
                l.idle_timeout_seconds as usize,
            ),
            (
                "limits.request_body_timeout_seconds",
                l.request_body_timeout_seconds as usize,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        for origin in &self.cors_origins {
            let scheme = origin.starts_with("http://") || origin.starts_with("https://");
            if !scheme || http::HeaderValue::from_str(origin).is_err() {
                return Err(ConfigError::Invalid(format!(
                    "cors_origins: '{origin}' is not an origin like https://portal.example.go.id"
                )));
            }
        }
        if self.instruments.is_empty() {
            return Err(ConfigError::Invalid(
                "no instruments configured (instruments = [...] or IKD_INSTRUMENTS)".into(),
            ));
        }
        Ok(())
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.limits.request_timeout_seconds.max(1))
    }

    /// Seconds as an optional duration, 0 meaning off.
    pub fn seconds_or_off(seconds: u64) -> Option<Duration> {
        (seconds > 0).then(|| Duration::from_secs(seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_the_file_and_names_bad_values() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(
            &file,
            "addr = \"127.0.0.1:6000\"\ndata_dir = \"data\"\nmin_group_size = 7\n\
             [[tokens]]\nname = \"portal\"\nroles = [\"service\"]\norg_prefix = \"36.72\"\nsha256 = \"ab\"\n",
        )
        .unwrap();
        let mut config = ServerConfig::from_file(&file).unwrap();
        assert_eq!(config.data_dir, dir.path().join("data"));
        assert_eq!(config.min_group_size, 7);
        config
            .apply_env(|name| (name == "IKD_ADDR").then(|| "0.0.0.0:7000".to_owned()))
            .unwrap();
        assert_eq!(config.addr.port(), 7000);
        let err = config
            .apply_env(|name| (name == "IKD_MIN_GROUP_SIZE").then(|| "many".to_owned()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("IKD_MIN_GROUP_SIZE") && err.contains("many"),
            "{err}"
        );
    }

    #[test]
    fn the_metrics_address_is_set_or_off_like_the_web_address() {
        let mut config = ServerConfig::default();
        assert_eq!(
            config.metrics_addr,
            Some(SocketAddr::from(([127, 0, 0, 1], 9464)))
        );
        config
            .apply_env(|name| (name == "IKD_METRICS_ADDR").then(|| "10.0.0.5:9100".to_owned()))
            .unwrap();
        assert_eq!(config.metrics_addr.unwrap().port(), 9100);
        config
            .apply_env(|name| (name == "IKD_METRICS_ADDR").then(|| "off".to_owned()))
            .unwrap();
        assert_eq!(config.metrics_addr, None);
        let err = config
            .apply_env(|name| (name == "IKD_METRICS_ADDR").then(|| "nine".to_owned()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("IKD_METRICS_ADDR") && err.contains("nine"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(&file, "metrics_addr = \"127.0.0.1:9999\"\n").unwrap();
        let from_file = ServerConfig::from_file(&file).unwrap();
        assert_eq!(from_file.metrics_addr.unwrap().port(), 9999);
    }

    #[test]
    fn a_malformed_cors_origin_is_refused_by_name() {
        let mut config = ServerConfig {
            instruments: vec![PathBuf::from("i.toml")],
            ..ServerConfig::default()
        };
        config
            .apply_env(|name| {
                (name == "IKD_CORS_ORIGINS")
                    .then(|| "https://portal.example.go.id, portal.example".to_owned())
            })
            .unwrap();
        let err = config.check().unwrap_err().to_string();
        assert!(err.contains("'portal.example'"), "{err}");
        config.cors_origins.pop();
        assert!(config.check().is_ok());
    }

    #[test]
    fn unknown_fields_are_refused_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(&file, "adress = \"127.0.0.1:1\"\n").unwrap();
        let err = ServerConfig::from_file(&file).unwrap_err().to_string();
        assert!(
            err.contains("server.toml") && err.contains("adress"),
            "{err}"
        );
    }
}
