//! `ikd export`: a data steward's CSV of every counting result under a prefix, streamed
//! from a running server (`AssessmentService.ExportTable`) into a file. The rows are
//! pseudonymous per-person data: the file is created readable by its owner only, written
//! under a `.partial` name and renamed only once the server has sent the last row, and
//! never overwritten.

use anyhow::{Context, Result, bail};
use ikd_proto::v1 as api;
use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use tonic::transport::Channel;

#[derive(clap::Args)]
pub struct Args {
    /// The server's gRPC address.
    #[arg(long, default_value = "http://127.0.0.1:50051", value_name = "URL")]
    server: String,
    /// A steward token (its org_prefix limits what it may export).
    #[arg(long, env = "IKD_TOKEN", hide_env_values = true)]
    token: String,
    /// Instrument id (every version of it; columns of the newest unless `--version`).
    #[arg(long, default_value = "ikd-asn-2025", value_name = "ID")]
    instrument: String,
    #[arg(long, default_value = "", value_name = "VERSION")]
    version: String,
    /// Organisation-unit prefix (default: the token's own).
    #[arg(long, default_value = "", value_name = "PREFIX")]
    prefix: String,
    /// Results submitted at or after this time: `2025-03-01` (UTC midnight) or RFC 3339.
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Results submitted before this time, as `--from`.
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// The CSV to write (created, never overwritten).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<ExitCode> {
    if args.out.exists() {
        bail!(
            "{} exists: an export is never overwritten",
            args.out.display()
        );
    }
    let request = api::ExportResultsRequest {
        instrument: Some(api::InstrumentRef {
            id: args.instrument.clone(),
            version: args.version.clone(),
        }),
        org_prefix: args.prefix.clone(),
        from: args
            .from
            .as_deref()
            .map(|t| time("--from", t))
            .transpose()?,
        to: args.to.as_deref().map(|t| time("--to", t)).transpose()?,
        ..Default::default()
    };
    let partial = args.out.with_file_name(format!(
        "{}.partial",
        args.out.file_name().unwrap_or_default().to_string_lossy()
    ));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let rows = match runtime.block_on(export(&args, request, file)) {
        Ok(rows) => rows,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, &args.out).with_context(|| {
        format!(
            "cannot rename {} to {}",
            partial.display(),
            args.out.display()
        )
    })?;
    eprintln!(
        "ikd export: {rows} result(s) of {} written to {} (readable by you only)",
        args.instrument,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Streams the table into `file`; the rows written.
async fn export(args: &Args, request: api::ExportResultsRequest, file: File) -> Result<u64> {
    let channel = Channel::from_shared(args.server.clone())
        .context("--server is not a URL")?
        .connect()
        .await
        .with_context(|| format!("cannot reach the server at {}", args.server))?;
    let mut client = AssessmentServiceClient::new(channel);
    let mut request = tonic::Request::new(request);
    let bearer = format!("Bearer {}", args.token)
        .parse()
        .context("the token is not ASCII")?;
    request.metadata_mut().insert("authorization", bearer);
    let refused =
        |s: tonic::Status| anyhow::anyhow!("the server refused: {:?}: {}", s.code(), s.message());
    let mut stream = client
        .export_table(request)
        .await
        .map_err(refused)?
        .into_inner();
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut rows = 0u64;
    while let Some(chunk) = stream.message().await.map_err(refused)? {
        out.write_all(&chunk.csv).context("writing the export")?;
        rows += u64::from(chunk.rows);
    }
    let file = out.into_inner().context("writing the export")?;
    file.sync_all().context("writing the export")?;
    Ok(rows)
}

/// `2025-03-01` as that day's UTC midnight, or an RFC 3339 time.
fn time(flag: &str, text: &str) -> Result<prost_types::Timestamp> {
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    prost_types::Timestamp::from_str(&full).map_err(|e| {
        anyhow::anyhow!("{flag} {text:?}: not a date (2025-03-01) or RFC 3339 time: {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_midnights_and_times_are_rfc3339() {
        assert_eq!(time("--from", "2025-06-01").unwrap().seconds, 1_748_736_000);
        let t = time("--to", "2025-06-01T08:30:45Z").unwrap();
        assert_eq!(t.seconds, 1_748_766_645);
        let refused = time("--from", "01/06/2025").unwrap_err().to_string();
        assert!(refused.contains("--from \"01/06/2025\""), "{refused}");
    }
}
