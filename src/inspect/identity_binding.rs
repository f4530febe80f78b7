//! AKS identity bindings in `inspect`, pure: binding -> identity -> the ServiceAccounts its RBAC
//! grant allows -> their pods, and what is off. A ServiceAccount is on this path when its
//! identity has a binding on the cluster and it is granted `use-managed-identity` or its pods
//! opt in (docs: identity-bindings §2-§4: the grant names the CLIENT id, pods opt in with
//! `azure.workload.identity/use-identity-binding: "true"`, AKS keeps one credential
//! `aks-identity-binding` on the identity, the proxy serves only a Succeeded binding).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::{ClusterFacts, CredentialState, IdentityFacts, PodCounts};
use crate::wi::identity_binding as ib;

/// One ARM identity binding of the cluster behind a kube context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IbBinding {
    pub name: String,
    pub client_id: String,
    pub identity_id: String,
    pub state: String,
}

/// What the cluster says about identity bindings: the grants, and the AKS side when read.
#[derive(Debug, Clone, Default)]
pub struct IbFacts {
    /// Per client id (lower case): (ClusterRoleBinding, subject) pairs whose ClusterRole names
    /// it. `None`: RBAC could not be listed.
    pub grants: Option<BTreeMap<String, Vec<(String, Value)>>>,
    /// `rg/name` of the AKS cluster behind the context, when found.
    pub aks: Option<String>,
    /// Its bindings; `None`: not read (no AKS cluster, no Azure view, or refused).
    pub bindings: Option<Vec<IbBinding>>,
}

impl IbFacts {
    /// Whether anything in the inspected scope points at identity bindings (worth the Azure
    /// reads): a pod opting in, or a grant naming a ServiceAccount listed (grants are
    /// cluster-wide; one for another namespace costs nothing here).
    pub fn in_use(&self, sas: &[super::SaFacts], pods: &[super::PodFacts]) -> bool {
        let granted = self
            .grants
            .iter()
            .flatten()
            .flat_map(|(_, l)| l)
            .any(|(_, subject)| {
                let one = json!([subject]);
                sas.iter()
                    .any(|sa| ib::names_service_account(Some(&one), &sa.namespace, &sa.name))
            });
        granted || pods.iter().any(|p| p.identity_binding)
    }

    fn binding(&self, client_id: &str) -> Option<&IbBinding> {
        self.bindings
            .as_ref()?
            .iter()
            .find(|b| b.client_id.eq_ignore_ascii_case(client_id))
    }

    /// The ClusterRoleBindings granting this ServiceAccount the identity.
    fn granted_by(&self, client_id: &str, ns: &str, sa: &str) -> Vec<String> {
        let Some(list) = self
            .grants
            .as_ref()
            .and_then(|g| g.get(&client_id.to_ascii_lowercase()))
        else {
            return Vec::new();
        };
        let mut by: Vec<String> = list
            .iter()
            .filter(|(_, s)| ib::names_service_account(Some(&json!([s])), ns, sa))
            .map(|(b, _)| b.clone())
            .collect();
        by.dedup();
        by
    }
}

