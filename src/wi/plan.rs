//! Bind and unbind as data: what is observed, what is wanted, and the steps between them.
//! `--dry-run` prints this plan; a real run executes exactly these steps.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::{
    credential::{Credential, Wanted},
    keys,
    target::{Kind, Target},
    workload::Rollout,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    Create,
    Update,
    Delete,
    Unchanged,
    Skipped,
}

impl Action {
    pub fn writes(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete)
    }

    /// The past tense, for the report of a real run.
    pub fn done(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Delete => "deleted",
            Action::Unchanged => "unchanged",
            Action::Skipped => "skipped",
        }
    }

    /// The future tense, for a dry run.
    pub fn planned(self) -> &'static str {
        match self {
            Action::Create => "would create",
            Action::Update => "would update",
            Action::Delete => "would delete",
            Action::Unchanged => "unchanged",
            Action::Skipped => "skipped",
        }
    }
}

/// One step of a plan: what, on which object, why, and the exact body it writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub kind: StepKind,
    pub action: Action,
    pub target: String,
    pub detail: String,
    /// Kubernetes object or patch, or ARM request body, exactly as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// What a real run does for this step, with its own data (never parsed back out of
    /// `target`, never paired with another list by position).
    #[serde(skip)]
    pub op: Option<Op>,
}

/// The write behind a step, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    CreateIdentity {
        location: String,
    },
    DeleteIdentity {
        id: String,
    },
    PutCredential {
        name: String,
    },
    DeleteCredential {
        name: String,
    },
    /// One role at one scope; the principal is the bound identity's (a new one's only at apply).
    AssignRole {
        scope: String,
        role_definition_id: String,
    },
    DeleteRoleAssignment {
        id: String,
    },
    ServiceAccount,
    Workload(Target),
    /// A Microsoft Graph write of an application-backed binding.
    App(super::app_plan::AppOp),
    /// An AKS identity binding: PUT and wait (`put`), or only wait for one already running.
    IdentityBinding {
        path: String,
        put: bool,
    },
    ClusterRole {
        name: String,
    },
    ClusterRoleBinding {
        name: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StepKind {
    Identity,
    Application,
    ServicePrincipal,
    FederatedCredential,
    RoleAssignment,
    ServiceAccount,
    Workload,
    IdentityBinding,
    ClusterRole,
    ClusterRoleBinding,
}

/// What bind wants of the tenant-id annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantAnnotation {
    /// Absent, or already the identity's tenant: left as it is.
    Leave,
    Set(String),
    Remove,
}

/// The webhook uses the tenant-id annotation whenever the key exists, even empty, and the
/// cluster's tenant only without it (azure-workload-identity v1.6.0, pkg/webhook/webhook.go,
/// `getTenantID`). So a key naming another tenant must go (pods would get AADSTS700016): it is
/// removed when the webhook's tenant is the identity's, and set to the identity's otherwise (or
/// when the webhook's is unknown: then being explicit is the safe side).
pub fn tenant_annotation(
    identity_tenant: Option<&str>,
    webhook_tenant: Option<&str>,
    current: Option<&str>,
) -> TenantAnnotation {
    let Some(t) = identity_tenant else {
        return TenantAnnotation::Leave;
    };
    let same = |other: Option<&str>| other.is_some_and(|o| o.eq_ignore_ascii_case(t));
    match (same(current), same(webhook_tenant), current.is_some()) {
        (true, _, _) => TenantAnnotation::Leave,
        (false, true, true) => TenantAnnotation::Remove,
        (false, true, false) => TenantAnnotation::Leave,
        (false, false, _) => TenantAnnotation::Set(t.to_string()),
    }
}

