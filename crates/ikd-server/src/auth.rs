//! Bearer tokens with roles and an organisation-unit scope.
//!
//! Tokens are kept as SHA-256 hashes only, so neither the config file nor the
//! server's memory needs the secret itself; a presented token is hashed and
//! looked up. Health and reflection are served without a token. Every other
//! request is authenticated by the request gate (`transport::gate`) before it
//! takes a slot, and each RPC then calls [`Authenticator::authorize`] for the
//! roles it needs.

use crate::config::TokenConfig;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use tonic::Status;
use tonic::metadata::MetadataMap;

/// What a token may do. `Admin` may do everything. Figures about groups and
/// data about persons are separate roles: a dashboard or a head of office
/// reads suppressed aggregates (`analyst`) and never a person's row, which
/// only a data steward may export (audited).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Score, start/save/submit sessions, read their results.
    Service,
    /// Aggregate reader: suppressed aggregates and organisation reports only.
    Analyst,
    /// Data steward: per-person pseudonymous exports (audited), individual
    /// results and personal reports.
    Steward,
    /// Plugins, models, rescoring; and everything else.
    Admin,
}

impl Role {
    fn parse(name: &str) -> Option<Role> {
        match name {
            "service" => Some(Role::Service),
            "analyst" => Some(Role::Analyst),
            "steward" => Some(Role::Steward),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Role::Service => "service",
            Role::Analyst => "analyst",
            Role::Steward => "steward",
            Role::Admin => "admin",
        }
    }
}

pub use ikd_core::org_unit::unit_within;

/// Who is calling, once authorised.
#[derive(Clone, Debug)]
pub struct Caller {
    pub name: String,
    /// Units the caller may act on; empty: all.
    pub org_prefix: String,
}

impl Caller {
    /// `PERMISSION_DENIED` unless `unit` is within the caller's scope.
    pub fn check_unit(&self, unit: &str) -> Result<(), Status> {
        if unit_within(&self.org_prefix, unit) {
            Ok(())
        } else {
            Err(Status::permission_denied(format!(
                "token '{}' is limited to organisation units under '{}'",
                self.name, self.org_prefix
            )))
        }
    }

    /// The prefix to query for a requested one: the caller's own when none is
    /// requested, the requested one when it lies within the caller's scope.
    pub fn scope(&self, requested: &str) -> Result<String, Status> {
        if requested.is_empty() {
            return Ok(self.org_prefix.clone());
        }
        self.check_unit(requested)?;
        Ok(requested.to_owned())
    }
}

/// A configured token (its hash is the key it is found by).
#[derive(Debug)]
pub struct Token {
    name: String,
    roles: Vec<Role>,
    org_prefix: String,
    expires_at: Option<i64>,
}

/// Checks bearer tokens against the configured ones.
#[derive(Debug)]
pub struct Authenticator {
    by_hash: HashMap<[u8; 32], Token>,
}

/// A token configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("token '{name}': {message}")]
pub struct TokenError {
    pub name: String,
    pub message: String,
}

