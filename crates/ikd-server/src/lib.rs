//! # ikd-server
//!
//! The IKD gRPC server: `ikd.v1.AssessmentService` and `ikd.v1.AdminService`
//! (see `proto/ikd/v1`), `grpc.health.v1` health and server reflection, over
//! the engine (`ikd-core`) and a store (`ikd-store`, SQLite or PostgreSQL).
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use ikd_core::host::{PluginHost, PluginSearch};
//! use ikd_server::{ServerConfig, Server};
//!
//! let mut config = ServerConfig::load(None)?; // defaults + IKD_* variables
//! config.instruments = vec!["instruments".into()];
//! let host = PluginHost::discover(&PluginSearch::standard(&config.plugin_dirs));
//! let server = Server::start(config, host).await?;
//! println!("listening on {}", server.local_addr());
//! server.run(async { tokio::signal::ctrl_c().await.ok(); }).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Modules: [`config`] (file + environment), [`auth`] (tokens, roles, scopes),
//! `secret` (pseudonyms), `catalog` (instruments bound to plugins),
//! `assessment` / `admin` / `report` (the services, thin), and what they call:
//! `access` (the caller's sessions and scope), `instruments`, `stateless`
//! (`Score`, `ScoreStream`), `sessions`, `aggregates`, `disclosure` (what may
//! be published), `export`, `audit`, `deadline` (plugin calls under the request
//! timeout), `answers` (request checks), `render` (results for the API),
//! `errors` (statuses), `transport` (connections, the gate), `metrics`
//! (Prometheus metrics on a listener of their own).

mod access;
mod adaptive;
mod admin;
mod aggregates;
mod answers;
mod assessment;
mod audit;
pub mod auth;
mod catalog;
pub mod config;
mod deadline;
mod disclosure;
mod errors;
mod export;
mod gather;
mod instruments;
mod invitations;
mod metrics;
mod presentation;
pub mod records;
mod render;
mod report;
pub mod secret;
mod sessions;
mod stateless;
mod table;
mod transport;
pub mod web;

pub use config::{ConfigError, ServerConfig};

use catalog::Catalog;
use ikd_core::host::PluginHost;
use ikd_proto::v1::admin_service_server::AdminServiceServer;
use ikd_proto::v1::assessment_service_server::AssessmentServiceServer;
use ikd_proto::v1::report_service_server::ReportServiceServer;
use ikd_store::Store;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use transport::gate::{GateConfig, GateLayer};
use transport::incoming::ConnLimits;

/// What every RPC shares.
pub(crate) struct State {
    catalog: Catalog,
    store: Arc<dyn Store>,
    auth: Arc<auth::Authenticator>,
    pseudonyms: secret::Pseudonymizer,
    min_group_size: u32,
    limits: config::Limits,
    /// `None` when metrics are off (`metrics_addr = off`): nothing recorded.
    metrics: Option<Arc<metrics::Metrics>>,
    /// One-respondent scorings and answer checks, gathered into batches.
    scorings: Arc<gather::Gather<gather::Scoring>>,
    checks: Arc<gather::Gather<gather::Checking>>,
    submits: Arc<gather::Gather<gather::Submitting>>,
}

