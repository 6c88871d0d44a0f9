//! The admin service: plugins, models, rescoring.

use super::sessions::run_session;
use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn admin_lists_plugins_and_rescore_keeps_the_old_revision() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let e = &examples()[0];
    let (session, first) = run_session(&mut client, e).await;

    let mut denied = admin(&server, Some(tokens::SERVICE)).await;
    assert_eq!(
        denied
            .list_plugins(api::ListPluginsRequest {})
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let mut admin = admin(&server, Some(tokens::ADMIN)).await;
    let plugins = admin
        .list_plugins(api::ListPluginsRequest {})
        .await
        .unwrap()
        .into_inner();
    let loaded: Vec<&str> = plugins
        .plugins
        .iter()
        .filter(|p| p.status == "loaded")
        .map(|p| p.name.as_str())
        .collect();
    assert!(
        loaded.contains(&"weighted-index") && loaded.contains(&"literasi-digital"),
        "{loaded:?}"
    );
    assert!(
        plugins
            .plugins
            .iter()
            .all(|p| p.sha256.len() == 64 || p.status != "loaded")
    );
    let models = admin
        .list_models(api::ListModelsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(models.models.iter().any(|m| m.name == "weighted-index"));

    let bad = admin
        .rescore(api::RescoreRequest {
            instrument: ikd_asn(),
            model: String::new(),
            settings_json: "{not json".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let rescored = admin
        .rescore(api::RescoreRequest {
            instrument: ikd_asn(),
            model: "weighted-index".into(),
            settings_json: "{}".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (rescored.sessions, rescored.rescored, rescored.failed),
        (1, 1, 0)
    );
    let latest = client
        .get_result(api::GetResultRequest {
            session_id: session.clone(),
            language: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(latest.revision, 2);
    let latest = latest.result.unwrap();
    assert_eq!(latest.index, first.index);
    // Submitted within seconds of the start (the instrument's minimum is 300 s):
    // revision 1 is flagged too fast, and a rescore keeps the flag.
    assert!(
        first.flags.iter().any(|f| f == "too-fast"),
        "{:?}",
        first.flags
    );
    assert_eq!(
        latest.flags, first.flags,
        "a rescore keeps the quality flags"
    );
    // The new revision records the settings it was scored with.
    assert_eq!(latest.provenance.unwrap().model_settings_json, "{}");
}
