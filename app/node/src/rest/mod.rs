//! The REST server (default 127.0.0.1:1317): the SDK's LCD (grpc-gateway)
//! paths in proto3 JSON, served from the same handlers as ABCI and gRPC
//! queries.
//!
//! Every route maps path parameters, query parameters (`pagination.limit`,
//! `denom`, …) and, for POST, the JSON body onto the gRPC request message,
//! calls [`crate::query::query_grpc`] on a blocking thread and renders the
//! response message as the gateway does (see [`json`]). The height comes
//! from the `x-cosmos-block-height` header (absent = latest).

pub mod error;
pub mod json;
pub mod request;
pub mod routes;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use paychain_framework::error::GrpcCode;
use serde_json::{json, Value};
use tower_http::cors::{AllowOrigin, Any as CorsAny, CorsLayer};

use crate::served::ServedApp;
use error::{json_response, RestError};
use request::url_decode_pairs;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The SDK's height header.
pub const HEIGHT_HEADER: &str = "x-cosmos-block-height";

fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(CorsAny)
        .expose_headers(CorsAny);
    if origins.iter().any(|o| o.trim() == "*") {
        layer.allow_origin(CorsAny)
    } else {
        let list: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o.trim()).ok()).collect();
        layer.allow_origin(AllowOrigin::list(list))
    }
}

/// The router (exposed for in-process tests).
pub fn router(app: ServedApp) -> axum::Router {
    let layer = cors(&app.config().rest_cors_allowed_origins);
    axum::Router::new().fallback(handle).with_state(app).layer(layer)
}

/// Binds `addr` and serves REST on `runtime`; returns the bound address.
pub fn serve(app: ServedApp, addr: SocketAddr, runtime: &tokio::runtime::Handle) -> anyhow::Result<SocketAddr> {
    let std_listener =
        std::net::TcpListener::bind(addr).map_err(|e| anyhow::anyhow!("cannot listen for REST on {addr}: {e}"))?;
    std_listener.set_nonblocking(true)?;
    let bound = std_listener.local_addr()?;
    let router = router(app);
    let _guard = runtime.enter();
    let listener = tokio::net::TcpListener::from_std(std_listener)?;
    runtime.spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!("REST server stopped: {e}");
        }
    });
    tracing::info!(rest_addr = %bound, "serving REST");
    Ok(bound)
}

async fn handle(State(app): State<ServedApp>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    match handle_inner(app, method, uri, headers, body).await {
        Ok(v) => json_response(StatusCode::OK, v),
        Err(e) => {
            let too_large = e.status == StatusCode::PAYLOAD_TOO_LARGE;
            let mut resp = e.into_response();
            if too_large {
                // The unread rest of the body makes the connection unusable.
                resp.headers_mut().insert(axum::http::header::CONNECTION, HeaderValue::from_static("close"));
            }
            resp
        }
    }
}

async fn handle_inner(
    app: ServedApp,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Value, RestError> {
    let path = uri.path().to_string();
    let Some((route, params)) = routes::find(&method, &path) else {
        return Err(RestError::not_implemented(format!("Not Implemented: {method} {path}")));
    };
    let height = match headers.get(HEIGHT_HEADER) {
        None => 0,
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| RestError::bad_request(format!("invalid {HEIGHT_HEADER} header: {v:?}")))?,
    };
    let body = if method == Method::POST {
        let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|e| RestError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: GrpcCode::InvalidArgument as i32,
            message: format!("request body too large (limit {MAX_BODY_BYTES} bytes): {e}"),
        })?;
        let v: Value = if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(&bytes).map_err(|e| RestError::bad_request(format!("invalid JSON body: {e}")))?
        };
        if !v.is_object() {
            return Err(RestError::bad_request("invalid JSON body: expected an object"));
        }
        Some(v)
    } else {
        None
    };
    let query: Vec<(String, String)> = uri.query().map(url_decode_pairs).unwrap_or_default();
    tokio::task::spawn_blocking(move || route.answer(&app, request::Input { params, query, body }, height))
        .await
        .map_err(|e| RestError::internal(format!("handler failed: {e}")))?
}
