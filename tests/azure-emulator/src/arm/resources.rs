//! Microsoft.Resources: subscriptions (read-only) and resource groups.

use axum::http::{Method, StatusCode};
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
            let location = body
                .get("location")
                .and_then(Value::as_str)
                .filter(|l| !l.is_empty())
                .ok_or_else(|| {
                    ArmError::bad_request(
                        "LocationRequired",
                        "The location property is required for this definition.",
                    )
                })?
                .to_string();
            let tags = body.get("tags").and_then(Value::as_object).cloned();
            if let Some(g) = s.rgs.get_mut(&k) {
                if !g.location.eq_ignore_ascii_case(&location) {
                    return Err(ArmError::bad_request(
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
        // ARM deletes resource groups asynchronously (202 + polling); doing it at once with 200
        // is a valid terminal answer that the SDK pollers accept.
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
            empty(StatusCode::OK)
        }
        _ => Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "Method not allowed.",
        )),
    }
}
