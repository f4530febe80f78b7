//! Long-running operations: a write answers at once (201/202 with `Azure-AsyncOperation`,
//! `Location`, `Retry-After`) and its effect lands when the operation ends, after the
//! subscription's `asyncOperationSeconds`. The operation URLs have AKS's forms
//! (`.../providers/Microsoft.ContainerService/locations/{region}/operations/{id}` and
//! `.../operationresults/{id}`); the status body is the one of
//! data/azure-api/aks-identity-bindings/AsyncOperation_*.json.

use std::time::Instant;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::{ArmError, ArmResult, Req, sub_mut};
use crate::store::{ProvisioningState, Shared, Subscription, World, secs};

/// What an operation does to the world when it ends.
#[derive(Clone, Debug, Default)]
pub enum Effect {
    /// Nothing left to do (the resource group delete removes its content at once).
    #[default]
    None,
    /// A managed cluster (`rg/name` key) settles, or goes when `delete`.
    Cluster { key: String, delete: bool },
    /// An identity binding of a cluster settles (writing AKS's credential), or goes.
    Binding {
        cluster: String,
        name: String,
        delete: bool,
    },
}

pub struct Operation {
    /// Region in the operation URLs (empty for Microsoft.Resources operations).
    pub region: String,
    pub started: String,
    pub done_at: Instant,
    /// When it ended (its effect is applied then).
    pub ended: Option<String>,
    /// `{"code","message"}` when it ends Failed.
    pub error: Option<Value>,
    pub effect: Effect,
}

impl Operation {
    pub fn new(region: &str, seconds: f64, error: Option<Value>) -> Self {
        Self {
            region: region.to_string(),
            started: aks_now(),
            done_at: Instant::now() + secs(seconds),
            ended: None,
            error,
            effect: Effect::None,
        }
    }
}

/// AKS's timestamps carry seven fractional digits (`2026-10-20T08:15:31.0000000Z`).
pub fn aks_now() -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default()
}

/// Starts an AKS operation and arms a timer that applies its effect when it ends, so that
/// readers outside ARM (the token endpoint reading credentials) see it too.
pub fn start(st: &Shared, s: &mut Subscription, region: &str, effect: Effect) -> String {
    let error = match &effect {
        Effect::Binding { .. } => s.binding_failures.pop_front(),
        _ => None,
    };
    let mut op = Operation::new(region, s.settings.async_operation_seconds, error);
    op.effect = effect;
    let done_at = tokio::time::Instant::from_std(op.done_at);
    let id = crate::store::guid();
    s.operations.insert(id.clone(), op);
    let st = st.clone();
    tokio::spawn(async move {
        tokio::time::sleep_until(done_at).await;
        settle(&mut st.world());
    });
    id
}

/// Ends every operation whose time has come and applies its effect. Idempotent; the ARM front
/// door calls it before each request, so what a poll says and what a GET shows agree.
pub fn settle(w: &mut World) {
    let now = Instant::now();
    let mut due = Vec::new();
    for (sub, s) in w.subs.iter_mut() {
        for (id, op) in s.operations.iter_mut() {
            if op.ended.is_none() && op.done_at <= now {
                op.ended = Some(aks_now());
                due.push((
                    sub.clone(),
                    id.clone(),
                    op.effect.clone(),
                    op.error.is_some(),
                ));
            }
        }
    }
    for (sub, id, effect, failed) in due {
        if let Some(late) = apply(w, &sub, &effect, failed)
            && let Some(op) = w.subs.get_mut(&sub).and_then(|s| s.operations.get_mut(&id))
        {
            op.error = Some(late);
        }
    }
}

/// Returns the error when the effect itself fails (AKS's credential no longer fits).
fn apply(w: &mut World, sub: &str, effect: &Effect, failed: bool) -> Option<Value> {
    match effect {
        Effect::None => None,
        Effect::Cluster { key, delete } => {
            let s = w.subs.get_mut(sub)?;
            if *delete && !failed {
                s.clusters.remove(key);
            } else if let Some(c) = s.clusters.get_mut(key) {
                c.state = if failed {
                    ProvisioningState::Failed
                } else {
                    ProvisioningState::Succeeded
                };
            }
            None
        }
        Effect::Binding {
            cluster,
            name,
            delete,
        } => super::identity_bindings::finish(w, sub, cluster, name, *delete, failed),
    }
}

