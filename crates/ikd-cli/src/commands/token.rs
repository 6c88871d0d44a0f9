//! `ikd token new`: a bearer token for the server, printed once, with the
//! configuration lines that let the server accept it (its SHA-256 only: the
//! configuration never holds the token).

use anyhow::{Result, bail};
use ikd_server::auth::{NewToken, check_token_config};
use ikd_server::config::TokenConfig;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Generate a token: the token goes to stdout once, then the `[[tokens]]`
    /// table (or with `--json`, the `IKD_TOKENS` object) to add to the server's configuration.
    New(NewArgs),
}

#[derive(clap::Args)]
pub struct NewArgs {
    /// Who holds the token (shown in the server's logs and audit records).
    #[arg(long)]
    name: String,
    /// service, analyst, steward or admin; repeatable.
    #[arg(long = "role", required = true, value_name = "ROLE")]
    roles: Vec<String>,
    /// Organisation units the token may act on (e.g. `36.72`); default: all.
    #[arg(long, default_value = "", value_name = "PREFIX")]
    org_prefix: String,
    /// Refuse the token after this many days.
    #[arg(long, value_name = "DAYS")]
    expires_in_days: Option<u32>,
    /// Print the configuration as one JSON object (an element of `IKD_TOKENS`) instead of TOML.
    #[arg(long)]
    json: bool,
}

pub fn run(command: Command) -> Result<ExitCode> {
    let Command::New(args) = command;
    if args.name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    let NewToken { token, sha256 } = NewToken::generate();
    let expires_at = args.expires_in_days.map(|days| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        now + i64::from(days) * 86_400
    });
    let config = TokenConfig {
        name: args.name,
        roles: args.roles,
        org_prefix: args.org_prefix,
        sha256: Some(sha256),
        token: None,
        expires_at,
    };
    check_token_config(&config)?;
    println!("{token}");
    if args.json {
        println!("{}", serde_json::to_string(&config_json(&config))?);
    } else {
        print!("{}", config_toml(&config));
    }
    eprintln!(
        "The token above is shown only now: give it to '{}' and keep it out of files. \
         Add the configuration to the server's config file (or IKD_TOKENS) and restart it.",
        config.name
    );
    Ok(ExitCode::SUCCESS)
}

fn config_json(c: &TokenConfig) -> serde_json::Value {
    let mut value = serde_json::json!({
        "name": c.name, "roles": c.roles, "org_prefix": c.org_prefix, "sha256": c.sha256,
    });
    if let Some(at) = c.expires_at {
        value["expires_at"] = at.into();
    }
    value
}

fn config_toml(c: &TokenConfig) -> String {
    // JSON strings are valid TOML basic strings.
    let quote = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    let roles: Vec<String> = c.roles.iter().map(|r| quote(r)).collect();
    let mut out = format!(
        "[[tokens]]\nname = {}\nroles = [{}]\norg_prefix = {}\nsha256 = {}\n",
        quote(&c.name),
        roles.join(", "),
        quote(&c.org_prefix),
        quote(c.sha256.as_deref().unwrap_or_default()),
    );
    if let Some(at) = c.expires_at {
        out.push_str(&format!("expires_at = {at}\n"));
    }
    out
}