/// The grants of a cluster's RBAC: subjects of ClusterRoleBindings whose ClusterRole names a
/// client id in `cid.wi.aks.azure.com` with `use-managed-identity` (a wildcard grants no
/// particular identity and is not listed).
pub fn grants(roles: &[Value], bindings: &[Value]) -> BTreeMap<String, Vec<(String, Value)>> {
    let name = |o: &Value| {
        o.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut out: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    for b in bindings {
        if b.pointer("/roleRef/kind").and_then(Value::as_str) != Some("ClusterRole") {
            continue;
        }
        let role_name = b.pointer("/roleRef/name").and_then(Value::as_str);
        let Some(role) = roles.iter().find(|r| Some(name(r).as_str()) == role_name) else {
            continue;
        };
        for cid in ib::named_resources(role) {
            if cid == "*" || !ib::grants(role, &cid) {
                continue;
            }
            let subjects = b
                .get("subjects")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let list = out.entry(cid.to_ascii_lowercase()).or_default();
            list.extend(subjects.into_iter().map(|s| (name(b), s)));
        }
    }
    out
}

/// A ServiceAccount row on the identity-binding path: its credential state (AKS's binding, not
/// a federated credential per ServiceAccount) and what is off. `None`: a classic binding.
pub fn sa_view(
    cluster: &ClusterFacts,
    identity: Option<&IdentityFacts>,
    client_id: &str,
    (ns, sa): (&str, &str),
    pods: PodCounts,
) -> Option<(CredentialState, Vec<String>)> {
    let f = &cluster.identity_binding;
    let granted = f.granted_by(client_id, ns, sa);
    let binding = f.binding(client_id);
    if binding.is_none() && pods.identity_binding == 0 {
        return None;
    }
    if binding.is_none() && f.bindings.is_none() {
        // Pods opt in but the AKS side was not read: say so, compare nothing.
        return Some((
            CredentialState::NotChecked {
                reason: "identity binding not read (no AKS cluster found for this context, or no Azure view)".into(),
            },
            Vec::new(),
        ));
    }
    let mut problems = Vec::new();
    let Some(b) = binding else {
        problems.push(format!(
            "{} pod(s) opt in to an identity binding, but client id {client_id} has none on cluster {}: `kubectl azwi bind {sa} -n {ns} --identity {client_id} --identity-binding`",
            pods.identity_binding,
            f.aks.as_deref().unwrap_or_default()
        ));
        return Some((CredentialState::Missing, problems));
    };
    problems.extend(problems_of(f, b, identity, (ns, sa), &granted, pods));
    Some((
        CredentialState::IdentityBinding {
            binding: b.name.clone(),
            state: b.state.clone(),
            granted_by: granted,
        },
        problems,
    ))
}

fn problems_of(
    f: &IbFacts,
    b: &IbBinding,
    identity: Option<&IdentityFacts>,
    (ns, sa): (&str, &str),
    granted: &[String],
    pods: PodCounts,
) -> Vec<String> {
    let mut out = Vec::new();
    if b.state != "Succeeded" {
        out.push(format!(
            "identity binding {} is {}: AKS's token proxy serves only a Succeeded binding; put it again: `kubectl azwi bind {sa} -n {ns} --identity {} --identity-binding`",
            b.name, b.state, b.client_id
        ));
    }
    if let Some(creds) = identity.and_then(|i| i.credentials.as_ref())
        && !ib::has_managed_credential(creds)
    {
        out.push(format!(
            "identity {} holds no '{}' credential: Entra refuses its tokens; `kubectl azwi bind {sa} -n {ns} --identity {} --identity-binding` has AKS write it again",
            identity.map(|i| i.name.as_str()).unwrap_or_default(),
            ib::MANAGED_CREDENTIAL,
            b.client_id
        ));
    }
    if f.grants.is_some() && granted.is_empty() {
        out.push(format!(
            "serviceaccount {ns}/{sa} is annotated with client id {} but no ClusterRoleBinding grants it '{}' on {}/{}: the token proxy refuses it",
            b.client_id,
            ib::VERB,
            ib::API_GROUP,
            b.client_id
        ));
    }
    if pods.total > pods.identity_binding {
        out.push(format!(
            "{} pod(s) lack the annotation {}: \"true\": they do not use the identity binding",
            pods.total - pods.identity_binding,
            ib::ANNOTATION
        ));
    }
    out
}

/// One binding, binding-first: identity, the ServiceAccounts allowed (or annotated), pods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IbRow {
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub binding: String,
    pub state: String,
    pub client_id: String,
    pub identity: Option<String>,
    /// Whether the identity holds `aks-identity-binding`; `None`: not listed.
    pub managed_credential: Option<bool>,
    pub service_accounts: Vec<IbServiceAccount>,
    /// Group subjects of the grant (`system:serviceaccounts:NS`): every ServiceAccount in them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IbServiceAccount {
    pub namespace: String,
    pub name: String,
    /// The ClusterRoleBindings granting it `use-managed-identity` on the client id.
    pub granted_by: Vec<String>,
    /// Its client-id annotation names the identity.
    pub annotated: bool,
    pub pods: PodCounts,
}

