//! Prometheus metrics, served on a listener of their own (`metrics_addr`,
//! `GET /metrics`, OpenMetrics text) with no token: bind it to an internal
//! address. With `metrics_addr = off` nothing is recorded at all (no layer,
//! no decorator), so metrics cost nothing when they are not wanted.
//!
//! What is recorded, and where (the metric names are listed in
//! `docs/server.md`):
//!
//! * gRPC requests by method and status code, and their latency ([`grpc`]:
//!   a tower layer inside gRPC-Web, outside the request gate, so that refused
//!   requests are counted under their code);
//! * every write to the store, until committed ([`store`]: a decorator
//!   around the [`ikd_store::Store`]), and the sessions started and submitted
//!   through it;
//! * plugin calls (`crate::deadline`, where every scoring passes);
//! * the web app's requests by route and status ([`web`]).
//!
//! Label values come from closed sets — the methods of the served
//! descriptors (others are `rpc="unknown"`), the gRPC codes, the web app's
//! routes, the store's operations, the catalog's instruments — so no client
//! can make the number of time series grow.

pub(crate) mod grpc;
pub(crate) mod store;
pub(crate) mod web;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Latency buckets, in seconds: from a health check (well under a
/// millisecond) to a request at the default 30 s timeout.
const LATENCY_BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0,
    30.0,
];

fn latency() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

