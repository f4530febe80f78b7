//! AKS identity bindings, pure: the names and objects a binding needs, and the steps between
//! what a cluster holds and what it needs. One ARM binding maps one user-assigned identity to
//! one cluster; AKS then keeps one credential, `aks-identity-binding`, on the identity for all
//! of its bindings; Kubernetes RBAC (`use-managed-identity` on `cid.wi.aks.azure.com/<client
//! id>`) says which ServiceAccounts may use it; a pod opts in with an annotation (docs:
//! identity-bindings §0-§4: MicrosoftDocs azure-aks-docs identity-bindings*.md, the webhook's
//! v1.6.0 `customTokenEndpoint` flags).

use serde_json::{Value, json};

use super::{
    credential::Credential,
    keys,
    plan::{self, Action, Op, Step, StepKind, WorkloadPlan},
};

/// Pod annotation that asks the webhook for the identity-binding token and proxy settings
/// (`azure.workload.identity/use-<suffix>`, suffix `identity-binding` on AKS and upstream e2e).
pub const ANNOTATION: &str = "azure.workload.identity/use-identity-binding";
/// Audience of the projected token on this path (azure-sdk-for-js TROUBLESHOOTING.md).
pub const AUDIENCE: &str = "api://AKSIdentityBinding";
/// The one credential AKS writes on the identity, shared by all its bindings.
pub const MANAGED_CREDENTIAL: &str = "aks-identity-binding";
/// Its issuer's prefix: `https://ib.oic.prod-aks.azure.com/<tenant>/<client id>`.
pub const ISSUER_PREFIX: &str = "https://ib.oic.prod-aks.azure.com/";
/// The RBAC group and verb the token proxy authorises with; the resource is the client id.
pub const API_GROUP: &str = "cid.wi.aks.azure.com";
pub const VERB: &str = "use-managed-identity";
/// The variables the webhook adds for this path (pkg/webhook/consts.go, v1.6.0).
pub const ENV_TOKEN_PROXY: &str = "AZURE_KUBERNETES_TOKEN_PROXY";
pub const ENV_SNI_NAME: &str = "AZURE_KUBERNETES_SNI_NAME";
pub const ENV_CA_FILE: &str = "AZURE_KUBERNETES_CA_FILE";
pub const ENV_CA_DATA: &str = "AZURE_KUBERNETES_CA_DATA";
/// Label on the ClusterRole and ClusterRoleBinding the plugin owns; its value is the client id.
pub const OWNER_LABEL: &str = "kubectl-azwi/identity-binding";

/// Whether a pod annotation value opts in (the webhook compares case-insensitively with "true").
pub fn opted_in(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `identityBindingName` in the 2026-04-01 spec: `^[a-z][a-z0-9]{0,63}$`, at most 63 long.
pub fn is_binding_name(n: &str) -> bool {
    let mut chars = n.chars();
    n.len() <= 63
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// A conforming binding name for an identity: its name's letters and digits, then 8 hex of its
/// resource id, so two identities of one name (two resource groups) never share a name.
pub fn binding_name(identity_name: &str, identity_id: &str) -> String {
    let mut base: String = identity_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(40)
        .collect();
    if !base.starts_with(|c: char| c.is_ascii_lowercase()) {
        base.insert_str(0, "ib");
    }
    let hash = super::names::fnv1a64(identity_id.to_ascii_lowercase().as_bytes());
    format!("{base}{:08x}", hash as u32)
}

/// Name of the ClusterRole and ClusterRoleBinding for one identity.
pub fn rbac_name(client_id: &str) -> String {
    format!("azwi-use-mi-{}", client_id.to_ascii_lowercase())
}

fn owner_labels(client_id: &str) -> Value {
    json!({ OWNER_LABEL: client_id.to_ascii_lowercase() })
}

/// Whether an object carries the plugin's label (so the plugin may change it).
pub fn owned(obj: &Value) -> bool {
    obj.pointer("/metadata/labels")
        .and_then(|l| l.get(OWNER_LABEL))
        .is_some()
}

pub fn cluster_role(client_id: &str) -> Value {
    let r = json!({"apiGroups": [API_GROUP], "resources": [client_id], "verbs": [VERB]});
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": rbac_name(client_id), "labels": owner_labels(client_id)},
        "rules": [r],
    })
}

fn has(list: Option<&Value>, want: &str) -> bool {
    list.and_then(Value::as_array).is_some_and(|l| {
        l.iter()
            .filter_map(Value::as_str)
            .any(|s| s == "*" || s == want)
    })
}

