use serde::Deserialize;

/// An Azure call that failed: which operation, on what, and ARM's or Entra's own code.
#[derive(Debug, thiserror::Error)]
pub enum AzureError {
    #[error("no Azure credentials found")]
    NotLoggedIn,
    #[error("getting an Azure token from {source_name}")]
    Credential {
        source_name: &'static str,
        #[source]
        source: Box<azure_core::Error>,
    },
    #[error("no Azure subscription selected")]
    NoSubscription,
    #[error("{operation} {resource}: {status} {code}: {message}")]
    Arm {
        operation: String,
        resource: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error("{operation} {resource}")]
    Transport {
        operation: String,
        resource: String,
        #[source]
        source: Box<azure_core::Error>,
    },
    #[error("{operation} {resource}: unexpected response body")]
    Body {
        operation: String,
        resource: String,
        #[source]
        source: serde_json::Error,
    },
}

/// ARM's `{"error": {"code", "message"}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ArmErrorBody {
    pub error: ArmErrorDetail,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ArmErrorDetail {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl AzureError {
    /// ARM's error code, if the call got that far.
    pub fn code(&self) -> Option<&str> {
        match self {
            AzureError::Arm { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            AzureError::Arm { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn hint(&self) -> Option<String> {
        Some(match self {
            AzureError::NotLoggedIn => "run `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_FEDERATED_TOKEN_FILE)".into(),
            AzureError::Credential { .. } => "run `az login` again (or check the AZURE_* variables); add --tenant-specific login with `az login --tenant <id>` if the identity is in another tenant".into(),
            AzureError::NoSubscription => "pass --subscription, set AZURE_SUBSCRIPTION_ID, or `az account set --subscription <id>`".into(),
            AzureError::Arm { code, message, .. } => match code.as_str() {
                "AuthorizationFailed" => format!("{}; ask for a role that grants it (e.g. Managed Identity Contributor on the identity's resource group)", action_in(message).map(|a| format!("your Azure principal lacks '{a}'")).unwrap_or_else(|| "your Azure principal lacks a permission".into())),
                "ResourceGroupNotFound" => "check -g/--resource-group and --subscription (`az group list -o table`)".into(),
                "ResourceNotFound" => "check the name, -g/--resource-group and --subscription".into(),
                "SubscriptionNotFound" => "check --subscription (`az account list -o table`)".into(),
                "InvalidAuthenticationToken" | "ExpiredAuthenticationToken" => "run `az login` again".into(),
                "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity" => "another write to this identity's federated credentials was in progress; re-run the command".into(),
                _ => return None,
            },
            AzureError::Transport { .. } => "is the ARM endpoint reachable? (--arm-endpoint, HTTPS_PROXY, SSL_CERT_FILE)".into(),
            AzureError::Body { .. } => return None,
        })
    }
}

/// The action ARM names in an AuthorizationFailed message: "... perform action 'X' over scope ...".
fn action_in(message: &str) -> Option<&str> {
    let start = message.find("action '")? + "action '".len();
    let len = message[start..].find('\'')?;
    Some(&message[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_failed_names_the_action() {
        let e = AzureError::Arm {
            operation: "create federated credential".into(),
            resource: "x".into(),
            status: 403,
            code: "AuthorizationFailed".into(),
            message: "The client 'a' with object id 'a' does not have authorization to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write' over scope '/x' or the scope is invalid.".into(),
        };
        assert!(e.hint().unwrap().contains("lacks 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write'"));
    }
}