type Latencies<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RpcCode {
    rpc: Arc<str>,
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Rpc {
    rpc: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Operation {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PluginCall {
    instrument: String,
    call: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteStatus {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Route {
    route: String,
}

/// Every metric of the server, and the registry that encodes them.
pub(crate) struct Metrics {
    registry: Registry,
    /// `/package.Service/Method` of every served method → its label
    /// (`package.Service/Method`).
    rpcs: HashMap<String, Arc<str>>,
    unknown_rpc: Arc<str>,
    grpc_requests: Family<RpcCode, Counter>,
    grpc_latency: Latencies<Rpc>,
    store_latency: Latencies<Operation>,
    store_errors: Family<Operation, Counter>,
    plugin_latency: Latencies<PluginCall>,
    sessions_started: Counter,
    sessions_submitted: Counter,
    web_requests: Family<RouteStatus, Counter>,
    web_latency: Latencies<Route>,
}

impl Metrics {
    /// The metrics of a server serving the methods of `descriptor_sets`
    /// (encoded `FileDescriptorSet`s).
    pub(crate) fn new(descriptor_sets: &[&[u8]]) -> Metrics {
        let mut registry = Registry::with_prefix("ikd");
        let grpc_requests = Family::<RpcCode, Counter>::default();
        registry.register(
            "grpc_requests",
            "gRPC requests answered, by method (rpc) and status code",
            grpc_requests.clone(),
        );
        let grpc_latency = Latencies::<Rpc>::new_with_constructor(latency);
        registry.register_with_unit(
            "grpc_request_duration",
            "gRPC request latency by method, from the request's headers to its status \
             (a stream's whole length)",
            Unit::Seconds,
            grpc_latency.clone(),
        );
        let store_latency = Latencies::<Operation>::new_with_constructor(latency);
        registry.register_with_unit(
            "store_write_duration",
            "Duration of each write to the store, from its call until committed (or failed), \
             by operation",
            Unit::Seconds,
            store_latency.clone(),
        );
        let store_errors = Family::<Operation, Counter>::default();
        registry.register(
            "store_write_errors",
            "Store writes that failed in the database (answered UNAVAILABLE), by operation",
            store_errors.clone(),
        );
        let plugin_latency = Latencies::<PluginCall>::new_with_constructor(latency);
        registry.register_with_unit(
            "plugin_call_duration",
            "Duration of the plugin calls of one scoring (score: domain plugins and model; \
             check_answers: the domain plugins alone), by instrument, including the wait for \
             a blocking thread",
            Unit::Seconds,
            plugin_latency.clone(),
        );
        let sessions_started = Counter::default();
        registry.register(
            "sessions_started",
            "Sessions started on this server (StartSession, and first visits of invitation \
             links)",
            sessions_started.clone(),
        );
        let sessions_submitted = Counter::default();
        registry.register(
            "sessions_submitted",
            "Sessions submitted (scored and stored) on this server",
            sessions_submitted.clone(),
        );
        let web_requests = Family::<RouteStatus, Counter>::default();
        registry.register(
            "web_requests",
            "Web app requests answered, by route and HTTP status",
            web_requests.clone(),
        );
        let web_latency = Latencies::<Route>::new_with_constructor(latency);
        registry.register_with_unit(
            "web_request_duration",
            "Web app request latency by route, until the response's headers",
            Unit::Seconds,
            web_latency.clone(),
        );
        registry.register(
            "build",
            "The running ikd",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Metrics {
            registry,
            rpcs: method_paths(descriptor_sets)
                .into_iter()
                .map(|path| {
                    let label: Arc<str> = Arc::from(&path[1..]);
                    (path, label)
                })
                .collect(),
            unknown_rpc: Arc::from("unknown"),
            grpc_requests,
            grpc_latency,
            store_latency,
            store_errors,
            plugin_latency,
            sessions_started,
            sessions_submitted,
            web_requests,
            web_latency,
        }
    }

    /// The `rpc` label of a request path: a served method, or `unknown`.
    fn rpc(&self, path: &str) -> Arc<str> {
        self.rpcs.get(path).unwrap_or(&self.unknown_rpc).clone()
    }

    fn grpc_answered(&self, rpc: Arc<str>, code: &'static str, elapsed: Duration) {
        self.grpc_latency
            .get_or_create(&Rpc { rpc: rpc.clone() })
            .observe(elapsed.as_secs_f64());
        self.grpc_requests
            .get_or_create(&RpcCode { rpc, code })
            .inc();
    }

    /// Records a scoring's plugin calls (`call`: `score` or `check_answers`).
    pub(crate) fn plugin_called(&self, instrument: &str, call: &'static str, elapsed: Duration) {
        self.plugin_latency
            .get_or_create(&PluginCall {
                instrument: instrument.to_owned(),
                call,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The registry in the OpenMetrics text format.
    pub(crate) fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// The media type of [`Metrics::encode`]'s text.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `GET /metrics` on `listener` until `shutdown` completes; every
/// other path is 404. No token: the listener is meant for an internal
/// address that only the scraper reaches.
pub(crate) async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::http::header;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = metrics.clone();
            async move { ([(header::CONTENT_TYPE, OPENMETRICS)], metrics.encode()) }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The paths (`/package.Service/Method`) of every method of the services of
/// encoded descriptor sets.
fn method_paths(descriptor_sets: &[&[u8]]) -> Vec<String> {
    use prost::Message;
    let mut paths = Vec::new();
    for encoded in descriptor_sets {
        let Ok(set) = prost_types::FileDescriptorSet::decode(*encoded) else {
            continue;
        };
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    paths.push(format!(
                        "/{}.{}/{}",
                        file.package(),
                        service.name(),
                        method.name()
                    ));
                }
            }
        }
    }
    paths
}

/// The canonical name of a gRPC status code (a `grpc-status` value), as in
/// the gRPC specification: `OK`, `INVALID_ARGUMENT`, …; `UNKNOWN` for
/// anything else.
fn code_name(code: &[u8]) -> &'static str {
    std::str::from_utf8(code)
        .ok()
        .and_then(|c| c.trim().parse::<i32>().ok())
        .map_or("UNKNOWN", code_label)
}

/// [`code_name`] of a code's number.
fn code_label(code: i32) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|c| NAMES.get(c).copied())
        .unwrap_or("UNKNOWN")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_unknown_methods_have_closed_labels() {
        assert_eq!(code_name(b"0"), "OK");
        assert_eq!(code_name(b"3"), "INVALID_ARGUMENT");
        assert_eq!(code_name(b"16"), "UNAUTHENTICATED");
        assert_eq!(code_name(b"17"), "UNKNOWN");
        assert_eq!(code_name(b"x"), "UNKNOWN");
        let metrics = Metrics::new(&[ikd_proto::FILE_DESCRIPTOR_SET]);
        assert_eq!(
            &*metrics.rpc("/ikd.v1.AssessmentService/Score"),
            "ikd.v1.AssessmentService/Score"
        );
        assert_eq!(&*metrics.rpc("/ikd.v1.AssessmentService/Nope"), "unknown");
        assert_eq!(&*metrics.rpc("/anything/at-all"), "unknown");
    }

    #[test]
    fn the_exposition_names_follow_prometheus_conventions() {
        let metrics = Metrics::new(&[ikd_proto::FILE_DESCRIPTOR_SET]);
        metrics.grpc_answered(
            metrics.rpc("/ikd.v1.AssessmentService/Score"),
            "OK",
            Duration::from_millis(3),
        );
        metrics.sessions_started.inc();
        let text = metrics.encode();
        for line in [
            "# TYPE ikd_grpc_requests counter",
            "ikd_grpc_requests_total{rpc=\"ikd.v1.AssessmentService/Score\",code=\"OK\"} 1",
            "# TYPE ikd_grpc_request_duration_seconds histogram",
            "ikd_grpc_request_duration_seconds_bucket{le=\"0.005\",rpc=\"ikd.v1.AssessmentService/Score\"} 1",
            "ikd_sessions_started_total 1",
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }
    }
}
