//! The control API's Authorization part: management groups, group membership, role
//! assignments at any scope, deny assignments (which only Azure itself makes).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Reply, err, ok, parse};
use crate::arm::{rbac, roles};
use crate::store::{
    DenyAssignment, DenyProperties, ManagementGroup, RoleAssignment, Shared, guid, now_rfc3339,
};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/_emulator/managementGroups", post(create_management_group))
        .route("/_emulator/groups/{group}/members", post(add_group_members))
        .route("/_emulator/roleAssignments", post(create_role_assignment))
        .route("/_emulator/denyAssignments", post(create_deny_assignment))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct NewManagementGroup {
    /// Random when absent.
    name: Option<String>,
    tenant_id: String,
    display_name: Option<String>,
    /// Parent management group; none = directly under the tenant root group.
    parent: Option<String>,
    /// Subscriptions moved into this group.
    subscriptions: Vec<String>,
}

/// A management group (under `parent`), with subscriptions placed in it, as
/// `az account management-group create` + `subscription add` would leave them.
async fn create_management_group(State(st): State<Shared>, body: Bytes) -> Reply {
    let m: NewManagementGroup = parse(&body)?;
    if m.tenant_id.is_empty() {
        return Err(err(StatusCode::BAD_REQUEST, "tenantId is required"));
    }
    let name = m.name.unwrap_or_else(|| format!("mg-{}", &guid()[..8]));
    let key = name.to_ascii_lowercase();
    let mut w = st.world();
    if w.management_groups.contains_key(&key) {
        return Err(err(
            StatusCode::CONFLICT,
            format!("management group {name} exists"),
        ));
    }
    if let Some(p) = &m.parent
        && !w.management_groups.contains_key(&p.to_ascii_lowercase())
    {
        return Err(err(
            StatusCode::BAD_REQUEST,
            format!("no parent management group {p}"),
        ));
    }
    for sub in &m.subscriptions {
        let s = w
            .subs
            .get_mut(&sub.to_ascii_lowercase())
            .ok_or_else(|| err(StatusCode::BAD_REQUEST, format!("no subscription {sub}")))?;
        s.management_group = Some(key.clone());
    }
    w.management_groups.insert(
        key,
        ManagementGroup {
            name: name.clone(),
            tenant_id: m.tenant_id.to_ascii_lowercase(),
            display_name: m.display_name.unwrap_or_else(|| name.clone()),
            parent: m.parent.map(|p| p.to_ascii_lowercase()),
            role_assignments: Default::default(),
            deny_assignments: Default::default(),
        },
    );
    ok(json!({"name": name, "id": rbac::mg_scope(&name), "subscriptions": m.subscriptions}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Members {
    members: Vec<String>,
}

/// Adds members (users, service principals, other groups) to an Entra group.
async fn add_group_members(
    State(st): State<Shared>,
    Path(group): Path<String>,
    body: Bytes,
) -> Reply {
    let m: Members = parse(&body)?;
    let mut w = st.world();
    let set = w
        .group_members
        .entry(group.to_ascii_lowercase())
        .or_default();
    set.extend(m.members.iter().map(|x| x.to_ascii_lowercase()));
    let members: Vec<&String> = set.iter().collect();
    ok(json!({"group": group.to_ascii_lowercase(), "members": members}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct NewRoleAssignment {
    scope: String,
    principal_id: String,
    /// Role name, GUID or role-definition id (built-in, or a custom role of the scope's subscription).
    role: String,
    principal_type: Option<String>,
    condition: Option<String>,
    condition_version: Option<String>,
}

/// A role assignment at any scope, management groups included, made without an ARM caller
/// (as an administrator elsewhere in the tenant would have made it).
async fn create_role_assignment(State(st): State<Shared>, body: Bytes) -> Reply {
    let a: NewRoleAssignment = parse(&body)?;
    let scope = rbac::normalize(&a.scope);
    let mut w = st.world();
    let sub =
        crate::arm::scope_subscription(&scope).and_then(|s| w.subs.get(&s.to_ascii_lowercase()));
    let role = roles::find_named(sub, &a.role)
        .ok_or_else(|| err(StatusCode::BAD_REQUEST, format!("unknown role {}", a.role)))?;
    let name = guid();
    let id = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
    let ra = RoleAssignment {
        id,
        name,
        scope: scope.clone(),
        role_definition_guid: role.guid.clone(),
        principal_id: a.principal_id.to_ascii_lowercase(),
        principal_type: a
            .principal_type
            .unwrap_or_else(|| "ServicePrincipal".into()),
        created_on: now_rfc3339(),
        created_by: "emulator".into(),
        description: None,
        condition: a.condition,
        condition_version: a.condition_version,
    };
    let out = json!({
        "id": ra.id, "name": ra.name, "scope": ra.scope, "role": role.name,
        "roleDefinitionId": roles::definition_id(crate::arm::scope_subscription(&scope).as_deref(), &role.guid),
        "principalId": ra.principal_id, "condition": ra.condition,
    });
    rbac::insert_assignment(&mut w, ra).map_err(|e| err(StatusCode::BAD_REQUEST, e))?;
    ok(out)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewDeny {
    /// Random GUID when absent.
    name: Option<String>,
    properties: DenyProperties,
}

/// A deny assignment in ARM's shape (`properties.scope` says where). Only Azure creates them
/// (managed applications, deployment stacks, Blueprints); this stands in for that.
async fn create_deny_assignment(State(st): State<Shared>, body: Bytes) -> Reply {
    let d: NewDeny = parse(&body)?;
    let mut props = d.properties;
    if props.scope.is_empty() || props.permissions.is_empty() || props.principals.is_empty() {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "properties.scope, permissions and principals are required",
        ));
    }
    props.scope = rbac::arm_case(&rbac::normalize(&props.scope));
    // "All deny assignments are isSystemProtected" (deny-assignments.md): Azure made them.
    props.is_system_protected = true;
    let name = d.name.unwrap_or_else(guid);
    if props.deny_assignment_name.is_empty() {
        props.deny_assignment_name = name.clone();
    }
    let id = format!(
        "{}/providers/Microsoft.Authorization/denyAssignments/{name}",
        props.scope.trim_end_matches('/')
    );
    let deny = DenyAssignment {
        id,
        name,
        properties: props,
    };
    let out = serde_json::to_value(&deny).unwrap_or(Value::Null);
    rbac::insert_deny(&mut st.world(), deny).map_err(|e| err(StatusCode::BAD_REQUEST, e))?;
    ok(out)
}
