//! Microsoft Graph, the part an app-registration binding needs: applications, their service
//! principals and their federated identity credentials (URL forms and bodies as in
//! tests/azure-emulator/data/azure-api/graph-federated-credentials). Same pipeline as ARM
//! (`Arm::graph`): bearer token for the cloud's Graph scope, bounded retries on 429/5xx.

use azure_core::http::Method;
use serde::{Deserialize, Serialize};

use super::{Arm, AzureError};
use crate::wi::credential::Credential;

/// The application registration's well-known audience for Entra token exchange.
pub const EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// The object id (`/applications/{id}`).
    pub id: String,
    /// The application (client) id.
    pub app_id: String,
    #[serde(default)]
    pub display_name: String,
    /// Present when listed with `$expand=federatedIdentityCredentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federated_identity_credentials: Option<Vec<Fic>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    pub id: String,
    pub app_id: String,
    #[serde(default)]
    pub display_name: String,
    /// Graph omits it under `$select` unless asked; absent = enabled (the default).
    #[serde(default = "enabled")]
    pub account_enabled: bool,
    /// The application's home tenant: the tenant a bound pod's token is exchanged in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_owner_organization_id: Option<String>,
}

fn enabled() -> bool {
    true
}

/// A federated identity credential on an application.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Fic {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Fic {
    pub fn credential(&self) -> Credential {
        Credential {
            name: self.name.clone(),
            issuer: self.issuer.clone(),
            subject: self.subject.clone(),
            audiences: self.audiences.clone(),
        }
    }
}

/// An OData string literal: single quotes doubled.
fn literal(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

const APP_FIELDS: &str = "id,appId,displayName";
const SP_FIELDS: &str = "id,appId,displayName,accountEnabled,appOwnerOrganizationId";

#[derive(Clone)]
pub struct Graph {
    arm: Arm,
}

impl Graph {
    pub fn new(arm: Arm) -> Graph {
        Graph { arm }
    }

    pub fn calls(&self) -> u64 {
        self.arm.calls()
    }

    /// By client id, through the `(appId='…')` alternate key (`/applications/{appId}` is a 404).
    pub async fn application_by_app_id(
        &self,
        app_id: &str,
    ) -> Result<Option<Application>, AzureError> {
        let path = format!(
            "v1.0/applications(appId={})?$select={APP_FIELDS}",
            literal(app_id)
        );
        self.arm.get_opt("read application", &path, "").await
    }

    pub async fn application(&self, object_id: &str) -> Result<Option<Application>, AzureError> {
        let path = format!("v1.0/applications/{object_id}?$select={APP_FIELDS}");
        self.arm.get_opt("read application", &path, "").await
    }

    /// Display names are not unique: 0..n.
    pub async fn applications_named(&self, name: &str) -> Result<Vec<Application>, AzureError> {
        let filter = super::authz::urlencode(&format!("displayName eq {}", literal(name)));
        let path = format!("v1.0/applications?$filter={filter}&$select={APP_FIELDS}");
        self.arm.list("list applications", &path, "").await
    }

    /// Every application in the tenant with its credentials (`$expand`), for finding where a
    /// binding's credential went. Only called when the named application lacks it.
    pub async fn applications_with_credentials(&self) -> Result<Vec<Application>, AzureError> {
        let path =
            format!("v1.0/applications?$select={APP_FIELDS}&$expand=federatedIdentityCredentials");
        self.arm.list("list applications", &path, "").await
    }

    pub async fn service_principal_by_app_id(
        &self,
        app_id: &str,
    ) -> Result<Option<ServicePrincipal>, AzureError> {
        let path = format!(
            "v1.0/servicePrincipals(appId={})?$select={SP_FIELDS}",
            literal(app_id)
        );
        self.arm.get_opt("read service principal", &path, "").await
    }

    pub async fn service_principal(
        &self,
        object_id: &str,
    ) -> Result<Option<ServicePrincipal>, AzureError> {
        let path = format!("v1.0/servicePrincipals/{object_id}?$select={SP_FIELDS}");
        self.arm.get_opt("read service principal", &path, "").await
    }

    pub async fn credentials(&self, app_object_id: &str) -> Result<Vec<Fic>, AzureError> {
        let path = format!("v1.0/applications/{app_object_id}/federatedIdentityCredentials");
        self.arm.list("list federated credentials", &path, "").await
    }

    pub async fn create_credential(
        &self,
        app_object_id: &str,
        fic: &Fic,
    ) -> Result<Fic, AzureError> {
        let path = format!("v1.0/applications/{app_object_id}/federatedIdentityCredentials");
        let r = self
            .arm
            .write("create federated credential", Method::Post, &path, fic)
            .await?;
        Ok(r.body)
    }

    pub async fn delete_credential(
        &self,
        app_object_id: &str,
        fic_id: &str,
    ) -> Result<bool, AzureError> {
        let path =
            format!("v1.0/applications/{app_object_id}/federatedIdentityCredentials/{fic_id}");
        self.arm
            .delete("delete federated credential", &path, "")
            .await
    }

    /// PATCH a credential (only `audiences` changes here: name, issuer and subject stay); 204.
    pub async fn update_credential(
        &self,
        app_object_id: &str,
        fic_id: &str,
        body: &serde_json::Value,
    ) -> Result<(), AzureError> {
        let path =
            format!("v1.0/applications/{app_object_id}/federatedIdentityCredentials/{fic_id}");
        self.arm
            .write::<_, serde_json::Value>(
                "update federated credential",
                Method::Patch,
                &path,
                body,
            )
            .await?;
        Ok(())
    }

    /// `false` when it was already gone.
    pub async fn delete_application(&self, object_id: &str) -> Result<bool, AzureError> {
        let path = format!("v1.0/applications/{object_id}");
        self.arm.delete("delete application", &path, "").await
    }

    pub async fn delete_service_principal(&self, object_id: &str) -> Result<bool, AzureError> {
        let path = format!("v1.0/servicePrincipals/{object_id}");
        self.arm.delete("delete service principal", &path, "").await
    }

    pub async fn create_application(&self, display_name: &str) -> Result<Application, AzureError> {
        let body = serde_json::json!({"displayName": display_name});
        let r = self
            .arm
            .write(
                "create application",
                Method::Post,
                "v1.0/applications",
                &body,
            )
            .await?;
        Ok(r.body)
    }

    pub async fn create_service_principal(
        &self,
        app_id: &str,
    ) -> Result<ServicePrincipal, AzureError> {
        let body = serde_json::json!({"appId": app_id, "tags": ["kubectl-azwi"]});
        let r = self
            .arm
            .write(
                "create service principal",
                Method::Post,
                "v1.0/servicePrincipals",
                &body,
            )
            .await?;
        Ok(r.body)
    }
}
