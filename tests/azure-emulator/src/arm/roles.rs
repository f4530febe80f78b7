//! Role definitions: Microsoft's built-in roles (vendored in `data/builtin-roles.json`, real
//! GUIDs and permission lists) and custom roles PUT at a subscription, with their ARM handlers
//! (`RoleDefinitions_Get/List/CreateOrUpdate/Delete`, api-version 2022-04-01).

use std::sync::LazyLock;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::authz::quoted_after;
use super::{ArmError, ArmResult, Req, empty, json, scope_subscription, sub_mut};
use crate::store::{Subscription, now_rfc3339};

/// One entry of a role's (or deny assignment's) `permissions`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Permission {
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub data_actions: Vec<String>,
    pub not_data_actions: Vec<String>,
    /// Present on a few built-ins (Key Vault Data Access Administrator); null elsewhere.
    pub condition: Option<String>,
    pub condition_version: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    /// Lower-case GUID (the resource name).
    pub guid: String,
    pub name: String,
    pub description: String,
    /// `BuiltInRole` or `CustomRole`.
    pub role_type: String,
    pub assignable_scopes: Vec<String>,
    pub permissions: Vec<Permission>,
    pub created_on: String,
    pub updated_on: String,
    pub created_by: Option<String>,
}

impl Role {
    pub fn builtin(&self) -> bool {
        self.role_type == "BuiltInRole"
    }
}

#[derive(Deserialize)]
struct RawRole {
    name: String,
    properties: RawProperties,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawProperties {
    role_name: String,
    description: String,
    #[serde(rename = "type")]
    role_type: String,
    assignable_scopes: Vec<String>,
    permissions: Vec<Permission>,
}

static BUILTINS: LazyLock<Vec<Role>> = LazyLock::new(|| {
    let raw: Vec<RawRole> = serde_json::from_str(include_str!("../../data/builtin-roles.json"))
        .expect("data/builtin-roles.json is an array of ARM role definitions");
    raw.into_iter()
        .map(|r| Role {
            guid: r.name.to_ascii_lowercase(),
            name: r.properties.role_name,
            description: r.properties.description,
            role_type: r.properties.role_type,
            assignable_scopes: r.properties.assignable_scopes,
            permissions: r.properties.permissions,
            created_on: "2015-02-02T21:55:09.8806423Z".into(),
            updated_on: "2025-01-01T00:00:00.0000000Z".into(),
            created_by: None,
        })
        .collect()
});

/// Microsoft's built-in roles, in the vendored file's order.
pub fn builtins() -> &'static [Role] {
    &BUILTINS
}

pub fn builtin_by_guid(guid: &str) -> Option<&'static Role> {
    builtins()
        .iter()
        .find(|r| r.guid.eq_ignore_ascii_case(guid))
}

pub fn builtin_by_name(name: &str) -> Option<&'static Role> {
    builtins()
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(name))
}

/// A role by GUID as a subscription sees it: built-in, or one of its custom roles.
pub fn find(sub: Option<&Subscription>, guid: &str) -> Option<Role> {
    let guid = guid
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(guid);
    builtin_by_guid(guid).cloned().or_else(|| {
        sub.and_then(|s| s.custom_roles.get(&guid.to_ascii_lowercase()))
            .cloned()
    })
}

/// A role by name, GUID or role-definition id (control API convenience).
pub fn find_named(sub: Option<&Subscription>, role: &str) -> Option<Role> {
    builtin_by_name(role)
        .cloned()
        .or_else(|| find(sub, role))
        .or_else(|| {
            sub.and_then(|s| {
                s.custom_roles
                    .values()
                    .find(|r| r.name.eq_ignore_ascii_case(role))
                    .cloned()
            })
        })
}

/// The id ARM gives a role definition read at `sub` (built-ins also exist tenant-wide).
pub fn definition_id(sub: Option<&str>, guid: &str) -> String {
    match sub {
        Some(s) => {
            format!("/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}")
        }
        None => format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
    }
}

pub fn definition_json(sub: Option<&str>, r: &Role) -> Value {
    json!({
        "properties": {
            "roleName": r.name,
            "type": r.role_type,
            "description": r.description,
            "assignableScopes": r.assignable_scopes,
            "permissions": r.permissions,
            "createdOn": r.created_on,
            "updatedOn": r.updated_on,
            "createdBy": r.created_by,
            "updatedBy": r.created_by,
        },
        "id": definition_id(sub, &r.guid),
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": r.guid,
    })
}

/// `RoleDefinitions_List`: built-ins and the subscription's custom roles, `$filter=roleName eq
/// '...'` or `type eq 'BuiltInRole'|'CustomRole'` (the forms `az role definition list` sends).
pub fn list_definitions(req: &Req<'_>, scope: &str) -> ArmResult {
    let sub = scope_subscription(scope);
    let filter = req.query_ci("$filter").unwrap_or("");
    let wanted_name = quoted_after(filter, "rolename eq");
    let wanted_type = quoted_after(filter, "type eq");
    let w = req.st.world();
    let customs: Vec<Role> = sub
        .as_deref()
        .and_then(|s| w.subs.get(&s.to_ascii_lowercase()))
        .map(|s| s.custom_roles.values().cloned().collect())
        .unwrap_or_default();
    let value: Vec<Value> = builtins()
        .iter()
        .chain(customs.iter())
        .filter(|r| {
            wanted_name
                .as_deref()
                .is_none_or(|n| r.name.eq_ignore_ascii_case(n))
                && wanted_type
                    .as_deref()
                    .is_none_or(|t| r.role_type.eq_ignore_ascii_case(t))
        })
        .map(|r| definition_json(sub.as_deref(), r))
        .collect();
    json(StatusCode::OK, json!({"value": value}))
}

