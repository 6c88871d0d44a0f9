//! The request gate: what every request passes before a service sees it, in
//! this order, so that a client without a token cannot hold anything.
//!
//! 1. **Authentication** — a request for an IKD service without a known,
//!    unexpired token is answered `UNAUTHENTICATED` from its headers alone,
//!    before it takes a slot or its body is read. (Roles are checked by each
//!    service, which knows what it needs.) Health and reflection need none.
//! 2. **Activity** — the request counts as in flight on its connection until
//!    its response is sent, so busy connections are not closed as idle.
//! 3. **Global limit** — at most `max_concurrent_requests` at once over all
//!    connections; beyond it `RESOURCE_EXHAUSTED` at once, saying so. Health
//!    checks are not counted: an overloaded server is still alive. The limit
//!    per connection is HTTP/2's own `max_concurrent_streams`, which clients
//!    respect by queueing rather than failing.
//! 4. **Body deadline** — a unary request's message must arrive within the
//!    body timeout, so an authenticated client that sends headers and stalls
//!    holds its slot for seconds, not for the whole request timeout.

use super::activity::InFlight;
use super::incoming::ConnInfo;
use crate::auth::Authenticator;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tonic::Status;
use tonic::body::Body;
use tonic::transport::server::TlsConnectInfo;

/// What the gate needs to decide.
pub struct GateConfig {
    pub auth: Arc<Authenticator>,
    pub max_concurrent_requests: usize,
    pub body_timeout: Duration,
    /// Paths (`/package.Service/Method`) whose requests are streams: no body deadline.
    pub client_streaming: HashSet<String>,
}

struct Shared {
    config: GateConfig,
    slots: Arc<Semaphore>,
}

/// The [`tower::Layer`] that puts a [`Gate`] in front of the services.
#[derive(Clone)]
pub struct GateLayer(Arc<Shared>);

impl GateLayer {
    pub fn new(config: GateConfig) -> Self {
        let slots = Arc::new(Semaphore::new(config.max_concurrent_requests));
        GateLayer(Arc::new(Shared { config, slots }))
    }
}

impl<S> tower::Layer<S> for GateLayer {
    type Service = Gate<S>;

    fn layer(&self, inner: S) -> Gate<S> {
        Gate {
            inner,
            shared: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Gate<S> {
    inner: S,
    shared: Arc<Shared>,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S> tower::Service<http::Request<Body>> for Gate<S>
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
        let config = &self.shared.config;
        let path = request.uri().path();
        let open = is_open(path);
        if !open && let Err(status) = config.auth.authenticate(request.headers()) {
            return refuse(status);
        }
        let in_flight = connection(&request).map(|info| info.activity.begin());
        let slot = if path.starts_with(HEALTH) {
            None
        } else {
            match self.shared.slots.clone().try_acquire_owned() {
                Ok(slot) => Some(slot),
                Err(_) => {
                    return refuse(Status::resource_exhausted(format!(
                        "the server is handling its limit of {} requests at once \
                         (all connections); retry with back-off",
                        config.max_concurrent_requests
                    )));
                }
            }
        };
        let request = if config.client_streaming.contains(path) {
            request
        } else {
            let timeout = config.body_timeout;
            request.map(|body| Body::new(DeadlineBody::new(body, timeout)))
        };
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = call.await?;
            drop(slot);
            Ok(match in_flight {
                Some(guard) => response.map(|body| {
                    Body::new(TrackedBody {
                        body,
                        _guard: guard,
                    })
                }),
                None => response,
            })
        })
    }
}

const HEALTH: &str = "/grpc.health.v1.Health/";
const REFLECTION: &str = "/grpc.reflection.";

/// Health and reflection are served without a token.
fn is_open(path: &str) -> bool {
    path.starts_with(HEALTH) || path.starts_with(REFLECTION)
}

fn refuse<E: Send + 'static>(status: Status) -> BoxFuture<http::Response<Body>, E> {
    Box::pin(std::future::ready(Ok(status.into_http())))
}

/// The request's connection, over plain TCP or TLS.
fn connection<B>(request: &http::Request<B>) -> Option<&ConnInfo> {
    let ext = request.extensions();
    ext.get::<ConnInfo>()
        .or_else(|| ext.get::<TlsConnectInfo<ConnInfo>>().map(|t| t.get_ref()))
}

/// The full request body within `timeout` of the request, or `DEADLINE_EXCEEDED`.
struct DeadlineBody {
    body: Body,
    deadline: Pin<Box<Sleep>>,
    timeout: Duration,
}

impl DeadlineBody {
    fn new(body: Body, timeout: Duration) -> Self {
        DeadlineBody {
            body,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            timeout,
        }
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Status::deadline_exceeded(format!(
                "the request message did not arrive within {:?}",
                self.timeout
            ))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A response body that keeps its request counted until it has been sent.
struct TrackedBody {
    body: Body,
    _guard: InFlight,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The paths of methods whose requests are streams, from encoded descriptor sets.
pub fn client_streaming_methods(descriptor_sets: &[&[u8]]) -> HashSet<String> {
    use prost::Message;
    let mut paths = HashSet::new();
    for encoded in descriptor_sets {
        let Ok(set) = prost_types::FileDescriptorSet::decode(*encoded) else {
            continue;
        };
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    if method.client_streaming() {
                        paths.insert(format!(
                            "/{}.{}/{}",
                            file.package(),
                            service.name(),
                            method.name()
                        ));
                    }
                }
            }
        }
    }
    paths
}
