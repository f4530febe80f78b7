//! The rows: each bound ServiceAccount (or pod of an unannotated one) against its identity
//! and credentials, with what is off.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{app, facts::*, identity_binding};
use crate::wi::{
    credential::{self, Credential, Match, Wanted},
    keys, names,
    rbac::Held,
};

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
