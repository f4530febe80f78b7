//! `inspect`'s model, pure: compact facts read off ServiceAccounts and pods (one page at a time,
//! so 20,000 pods never sit in memory as full objects), the identities and credentials Azure
//! holds, and the rows they make. No client, no clock: the command gathers, this decides.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use serde::Serialize;

use crate::wi::{
    credential::{self, Credential, Match, Wanted},
    keys, mutation, names,
    rbac::Held,
    webhook,
};

mod app;
pub mod export;
pub mod identity_binding;

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
    fn what(&self) -> &'static str {
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySummary {
    /// `userAssignedIdentity` or `application`.
    pub kind: &'static str,
    pub name: String,
    pub resource_group: String,
    pub id: String,
    pub tenant_id: String,
    /// Flexible credentials the identity also holds (GitHub Actions and the like): shown,
    /// never a match for a ServiceAccount.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flexible_credentials: Vec<String>,
    /// Federated credentials the identity holds, of every kind (Azure allows 20); `None`
    /// when they could not be listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_count: Option<usize>,
}

/// The credential verdict of a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum CredentialState {
    /// Entra would accept the cluster's tokens: the credential as it exists.
    Exact {
        name: String,
        issuer: String,
        subject: String,
        audiences: Vec<String>,
    },
    NearMiss {
        name: String,
        differences: Vec<String>,
    },
    Missing,
    /// Not compared: no Azure view, no identity, or no issuer.
    NotChecked {
        reason: String,
    },
    /// An AKS identity binding serves it (AKS's one credential on the identity), with the
    /// ClusterRoleBindings granting it `use-managed-identity`.
    IdentityBinding {
        binding: String,
        state: String,
        #[serde(rename = "grantedBy")]
        granted_by: Vec<String>,
    },
}