/// The annotations bind owns on the ServiceAccount: `Some` = this value, `None` = removed.
pub fn owned_annotations(
    client_id: &str,
    tenant: TenantAnnotation,
    expiration_secs: Option<i64>,
) -> BTreeMap<&'static str, Option<String>> {
    let mut out = BTreeMap::new();
    out.insert(keys::CLIENT_ID_ANNOTATION, Some(client_id.to_string()));
    match tenant {
        TenantAnnotation::Leave => {}
        TenantAnnotation::Set(t) => {
            out.insert(keys::TENANT_ID_ANNOTATION, Some(t));
        }
        TenantAnnotation::Remove => {
            out.insert(keys::TENANT_ID_ANNOTATION, None);
        }
    }
    if let Some(e) = expiration_secs {
        out.insert(keys::TOKEN_EXPIRATION_ANNOTATION, Some(e.to_string()));
    }
    out
}

/// The ServiceAccount step: create it, merge-patch only the owned annotations that differ
/// (null removes one), or nothing.
pub fn service_account_step(
    namespace: &str,
    name: &str,
    existing: Option<&BTreeMap<String, String>>,
    wanted: &BTreeMap<&'static str, Option<String>>,
) -> Step {
    let target = format!("serviceaccount {namespace}/{name}");
    let step = |action, detail: String, body| Step {
        kind: StepKind::ServiceAccount,
        action,
        target: target.clone(),
        detail,
        body,
        op: Some(Op::ServiceAccount),
    };
    let Some(current) = existing else {
        let set: BTreeMap<&str, &String> = wanted
            .iter()
            .filter_map(|(k, v)| Some((*k, v.as_ref()?)))
            .collect();
        let body = json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace, "annotations": set},
        });
        return step(
            Action::Create,
            "with the workload-identity annotations".into(),
            Some(body),
        );
    };
    let changed: BTreeMap<&str, &Option<String>> = wanted
        .iter()
        .filter(|(k, v)| match v {
            Some(v) => current.get(**k) != Some(v),
            None => current.contains_key(**k),
        })
        .map(|(k, v)| (*k, v))
        .collect();
    if changed.is_empty() {
        return step(Action::Unchanged, "annotations already set".into(), None);
    }
    let list = |set: bool| {
        changed
            .iter()
            .filter(|(_, v)| v.is_some() == set)
            .map(|(k, v)| match (v, current.get(*k)) {
                (None, Some(old)) => format!("{k} (was '{old}')"),
                _ => k.to_string(),
            })
            .collect::<Vec<_>>()
    };
    let detail = [("set", list(true)), ("remove", list(false))]
        .into_iter()
        .filter(|(_, l)| !l.is_empty())
        .map(|(verb, l)| format!("{verb} {}", l.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    step(
        Action::Update,
        detail,
        Some(json!({"metadata": {"annotations": changed}})),
    )
}

impl Step {
    /// A step that writes nothing.
    pub fn noop(kind: StepKind, action: Action, target: String, detail: String) -> Step {
        Step {
            kind,
            action,
            target,
            detail,
            body: None,
            op: None,
        }
    }
}

/// Unbind's ServiceAccount step: remove the owned annotations that are present (null in a merge patch).
pub fn service_account_unbind_step(
    namespace: &str,
    name: &str,
    existing: Option<&BTreeMap<String, String>>,
    client_id: Option<&str>,
) -> Step {
    let target = format!("serviceaccount {namespace}/{name}");
    let noop = |action, detail: String| {
        Step::noop(StepKind::ServiceAccount, action, target.clone(), detail)
    };
    let Some(current) = existing else {
        return noop(Action::Unchanged, "not found".into());
    };
    if let (Some(want), Some(have)) = (client_id, current.get(keys::CLIENT_ID_ANNOTATION))
        && want != have
    {
        return noop(
            Action::Skipped,
            format!("annotated with another client id ({have}): left as is"),
        );
    }
    let present: Vec<&str> = [
        keys::CLIENT_ID_ANNOTATION,
        keys::TENANT_ID_ANNOTATION,
        keys::TOKEN_EXPIRATION_ANNOTATION,
    ]
    .into_iter()
    .filter(|k| current.contains_key(*k))
    .collect();
    if present.is_empty() {
        return noop(Action::Unchanged, "no workload-identity annotations".into());
    }
    let nulls: serde_json::Map<String, Value> = present
        .iter()
        .map(|k| (k.to_string(), Value::Null))
        .collect();
    Step {
        kind: StepKind::ServiceAccount,
        action: Action::Update,
        target,
        detail: format!("remove {}", present.join(", ")),
        body: Some(json!({"metadata": {"annotations": nulls}})),
        op: Some(Op::ServiceAccount),
    }
}

/// Why a federated credential cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialRefusal {
    /// The identity holds the maximum already: each of them, described.
    Full(Vec<String>),
    /// The name belongs to a credential with another issuer or subject: a PUT would replace
    /// another binding (another cluster's, another service account's) with this one.
    NameTaken(Credential),
}

