//! The tower layer that counts gRPC requests by method and status code and
//! times them.
//!
//! It sits inside the gRPC-Web layer (so gRPC-Web calls are counted as the
//! gRPC calls they become) and outside the request gate (so requests the gate
//! refuses — `UNAUTHENTICATED`, `RESOURCE_EXHAUSTED` — are counted too). The
//! code is read where gRPC puts it: the response headers of a trailers-only
//! answer (errors), else the trailers at the end of the body; the time is
//! taken then, so a stream is timed to its end. A request whose answer never
//! ends — the client went away, or tonic's timeout dropped it (which answers
//! `CANCELLED`) — is counted as `CANCELLED` when it is dropped.

use super::{Metrics, code_label, code_name};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tonic::Status;
use tonic::body::Body;

/// Puts a [`Metered`] in front of the services.
#[derive(Clone)]
pub(crate) struct MetricsLayer(pub(crate) Arc<Metrics>);

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = Metered<S>;

    fn layer(&self, inner: S) -> Metered<S> {
        Metered {
            inner,
            metrics: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Metered<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S> tower::Service<http::Request<Body>> for Metered<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let call = Call {
            rpc: Some(self.metrics.rpc(request.uri().path())),
            metrics: self.metrics.clone(),
            start: Instant::now(),
        };
        let answer = self.inner.call(request);
        Box::pin(async move {
            let mut call = call;
            let response = match answer.await {
                Ok(response) => response,
                Err(e) => {
                    // tonic turns a service error into UNKNOWN.
                    call.finish("UNKNOWN");
                    return Err(e);
                }
            };
            if let Some(code) = response.headers().get("grpc-status") {
                call.finish(code_name(code.as_bytes()));
                return Ok(response);
            }
            Ok(response.map(|body| {
                Body::new(MeteredBody {
                    body,
                    call: Some(call),
                })
            }))
        })
    }
}

/// One request until its status is known; dropped before: `CANCELLED`.
struct Call {
    metrics: Arc<Metrics>,
    /// Taken when the request is recorded.
    rpc: Option<Arc<str>>,
    start: Instant,
}

impl Call {
    fn finish(&mut self, code: &'static str) {
        if let Some(rpc) = self.rpc.take() {
            self.metrics.grpc_answered(rpc, code, self.start.elapsed());
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.finish("CANCELLED");
    }
}

/// A response body that records its request when the trailers pass.
struct MeteredBody {
    body: Body,
    call: Option<Call>,
}

impl http_body::Body for MeteredBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        let code = match &polled {
            Poll::Ready(Some(Ok(frame))) => frame.trailers_ref().map(|t| {
                t.get("grpc-status")
                    .map_or("UNKNOWN", |c| code_name(c.as_bytes()))
            }),
            Poll::Ready(Some(Err(status))) => Some(code_label(status.code() as i32)),
            // The end without trailers: not a gRPC answer.
            Poll::Ready(None) => Some("UNKNOWN"),
            Poll::Pending => None,
        };
        if let Some(code) = code
            && let Some(mut call) = self.call.take()
        {
            call.finish(code);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
