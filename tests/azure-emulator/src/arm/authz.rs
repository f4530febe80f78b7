//! Microsoft.Authorization role assignments. Role definitions live in roles.rs; the RBAC
//! rules (groups, management groups, deny assignments) in rbac.rs.

use std::time::Instant;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::roles::definition_id;
use super::{
    ArmError, ArmResult, Req, empty, json, rbac, roles, scope_resource_group, scope_subscription,
    sub_mut,
};
use crate::store::{RoleAssignment, Subscription, now_rfc3339};

/// Whether `outer` is `inner` or one of its ancestors (segment-wise, case-insensitive).
pub fn scope_covers(outer: &str, inner: &str) -> bool {
    rbac::covers(outer, inner)
}

/// `principalId eq 'x'` -> `x` (the key is matched case-insensitively).
pub(crate) fn quoted_after(filter: &str, key: &str) -> Option<String> {
    let lower = filter.to_ascii_lowercase();
    let pos = lower.find(key)?;
    let rest = &filter[pos + key.len()..];
    let start = rest.find('\'')? + 1;
    let end = rest[start..].find('\'')? + start;
    Some(rest[start..end].to_string())
}

fn normalize_scope(scope: &str) -> String {
    format!("/{}", scope.trim_matches('/'))
}

fn assignment_json(ra: &RoleAssignment) -> Value {
    let sub = scope_subscription(&ra.scope);
    json!({
        "properties": {
            "roleDefinitionId": definition_id(sub.as_deref(), &ra.role_definition_guid),
            "principalId": ra.principal_id,
            "principalType": ra.principal_type,
            "scope": ra.scope,
            "condition": ra.condition,
            "conditionVersion": ra.condition_version,
            "createdOn": ra.created_on,
            "updatedOn": ra.created_on,
            "createdBy": ra.created_by,
            "updatedBy": ra.created_by,
            "delegatedManagedIdentityResourceId": null,
            "description": ra.description,
        },
        "id": ra.id,
        "type": "Microsoft.Authorization/roleAssignments",
        "name": ra.name,
    })
}

pub fn list_assignments(req: &Req<'_>, scope: &str) -> ArmResult {
    let scope = normalize_scope(scope);
    let sub_id = scope_subscription(&scope);
    if sub_id.is_none() && rbac::mg_of(&scope).is_none() {
        return Err(ArmError::bad_request(
            "InvalidScope",
            "Tenant-level role assignment listing is not supported by this emulator.",
        ));
    }
    let filter = AssignmentFilter::parse(req.query_ci("$filter"))?;
    let mut w = req.st.world();
    if let Some(sub_id) = &sub_id {
        let s = sub_mut(&mut w, sub_id)?;
        if let Some(rg) = scope_resource_group(&scope)
            && !s.rgs.contains_key(&rg.to_ascii_lowercase())
        {
            return Err(ArmError::resource_group_not_found(&rg));
        }
    }
    // atScope(): at or above the scope (management groups included); otherwise below too.
    // assignedTo(): the principal's own assignments and its groups', transitively.
    let (at_scope, principal_eq, assigned_to) = filter.parts();
    let who = rbac::Who::new(&w, principal_eq, assigned_to);
    let value: Vec<Value> = rbac::list_view(&w, &scope, at_scope, &who)
        .into_iter()
        .map(assignment_json)
        .collect();
    json(StatusCode::OK, json!({"value": value}))
}

/// The `$filter` forms role assignment lists accept, and nothing else (ARM answers any other
/// filter 400 `UnsupportedQuery`, it never ignores one).
///
/// Sources: the 2022-04-01 spec's `$filter` description (data/azure-api/authorization/2022-04-01/
/// authorization-RoleAssignmentsCalls.json): `atScope()` = at or above the scope, `principalId eq
/// {id}` = at, above or below for that principal; MicrosoftDocs role-assignments-list-rest.md:
/// `assignedTo('{id}')` and `atScope() and assignedTo('{id}')`; the error code and text as ARM
/// returns them: Azure/azure-rest-api-specs#28255 (quoted with its code in
/// turbot/steampipe-plugin-azure, `UnsupportedQuery`).
#[derive(Debug, PartialEq)]
pub enum AssignmentFilter {
    /// No filter: at, above and below the scope.
    All,
    AtScope,
    PrincipalId(String),
    AssignedTo(String),
    AtScopeAssignedTo(String),
}