/// The federated credential step: nothing if one already matches exactly, else create.
pub fn credential_step(
    identity: &str,
    existing: &[Credential],
    want: &Wanted,
    name: &str,
) -> Result<Step, CredentialRefusal> {
    let target = format!("federated credential on {identity}");
    if let Some(c) = existing.iter().find(|c| {
        c.issuer == want.issuer
            && c.subject == want.subject
            && c.audiences == [want.audience.clone()]
    }) {
        return Ok(Step::noop(
            StepKind::FederatedCredential,
            Action::Unchanged,
            format!("{target}: {}", c.name),
            "issuer, subject and audience already match".into(),
        ));
    }
    // ARM names are case-insensitive: the same name is the same credential.
    let same_name = existing.iter().find(|c| c.name.eq_ignore_ascii_case(name));
    let replacing = match same_name {
        // This binding's own credential with another audience: put it right.
        Some(c) if c.issuer == want.issuer && c.subject == want.subject => true,
        Some(c) => return Err(CredentialRefusal::NameTaken(c.clone())),
        None => false,
    };
    if !replacing && existing.len() >= keys::MAX_FEDERATED_CREDENTIALS {
        return Err(CredentialRefusal::Full(
            existing.iter().map(Credential::describe).collect(),
        ));
    }
    Ok(Step {
        kind: StepKind::FederatedCredential,
        action: if replacing {
            Action::Update
        } else {
            Action::Create
        },
        target: format!("{target}: {name}"),
        detail: format!("issuer {} subject {}", want.issuer, want.subject),
        body: Some(
            json!({"properties": {"issuer": want.issuer, "subject": want.subject, "audiences": [want.audience]}}),
        ),
        op: Some(Op::PutCredential {
            name: name.to_string(),
        }),
    })
}

/// Unbind's credential step: delete every credential that matches exactly.
pub fn credential_unbind_steps(
    identity: &str,
    existing: &[Credential],
    want: &Wanted,
) -> Vec<Step> {
    credential_delete_steps(
        identity,
        existing,
        want,
        |c| c,
        |c| Op::DeleteCredential {
            name: c.name.clone(),
        },
    )
}

/// A delete step for each of `owner`'s credentials with exactly this issuer and subject (or
/// one unchanged step saying there is none); `op` is how its owner's API deletes one.
pub fn credential_delete_steps<T>(
    owner: &str,
    existing: &[T],
    want: &Wanted,
    credential: impl Fn(&T) -> &Credential,
    op: impl Fn(&T) -> Op,
) -> Vec<Step> {
    let matching: Vec<&T> = existing
        .iter()
        .filter(|c| credential(c).issuer == want.issuer && credential(c).subject == want.subject)
        .collect();
    if matching.is_empty() {
        return vec![Step::noop(
            StepKind::FederatedCredential,
            Action::Unchanged,
            format!("federated credential on {owner}"),
            format!("none for issuer {} subject {}", want.issuer, want.subject),
        )];
    }
    matching
        .into_iter()
        .map(|c| Step {
            kind: StepKind::FederatedCredential,
            action: Action::Delete,
            target: format!("federated credential on {owner}: {}", credential(c).name),
            detail: format!("issuer {} subject {}", want.issuer, want.subject),
            body: None,
            op: Some(op(c)),
        })
        .collect()
}

/// Where a workload kind keeps its pod template.
pub fn template_path(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::CronJob => &["spec", "jobTemplate", "spec", "template"],
        _ => &["spec", "template"],
    }
}

