//! Bind and unbind as data: what is observed, what is wanted, and the steps between them.
//! `--dry-run` prints this plan; a real run executes exactly these steps.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::{
    credential::{Credential, Wanted},
    keys,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StepKind {
    Identity,
    FederatedCredential,
    RoleAssignment,
    ServiceAccount,
    Workload,
}

/// The annotations bind owns on the ServiceAccount, and their wanted values.
pub fn owned_annotations(
    client_id: &str,
    tenant: Option<&str>,
    expiration_secs: Option<i64>,
) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    out.insert(keys::CLIENT_ID_ANNOTATION, client_id.to_string());
    if let Some(t) = tenant {
        out.insert(keys::TENANT_ID_ANNOTATION, t.to_string());
    }
    if let Some(e) = expiration_secs {
        out.insert(keys::TOKEN_EXPIRATION_ANNOTATION, e.to_string());
    }
    out
}

/// The ServiceAccount step: create it, merge-patch only the owned annotations that differ, or nothing.
pub fn service_account_step(
    namespace: &str,
    name: &str,
    existing: Option<&BTreeMap<String, String>>,
    wanted: &BTreeMap<&'static str, String>,
) -> Step {
    let target = format!("serviceaccount {namespace}/{name}");
    let Some(current) = existing else {
        let body = json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace, "annotations": wanted},
        });
        return Step {
            kind: StepKind::ServiceAccount,
            action: Action::Create,
            target,
            detail: "with the workload-identity annotations".into(),
            body: Some(body),
        };
    };
    let changed: BTreeMap<&str, &String> = wanted
        .iter()
        .filter(|(k, v)| current.get(**k) != Some(*v))
        .map(|(k, v)| (*k, v))
        .collect();
    if changed.is_empty() {
        return Step {
            kind: StepKind::ServiceAccount,
            action: Action::Unchanged,
            target,
            detail: "annotations already set".into(),
            body: None,
        };
    }
    let detail = format!(
        "set {}",
        changed.keys().copied().collect::<Vec<_>>().join(", ")
    );
    let body = json!({"metadata": {"annotations": changed}});
    Step {
        kind: StepKind::ServiceAccount,
        action: Action::Update,
        target,
        detail,
        body: Some(body),
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
    let Some(current) = existing else {
        return Step {
            kind: StepKind::ServiceAccount,
            action: Action::Unchanged,
            target,
            detail: "not found".into(),
            body: None,
        };
    };
    if let (Some(want), Some(have)) = (client_id, current.get(keys::CLIENT_ID_ANNOTATION))
        && want != have
    {
        return Step {
            kind: StepKind::ServiceAccount,
            action: Action::Skipped,
            target,
            detail: format!("annotated with another client id ({have}): left as is"),
            body: None,
        };
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
        return Step {
            kind: StepKind::ServiceAccount,
            action: Action::Unchanged,
            target,
            detail: "no workload-identity annotations".into(),
            body: None,
        };
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
    }
}

/// The federated credential step: nothing if one already matches exactly, else create.
pub fn credential_step(
    identity: &str,
    existing: &[Credential],
    want: &Wanted,
    name: &str,
) -> Result<Step, Vec<String>> {
    let target = format!("federated credential on {identity}");
    if let Some(c) = existing.iter().find(|c| {
        c.issuer == want.issuer
            && c.subject == want.subject
            && c.audiences == [want.audience.clone()]
    }) {
        return Ok(Step {
            kind: StepKind::FederatedCredential,
            action: Action::Unchanged,
            target: format!("{target}: {}", c.name),
            detail: "issuer, subject and audience already match".into(),
            body: None,
        });
    }
    // The same name with other contents would be replaced: that is an update, not a create.
    let replacing = existing.iter().any(|c| c.name == name);
    if !replacing && existing.len() >= keys::MAX_FEDERATED_CREDENTIALS {
        return Err(existing
            .iter()
            .map(|c| format!("{} ({} {})", c.name, c.issuer, c.subject))
            .collect());
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
    })
}