/// Why the server cannot start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Catalog(#[from] catalog::CatalogError),
    #[error(transparent)]
    Store(#[from] ikd_store::StoreError),
    #[error(transparent)]
    Token(#[from] auth::TokenError),
    /// `source` is the OS reason; callers print the chain (`{:#}`), so the
    /// message does not repeat it.
    #[error("{what}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A server that has loaded everything and bound its port, ready to serve.
pub struct Server {
    state: Arc<State>,
    config: ServerConfig,
    listener: TcpListener,
    /// The respondent web app's listener, when it is served.
    web: Option<TcpListener>,
    /// The metrics listener, when metrics are on.
    metrics: Option<TcpListener>,
}

/// The descriptors of every service served: what the gate and the metrics
/// learn the methods from.
const DESCRIPTOR_SETS: [&[u8]; 4] = [
    ikd_proto::FILE_DESCRIPTOR_SET,
    tonic_health::pb::FILE_DESCRIPTOR_SET,
    tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
    tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
];

impl Server {
    /// Loads instruments and plugins, opens the store (running migrations),
    /// sets up tokens and the pseudonym key, and binds the address. Every
    /// problem stops the start with a message naming its source.
    pub async fn start(config: ServerConfig, host: PluginHost) -> Result<Server, ServeError> {
        config.check()?;
        let io = |what: String| move |source| ServeError::Io { what, source };
        // Listen first: a busy port must not leave a data directory or a
        // first-run token behind.
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(io(format!("cannot listen on {}", config.addr)))?;
        let web = match config.web_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(io(format!("cannot listen on {addr} (web app)")))?,
            ),
            None => None,
        };
        let metrics_listener = match config.metrics_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(io(format!("cannot listen on {addr} (metrics)")))?,
            ),
            None => None,
        };
        let metrics = metrics_listener
            .as_ref()
            .map(|_| Arc::new(metrics::Metrics::new(&DESCRIPTOR_SETS)));
        std::fs::create_dir_all(&config.data_dir)
            .map_err(io(format!("data directory {}", config.data_dir.display())))?;
        let catalog = Catalog::load(Arc::new(host), &config.instruments)?;
        let store = ikd_store::open(&config.database_url()).await?;
        let store: Arc<dyn Store> = match &metrics {
            Some(m) => Arc::new(metrics::store::MeteredStore::new(store, m.clone())),
            None => store,
        };
        let key_file = config
            .pseudonym_key_file
            .clone()
            .unwrap_or_else(|| config.data_dir.join("pseudonym.key"));
        let pseudonyms = secret::Pseudonymizer::load_or_create(&key_file)
            .map_err(io(format!("pseudonym key {}", key_file.display())))?;
        let mut tokens = config.tokens.clone();
        if tokens.is_empty() {
            // Replicas on one PostgreSQL share the token through the database;
            // a server with a database of its own keeps it beside its data.
            let admin = if store.backend() == "postgres" {
                auth::first_run_admin_shared(&*store).await?
            } else {
                auth::first_run_admin(&config.data_dir)
                    .map_err(io("first-run admin token".to_owned()))?
            };
            tokens.push(admin);
        }
        let auth = auth::Authenticator::new(&tokens)?;
        let instruments: Vec<String> = catalog
            .entries()
            .iter()
            .map(|e| {
                let i = e.scorer.instrument();
                format!("{} {}", i.id, i.version)
            })
            .collect();
        let plugins: Vec<&str> = catalog.host.loaded().map(|p| p.name()).collect();
        tracing::info!(
            addr = %config.addr,
            store = store.backend(),
            instruments = %instruments.join(", "),
            plugins = %plugins.join(", "),
            "server ready"
        );
        // One batch per core may run at once for each scorer.
        let runners = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Server {
            state: Arc::new(State {
                catalog,
                store,
                auth: Arc::new(auth),
                pseudonyms,
                min_group_size: config.min_group_size,
                limits: config.limits.clone(),
                metrics,
                scorings: gather::Gather::new(runners),
                checks: gather::Gather::new(runners),
                submits: gather::Gather::new(runners),
            }),
            config,
            listener,
            web,
            metrics: metrics_listener,
        })
    }

    /// A link for trying the web app: one invitation of a made-up respondent
    /// (`demo-<random>`) of unit `demo` to the newest version of
    /// `instrument`, valid for a day. Returns the link's path (`/take/<token>`).
    pub async fn demo_invitation(&self, instrument: &str) -> Result<String, String> {
        let wanted = ikd_proto::v1::InstrumentRef {
            id: instrument.to_owned(),
            version: String::new(),
        };
        let entry = self
            .state
            .catalog
            .resolve(Some(&wanted))
            .map_err(|s| s.message().to_owned())?;
        let respondent = format!("demo-{}", hex::encode(rand::random::<[u8; 4]>()));
        let expires_at = render::now_millis() + 24 * 3600 * 1000;
        let links = invitations::issue(
            &self.state,
            entry,
            "demo",
            &[respondent],
            expires_at,
            "ikd serve --demo",
        )
        .await
        .map_err(|s| s.message().to_owned())?;
        Ok(links[0].path.clone())
    }

    /// The web app's bound address, when it is served.
    pub fn web_addr(&self) -> Option<SocketAddr> {
        self.web.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The metrics listener's bound address, when metrics are on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then stops accepting and lets
    /// in-flight requests finish for at most the configured grace period.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), ServeError> {
        let Server {
            state,
            config,
            listener,
            web,
            metrics: metrics_listener,
        } = self;
        let limits = &config.limits;
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<AssessmentServiceServer<assessment::Assessment>>()
            .await;
        health
            .set_serving::<AdminServiceServer<admin::Admin>>()
            .await;
        health
            .set_serving::<ReportServiceServer<report::Reports>>()
            .await;
        let reflection = |b: tonic_reflection::server::Builder<'static>| {
            b.register_encoded_file_descriptor_set(ikd_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1 = reflection(tonic_reflection::server::Builder::configure())
            .build_v1()
            .map_err(|e| ServeError::Tls(format!("reflection: {e}")))?;
        let reflection_v1alpha = reflection(tonic_reflection::server::Builder::configure())
            .build_v1alpha()
            .map_err(|e| ServeError::Tls(format!("reflection: {e}")))?;

        let assessment = AssessmentServiceServer::new(assessment::Assessment {
            state: state.clone(),
        })
        .max_decoding_message_size(limits.max_request_bytes);
        let admin = AdminServiceServer::new(admin::Admin {
            state: state.clone(),
        })
        .max_decoding_message_size(limits.max_request_bytes);
        let reports = ReportServiceServer::new(report::Reports {
            state: state.clone(),
        })
        .max_decoding_message_size(limits.max_request_bytes);

        // The per-connection limit is HTTP/2's own stream limit: clients queue
        // beyond it. The global limit and authentication are the gate's.
        let keepalive = ServerConfig::seconds_or_off(limits.http2_keepalive_seconds);
        let mut builder = tonic::transport::Server::builder()
            .max_concurrent_streams(u32::try_from(limits.max_concurrent_per_connection).ok())
            .http2_keepalive_interval(keepalive)
            .http2_keepalive_timeout(keepalive)
            .timeout(config.request_timeout());
        if let Some(tls) = &config.tls {
            let read = |p: &std::path::Path| {
                std::fs::read(p).map_err(|e| ServeError::Io {
                    what: format!("TLS file {}", p.display()),
                    source: e,
                })
            };
            let identity = tonic::transport::Identity::from_pem(read(&tls.cert)?, read(&tls.key)?);
            builder = builder
                .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
                .map_err(|e| ServeError::Tls(e.to_string()))?;
        }
        let gate = GateLayer::new(GateConfig {
            auth: state.auth.clone(),
            max_concurrent_requests: limits.max_concurrent_requests,
            body_timeout: Duration::from_secs(limits.request_body_timeout_seconds),
            client_streaming: transport::gate::client_streaming_methods(&DESCRIPTOR_SETS),
        });
        // Browsers call the same services through gRPC-Web (HTTP/1.1 or 2);
        // other origins only when the operator lists them (CORS, none by
        // default). CORS answers preflights before the gate asks for a token.
        // Metrics see gRPC-Web calls as gRPC, and what the gate refuses.
        let router = builder
            .accept_http1(true)
            .layer(tower::util::option_layer(transport::cors::layer(
                &config.cors_origins,
            )))
            .layer(tonic_web::GrpcWebLayer::new())
            .layer(tower::util::option_layer(
                state.metrics.clone().map(metrics::grpc::MetricsLayer),
            ))
            .layer(gate)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(assessment)
            .add_service(admin)
            .add_service(reports);

        let stopping = Arc::new(tokio::sync::Notify::new());
        // The web app stops with the gRPC server: one shutdown, told to both.
        let (web_stop, web_stopped) = tokio::sync::watch::channel(false);
        let signal = {
            let stopping = stopping.clone();
            async move {
                shutdown.await;
                tracing::info!("shutting down: no new connections");
                let _ = web_stop.send(true);
                stopping.notify_one();
            }
        };
        let web_task = web.map(|listener| {
            let mut stopped = web_stopped.clone();
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            tokio::spawn(web::serve(listener, state.clone(), shutdown))
        });
        let metrics_task = metrics_listener
            .zip(state.metrics.clone())
            .map(|(listener, m)| {
                let mut stopped = web_stopped.clone();
                let shutdown = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                tokio::spawn(metrics::serve(listener, m, shutdown))
            });
        let grace = Duration::from_secs(limits.shutdown_grace_seconds);
        let serve = router.serve_with_incoming_shutdown(
            transport::incoming::incoming(listener, connection_limits(limits)),
            signal,
        );
        tokio::pin!(serve);
        let outcome = tokio::select! {
            outcome = &mut serve => outcome.map_err(ServeError::from),
            _ = async { stopping.notified().await; tokio::time::sleep(grace).await } => {
                tracing::warn!("requests still running after {grace:?}; stopping anyway");
                Ok(())
            }
        };
        if let Some(task) = web_task {
            // Bounded like the gRPC side: a stuck page must not hold the exit.
            match tokio::time::timeout(grace, task).await {
                Ok(Ok(Err(e))) => tracing::error!("web app: {e}"),
                Ok(_) => {}
                Err(_) => {
                    tracing::warn!("web requests still running after {grace:?}; stopping anyway")
                }
            }
        }
        if let Some(task) = metrics_task {
            match tokio::time::timeout(grace, task).await {
                Ok(Ok(Err(e))) => tracing::error!("metrics: {e}"),
                Ok(_) => {}
                Err(_) => tracing::warn!("a metrics scrape still running after {grace:?}"),
            }
        }
        health
            .set_not_serving::<AssessmentServiceServer<assessment::Assessment>>()
            .await;
        state.store.close().await;
        outcome
    }
}

/// Descriptors kept free for the store, plugins and files when the
/// connection cap is fitted to the process's limit.
const RESERVED_DESCRIPTORS: u64 = 128;

/// The configured connection limits, with the cap lowered to what the
/// process's descriptor limit allows (20,000 idle connections used to
/// exhaust it, and then every accept failed).
fn connection_limits(limits: &config::Limits) -> ConnLimits {
    let configured = limits.max_connections;
    let fits = transport::incoming::descriptor_limit()
        .map(|n| n.saturating_sub(RESERVED_DESCRIPTORS).max(16))
        .map_or(configured, |n| configured.min(n as usize));
    if fits < configured {
        tracing::info!(
            configured,
            max_connections = fits,
            "connection cap lowered to fit the descriptor limit"
        );
    }
    ConnLimits {
        max_connections: fits,
        handshake_timeout: Duration::from_secs(limits.handshake_timeout_seconds),
        idle_timeout: Duration::from_secs(limits.idle_timeout_seconds),
        tcp_keepalive: ServerConfig::seconds_or_off(limits.tcp_keepalive_seconds),
    }
}
