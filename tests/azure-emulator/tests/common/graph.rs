//! Microsoft Graph helpers shared by graph_and_discovery.rs and graph_apps.rs.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Ctx, Sub};

pub async fn graph_token(ctx: &Ctx, tenant: &str, client_id: &str, secret: &str) -> String {
    let (st, b) = ctx
        .token_request(
            tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{b}");
    b["access_token"].as_str().unwrap().to_string()
}

/// A service principal with these Graph application permissions: (object id, Graph token).
pub async fn graph_caller(ctx: &Ctx, s: &Sub, roles: &[&str]) -> (String, String) {
    let p = ctx
        .control(
            Method::POST,
            &format!("/_emulator/subscriptions/{}/principals", s.sub),
            json!({"graphRoles": roles}),
        )
        .await;
    let v = |k: &str| p[k].as_str().unwrap().to_string();
    let token = graph_token(ctx, &s.tenant, &v("clientId"), &v("clientSecret")).await;
    (v("objectId"), token)
}

/// One Graph call; `headers` are extra request headers (`Prefer`). Status and JSON body (Null
/// when empty).
pub async fn graph_with(
    ctx: &Ctx,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut rb = ctx.http.request(method, ctx.url(path)).bearer_auth(token);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let st = r.status().as_u16();
    assert!(
        r.headers().contains_key("request-id"),
        "Graph stamps request-id"
    );
    (st, r.json().await.unwrap_or(Value::Null))
}

pub async fn graph(
    ctx: &Ctx,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    graph_with(ctx, token, method, path, body, &[]).await
}

/// Graph's error body: code, message, innerError{date (no zone), request-id,
/// client-request-id} (data/azure-api/graph-federated-credentials/error-*.json).
pub fn assert_graph_error(st: u16, b: &Value, want: u16, code: &str) {
    assert_eq!(st, want, "{b}");
    assert_eq!(b["error"]["code"], code, "{b}");
    let inner = &b["error"]["innerError"];
    let date = inner["date"].as_str().unwrap();
    assert!(date.len() == 19 && date.as_bytes()[10] == b'T', "{date}");
    assert!(inner["request-id"].is_string() && inner["client-request-id"].is_string());
}

pub fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
