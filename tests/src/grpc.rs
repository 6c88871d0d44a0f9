//! What the gRPC tests share: a channel to a [`TestServer`], the bearer
//! token on a request or a client, and the bundled instrument's answers in
//! API form.

use crate::server::TestServer;
use ikd_proto::v1 as api;
use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use tonic::service::Interceptor;
use tonic::transport::Channel;

/// Adds `authorization: Bearer <token>` to every call of a client.
#[derive(Clone, Debug)]
pub struct Bearer(pub String);

impl Bearer {
    pub fn new(token: &str) -> Self {
        Bearer(token.to_owned())
    }
}

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", self.0)
                .parse()
                .expect("an ASCII token"),
        );
        Ok(request)
    }
}

/// One request with `authorization: Bearer <token>`.
pub fn authorized<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("an ASCII token"),
    );
    request
}

/// A connected channel to the server.
pub async fn channel(server: &TestServer) -> Channel {
    Channel::from_shared(server.url())
        .expect("a valid URL")
        .connect()
        .await
        .expect("connect to ikd serve")
}

/// The bundled IKD-ASN 2025 instrument, latest version.
pub fn ikd_asn() -> Option<api::InstrumentRef> {
    Some(api::InstrumentRef {
        id: "ikd-asn-2025".into(),
        version: String::new(),
    })
}

/// `(item, value)` pairs as API answers.
pub fn api_answers(pairs: &[(String, String)]) -> Vec<api::Answer> {
    pairs
        .iter()
        .map(|(item_id, value)| api::Answer {
            item_id: item_id.clone(),
            value: value.clone(),
        })
        .collect()
}

/// The answers of every bundled example respondent, in API form.
pub fn example_answers() -> Vec<Vec<api::Answer>> {
    crate::example_respondents()
        .iter()
        .map(|r| api_answers(&r.answers))
        .collect()
}

/// Starts a session of the bundled instrument for `respondent_id` in `unit`,
/// saves `answers` and submits it (service token); the session id and the
/// submitted result.
pub async fn submit_session(
    channel: &Channel,
    token: &str,
    respondent_id: &str,
    unit: &str,
    answers: &[api::Answer],
) -> (String, api::SubmitSessionResponse) {
    let mut client = AssessmentServiceClient::new(channel.clone());
    let id = client
        .start_session(authorized(
            token,
            api::StartSessionRequest {
                instrument: ikd_asn(),
                respondent_id: respondent_id.into(),
                org_unit: unit.into(),
            },
        ))
        .await
        .expect("StartSession")
        .into_inner()
        .session_id;
    client
        .save_answers(authorized(
            token,
            api::SaveAnswersRequest {
                session_id: id.clone(),
                request_id: "1".into(),
                answers: answers.to_vec(),
            },
        ))
        .await
        .expect("SaveAnswers");
    let submitted = client
        .submit_session(authorized(
            token,
            api::SubmitSessionRequest {
                session_id: id.clone(),
                language: String::new(),
                end_early: false,
            },
        ))
        .await
        .expect("SubmitSession")
        .into_inner();
    (id, submitted)
}
