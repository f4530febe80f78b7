//! The clap command tree. Values are parsed into typed forms at the edge where cheap; deeper
//! validation (names, GUIDs, targets) happens in `wi` before any I/O.

use std::{path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  # Bind a service account to a user-assigned identity (creates the federated credential)
  kubectl azwi bind workload-identity-sa -n default --identity myIdentity -g myResourceGroup

  # Find the broken link of a pod that gets no Azure token
  kubectl azwi doctor pod/quick-start

  # Prove the pod can log in to Azure, from inside the pod
  kubectl azwi exec-login pod/quick-start";

const BIND_EXAMPLES: &str = "\
Examples:
  # The walkthrough in one command: federated credential on the identity for
  # default/workload-identity-sa, and the ServiceAccount annotated with its client id
  kubectl azwi bind workload-identity-sa -n default --identity myIdentity -g myResourceGroup

  # Create the identity too, read the issuer from the AKS cluster, label the workload's pods
  kubectl azwi bind workload-identity-sa --identity myIdentity -g myResourceGroup \\
    --create-identity --location eastus --cluster myAKSCluster --workload deploy/quick-start

  # Also let the identity read a Key Vault's secrets
  kubectl azwi bind workload-identity-sa --identity myIdentity -g myResourceGroup \\
    --role \"Key Vault Secrets User\" \\
    --scope /subscriptions/SUB/resourceGroups/myResourceGroup/providers/Microsoft.KeyVault/vaults/myVault

  # Print the plan and the exact objects and ARM bodies, write nothing
  kubectl azwi bind workload-identity-sa --identity myIdentity -g myResourceGroup --dry-run -o yaml

  # An Entra application instead of a managed identity: created with its service principal
  # when no application has that name, federated through Microsoft Graph
  kubectl azwi bind workload-identity-sa --app myApp --create-app --workload deploy/quick-start

  # AKS identity binding: one binding per identity and cluster, RBAC says which
  # ServiceAccounts may use it (no federated credential per ServiceAccount)
  kubectl azwi bind workload-identity-sa --identity myIdentity -g myResourceGroup \\
    --cluster myAKSCluster --identity-binding --workload deploy/quick-start";

const UNBIND_EXAMPLES: &str = "\
Examples:
  # Remove the federated credential and the annotations bind added
  kubectl azwi unbind workload-identity-sa -n default

  # Also unlabel the deployment and delete the identity itself; show the plan first
  kubectl azwi unbind workload-identity-sa --identity myIdentity -g myResourceGroup \\
    --workload deploy/quick-start --delete-identity --dry-run

  # An application-backed binding: remove its credential, then the application itself
  kubectl azwi unbind workload-identity-sa --app myApp --delete-app

  # An AKS identity binding: the grant and the pod annotation, then the ARM binding once no
  # other ServiceAccount uses it
  kubectl azwi unbind workload-identity-sa --identity myIdentity -g myResourceGroup \
    --cluster myAKSCluster --identity-binding --workload deploy/quick-start";

const INSPECT_EXAMPLES: &str = "\
Examples:
  # Every binding in the current namespace, then in all namespaces
  kubectl azwi inspect
  kubectl azwi inspect -A

  # One ServiceAccount, as YAML
  kubectl azwi inspect sa/workload-identity-sa -n default -o yaml

  # Cluster-only view of two clusters (no Azure calls)
  kubectl azwi inspect -A --no-azure --context prod,staging

  # Who can be whom, as a picture (Graphviz), or as Mermaid for a markdown page
  kubectl azwi inspect -A --context prod,staging -o dot | dot -Tsvg > bindings.svg
  kubectl azwi inspect -A -o mermaid";

const DOCTOR_EXAMPLES: &str = "\
Examples:
  # Why does this pod get no Azure token? Each link checked, the fix for the broken one
  kubectl azwi doctor pod/quick-start -n default

  # Check a deployment's pods and also try the token exchange at Entra
  kubectl azwi doctor deploy/quick-start --exchange

  # Check a ServiceAccount, or the cluster (issuer, webhook) with no target
  kubectl azwi doctor sa/workload-identity-sa
  kubectl azwi doctor

  # Right after bind: re-check for up to a minute, as JSON for scripts (exit 3 = a check failed)
  kubectl azwi doctor pod/quick-start --wait 60s -o json";

const EXEC_LOGIN_EXAMPLES: &str = "\
Examples:
  # Exchange the pod's projected token for an Azure token, inside the pod
  kubectl azwi exec-login pod/quick-start -n default

  # Ask for a Key Vault token instead of an ARM one
  kubectl azwi exec-login pod/quick-start --scope https://vault.azure.net/.default

  # Print an init container that runs `az login --federated-token` for the deployment
  kubectl azwi exec-login pod/quick-start --emit-init-container deploy/quick-start";

const CAN_I_EXAMPLES: &str = "\
Examples:
  # May the pod read blobs in this storage account? (exit 0 yes, 1 no or conditional)
  kubectl azwi can-i blob-read pod/quick-start \\
    --scope /subscriptions/SUB/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct

  # Any action by its full name, for a deployment's identity, as JSON
  kubectl azwi can-i Microsoft.KeyVault/vaults/secrets/getSecret/action deploy/web \\
    --scope /subscriptions/SUB/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv -o json

  # An app registration's service principal (its object id: az ad sp show --id CLIENT-ID --query id)
  kubectl azwi can-i acr-pull sa/builder --scope /subscriptions/SUB/resourceGroups/rg \\
    --principal-id 00000000-0000-0000-0000-000000000000

Short names: blob-read, blob-write, blob-delete, queue-read, queue-send, queue-process,
secret-read, secret-write, acr-pull, acr-push, servicebus-send, servicebus-receive,
eventhubs-send, eventhubs-receive, eventgrid-send, aks-credentials, role-assign";

const VERSION_EXAMPLES: &str = "\
Examples:
  kubectl azwi version
  kubectl azwi version -o json";

const COMPLETION_EXAMPLES: &str = "\
Examples:
  kubectl azwi completion bash > ~/.local/share/bash-completion/completions/kubectl-azwi
  kubectl azwi completion zsh > \"${fpath[1]}/_kubectl-azwi\"";

/// Azure (Entra) Workload Identity for Kubernetes: bind, inspect, diagnose, prove.
#[derive(Debug, Parser)]
#[command(name = "kubectl-azwi", bin_name = "kubectl azwi", version = crate::cmd::version::LONG, after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// kubectl does not pass its global flags to plugins, so the plugin takes its own.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (inspect takes a comma-separated list)
    #[arg(long, global = true, value_name = "NAME", value_delimiter = ',')]
    pub context: Vec<String>,
    /// Namespace (default: the context's namespace, then "default")
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// Output format
    #[arg(short = 'o', long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// More logs on stderr (-v info, -vv debug, -vvv trace)
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)
    #[arg(long, global = true)]
    pub no_color: bool,
    #[command(flatten)]
    pub azure: AzureArgs,
}

