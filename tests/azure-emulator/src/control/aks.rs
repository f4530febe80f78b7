//! The control API's AKS part: making identity-binding operations end Failed, so that a client
//! can be tested on a stuck binding.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Reply, ok, parse, with_sub};
use crate::store::Shared;

/// The error of data/azure-api/aks-identity-bindings/AsyncOperation_Failed.json (its code and
/// text are placeholders there too: no source shows a real failed binding operation).
const FAILED_EXAMPLE: &str =
    include_str!("../../data/azure-api/aks-identity-bindings/AsyncOperation_Failed.json");

pub fn routes() -> Router<Shared> {
    Router::new().route(
        "/_emulator/subscriptions/{sub}/identityBindingFailures",
        post(add_failures).delete(clear_failures),
    )
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Failures {
    /// How many of the next identity-binding operations (PUT or DELETE) end Failed; 1 if absent.
    count: Option<u32>,
    /// `{"code","message"}`; the example's error if absent.
    error: Option<Value>,
}

fn example_error() -> Value {
    serde_json::from_str::<Value>(FAILED_EXAMPLE)
        .map(|v| v["error"].clone())
        .unwrap_or(Value::Null)
}

async fn add_failures(State(st): State<Shared>, Path(sub): Path<String>, body: Bytes) -> Reply {
    let req: Failures = parse(&body)?;
    let error = req.error.unwrap_or_else(example_error);
    ok(with_sub(&st, &sub, |s| {
        for _ in 0..req.count.unwrap_or(1) {
            s.binding_failures.push_back(error.clone());
        }
        json!({"pending": s.binding_failures.len(), "error": error})
    })?)
}

async fn clear_failures(State(st): State<Shared>, Path(sub): Path<String>) -> Reply {
    ok(with_sub(&st, &sub, |s| {
        s.binding_failures.clear();
        json!({"pending": 0})
    })?)
}
