use serde::Deserialize;

use super::credential::Source;

/// An Azure call that failed: which operation, on what, and ARM's or Entra's own code.
#[derive(Debug, thiserror::Error)]
pub enum AzureError {
    #[error("no Azure credentials found")]
    NotLoggedIn,
    /// Logging in failed: whatever the cause (a wrong secret, an expired `az login`), it is a
    /// login problem, never a network one.
    #[error("getting an Azure token from {}", login.describe())]
    Credential {
        login: Source,
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
    /// Microsoft Graph's `{"error": {"code", "message", "innerError"}}`.
    #[error("{operation} {resource}: {status} {code}: {message}")]
    Graph {
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
            AzureError::Arm { code, .. } | AzureError::Graph { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            AzureError::Arm { status, .. } | AzureError::Graph { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn hint(&self) -> Option<String> {
        Some(match self {
            AzureError::NotLoggedIn => "run `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_FEDERATED_TOKEN_FILE)".into(),
            AzureError::Credential { login, source } => login_hint(*login, &super::credential::chain(source.as_ref())),
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
            AzureError::Graph { code, .. } => return graph_hint(code),
            AzureError::Transport { .. } => "is the endpoint reachable? (--arm-endpoint, --graph-endpoint, HTTPS_PROXY, SSL_CERT_FILE)".into(),
            AzureError::Body { .. } => return None,
        })
    }
}

/// Graph's codes (data/azure-api/graph-federated-credentials/error-*.json) and their fixes.
fn graph_hint(code: &str) -> Option<String> {
    Some(match code {
        "Authorization_RequestDenied" => "your principal lacks a Microsoft Graph permission: to read applications Application.Read.All; to write them Application.ReadWrite.OwnedBy (least privilege: the applications it owns or creates) or Application.ReadWrite.All; a user needs to own the application or hold the Application Administrator role".into(),
        "Request_MultipleObjectsWithSameKeyValue" => "an object with this name already exists on the application: re-run the command (it adopts what matches, and refuses a name another binding holds), or pass --credential-name with a name of your own".into(),
        "InvalidFederatedIdentityCredentialValue" => "the application already has a credential with the same issuer and subject under another name (or a tenant policy refuses the issuer): re-run `kubectl azwi bind --app` (it adopts that credential), `kubectl azwi inspect` shows it".into(),
        "Request_ResourceNotFound" => "the application or service principal does not exist in this tenant (a new one may still be replicating: retry in a minute)".into(),
        "InvalidAuthenticationToken" => "run `az login` again (the token must be for the cloud's Graph host)".into(),
        _ => return None,
    })
}

/// The fix for a refused login: from Entra's code when it gave one, else from the login source.
fn login_hint(login: Source, message: &str) -> String {
    let by_source = match login {
        Source::ClientSecret => {
            "check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or unset them to log in with `az login`"
        }
        Source::WorkloadIdentity => {
            "AZURE_FEDERATED_TOKEN_FILE must hold this pod's current projected token, and AZURE_CLIENT_ID name an identity federated with its service account (`kubectl azwi doctor pod/NAME` checks both)"
        }
        Source::AzureCli => {
            "run `az login` (with `--tenant TENANT_ID` for an identity in another tenant), then re-run this command"
        }
    };
    let specific = match crate::wi::aadsts::code_in(message) {
        Some(7000215) => {
            "AZURE_CLIENT_SECRET is not a secret of the app AZURE_CLIENT_ID (AADSTS7000215: use the secret's value, not its id): set the right one"
        }
        Some(7000222) => {
            "the client secret in AZURE_CLIENT_SECRET has expired (AADSTS7000222): create a new one (`az ad app credential reset --id $AZURE_CLIENT_ID`) and set it"
        }
        Some(700016) => {
            "AZURE_CLIENT_ID is not an application in tenant AZURE_TENANT_ID (AADSTS700016): check both"
        }
        Some(90002) => "AZURE_TENANT_ID names no tenant (AADSTS90002): check it",
        Some(700082 | 50173 | 50076 | 50078 | 70043) => {
            "your az login has expired: run `az login`, then re-run this command"
        }
        _ => return by_source.into(),
    };
    format!("{specific} ({by_source})")
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
    fn a_refused_login_is_a_login_problem_with_the_login_fix() {
        let refused = |login, m: &str| AzureError::Credential {
            login,
            source: Box::new(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                m.to_string(),
            )),
        };
        // Entra's answer to a wrong secret (AADSTS7000215, as reported in Azure/sap-automation#418).
        let e = refused(
            Source::ClientSecret,
            "ClientSecretCredential authentication failed. AADSTS7000215: Invalid client secret provided.",
        );
        assert_eq!(
            e.to_string(),
            "getting an Azure token from the AZURE_CLIENT_SECRET environment credential"
        );
        let hint = e.hint().unwrap();
        assert!(
            hint.contains("AADSTS7000215") && hint.contains("AZURE_CLIENT_SECRET"),
            "{hint}"
        );
        assert!(!hint.contains("reachable"), "{hint}");
        // An expired az login (AADSTS700082, Azure/azure-cli#23105).
        let e = refused(
            Source::AzureCli,
            "AzureCliCredential authentication failed. ERROR: AADSTS700082: The refresh token has expired due to inactivity.",
        );
        assert!(e.hint().unwrap().contains("run `az login`"));
        let e = refused(Source::AzureCli, "az: command failed");
        assert!(e.hint().unwrap().starts_with("run `az login`"));
    }

    /// Graph's own error bodies (data/azure-api/graph-federated-credentials, vendored from
    /// microsoft-graph-docs-contrib and the issues its README cites): each is one line, exit 1,
    /// and a hint with the fix (for 403 the permission to ask for).
    #[test]
    fn graph_errors_are_one_line_with_the_fix() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/azure-emulator/data/azure-api/graph-federated-credentials/"
        );
        for (file, want) in [
            ("error-409-duplicate-name.json", "already exists"),
            (
                "error-400-duplicate-issuer-subject.json",
                "same issuer and subject",
            ),
            (
                "error-403-insufficient-privileges.json",
                "Application.ReadWrite.OwnedBy",
            ),
        ] {
            let raw: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(format!("{dir}{file}")).unwrap())
                    .unwrap();
            let body: ArmErrorBody = serde_json::from_value(raw["body"].clone()).unwrap();
            let e = crate::Error::Azure(AzureError::Graph {
                operation: "create federated credential".into(),
                resource: "/v1.0/applications/x/federatedIdentityCredentials".into(),
                status: raw["status"].as_u64().unwrap() as u16,
                code: body.error.code,
                message: body.error.message,
            });
            let mut out = Vec::new();
            crate::error::report(&e, &mut out);
            let text = String::from_utf8(out).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 2, "{file}: {text}");
            assert!(lines[0].starts_with("error: create federated credential"));
            assert!(
                lines[1].starts_with("  hint: ") && lines[1].contains(want),
                "{file}: {text}"
            );
            assert_eq!(e.exit_code(), std::process::ExitCode::from(1));
        }
    }

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
