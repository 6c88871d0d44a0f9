//! `ExportTable`: the rows of `ExportResults` as one CSV table, on both stores.

use super::sessions::run_session;
use super::*;

/// The CSV of an `ExportTable` call: the chunks' bytes joined, and the rows they count.
async fn table(client: &mut Assessment, prefix: &str) -> Result<(Vec<u8>, u64), tonic::Status> {
    let mut stream = client
        .export_table(api::ExportResultsRequest {
            instrument: ikd_asn(),
            org_prefix: prefix.into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let (mut csv, mut rows) = (Vec::new(), 0);
    while let Some(chunk) = stream.message().await? {
        assert!(
            chunk.csv.is_empty() || chunk.csv.ends_with(b"\n"),
            "a chunk holds whole lines"
        );
        csv.extend_from_slice(&chunk.csv);
        rows += u64::from(chunk.rows);
    }
    Ok((csv, rows))
}

/// A number cell: empty for an absent value, else the value bit for bit.
fn number(cell: &str) -> Option<f64> {
    (!cell.is_empty()).then(|| cell.parse().unwrap_or_else(|e| panic!("{cell:?}: {e}")))
}

async fn export_table_matches_export_results(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.database_url = database_url;
    let server = TestServer::start(options);
    let mut service = assessment(&server, Some(tokens::SERVICE)).await;
    for e in &examples() {
        run_session(&mut service, e).await;
    }
    let instrument = service
        .get_instrument(api::GetInstrumentRequest {
            instrument: ikd_asn(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let domains: Vec<String> = instrument.domains.into_iter().map(|d| d.code).collect();
    assert_eq!(domains.len(), 5);

    let mut steward = assessment(&server, Some(tokens::STEWARD)).await;
    let (whole, counted) = table(&mut steward, "").await.unwrap();
    let mut reader = csv::Reader::from_reader(whole.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut expected_header: Vec<String> = [
        "session_id",
        "org_unit",
        "respondent_pseudonym",
        "revision",
        "submitted_at",
        "instrument_id",
        "instrument_version",
        "model",
        "model_version",
        "index",
        "index_se",
        "level",
        "flags",
    ]
    .map(String::from)
    .to_vec();
    for code in &domains {
        for suffix in ["", "_se", "_level", "_answered"] {
            expected_header.push(format!("{code}{suffix}"));
        }
    }
    assert_eq!(header, expected_header);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len() as u64, counted, "the chunks count the rows");

    // The same rows, in the same order, as the scores-only ExportResults.
    let mut rows = steward
        .export_results(api::ExportResultsRequest {
            instrument: ikd_asn(),
            detail: api::ResultDetail::Scores.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut exported = Vec::new();
    while let Some(r) = rows.message().await.unwrap() {
        exported.push(r);
    }
    assert_eq!(records.len(), exported.len());
    assert_eq!(records.len(), examples().len());
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (record, row) in records.iter().zip(&exported) {
        let cell = |name: &str| &record[column(name)];
        let result = row.result.as_ref().unwrap();
        assert_eq!(cell("session_id"), row.session_id);
        assert_eq!(cell("org_unit"), row.org_unit);
        assert_eq!(cell("respondent_pseudonym"), row.respondent_pseudonym);
        assert_eq!(cell("revision"), row.revision.to_string());
        assert_eq!(
            cell("submitted_at"),
            row.submitted_at.as_ref().unwrap().to_string()
        );
        let reference = result.instrument.as_ref().unwrap();
        assert_eq!(cell("instrument_id"), reference.id);
        assert_eq!(cell("instrument_version"), reference.version);
        assert_eq!(cell("model"), instrument.model);
        assert!(!cell("model_version").is_empty());
        assert_eq!(number(cell("index")), result.index);
        assert_eq!(number(cell("index_se")), result.index_se);
        let level = result.level.as_ref().map(|l| l.code.as_str());
        assert_eq!(cell("level"), level.unwrap_or_default());
        assert_eq!(cell("flags"), result.flags.join(";"));
        for code in &domains {
            let domain = result.domains.iter().find(|d| &d.code == code).unwrap();
            assert_eq!(number(cell(code)), domain.score, "{code}");
            assert_eq!(number(cell(&format!("{code}_se"))), domain.se, "{code}");
            let level = domain.level.as_ref().map(|l| l.code.as_str());
            assert_eq!(cell(&format!("{code}_level")), level.unwrap_or_default());
            assert_eq!(
                cell(&format!("{code}_answered")),
                domain.answered.to_string()
            );
        }
    }
    assert!(
        exported
            .iter()
            .any(|r| r.result.as_ref().unwrap().index.is_some()),
        "some rows have an index to compare"
    );

    // `ikd export` writes the same table into a file only its owner reads; an export
    // refused leaves no file, and a file is never overwritten.
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("results.csv");
    let export = |token: &str| {
        std::process::Command::new(ikd_tests::ikd_binary())
            .args(["export", "--server", &server.url()])
            .arg("--out")
            .arg(&out)
            .env("IKD_TOKEN", token)
            .output()
            .unwrap()
    };
    let refused = export(tokens::ANALYST);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("PermissionDenied"), "{stderr}");
    assert_eq!(std::fs::read_dir(out_dir.path()).unwrap().count(), 0);
    let done = export(tokens::STEWARD);
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{} result(s)", records.len())),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), whole);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "per-person rows are for their steward only");
    }
    assert_eq!(std::fs::read_dir(out_dir.path()).unwrap().count(), 1);
    let again = export(tokens::STEWARD);
    assert!(!again.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), whole);

    // A steward limited to Cilegon: its rows only; nothing outside.
    let mut cilegon = assessment(&server, Some(tokens::STEWARD_CILEGON)).await;
    let (csv, counted) = table(&mut cilegon, "").await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let units: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[column("org_unit")].to_owned())
        .collect();
    assert_eq!(units.len() as u64, counted);
    assert!(!units.is_empty());
    assert!(units.iter().all(|u| u == "36.72" || u.starts_with("36.72")));
    let denied = table(&mut cilegon, "64.72").await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    // Per-person rows are a steward's: an analyst gets none.
    let mut analyst = assessment(&server, Some(tokens::ANALYST)).await;
    let denied = table(&mut analyst, "").await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // Audited as a CSV export, with its rows.
    let entries = admin(&server, Some(tokens::ADMIN))
        .await
        .list_audit_log(api::ListAuditLogRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries;
    let finished: Vec<serde_json::Value> = entries
        .iter()
        .filter(|e| e.action == "export.finished")
        .map(|e| serde_json::from_str(&e.detail_json).unwrap())
        .filter(|d: &serde_json::Value| d["format"] == "csv")
        .collect();
    // The steward's call, `ikd export`'s, and the Cilegon steward's.
    assert_eq!(finished.len(), 3, "{entries:?}");
    assert_eq!(
        finished
            .iter()
            .filter(|d| d["rows"] == records.len())
            .count(),
        2
    );
    assert!(
        finished
            .iter()
            .any(|d| d["prefix"] == "36.72" && d["rows"] == units.len())
    );
    assert!(finished.iter().all(|d| d["complete"] == true));
}

#[tokio::test(flavor = "multi_thread")]
async fn export_table_on_sqlite() {
    export_table_matches_export_results(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn export_table_on_postgres() {
    export_table_matches_export_results(Some(ikd_tests::postgres::server().new_database())).await;
}
