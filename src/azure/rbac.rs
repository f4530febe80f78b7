//! What ARM says about one principal's access around a scope, read with the documented list
//! filters only (role-assignments-list-rest.md, deny-assignments-rest.md): role assignments
//! `atScope() and assignedTo('{id}')` at the scope (at or above it, management groups and the
//! principal's groups included) and `assignedTo('{id}')` around it (near misses), deny
//! assignments `atScope() and assignedTo('{id}')`; then each role definition once, by id.

use std::collections::BTreeMap;

use futures::future::join_all;
use serde::Deserialize;

use super::{Arm, AzureError, authz::urlencode};
use crate::wi::rbac::{self, Assignment, Deny, Permission, RoleDef, View, scope::Scope};

pub const API_VERSION: &str = "2022-04-01";

/// The `$filter` forms ARM documents for role and deny assignment lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// At or above the scope.
    AtScope,
    /// At, above and below, for the principal and its groups (transitively).
    AssignedTo(String),
    /// At or above, for the principal and its groups.
    AtScopeAssignedTo(String),
    /// At, above and below, for exactly this object.
    PrincipalId(String),
}

impl Filter {
    pub fn query(&self) -> String {
        match self {
            Filter::AtScope => "atScope()".into(),
            Filter::AssignedTo(id) => format!("assignedTo('{id}')"),
            Filter::AtScopeAssignedTo(id) => format!("atScope() and assignedTo('{id}')"),
            Filter::PrincipalId(id) => format!("principalId eq '{id}'"),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Listed<P> {
    id: String,
    #[serde(default)]
    name: String,
    properties: P,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssignmentProps {
    role_definition_id: String,
    principal_id: String,
    #[serde(default)]
    principal_type: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    condition: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DefinitionProps {
    role_name: String,
    #[serde(default, rename = "type")]
    role_type: String,
    #[serde(default)]
    permissions: Vec<Permission>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct PrincipalRef {
    id: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct DenyProps {
    deny_assignment_name: String,
    scope: String,
    permissions: Vec<Permission>,
    principals: Vec<PrincipalRef>,
    exclude_principals: Vec<PrincipalRef>,
    do_not_apply_to_child_scopes: bool,
    condition: Option<String>,
}

fn list_path(scope: &str, kind: &str, filter: &Filter) -> String {
    format!(
        "{}/providers/Microsoft.Authorization/{kind}?api-version={API_VERSION}&$filter={}",
        scope.trim_end_matches('/'),
        urlencode(&filter.query())
    )
}

/// Calls made for one view, and in how many rounds of concurrent calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    pub calls: u64,
    pub waves: u32,
}

impl Arm {
    pub async fn role_assignments(
        &self,
        scope: &str,
        filter: &Filter,
    ) -> Result<Vec<Assignment>, AzureError> {
        let raw: Vec<Listed<AssignmentProps>> = self
            .list(
                "list role assignments",
                &list_path(scope, "roleAssignments", filter),
                API_VERSION,
            )
            .await?;
        Ok(raw
            .into_iter()
            .map(|a| Assignment {
                scope: a
                    .properties
                    .scope
                    .unwrap_or_else(|| scope_of(&a.id, "roleAssignments")),
                id: a.id,
                role_definition_id: a.properties.role_definition_id,
                principal_id: a.properties.principal_id,
                principal_type: a.properties.principal_type.unwrap_or_default(),
                condition: a.properties.condition.filter(|c| !c.trim().is_empty()),
            })
            .collect())
    }

    pub async fn deny_assignments(
        &self,
        scope: &str,
        filter: &Filter,
    ) -> Result<Vec<Deny>, AzureError> {
        let raw: Vec<Listed<DenyProps>> = self
            .list(
                "list deny assignments",
                &list_path(scope, "denyAssignments", filter),
                API_VERSION,
            )
            .await?;
        Ok(raw
            .into_iter()
            .map(|d| {
                let p = d.properties;
                Deny {
                    scope: if p.scope.is_empty() {
                        scope_of(&d.id, "denyAssignments")
                    } else {
                        p.scope
                    },
                    id: d.id,
                    name: if p.deny_assignment_name.is_empty() {
                        d.name
                    } else {
                        p.deny_assignment_name
                    },
                    permissions: p.permissions,
                    principals: p.principals.into_iter().map(|x| x.id).collect(),
                    exclude_principals: p.exclude_principals.into_iter().map(|x| x.id).collect(),
                    do_not_apply_to_child_scopes: p.do_not_apply_to_child_scopes,
                    condition: p.condition.filter(|c| !c.trim().is_empty()),
                }
            })
            .collect())
    }

    /// A role definition by its full id (`.../roleDefinitions/{guid}`); `None` when gone.
    pub async fn role_definition_by_id(&self, id: &str) -> Result<Option<RoleDef>, AzureError> {
        let raw: Option<Listed<DefinitionProps>> =
            self.get_opt("get role definition", id, API_VERSION).await?;
        Ok(raw.map(definition))
    }

    /// Every role definition visible at `scope` (built-in and custom).
    pub async fn role_definitions(&self, scope: &str) -> Result<Vec<RoleDef>, AzureError> {
        let raw: Vec<Listed<DefinitionProps>> = self
            .list(
                "list role definitions",
                &format!(
                    "{}/providers/Microsoft.Authorization/roleDefinitions",
                    scope.trim_end_matches('/')
                ),
                API_VERSION,
            )
            .await?;
        Ok(raw.into_iter().map(definition).collect())
    }

    /// The principal's access around `scope`: one wave of three lists, then one wave reading
    /// each role definition they name once.
    pub async fn rbac_view(
        &self,
        scope: &Scope,
        principal: &str,
    ) -> Result<(View, Cost), AzureError> {
        let before = self.calls();
        let near = scope.neighbourhood();
        let at = Filter::AtScopeAssignedTo(principal.into());
        let around = Filter::AssignedTo(principal.into());
        let (applicable, elsewhere, denies) = tokio::join!(
            self.role_assignments(&scope.id, &at),
            self.role_assignments(&near, &around),
            self.deny_assignments(&scope.id, &at),
        );
        let (applicable, elsewhere, denies) = (applicable?, elsewhere?, denies?);
        let mut ids: BTreeMap<String, String> = BTreeMap::new();
        for a in applicable.iter().chain(&elsewhere) {
            ids.entry(rbac::role_guid(&a.role_definition_id))
                .or_insert_with(|| a.role_definition_id.clone());
        }
        let waves = 1 + u32::from(!ids.is_empty());
        let defs = join_all(ids.values().map(|id| self.role_definition_by_id(id))).await;
        let mut roles = BTreeMap::new();
        for (guid, def) in ids.into_keys().zip(defs) {
            if let Some(d) = def? {
                roles.insert(guid, d);
            }
        }
        let view = View {
            principal: principal.to_ascii_lowercase(),
            applicable,
            elsewhere,
            denies,
            roles,
        };
        Ok((
            view,
            Cost {
                calls: self.calls() - before,
                waves,
            },
        ))
    }
}

impl Arm {
    /// The roles each principal holds around `scope` (`assignedTo` there: its own and its
    /// groups'), the lists in one wave, then each role definition once.
    pub async fn roles_held(
        &self,
        scope: &str,
        principals: &[String],
    ) -> Result<BTreeMap<String, Vec<rbac::Held>>, AzureError> {
        let filters: Vec<Filter> = principals
            .iter()
            .map(|p| Filter::AssignedTo(p.clone()))
            .collect();
        let lists = join_all(filters.iter().map(|f| self.role_assignments(scope, f))).await;
        let lists: Vec<Vec<Assignment>> = lists.into_iter().collect::<Result<_, _>>()?;
        let mut ids: BTreeMap<String, String> = BTreeMap::new();
        for a in lists.iter().flatten() {
            ids.entry(rbac::role_guid(&a.role_definition_id))
                .or_insert_with(|| a.role_definition_id.clone());
        }
        let defs = join_all(ids.values().map(|id| self.role_definition_by_id(id))).await;
        let mut names = BTreeMap::new();
        for (guid, def) in ids.into_keys().zip(defs) {
            if let Some(d) = def? {
                names.insert(guid, d.name);
            }
        }
        Ok(principals
            .iter()
            .zip(lists)
            .map(|(p, list)| {
                let mut held: Vec<rbac::Held> = list
                    .into_iter()
                    .map(|a| rbac::Held {
                        role: names
                            .get(&rbac::role_guid(&a.role_definition_id))
                            .cloned()
                            .unwrap_or_else(|| rbac::role_guid(&a.role_definition_id)),
                        group: (!a.principal_id.eq_ignore_ascii_case(p))
                            .then(|| a.principal_id.clone()),
                        scope: a.scope,
                    })
                    .collect();
                held.sort();
                (p.to_ascii_lowercase(), held)
            })
            .collect())
    }
}

fn definition(d: Listed<DefinitionProps>) -> RoleDef {
    RoleDef {
        id: d.id,
        name: d.properties.role_name,
        role_type: d.properties.role_type,
        permissions: d.properties.permissions,
    }
}

/// `{scope}/providers/Microsoft.Authorization/{kind}/{name}` -> `{scope}`.
fn scope_of(id: &str, kind: &str) -> String {
    let marker = format!(
        "/providers/microsoft.authorization/{}/",
        kind.to_ascii_lowercase()
    );
    match id.to_ascii_lowercase().rfind(&marker) {
        Some(0) => "/".into(),
        Some(p) => id[..p].to_string(),
        None => id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_the_documented_forms() {
        // role-assignments-list-rest.md / deny-assignments-rest.md.
        assert_eq!(Filter::AtScope.query(), "atScope()");
        assert_eq!(Filter::AssignedTo("x".into()).query(), "assignedTo('x')");
        assert_eq!(
            Filter::AtScopeAssignedTo("x".into()).query(),
            "atScope() and assignedTo('x')"
        );
        assert_eq!(
            Filter::PrincipalId("x".into()).query(),
            "principalId eq 'x'"
        );
        assert_eq!(
            list_path(
                "/subscriptions/s/",
                "roleAssignments",
                &Filter::AtScopeAssignedTo("p".into())
            ),
            "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope%28%29%20and%20assignedTo%28%27p%27%29"
        );
    }

    #[test]
    fn scope_from_an_id() {
        assert_eq!(
            scope_of(
                "/subscriptions/s/resourcegroups/rg/providers/Microsoft.Authorization/roleAssignments/a",
                "roleAssignments"
            ),
            "/subscriptions/s/resourcegroups/rg"
        );
        assert_eq!(
            scope_of(
                "/providers/Microsoft.Authorization/denyAssignments/d",
                "denyAssignments"
            ),
            "/"
        );
    }
}
