
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kubectl-azwi' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kubectl-azwi'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'kubectl-azwi' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use (inspect takes a comma-separated list)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI''s default)')
            [CompletionResult]::new('--cloud', '--cloud', [CompletionResultType]::ParameterName, 'Azure cloud')
            [CompletionResult]::new('--arm-endpoint', '--arm-endpoint', [CompletionResultType]::ParameterName, 'Azure Resource Manager endpoint (overrides the cloud''s)')
            [CompletionResult]::new('--authority-host', '--authority-host', [CompletionResultType]::ParameterName, 'Entra authority host (overrides the cloud''s)')
            [CompletionResult]::new('--graph-endpoint', '--graph-endpoint', [CompletionResultType]::ParameterName, 'Microsoft Graph endpoint (overrides the cloud''s; the token scope stays the cloud''s)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('bind', 'bind', [CompletionResultType]::ParameterValue, 'Bind a ServiceAccount to an Azure identity: federated credential, annotations, labels, role')
            [CompletionResult]::new('unbind', 'unbind', [CompletionResultType]::ParameterValue, 'Undo a bind: remove the federated credential, the annotations and labels bind owns')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show every binding: ServiceAccount -> identity -> federated credential -> pods')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check each link a pod needs to get an Azure token, and say how to fix the broken one')
            [CompletionResult]::new('exec-login', 'exec-login', [CompletionResultType]::ParameterValue, 'Prove a running pod can get an Azure token, from inside the pod')
            [CompletionResult]::new('can-i', 'can-i', [CompletionResultType]::ParameterValue, 'May this workload''s Azure identity perform ACTION at --scope? (like kubectl auth can-i)')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the plugin''s version, commit and build target')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script (the files under completions/ are this output)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-azwi;bind' {
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'The user-assigned identity: its name (with -g), client id, or resource id')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'An Entra application (app registration) instead of a managed identity: its display name, client (app) id or object id')
            [CompletionResult]::new('-g', '-g', [CompletionResultType]::ParameterName, 'Resource group of the identity')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the identity')
            [CompletionResult]::new('--location', '--location', [CompletionResultType]::ParameterName, 'Location of a created identity, e.g. eastus')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'Grant the identity this role (name or id) at --scope; repeatable')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Scope of the role assignment (resource id)')
            [CompletionResult]::new('--workload', '--workload', [CompletionResultType]::ParameterName, 'Label the pod template of these workloads (deploy/NAME, sts/NAME, ds/, rs/, cronjob/) and point them at the ServiceAccount')
            [CompletionResult]::new('--issuer', '--issuer', [CompletionResultType]::ParameterName, 'OIDC issuer of the cluster (default: found from AKS or the cluster itself)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'AKS cluster to read the issuer from: NAME (with --cluster-resource-group) or resource id')
            [CompletionResult]::new('--cluster-resource-group', '--cluster-resource-group', [CompletionResultType]::ParameterName, 'Resource group of --cluster (default: -g)')
            [CompletionResult]::new('--token-expiration', '--token-expiration', [CompletionResultType]::ParameterName, 'Projected token lifetime, 1h..24h (annotation on the ServiceAccount)')
            [CompletionResult]::new('--credential-name', '--credential-name', [CompletionResultType]::ParameterName, 'Name of the federated credential (default: derived from namespace, name and issuer); one used by another binding is refused')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use (inspect takes a comma-separated list)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI''s default)')
            [CompletionResult]::new('--cloud', '--cloud', [CompletionResultType]::ParameterName, 'Azure cloud')
            [CompletionResult]::new('--arm-endpoint', '--arm-endpoint', [CompletionResultType]::ParameterName, 'Azure Resource Manager endpoint (overrides the cloud''s)')
            [CompletionResult]::new('--authority-host', '--authority-host', [CompletionResultType]::ParameterName, 'Entra authority host (overrides the cloud''s)')
            [CompletionResult]::new('--graph-endpoint', '--graph-endpoint', [CompletionResultType]::ParameterName, 'Microsoft Graph endpoint (overrides the cloud''s; the token scope stays the cloud''s)')
            [CompletionResult]::new('--create-app', '--create-app', [CompletionResultType]::ParameterName, 'Create the application (named by --app) and its service principal when none has that name')
            [CompletionResult]::new('--create-identity', '--create-identity', [CompletionResultType]::ParameterName, 'Create the identity when it does not exist (needs --location)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and the exact objects and ARM bodies, write nothing')
            [CompletionResult]::new('--identity-binding', '--identity-binding', [CompletionResultType]::ParameterName, 'Use an AKS identity binding instead of a federated credential per ServiceAccount: the ARM binding, a ClusterRole/Binding granting use-managed-identity, the pod annotation')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-azwi;unbind' {
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'The identity (default: the client id the ServiceAccount is annotated with)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'The Entra application the binding uses instead (display name, client id or object id)')
            [CompletionResult]::new('-g', '-g', [CompletionResultType]::ParameterName, 'Resource group of the identity')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Resource group of the identity')
            [CompletionResult]::new('--workload', '--workload', [CompletionResultType]::ParameterName, 'Also remove the label from these workloads'' pod templates')
            [CompletionResult]::new('--issuer', '--issuer', [CompletionResultType]::ParameterName, 'OIDC issuer whose credential to remove (default: found like bind)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use (inspect takes a comma-separated list)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI''s default)')
            [CompletionResult]::new('--cloud', '--cloud', [CompletionResultType]::ParameterName, 'Azure cloud')
            [CompletionResult]::new('--arm-endpoint', '--arm-endpoint', [CompletionResultType]::ParameterName, 'Azure Resource Manager endpoint (overrides the cloud''s)')
            [CompletionResult]::new('--authority-host', '--authority-host', [CompletionResultType]::ParameterName, 'Entra authority host (overrides the cloud''s)')
            [CompletionResult]::new('--graph-endpoint', '--graph-endpoint', [CompletionResultType]::ParameterName, 'Microsoft Graph endpoint (overrides the cloud''s; the token scope stays the cloud''s)')
            [CompletionResult]::new('--delete-app', '--delete-app', [CompletionResultType]::ParameterName, 'With --app: also delete the application and its service principal (refused while other credentials or role assignments use them)')
            [CompletionResult]::new('--delete-identity', '--delete-identity', [CompletionResultType]::ParameterName, 'Delete the identity itself (refused while it holds other credentials or role assignments)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'With --delete-identity: delete it even though it still serves something else')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan, write nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-azwi;inspect' {
            [CompletionResult]::new('--azurerm-major', '--azurerm-major', [CompletionResultType]::ParameterName, 'Major version of the azurerm Terraform provider that -o terraform writes for')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use (inspect takes a comma-separated list)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI''s default)')
            [CompletionResult]::new('--cloud', '--cloud', [CompletionResultType]::ParameterName, 'Azure cloud')
            [CompletionResult]::new('--arm-endpoint', '--arm-endpoint', [CompletionResultType]::ParameterName, 'Azure Resource Manager endpoint (overrides the cloud''s)')
            [CompletionResult]::new('--authority-host', '--authority-host', [CompletionResultType]::ParameterName, 'Entra authority host (overrides the cloud''s)')
            [CompletionResult]::new('--graph-endpoint', '--graph-endpoint', [CompletionResultType]::ParameterName, 'Microsoft Graph endpoint (overrides the cloud''s; the token scope stays the cloud''s)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'All namespaces')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'All namespaces')
            [CompletionResult]::new('--no-azure', '--no-azure', [CompletionResultType]::ParameterName, 'Cluster-only view: do not call Azure')
            [CompletionResult]::new('--all-contexts', '--all-contexts', [CompletionResultType]::ParameterName, 'Every context of the kubeconfig')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-azwi;doctor' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container whose token to read (default: the one the app runs in, never an injected sidecar)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container whose token to read (default: the one the app runs in, never an injected sidecar)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Re-run pending checks until they pass or this time runs out, e.g. 60s')
            [CompletionResult]::new('--can', '--can', [CompletionResultType]::ParameterName, 'Also check that the identity may perform this action (as `kubectl azwi can-i`), at --scope')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'The scope of --can: a resource id, resource group, subscription or management group')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use (inspect takes a comma-separated list)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI''s default)')
            [CompletionResult]::new('--cloud', '--cloud', [CompletionResultType]::ParameterName, 'Azure cloud')
            [CompletionResult]::new('--arm-endpoint', '--arm-endpoint', [CompletionResultType]::ParameterName, 'Azure Resource Manager endpoint (overrides the cloud''s)')
            [CompletionResult]::new('--authority-host', '--authority-host', [CompletionResultType]::ParameterName, 'Entra authority host (overrides the cloud''s)')
            [CompletionResult]::new('--graph-endpoint', '--graph-endpoint', [CompletionResultType]::ParameterName, 'Microsoft Graph endpoint (overrides the cloud''s; the token scope stays the cloud''s)')
            [CompletionResult]::new('--exchange', '--exchange', [CompletionResultType]::ParameterName, 'Also exchange the pod''s token at Entra and explain any AADSTS code')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-azwi;exec-login' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container to run in (default: the one the app runs in, never an injected sidecar)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container to run in (default: the one the app runs in, never an injected sidecar)')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Scope of the access token to request (default: the --cloud''s Resource Manager)')
            [CompletionResult]::new('--emit-init-container', '--emit-init-container', [CompletionResultType]::ParameterName, 'Print, as YAML, an init container that logs in with az for this workload instead')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use (inspect takes a comma-separated list)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI''s default)')
            [CompletionResult]::new('--cloud', '--cloud', [CompletionResultType]::ParameterName, 'Azure cloud')
            [CompletionResult]::new('--arm-endpoint', '--arm-endpoint', [CompletionResultType]::ParameterName, 'Azure Resource Manager endpoint (overrides the cloud''s)')
            [CompletionResult]::new('--authority-host', '--authority-host', [CompletionResultType]::ParameterName, 'Entra authority host (overrides the cloud''s)')
            [CompletionResult]::new('--graph-endpoint', '--graph-endpoint', [CompletionResultType]::ParameterName, 'Microsoft Graph endpoint (overrides the cloud''s; the token scope stays the cloud''s)')
            [CompletionResult]::new('--show-token', '--show-token', [CompletionResultType]::ParameterName, 'Print the access token itself (it is a credential: keep it off shared terminals)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-azwi;can-i' {
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Where: a resource id, resource group, subscription or management group scope')
            [CompletionResult]::new('--principal-id', '--principal-id', [CompletionResultType]::ParameterName, 'The principal (object) id to check, when the client id is an app registration''s')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use (inspect takes a comma-separated list)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI''s default)')
            [CompletionResult]::new('--cloud', '--cloud', [CompletionResultType]::ParameterName, 'Azure cloud')
            [CompletionResult]::new('--arm-endpoint', '--arm-endpoint', [CompletionResultType]::ParameterName, 'Azure Resource Manager endpoint (overrides the cloud''s)')
            [CompletionResult]::new('--authority-host', '--authority-host', [CompletionResultType]::ParameterName, 'Entra authority host (overrides the cloud''s)')
            [CompletionResult]::new('--graph-endpoint', '--graph-endpoint', [CompletionResultType]::ParameterName, 'Microsoft Graph endpoint (overrides the cloud''s; the token scope stays the cloud''s)')
            [CompletionResult]::new('--data-action', '--data-action', [CompletionResultType]::ParameterName, 'Treat ACTION as a data action (matched against dataActions) if kubectl azwi does not know it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-azwi;version' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use (inspect takes a comma-separated list)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI''s default)')
            [CompletionResult]::new('--cloud', '--cloud', [CompletionResultType]::ParameterName, 'Azure cloud')
            [CompletionResult]::new('--arm-endpoint', '--arm-endpoint', [CompletionResultType]::ParameterName, 'Azure Resource Manager endpoint (overrides the cloud''s)')
            [CompletionResult]::new('--authority-host', '--authority-host', [CompletionResultType]::ParameterName, 'Entra authority host (overrides the cloud''s)')
            [CompletionResult]::new('--graph-endpoint', '--graph-endpoint', [CompletionResultType]::ParameterName, 'Microsoft Graph endpoint (overrides the cloud''s; the token scope stays the cloud''s)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-azwi;completion' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use (inspect takes a comma-separated list)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace (default: the context''s namespace, then "default")')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI''s default)')
            [CompletionResult]::new('--cloud', '--cloud', [CompletionResultType]::ParameterName, 'Azure cloud')
            [CompletionResult]::new('--arm-endpoint', '--arm-endpoint', [CompletionResultType]::ParameterName, 'Azure Resource Manager endpoint (overrides the cloud''s)')
            [CompletionResult]::new('--authority-host', '--authority-host', [CompletionResultType]::ParameterName, 'Entra authority host (overrides the cloud''s)')
            [CompletionResult]::new('--graph-endpoint', '--graph-endpoint', [CompletionResultType]::ParameterName, 'Microsoft Graph endpoint (overrides the cloud''s; the token scope stays the cloud''s)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logs on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-azwi;help' {
            [CompletionResult]::new('bind', 'bind', [CompletionResultType]::ParameterValue, 'Bind a ServiceAccount to an Azure identity: federated credential, annotations, labels, role')
            [CompletionResult]::new('unbind', 'unbind', [CompletionResultType]::ParameterValue, 'Undo a bind: remove the federated credential, the annotations and labels bind owns')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show every binding: ServiceAccount -> identity -> federated credential -> pods')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check each link a pod needs to get an Azure token, and say how to fix the broken one')
            [CompletionResult]::new('exec-login', 'exec-login', [CompletionResultType]::ParameterValue, 'Prove a running pod can get an Azure token, from inside the pod')
            [CompletionResult]::new('can-i', 'can-i', [CompletionResultType]::ParameterValue, 'May this workload''s Azure identity perform ACTION at --scope? (like kubectl auth can-i)')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the plugin''s version, commit and build target')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script (the files under completions/ are this output)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-azwi;help;bind' {
            break
        }
        'kubectl-azwi;help;unbind' {
            break
        }
        'kubectl-azwi;help;inspect' {
            break
        }
        'kubectl-azwi;help;doctor' {
            break
        }
        'kubectl-azwi;help;exec-login' {
            break
        }
        'kubectl-azwi;help;can-i' {
            break
        }
        'kubectl-azwi;help;version' {
            break
        }
        'kubectl-azwi;help;completion' {
            break
        }
        'kubectl-azwi;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
