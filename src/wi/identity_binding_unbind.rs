//! Unbind of an AKS identity binding, pure: what `bind --identity-binding` made comes off in
//! the reverse order, and each shared piece only once nothing else uses it. The ServiceAccount
//! leaves the plugin's ClusterRoleBinding; the binding and its ClusterRole go with the last
//! subject; the ARM binding (one per identity and cluster) goes once no ServiceAccount of the
//! cluster is granted the identity any more; AKS's credential `aks-identity-binding` (one per
//! identity, shared by its bindings in every cluster) goes only once no binding in any cluster
//! still uses the identity: AKS never deletes it itself (docs: identity-bindings §2, from
//! MicrosoftDocs azure-aks-docs identity-bindings-concepts.md).

use serde_json::Value;

use super::{
    credential::Credential,
    identity_binding::{self as ib, ANNOTATION, BindingFact, MANAGED_CREDENTIAL},
    plan::{self, Action, Op, Step, StepKind, WorkloadPlan},
};

/// The workload step: bind's label off (as the classic unbind) and the opt-in annotation bind
/// set; `serviceAccountName` and every other key are left as they are.
pub fn workload_step(w: &WorkloadPlan<'_>, service_account: &str) -> Step {
    let step = plan::workload_step(w, service_account, false);
    // A value the webhook does not take as opting in ("false") is not bind's: left.
    if !ib::opted_in(ib::template_annotation(w)) {
        return step;
    }
    ib::with_template_annotation(
        step,
        w,
        Value::Null,
        format!("remove annotation {ANNOTATION}"),
    )
}

fn describe_subject(s: &Value) -> String {
    let f = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or_default();
    match (f("kind"), f("namespace")) {
        ("ServiceAccount", ns) => format!("serviceaccount {ns}/{}", f("name")),
        (kind, _) => format!("{} {}", kind.to_ascii_lowercase(), f("name")),
    }
}

/// The subjects of the plugin's ClusterRoleBinding other than this ServiceAccount: they keep
/// the grant, and with it the ARM binding.
pub fn other_subjects(role_binding: Option<&Value>, ns: &str, sa: &str) -> Vec<String> {
    let Some(crb) = role_binding.filter(|c| ib::owned(c)) else {
        return Vec::new();
    };
    let this = format!("serviceaccount {ns}/{sa}");
    crb.get("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(describe_subject)
        .filter(|d| *d != this)
        .collect()
}

fn name_of(o: &Value) -> &str {
    o.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Whether a subject can be a pod's identity: a ServiceAccount, or a ServiceAccount group
/// (only pods' ServiceAccount tokens reach the token proxy).
fn pod_subject(s: &Value) -> bool {
    let f = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or_default();
    f("kind") == "ServiceAccount"
        || (f("kind") == "Group" && f("name").starts_with("system:serviceaccounts"))
}

/// ClusterRoleBindings other than the plugin's that grant `use-managed-identity` on this client
/// id to ServiceAccounts, through a ClusterRole naming the client id: the identity stays in use
/// in this cluster. A wildcard role (cluster-admin's `*`) is not a use of this identity.
pub fn other_grants(roles: &[Value], role_bindings: &[Value], client_id: &str) -> Vec<String> {
    let own = ib::rbac_name(client_id);
    let names_it = |r: &Value| {
        ib::grants(r, client_id) && ib::named_resources(r).iter().any(|n| n == client_id)
    };
    role_bindings
        .iter()
        .filter(|b| name_of(b) != own)
        .filter(|b| b.pointer("/roleRef/kind").and_then(Value::as_str) == Some("ClusterRole"))
        .filter(|b| {
            let role = b.pointer("/roleRef/name").and_then(Value::as_str);
            roles
                .iter()
                .any(|r| Some(name_of(r)) == role && names_it(r))
        })
        .filter(|b| {
            b.get("subjects")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(pod_subject))
        })
        .map(|b| format!("clusterrolebinding {}", name_of(b)))
        .collect()
}

/// Other ClusterRoleBindings whose roleRef is the plugin's ClusterRole: deleting the role would
/// break them.
pub fn role_references(role_bindings: &[Value], client_id: &str) -> Vec<String> {
    let own = ib::rbac_name(client_id);
    role_bindings
        .iter()
        .filter(|b| name_of(b) != own)
        .filter(|b| {
            b.pointer("/roleRef/kind").and_then(Value::as_str) == Some("ClusterRole")
                && b.pointer("/roleRef/name").and_then(Value::as_str) == Some(own.as_str())
        })
        .map(|b| format!("clusterrolebinding {}", name_of(b)))
        .collect()
}

/// The ClusterRole goes with its binding's last subject, unless another binding refers to it.
pub fn cluster_role_step(
    role: Option<&Value>,
    client_id: &str,
    subjects_left: &[String],
    references: &[String],
) -> Step {
    let name = ib::rbac_name(client_id);
    let target = format!("clusterrole {name}");
    let keep = |detail: String| {
        Step::noop(
            StepKind::ClusterRole,
            Action::Unchanged,
            target.clone(),
            detail,
        )
    };
    if !role.is_some_and(ib::owned) {
        return keep("none made by kubectl-azwi".into());
    }
    if !subjects_left.is_empty() {
        return keep(format!("kept: {} still bound", subjects_left.join(", ")));
    }
    if !references.is_empty() {
        return keep(format!("kept: {} refer(s) to it", references.join(", ")));
    }
    Step {
        kind: StepKind::ClusterRole,
        action: Action::Delete,
        target,
        detail: "no subject left".into(),
        body: None,
        op: Some(Op::ClusterRole { name }),
    }
}

/// The ARM binding of the identity on this cluster goes once nothing in the cluster is granted
/// the identity any more (`keepers`: who still is). A binding already being deleted is waited for.
pub fn binding_step(
    existing: &[BindingFact],
    identity_id: &str,
    cluster_id: &str,
    keepers: &[String],
) -> Step {
    let Some(b) = existing
        .iter()
        .find(|b| b.identity_id.eq_ignore_ascii_case(identity_id))
    else {
        return Step::noop(
            StepKind::IdentityBinding,
            Action::Unchanged,
            "identity binding".into(),
            "none of this identity on the cluster".into(),
        );
    };
    let target = format!("identity binding {}", b.name);
    if !keepers.is_empty() {
        return Step::noop(
            StepKind::IdentityBinding,
            Action::Unchanged,
            target,
            format!("kept: {} still use(s) the identity", keepers.join(", ")),
        );
    }
    let running = b.state == "Deleting";
    let path = format!(
        "{}/identityBindings/{}",
        cluster_id.trim_end_matches('/'),
        b.name
    );
    Step {
        kind: StepKind::IdentityBinding,
        action: Action::Delete,
        target,
        detail: if running {
            "being deleted already: wait for it".into()
        } else {
            "long-running: polled until it is gone".into()
        },
        body: None,
        op: Some(Op::DeleteIdentityBinding {
            path,
            send: !running,
        }),
    }
}

/// One identity binding of the identity somewhere in the subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingUse {
    /// `rg/cluster`.
    pub cluster: String,
    pub name: String,
}