fn nest(path: &[&str], leaf: Value) -> Value {
    path.iter()
        .rev()
        .fold(leaf, |acc, key| json!({ *key: acc }))
}

/// One `--workload` as the plan needs it: which, its pod template, and how its pods take a change.
pub struct WorkloadPlan<'a> {
    pub target: &'a Target,
    pub namespace: &'a str,
    pub template: Option<&'a Value>,
    pub rollout: &'a Rollout,
}

/// The workload step: label the pod template and point it at the ServiceAccount (bind), or
/// take the label off (unbind).
pub fn workload_step(w: &WorkloadPlan<'_>, service_account: &str, bind: bool) -> Step {
    let label = w.template.and_then(|t| {
        t.pointer(&format!(
            "/metadata/labels/{}",
            keys::USE_LABEL.replace('/', "~1")
        ))
    });
    let sa = w
        .template
        .and_then(|t| t.pointer("/spec/serviceAccountName"))
        .and_then(Value::as_str)
        .unwrap_or("default");
    let path = template_path(w.target.kind);
    let rollout = w.rollout.words(w.target, w.namespace);
    let (action, detail, patch) = if bind {
        let label_ok = label.and_then(Value::as_str) == Some("true");
        let sa_ok = sa == service_account;
        if label_ok && sa_ok {
            (
                Action::Unchanged,
                "pod template already labelled and using the service account".to_string(),
                None,
            )
        } else {
            let leaf = json!({"metadata": {"labels": {keys::USE_LABEL: "true"}}, "spec": {"serviceAccountName": service_account}});
            let mut what = Vec::new();
            if !label_ok {
                what.push(format!("label {}=true", keys::USE_LABEL));
            }
            if !sa_ok {
                what.push(format!("serviceAccountName {sa} -> {service_account}"));
            }
            (
                Action::Update,
                format!("{} ({rollout})", what.join(", ")),
                Some(nest(path, leaf)),
            )
        }
    } else if label.is_some() {
        let leaf = json!({"metadata": {"labels": {keys::USE_LABEL: Value::Null}}});
        (
            Action::Update,
            format!("remove label {} ({rollout})", keys::USE_LABEL),
            Some(nest(path, leaf)),
        )
    } else {
        (Action::Unchanged, "pod template not labelled".into(), None)
    };
    Step {
        kind: StepKind::Workload,
        action,
        target: w.target.to_string(),
        detail,
        op: patch.as_ref().map(|_| Op::Workload(w.target.clone())),
        body: patch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn service_account_create_update_unchanged() {
        let wanted = owned_annotations("c1", TenantAnnotation::Set("t1".into()), None);
        let s = service_account_step("ns", "sa", None, &wanted);
        assert_eq!(s.action, Action::Create);
        assert_eq!(
            s.body.as_ref().unwrap()["metadata"]["annotations"][keys::CLIENT_ID_ANNOTATION],
            "c1"
        );

        let other = ann(&[("team", "x"), (keys::CLIENT_ID_ANNOTATION, "old")]);
        let s = service_account_step("ns", "sa", Some(&other), &wanted);
        assert_eq!(s.action, Action::Update);
        let patch = &s.body.unwrap()["metadata"]["annotations"];
        assert_eq!(patch[keys::CLIENT_ID_ANNOTATION], "c1");
        assert_eq!(patch[keys::TENANT_ID_ANNOTATION], "t1");
        assert!(
            patch.get("team").is_none(),
            "the patch touches only owned keys"
        );

        let done = ann(&[
            ("team", "x"),
            (keys::CLIENT_ID_ANNOTATION, "c1"),
            (keys::TENANT_ID_ANNOTATION, "t1"),
        ]);
        assert_eq!(
            service_account_step("ns", "sa", Some(&done), &wanted).action,
            Action::Unchanged
        );
    }

    #[test]
    fn a_tenant_annotation_naming_another_tenant_is_corrected_or_removed() {
        use TenantAnnotation::*;
        // The webhook's tenant is the identity's: a stray key (even empty) goes, absent stays absent.
        assert_eq!(
            tenant_annotation(Some("T"), Some("t"), Some("other")),
            Remove
        );
        assert_eq!(tenant_annotation(Some("T"), Some("t"), Some("")), Remove);
        assert_eq!(tenant_annotation(Some("T"), Some("t"), None), Leave);
        assert_eq!(tenant_annotation(Some("T"), Some("t"), Some("t")), Leave);
        // Another or an unknown webhook tenant: the identity's is written.
        assert_eq!(
            tenant_annotation(Some("a"), Some("b"), None),
            Set("a".into())
        );
        assert_eq!(
            tenant_annotation(Some("a"), Some("b"), Some("c")),
            Set("a".into())
        );
        assert_eq!(tenant_annotation(Some("a"), None, None), Set("a".into()));
        assert_eq!(tenant_annotation(None, None, Some("x")), Leave);

        let cur = ann(&[
            (keys::CLIENT_ID_ANNOTATION, "c1"),
            (keys::TENANT_ID_ANNOTATION, "other"),
        ]);
        let s = service_account_step(
            "ns",
            "sa",
            Some(&cur),
            &owned_annotations("c1", Remove, None),
        );
        assert_eq!(s.action, Action::Update);
        assert!(
            s.detail
                .contains("remove azure.workload.identity/tenant-id (was 'other')"),
            "{}",
            s.detail
        );
        let patch = &s.body.unwrap()["metadata"]["annotations"];
        assert!(patch[keys::TENANT_ID_ANNOTATION].is_null());
        assert!(
            patch.get(keys::CLIENT_ID_ANNOTATION).is_none(),
            "unchanged keys are not sent"
        );
    }

    #[test]
    fn unbind_removes_only_owned_annotations_of_this_identity() {
        let cur = ann(&[
            ("team", "x"),
            (keys::CLIENT_ID_ANNOTATION, "c1"),
            (keys::TENANT_ID_ANNOTATION, "t1"),
        ]);
        let s = service_account_unbind_step("ns", "sa", Some(&cur), Some("c1"));
        assert_eq!(s.action, Action::Update);
        let patch = &s.body.unwrap()["metadata"]["annotations"];
        assert!(
            patch[keys::CLIENT_ID_ANNOTATION].is_null()
                && patch[keys::TENANT_ID_ANNOTATION].is_null()
        );
        assert!(patch.get("team").is_none());
        assert_eq!(
            service_account_unbind_step("ns", "sa", Some(&cur), Some("c2")).action,
            Action::Skipped
        );
        assert_eq!(
            service_account_unbind_step("ns", "sa", Some(&ann(&[("team", "x")])), None).action,
            Action::Unchanged
        );
    }

    fn cred(name: &str, iss: &str, sub: &str) -> Credential {
        Credential {
            name: name.into(),
            issuer: iss.into(),
            subject: sub.into(),
            audiences: vec![keys::AUDIENCE.into()],
        }
    }
    fn want(iss: &str) -> Wanted {
        Wanted {
            issuer: iss.into(),
            subject: "system:serviceaccount:ns:sa".into(),
            audience: keys::AUDIENCE.into(),
        }
    }

    #[test]
    fn credential_is_created_once() {
        let s = credential_step("id", &[], &want("https://i/"), "azwi-x").unwrap();
        assert_eq!(s.action, Action::Create);
        assert_eq!(
            s.body.unwrap()["properties"]["audiences"][0],
            keys::AUDIENCE
        );
        let existing = [cred("mine", "https://i/", "system:serviceaccount:ns:sa")];
        assert_eq!(
            credential_step("id", &existing, &want("https://i/"), "azwi-x")
                .unwrap()
                .action,
            Action::Unchanged
        );
        // A trailing-slash near miss is not a match: a new, exact credential is made.
        assert_eq!(
            credential_step("id", &existing, &want("https://i"), "azwi-x")
                .unwrap()
                .action,
            Action::Create
        );
    }

    #[test]
    fn twenty_credentials_stop_bind_with_the_list() {
        let mut full: Vec<Credential> = (0..19)
            .map(|i| cred(&format!("c{i}"), "https://o/", &format!("s{i}")))
            .collect();
        // A flexible credential counts towards the 20 like any other.
        full.push(cred(
            "gh-flex",
            "https://token.actions.githubusercontent.com",
            "",
        ));
        let Err(CredentialRefusal::Full(listed)) =
            credential_step("id", &full, &want("https://i/"), "azwi-x")
        else {
            panic!("full")
        };
        assert_eq!(listed.len(), 20);
        assert_eq!(listed[0], "c0 (https://o/, s0)");
        assert!(listed[19].contains("gh-flex") && listed[19].contains("flexible"));
    }

    #[test]
    fn a_name_used_by_another_binding_is_refused_not_replaced() {
        let other = cred(
            "shared",
            "https://other-cluster/",
            "system:serviceaccount:ns:sa",
        );
        assert_eq!(
            credential_step(
                "id",
                std::slice::from_ref(&other),
                &want("https://i/"),
                "Shared"
            ),
            Err(CredentialRefusal::NameTaken(other))
        );
        // The same issuer and subject under that name with another audience: this binding's own.
        let mut own = cred("shared", "https://i/", "system:serviceaccount:ns:sa");
        own.audiences = vec!["api://other".into()];
        let s = credential_step("id", &[own], &want("https://i/"), "shared").unwrap();
        assert_eq!(s.action, Action::Update);
        assert_eq!(
            s.op,
            Some(Op::PutCredential {
                name: "shared".into()
            })
        );
    }

    #[test]
    fn unbind_deletes_exact_issuer_and_subject_only() {
        let existing = [
            cred("a", "https://i/", "system:serviceaccount:ns:sa"),
            cred("b", "https://i", "system:serviceaccount:ns:sa"),
        ];
        let steps = credential_unbind_steps("id", &existing, &want("https://i/"));
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].action, Action::Delete);
        assert!(steps[0].target.ends_with(": a"));
        assert_eq!(
            credential_unbind_steps("id", &[], &want("https://i/"))[0].action,
            Action::Unchanged
        );
    }

    #[test]
    fn workload_patch_targets_the_pod_template() {
        let web = Target::parse("deploy/web").unwrap();
        let tpl = json!({"metadata": {"labels": {"app": "web"}}, "spec": {}});
        let plan = |target, template, rollout| WorkloadPlan {
            target,
            namespace: "ns",
            template,
            rollout,
        };
        let s = workload_step(&plan(&web, Some(&tpl), &Rollout::Rolls), "sa", true);
        assert_eq!(s.action, Action::Update);
        assert_eq!(s.op, Some(Op::Workload(web.clone())));
        let body = s.body.unwrap();
        assert_eq!(
            body["spec"]["template"]["metadata"]["labels"][keys::USE_LABEL],
            "true"
        );
        assert_eq!(body["spec"]["template"]["spec"]["serviceAccountName"], "sa");
        assert!(s.detail.contains("rolls the pods"));
        let cron = Target::parse("cronjob/n").unwrap();
        let cj = workload_step(&plan(&cron, None, &Rollout::NextRuns), "sa", true);
        assert!(!cj.detail.contains("rolls the pods"), "{}", cj.detail);
        assert_eq!(
            cj.body.unwrap()["spec"]["jobTemplate"]["spec"]["template"]["spec"]["serviceAccountName"],
            "sa"
        );
        let done = json!({"metadata": {"labels": {keys::USE_LABEL: "true"}}, "spec": {"serviceAccountName": "sa"}});
        let same = workload_step(&plan(&web, Some(&done), &Rollout::Rolls), "sa", true);
        assert_eq!(same.action, Action::Unchanged);
        assert_eq!(same.op, None);
        let unbind = workload_step(&plan(&web, Some(&done), &Rollout::Rolls), "sa", false);
        assert!(
            unbind.body.unwrap()["spec"]["template"]["metadata"]["labels"][keys::USE_LABEL]
                .is_null()
        );
    }
}