/// The binding-first rows of one cluster, sorted by binding name.
pub fn rows(
    cluster: &ClusterFacts,
    identities: &dyn Fn(&str) -> Option<IdentityFacts>,
    counts: &BTreeMap<(&str, &str), PodCounts>,
) -> Vec<IbRow> {
    let f = &cluster.identity_binding;
    let mut out: Vec<IbRow> = f
        .bindings
        .iter()
        .flatten()
        .map(|b| {
            let cid = b.client_id.to_ascii_lowercase();
            let subjects = f
                .grants
                .as_ref()
                .and_then(|g| g.get(&cid))
                .cloned()
                .unwrap_or_default();
            let field = |s: &Value, k: &str| {
                s.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let mut sas: Vec<(String, String)> = subjects
                .iter()
                .filter(|(_, s)| field(s, "kind") == "ServiceAccount")
                .map(|(_, s)| (field(s, "namespace"), field(s, "name")))
                .chain(
                    cluster
                        .service_accounts
                        .iter()
                        .filter(|s| {
                            s.client_id
                                .as_deref()
                                .is_some_and(|c| c.eq_ignore_ascii_case(&cid))
                        })
                        .map(|s| (s.namespace.clone(), s.name.clone())),
                )
                .collect();
            sas.sort();
            sas.dedup();
            let identity = identities(&cid);
            IbRow {
                context: cluster.context.clone(),
                cluster: f.aks.clone(),
                binding: b.name.clone(),
                state: b.state.clone(),
                client_id: b.client_id.clone(),
                identity: identity.as_ref().map(|i| i.name.clone()),
                managed_credential: identity
                    .as_ref()
                    .and_then(|i| i.credentials.as_ref())
                    .map(|c| ib::has_managed_credential(c)),
                groups: subjects
                    .iter()
                    .filter(|(_, s)| field(s, "kind") == "Group")
                    .map(|(_, s)| field(s, "name"))
                    .collect(),
                service_accounts: sas
                    .into_iter()
                    .map(|(ns, name)| IbServiceAccount {
                        granted_by: f.granted_by(&cid, &ns, &name),
                        annotated: cluster.service_accounts.iter().any(|s| {
                            s.namespace == ns
                                && s.name == name
                                && s.client_id
                                    .as_deref()
                                    .is_some_and(|c| c.eq_ignore_ascii_case(&cid))
                        }),
                        pods: counts
                            .get(&(ns.as_str(), name.as_str()))
                            .copied()
                            .unwrap_or_default(),
                        namespace: ns,
                        name,
                    })
                    .collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.binding.cmp(&b.binding));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::tests::{CID, cluster, pod, sa};

    fn role(name: &str, resource: &str) -> Value {
        json!({"metadata": {"name": name}, "rules": [{"apiGroups": [ib::API_GROUP], "resources": [resource], "verbs": [ib::VERB]}]})
    }

    fn crb(name: &str, role: &str, subjects: Value) -> Value {
        json!({"metadata": {"name": name}, "roleRef": {"kind": "ClusterRole", "name": role}, "subjects": subjects})
    }

    #[test]
    fn grants_name_client_ids_only() {
        let roles = [
            role("mine", &CID.to_ascii_uppercase()),
            role("star", "*"),
            json!({"metadata": {"name": "admin"}, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
        ];
        let web = json!({"kind": "ServiceAccount", "name": "web", "namespace": "ns"});
        let bindings = [
            crb("b1", "mine", json!([web])),
            crb("b2", "star", json!([web])),
            crb(
                "b3",
                "admin",
                json!([{"kind": "Group", "name": "system:masters"}]),
            ),
        ];
        let g = grants(&roles, &bindings);
        assert_eq!(g.keys().collect::<Vec<_>>(), [CID]);
        assert_eq!(g[CID], [("b1".to_string(), web)]);
    }

    fn ib_cluster(state: &str, granted: bool) -> ClusterFacts {
        let mut c = cluster(
            vec![sa("ns", "web", Some(CID))],
            vec![pod("ns", "web", true, true)],
        );
        let subjects = if granted {
            vec![(
                "b1".to_string(),
                json!({"kind": "Group", "name": "system:serviceaccounts:ns"}),
            )]
        } else {
            Vec::new()
        };
        c.identity_binding = IbFacts {
            grants: Some(BTreeMap::from([(CID.to_string(), subjects)])),
            aks: Some("rg/aks1".into()),
            bindings: Some(vec![IbBinding {
                name: "ib1".into(),
                client_id: CID.into(),
                identity_id: "/x".into(),
                state: state.into(),
            }]),
        };
        c
    }

    #[test]
    fn a_service_account_on_the_path_and_what_is_off() {
        let opted = PodCounts {
            labelled: 1,
            injected: 1,
            total: 1,
            identity_binding: 1,
        };
        // Granted through its namespace's group, pods opted in, Succeeded: nothing off.
        let c = ib_cluster("Succeeded", true);
        let (state, problems) = sa_view(&c, None, CID, ("ns", "web"), opted).unwrap();
        assert_eq!(
            state,
            CredentialState::IdentityBinding {
                binding: "ib1".into(),
                state: "Succeeded".into(),
                granted_by: vec!["b1".into()]
            }
        );
        assert!(problems.is_empty(), "{problems:?}");
        // Failed, not granted, one pod not opted in: each named.
        let c = ib_cluster("Failed", false);
        let classic = PodCounts {
            identity_binding: 0,
            ..opted
        };
        let (_, problems) = sa_view(&c, None, CID, ("ns", "web"), classic).unwrap();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("is Failed"));
        assert!(problems[1].contains("no ClusterRoleBinding grants it"));
        assert!(problems[2].starts_with("1 pod(s) lack the annotation"));
        // No binding of the client id and no opted-in pod: a classic binding.
        let mut c = ib_cluster("Succeeded", true);
        c.identity_binding.bindings = Some(Vec::new());
        assert!(sa_view(&c, None, CID, ("ns", "web"), classic).is_none());
    }
}
