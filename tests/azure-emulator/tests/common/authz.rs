//! Authorization helpers shared by authz_rules.rs and deny_rules.rs.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use super::{Ctx, Sub};

/// A principal made through the control API (`kind`, `role`, `memberOf`...), with its token
/// when it is a service principal.
pub async fn principal(ctx: &Ctx, s: &Sub, body: Value) -> (String, Option<String>) {
    let v = ctx
        .control(
            Method::POST,
            &format!("/_emulator/subscriptions/{}/principals", s.sub),
            body,
        )
        .await;
    let oid = v["objectId"].as_str().unwrap().to_string();
    let token = match (v["clientId"].as_str(), v["clientSecret"].as_str()) {
        (Some(c), Some(k)) => Some(ctx.secret_token(&s.tenant, c, k).await),
        _ => None,
    };
    (oid, token)
}

/// The lower-case ids of an ARM list.
pub fn ids(list: &Value) -> BTreeSet<String> {
    list["value"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_ascii_lowercase())
        .collect()
}
