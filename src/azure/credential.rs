//! Who the plugin is to Azure. azure_identity 1.x has no DefaultAzureCredential, so the chain
//! is built here, deterministically: the first configured source wins and is named, instead
//! of silently falling through (which hides why a login failed).

use std::{path::PathBuf, sync::Arc};

use azure_core::{
    cloud::{CloudConfiguration, CustomConfiguration},
    credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions},
    error::ErrorKind,
    http::{ClientOptions, Transport},
    time::{Duration, OffsetDateTime},
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

/// One login per run, whatever the number of calls: the concurrent ARM calls of a wave wait
/// for the one token request in flight, and a refused request is answered from memory instead
/// of being sent again (Entra would refuse again; each retry is a round trip, and for `az` a
/// process). A token is reused until five minutes before it expires, as the bearer policy does.
#[derive(Debug)]
pub struct OneLogin {
    inner: Arc<dyn TokenCredential>,
    last: tokio::sync::Mutex<Option<Answer>>,
}

/// The scopes asked for, and what the credential answered (a refusal kept as its message).
type Answer = (Vec<String>, Result<AccessToken, String>);

impl OneLogin {
    pub fn new(inner: Arc<dyn TokenCredential>) -> OneLogin {
        OneLogin {
            inner,
            last: tokio::sync::Mutex::new(None),
        }
    }
}

/// An error and its causes on one line: the credential's own words (an AADSTS code, az's
/// message) are in the causes.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[async_trait::async_trait]
impl TokenCredential for OneLogin {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let refused =
            |m: &str| azure_core::Error::with_message(ErrorKind::Credential, m.to_string());
        // Held across the request: the calls behind it wait for its answer, not resend it.
        let mut last = self.last.lock().await;
        if let Some((asked, answer)) = last.as_ref()
            && asked.iter().map(String::as_str).eq(scopes.iter().copied())
        {
            match answer {
                Err(message) => return Err(refused(message)),
                Ok(t) if t.expires_on > OffsetDateTime::now_utc() + Duration::minutes(5) => {
                    return Ok(t.clone());
                }
                Ok(_) => {}
            }
        }
        let answer = self
            .inner
            .get_token(scopes, options)
            .await
            .map_err(|e| chain(&e));
        *last = Some((
            scopes.iter().map(|s| s.to_string()).collect(),
            answer.clone(),
        ));
        answer.map_err(|m| refused(&m))
    }
}

fn client_options(cloud: &Cloud) -> ClientOptions {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = cloud.authority.trim_end_matches('/').to_string();
    ClientOptions {
        cloud: Some(Arc::new(CloudConfiguration::Custom(custom))),
        // The process's client: the SDK's default would load the trusted roots again.
        transport: super::http::shared()
            .ok()
            .map(|c| Transport::new(Arc::new(c))),
        ..Default::default()
    }
}

pub fn login(cloud: &Cloud, env: &AzureEnv) -> Result<Login, AzureError> {
    let source = choose(env, which::which("az").is_ok()).ok_or(AzureError::NotLoggedIn)?;
    let fail = |login, source| AzureError::Credential {
        login,
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
        .map_err(|e| fail(source, e))?,
        Source::WorkloadIdentity => {
            WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions {
                    client_options: client_options(cloud),
                },
                client_id: env.client_id.clone(),
                tenant_id: env.tenant_id.clone(),
                token_file_path: env.federated_token_file.clone(),
            }))
            .map_err(|e| fail(source, e))?
        }
        Source::AzureCli => AzureCliCredential::new(None).map_err(|e| fail(source, e))?,
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
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// Refuses every request, counting them.
    #[derive(Debug, Default)]
    struct Refusing(AtomicU32);

    #[async_trait::async_trait]
    impl TokenCredential for Refusing {
        async fn get_token(
            &self,
            _: &[&str],
            _: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            self.0.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Err(azure_core::Error::with_message(
                ErrorKind::Credential,
                "AADSTS7000215: Invalid client secret provided.",
            ))
        }
    }

    #[tokio::test]
    async fn a_refused_login_is_asked_once_for_a_whole_wave() {
        let inner = Arc::new(Refusing::default());
        let one = OneLogin::new(inner.clone());
        let scope = ["https://management.azure.com/.default"];
        let wave = futures::future::join_all((0..4).map(|_| one.get_token(&scope, None))).await;
        assert_eq!(
            inner.0.load(Ordering::SeqCst),
            1,
            "one request for four calls"
        );
        for r in wave {
            let e = r.unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::Credential);
            assert!(e.to_string().contains("AADSTS7000215"), "{e}");
        }
    }

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
