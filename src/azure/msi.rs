//! Microsoft.ManagedIdentity: user-assigned identities and their federated credentials.

use serde::{Deserialize, Serialize};

use super::{Arm, AzureError};
use crate::wi::{credential::Credential, identity::ResourceId};

/// GA api-version supported by every cloud (2024-11-30 is newer, same shape for what we use).
pub const API_VERSION: &str = "2023-01-31";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub location: String,
    pub properties: IdentityProperties,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProperties {
    pub tenant_id: String,
    pub principal_id: String,
    pub client_id: String,
}

impl Identity {
    pub fn resource_group(&self) -> Option<String> {
        ResourceId::parse(&self.id).map(|r| r.resource_group)
    }
}

/// The body of a federated identity credential PUT, exactly as sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CredentialBody {
    pub properties: CredentialProperties,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CredentialProperties {
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct CredentialResource {
    name: String,
    properties: ListedProperties,
}

/// A listed credential: a flexible one has no `subject` (`claimsMatchingExpression` instead,
/// which api-versions before 2025-01-31-preview do not carry), so it is optional here.
#[derive(Debug, Clone, Deserialize)]
struct ListedProperties {
    issuer: String,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    audiences: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IdentityBody {
    pub location: String,
}

pub fn identities_path(subscription: &str, resource_group: Option<&str>) -> String {
    match resource_group {
        Some(rg) => format!(
            "/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
        ),
        None => format!(
            "/subscriptions/{subscription}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
        ),
    }
}

pub fn credential_path(identity_id: &str, name: &str) -> String {
    format!("{identity_id}/federatedIdentityCredentials/{name}")
}

impl Arm {
    pub async fn identity(&self, id: &str) -> Result<Option<Identity>, AzureError> {
        self.get_opt("get identity", id, API_VERSION).await
    }

    pub async fn identities(
        &self,
        subscription: &str,
        resource_group: Option<&str>,
    ) -> Result<Vec<Identity>, AzureError> {
        self.list(
            "list identities",
            &identities_path(subscription, resource_group),
            API_VERSION,
        )
        .await
    }

    pub async fn create_identity(&self, id: &str, location: &str) -> Result<Identity, AzureError> {
        let body = IdentityBody {
            location: location.to_string(),
        };
        Ok(self
            .put("create identity", id, API_VERSION, &body)
            .await?
            .body)
    }

    pub async fn delete_identity(&self, id: &str) -> Result<bool, AzureError> {
        self.delete("delete identity", id, API_VERSION).await
    }

    pub async fn credentials(&self, identity_id: &str) -> Result<Vec<Credential>, AzureError> {
        let raw: Vec<CredentialResource> = self
            .list(
                "list federated credentials",
                &format!("{identity_id}/federatedIdentityCredentials"),
                API_VERSION,
            )
            .await?;
        Ok(raw
            .into_iter()
            .map(|r| Credential {
                name: r.name,
                issuer: r.properties.issuer,
                // Empty for a flexible credential (see `Credential::is_flexible`).
                subject: r.properties.subject.unwrap_or_default(),
                audiences: r.properties.audiences,
            })
            .collect())
    }

    /// PUT a credential; returns the HTTP status (201 created, 200 replaced).
    pub async fn put_credential(
        &self,
        identity_id: &str,
        name: &str,
        body: &CredentialBody,
    ) -> Result<u16, AzureError> {
        let reply: super::arm::Reply<serde_json::Value> = self
            .put(
                "create federated credential",
                &credential_path(identity_id, name),
                API_VERSION,
                body,
            )
            .await?;
        Ok(reply.status)
    }

    pub async fn delete_credential(
        &self,
        identity_id: &str,
        name: &str,
    ) -> Result<bool, AzureError> {
        self.delete(
            "delete federated credential",
            &credential_path(identity_id, name),
            API_VERSION,
        )
        .await
    }
}
