//! `inspect -o dot|mermaid`: who can be whom, as a picture. The rows of an inspect report
//! become one graph: cluster ⊃ namespace ⊃ ServiceAccount → credential ⊂ identity, pods counted
//! on the edges. An identity several clusters use is one node. Pure and deterministic: the
//! same report always gives the same text (sorted, ids derived from names), so it diffs well.

use std::collections::BTreeMap;

use crate::{
    inspect::{CredentialState, InspectReport, PodCounts, Row},
    wi::{credential, keys, names},
};

pub mod dot;
pub mod mermaid;

/// How a node or an edge is drawn: by the verdict it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tone {
    Ok,
    /// A near miss, or an identity close to its credential limit.
    Warn,
    /// A missing credential or identity, a ServiceAccount with problems.
    Bad,
    /// Not compared (cluster-only view, unknown issuer).
    Unknown,
}

/// The kinds of identity a box can stand for: what inspect resolved (a user-assigned managed
/// identity or an application registration), or a bare client id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IdentityKind {
    ManagedIdentity,
    Application,
    /// A client id Azure was not asked about, or that matches no identity.
    Unresolved,
}

impl IdentityKind {
    pub fn title(self) -> &'static str {
        match self {
            IdentityKind::ManagedIdentity => "managed identity",
            IdentityKind::Application => "application",
            IdentityKind::Unresolved => "client id",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    pub clusters: Vec<ClusterBox>,
    pub identities: Vec<IdentityBox>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterBox {
    pub id: String,
    pub context: String,
    pub issuer: Option<String>,
    pub namespaces: Vec<NamespaceBox>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceBox {
    pub id: String,
    pub name: String,
    pub service_accounts: Vec<SaNode>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaNode {
    pub id: String,
    pub name: String,
    pub tone: Tone,
    /// What the node says beside its name: it does not exist, or names no identity.
    pub note: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityBox {
    pub id: String,
    pub kind: IdentityKind,
    pub name: String,
    /// Resource group, or why the identity is unresolved.
    pub detail: String,
    /// Federated credentials it holds (of [`keys::MAX_FEDERATED_CREDENTIALS`]), when listed.
    pub credential_count: Option<usize>,
    pub near_limit: bool,
    pub tone: Tone,
    /// The credentials the drawn ServiceAccounts match or nearly match, by name.
    pub credentials: Vec<CredentialNode>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialNode {
    pub id: String,
    pub name: String,
    pub tone: Tone,
}

/// ServiceAccount → credential (or → identity when no credential matches).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub tone: Tone,
    pub label: String,
    /// The near miss's differences, for a tooltip.
    pub note: Option<String>,
}

/// A node id: a readable part and a hash of the full key (FNV-1a, stable across runs and
/// platforms), so two names that read alike never share an id.
pub fn node_id(prefix: &str, key: &[&str]) -> String {
    let hash = names::fnv1a64(key.join("\u{0}").as_bytes()) as u32;
    let readable: String = key
        .last()
        .copied()
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(24)
        .collect();
    format!("{prefix}_{readable}_{hash:08x}")
}

fn pods_label(p: &PodCounts) -> String {
    format!("pods {}/{}/{}", p.labelled, p.injected, p.total)
}

fn context_of(r: &Row) -> &str {
    r.context.as_deref().unwrap_or("current context")
}

/// The identity a row points at: the resolved one (by resource id, the same across a fleet),
/// else its client id alone.
fn identity_box(r: &Row) -> Option<IdentityBox> {
    let client_id = r.client_id.as_deref()?;
    Some(match &r.identity {
        // An application has no resource group: its client id says which one it is.
        Some(i) if i.kind == "application" => IdentityBox {
            id: node_id("app", &[&i.id.to_ascii_lowercase(), &i.name]),
            kind: IdentityKind::Application,
            name: i.name.clone(),
            detail: format!("app id {}", client_id.to_ascii_lowercase()),
            credential_count: i.credential_count,
            near_limit: i.credential_count.is_some_and(credential::near_limit),
            tone: Tone::Ok,
            credentials: Vec::new(),
        },
        Some(i) => IdentityBox {
            id: node_id("mi", &[&i.id.to_ascii_lowercase(), &i.name]),
            kind: IdentityKind::ManagedIdentity,
            name: i.name.clone(),
            detail: format!("resource group {}", i.resource_group),
            credential_count: i.credential_count,
            near_limit: i.credential_count.is_some_and(credential::near_limit),
            tone: Tone::Ok,
            credentials: Vec::new(),
        },
        None => {
            let (detail, tone) = match &r.credential {
                CredentialState::NotChecked { reason } if reason != "identity not found" => {
                    (format!("not checked: {reason}"), Tone::Unknown)
                }
                _ => ("matches no identity".to_string(), Tone::Bad),
            };
            let client_id = client_id.to_ascii_lowercase();
            IdentityBox {
                id: node_id("cid", &[&client_id]),
                kind: IdentityKind::Unresolved,
                name: client_id,
                detail,
                credential_count: None,
                near_limit: false,
                tone,
                credentials: Vec::new(),
            }
        }
    })
}

/// The edge of a row, and the credential node it ends at (when one matched, nearly or not).
fn edge(r: &Row, sa: &str, identity: &IdentityBox) -> (Edge, Option<CredentialNode>) {
    let pods = pods_label(&r.pods);
    let cred = |name: &str, tone| CredentialNode {
        id: node_id("fic", &[&identity.id, name]),
        name: name.to_string(),
        tone,
    };
    let (to, tone, label, note, node) = match &r.credential {
        CredentialState::Exact { name, .. } => {
            let c = cred(name, Tone::Ok);
            (c.id.clone(), Tone::Ok, pods, None, Some(c))
        }
        CredentialState::NearMiss { name, differences } => {
            let c = cred(name, Tone::Warn);
            let label = format!("{pods}, near miss");
            (
                c.id.clone(),
                Tone::Warn,
                label,
                Some(differences.join("; ")),
                Some(c),
            )
        }
        CredentialState::Missing => {
            let label = format!("{pods}, no credential");
            (identity.id.clone(), Tone::Bad, label, None, None)
        }
        CredentialState::NotChecked { reason } => {
            let label = format!("{pods}, not checked");
            (
                identity.id.clone(),
                Tone::Unknown,
                label,
                Some(reason.clone()),
                None,
            )
        }
    };
    let e = Edge {
        from: sa.to_string(),
        to,
        tone,
        label,
        note,
    };
    (e, node)
}

/// ServiceAccounts by context and namespace.
type Tree<'a> = BTreeMap<&'a str, BTreeMap<&'a str, Vec<SaNode>>>;

/// The cluster boxes of the tree, each with its issuer and its namespaces' ServiceAccounts sorted.
fn cluster_boxes(tree: Tree<'_>, report: &InspectReport) -> Vec<ClusterBox> {
    tree.into_iter()
        .map(|(ctx, namespaces)| ClusterBox {
            id: node_id("cluster", &[ctx]),
            context: ctx.to_string(),
            issuer: report
                .items
                .iter()
                .find(|r| context_of(r) == ctx)
                .and_then(|r| r.issuer.clone()),
            namespaces: namespaces
                .into_iter()
                .map(|(ns, mut sas)| {
                    sas.sort_by(|a, b| a.name.cmp(&b.name));
                    NamespaceBox {
                        id: node_id("ns", &[ctx, ns]),
                        name: ns.to_string(),
                        service_accounts: sas,
                    }
                })
                .collect(),
        })
        .collect()
}

/// The graph of a report. Rows are sorted by the command already; clusters, identities and
/// credentials are sorted here, so the text does not depend on the order Azure listed them in.
pub fn build(report: &InspectReport) -> Graph {
    let mut tree: Tree = BTreeMap::new();
    let mut identities: BTreeMap<String, IdentityBox> = BTreeMap::new();
    let mut credentials: BTreeMap<String, BTreeMap<String, CredentialNode>> = BTreeMap::new();
    let mut edges = Vec::new();
    for r in &report.items {
        let ctx = context_of(r);
        let sa_id = node_id("sa", &[ctx, &r.namespace, &r.service_account]);
        let tone = if r.ok() { Tone::Ok } else { Tone::Bad };
        tree.entry(ctx)
            .or_default()
            .entry(&r.namespace)
            .or_default()
            .push(SaNode {
                id: sa_id.clone(),
                name: r.service_account.clone(),
                tone,
                note: if !r.exists {
                    Some("does not exist")
                } else if r.client_id.is_none() {
                    Some("no client-id annotation")
                } else {
                    None
                },
            });
        let Some(identity) = identity_box(r) else {
            continue;
        };
        let (e, node) = edge(r, &sa_id, &identity);
        if let Some(n) = node {
            let held = credentials.entry(identity.id.clone()).or_default();
            let entry = held.entry(n.name.clone()).or_insert(n.clone());
            // Exact for one ServiceAccount, a near miss for another: the credential is right
            // (for the first); the second's edge carries the warning.
            entry.tone = entry.tone.min(n.tone);
        }
        identities.entry(identity.id.clone()).or_insert(identity);
        edges.push(e);
    }
    let clusters = cluster_boxes(tree, report);
    let identities = identities
        .into_values()
        .map(|mut i| {
            i.credentials = credentials
                .remove(&i.id)
                .map(|c| c.into_values().collect())
                .unwrap_or_default();
            if i.near_limit && i.tone == Tone::Ok {
                i.tone = Tone::Warn;
            }
            i
        })
        .collect();
    edges.sort();
    Graph {
        clusters,
        identities,
        edges,
    }
}

impl ClusterBox {
    pub fn label(&self) -> String {
        match &self.issuer {
            Some(i) => format!("cluster {}\nissuer {i}", self.context),
            None => format!("cluster {}", self.context),
        }
    }
}

impl SaNode {
    pub fn label(&self) -> String {
        match self.note {
            Some(n) => format!("ServiceAccount\n{}\n({n})", self.name),
            None => format!("ServiceAccount\n{}", self.name),
        }
    }
}

impl IdentityBox {
    /// The box's title: kind and name, resource group, credentials held.
    pub fn label(&self) -> String {
        let mut label = format!("{} {}\n{}", self.kind.title(), self.name, self.detail);
        if let Some(l) = credential_line(self) {
            label.push_str(&format!("\n{l}"));
        }
        label
    }
}

impl CredentialNode {
    pub fn label(&self) -> String {
        format!("federated credential\n{}", self.name)
    }
}

/// "3 of 20 credentials", with the warning when close to the limit.
pub fn credential_line(i: &IdentityBox) -> Option<String> {
    let n = i.credential_count?;
    let max = keys::MAX_FEDERATED_CREDENTIALS;
    Some(if i.near_limit {
        format!("{n} of {max} credentials: near the limit")
    } else {
        format!("{n} of {max} credentials")
    })
}

/// The colours of a tone: (line, fill), light fills that print well.
pub fn colours(t: Tone) -> (&'static str, &'static str) {
    match t {
        Tone::Ok => ("#15803d", "#dcfce7"),
        Tone::Warn => ("#c2410c", "#ffedd5"),
        Tone::Bad => ("#b91c1c", "#fee2e2"),
        Tone::Unknown => ("#6b7280", "#f3f4f6"),
    }
}

#[cfg(test)]
pub(crate) mod tests;
