//! `ikd bench scale`: national-scale reads against a loaded store (`ikd store
//! load-simulated`), from a client in another process: `GetAggregate` for the nation, a
//! province and a unit (p50/p99 over `--calls`), `OrgReport` for the nation and a unit, and
//! `ExportResults` of everything (rows per second, the client decoding every row).
//!
//! It starts `ikd serve` against `--database-url` (which must already hold the results),
//! measures, and prints JSON on stdout and a table with the targets on stderr. It
//! measures; it asserts nothing. A call that fails is reported with its status.

use super::served::{self, ServeOptions};
use super::stats::summary;
use crate::common::load_instrument;
use anyhow::{Context, Result};
use ikd_proto::v1::{
    self as api, assessment_service_client::AssessmentServiceClient,
    report_service_client::ReportServiceClient,
};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

#[derive(clap::Args)]
pub struct Args {
    /// The loaded store (`postgres://…` or `sqlite://FILE`).
    #[arg(
        long,
        env = "IKD_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    database_url: String,
    /// Instrument file or bundled instrument id (the one loaded).
    #[arg(long, default_value = "ikd-asn-2025", value_name = "PATH|ID")]
    instrument: String,
    /// The province measured.
    #[arg(long, default_value = "64.72")]
    province: String,
    /// The unit measured.
    #[arg(long, default_value = "64.72/diskominfo")]
    unit: String,
    /// `GetAggregate` calls per scope (one at a time).
    #[arg(long, default_value_t = 50)]
    calls: usize,
    /// `OrgReport` calls per scope.
    #[arg(long, default_value_t = 3)]
    report_calls: usize,
    /// Leave out `ExportResults` and `ExportTable`.
    #[arg(long)]
    no_export: bool,
}

/// The targets: figure, at most / at least, bound, label.
const TARGETS: [(&str, bool, f64, &str); 8] = [
    (
        "aggregate_nation.p50_ms",
        true,
        20.0,
        "GetAggregate nation p50 ≤ 20 ms",
    ),
    (
        "aggregate_province.p50_ms",
        true,
        20.0,
        "GetAggregate province p50 ≤ 20 ms",
    ),
    (
        "aggregate_unit.p50_ms",
        true,
        20.0,
        "GetAggregate unit p50 ≤ 20 ms",
    ),
    (
        "org_report_nation.p50_ms",
        true,
        1000.0,
        "OrgReport nation ≤ 1 s",
    ),
    (
        "org_report_unit.p50_ms",
        true,
        1000.0,
        "OrgReport unit ≤ 1 s",
    ),
    (
        "export.rows_per_second",
        false,
        100_000.0,
        "ExportResults ≥ 100k rows/s",
    ),
    (
        "export_scores.rows_per_second",
        false,
        100_000.0,
        "ExportResults (scores only) ≥ 100k rows/s",
    ),
    (
        "export_table.rows_per_second",
        false,
        100_000.0,
        "ExportTable (CSV) ≥ 100k rows/s",
    ),
];