/// Where and as whom to reach Azure. Endpoints are overridable like a sovereign cloud's.
#[derive(Debug, Args, Clone)]
pub struct AzureArgs {
    /// Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI's default)
    #[arg(long, global = true, env = "AZURE_SUBSCRIPTION_ID", value_name = "ID")]
    pub subscription: Option<String>,
    /// Azure cloud
    #[arg(long, global = true, value_enum, env = "AZWI_CLOUD", default_value_t = CloudName::Public)]
    pub cloud: CloudName,
    /// Azure Resource Manager endpoint (overrides the cloud's)
    #[arg(long, global = true, env = "AZWI_ARM_ENDPOINT", value_name = "URL")]
    pub arm_endpoint: Option<String>,
    /// Entra authority host (overrides the cloud's)
    #[arg(long, global = true, env = "AZURE_AUTHORITY_HOST", value_name = "URL")]
    pub authority_host: Option<String>,
    /// Microsoft Graph endpoint (overrides the cloud's; the token scope stays the cloud's)
    #[arg(long, global = true, env = "AZWI_GRAPH_ENDPOINT", value_name = "URL")]
    pub graph_endpoint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudName {
    Public,
    China,
    UsGov,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Wide,
    Json,
    Yaml,
    Terraform,
    Bicep,
    /// inspect's bindings as a Graphviz graph (`| dot -Tsvg`)
    Dot,
    /// inspect's bindings as a Mermaid flowchart (renders in GitHub markdown)
    Mermaid,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Bind a ServiceAccount to an Azure identity: federated credential, annotations, labels, role
    #[command(after_help = BIND_EXAMPLES)]
    Bind(BindArgs),
    /// Undo a bind: remove the federated credential, the annotations and labels bind owns
    #[command(after_help = UNBIND_EXAMPLES)]
    Unbind(UnbindArgs),
    /// Show every binding: ServiceAccount -> identity -> federated credential -> pods
    #[command(after_help = INSPECT_EXAMPLES)]
    Inspect(InspectArgs),
    /// Check each link a pod needs to get an Azure token, and say how to fix the broken one
    #[command(after_help = DOCTOR_EXAMPLES)]
    Doctor(DoctorArgs),
    /// Prove a running pod can get an Azure token, from inside the pod
    #[command(after_help = EXEC_LOGIN_EXAMPLES)]
    ExecLogin(ExecLoginArgs),
    /// May this workload's Azure identity perform ACTION at --scope? (like kubectl auth can-i)
    #[command(after_help = CAN_I_EXAMPLES)]
    CanI(CanIArgs),
    /// Print the plugin's version, commit and build target
    #[command(after_help = VERSION_EXAMPLES)]
    Version,
    /// Print a shell completion script (the files under completions/ are this output)
    #[command(hide = true, after_help = COMPLETION_EXAMPLES)]
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct BindArgs {
    /// The ServiceAccount to bind (created if missing)
    #[arg(value_name = "SERVICEACCOUNT")]
    pub service_account: String,
    /// The user-assigned identity: its name (with -g), client id, or resource id
    #[arg(
        long,
        value_name = "NAME|CLIENT-ID|RESOURCE-ID",
        required_unless_present = "app"
    )]
    pub identity: Option<String>,
    /// An Entra application (app registration) instead of a managed identity: its display name, client (app) id or object id
    #[arg(long, value_name = "NAME|APP-ID|OBJECT-ID", conflicts_with_all = ["identity", "create_identity"])]
    pub app: Option<String>,
    /// Create the application (named by --app) and its service principal when none has that name
    #[arg(long, requires = "app")]
    pub create_app: bool,
    /// Resource group of the identity
    #[arg(short = 'g', long, value_name = "RG")]
    pub resource_group: Option<String>,
    /// Create the identity when it does not exist (needs --location)
    #[arg(long, requires = "location")]
    pub create_identity: bool,
    /// Location of a created identity, e.g. eastus
    #[arg(long)]
    pub location: Option<String>,
    /// Grant the identity this role (name or id) at --scope; repeatable
    #[arg(long, requires = "scope")]
    pub role: Vec<String>,
    /// Scope of the role assignment (resource id)
    #[arg(long)]
    pub scope: Option<String>,
    /// Label the pod template of these workloads (deploy/NAME, sts/NAME, ds/, rs/, cronjob/) and point them at the ServiceAccount
    #[arg(long, value_name = "KIND/NAME")]
    pub workload: Vec<String>,
    /// OIDC issuer of the cluster (default: found from AKS or the cluster itself)
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// AKS cluster to read the issuer from: NAME (with --cluster-resource-group) or resource id
    #[arg(long, value_name = "NAME|RESOURCE-ID")]
    pub cluster: Option<String>,
    /// Resource group of --cluster (default: -g)
    #[arg(long, value_name = "RG")]
    pub cluster_resource_group: Option<String>,
    /// Projected token lifetime, 1h..24h (annotation on the ServiceAccount)
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub token_expiration: Option<Duration>,
    /// Name of the federated credential (default: derived from namespace, name and issuer); one used by another binding is refused
    #[arg(long, value_name = "NAME")]
    pub credential_name: Option<String>,
    /// Print the plan and the exact objects and ARM bodies, write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Use an AKS identity binding instead of a federated credential per ServiceAccount:
    /// the ARM binding, a ClusterRole/Binding granting use-managed-identity, the pod annotation
    #[arg(long, conflicts_with_all = ["issuer", "credential_name", "create_identity", "role", "app"])]
    pub identity_binding: bool,
}

