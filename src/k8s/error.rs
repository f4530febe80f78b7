use kube::Error as KError;

/// A Kubernetes call that failed, with what was asked so the hint can name the permission.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("loading the kubeconfig")]
    Config(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("building the Kubernetes client")]
    Client(#[source] Box<KError>),
    #[error("{verb} {resource}{}", at(.namespace.as_deref(), .name.as_deref()))]
    Api {
        verb: &'static str,
        resource: &'static str,
        namespace: Option<String>,
        name: Option<String>,
        #[source]
        source: Box<KError>,
    },
    /// The object a command was pointed at does not exist.
    #[error("{kind}/{name} not found in namespace {namespace}")]
    NotFound {
        /// kubectl's short kind, e.g. `pod`, `deploy`.
        kind: &'static str,
        /// The resource to list, e.g. `pods`.
        resource: &'static str,
        name: String,
        namespace: String,
    },
}

fn at(ns: Option<&str>, name: Option<&str>) -> String {
    match (ns, name) {
        (Some(ns), Some(n)) => format!(" {ns}/{n}"),
        (None, Some(n)) => format!(" {n}"),
        (Some(ns), None) => format!(" in namespace {ns}"),
        (None, None) => String::new(),
    }
}

impl KubeError {
    pub fn api(
        verb: &'static str,
        resource: &'static str,
        namespace: Option<&str>,
        name: Option<&str>,
        source: KError,
    ) -> Self {
        KubeError::Api {
            verb,
            resource,
            namespace: namespace.map(str::to_string),
            name: name.map(str::to_string),
            source: Box::new(source),
        }
    }

    /// The HTTP status the server answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            KubeError::Api { source, .. } => match source.as_ref() {
                KError::Api(s) => Some(s.code),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            KubeError::Config(_) => Some("check --kubeconfig/--context, or $KUBECONFIG (kubectl config get-contexts)".into()),
            KubeError::Client(_) => None,
            KubeError::NotFound { resource, namespace, .. } => Some(format!(
                "see what exists: kubectl get {resource} -n {namespace} (or pass -n/--namespace)"
            )),
            KubeError::Api { verb, resource, namespace, .. } => match self.status() {
                Some(403) => Some(format!(
                    "your Kubernetes user lacks '{verb}' on {resource}{}: check with `kubectl auth can-i {verb} {resource}{}` and ask for a Role that grants it",
                    namespace.as_ref().map(|n| format!(" in namespace {n}")).unwrap_or_default(),
                    namespace.as_ref().map(|n| format!(" -n {n}")).unwrap_or_default(),
                )),
                Some(401) => Some("the cluster rejected your credentials: refresh them (e.g. `az aks get-credentials` or `kubelogin`)".into()),
                Some(_) => None,
                None => Some("is the cluster reachable? try `kubectl cluster-info` with the same context".into()),
            },
        }
    }
}