pub fn run(args: Args) -> Result<ExitCode> {
    let data = tempfile::tempdir()?;
    let token = served::throwaway_token();
    let server = served::start(&ServeOptions {
        instrument: &args.instrument,
        database_url: Some(&args.database_url),
        data_dir: data.path(),
        token: &token,
        web: false,
        tls: None,
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let instrument = load_instrument(&args.instrument)?;
    let instrument = api::InstrumentRef {
        id: instrument.id.clone(),
        version: instrument.version.to_string(),
    };
    let addr = server.grpc.to_string();
    let report = runtime.block_on(measure(&args, &instrument, &addr, &token))?;
    drop(server);
    let mut report = report;
    let mut table = Vec::new();
    eprintln!("{:<40} {:>12}  met", "target", "measured");
    for (path, at_most, bound, label) in TARGETS {
        let (scope, field) = path.split_once('.').expect("scope.field");
        let measured = report
            .get(scope)
            .and_then(|s| s.get(field))
            .and_then(|v| v.as_f64());
        let met = measured.map(|m| if at_most { m <= bound } else { m >= bound });
        eprintln!(
            "{label:<40} {:>12}  {}",
            measured.map_or("—".into(), |m| format!("{m:.1}")),
            met.map_or("not measured", |m| if m { "yes" } else { "no" })
        );
        table.push(serde_json::json!({"target": label, "measured": measured, "met": met}));
    }
    report.insert("targets".into(), table.into());
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

async fn measure(
    args: &Args,
    instrument: &api::InstrumentRef,
    addr: &str,
    token: &str,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let channel: Channel = Endpoint::from_shared(format!("http://{addr}"))?
        .tcp_nodelay(true)
        .connect()
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse()?;
    let auth = move |mut request: tonic::Request<()>| {
        request
            .metadata_mut()
            .insert("authorization", bearer.clone());
        Ok(request)
    };
    let mut assessment = AssessmentServiceClient::with_interceptor(channel.clone(), auth.clone())
        .max_decoding_message_size(64 << 20);
    let mut reports =
        ReportServiceClient::with_interceptor(channel, auth).max_decoding_message_size(256 << 20);
    let mut report = serde_json::Map::new();
    let scopes = [
        ("nation", ""),
        ("province", args.province.as_str()),
        ("unit", args.unit.as_str()),
    ];
    for (name, prefix) in scopes {
        let mut latencies = Vec::new();
        let mut n = 0;
        let mut error = None;
        for _ in 0..args.calls.max(1) {
            let at = Instant::now();
            match assessment
                .get_aggregate(api::GetAggregateRequest {
                    instrument: Some(instrument.clone()),
                    org_prefix: prefix.to_owned(),
                    ..Default::default()
                })
                .await
            {
                Ok(r) => {
                    latencies.push(at.elapsed());
                    n = r.into_inner().n;
                }
                Err(e) => error = Some(e.to_string()),
            }
        }
        let mut figures = summary(&latencies);
        figures["prefix"] = prefix.into();
        figures["n"] = n.into();
        figures["error"] = error.into();
        report.insert(format!("aggregate_{name}"), figures);
    }
    for (name, prefix) in [("nation", ""), ("unit", args.unit.as_str())] {
        let mut latencies = Vec::new();
        let (mut results, mut error) = (0, None);
        for _ in 0..args.report_calls.max(1) {
            let at = Instant::now();
            match reports
                .org_report(api::OrgReportRequest {
                    instrument: Some(instrument.clone()),
                    org_prefix: prefix.to_owned(),
                    ..Default::default()
                })
                .await
            {
                Ok(r) => {
                    latencies.push(at.elapsed());
                    results = r.into_inner().results;
                }
                Err(e) => {
                    error = Some(format!("{:?}: {}", e.code(), e.message()));
                    break;
                }
            }
        }
        let mut figures = summary(&latencies);
        figures["prefix"] = prefix.into();
        figures["results"] = results.into();
        figures["error"] = error.into();
        report.insert(format!("org_report_{name}"), figures);
    }
    if !args.no_export {
        for (name, detail) in [
            ("export", api::ResultDetail::Full),
            ("export_scores", api::ResultDetail::Scores),
        ] {
            let figures = export_all(&mut assessment, instrument, detail).await?;
            report.insert(name.into(), figures);
        }
        let figures = export_table(&mut assessment, instrument).await?;
        report.insert("export_table".into(), figures);
    }
    Ok(report)
}

/// `ExportResults` of everything at `detail`, the client decoding every row: rows, time,
/// rows per second, time to the first row.
async fn export_all<F: tonic::service::Interceptor>(
    assessment: &mut AssessmentServiceClient<InterceptedService<Channel, F>>,
    instrument: &api::InstrumentRef,
    detail: api::ResultDetail,
) -> Result<serde_json::Value> {
    let at = Instant::now();
    let mut rows = 0u64;
    let mut first_row = None;
    let mut stream = assessment
        .export_results(api::ExportResultsRequest {
            instrument: Some(instrument.clone()),
            detail: detail.into(),
            ..Default::default()
        })
        .await
        .context("ExportResults")?
        .into_inner();
    while stream
        .message()
        .await
        .context("ExportResults stream")?
        .is_some()
    {
        first_row.get_or_insert_with(|| at.elapsed());
        rows += 1;
    }
    let elapsed = at.elapsed();
    Ok(serde_json::json!({
        "rows": rows,
        "seconds": elapsed.as_secs_f64(),
        "rows_per_second": rows as f64 / elapsed.as_secs_f64(),
        "first_row_ms": first_row.map(|d: Duration| d.as_secs_f64() * 1000.0),
    }))
}

/// `ExportTable` of everything, the client taking every chunk: rows (as the chunks count
/// them), bytes, time, rows per second, time to the first row.
async fn export_table<F: tonic::service::Interceptor>(
    assessment: &mut AssessmentServiceClient<InterceptedService<Channel, F>>,
    instrument: &api::InstrumentRef,
) -> Result<serde_json::Value> {
    let at = Instant::now();
    let (mut rows, mut bytes) = (0u64, 0u64);
    let mut first_row = None;
    let mut stream = assessment
        .export_table(api::ExportResultsRequest {
            instrument: Some(instrument.clone()),
            ..Default::default()
        })
        .await
        .context("ExportTable")?
        .into_inner();
    while let Some(chunk) = stream.message().await.context("ExportTable stream")? {
        if chunk.rows > 0 {
            first_row.get_or_insert_with(|| at.elapsed());
        }
        rows += u64::from(chunk.rows);
        bytes += chunk.csv.len() as u64;
    }
    let elapsed = at.elapsed();
    Ok(serde_json::json!({
        "rows": rows,
        "bytes": bytes,
        "seconds": elapsed.as_secs_f64(),
        "rows_per_second": rows as f64 / elapsed.as_secs_f64(),
        "first_row_ms": first_row.map(|d: Duration| d.as_secs_f64() * 1000.0),
    }))
}