#[derive(Debug, Args)]
pub struct UnbindArgs {
    /// The bound ServiceAccount
    #[arg(value_name = "SERVICEACCOUNT")]
    pub service_account: String,
    /// The identity (default: the client id the ServiceAccount is annotated with)
    #[arg(long, value_name = "NAME|CLIENT-ID|RESOURCE-ID")]
    pub identity: Option<String>,
    /// The Entra application the binding uses instead (display name, client id or object id)
    #[arg(long, value_name = "NAME|APP-ID|OBJECT-ID", conflicts_with_all = ["identity", "delete_identity"])]
    pub app: Option<String>,
    /// With --app: also delete the application and its service principal (refused while other credentials or role assignments use them)
    #[arg(long, requires = "app")]
    pub delete_app: bool,
    /// Resource group of the identity
    #[arg(short = 'g', long, value_name = "RG")]
    pub resource_group: Option<String>,
    /// Also remove the label from these workloads' pod templates
    #[arg(long, value_name = "KIND/NAME")]
    pub workload: Vec<String>,
    /// OIDC issuer whose credential to remove (default: found like bind)
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// Delete the identity itself (refused while it holds other credentials or role assignments)
    #[arg(long)]
    pub delete_identity: bool,
    /// With --delete-identity: delete it even though it still serves something else
    #[arg(long, requires = "delete_identity")]
    pub force: bool,
    /// Print the plan, write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// With --identity-binding: the AKS cluster (NAME with --cluster-resource-group, or resource id; default: the one whose API server is the kube context's)
    #[arg(long, value_name = "NAME|RESOURCE-ID", requires = "identity_binding")]
    pub cluster: Option<String>,
    /// Resource group of --cluster (default: -g)
    #[arg(long, value_name = "RG", requires = "cluster")]
    pub cluster_resource_group: Option<String>,
    /// Undo `bind --identity-binding`: the ServiceAccount's grant, the pod annotation, and the
    /// ARM binding and AKS's credential once nothing else uses them
    #[arg(long, conflicts_with_all = ["issuer", "app", "delete_identity"])]
    pub identity_binding: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Only this ServiceAccount (sa/NAME)
    #[arg(value_name = "sa/NAME")]
    pub target: Option<String>,
    /// All namespaces
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Cluster-only view: do not call Azure
    #[arg(long)]
    pub no_azure: bool,
    /// Every context of the kubeconfig
    #[arg(long)]
    pub all_contexts: bool,
    /// Major version of the azurerm Terraform provider that -o terraform writes for
    #[arg(long, value_enum, default_value_t = AzurermMajor::V5, value_name = "MAJOR")]
    pub azurerm_major: AzurermMajor,
}

