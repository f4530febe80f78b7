//! What inspect reads, compact: the few fields of each ServiceAccount and pod it needs (kept
//! while pages stream past), what a cluster cost to read, and the identities Azure holds.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use serde::Serialize;

use super::identity_binding;
use crate::wi::{credential::Credential, keys, mutation, rbac::Held, webhook};

/// What a ServiceAccount says about its binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaFacts {
    pub namespace: String,
    pub name: String,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    pub token_expiration: Option<String>,
}

impl SaFacts {
    pub fn from_sa(sa: &ServiceAccount) -> SaFacts {
        let ann = |k: &str| {
            sa.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(k))
                .cloned()
        };
        SaFacts {
            namespace: sa.metadata.namespace.clone().unwrap_or_default(),
            name: sa.metadata.name.clone().unwrap_or_default(),
            client_id: ann(keys::CLIENT_ID_ANNOTATION).filter(|c| !c.trim().is_empty()),
            tenant_id: ann(keys::TENANT_ID_ANNOTATION),
            token_expiration: ann(keys::TOKEN_EXPIRATION_ANNOTATION),
        }
    }
}

/// What a pod contributes: whose token it uses, whether it asked for and got injection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodFacts {
    pub namespace: String,
    pub service_account: String,
    pub labelled: bool,
    pub injected: bool,
    /// Opts in to the identity-binding token (`azure.workload.identity/use-identity-binding`).
    pub identity_binding: bool,
}

impl PodFacts {
    pub fn from_pod(pod: &Pod) -> PodFacts {
        let labelled = pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(keys::USE_LABEL))
            .is_some_and(|v| v == "true");
        PodFacts {
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            // The API server defaults an empty serviceAccountName to "default".
            service_account: pod
                .spec
                .as_ref()
                .and_then(|s| s.service_account_name.clone())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "default".into()),
            labelled,
            injected: mutation::observe(pod).mutated(),
            identity_binding: crate::wi::identity_binding::opted_in(
                pod.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(crate::wi::identity_binding::ANNOTATION))
                    .map(String::as_str),
            ),
        }
    }
}

/// Requests one cluster's gather made: the cost rule is two lists (paged) and one discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Requests {
    pub service_account_pages: u32,
    pub pod_pages: u32,
    pub other: u32,
}

/// Everything read from one cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterFacts {
    pub context: Option<String>,
    pub issuer: Option<String>,
    /// The webhook's tenant, when every install agrees on one.
    pub webhook_tenant: Option<String>,
    /// Per namespace, when installs with different tenants serve different namespaces.
    pub namespace_tenants: BTreeMap<String, Option<String>>,
    pub service_accounts: Vec<SaFacts>,
    pub pods: Vec<PodFacts>,
    pub requests: Requests,
    /// The API server (to find the AKS cluster behind the context).
    pub server: String,
    pub identity_binding: identity_binding::IbFacts,
}

impl ClusterFacts {
    /// The tenant the webhook serving `ns` gives pods without a tenant-id annotation.
    pub fn tenant_for(&self, ns: &str) -> Option<&str> {
        match self.namespace_tenants.get(ns) {
            Some(t) => t.as_deref(),
            None => self.webhook_tenant.as_deref(),
        }
    }
}

/// Each install's tenant, resolved per namespace by which install serves it: pure, from the
/// installs (with the tenant of each one's ConfigMap) and the namespaces' labels.
pub fn tenants_by_namespace(
    installs: &[(webhook::Install, Option<String>)],
    namespaces: &BTreeMap<String, BTreeMap<String, String>>,
) -> BTreeMap<String, Option<String>> {
    let only: Vec<webhook::Install> = installs.iter().map(|(i, _)| i.clone()).collect();
    namespaces
        .iter()
        .map(|(ns, labels)| {
            let tenant = webhook::serving(&only, ns, labels).first().and_then(|s| {
                installs
                    .iter()
                    .find(|(i, _)| i.configuration == s.configuration && i.endpoint == s.endpoint)
                    .and_then(|(_, t)| t.clone())
            });
            (ns.clone(), tenant)
        })
        .collect()
}

/// A user-assigned identity, or an application registration, with its federated credentials
/// (`None`: they could not be listed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityFacts {
    pub id: String,
    pub name: String,
    pub resource_group: String,
    pub client_id: String,
    pub tenant_id: String,
    pub credentials: Option<Vec<Credential>>,
    pub kind: IdentityKind,
    /// Credential descriptions by name (Graph's credentials have them): how those made by
    /// `azwi serviceaccount create` are recognised.
    pub descriptions: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IdentityKind {
    #[default]
    ManagedIdentity,
    /// An Entra application: its service principal in the tenant (`None`: there is none;
    /// otherwise whether it is enabled). Entra refuses tokens without an enabled one.
    Application { service_principal: Option<bool> },
}

impl IdentityFacts {
    pub(super) fn what(&self) -> &'static str {
        match self.kind {
            IdentityKind::ManagedIdentity => "identity",
            IdentityKind::Application { .. } => "application",
        }
    }
}

/// What Azure holds for the subscription; absent in the cluster-only view.
#[derive(Debug, Clone, Default)]
pub struct AzureFacts {
    pub subscription: String,
    pub identities: Vec<IdentityFacts>,
    /// Roles each identity holds, by client id (lower-case); read for `-o wide`.
    pub roles: BTreeMap<String, Vec<Held>>,
}

impl AzureFacts {
    pub fn by_client_id(&self, client_id: &str) -> Option<&IdentityFacts> {
        self.identities
            .iter()
            .find(|i| i.client_id.eq_ignore_ascii_case(client_id))
    }
}

/// Client ids the clusters' ServiceAccounts name: the identities worth listing credentials of.
pub fn client_ids<'a>(clusters: impl IntoIterator<Item = &'a ClusterFacts>) -> Vec<String> {
    let mut ids: Vec<String> = clusters
        .into_iter()
        .flat_map(|c| c.service_accounts.iter())
        .filter_map(|s| s.client_id.as_ref())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}