/// Whether a (Cluster)Role's rules allow `use-managed-identity` on this client id. The
/// resource is the client id exactly: a principal (object) id grants nothing.
pub fn grants(role: &Value, client_id: &str) -> bool {
    role.get("rules")
        .and_then(Value::as_array)
        .is_some_and(|rules| {
            rules.iter().any(|r| {
                has(r.get("apiGroups"), API_GROUP)
                    && has(r.get("resources"), client_id)
                    && has(r.get("verbs"), VERB)
            })
        })
}

/// The resources of rules naming the identity-binding group (to say what a role names instead).
pub fn named_resources(role: &Value) -> Vec<String> {
    role.get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| has(r.get("apiGroups"), API_GROUP))
        .flat_map(|r| r.get("resources").and_then(Value::as_array).cloned())
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// An object named like the plugin's that the plugin did not make: left alone, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotOurs {
    pub kind: &'static str,
    pub name: String,
}

pub fn cluster_role_step(existing: Option<&Value>, client_id: &str) -> Result<Step, NotOurs> {
    let name = rbac_name(client_id);
    let target = format!("clusterrole {name}");
    let wanted = cluster_role(client_id);
    let step = |action, detail: &str, body| Step {
        kind: StepKind::ClusterRole,
        action,
        target: target.clone(),
        detail: detail.to_string(),
        body,
        op: Some(Op::ClusterRole { name: name.clone() }),
    };
    let Some(cur) = existing else {
        return Ok(step(
            Action::Create,
            &format!("{VERB} on {API_GROUP}/{client_id}"),
            Some(wanted),
        ));
    };
    if !owned(cur) {
        return Err(NotOurs {
            kind: "clusterrole",
            name,
        });
    }
    if cur.get("rules") == wanted.get("rules") {
        return Ok(Step::noop(
            StepKind::ClusterRole,
            Action::Unchanged,
            target,
            format!("already grants {VERB} on {API_GROUP}/{client_id}"),
        ));
    }
    // The rules are the plugin's: put them back, guarded by the version read.
    let patch = json!({
        "metadata": {"resourceVersion": cur.pointer("/metadata/resourceVersion")},
        "rules": wanted["rules"],
    });
    Ok(step(
        Action::Update,
        &format!("rules reset to {VERB} on {API_GROUP}/{client_id}"),
        Some(patch),
    ))
}

fn sa_subject(ns: &str, sa: &str) -> Value {
    json!({"kind": "ServiceAccount", "name": sa, "namespace": ns})
}

/// Whether a subject list names this ServiceAccount (directly, or through its groups).
pub fn names_service_account(subjects: Option<&Value>, ns: &str, sa: &str) -> bool {
    let groups = [
        "system:serviceaccounts".to_string(),
        format!("system:serviceaccounts:{ns}"),
    ];
    subjects.and_then(Value::as_array).is_some_and(|l| {
        l.iter().any(|s| {
            let field = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or_default();
            match field("kind") {
                "ServiceAccount" => field("name") == sa && field("namespace") == ns,
                "Group" => groups.iter().any(|g| g == field("name")),
                "User" => field("name") == super::names::subject(ns, sa),
                _ => false,
            }
        })
    })
}

pub fn cluster_role_binding_step(
    existing: Option<&Value>,
    client_id: &str,
    ns: &str,
    sa: &str,
) -> Result<Step, NotOurs> {
    let name = rbac_name(client_id);
    let target = format!("clusterrolebinding {name}");
    let who = format!("serviceaccount {ns}/{sa}");
    let step = |action, detail: String, body| Step {
        kind: StepKind::ClusterRoleBinding,
        action,
        target: target.clone(),
        detail,
        body,
        op: Some(Op::ClusterRoleBinding { name: name.clone() }),
    };
    let Some(cur) = existing else {
        let body = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": owner_labels(client_id)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [sa_subject(ns, sa)],
        });
        return Ok(step(Action::Create, format!("subject {who}"), Some(body)));
    };
    if !owned(cur) {
        return Err(NotOurs {
            kind: "clusterrolebinding",
            name,
        });
    }
    if names_service_account(cur.get("subjects"), ns, sa) {
        return Ok(Step::noop(
            StepKind::ClusterRoleBinding,
            Action::Unchanged,
            target,
            format!("{who} is a subject already"),
        ));
    }
    // A merge patch replaces the whole list: the others are sent back as read, and the
    // resourceVersion makes a concurrent change fail instead of being lost.
    let mut subjects = cur
        .get("subjects")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    subjects.push(sa_subject(ns, sa));
    let kept = subjects.len() - 1;
    let patch = json!({
        "metadata": {"resourceVersion": cur.pointer("/metadata/resourceVersion")},
        "subjects": subjects,
    });
    Ok(step(
        Action::Update,
        format!("add subject {who} ({kept} other subject(s) kept)"),
        Some(patch),
    ))
}