pub fn get_definition(req: &Req<'_>, scope: &str, id: &str) -> ArmResult {
    let sub = scope_subscription(scope);
    let w = req.st.world();
    let s = sub
        .as_deref()
        .and_then(|s| w.subs.get(&s.to_ascii_lowercase()));
    let r = find(s, id).ok_or_else(|| role_definition_missing(id))?;
    json(StatusCode::OK, definition_json(sub.as_deref(), &r))
}

pub fn role_definition_missing(id: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "RoleDefinitionDoesNotExist",
        format!("The specified role definition with ID '{id}' does not exist."),
    )
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct CustomRoleBody {
    role_name: String,
    description: String,
    #[serde(rename = "type")]
    role_type: Option<String>,
    permissions: Vec<Permission>,
    assignable_scopes: Vec<String>,
}

/// `RoleDefinitions_CreateOrUpdate` (201) and `_Delete` (200 with the body, 204 when absent) of
/// a custom role at a subscription scope (`az role definition create`).
pub fn write_definition(req: &Req<'_>, scope: &str, id: &str) -> ArmResult {
    let Some(sub_id) = scope_subscription(scope) else {
        return Err(ArmError::bad_request(
            "InvalidScope",
            "Custom roles at management-group or tenant scope are not supported by this emulator.",
        ));
    };
    let key = id.to_ascii_lowercase();
    if *req.method == axum::http::Method::DELETE {
        let mut w = req.st.world();
        let s = sub_mut(&mut w, &sub_id)?;
        return match s.custom_roles.remove(&key) {
            Some(r) => json(StatusCode::OK, definition_json(Some(&s.id), &r)),
            None => empty(StatusCode::NO_CONTENT),
        };
    }
    if uuid::Uuid::parse_str(id).is_err() || builtin_by_guid(id).is_some() {
        return Err(ArmError::bad_request(
            "RoleDefinitionIdInvalid",
            format!("The role definition ID '{id}' is not valid. It must be a new GUID."),
        ));
    }
    let body = req.json_body()?;
    let props: CustomRoleBody =
        serde_json::from_value(body.get("properties").cloned().unwrap_or(Value::Null))
            .map_err(ArmError::invalid_body)?;
    if props.role_name.trim().is_empty() || props.assignable_scopes.is_empty() {
        return Err(ArmError::bad_request(
            "InvalidRoleDefinition",
            "The role definition must specify 'properties.roleName' and at least one assignable scope.",
        ));
    }
    let mut w = req.st.world();
    let s = sub_mut(&mut w, &sub_id)?;
    if let Some(other) = s
        .custom_roles
        .values()
        .find(|r| r.name.eq_ignore_ascii_case(&props.role_name) && !r.guid.eq_ignore_ascii_case(id))
    {
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "RoleDefinitionWithSameNameExists",
            format!(
                "A custom role with the same name already exists in this directory. Use a different name. (existing role {})",
                other.guid
            ),
        ));
    }
    let prefix = format!("/subscriptions/{}", s.id).to_ascii_lowercase();
    if let Some(bad) = props
        .assignable_scopes
        .iter()
        .find(|a| !a.to_ascii_lowercase().starts_with(&prefix))
    {
        return Err(ArmError::bad_request(
            "InvalidAssignableScope",
            format!("The assignable scope '{bad}' is outside the subscription of this request."),
        ));
    }
    let now = now_rfc3339();
    let created_on = s
        .custom_roles
        .get(&key)
        .map(|r| r.created_on.clone())
        .unwrap_or_else(|| now.clone());
    let role = Role {
        guid: key.clone(),
        name: props.role_name,
        description: props.description,
        role_type: props.role_type.unwrap_or_else(|| "CustomRole".into()),
        assignable_scopes: props.assignable_scopes,
        permissions: props.permissions,
        created_on,
        updated_on: now,
        created_by: Some(req.caller.oid.clone()),
    };
    let out = definition_json(Some(&s.id), &role);
    s.custom_roles.insert(key, role);
    json(StatusCode::CREATED, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_builtins_have_their_real_ids() {
        // GUIDs as Microsoft publishes them (built-in roles reference, azure-sdk-for-net tables).
        for (guid, name) in [
            ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner"),
            ("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor"),
            ("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader"),
            (
                "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
                "Storage Blob Data Reader",
            ),
            (
                "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
                "Storage Blob Data Contributor",
            ),
            (
                "4633458b-17de-408a-b874-0445c86b69e6",
                "Key Vault Secrets User",
            ),
            ("7f951dda-4ed3-4680-a7ca-43fe172d538d", "AcrPull"),
        ] {
            assert_eq!(builtin_by_guid(guid).map(|r| r.name.as_str()), Some(name));
            assert_eq!(builtin_by_name(name).map(|r| r.guid.as_str()), Some(guid));
        }
        assert_eq!(builtins().len(), 36);
        let kv = builtin_by_name("Key Vault Data Access Administrator").unwrap();
        assert_eq!(kv.permissions[0].condition_version.as_deref(), Some("2.0"));
    }
}
