//! Microsoft.Resources: subscriptions (read-only) and resource groups.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::{ArmError, ArmResult, Req, empty, json, sub_mut};
use crate::store::{ResourceGroup, Subscription};

fn subscription_json(s: &Subscription) -> Value {
    json!({
        "id": format!("/subscriptions/{}", s.id),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": s.id,
        "tenantId": s.tenant_id,
        "displayName": s.display_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    })
}

/// Real ARM ids of resource groups keep the camel-case `resourceGroups` segment.
fn rg_json(sub: &str, rg: &ResourceGroup) -> Value {
    let mut v = json!({
        "id": format!("/subscriptions/{sub}/resourceGroups/{}", rg.name),
        "name": rg.name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": rg.location,
        "properties": {"provisioningState": "Succeeded"},
    });
    if let Some(tags) = &rg.tags {
        v["tags"] = Value::Object(tags.clone());
    }
    v
}

/// Subscriptions the caller holds any role on, in the caller's tenant.
pub fn list_subscriptions(req: &Req<'_>) -> ArmResult {
    let w = req.st.world();
    let value: Vec<Value> = w
        .subs
        .values()
        .filter(|s| s.tenant_id.eq_ignore_ascii_case(&req.caller.tid))
        .filter(|s| {
            s.role_assignments
                .values()
                .any(|ra| ra.principal_id.eq_ignore_ascii_case(&req.caller.oid))
        })
        .map(subscription_json)
        .collect();
    let n = value.len();
    json(
        StatusCode::OK,
        json!({"value": value, "count": {"type": "Total", "value": n}}),
    )
}

pub fn get_subscription(req: &Req<'_>, sub: &str) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    json(StatusCode::OK, subscription_json(s))
}

pub fn list_rgs(req: &Req<'_>, sub: &str) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    let value: Vec<Value> = s.rgs.values().map(|rg| rg_json(&s.id, rg)).collect();
    json(StatusCode::OK, json!({"value": value}))
}

pub fn resource_group(req: &Req<'_>, sub: &str, rg: &str) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    let k = rg.to_ascii_lowercase();
    match *req.method {
        Method::HEAD => empty(if s.rgs.contains_key(&k) {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::NOT_FOUND
        }),
        Method::GET => {
            let g = s
                .rgs
                .get(&k)
                .ok_or_else(|| ArmError::resource_group_not_found(rg))?;
            json(StatusCode::OK, rg_json(&s.id, g))
        }
        Method::PUT => {
            let body = req.json_body()?;
            let location = super::required_location(&body)?;
            let tags = body.get("tags").and_then(Value::as_object).cloned();
            if let Some(g) = s.rgs.get_mut(&k) {
                // 409, as ARM answers it (jenkinsci/azure-vm-agents-plugin#110 and
                // trailofbits/algo#1814 quote "Status code 409" with this code and text).
                if !g.location.eq_ignore_ascii_case(&location) {
                    return Err(ArmError::new(
                        StatusCode::CONFLICT,
                        "InvalidResourceGroupLocation",
                        format!(
                            "Invalid resource group location '{location}'. The Resource group already exists in location '{}'.",
                            g.location
                        ),
                    ));
                }
                g.tags = tags;
                return json(StatusCode::OK, rg_json(&s.id, g));
            }
            let g = ResourceGroup {
                name: rg.to_string(),
                location,
                tags,
            };
            let out = rg_json(&s.id, &g);
            s.rgs.insert(k, g);
            json(StatusCode::CREATED, out)
        }
        // ARM deletes resource groups asynchronously: 202 with a Location to poll (ResourceGroups
        // _Delete is `x-ms-long-running-operation` with 200/202 in the 2024-11-01 spec; az and
        // the SDK pollers follow Location). The content goes at once; the operation reports
        // done after `asyncOperationSeconds`.
        Method::DELETE => {
            if s.rgs.remove(&k).is_none() {
                return Err(ArmError::resource_group_not_found(rg));
            }
            let prefix = format!("{k}/");
            s.identities.retain(|key, _| !key.starts_with(&prefix));
            s.clusters.retain(|key, _| !key.starts_with(&prefix));
            let scope = format!(
                "/subscriptions/{}/resourcegroups/{k}",
                s.id.to_ascii_lowercase()
            );
            s.role_assignments
                .retain(|_, ra| !super::authz::scope_covers(&scope, &ra.scope));
            s.deny_assignments
                .retain(|_, d| !super::authz::scope_covers(&scope, &d.properties.scope));
            let op = crate::store::guid().replace('-', "").to_ascii_uppercase();
            let secs = s.settings.async_operation_seconds;
            s.operations
                .insert(op.clone(), super::lro::Operation::new("", secs, None));
            accepted(req, &s.id, &op, s.settings.retry_after_seconds)
        }
        _ => Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "Method not allowed.",
        )),
    }
}

/// 202 Accepted with the operation's Location and Retry-After.
fn accepted(req: &Req<'_>, sub: &str, op: &str, retry_after: u64) -> ArmResult {
    let location = format!(
        "{}/subscriptions/{sub}/operationresults/{op}?api-version={}",
        req.st.base_url, req.api_version
    );
    let mut resp = StatusCode::ACCEPTED.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&location) {
        h.insert(header::LOCATION, v);
    }
    h.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    Ok(resp)
}

/// The Location of a long-running operation: 202 (same Location) while it runs, then 200.
pub fn operation_result(req: &Req<'_>, sub: &str, id: &str) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    let done_at = s.operations.get(id).map(|o| o.done_at).ok_or_else(|| {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("The operation '{id}' could not be found."),
        )
    })?;
    if std::time::Instant::now() < done_at {
        let (sub_id, retry) = (s.id.clone(), s.settings.retry_after_seconds);
        return accepted(req, &sub_id, id, retry);
    }
    empty(StatusCode::OK)
}