/// Unbind's subject removal: the ServiceAccount taken out of the plugin's binding; the whole
/// binding and role deleted when it was the last subject.
pub fn cluster_role_binding_unbind_step(
    existing: Option<&Value>,
    client_id: &str,
    ns: &str,
    sa: &str,
) -> Step {
    let name = rbac_name(client_id);
    let target = format!("clusterrolebinding {name}");
    let Some(cur) = existing.filter(|c| owned(c)) else {
        return Step::noop(
            StepKind::ClusterRoleBinding,
            Action::Unchanged,
            target,
            "none made by kubectl-azwi".into(),
        );
    };
    let all = cur
        .get("subjects")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let is_this = |s: &Value| {
        s.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
            && s.get("name").and_then(Value::as_str) == Some(sa)
            && s.get("namespace").and_then(Value::as_str) == Some(ns)
    };
    let rest: Vec<Value> = all.iter().filter(|s| !is_this(s)).cloned().collect();
    let op = Some(Op::ClusterRoleBinding { name: name.clone() });
    if rest.len() == all.len() {
        return Step::noop(
            StepKind::ClusterRoleBinding,
            Action::Unchanged,
            target,
            format!("serviceaccount {ns}/{sa} is not a subject"),
        );
    }
    if rest.is_empty() {
        return Step {
            kind: StepKind::ClusterRoleBinding,
            action: Action::Delete,
            target,
            detail: format!("serviceaccount {ns}/{sa} was its only subject"),
            body: None,
            op,
        };
    }
    Step {
        kind: StepKind::ClusterRoleBinding,
        action: Action::Update,
        target,
        detail: format!(
            "remove subject serviceaccount {ns}/{sa} ({} other subject(s) kept)",
            rest.len()
        ),
        body: Some(json!({
            "metadata": {"resourceVersion": cur.pointer("/metadata/resourceVersion")},
            "subjects": rest,
        })),
        op,
    }
}

/// The workload step of this path: bind's label and ServiceAccount, plus the pod annotation.
pub fn workload_step(w: &WorkloadPlan<'_>, service_account: &str) -> Step {
    let step = plan::workload_step(w, service_account, true);
    if opted_in(template_annotation(w)) {
        return step;
    }
    with_template_annotation(
        step,
        w,
        json!("true"),
        format!("annotation {ANNOTATION}=true"),
    )
}

/// The opt-in annotation on the workload's pod template, as it reads now.
pub fn template_annotation<'a>(w: &WorkloadPlan<'a>) -> Option<&'a str> {
    w.template
        .and_then(|t| t.pointer("/metadata/annotations"))
        .and_then(|a| a.get(ANNOTATION))
        .and_then(Value::as_str)
}

/// `step` (bind's or unbind's workload step) with the opt-in annotation set to `value` (null
/// removes it) in the same merge patch as the label: one patch, one rollout.
pub fn with_template_annotation(
    mut step: Step,
    w: &WorkloadPlan<'_>,
    value: Value,
    what: String,
) -> Step {
    let mut body = step.body.take().unwrap_or_else(|| json!({}));
    let tpl = plan::template_path(w.target.kind)
        .iter()
        .fold(&mut body, |v, k| {
            if v.get(*k).is_none() {
                v[*k] = json!({});
            }
            &mut v[*k]
        });
    tpl["metadata"]["annotations"][ANNOTATION] = value;
    step.detail = if step.action == Action::Unchanged {
        format!("{what} ({})", w.rollout.words(w.target, w.namespace))
    } else {
        format!("{what}, {}", step.detail)
    };
    step.action = Action::Update;
    step.op = Some(Op::Workload(w.target.clone()));
    step.body = Some(body);
    step
}

/// Whether the identity holds AKS's credential.
pub fn has_managed_credential(credentials: &[Credential]) -> bool {
    credentials
        .iter()
        .any(|c| c.name.eq_ignore_ascii_case(MANAGED_CREDENTIAL))
}

/// Whether AKS's credential fits on the identity: it is there, or one of the 20 slots is free.
pub fn credential_room(credentials: &[Credential]) -> Result<bool, Vec<String>> {
    if has_managed_credential(credentials) {
        return Ok(true);
    }
    if credentials.len() >= keys::MAX_FEDERATED_CREDENTIALS {
        return Err(credentials.iter().map(Credential::describe).collect());
    }
    Ok(false)
}

