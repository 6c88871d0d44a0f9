//! The web app's requests by route and status: an axum middleware, added to
//! the app's router when metrics are on. The route is the router's pattern
//! (`/take/{token}/page/{part}`: never a token), `unmatched` for any other
//! path.

use super::{Metrics, Route, RouteStatus};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;

pub(crate) async fn track(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let start = Instant::now();
    let response = next.run(request).await;
    metrics
        .web_latency
        .get_or_create(&Route {
            route: route.clone(),
        })
        .observe(start.elapsed().as_secs_f64());
    metrics
        .web_requests
        .get_or_create(&RouteStatus {
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
