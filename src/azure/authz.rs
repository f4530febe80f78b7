//! Microsoft.Authorization: role definitions by name and idempotent role assignments.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Arm, AzureError};
use crate::output::progress::Progress;

pub const API_VERSION: &str = "2022-04-01";

#[derive(Debug, Clone, Deserialize)]
pub struct RoleDefinition {
    pub id: String,
    pub properties: RoleDefinitionProperties,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinitionProperties {
    pub role_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AssignmentBody {
    pub properties: AssignmentProperties,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentProperties {
    pub role_definition_id: String,
    pub principal_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
    /// Free text (RoleAssignmentProperties.description, Authorization 2022-04-01): bind marks
    /// the assignments it makes here, so unbind can tell them from the user's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Read-only: where the assignment is (listed, never sent).
    #[serde(default, skip_serializing)]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Assignment {
    #[serde(default)]
    pub id: String,
    pub name: String,
    pub properties: AssignmentProperties,
}

impl AssignmentBody {
    /// The body bind sends: the principal is a managed identity's service principal (stated,
    /// so a new one that has not replicated yet is accepted), marked as bind's.
    pub fn for_bind(role_definition_id: &str, principal_id: &str, subject: &str) -> AssignmentBody {
        AssignmentBody {
            properties: AssignmentProperties {
                role_definition_id: role_definition_id.to_string(),
                principal_id: principal_id.to_string(),
                principal_type: Some("ServicePrincipal".into()),
                description: Some(bind_description(subject)),
                scope: None,
            },
        }
    }
}

/// How bind's own assignments begin their description.
pub const BIND_MARK: &str = "kubectl-azwi bind";

/// The description bind gives an assignment it makes for `subject`.
pub fn bind_description(subject: &str) -> String {
    format!("{BIND_MARK}: for {subject}")
}

impl Assignment {
    /// Made by bind (its description carries the mark), not by the user.
    pub fn made_by_bind(&self) -> bool {
        self.properties
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with(BIND_MARK))
    }

    /// The role's GUID, the last segment of `roleDefinitionId`.
    pub fn role_guid(&self) -> &str {
        let id = &self.properties.role_definition_id;
        id.rsplit('/').next().unwrap_or(id)
    }
}

/// A GUID derived from (scope, role, principal): the same binding always gets the same name,
/// so a re-run finds it instead of making a second one.
pub fn assignment_name(scope: &str, role_definition_id: &str, principal_id: &str) -> String {
    let input = format!(
        "{}|{}|{}",
        scope.to_ascii_lowercase(),
        role_definition_id.to_ascii_lowercase(),
        principal_id.to_ascii_lowercase()
    );
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, input.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50; // name-based version nibble
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The role-definition id ARM stores: a name or GUID given by the user resolves to this.
fn same_role(a: &str, b: &str) -> bool {
    let tail = |s: &str| s.rsplit('/').next().unwrap_or(s).to_ascii_lowercase();
    tail(a) == tail(b)
}

impl Arm {
    /// Resolves a role given by name ("Storage Blob Data Reader") or GUID at a scope.
    pub async fn role_definition(
        &self,
        scope: &str,
        role: &str,
    ) -> Result<Option<RoleDefinition>, AzureError> {
        if crate::wi::names::is_guid(role) {
            return self
                .get_opt(
                    "get role definition",
                    &format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
                    API_VERSION,
                )
                .await;
        }
        let filter = format!("roleName eq '{}'", role.replace('\'', "''"));
        let path = format!(
            "{scope}/providers/Microsoft.Authorization/roleDefinitions?api-version={API_VERSION}&$filter={}",
            urlencode(&filter)
        );
        let list: Vec<RoleDefinition> = self
            .list("find role definition", &path, API_VERSION)
            .await?;
        Ok(list
            .into_iter()
            .find(|d| d.properties.role_name.eq_ignore_ascii_case(role)))
    }

    /// The assignments of `principal_id` that `filter` selects at `scope`.
    async fn assignments(
        &self,
        scope: &str,
        filter: &str,
        principal_id: &str,
    ) -> Result<Vec<Assignment>, AzureError> {
        let path = format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments?api-version={API_VERSION}&$filter={}",
            urlencode(filter)
        );
        let list: Vec<Assignment> = self
            .list("list role assignments", &path, API_VERSION)
            .await?;
        Ok(list
            .into_iter()
            .filter(|a| a.properties.principal_id.eq_ignore_ascii_case(principal_id))
            .collect())
    }

    /// An existing assignment of `role` to `principal` exactly at `scope`, under any name.
    pub async fn find_assignment(
        &self,
        scope: &str,
        role_definition_id: &str,
        principal_id: &str,
    ) -> Result<Option<Assignment>, AzureError> {
        let filter = format!("atScope() and assignedTo('{principal_id}')");
        Ok(self
            .assignments(scope, &filter, principal_id)
            .await?
            .into_iter()
            .find(|a| same_role(&a.properties.role_definition_id, role_definition_id)))
    }

    /// Every assignment of `principal_id` in the subscription, at, above or below it
    /// (`$filter=principalId eq '{id}'`, Authorization 2022-04-01 RoleAssignments_ListForScope).
    pub async fn assignments_of(
        &self,
        subscription: &str,
        principal_id: &str,
    ) -> Result<Vec<Assignment>, AzureError> {
        let filter = format!("principalId eq '{principal_id}'");
        self.assignments(
            &format!("/subscriptions/{subscription}"),
            &filter,
            principal_id,
        )
        .await
    }

    /// DELETE an assignment by its id; `false` when it was already gone.
    pub async fn delete_assignment(&self, id: &str) -> Result<bool, AzureError> {
        self.delete("delete role assignment", id, API_VERSION).await
    }

    /// PUT an assignment; while a new principal has not replicated, ARM says PrincipalNotFound: wait and retry.
    pub async fn put_assignment(
        &self,
        scope: &str,
        name: &str,
        body: &AssignmentBody,
        patience: Duration,
    ) -> Result<(), AzureError> {
        let path = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
        let start = std::time::Instant::now();
        let mut wait = Duration::from_secs(2);
        let mut progress = None;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .put::<_, serde_json::Value>("create role assignment", &path, API_VERSION, body)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if e.code() == Some("RoleAssignmentExists") => return Ok(()),
                Err(e)
                    if e.code() == Some("PrincipalNotFound")
                        && start.elapsed() + wait < patience =>
                {
                    let p = progress.get_or_insert_with(|| {
                        Progress::start(format!(
                            "waiting for principal {} to replicate to Azure Authorization",
                            body.properties.principal_id
                        ))
                    });
                    p.detail(format!("attempt {attempt} said PrincipalNotFound"));
                    p.sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(15));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_names_are_deterministic_guids() {
        let a = assignment_name(
            "/subscriptions/s/resourceGroups/rg",
            "/x/roleDefinitions/r",
            "p",
        );
        assert!(crate::wi::names::is_guid(&a), "{a}");
        assert_eq!(
            a,
            assignment_name(
                "/subscriptions/S/resourcegroups/RG",
                "/X/roleDefinitions/R",
                "P"
            )
        );
        assert_ne!(
            a,
            assignment_name(
                "/subscriptions/s/resourceGroups/rg",
                "/x/roleDefinitions/r",
                "q"
            )
        );
    }

    #[test]
    fn roles_compare_by_guid() {
        assert!(same_role(
            "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/ABC",
            "/providers/Microsoft.Authorization/roleDefinitions/abc"
        ));
        assert!(!same_role(
            "/a/roleDefinitions/abc",
            "/a/roleDefinitions/abd"
        ));
        assert_eq!(
            urlencode("roleName eq 'A B'"),
            "roleName%20eq%20%27A%20B%27"
        );
    }
}
