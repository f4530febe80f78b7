//! Who the plugin is to Azure. azure_identity 1.x has no DefaultAzureCredential, so the chain
//! is built here, deterministically: the first configured source wins and is named, instead
//! of silently falling through (which hides why a login failed).

use std::{path::PathBuf, sync::Arc};

use azure_core::{
    cloud::{CloudConfiguration, CustomConfiguration},
    credentials::{Secret, TokenCredential},
    http::ClientOptions,
};
use azure_identity::{
    AzureCliCredential, ClientAssertionCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use serde::Serialize;

use super::{AzureError, Cloud};

/// The `AZURE_*` variables, read once at start-up (no `env::var` deeper in the code).
#[derive(Debug, Clone, Default)]
pub struct AzureEnv {
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub federated_token_file: Option<PathBuf>,
}

impl AzureEnv {
    pub fn from_process() -> AzureEnv {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        AzureEnv {
            tenant_id: var("AZURE_TENANT_ID"),
            client_id: var("AZURE_CLIENT_ID"),
            client_secret: var("AZURE_CLIENT_SECRET"),
            federated_token_file: var("AZURE_FEDERATED_TOKEN_FILE").map(PathBuf::from),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET.
    ClientSecret,
    /// AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_FEDERATED_TOKEN_FILE: the plugin in a pod.
    WorkloadIdentity,
    /// `az login`.
    AzureCli,
}

impl Source {
    pub fn describe(self) -> &'static str {
        match self {
            Source::ClientSecret => "the AZURE_CLIENT_SECRET environment credential",
            Source::WorkloadIdentity => "workload identity (AZURE_FEDERATED_TOKEN_FILE)",
            Source::AzureCli => "the Azure CLI (az login)",
        }
    }
}

/// Which source to use, from what is configured: pure, so the order is tested.
pub fn choose(env: &AzureEnv, az_on_path: bool) -> Option<Source> {
    let app = env.tenant_id.is_some() && env.client_id.is_some();
    if app && env.client_secret.is_some() {
        Some(Source::ClientSecret)
    } else if app && env.federated_token_file.is_some() {
        Some(Source::WorkloadIdentity)
    } else if az_on_path {
        Some(Source::AzureCli)
    } else {
        None
    }
}

pub struct Login {
    pub credential: Arc<dyn TokenCredential>,
    pub source: Source,
}

fn client_options(cloud: &Cloud) -> ClientOptions {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = cloud.authority.trim_end_matches('/').to_string();
    ClientOptions {
        cloud: Some(Arc::new(CloudConfiguration::Custom(custom))),
        ..Default::default()
    }
}

pub fn login(cloud: &Cloud, env: &AzureEnv) -> Result<Login, AzureError> {
    let source = choose(env, which::which("az").is_ok()).ok_or(AzureError::NotLoggedIn)?;
    let fail = |source_name, source| AzureError::Credential {
        source_name,
        source: Box::new(source),
    };
    let credential: Arc<dyn TokenCredential> = match source {
        Source::ClientSecret => ClientSecretCredential::new(
            env.tenant_id.as_deref().unwrap_or_default(),
            env.client_id.clone().unwrap_or_default(),
            Secret::new(env.client_secret.clone().unwrap_or_default()),
            Some(ClientSecretCredentialOptions {
                client_options: client_options(cloud),
            }),
        )
        .map_err(|e| fail(source.describe(), e))?,
        Source::WorkloadIdentity => {
            WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions {
                    client_options: client_options(cloud),
                },
                client_id: env.client_id.clone(),
                tenant_id: env.tenant_id.clone(),
                token_file_path: env.federated_token_file.clone(),
            }))
            .map_err(|e| fail(source.describe(), e))?
        }
        Source::AzureCli => {
            AzureCliCredential::new(None).map_err(|e| fail(source.describe(), e))?
        }
    };
    Ok(Login { credential, source })
}

/// The subscription: flag or AZURE_SUBSCRIPTION_ID (clap reads both), else the az CLI's default.
pub async fn subscription(explicit: Option<&str>) -> Result<String, AzureError> {
    if let Some(s) = explicit {
        return Ok(s.to_string());
    }
    let Ok(az) = which::which("az") else {
        return Err(AzureError::NoSubscription);
    };
    let out = tokio::process::Command::new(az)
        .args(["account", "show", "--query", "id", "-o", "tsv"])
        .output()
        .await
        .map_err(|_| AzureError::NoSubscription)?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && !id.is_empty() {
        Ok(id)
    } else {
        Err(AzureError::NoSubscription)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_configured_source_wins() {
        let mut env = AzureEnv::default();
        assert_eq!(choose(&env, false), None);
        assert_eq!(choose(&env, true), Some(Source::AzureCli));
        env.tenant_id = Some("t".into());
        env.client_id = Some("c".into());
        assert_eq!(
            choose(&env, true),
            Some(Source::AzureCli),
            "an app id alone is not a credential"
        );
        env.federated_token_file =
            Some("/var/run/secrets/azure/wi/token/azure-identity-token".into());
        assert_eq!(choose(&env, true), Some(Source::WorkloadIdentity));
        env.client_secret = Some("s".into());
        assert_eq!(choose(&env, true), Some(Source::ClientSecret));
    }
}
