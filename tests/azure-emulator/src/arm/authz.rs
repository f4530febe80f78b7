//! Microsoft.Authorization: built-in role definitions, role assignments and RBAC evaluation.

use std::time::Instant;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    ArmError, ArmResult, Req, empty, json, scope_resource_group, scope_subscription, sub_mut,
};
use crate::store::{RoleAssignment, Subscription, now_rfc3339};

pub struct BuiltinRole {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub actions: &'static [&'static str],
    pub not_actions: &'static [&'static str],
    pub data_actions: &'static [&'static str],
}

/// Real GUIDs and action lists of the built-in roles the plugin deals with.
pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        name: "Owner",
        description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        actions: &["*"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltinRole {
        id: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        name: "Contributor",
        description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
            "Microsoft.Subscription/cancel/action",
            "Microsoft.Subscription/enable/action",
        ],
        data_actions: &[],
    },
    BuiltinRole {
        id: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        name: "Reader",
        description: "View all resources, but does not allow you to make any changes.",
        actions: &["*/read"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltinRole {
        id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        name: "User Access Administrator",
        description: "Lets you manage user access to Azure resources.",
        actions: &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltinRole {
        id: "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        name: "Role Based Access Control Administrator",
        description: "Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.",
        actions: &[
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "*/read",
            "Microsoft.Support/*",
        ],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltinRole {
        id: "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",
        name: "Managed Identity Contributor",
        description: "Create, Read, Update, and Delete User Assigned Identity",
        actions: &[
            "Microsoft.ManagedIdentity/userAssignedIdentities/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/write",
            "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete",
            "Microsoft.ManagedIdentity/userAssignedIdentities/revokeTokens/action",
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Support/*",
        ],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltinRole {
        id: "f1a07417-d97a-45cb-824c-7a7467783830",
        name: "Managed Identity Operator",
        description: "Read and Assign User Assigned Identity",
        actions: &[
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Support/*",
        ],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltinRole {
        id: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        name: "Storage Blob Data Reader",
        description: "Allows for read access to Azure Storage blob containers and data",
        actions: &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/read",
            "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        ],
        not_actions: &[],
        data_actions: &["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
    },
    BuiltinRole {
        id: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        name: "Storage Blob Data Contributor",
        description: "Allows for read, write and delete access to Azure Storage blob containers and data",
        actions: &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
            "Microsoft.Storage/storageAccounts/blobServices/containers/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/write",
            "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        ],
        not_actions: &[],
        data_actions: &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
        ],
    },
    BuiltinRole {
        id: "4633458b-17de-408a-b874-0445c86b69e6",
        name: "Key Vault Secrets User",
        description: "Read secret contents. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
    },
];

pub fn role_by_guid(id: &str) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

pub fn role_by_name(name: &str) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(name))
}

/// Case-insensitive glob where `*` matches any run of characters (RBAC action syntax).
fn glob(pattern: &str, s: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let s = s.to_ascii_lowercase();
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == s;
    }
    let mut rest = s.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// Whether `outer` is `inner` or one of its ancestors (segment-wise, case-insensitive).
pub fn scope_covers(outer: &str, inner: &str) -> bool {
    let o = outer.trim_end_matches('/').to_ascii_lowercase();
    let i = inner.trim_end_matches('/').to_ascii_lowercase();
    o.is_empty() || i == o || i.starts_with(&format!("{o}/"))
}

/// RBAC: some assignment of the caller at or above `scope` grants `action`.
pub fn permits(sub: &Subscription, oid: &str, action: &str, scope: &str) -> bool {
    sub.role_assignments.values().any(|ra| {
        ra.principal_id.eq_ignore_ascii_case(oid)
            && scope_covers(&ra.scope, scope)
            && role_by_guid(&ra.role_definition_guid).is_some_and(|r| {
                r.actions.iter().any(|a| glob(a, action))
                    && !r.not_actions.iter().any(|a| glob(a, action))
            })
    })
}

fn definition_id(sub: Option<&str>, guid: &str) -> String {
    match sub {
        Some(s) => {
            format!("/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}")
        }
        None => format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
    }
}

fn definition_json(sub: Option<&str>, r: &BuiltinRole) -> Value {
    json!({
        "properties": {
            "roleName": r.name,
            "type": "BuiltInRole",
            "description": r.description,
            "assignableScopes": ["/"],
            "permissions": [{
                "actions": r.actions,
                "notActions": r.not_actions,
                "dataActions": r.data_actions,
                "notDataActions": [],
            }],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": null,
            "updatedBy": null,
        },
        "id": definition_id(sub, r.id),
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": r.id,
    })
}

pub fn list_definitions(req: &Req<'_>, scope: &str) -> ArmResult {
    let sub = scope_subscription(scope);
    let filter = req.query_ci("$filter").unwrap_or("");
    let wanted_name = quoted_after(filter, "rolename eq");
    let value: Vec<Value> = BUILTIN_ROLES
        .iter()
        .filter(|r| {
            wanted_name
                .as_deref()
                .is_none_or(|n| r.name.eq_ignore_ascii_case(n))
        })
        .map(|r| definition_json(sub.as_deref(), r))
        .collect();
    json(StatusCode::OK, json!({"value": value}))
}

pub fn get_definition(_req: &Req<'_>, scope: &str, id: &str) -> ArmResult {
    let r = role_by_guid(id).ok_or_else(|| role_definition_missing(id))?;
    json(
        StatusCode::OK,
        definition_json(scope_subscription(scope).as_deref(), r),
    )
}

fn role_definition_missing(id: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "RoleDefinitionDoesNotExist",
        format!("The specified role definition with ID '{id}' does not exist."),
    )
}

/// `principalId eq 'x'` -> `x` (the key is matched case-insensitively).
fn quoted_after(filter: &str, key: &str) -> Option<String> {
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
            "condition": null,
            "conditionVersion": null,
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
    let sub_id = scope_subscription(&scope).ok_or_else(|| {
        ArmError::bad_request(
            "InvalidScope",
            "Tenant-level role assignment listing is not supported by this emulator.",
        )
    })?;
    let filter = req.query_ci("$filter").unwrap_or("");
    let at_scope = filter.to_ascii_lowercase().contains("atscope()");
    let principal =
        quoted_after(filter, "principalid eq").or_else(|| quoted_after(filter, "assignedto("));
    let mut w = req.st.world();
    let s = sub_mut(&mut w, &sub_id)?;
    if let Some(rg) = scope_resource_group(&scope)
        && !s.rgs.contains_key(&rg.to_ascii_lowercase())
    {
        return Err(ArmError::resource_group_not_found(&rg));
    }
    let value: Vec<Value> = s
        .role_assignments
        .values()
        .filter(|ra| {
            // Unfiltered lists include assignments above and below the scope; atScope() only
            // those at or above it.
            scope_covers(&ra.scope, &scope) || (!at_scope && scope_covers(&scope, &ra.scope))
        })
        .filter(|ra| {
            principal
                .as_deref()
                .is_none_or(|p| ra.principal_id.eq_ignore_ascii_case(p))
        })
        .map(assignment_json)
        .collect();
    json(StatusCode::OK, json!({"value": value}))
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
            let role = role_by_guid(&rd_guid).ok_or_else(|| {
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
                    && existing.role_definition_guid.eq_ignore_ascii_case(role.id)
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
                    && ra.role_definition_guid.eq_ignore_ascii_case(role.id)
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
                role_definition_guid: role.id.to_string(),
                principal_id: pid.to_ascii_lowercase(),
                principal_type,
                created_on: now_rfc3339(),
                created_by: req.caller.oid.clone(),
                description: props
                    .get("description")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_and_scope() {
        assert!(glob("*", "Microsoft.Authorization/roleAssignments/write"));
        assert!(glob(
            "*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/read"
        ));
        assert!(!glob(
            "*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/write"
        ));
        assert!(glob(
            "Microsoft.Authorization/*/Write",
            "microsoft.authorization/roleassignments/write"
        ));
        assert!(glob(
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read"
        ));
        assert!(scope_covers(
            "/subscriptions/A",
            "/subscriptions/a/resourceGroups/x"
        ));
        assert!(!scope_covers(
            "/subscriptions/a/resourceGroups/x",
            "/subscriptions/a/resourceGroups/xy"
        ));
    }
}
