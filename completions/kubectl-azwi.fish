# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_azwi_global_optspecs
    string join \n kubeconfig= context= n/namespace= o/output= v/verbose no-color subscription= cloud= arm-endpoint= authority-host= graph-endpoint= h/help V/version
end

function __fish_kubectl_azwi_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_azwi_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_azwi_using_subcommand
    set -l cmd (__fish_kubectl_azwi_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -l context -d 'The kubeconfig context to use (inspect takes a comma-separated list)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then "default")' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
terraform\t''
bicep\t''
dot\t'inspect\'s bindings as a Graphviz graph (`| dot -Tsvg`)'
mermaid\t'inspect\'s bindings as a Mermaid flowchart (renders in GitHub markdown)'"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -l subscription -d 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI\'s default)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -l cloud -d 'Azure cloud' -r -f -a "public\t''
china\t''
us-gov\t''"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -l arm-endpoint -d 'Azure Resource Manager endpoint (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -l authority-host -d 'Entra authority host (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -l graph-endpoint -d 'Microsoft Graph endpoint (overrides the cloud\'s; the token scope stays the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -s v -l verbose -d 'More logs on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -l no-color -d 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -f -a "bind" -d 'Bind a ServiceAccount to an Azure identity: federated credential, annotations, labels, role'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -f -a "unbind" -d 'Undo a bind: remove the federated credential, the annotations and labels bind owns'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -f -a "inspect" -d 'Show every binding: ServiceAccount -> identity -> federated credential -> pods'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -f -a "doctor" -d 'Check each link a pod needs to get an Azure token, and say how to fix the broken one'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -f -a "exec-login" -d 'Prove a running pod can get an Azure token, from inside the pod'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -f -a "can-i" -d 'May this workload\'s Azure identity perform ACTION at --scope? (like kubectl auth can-i)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -f -a "version" -d 'Print the plugin\'s version, commit and build target'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -f -a "completion" -d 'Print a shell completion script (the files under completions/ are this output)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l identity -d 'The user-assigned identity: its name (with -g), client id, or resource id' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l app -d 'An Entra application (app registration) instead of a managed identity: its display name, client (app) id or object id' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -s g -l resource-group -d 'Resource group of the identity' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l location -d 'Location of a created identity, e.g. eastus' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l role -d 'Grant the identity this role (name or id) at --scope; repeatable' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l scope -d 'Scope of the role assignment (resource id)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l workload -d 'Label the pod template of these workloads (deploy/NAME, sts/NAME, ds/, rs/, cronjob/) and point them at the ServiceAccount' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l issuer -d 'OIDC issuer of the cluster (default: found from AKS or the cluster itself)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l cluster -d 'AKS cluster to read the issuer from: NAME (with --cluster-resource-group) or resource id' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l cluster-resource-group -d 'Resource group of --cluster (default: -g)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l token-expiration -d 'Projected token lifetime, 1h..24h (annotation on the ServiceAccount)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l credential-name -d 'Name of the federated credential (default: derived from namespace, name and issuer); one used by another binding is refused' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l context -d 'The kubeconfig context to use (inspect takes a comma-separated list)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then "default")' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
terraform\t''
bicep\t''
dot\t'inspect\'s bindings as a Graphviz graph (`| dot -Tsvg`)'
mermaid\t'inspect\'s bindings as a Mermaid flowchart (renders in GitHub markdown)'"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l subscription -d 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI\'s default)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l cloud -d 'Azure cloud' -r -f -a "public\t''
china\t''
us-gov\t''"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l arm-endpoint -d 'Azure Resource Manager endpoint (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l authority-host -d 'Entra authority host (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l graph-endpoint -d 'Microsoft Graph endpoint (overrides the cloud\'s; the token scope stays the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l create-app -d 'Create the application (named by --app) and its service principal when none has that name'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l create-identity -d 'Create the identity when it does not exist (needs --location)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l dry-run -d 'Print the plan and the exact objects and ARM bodies, write nothing'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l identity-binding -d 'Use an AKS identity binding instead of a federated credential per ServiceAccount: the ARM binding, a ClusterRole/Binding granting use-managed-identity, the pod annotation'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -s v -l verbose -d 'More logs on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -l no-color -d 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand bind" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l identity -d 'The identity (default: the client id the ServiceAccount is annotated with)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l app -d 'The Entra application the binding uses instead (display name, client id or object id)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -s g -l resource-group -d 'Resource group of the identity' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l workload -d 'Also remove the label from these workloads\' pod templates' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l issuer -d 'OIDC issuer whose credential to remove (default: found like bind)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l context -d 'The kubeconfig context to use (inspect takes a comma-separated list)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then "default")' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
terraform\t''
bicep\t''
dot\t'inspect\'s bindings as a Graphviz graph (`| dot -Tsvg`)'
mermaid\t'inspect\'s bindings as a Mermaid flowchart (renders in GitHub markdown)'"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l subscription -d 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI\'s default)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l cloud -d 'Azure cloud' -r -f -a "public\t''
china\t''
us-gov\t''"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l arm-endpoint -d 'Azure Resource Manager endpoint (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l authority-host -d 'Entra authority host (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l graph-endpoint -d 'Microsoft Graph endpoint (overrides the cloud\'s; the token scope stays the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l delete-app -d 'With --app: also delete the application and its service principal (refused while other credentials or role assignments use them)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l delete-identity -d 'Delete the identity itself (refused while it holds other credentials or role assignments)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l force -d 'With --delete-identity: delete it even though it still serves something else'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l dry-run -d 'Print the plan, write nothing'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -s v -l verbose -d 'More logs on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -l no-color -d 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand unbind" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -l azurerm-major -d 'Major version of the azurerm Terraform provider that -o terraform writes for' -r -f -a "5\t''
4\t''"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -l context -d 'The kubeconfig context to use (inspect takes a comma-separated list)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then "default")' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
terraform\t''
bicep\t''
dot\t'inspect\'s bindings as a Graphviz graph (`| dot -Tsvg`)'
mermaid\t'inspect\'s bindings as a Mermaid flowchart (renders in GitHub markdown)'"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -l subscription -d 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI\'s default)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -l cloud -d 'Azure cloud' -r -f -a "public\t''
china\t''
us-gov\t''"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -l arm-endpoint -d 'Azure Resource Manager endpoint (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -l authority-host -d 'Entra authority host (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -l graph-endpoint -d 'Microsoft Graph endpoint (overrides the cloud\'s; the token scope stays the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -l no-azure -d 'Cluster-only view: do not call Azure'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -l all-contexts -d 'Every context of the kubeconfig'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -s v -l verbose -d 'More logs on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -l no-color -d 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -s c -l container -d 'Container whose token to read (default: the one the app runs in, never an injected sidecar)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -l wait -d 'Re-run pending checks until they pass or this time runs out, e.g. 60s' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -l can -d 'Also check that the identity may perform this action (as `kubectl azwi can-i`), at --scope' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -l scope -d 'The scope of --can: a resource id, resource group, subscription or management group' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -l context -d 'The kubeconfig context to use (inspect takes a comma-separated list)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then "default")' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
terraform\t''
bicep\t''
dot\t'inspect\'s bindings as a Graphviz graph (`| dot -Tsvg`)'
mermaid\t'inspect\'s bindings as a Mermaid flowchart (renders in GitHub markdown)'"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -l subscription -d 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI\'s default)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -l cloud -d 'Azure cloud' -r -f -a "public\t''
china\t''
us-gov\t''"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -l arm-endpoint -d 'Azure Resource Manager endpoint (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -l authority-host -d 'Entra authority host (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -l graph-endpoint -d 'Microsoft Graph endpoint (overrides the cloud\'s; the token scope stays the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -l exchange -d 'Also exchange the pod\'s token at Entra and explain any AADSTS code'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -s v -l verbose -d 'More logs on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -l no-color -d 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -s c -l container -d 'Container to run in (default: the one the app runs in, never an injected sidecar)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -l scope -d 'Scope of the access token to request (default: the --cloud\'s Resource Manager)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -l emit-init-container -d 'Print, as YAML, an init container that logs in with az for this workload instead' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -l context -d 'The kubeconfig context to use (inspect takes a comma-separated list)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then "default")' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
terraform\t''
bicep\t''
dot\t'inspect\'s bindings as a Graphviz graph (`| dot -Tsvg`)'
mermaid\t'inspect\'s bindings as a Mermaid flowchart (renders in GitHub markdown)'"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -l subscription -d 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI\'s default)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -l cloud -d 'Azure cloud' -r -f -a "public\t''
china\t''
us-gov\t''"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -l arm-endpoint -d 'Azure Resource Manager endpoint (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -l authority-host -d 'Entra authority host (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -l graph-endpoint -d 'Microsoft Graph endpoint (overrides the cloud\'s; the token scope stays the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -l show-token -d 'Print the access token itself (it is a credential: keep it off shared terminals)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -s v -l verbose -d 'More logs on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -l no-color -d 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand exec-login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -l scope -d 'Where: a resource id, resource group, subscription or management group scope' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -l principal-id -d 'The principal (object) id to check, when the client id is an app registration\'s' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -l context -d 'The kubeconfig context to use (inspect takes a comma-separated list)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then "default")' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
terraform\t''
bicep\t''
dot\t'inspect\'s bindings as a Graphviz graph (`| dot -Tsvg`)'
mermaid\t'inspect\'s bindings as a Mermaid flowchart (renders in GitHub markdown)'"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -l subscription -d 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI\'s default)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -l cloud -d 'Azure cloud' -r -f -a "public\t''
china\t''
us-gov\t''"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -l arm-endpoint -d 'Azure Resource Manager endpoint (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -l authority-host -d 'Entra authority host (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -l graph-endpoint -d 'Microsoft Graph endpoint (overrides the cloud\'s; the token scope stays the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -l data-action -d 'Treat ACTION as a data action (matched against dataActions) if kubectl azwi does not know it'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -s v -l verbose -d 'More logs on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -l no-color -d 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand can-i" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand version" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand version" -l context -d 'The kubeconfig context to use (inspect takes a comma-separated list)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand version" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then "default")' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand version" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
terraform\t''
bicep\t''
dot\t'inspect\'s bindings as a Graphviz graph (`| dot -Tsvg`)'
mermaid\t'inspect\'s bindings as a Mermaid flowchart (renders in GitHub markdown)'"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand version" -l subscription -d 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI\'s default)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand version" -l cloud -d 'Azure cloud' -r -f -a "public\t''
china\t''
us-gov\t''"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand version" -l arm-endpoint -d 'Azure Resource Manager endpoint (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand version" -l authority-host -d 'Entra authority host (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand version" -l graph-endpoint -d 'Microsoft Graph endpoint (overrides the cloud\'s; the token scope stays the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand version" -s v -l verbose -d 'More logs on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand version" -l no-color -d 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand version" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand completion" -l context -d 'The kubeconfig context to use (inspect takes a comma-separated list)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand completion" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then "default")' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand completion" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
terraform\t''
bicep\t''
dot\t'inspect\'s bindings as a Graphviz graph (`| dot -Tsvg`)'
mermaid\t'inspect\'s bindings as a Mermaid flowchart (renders in GitHub markdown)'"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand completion" -l subscription -d 'Azure subscription id (default: $AZURE_SUBSCRIPTION_ID, then the az CLI\'s default)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand completion" -l cloud -d 'Azure cloud' -r -f -a "public\t''
china\t''
us-gov\t''"
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand completion" -l arm-endpoint -d 'Azure Resource Manager endpoint (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand completion" -l authority-host -d 'Entra authority host (overrides the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand completion" -l graph-endpoint -d 'Microsoft Graph endpoint (overrides the cloud\'s; the token scope stays the cloud\'s)' -r
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand completion" -s v -l verbose -d 'More logs on stderr (-v info, -vv debug, -vvv trace)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand completion" -l no-color -d 'No colour in reports and logs (also off when NO_COLOR is set or the stream is no terminal)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand help; and not __fish_seen_subcommand_from bind unbind inspect doctor exec-login can-i version completion help" -f -a "bind" -d 'Bind a ServiceAccount to an Azure identity: federated credential, annotations, labels, role'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand help; and not __fish_seen_subcommand_from bind unbind inspect doctor exec-login can-i version completion help" -f -a "unbind" -d 'Undo a bind: remove the federated credential, the annotations and labels bind owns'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand help; and not __fish_seen_subcommand_from bind unbind inspect doctor exec-login can-i version completion help" -f -a "inspect" -d 'Show every binding: ServiceAccount -> identity -> federated credential -> pods'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand help; and not __fish_seen_subcommand_from bind unbind inspect doctor exec-login can-i version completion help" -f -a "doctor" -d 'Check each link a pod needs to get an Azure token, and say how to fix the broken one'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand help; and not __fish_seen_subcommand_from bind unbind inspect doctor exec-login can-i version completion help" -f -a "exec-login" -d 'Prove a running pod can get an Azure token, from inside the pod'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand help; and not __fish_seen_subcommand_from bind unbind inspect doctor exec-login can-i version completion help" -f -a "can-i" -d 'May this workload\'s Azure identity perform ACTION at --scope? (like kubectl auth can-i)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand help; and not __fish_seen_subcommand_from bind unbind inspect doctor exec-login can-i version completion help" -f -a "version" -d 'Print the plugin\'s version, commit and build target'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand help; and not __fish_seen_subcommand_from bind unbind inspect doctor exec-login can-i version completion help" -f -a "completion" -d 'Print a shell completion script (the files under completions/ are this output)'
complete -c kubectl-azwi -n "__fish_kubectl_azwi_using_subcommand help; and not __fish_seen_subcommand_from bind unbind inspect doctor exec-login can-i version completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
