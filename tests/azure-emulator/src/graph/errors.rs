//! Graph's error shape: `{"error":{"code","message","innerError":{"date","request-id",
//! "client-request-id"}}}` (`innerError.date` without a zone), with `request-id` and
//! `client-request-id` headers on every answer; see data/azure-api/graph-federated-credentials/
//! error-*.json.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::store::guid;

#[derive(Debug)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    /// An app-only caller without a Graph application permission the operation needs.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    pub fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
}

pub fn json_response(status: StatusCode, v: Value) -> Response {
    let mut resp = (status, axum::Json(v)).into_response();
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
        ),
    );
    resp
}

/// Stamps the ids Graph puts on every answer and renders an error in Graph's shape.
pub fn finish(result: Result<Response, GraphError>, client_request_id: Option<String>) -> Response {
    let request_id = guid();
    let client_request_id = client_request_id.unwrap_or_else(|| request_id.clone());
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => {
            let date = time::OffsetDateTime::now_utc()
                .format(time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]"
                ))
                .unwrap_or_default();
            json_response(
                e.status,
                json!({"error": {
                    "code": e.code,
                    "message": e.message,
                    "innerError": {
                        "date": date,
                        "request-id": request_id,
                        "client-request-id": client_request_id,
                    },
                }}),
            )
        }
    };
    for (name, value) in [
        ("request-id", &request_id),
        ("client-request-id", &client_request_id),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            resp.headers_mut().insert(name, v);
        }
    }
    resp
}