impl Authenticator {
    pub fn new(tokens: &[TokenConfig]) -> Result<Self, TokenError> {
        let mut by_hash = HashMap::new();
        for config in tokens {
            let fail = |message: String| TokenError {
                name: config.name.clone(),
                message,
            };
            let hash: [u8; 32] = match (&config.sha256, &config.token) {
                (Some(hex_hash), None) => hex::decode(hex_hash.trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| fail("sha256 must be 64 hexadecimal digits".into()))?,
                (None, Some(token)) if token.len() >= 16 => Sha256::digest(token.as_bytes()).into(),
                (None, Some(_)) => return Err(fail("a token needs at least 16 characters".into())),
                _ => return Err(fail("give exactly one of sha256 and token".into())),
            };
            let roles = config
                .roles
                .iter()
                .map(|r| Role::parse(r).ok_or_else(|| fail(format!("unknown role '{r}'"))))
                .collect::<Result<Vec<_>, _>>()?;
            if roles.is_empty() {
                return Err(fail("no roles".into()));
            }
            let token = Token {
                name: config.name.clone(),
                roles,
                org_prefix: config.org_prefix.clone(),
                expires_at: config.expires_at,
            };
            if by_hash.insert(hash, token).is_some() {
                return Err(fail("the same token is configured twice".into()));
            }
        }
        Ok(Authenticator { by_hash })
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The token behind the request's one `authorization: Bearer <token>`
    /// header, if it is known and unexpired. The token must be exactly what
    /// was issued: no surrounding white space, and a second `authorization`
    /// header is refused rather than one of them silently chosen. The request
    /// gate calls this before a request takes any slot.
    pub fn authenticate(&self, headers: &http::HeaderMap) -> Result<&Token, Status> {
        let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
        let header = values
            .next()
            .ok_or_else(|| Status::unauthenticated("missing 'authorization: Bearer <token>'"))?;
        if values.next().is_some() {
            return Err(Status::unauthenticated(
                "more than one 'authorization' header; send exactly one",
            ));
        }
        let presented = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| Status::unauthenticated("authorization must be 'Bearer <token>'"))?;
        let hash: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let token = self
            .by_hash
            .get(&hash)
            .ok_or_else(|| Status::unauthenticated("unknown token"))?;
        if token.expires_at.is_some_and(|t| t <= unix_seconds()) {
            return Err(Status::unauthenticated(format!(
                "token '{}' has expired",
                token.name
            )));
        }
        Ok(token)
    }

    /// The caller behind the request's token ([`Self::authenticate`]), if the
    /// token has one of `roles` (or `admin`).
    pub fn authorize(&self, metadata: &MetadataMap, roles: &[Role]) -> Result<Caller, Status> {
        let token = self.authenticate(metadata.as_ref())?;
        if !token
            .roles
            .iter()
            .any(|r| *r == Role::Admin || roles.contains(r))
        {
            let wanted: Vec<&str> = roles.iter().map(|r| r.name()).collect();
            return Err(Status::permission_denied(format!(
                "token '{}' lacks the role this call needs ({})",
                token.name,
                wanted.join(" or ")
            )));
        }
        Ok(Caller {
            name: token.name.clone(),
            org_prefix: token.org_prefix.clone(),
        })
    }
}

fn unix_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A freshly generated bearer token and the hash a configuration keeps.
pub struct NewToken {
    /// `ikd_` and 48 hexadecimal digits (192 random bits): shown once, never stored.
    pub token: String,
    /// Hex of the token's SHA-256, for `sha256 = …` in the configuration.
    pub sha256: String,
}

impl NewToken {
    pub fn generate() -> Self {
        let token = format!("ikd_{}", hex::encode(rand::random::<[u8; 24]>()));
        let sha256 = hex::encode(Sha256::digest(token.as_bytes()));
        NewToken { token, sha256 }
    }
}

/// Checks one token's configuration as the server will when it starts
/// (roles known, hash or token well-formed), so that a configuration line
/// is refused when it is written rather than when the server starts.
pub fn check_token_config(config: &TokenConfig) -> Result<(), TokenError> {
    Authenticator::new(std::slice::from_ref(config)).map(|_| ())
}

/// The name the first-run admin token is configured (and, on PostgreSQL, kept) under.
pub const FIRST_RUN_ADMIN: &str = "first-run-admin";

/// A secure first run: with no token configured, an admin token is generated,
/// printed once on stderr and only its hash kept (in `data_dir`). Later starts
/// read the hash; the token itself is never written anywhere. For a server
/// with a database of its own (SQLite); replicas sharing PostgreSQL use
/// [`first_run_admin_shared`].
pub fn first_run_admin(data_dir: &Path) -> std::io::Result<TokenConfig> {
    let path = data_dir.join("admin-token.sha256");
    let sha256 = match std::fs::read_to_string(&path) {
        Ok(hash) => hash.trim().to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let NewToken {
                token,
                sha256: hash,
            } = NewToken::generate();
            crate::secret::write_private(&path, hash.as_bytes())?;
            eprintln!(
                "ikd serve: no tokens configured; generated an admin token (shown only now):\n\n    {token}\n\n\
                 Its hash is in {}. Configure tokens for services and analysts (docs/server.md).",
                path.display()
            );
            hash
        }
        Err(e) => return Err(e),
    };
    Ok(first_run_config(sha256))
}