/// The azurerm provider's `azurerm_federated_identity_credential` schema: 5.x takes
/// `user_assigned_identity_id`; 4.x took `parent_id` and `resource_group_name` (both removed in 5.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AzurermMajor {
    #[value(name = "5")]
    V5,
    #[value(name = "4")]
    V4,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// What to check: pod/NAME, deploy/NAME (any pod-template owner), sa/NAME, or nothing for the cluster
    #[arg(value_name = "KIND/NAME")]
    pub target: Option<String>,
    /// Container whose token to read (default: the one the app runs in, never an injected sidecar)
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Also exchange the pod's token at Entra and explain any AADSTS code
    #[arg(long)]
    pub exchange: bool,
    /// Re-run pending checks until they pass or this time runs out, e.g. 60s
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub wait: Option<Duration>,
    /// Also check that the identity may perform this action (as `kubectl azwi can-i`), at --scope
    #[arg(long, value_name = "ACTION", requires = "scope")]
    pub can: Option<String>,
    /// The scope of --can: a resource id, resource group, subscription or management group
    #[arg(long, value_name = "SCOPE", requires = "can")]
    pub scope: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExecLoginArgs {
    /// The pod: pod/NAME (or a workload, whose first running pod is used)
    #[arg(value_name = "pod/NAME")]
    pub target: String,
    /// Container to run in (default: the one the app runs in, never an injected sidecar)
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Scope of the access token to request (default: the --cloud's Resource Manager)
    #[arg(long)]
    pub scope: Option<String>,
    /// Print the access token itself (it is a credential: keep it off shared terminals)
    #[arg(long)]
    pub show_token: bool,
    /// Print, as YAML, an init container that logs in with az for this workload instead
    #[arg(long, value_name = "KIND/NAME")]
    pub emit_init_container: Option<String>,
}

#[derive(Debug, Args)]
pub struct CanIArgs {
    /// The action: a full RBAC action (Microsoft.Storage/.../blobs/read) or a short name (blob-read)
    #[arg(value_name = "ACTION")]
    pub action: String,
    /// Whose identity: pod/NAME, sa/NAME or deploy/NAME (any pod-template owner)
    #[arg(value_name = "KIND/NAME")]
    pub target: String,
    /// Where: a resource id, resource group, subscription or management group scope
    #[arg(long, value_name = "SCOPE")]
    pub scope: String,
    /// The principal (object) id to check, when the client id is an app registration's
    #[arg(long, value_name = "OBJECT-ID")]
    pub principal_id: Option<String>,
    /// Treat ACTION as a data action (matched against dataActions) if kubectl azwi does not know it
    #[arg(long)]
    pub data_action: bool,
}

/// Parses `90s`, `15m`, `1h`, `1h30m` or plain seconds.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let expected =
        || format!("invalid duration '{value}': expected e.g. 3600, 90s, 15m, 1h or 1h30m");
    if let Ok(secs) = value.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = 0u64;
    let mut number = String::new();
    for c in value.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().map_err(|_| expected())?;
        number.clear();
        total += n * match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(expected()),
        };
    }
    if !number.is_empty() || value.is_empty() {
        return Err(expected());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn can_i_help_lists_every_short_name() {
        for s in crate::wi::rbac::action::SHORT_NAMES {
            assert!(
                CAN_I_EXAMPLES.contains(s.name),
                "{} missing from can-i's help",
                s.name
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3600").unwrap().as_secs(), 3600);
        assert_eq!(parse_duration("90s").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("24h").unwrap().as_secs(), 86400);
        for bad in ["", "h", "1d", "1h30", "-1h", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn global_flags_anywhere() {
        let cli = Cli::try_parse_from([
            "kubectl-azwi",
            "doctor",
            "pod/x",
            "-n",
            "ns",
            "--context",
            "a",
            "-o",
            "json",
            "-vv",
        ])
        .unwrap();
        assert_eq!(cli.global.namespace.as_deref(), Some("ns"));
        assert_eq!(cli.global.context, vec!["a".to_string()]);
        assert_eq!(cli.global.output, Some(OutputFormat::Json));
        assert_eq!(cli.global.verbose, 2);
        let cli = Cli::try_parse_from(["kubectl-azwi", "inspect", "--context", "a,b"]).unwrap();
        assert_eq!(cli.global.context.len(), 2);
    }
}