impl std::fmt::Display for BindingUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "identity binding {} on cluster {}",
            self.name, self.cluster
        )
    }
}

/// What decides AKS's credential: who else uses the identity, and who could not be asked.
pub struct CredentialUse<'a> {
    /// This cluster's binding is kept (other subjects or grants).
    pub kept_here: bool,
    /// Bindings of the identity elsewhere (this cluster's own, being deleted, left out).
    pub elsewhere: &'a [BindingUse],
    /// Clusters whose bindings could not be listed.
    pub unknown: &'a [String],
    pub subscription: &'a str,
}

/// AKS's credential goes only once no binding in any cluster of the subscription uses the identity.
pub fn managed_credential_step(
    identity_name: &str,
    credentials: &[Credential],
    u: &CredentialUse<'_>,
) -> Step {
    let target = format!("federated credential on {identity_name}: {MANAGED_CREDENTIAL}");
    let keep = |detail: String| {
        Step::noop(
            StepKind::FederatedCredential,
            Action::Unchanged,
            target.clone(),
            detail,
        )
    };
    if !ib::has_managed_credential(credentials) {
        return keep("none on the identity".into());
    }
    if u.kept_here {
        return keep("kept: this cluster's identity binding stays".into());
    }
    if !u.elsewhere.is_empty() {
        let names: Vec<String> = u.elsewhere.iter().map(ToString::to_string).collect();
        return keep(format!("kept: still used by {}", names.join(", ")));
    }
    if !u.unknown.is_empty() {
        return keep(format!(
            "kept: the identity bindings of {} could not be listed",
            u.unknown.join(", ")
        ));
    }
    Step {
        kind: StepKind::FederatedCredential,
        action: Action::Delete,
        target,
        detail: format!(
            "AKS's, used by no identity binding in subscription {}",
            u.subscription
        ),
        body: None,
        op: Some(Op::DeleteCredential {
            name: MANAGED_CREDENTIAL.into(),
        }),
    }
}

#[cfg(test)]
#[path = "identity_binding_unbind_tests.rs"]
mod tests;
