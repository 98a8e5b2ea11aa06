//! Errors as the gRPC gateway writes them.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use paychain_framework::error::GrpcCode;
use paychain_framework::QueryError;
use serde_json::{json, Value};

/// An error as the gateway writes it: `{code, message, details}` and an HTTP status.
#[derive(Debug)]
pub struct RestError {
    pub status: StatusCode,
    pub code: i32,
    pub message: String,
}

impl RestError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code: GrpcCode::InvalidArgument as i32, message: message.into() }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self { status: StatusCode::INTERNAL_SERVER_ERROR, code: GrpcCode::Internal as i32, message: message.into() }
    }
    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self { status: StatusCode::NOT_IMPLEMENTED, code: GrpcCode::Unimplemented as i32, message: message.into() }
    }
}

impl From<QueryError> for RestError {
    fn from(e: QueryError) -> Self {
        let status = match e.code {
            GrpcCode::InvalidArgument => StatusCode::BAD_REQUEST,
            GrpcCode::NotFound => StatusCode::NOT_FOUND,
            GrpcCode::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            GrpcCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            GrpcCode::Unknown | GrpcCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self { status, code: e.code as i32, message: e.message }
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        json_response(self.status, json!({"code": self.code, "message": self.message, "details": []}))
    }
}

pub(super) fn json_response(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}