/// Why identity bindings cannot serve this AKS cluster, read from its ARM resource: API server
/// VNet integration is not supported (identity-bindings-concepts.md, Limitations).
pub fn cluster_refusal(managed_cluster: &Value) -> Option<String> {
    let vnet = managed_cluster
        .pointer("/properties/apiServerAccessProfile/enableVnetIntegration")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    vnet.then(|| {
        "an AKS cluster without API server VNet integration (identity bindings do not support it)"
            .to_string()
    })
}

/// The only writable part of a binding in GA: the identity, create-only. The plan shows it and
/// bind sends it.
pub fn binding_body(identity_id: &str) -> Value {
    json!({"properties": {"managedIdentity": {"resourceId": identity_id}}})
}

/// What to do about an existing ARM binding of the identity on this cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingFact {
    pub name: String,
    pub identity_id: String,
    pub state: String,
}

/// The binding step: reuse the identity's binding when one exists (whatever its name), put
/// it again when it ended Failed or Canceled, or when AKS's credential is gone from the
/// identity (a PUT has AKS write it again), otherwise create one under `name`.
pub fn binding_step(
    existing: &[BindingFact],
    identity_id: &str,
    cluster_id: &str,
    name: &str,
    credential_present: bool,
) -> Step {
    let mine = existing
        .iter()
        .find(|b| b.identity_id.eq_ignore_ascii_case(identity_id));
    let (name, action, detail, put) = match mine {
        Some(b) if b.state == "Succeeded" && !credential_present => (
            b.name.as_str(),
            Action::Update,
            format!("AKS's credential {MANAGED_CREDENTIAL} is gone from the identity: put again"),
            true,
        ),
        Some(b) if b.state == "Succeeded" => {
            let target = format!("identity binding {}", b.name);
            return Step::noop(
                StepKind::IdentityBinding,
                Action::Unchanged,
                target,
                "Succeeded".into(),
            );
        }
        Some(b) if matches!(b.state.as_str(), "Failed" | "Canceled") => (
            b.name.as_str(),
            Action::Update,
            format!("it is {}: put again", b.state),
            true,
        ),
        Some(b) => (
            b.name.as_str(),
            Action::Update,
            format!("it is {}: wait for it", b.state),
            false,
        ),
        None => (
            name,
            Action::Create,
            "long-running: polled until it ends".into(),
            true,
        ),
    };
    let path = format!(
        "{}/identityBindings/{name}",
        cluster_id.trim_end_matches('/')
    );
    Step {
        kind: StepKind::IdentityBinding,
        action,
        target: format!("identity binding {name}"),
        detail,
        body: Some(binding_body(identity_id)),
        op: Some(Op::IdentityBinding { path, put }),
    }
}

/// The first SDK versions whose WorkloadIdentityCredential can send its token request
/// through the proxy, and the opt-in each names (docs: identity-bindings §5: the SDKs'
/// changelogs; Go's option is in betas only).
pub const SDK_OPT_IN: &str = "Python azure-identity >= 1.27.0 (enable_azure_proxy=True); Go azidentity >= 1.13.0-beta.1, betas only (EnableAzureProxy); .NET Azure.Identity >= 1.18.0-beta.2 (IsAzureProxyEnabled); Java azure-identity >= 1.19.0-beta.2 (enableAzureProxy()); JS @azure/identity >= 4.14.0-beta.1 (enableAzureProxy); Rust azure_identity >= 1.1.0-beta.1 (enable_proxy: true); only on WorkloadIdentityCredential, not DefaultAzureCredential";

/// An Entra refusal that means the app sent its identity-binding token straight to Entra: an
/// SDK without the proxy opt-in (AADSTS700211 no credential for the cluster issuer, or
/// AADSTS700212 naming the api://AKSIdentityBinding audience; azure-sdk-for-js
/// sdk/identity/identity/TROUBLESHOOTING.md lists both).
pub fn sdk_without_proxy(
    code: u32,
    description: &str,
    token_audience: Option<&str>,
) -> Option<String> {
    let ours = description.contains(AUDIENCE) || token_audience == Some(AUDIENCE);
    (matches!(code, 700211 | 700212) && ours).then(|| {
        format!(
            "the token (audience {AUDIENCE}) went straight to Entra: the app's SDK does not use the AKS token proxy; opt in on WorkloadIdentityCredential with an SDK that has the option: {SDK_OPT_IN}"
        )
    })
}

#[cfg(test)]
#[path = "identity_binding_tests.rs"]
mod tests;