fn status_of(op: &Operation) -> &'static str {
    match (&op.ended, &op.error) {
        (None, _) => "InProgress",
        (Some(_), None) => "Succeeded",
        (Some(_), Some(_)) => "Failed",
    }
}

fn op_url(req: &Req<'_>, sub: &str, region: &str, kind: &str, id: &str) -> String {
    format!(
        "{}/subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{region}/{kind}/{id}?api-version={}",
        req.st.base_url, req.api_version
    )
}

/// A long-running write's answer: `Azure-AsyncOperation` always, `Location` when asked,
/// `Retry-After` (the subscription's `retryAfterSeconds`).
pub fn accepted(
    req: &Req<'_>,
    status: StatusCode,
    body: Option<Value>,
    s: &Subscription,
    op: &str,
    with_location: bool,
) -> ArmResult {
    let region = s
        .operations
        .get(op)
        .map(|o| o.region.as_str())
        .unwrap_or("");
    let mut resp = match body {
        Some(b) => (status, axum::Json(b)).into_response(),
        None => status.into_response(),
    };
    let h = resp.headers_mut();
    let mut set = |name, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    set(
        header::HeaderName::from_static("azure-asyncoperation"),
        op_url(req, &s.id, region, "operations", op),
    );
    if with_location {
        set(
            header::LOCATION,
            op_url(req, &s.id, region, "operationresults", op),
        );
    }
    set(
        header::RETRY_AFTER,
        s.settings.retry_after_seconds.to_string(),
    );
    Ok(resp)
}

fn not_found(id: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("The operation '{id}' could not be found."),
    )
}

/// `GET .../locations/{region}/operations/{id}`: always 200 with the operation's status.
pub fn status(req: &Req<'_>, sub: &str, id: &str) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    let op = s.operations.get(id).ok_or_else(|| not_found(id))?;
    let state = status_of(op);
    let mut v = json!({
        "id": format!(
            "/subscriptions/{}/providers/Microsoft.ContainerService/locations/{}/operations/{id}",
            s.id, op.region
        ),
        "name": id,
        "status": state,
        "startTime": op.started,
    });
    if let Some(end) = &op.ended {
        v["endTime"] = json!(end);
    }
    match (state, &op.error) {
        ("InProgress", _) => v["percentComplete"] = json!(0),
        (_, Some(e)) => v["error"] = e.clone(),
        _ => v["percentComplete"] = json!(100),
    }
    let mut resp = (StatusCode::OK, axum::Json(v)).into_response();
    // Pollers wait what the last answer says (else azure-core's 30 s), so a running
    // operation says it again.
    if state == "InProgress" {
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(s.settings.retry_after_seconds),
        );
    }
    Ok(resp)
}

/// `GET .../locations/{region}/operationresults/{id}` (the Location): 202 while running, then
/// the resource a PUT made (final-state-via location) or 204 after a delete; a failed
/// operation answers its error.
pub fn result(req: &Req<'_>, sub: &str, id: &str) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    let op = s.operations.get(id).ok_or_else(|| not_found(id))?;
    if op.ended.is_none() {
        return accepted(req, StatusCode::ACCEPTED, None, s, id, true);
    }
    if let Some(e) = &op.error {
        let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
        return Err(ArmError::bad_request(&text("code"), text("message")));
    }
    let body = match &op.effect {
        Effect::Cluster { key, delete: false } => s
            .clusters
            .get(key)
            .map(|c| super::aks::cluster_json(&s.id, c)),
        Effect::Binding {
            cluster,
            name,
            delete: false,
        } => s.clusters.get(cluster).and_then(|c| {
            c.identity_bindings
                .get(name)
                .map(|b| super::identity_bindings::binding_json(&s.id, c, b))
        }),
        _ => None,
    };
    match body {
        Some(b) => super::json(StatusCode::OK, b),
        None => super::empty(StatusCode::NO_CONTENT),
    }
}