/// [`first_run_admin`] for servers sharing one database (PostgreSQL): the
/// hash is kept in the database (`server_tokens`), so every replica accepts
/// the same token. A token is generated and offered at every start; the
/// database keeps the first one offered (atomically: of replicas starting at
/// once, exactly one wins), whose server alone prints it. The others say the
/// token already exists and accept it.
pub async fn first_run_admin_shared(
    store: &dyn ikd_store::Store,
) -> Result<TokenConfig, ikd_store::StoreError> {
    let NewToken { token, sha256 } = NewToken::generate();
    let claimed = store.claim_server_token(FIRST_RUN_ADMIN, &sha256).await?;
    if claimed.created {
        eprintln!(
            "ikd serve: no tokens configured; generated an admin token (shown only now):\n\n    {token}\n\n\
             Its hash is kept in the database (table server_tokens), so every server on it \
             accepts it. Configure tokens for services and analysts (docs/server.md)."
        );
    } else {
        eprintln!(
            "ikd serve: no tokens configured; a first-run admin token already exists in the \
             database (printed by the server that created it), and is accepted here."
        );
    }
    Ok(first_run_config(claimed.sha256))
}

fn first_run_config(sha256: String) -> TokenConfig {
    TokenConfig {
        name: FIRST_RUN_ADMIN.into(),
        roles: vec!["admin".into()],
        org_prefix: String::new(),
        sha256: Some(sha256),
        token: None,
        expires_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str, token: &str, roles: &[&str], prefix: &str) -> TokenConfig {
        TokenConfig {
            name: name.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            org_prefix: prefix.into(),
            sha256: None,
            token: Some(token.into()),
            expires_at: None,
        }
    }

    fn bearer(token: &str) -> MetadataMap {
        let mut m = MetadataMap::new();
        m.insert("authorization", format!("Bearer {token}").parse().unwrap());
        m
    }

    #[test]
    fn prefixes_stop_at_separators() {
        assert!(unit_within("36.72", "36.72"));
        assert!(unit_within("36.72", "36.72.01"));
        assert!(unit_within("36.72", "36.72/diskominfo"));
        assert!(!unit_within("36.7", "36.72"));
        assert!(!unit_within("36.72", "36.7"));
        assert!(unit_within("", "64.72"));
    }

    #[test]
    fn roles_scopes_and_expiry() {
        let mut expired = config("old", "expired-token-0123", &["service"], "");
        expired.expires_at = Some(1);
        let auth = Authenticator::new(&[
            config("portal", "portal-token-0123456", &["service"], "36.72"),
            config("bkd", "analyst-token-012345", &["analyst"], ""),
            expired,
        ])
        .unwrap();
        let portal = auth
            .authorize(&bearer("portal-token-0123456"), &[Role::Service])
            .unwrap();
        assert!(portal.check_unit("36.72/dinkes").is_ok());
        assert_eq!(
            portal.check_unit("36.7").unwrap_err().code(),
            tonic::Code::PermissionDenied
        );
        assert_eq!(portal.scope("").unwrap(), "36.72");
        assert_eq!(
            auth.authorize(&bearer("portal-token-0123456"), &[Role::Analyst])
                .unwrap_err()
                .code(),
            tonic::Code::PermissionDenied
        );
        for bad in [
            MetadataMap::new(),
            bearer("nope"),
            bearer("expired-token-0123"),
        ] {
            assert_eq!(
                auth.authorize(&bad, &[Role::Service]).unwrap_err().code(),
                tonic::Code::Unauthenticated
            );
        }
    }

    #[test]
    fn bad_token_configs_name_the_token() {
        let mut c = config("x", "short", &["service"], "");
        assert!(
            Authenticator::new(&[c.clone()])
                .unwrap_err()
                .to_string()
                .contains("'x'")
        );
        c.token = Some("long-enough-token-123".into());
        c.roles = vec!["root".into()];
        assert!(
            Authenticator::new(&[c])
                .unwrap_err()
                .to_string()
                .contains("root")
        );
    }
}
