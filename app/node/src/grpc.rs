//! The gRPC server (default 127.0.0.1:9090): the same handlers as ABCI queries.
//!
//! One generic service answers every method path: the request's gRPC frame is
//! decoded as raw bytes, handed to [`query_grpc`] (modules, Simulate and the
//! app services) on a blocking thread, and its protobuf answer is framed back.
//! So every query the node knows over ABCI is served over gRPC unchanged, with
//! no generated server trait to keep in step.
//!
//! - `x-cosmos-block-height` request metadata selects the height (0 or absent
//!   = latest); the answer carries the height served in the same header.
//! - Messages above [`MAX_MESSAGE_BYTES`] are refused before any handler runs
//!   (tonic answers `OutOfRange`).
//! - `QueryError` codes map to the same gRPC status codes.

use std::convert::Infallible;
use std::net::SocketAddr;

use anyhow::Context as _;
use bytes::{Buf as _, BufMut as _};
use paychain_framework::error::GrpcCode;
use paychain_framework::QueryError;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{http, Body, BoxFuture, Context, Poll, Service, StdError};
use tonic::{Code, Status};

use crate::query::{query_grpc, SIMULATE_PATH};
use crate::served::ServedApp;

/// The SDK's height header (request and response metadata).
pub const HEIGHT_HEADER: &str = "x-cosmos-block-height";
/// Largest request or response message (gRPC-go's default is 4 MiB too).
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Binds `addr` and serves gRPC on `runtime`; returns the bound address.
pub fn serve(app: ServedApp, addr: SocketAddr, runtime: &tokio::runtime::Handle) -> anyhow::Result<SocketAddr> {
    let std_listener =
        std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen for gRPC on {addr}"))?;
    std_listener.set_nonblocking(true).context("gRPC listener")?;
    let bound = std_listener.local_addr().context("gRPC listener address")?;
    let listener = {
        let _guard = runtime.enter();
        tokio::net::TcpListener::from_std(std_listener).context("gRPC listener")?
    };
    let incoming = tonic::transport::server::TcpIncoming::from_listener(listener, true, None)
        .map_err(|e| anyhow::anyhow!("gRPC listener on {bound}: {e}"))?;
    let router = tonic::service::Routes::default().into_axum_router().fallback_service(GrpcService { app });
    let routes = tonic::service::Routes::from(router);
    runtime.spawn(async move {
        let result = tonic::transport::Server::builder().add_routes(routes).serve_with_incoming(incoming).await;
        if let Err(e) = result {
            tracing::error!("gRPC server on {bound} stopped: {e}");
        }
    });
    tracing::info!(grpc_addr = %bound, "serving gRPC");
    Ok(bound)
}

/// Every gRPC method path, answered by [`query_grpc`].
#[derive(Clone)]
pub struct GrpcService {
    app: ServedApp,
}

impl GrpcService {
    pub fn new(app: ServedApp) -> Self {
        Self { app }
    }
}

fn is_known_path(app: &ServedApp, path: &str) -> bool {
    path == SIMULATE_PATH || crate::services::route(path).is_some() || app.modules().route_query(path).is_some()
}

/// The gRPC status of a query error.
pub fn status_of(err: &QueryError) -> Status {
    let code = match err.code {
        GrpcCode::Unknown => Code::Unknown,
        GrpcCode::InvalidArgument => Code::InvalidArgument,
        GrpcCode::NotFound => Code::NotFound,
        GrpcCode::Internal => Code::Internal,
        GrpcCode::Unimplemented => Code::Unimplemented,
        GrpcCode::Unavailable => Code::Unavailable,
    };
    Status::new(code, err.message.clone())
}

/// The height a request asks for, resolved against the store: 0 (or no
/// header) = latest; negative, unparsable, future or pruned heights are
/// `InvalidArgument` (the message is returned).
fn requested_height(app: &ServedApp, headers: &http::HeaderMap) -> Result<u64, String> {
    let latest = app.store().latest_version().unwrap_or(0);
    let Some(value) = headers.get(HEIGHT_HEADER) else { return Ok(latest) };
    let text = value.to_str().unwrap_or("").trim();
    let h: i64 =
        text.parse().map_err(|_| format!("invalid height header {HEIGHT_HEADER:?}: {text:?} is not a number"))?;
    if h < 0 {
        return Err(format!("cannot query with height < 0; please provide a valid height: {h}"));
    }
    let h = h as u64;
    if h == 0 {
        return Ok(latest);
    }
    if h > latest {
        return Err(format!(
            "cannot query with height in the future; please provide a valid height: latest is {latest}, got {h}"
        ));
    }
    if let Some(earliest) = app.store().earliest_version() {
        if h < earliest {
            return Err(format!(
                "failed to load state at height {h}; version does not exist (earliest kept: {earliest})"
            ));
        }
    }
    Ok(h)
}

impl<B> Service<http::Request<B>> for GrpcService
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::BoxBody>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let app = self.app.clone();
        Box::pin(async move {
            let path = req.uri().path().to_string();
            if !is_known_path(&app, &path) {
                return Ok(Status::unimplemented(format!("unknown method {path}")).into_http());
            }
            let height = match requested_height(&app, req.headers()) {
                Ok(h) => h,
                Err(message) => return Ok(Status::invalid_argument(message).into_http()),
            };
            let mut grpc = tonic::server::Grpc::new(RawCodec)
                .apply_max_message_size_config(Some(MAX_MESSAGE_BYTES), Some(MAX_MESSAGE_BYTES));
            Ok(grpc.unary(Handler { app, path, height }, req).await)
        })
    }
}

/// One call: the method path and the resolved height.
struct Handler {
    app: ServedApp,
    path: String,
    height: u64,
}

impl tonic::server::UnaryService<Vec<u8>> for Handler {
    type Response = Vec<u8>;
    type Future = BoxFuture<tonic::Response<Vec<u8>>, Status>;

    fn call(&mut self, request: tonic::Request<Vec<u8>>) -> Self::Future {
        let app = self.app.clone();
        let path = std::mem::take(&mut self.path);
        let height = self.height;
        Box::pin(async move {
            let data = request.into_inner();
            let answer = tokio::task::spawn_blocking(move || query_grpc(&app, &path, &data, height))
                .await
                .map_err(|e| Status::internal(format!("query handler failed: {e}")))?;
            let bytes = answer.map_err(|e| status_of(&e))?;
            let mut response = tonic::Response::new(bytes);
            if let Ok(v) = height.to_string().parse() {
                response.metadata_mut().insert(HEIGHT_HEADER, v);
            }
            Ok(response)
        })
    }
}

/// A codec that passes protobuf bytes through untouched (public for raw test clients).
#[derive(Clone, Copy, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut out = vec![0u8; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}