impl CredentialState {
    pub fn symbol(&self) -> &'static str {
        match self {
            CredentialState::Exact { .. } => "✔",
            CredentialState::IdentityBinding { state, .. } if state == "Succeeded" => "✔",
            CredentialState::IdentityBinding { .. } => "×",
            CredentialState::NearMiss { .. } => "‼",
            CredentialState::Missing => "×",
            CredentialState::NotChecked { .. } => "?",
        }
    }

    /// The mark where the locale cannot show [`symbol`](Self::symbol)'s.
    pub fn ascii(&self) -> &'static str {
        match self {
            CredentialState::Exact { .. } => "ok",
            CredentialState::IdentityBinding { state, .. } if state == "Succeeded" => "ok",
            CredentialState::IdentityBinding { .. } => "x",
            CredentialState::NearMiss { .. } => "!!",
            CredentialState::Missing => "x",
            CredentialState::NotChecked { .. } => "?",
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            CredentialState::Exact { name, .. } | CredentialState::NearMiss { name, .. } => {
                Some(name)
            }
            CredentialState::IdentityBinding { binding, .. } => Some(binding),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PodCounts {
    pub labelled: u32,
    pub injected: u32,
    pub total: u32,
    /// Pods opting in to the identity-binding token (shown when there are some).
    #[serde(rename = "identityBinding", skip_serializing_if = "is_zero")]
    pub identity_binding: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One ServiceAccount: its binding from annotation to credential, and its pods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub context: Option<String>,
    pub namespace: String,
    pub service_account: String,
    /// False when pods name a ServiceAccount that does not exist.
    pub exists: bool,
    pub client_id: Option<String>,
    /// The tenant pods get: the SA's annotation, else the webhook's.
    pub tenant_id: Option<String>,
    pub issuer: Option<String>,
    pub token_expiration: Option<String>,
    pub identity: Option<IdentitySummary>,
    pub credential: CredentialState,
    pub pods: PodCounts,
    pub problems: Vec<String>,
    /// The identity's role assignments (read for `-o wide` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Held>,
    /// The matching credential was made by `azwi serviceaccount create` (its name scheme or
    /// description): a binding `bind` adopts as it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub made_by: Option<&'static str>,
}

impl Row {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Which ServiceAccounts to show: every bound or used-for-injection one, or just one.
#[derive(Debug, Clone, Copy)]
pub enum Filter<'a> {
    Bindings,
    Only(&'a str),
}

/// Pods by (namespace, ServiceAccount).
fn pod_counts(cluster: &ClusterFacts) -> BTreeMap<(&str, &str), PodCounts> {
    let mut counts: BTreeMap<(&str, &str), PodCounts> = BTreeMap::new();
    for p in &cluster.pods {
        let c = counts
            .entry((&p.namespace, &p.service_account))
            .or_default();
        c.total += 1;
        c.labelled += u32::from(p.labelled);
        c.injected += u32::from(p.injected);
        c.identity_binding += u32::from(p.identity_binding);
    }
    counts
}

/// The rows of one cluster. Pure: the same facts always give the same rows, sorted.
pub fn rows(cluster: &ClusterFacts, azure: Option<&AzureFacts>, filter: Filter<'_>) -> Vec<Row> {
    let counts = pod_counts(cluster);
    let sas: BTreeMap<(&str, &str), &SaFacts> = cluster
        .service_accounts
        .iter()
        .map(|s| ((s.namespace.as_str(), s.name.as_str()), s))
        .collect();
    let mut keys: Vec<(&str, &str)> = match filter {
        Filter::Only(name) => {
            // The one asked for, even unbound, so `inspect sa/x` always answers.
            let mut k: Vec<_> = sas.keys().copied().filter(|(_, n)| *n == name).collect();
            k.extend(counts.keys().copied().filter(|(_, n)| *n == name));
            k
        }
        Filter::Bindings => {
            let mut k: Vec<_> = sas
                .iter()
                .filter(|(_, s)| s.client_id.is_some())
                .map(|(k, _)| *k)
                .collect();
            k.extend(
                counts
                    .iter()
                    .filter(|(_, c)| c.labelled > 0)
                    .map(|(k, _)| *k),
            );
            k
        }
    };
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .map(|key| {
            row(
                cluster,
                azure,
                key,
                sas.get(&key).copied(),
                counts.get(&key).copied().unwrap_or_default(),
            )
        })
        .collect()
}

fn row(
    cluster: &ClusterFacts,
    azure: Option<&AzureFacts>,
    (ns, name): (&str, &str),
    sa: Option<&SaFacts>,
    pods: PodCounts,
) -> Row {
    let mut problems = Vec::new();
    let client_id = sa.and_then(|s| s.client_id.clone());
    let tenant_id = sa
        .and_then(|s| s.tenant_id.clone())
        .filter(|t| !t.is_empty())
        .or_else(|| cluster.tenant_for(ns).map(str::to_string));
    if sa.is_none() {
        problems.push(format!(
            "{} pod(s) use ServiceAccount {name}, which does not exist",
            pods.total
        ));
    } else if client_id.is_none() && pods.labelled > 0 {
        problems.push(format!(
            "{} labelled pod(s) use it, but it has no {} annotation: they get no identity (kubectl azwi bind {name} -n {ns} --identity ...)",
            pods.labelled,
            keys::CLIENT_ID_ANNOTATION
        ));
    }
    if pods.labelled > pods.injected {
        problems.push(format!(
            "{} labelled pod(s) were not injected by the webhook: created before it served this namespace, or not served at all; recreate them",
            pods.labelled - pods.injected
        ));
    }
    if client_id.is_some() && pods.total > pods.labelled {
        problems.push(format!(
            "{} pod(s) lack the label {}=true: they get no token",
            pods.total - pods.labelled,
            keys::USE_LABEL
        ));
    }
    let identity = match (&client_id, azure) {
        (Some(c), Some(az)) => {
            let found = az.by_client_id(c);
            if found.is_none() {
                problems.push(format!(
                    "client id {c} matches no user-assigned identity in subscription {} and no application in the tenant",
                    az.subscription
                ));
            }
            found
        }
        _ => None,
    };
    if let (Some(i), Some(t)) = (identity, &tenant_id)
        && !i.tenant_id.is_empty()
        && !i.tenant_id.eq_ignore_ascii_case(t)
    {
        problems.push(format!(
            "pods get tenant {t} but identity {} is in tenant {}",
            i.name, i.tenant_id
        ));
    }
    if let Some(i) = identity {
        problems.extend(app::problem(i));
    }
    let on_ib = client_id
        .as_deref()
        .and_then(|c| identity_binding::sa_view(cluster, identity, c, (ns, name), pods));
    let credential = match on_ib {
        Some((state, more)) => {
            problems.extend(more);
            state
        }
        None => credential_state(cluster, azure, identity, ns, name, client_id.is_some()),
    };
    match &credential {
        CredentialState::Missing => problems.push(format!(
            "{} {} has no federated credential for issuer {} and subject {}",
            identity.map(IdentityFacts::what).unwrap_or("identity"),
            identity.map(|i| i.name.as_str()).unwrap_or_default(),
            cluster.issuer.as_deref().unwrap_or_default(),
            names::subject(ns, name)
        )),
        CredentialState::NearMiss { name, differences } => problems.push(format!(
            "federated credential {name} does not match: {}",
            differences.join("; ")
        )),
        _ => {}
    }
    let roles = client_id
        .as_ref()
        .and_then(|c| azure?.roles.get(&c.to_ascii_lowercase()).cloned())
        .unwrap_or_default();
    Row {
        context: cluster.context.clone(),
        namespace: ns.to_string(),
        service_account: name.to_string(),
        exists: sa.is_some(),
        client_id,
        tenant_id,
        issuer: cluster.issuer.clone(),
        token_expiration: sa.and_then(|s| s.token_expiration.clone()),
        made_by: app::made_by(identity, &credential, cluster.issuer.as_deref(), ns, name),
        identity: identity.map(|i| IdentitySummary {
            kind: match i.kind {
                IdentityKind::ManagedIdentity => "userAssignedIdentity",
                IdentityKind::Application { .. } => "application",
            },
            name: i.name.clone(),
            resource_group: i.resource_group.clone(),
            id: i.id.clone(),
            tenant_id: i.tenant_id.clone(),
            flexible_credentials: i
                .credentials
                .iter()
                .flatten()
                .filter(|c| c.is_flexible())
                .map(Credential::describe)
                .collect(),
            credential_count: i.credentials.as_ref().map(Vec::len),
        }),
        credential,
        pods,
        problems,
        roles,
    }
}

fn credential_state(
    cluster: &ClusterFacts,
    azure: Option<&AzureFacts>,
    identity: Option<&IdentityFacts>,
    ns: &str,
    sa: &str,
    bound: bool,
) -> CredentialState {
    let not = |reason: &str| CredentialState::NotChecked {
        reason: reason.into(),
    };
    if !bound {
        return not("not bound");
    }
    if azure.is_none() {
        return not("cluster-only view");
    }
    let Some(identity) = identity else {
        return not("identity not found");
    };
    let Some(issuer) = &cluster.issuer else {
        return not("the cluster's issuer is unknown");
    };
    let Some(creds) = &identity.credentials else {
        return not("credentials could not be listed");
    };
    let want = Wanted {
        issuer: issuer.clone(),
        subject: names::subject(ns, sa),
        audience: keys::AUDIENCE.into(),
    };
    // A credential for this very subject is the miss worth naming (a slash, an audience), even
    // when another ServiceAccount's credential differs from it by as few fields.
    let own: Vec<Credential> = creds
        .iter()
        .filter(|c| c.subject == want.subject)
        .cloned()
        .collect();
    let found = match credential::find(creds, &want) {
        Match::NearMiss { .. } if !own.is_empty() => credential::find(&own, &want),
        m => m,
    };
    match found {
        Match::Exact { name } => {
            let c = creds.iter().find(|c| c.name == name).expect("found above");
            CredentialState::Exact {
                name,
                issuer: c.issuer.clone(),
                subject: c.subject.clone(),
                audiences: c.audiences.clone(),
            }
        }
        Match::NearMiss { name, differences } => CredentialState::NearMiss { name, differences },
        Match::Missing => CredentialState::Missing,
    }
}

/// The identity-binding rows of one cluster (binding -> identity -> ServiceAccounts -> pods).
pub fn ib_rows(cluster: &ClusterFacts, azure: Option<&AzureFacts>) -> Vec<identity_binding::IbRow> {
    let counts = pod_counts(cluster);
    let find = |cid: &str| azure.and_then(|a| a.by_client_id(cid)).cloned();
    identity_binding::rows(cluster, &find, &counts)
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

/// One cluster in the report: what was read and what it cost.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSummary {
    pub context: Option<String>,
    pub issuer: Option<String>,
    pub service_accounts: usize,
    pub pods: usize,
    pub requests: Requests,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureSummary {
    pub checked: bool,
    pub subscription: Option<String>,
    pub identities: usize,
    pub requests: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectReport {
    pub clusters: Vec<ClusterSummary>,
    pub azure: AzureSummary,
    pub items: Vec<Row>,
    /// AKS identity bindings, binding first (each also shows in its ServiceAccounts' rows).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identity_bindings: Vec<identity_binding::IbRow>,
    pub notes: Vec<String>,
}

impl InspectReport {
    /// Several clusters: rows need a CONTEXT column to be told apart.
    pub fn fleet(&self) -> bool {
        self.clusters.len() > 1
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const ISS: &str = "https://issuer.example/t/u/";
    pub const CID: &str = "11111111-1111-1111-1111-111111111111";

    pub fn sa(ns: &str, name: &str, client_id: Option<&str>) -> SaFacts {
        SaFacts {
            namespace: ns.into(),
            name: name.into(),
            client_id: client_id.map(str::to_string),
            tenant_id: None,
            token_expiration: None,
        }
    }
    pub fn pod(ns: &str, sa: &str, labelled: bool, injected: bool) -> PodFacts {
        PodFacts {
            namespace: ns.into(),
            service_account: sa.into(),
            labelled,
            injected,
            identity_binding: false,
        }
    }
    pub fn cred(name: &str, issuer: &str, subject: &str) -> Credential {
        Credential {
            name: name.into(),
            issuer: issuer.into(),
            subject: subject.into(),
            audiences: vec![keys::AUDIENCE.into()],
        }
    }
    pub fn azure(creds: Vec<Credential>) -> AzureFacts {
        AzureFacts {
            subscription: "sub".into(),
            identities: vec![IdentityFacts {
                // As ARM returns it: lower-case `resourcegroups`.
                id: "/subscriptions/00000000-0000-4000-8000-000000000001/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app".into(),
                name: "id-app".into(),
                resource_group: "rg".into(),
                client_id: CID.into(),
                tenant_id: "tenant".into(),
                credentials: Some(creds),
                ..Default::default()
            }],
            roles: BTreeMap::new(),
        }
    }
    /// A report of these rows; `checked`: Azure was asked (one identity found).
    pub fn report(items: Vec<Row>, checked: bool) -> InspectReport {
        InspectReport {
            clusters: vec![],
            azure: AzureSummary {
                checked,
                subscription: checked.then(|| "sub".into()),
                identities: usize::from(checked),
                requests: 0,
            },
            items,
            identity_bindings: vec![],
            notes: vec![],
        }
    }
    pub fn cluster(sas: Vec<SaFacts>, pods: Vec<PodFacts>) -> ClusterFacts {
        ClusterFacts {
            context: Some("c1".into()),
            issuer: Some(ISS.into()),
            webhook_tenant: Some("tenant".into()),
            namespace_tenants: BTreeMap::new(),
            service_accounts: sas,
            pods,
            requests: Requests::default(),
            server: String::new(),
            identity_binding: Default::default(),
        }
    }

    #[test]
    fn pod_facts_read_label_injection_and_default_sa() {
        let mut p = mutation::fixtures::mutated_pod(mutation::Layout::Reserved);
        p.metadata.namespace = Some("ns".into());
        p.metadata.labels = Some([(keys::USE_LABEL.to_string(), "true".to_string())].into());
        let f = PodFacts::from_pod(&p);
        assert_eq!(f, pod("ns", "default", true, true));
        p.metadata.labels = Some([(keys::USE_LABEL.to_string(), "True".to_string())].into());
        p.spec.as_mut().unwrap().volumes = None;
        p.spec.as_mut().unwrap().service_account_name = Some("app".into());
        assert_eq!(PodFacts::from_pod(&p), pod("ns", "app", false, false));
    }

    #[test]
    fn sa_facts_ignore_an_empty_client_id() {
        let mut s = ServiceAccount::default();
        s.metadata.name = Some("a".into());
        s.metadata.annotations =
            Some([(keys::CLIENT_ID_ANNOTATION.to_string(), " ".to_string())].into());
        assert_eq!(SaFacts::from_sa(&s).client_id, None);
    }

    #[test]
    fn verdicts_table() {
        let subject = names::subject("ns", "app");
        let cases: Vec<(&str, Vec<Credential>, &str)> = vec![
            ("exact", vec![cred("fic", ISS, &subject)], "✔"),
            (
                "no slash",
                vec![cred("fic", ISS.trim_end_matches('/'), &subject)],
                "‼",
            ),
            (
                "other audience",
                vec![Credential {
                    audiences: vec!["api://other".into()],
                    ..cred("fic", ISS, &subject)
                }],
                "‼",
            ),
            ("none", vec![], "×"),
            (
                "flexible on the cluster's issuer",
                vec![cred("gh-flex", ISS, "")],
                "×",
            ),
            (
                "exact beside a flexible one",
                vec![cred("gh-flex", ISS, ""), cred("fic", ISS, &subject)],
                "✔",
            ),
            (
                "unrelated",
                vec![cred(
                    "gh",
                    "https://token.actions.githubusercontent.com",
                    "repo:x",
                )],
                "×",
            ),
        ];
        for (what, creds, symbol) in cases {
            let c = cluster(
                vec![sa("ns", "app", Some(CID))],
                vec![pod("ns", "app", true, true)],
            );
            let rows = rows(&c, Some(&azure(creds)), Filter::Bindings);
            assert_eq!(rows.len(), 1, "{what}");
            assert_eq!(rows[0].credential.symbol(), symbol, "{what}");
            assert_eq!(
                rows[0].ok(),
                symbol == "✔",
                "{what}: {:?}",
                rows[0].problems
            );
            assert_eq!(rows[0].identity.as_ref().unwrap().name, "id-app");
        }
    }

    #[test]
    fn own_subject_near_miss_beats_a_neighbours_credential() {
        let c = cluster(vec![sa("ns", "near", Some(CID))], vec![]);
        let az = azure(vec![
            cred("neighbour", ISS, &names::subject("ns", "good")),
            cred(
                "own",
                ISS.trim_end_matches('/'),
                &names::subject("ns", "near"),
            ),
        ]);
        let r = &rows(&c, Some(&az), Filter::Bindings)[0];
        assert_eq!(r.credential.name(), Some("own"));
    }

    #[test]
    fn trailing_slash_is_named() {
        let c = cluster(vec![sa("ns", "app", Some(CID))], vec![]);
        let az = azure(vec![cred(
            "fic",
            ISS.trim_end_matches('/'),
            &names::subject("ns", "app"),
        )]);
        let r = &rows(&c, Some(&az), Filter::Bindings)[0];
        assert!(r.problems[0].contains("trailing '/'"), "{:?}", r.problems);
    }

    #[test]
    fn unbound_labelled_uninjected_and_missing_sas_are_problems() {
        let c = cluster(
            vec![
                sa("ns", "bound", Some(CID)),
                sa("ns", "plain", None),
                sa("ns", "quiet", None),
            ],
            vec![
                pod("ns", "bound", false, false),
                pod("ns", "plain", true, true),
                pod("ns", "ghost", true, false),
                pod("ns", "quiet", false, false),
            ],
        );
        let rows = rows(&c, None, Filter::Bindings);
        let names: Vec<_> = rows.iter().map(|r| r.service_account.as_str()).collect();
        assert_eq!(names, ["bound", "ghost", "plain"], "quiet is no binding");
        assert!(rows[0].problems[0].contains("lack the label"));
        assert_eq!(
            rows[0].credential,
            CredentialState::NotChecked {
                reason: "cluster-only view".into()
            }
        );
        assert!(!rows[1].exists);
        assert!(rows[1].problems[0].contains("does not exist"));
        assert!(rows[1].problems[1].contains("not injected"));
        assert!(rows[2].problems[0].contains("no azure.workload.identity/client-id"));
        assert_eq!(
            rows[2].pods,
            PodCounts {
                labelled: 1,
                injected: 1,
                total: 1,
                identity_binding: 0,
            }
        );
    }

    #[test]
    fn only_shows_the_named_sa_even_unbound() {
        let c = cluster(
            vec![sa("ns", "quiet", None), sa("ns", "app", Some(CID))],
            vec![],
        );
        let r = rows(&c, None, Filter::Only("quiet"));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].service_account, "quiet");
        assert!(r[0].ok());
    }

    #[test]
    fn the_tenant_is_the_one_of_the_install_serving_the_namespace() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
        let install = |name: &str, ns: &str, selector: Option<(&str, &str)>| webhook::Install {
            configuration: name.into(),
            endpoint: format!("service {ns}/azure-wi-webhook-webhook-service"),
            service_namespace: Some(ns.into()),
            flavour: webhook::Flavour::Other,
            failure_policy: "Fail".into(),
            has_ca_bundle: true,
            namespace_selector: selector.map(|(k, v)| LabelSelector {
                match_labels: Some([(k.to_string(), v.to_string())].into()),
                ..Default::default()
            }),
        };
        let installs = [
            (
                install("addon", "kube-system", Some(("team", "a"))),
                Some("tenant-a".into()),
            ),
            (
                install("helm", webhook::HELM_NAMESPACE, Some(("team", "b"))),
                Some("tenant-b".into()),
            ),
        ];
        let namespaces: BTreeMap<String, BTreeMap<String, String>> = [
            ("ns-a", Some(("team", "a"))),
            ("ns-b", Some(("team", "b"))),
            ("ns-none", None),
        ]
        .into_iter()
        .map(|(n, l)| {
            (
                n.to_string(),
                l.map(|(k, v)| [(k.to_string(), v.to_string())].into())
                    .unwrap_or_default(),
            )
        })
        .collect();
        let by_ns = tenants_by_namespace(&installs, &namespaces);
        assert_eq!(by_ns["ns-a"].as_deref(), Some("tenant-a"));
        assert_eq!(by_ns["ns-b"].as_deref(), Some("tenant-b"));
        assert_eq!(by_ns["ns-none"], None, "no install serves it");
        let mut c = cluster(vec![], vec![]);
        c.namespace_tenants = by_ns;
        assert_eq!(c.tenant_for("ns-a"), Some("tenant-a"));
        assert_eq!(
            c.tenant_for("elsewhere"),
            Some("tenant"),
            "the cluster-wide one"
        );
    }

    #[test]
    fn unknown_client_id_and_tenant_mismatch() {
        let mut c = cluster(
            vec![
                sa("ns", "app", Some(CID)),
                sa("ns", "x", Some("22222222-2222-2222-2222-222222222222")),
            ],
            vec![],
        );
        c.webhook_tenant = Some("other".into());
        let az = azure(vec![cred("fic", ISS, &names::subject("ns", "app"))]);
        let r = rows(&c, Some(&az), Filter::Bindings);
        assert!(
            r[0].problems[0].contains("in tenant tenant"),
            "{:?}",
            r[0].problems
        );
        assert!(r[1].problems[0].contains("matches no user-assigned identity"));
        assert_eq!(
            client_ids([&c]),
            vec![
                CID.to_string(),
                "22222222-2222-2222-2222-222222222222".to_string()
            ]
        );
    }
}