/// Unbind's credential step: delete every credential that matches exactly.
pub fn credential_unbind_steps(
    identity: &str,
    existing: &[Credential],
    want: &Wanted,
) -> Vec<Step> {
    let matching: Vec<&Credential> = existing
        .iter()
        .filter(|c| c.issuer == want.issuer && c.subject == want.subject)
        .collect();
    if matching.is_empty() {
        return vec![Step {
            kind: StepKind::FederatedCredential,
            action: Action::Unchanged,
            target: format!("federated credential on {identity}"),
            detail: format!("none for issuer {} subject {}", want.issuer, want.subject),
            body: None,
        }];
    }
    matching
        .into_iter()
        .map(|c| Step {
            kind: StepKind::FederatedCredential,
            action: Action::Delete,
            target: format!("federated credential on {identity}: {}", c.name),
            detail: format!("issuer {} subject {}", c.issuer, c.subject),
            body: None,
        })
        .collect()
}

/// Where a workload kind keeps its pod template.
pub fn template_path(kind: super::target::Kind) -> &'static [&'static str] {
    use super::target::Kind;
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

/// The workload step: label the pod template and point it at the ServiceAccount.
pub fn workload_step(
    kind: super::target::Kind,
    target: &str,
    template: Option<&Value>,
    service_account: &str,
    bind: bool,
) -> Step {
    let label = template.and_then(|t| {
        t.pointer(&format!(
            "/metadata/labels/{}",
            keys::USE_LABEL.replace('/', "~1")
        ))
    });
    let sa = template
        .and_then(|t| t.pointer("/spec/serviceAccountName"))
        .and_then(Value::as_str)
        .unwrap_or("default");
    let path = template_path(kind);
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
                format!("{} (rolls the pods)", what.join(", ")),
                Some(nest(path, leaf)),
            )
        }
    } else if label.is_some() {
        let leaf = json!({"metadata": {"labels": {keys::USE_LABEL: Value::Null}}});
        (
            Action::Update,
            format!("remove label {} (rolls the pods)", keys::USE_LABEL),
            Some(nest(path, leaf)),
        )
    } else {
        (Action::Unchanged, "pod template not labelled".into(), None)
    };
    Step {
        kind: StepKind::Workload,
        action,
        target: target.to_string(),
        detail,
        body: patch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wi::target::Kind;

    fn ann(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn service_account_create_update_unchanged() {
        let wanted = owned_annotations("c1", Some("t1"), None);
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
        let full: Vec<Credential> = (0..20)
            .map(|i| cred(&format!("c{i}"), "https://o/", &format!("s{i}")))
            .collect();
        let listed = credential_step("id", &full, &want("https://i/"), "azwi-x").unwrap_err();
        assert_eq!(listed.len(), 20);
        assert!(listed[0].starts_with("c0 (https://o/ s0)"));
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
        let s = workload_step(
            Kind::Deployment,
            "deploy/web",
            Some(&json!({"metadata": {"labels": {"app": "web"}}, "spec": {}})),
            "sa",
            true,
        );
        assert_eq!(s.action, Action::Update);
        let body = s.body.unwrap();
        assert_eq!(
            body["spec"]["template"]["metadata"]["labels"][keys::USE_LABEL],
            "true"
        );
        assert_eq!(body["spec"]["template"]["spec"]["serviceAccountName"], "sa");
        assert!(s.detail.contains("rolls the pods"));
        let cj = workload_step(Kind::CronJob, "cronjob/n", None, "sa", true)
            .body
            .unwrap();
        assert_eq!(
            cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["serviceAccountName"],
            "sa"
        );
        let done = json!({"metadata": {"labels": {keys::USE_LABEL: "true"}}, "spec": {"serviceAccountName": "sa"}});
        assert_eq!(
            workload_step(Kind::Deployment, "deploy/web", Some(&done), "sa", true).action,
            Action::Unchanged
        );
        let unbind = workload_step(Kind::Deployment, "deploy/web", Some(&done), "sa", false);
        assert!(
            unbind.body.unwrap()["spec"]["template"]["metadata"]["labels"][keys::USE_LABEL]
                .is_null()
        );
    }
}
