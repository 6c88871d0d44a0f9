//! `ikd invite`: invitation links for a list of respondents, made by a
//! running server (`AdminService.CreateInvitations`) so that the server's
//! pseudonym key and store are the only ones involved. The links file holds
//! identifiers and secrets: it is created readable by its owner only, and
//! never overwritten.

use anyhow::{Context, Result, bail};
use ikd_proto::v1 as api;
use ikd_proto::v1::admin_service_client::AdminServiceClient;
use std::path::PathBuf;
use std::process::ExitCode;
use tonic::transport::Channel;

#[derive(clap::Args)]
pub struct Args {
    /// The server's gRPC address.
    #[arg(long, default_value = "http://127.0.0.1:50051", value_name = "URL")]
    server: String,
    /// An admin token, or a service token whose org_prefix covers `--org`.
    #[arg(long, env = "IKD_TOKEN", hide_env_values = true)]
    token: String,
    /// Instrument id (the newest version the server has unless `--version`).
    #[arg(long, default_value = "ikd-asn-2025", value_name = "ID")]
    instrument: String,
    #[arg(long, default_value = "", value_name = "VERSION")]
    version: String,
    /// Organisation unit of every respondent in the list (e.g. `36.72/diskominfo`).
    #[arg(long, value_name = "UNIT")]
    org: String,
    /// Respondent identifiers: one per line, or a CSV whose first column is the
    /// identifier (a header `respondent_id` is skipped).
    #[arg(long, value_name = "FILE")]
    ids: PathBuf,
    /// The web app's address as respondents reach it (links are this + `/take/<token>`).
    #[arg(long, default_value = "http://127.0.0.1:8080", value_name = "URL")]
    base_url: String,
    /// Days until the links stop opening.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    days: u32,
    /// Where to write `respondent_id,invitation_id,link,expires_at` (created, never overwritten).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Identifiers sent per request (the server takes at most 10,000).
const PER_REQUEST: usize = 5_000;

pub fn run(args: Args) -> Result<ExitCode> {
    let ids = read_ids(&args.ids)?;
    if ids.is_empty() {
        bail!("{}: no respondent identifiers", args.ids.display());
    }
    if args.out.exists() {
        bail!("{} exists: links are never overwritten", args.out.display());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let links = runtime.block_on(create(&args, &ids))?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(["respondent_id", "invitation_id", "link", "expires_at"])?;
    let base = args.base_url.trim_end_matches('/');
    for link in &links {
        let expires = link.expires_at.as_ref().map_or(0, |t| t.seconds);
        csv.write_record([
            link.respondent_id.as_str(),
            link.invitation_id.as_str(),
            &format!("{base}{}", link.path),
            &expires.to_string(),
        ])?;
    }
    let bytes = csv.into_inner().context("writing the links")?;
    ikd_server::secret::write_private(&args.out, &bytes)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    eprintln!(
        "ikd invite: {} link(s) for {} in {} written to {} (readable by you only)",
        links.len(),
        args.instrument,
        args.org,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn create(args: &Args, ids: &[String]) -> Result<Vec<api::Invitation>> {
    let channel = Channel::from_shared(args.server.clone())
        .context("--server is not a URL")?
        .connect()
        .await
        .with_context(|| format!("cannot reach the server at {}", args.server))?;
    let mut client = AdminServiceClient::new(channel);
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {}", args.token)
        .parse()
        .context("the token is not ASCII")?;
    let mut links = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(PER_REQUEST) {
        let mut request = tonic::Request::new(api::CreateInvitationsRequest {
            instrument: Some(api::InstrumentRef {
                id: args.instrument.clone(),
                version: args.version.clone(),
            }),
            org_unit: args.org.clone(),
            respondent_ids: chunk.to_vec(),
            expires_at: Some(prost_types::Timestamp {
                seconds: now_seconds() + i64::from(args.days) * 86_400,
                nanos: 0,
            }),
        });
        request
            .metadata_mut()
            .insert("authorization", bearer.clone());
        let made = client
            .create_invitations(request)
            .await
            .map_err(|s| anyhow::anyhow!("the server refused: {:?}: {}", s.code(), s.message()))?;
        links.extend(made.into_inner().invitations);
    }
    Ok(links)
}

/// One identifier per line, or the first column of a CSV (a `respondent_id`
/// header is skipped); blank lines are ignored, duplicates refused by line.
fn read_ids(path: &PathBuf) -> Result<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut ids = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: line {}", path.display(), n + 1))?;
        let line = record.position().map_or(n as u64 + 1, |p| p.line());
        let id = record.get(0).unwrap_or("").trim();
        if id.is_empty() || (n == 0 && id == "respondent_id") {
            continue;
        }
        if !seen.insert(id.to_owned()) {
            bail!(
                "{}:{line}: identifier '{id}' is listed twice",
                path.display()
            );
        }
        ids.push(id.to_owned());
    }
    Ok(ids)
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
