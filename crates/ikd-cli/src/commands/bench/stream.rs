//! `Score` and `ScoreStream` driven by a lean client: requests are encoded once
//! up front and responses are read only as far as a `Score` result's presence,
//! or a stream response's sequence number and problem, so the figure is the
//! server's throughput, not this client's protobuf work (which shares the
//! machine's cores with the server). h2load, the independent cross-check, sends
//! pre-encoded bodies and decodes nothing either.

use anyhow::{Context, Result};
use bytes::{Buf, BufMut, Bytes};
use ikd_proto::codec::IkdCodec;
use ikd_proto::v1 as api;
use prost::encoding::{DecodeContext, WireType};
use std::sync::Arc;
use std::time::Instant;
use tonic::Status;
use tonic::client::{Grpc, GrpcService};
use tonic::codegen::http::uri::PathAndQuery;

/// A message already encoded: written to the wire as it is.
#[derive(Clone, Debug, Default)]
pub(super) struct Encoded(Bytes);

impl Encoded {
    /// `request` for bulk scoring: scores and levels only.
    pub fn score_request(request: &api::ScoreRequest) -> Encoded {
        Encoded::message(&api::ScoreRequest {
            detail: api::ResultDetail::Scores as i32,
            ..request.clone()
        })
    }

    /// `message` as it goes on the wire.
    pub fn message(message: &impl prost::Message) -> Encoded {
        Encoded(message.encode_to_vec().into())
    }
}

impl prost::Message for Encoded {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0 = Bytes::new();
    }
}

/// What the client reads of a `ScoreResponse`: that it holds a result (field 1),
/// left undecoded.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct ScoreAck {
    #[prost(bytes = "bytes", optional, tag = "1")]
    pub result: Option<Bytes>,
}

/// Scores one pre-encoded request over `service` (a unary `Score`); a reply without
/// a result is an error.
pub(super) async fn score<S>(service: S, request: Encoded) -> Result<(), Status>
where
    S: GrpcService<tonic::body::Body> + Send,
    S::Future: Send,
    S::ResponseBody: tonic::codegen::Body<Data = Bytes> + Send + 'static,
    <S::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
    S::Error: Into<tonic::codegen::StdError>,
{
    let mut grpc = Grpc::new(service);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.into().to_string()))?;
    let path = PathAndQuery::from_static("/ikd.v1.AssessmentService/Score");
    let reply = grpc
        .unary(
            tonic::Request::new(request),
            path,
            IkdCodec::<Encoded, ScoreAck>::default(),
        )
        .await?
        .into_inner();
    match reply.result {
        Some(result) if !result.is_empty() => Ok(()),
        _ => Err(Status::internal("a Score reply without a result")),
    }
}

/// What the client reads of a `ScoreStreamResponse`: the result (field 3) is skipped.
#[derive(Clone, PartialEq, prost::Message)]
struct Ack {
    #[prost(uint64, tag = "1")]
    sequence: u64,
    #[prost(message, optional, tag = "4")]
    problem: Option<api::Problem>,
}

/// Respondents per second through `streams` concurrent `ScoreStream` calls
/// (round robin over `services`, one per connection). A response with a
/// problem, or out of order, is an error.
pub(super) async fn respondents_per_second<S>(
    services: &[S],
    requests: &Arc<Vec<Encoded>>,
    respondents: usize,
    streams: usize,
) -> Result<f64>
where
    S: GrpcService<tonic::body::Body> + Clone + Send + 'static,
    S::Future: Send,
    S::ResponseBody: tonic::codegen::Body<Data = Bytes> + Send + 'static,
    <S::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
    S::Error: Into<tonic::codegen::StdError>,
{
    let started = Instant::now();
    let streams = streams.max(1);
    let mut tasks = Vec::new();
    for s in 0..streams {
        let mut grpc = Grpc::new(services[s % services.len()].clone());
        let requests = requests.clone();
        let share = respondents / streams;
        tasks.push(tokio::spawn(async move {
            grpc.ready()
                .await
                .map_err(|e| Status::unavailable(e.into().to_string()))?;
            let outbound = tokio_stream::iter(
                (0..share).map(move |k| requests[(k + s) % requests.len()].clone()),
            );
            let path = PathAndQuery::from_static("/ikd.v1.AssessmentService/ScoreStream");
            let mut inbound = grpc
                .streaming(
                    tonic::Request::new(outbound),
                    path,
                    IkdCodec::<Encoded, Ack>::default(),
                )
                .await?
                .into_inner();
            let mut received = 0u64;
            while let Some(ack) = inbound.message().await? {
                if let Some(p) = ack.problem {
                    return Err(Status::new(p.code.into(), p.message));
                }
                if ack.sequence != received {
                    return Err(Status::internal(format!(
                        "response {} came as {received}",
                        ack.sequence
                    )));
                }
                received += 1;
            }
            Ok::<u64, Status>(received)
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.context("stream task")??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
