//! What the web app's tests share: invitations over gRPC, and the form
//! fields a page posts for an answer cell, written from the public API's
//! presentation (as any client would), independently of the server's code.

use crate::grpc::{authorized, channel, ikd_asn};
use crate::server::TestServer;
use crate::server::tokens;
use ikd_proto::v1 as api;
use ikd_proto::v1::admin_service_client::AdminServiceClient;
use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;

/// Links to the bundled IKD instrument for `ids` in `org_unit`, made with
/// `token` (an admin or service).
pub async fn invite(
    server: &TestServer,
    token: &str,
    org_unit: &str,
    ids: &[&str],
    expires_at: Option<prost_types::Timestamp>,
) -> Result<Vec<api::Invitation>, tonic::Status> {
    invite_to(server, token, ikd_asn(), org_unit, ids, expires_at).await
}

/// Links to `instrument`.
pub async fn invite_to(
    server: &TestServer,
    token: &str,
    instrument: Option<api::InstrumentRef>,
    org_unit: &str,
    ids: &[&str],
    expires_at: Option<prost_types::Timestamp>,
) -> Result<Vec<api::Invitation>, tonic::Status> {
    let mut admin = AdminServiceClient::new(channel(server).await);
    let request = api::CreateInvitationsRequest {
        instrument,
        org_unit: org_unit.into(),
        respondent_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        expires_at,
    };
    Ok(admin
        .create_invitations(authorized(token, request))
        .await?
        .into_inner()
        .invitations)
}

/// The bundled IKD instrument as the API presents it (in Bahasa Indonesia).
pub async fn instrument(server: &TestServer, token: &str) -> api::Instrument {
    instrument_of(server, token, ikd_asn()).await
}

/// An instrument as the API presents it (in Bahasa Indonesia).
pub async fn instrument_of(
    server: &TestServer,
    token: &str,
    instrument: Option<api::InstrumentRef>,
) -> api::Instrument {
    let mut client = AssessmentServiceClient::new(channel(server).await);
    client
        .get_instrument(authorized(
            token,
            api::GetInstrumentRequest {
                instrument,
                language: String::new(),
            },
        ))
        .await
        .expect("GetInstrument")
        .into_inner()
}

/// The anti-forgery value of a page's form.
pub fn csrf(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with csrf")
        + 19;
    page[at..at + 64].to_owned()
}

/// The form fields that give `cell` for an item shown as `shown`:
/// `a:ID` one value, `m:ID` checked choices, `x:ID` don't know / not
/// applicable beside a widget, `o:ID:CODE` positions, `r:ID:CODE` ratings.
pub fn fields_for(item: &str, shown: &api::Presentation, cell: &str) -> Vec<(String, String)> {
    let one = |name: String, value: &str| vec![(name, value.to_owned())];
    let inline = matches!(
        shown.widget(),
        api::Widget::Scale | api::Widget::SingleChoice
    );
    let special = |value: &str| {
        let name = if inline { "a" } else { "x" };
        one(format!("{name}:{item}"), value)
    };
    if cell.is_empty() {
        return Vec::new();
    }
    if cell == "NA" {
        return special("~na");
    }
    if shown.dont_know.as_ref().is_some_and(|d| d.code == cell) {
        return special("~dk");
    }
    let parts: Vec<&str> = cell.split(shown.separator.as_str()).collect();
    match shown.widget() {
        api::Widget::MultipleChoice if cell == shown.none_value => {
            one(format!("m:{item}"), "~none")
        }
        api::Widget::MultipleChoice => parts
            .iter()
            .map(|c| (format!("m:{item}"), (*c).to_owned()))
            .collect(),
        api::Widget::Order => parts
            .iter()
            .enumerate()
            .map(|(k, c)| (format!("o:{item}:{c}"), (k + 1).to_string()))
            .collect(),
        api::Widget::RatingPerChoice => shown
            .choices
            .iter()
            .zip(&parts)
            .map(|(c, p)| (format!("r:{item}:{}", c.code), (*p).to_owned()))
            .collect(),
        _ => one(format!("a:{item}"), cell),
    }
}

/// A valid answer cell for any item, written from its presentation alone:
/// the `k`-th scale point or choice (wrapping), every choice in reverse
/// order, a rating per choice, a number. Lets a test answer an instrument it
/// knows nothing about, as a client of the API would.
pub fn some_cell(shown: &api::Presentation, k: usize) -> String {
    let pick = |n: usize| k % n.max(1);
    match shown.widget() {
        api::Widget::Scale => shown.scale[pick(shown.scale.len())].value.clone(),
        api::Widget::SingleChoice => shown.choices[pick(shown.choices.len())].code.clone(),
        api::Widget::MultipleChoice => shown.choices[pick(shown.choices.len())].code.clone(),
        api::Widget::Order => shown
            .choices
            .iter()
            .rev()
            .map(|c| c.code.as_str())
            .collect::<Vec<_>>()
            .join(&shown.separator),
        api::Widget::RatingPerChoice => shown
            .choices
            .iter()
            .enumerate()
            .map(|(j, _)| shown.scale[(k + j) % shown.scale.len()].value.clone())
            .collect::<Vec<_>>()
            .join(&shown.separator),
        api::Widget::Number => format!("{},5", 10 + k),
        api::Widget::Text | api::Widget::Unspecified => "teks".into(),
    }
}

/// What `Score` gives for `answers`, and the one result stored for the unit.
pub async fn scored_and_stored(
    server: &TestServer,
    instrument: Option<api::InstrumentRef>,
    unit: &str,
    answers: &[(String, String)],
) -> (api::Result, api::Result) {
    let mut assessment = AssessmentServiceClient::new(channel(server).await);
    let scored = assessment
        .score(authorized(
            tokens::SERVICE,
            api::ScoreRequest {
                instrument: instrument.clone(),
                org_unit: unit.into(),
                answers: crate::grpc::api_answers(answers),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    let stored = exported(server, instrument).await;
    assert_eq!(stored.len(), 1);
    (scored, stored[0].result.clone().unwrap())
}

pub fn assert_same_scores(stored: &api::Result, scored: &api::Result) {
    assert_eq!(stored.index, scored.index, "index bit for bit");
    assert_eq!(stored.domains.len(), scored.domains.len());
    for (a, b) in stored.domains.iter().zip(&scored.domains) {
        assert_eq!(
            (&a.code, a.score),
            (&b.code, b.score),
            "domain scores bit for bit"
        );
    }
}

/// Every stored result of `instrument`, as a data steward exports them.
pub async fn exported(
    server: &TestServer,
    instrument: Option<api::InstrumentRef>,
) -> Vec<api::ExportedResult> {
    let mut client = AssessmentServiceClient::new(channel(server).await);
    let mut stream = client
        .export_results(authorized(
            tokens::STEWARD,
            api::ExportResultsRequest {
                instrument,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while let Some(r) = stream.message().await.unwrap() {
        out.push(r);
    }
    out
}
