//! The names the Azure Workload Identity webhook and Entra agree on. One place, so a typo is
//! impossible to make twice.

/// Pod label that makes the webhook mutate the pod. Exact string `"true"`.
pub const USE_LABEL: &str = "azure.workload.identity/use";
/// ServiceAccount annotation: the identity's client (application) id.
pub const CLIENT_ID_ANNOTATION: &str = "azure.workload.identity/client-id";
/// ServiceAccount annotation: tenant override (the key wins even when empty).
pub const TENANT_ID_ANNOTATION: &str = "azure.workload.identity/tenant-id";
/// Pod or ServiceAccount annotation: projected token lifetime in seconds (3600..=86400).
pub const TOKEN_EXPIRATION_ANNOTATION: &str =
    "azure.workload.identity/service-account-token-expiration";
/// Pod annotation: `;`-separated container names the webhook leaves alone.
pub const SKIP_CONTAINERS_ANNOTATION: &str = "azure.workload.identity/skip-containers";
/// Pod annotation: presence alone injects the proxy sidecar.
pub const INJECT_PROXY_ANNOTATION: &str = "azure.workload.identity/inject-proxy-sidecar";

/// The audience Entra expects in a federated assertion.
pub const AUDIENCE: &str = "api://AzureADTokenExchange";

pub const ENV_CLIENT_ID: &str = "AZURE_CLIENT_ID";
pub const ENV_TENANT_ID: &str = "AZURE_TENANT_ID";
pub const ENV_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
pub const ENV_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
/// The four variables the webhook injects into each container it does not skip.
pub const INJECTED_ENV: [&str; 4] = [
    ENV_CLIENT_ID,
    ENV_TENANT_ID,
    ENV_TOKEN_FILE,
    ENV_AUTHORITY_HOST,
];

/// Token lifetime bounds the webhook accepts; outside them it rejects the pod.
pub const MIN_TOKEN_EXPIRATION: i64 = 3600;
pub const MAX_TOKEN_EXPIRATION: i64 = 86400;
pub const DEFAULT_TOKEN_EXPIRATION: i64 = 3600;

/// Field manager for every Kubernetes write the plugin makes.
pub const FIELD_MANAGER: &str = "kubectl-azwi";

/// Webhook name in the MutatingWebhookConfiguration (Helm chart and AKS add-on alike).
pub const WEBHOOK_NAME: &str = "mutation.azure-workload-identity.io";
/// Configuration name of the Helm/YAML install and of the AKS add-on.
pub const WEBHOOK_CONFIGURATION: &str = "azure-wi-webhook-mutating-webhook-configuration";

/// Federated credentials one user-assigned identity may hold.
pub const MAX_FEDERATED_CREDENTIALS: usize = 20;