impl AssignmentFilter {
    pub fn parse(filter: Option<&str>) -> Result<Self, ArmError> {
        let Some(raw) = filter else {
            return Ok(Self::All);
        };
        let f = raw.trim();
        let unsupported = || {
            ArmError::bad_request(
                "UnsupportedQuery",
                format!(
                    "The filter '{raw}' is not supported. Supported filters are either 'atScope()' or 'principalId eq '{{value}}' or assignedTo('{{value}}')'."
                ),
            )
        };
        if f.eq_ignore_ascii_case("atScope()") {
            return Ok(Self::AtScope);
        }
        if let Some(id) = strip_call(f, "assignedTo") {
            return Ok(Self::AssignedTo(id));
        }
        if let Some(id) = strip_prefix_ci(f, "principalId eq ").and_then(quoted) {
            return Ok(Self::PrincipalId(id));
        }
        if let Some(rest) = strip_prefix_ci(f, "atScope() and ")
            && let Some(id) = strip_call(rest.trim(), "assignedTo")
        {
            return Ok(Self::AtScopeAssignedTo(id));
        }
        Err(unsupported())
    }

    /// What the filter asks for: (atScope(), principalId eq, assignedTo) — the pieces
    /// `rbac::list_view` evaluates, with groups and management groups as ARM does.
    pub fn parts(&self) -> (bool, Option<&str>, Option<&str>) {
        match self {
            Self::All => (false, None, None),
            Self::AtScope => (true, None, None),
            Self::PrincipalId(id) => (false, Some(id), None),
            Self::AssignedTo(id) => (false, None, Some(id)),
            Self::AtScopeAssignedTo(id) => (true, None, Some(id)),
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// `'value'` (the whole string) -> `value`.
fn quoted(s: &str) -> Option<String> {
    let inner = s.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    (!inner.is_empty() && !inner.contains('\'')).then(|| inner.to_string())
}

/// `name('value')` (the whole string) -> `value`.
fn strip_call(s: &str, name: &str) -> Option<String> {
    let rest = strip_prefix_ci(s, name)?.trim_start();
    quoted(rest.strip_prefix('(')?.strip_suffix(')')?)
}

pub fn assignment(req: &Req<'_>, scope: &str, name: &str) -> ArmResult {
    let scope = normalize_scope(scope);
    let sub_id = scope_subscription(&scope).ok_or_else(|| {
        ArmError::bad_request(
            "InvalidScope",
            "Tenant-level role assignments are not supported by this emulator.",
        )
    })?;
    let id = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
    let key = id.to_ascii_lowercase();
    let mut w = req.st.world();
    let w = &mut *w;
    let principal_visible = |w: &crate::store::World, p: &str| {
        w.principals
            .get(&p.to_ascii_lowercase())
            .is_some_and(|pr| pr.visible_at <= Instant::now())
    };
    let visible = {
        let body_pid = if *req.method == Method::PUT {
            req.json_body().ok().and_then(|b| {
                b.get("properties")?
                    .get("principalId")?
                    .as_str()
                    .map(str::to_string)
            })
        } else {
            None
        };
        body_pid.map(|p| principal_visible(w, &p))
    };
    let principal_kind = |w: &crate::store::World, p: &str| {
        w.principals
            .get(&p.to_ascii_lowercase())
            .map(|pr| pr.kind.clone())
    };
    let body_kind = if *req.method == Method::PUT {
        req.json_body()
            .ok()
            .and_then(|b| {
                b.get("properties")?
                    .get("principalId")?
                    .as_str()
                    .map(|p| principal_kind(w, p))
            })
            .flatten()
    } else {
        None
    };
    let s = sub_mut(w, &sub_id)?;
    match *req.method {
        Method::GET => {
            let ra = s.role_assignments.get(&key).ok_or_else(|| {
                ArmError::new(
                    StatusCode::NOT_FOUND,
                    "RoleAssignmentNotFound",
                    format!("The role assignment '{name}' is not found."),
                )
            })?;
            json(StatusCode::OK, assignment_json(ra))
        }
        Method::DELETE => match s.role_assignments.remove(&key) {
            Some(ra) => json(StatusCode::OK, assignment_json(&ra)),
            None => empty(StatusCode::NO_CONTENT),
        },
        Method::PUT => {
            if uuid::Uuid::parse_str(name).is_err() {
                return Err(ArmError::bad_request(
                    "InvalidRoleAssignmentId",
                    format!(
                        "The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
                    ),
                ));
            }
            let body = req.json_body()?;
            let props = body.get("properties").cloned().unwrap_or(Value::Null);
            let (Some(rd), Some(pid)) = (
                props.get("roleDefinitionId").and_then(Value::as_str),
                props.get("principalId").and_then(Value::as_str),
            ) else {
                return Err(ArmError::bad_request(
                    "InvalidRoleAssignmentRequest",
                    "The request must specify 'properties.roleDefinitionId' and 'properties.principalId'.",
                ));
            };
            let rd_guid = rd
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string();
            let role = roles::find(Some(s), &rd_guid).ok_or_else(|| {
                ArmError::bad_request(
                    "RoleDefinitionDoesNotExist",
                    format!("The specified role definition with ID '{rd_guid}' does not exist."),
                )
            })?;
            if let Some(rg) = scope_resource_group(&scope) {
                if !s.rgs.contains_key(&rg.to_ascii_lowercase()) {
                    return Err(ArmError::resource_group_not_found(&rg));
                }
                check_identity_scope(s, &scope, &rg)?;
            }
            if visible != Some(true) {
                return Err(ArmError::bad_request(
                    "PrincipalNotFound",
                    format!(
                        "Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
                        pid.replace('-', ""),
                        s.tenant_id
                    ),
                ));
            }
            if let Some(existing) = s.role_assignments.get(&key) {
                if existing.principal_id.eq_ignore_ascii_case(pid)
                    && existing
                        .role_definition_guid
                        .eq_ignore_ascii_case(&role.guid)
                {
                    return json(StatusCode::OK, assignment_json(existing));
                }
                return Err(ArmError::bad_request(
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                ));
            }
            if let Some(dup) = s.role_assignments.values().find(|ra| {
                ra.scope.eq_ignore_ascii_case(&scope)
                    && ra.principal_id.eq_ignore_ascii_case(pid)
                    && ra.role_definition_guid.eq_ignore_ascii_case(&role.guid)
            }) {
                return Err(ArmError::new(
                    StatusCode::CONFLICT,
                    "RoleAssignmentExists",
                    format!(
                        "The role assignment already exists. The ID of the existing role assignment is {}.",
                        dup.name.replace('-', "")
                    ),
                ));
            }
            let principal_type = props
                .get("principalType")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or(body_kind)
                .unwrap_or_else(|| "ServicePrincipal".into());
            let ra = RoleAssignment {
                id: id.clone(),
                name: name.to_string(),
                scope: scope.clone(),
                role_definition_guid: role.guid.clone(),
                principal_id: pid.to_ascii_lowercase(),
                principal_type,
                created_on: now_rfc3339(),
                created_by: req.caller.oid.clone(),
                description: props
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                condition: props
                    .get("condition")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                condition_version: props
                    .get("conditionVersion")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            };
            let out = assignment_json(&ra);
            s.role_assignments.insert(key, ra);
            json(StatusCode::CREATED, out)
        }
        _ => Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "Method not allowed.",
        )),
    }
}

/// Assigning on a managed identity requires that identity to exist (other resource types are
/// not modelled and are accepted as they are).
fn check_identity_scope(s: &Subscription, scope: &str, rg: &str) -> Result<(), ArmError> {
    let segs: Vec<&str> = scope.trim_matches('/').split('/').collect();
    if segs.len() >= 8
        && segs[4].eq_ignore_ascii_case("providers")
        && segs[5].eq_ignore_ascii_case("Microsoft.ManagedIdentity")
        && segs[6].eq_ignore_ascii_case("userAssignedIdentities")
        && !s.identities.contains_key(&super::msi::key(rg, segs[7]))
    {
        return Err(ArmError::resource_not_found(
            super::msi::IDENTITY_TYPE,
            segs[7],
            rg,
        ));
    }
    Ok(())
}
