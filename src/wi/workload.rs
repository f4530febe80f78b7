//! What labelling a workload's pod template does to its pods, and the kinds that cannot be
//! labelled into injection at all. The webhook mutates a pod only when it is created (its rule
//! is CREATE on pods), so a template change reaches a workload only through new pods.

use serde_json::Value;

use super::{
    keys,
    target::{Kind, Target},
};
use crate::error::InputError;

/// How the pods of a patched workload pick up the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// The controller replaces the pods by itself: a Deployment, or a StatefulSet or
    /// DaemonSet with the RollingUpdate strategy.
    Rolls,
    /// A paused Deployment rolls once it is resumed.
    Paused,
    /// Pods are replaced only when deleted: `updateStrategy: OnDelete`, or a ReplicaSet of
    /// its own (it keeps its pods; only new ones use the new template).
    WhenDeleted { selector: Option<String> },
    /// A CronJob: the Jobs it creates from now on; Jobs already created keep their template.
    NextRuns,
}

impl Rollout {
    /// The words a step's detail ends with: what happens to the pods, and how to finish.
    pub fn words(&self, target: &Target, ns: &str) -> String {
        match self {
            Rollout::Rolls => "rolls the pods".into(),
            Rollout::Paused => format!(
                "the Deployment is paused: its pods roll after `kubectl rollout resume {target} -n {ns}`"
            ),
            Rollout::WhenDeleted { selector } => format!(
                "running pods keep their old settings until deleted: {}",
                match selector {
                    Some(s) => format!("`kubectl delete pod -n {ns} -l {s}` replaces them"),
                    None => format!("delete the pods of {target} to replace them"),
                }
            ),
            Rollout::NextRuns => {
                "its next Jobs get the change; Jobs already created keep their pods".into()
            }
        }
    }

    /// Whether `kubectl rollout status` follows the change (it does for these controllers).
    pub fn watchable(&self) -> bool {
        matches!(self, Rollout::Rolls)
    }
}

/// The controller that owns `obj` (its `ownerReferences` entry with `controller: true`).
pub fn controller_of(obj: &Value) -> Option<Target> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r["controller"].as_bool() == Some(true))
        .and_then(|r| {
            Target::parse(&format!("{}/{}", r["kind"].as_str()?, r["name"].as_str()?)).ok()
        })
}

/// `spec.selector.matchLabels` as `kubectl -l` takes it.
fn selector(obj: &Value) -> Option<String> {
    let labels = obj.pointer("/spec/selector/matchLabels")?.as_object()?;
    let parts: Vec<String> = labels
        .iter()
        .filter_map(|(k, v)| Some(format!("{k}={}", v.as_str()?)))
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

/// The change to a pod template: bind's label and ServiceAccount, or unbind's label gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateChange<'a> {
    Bind { service_account: &'a str },
    Unbind,
}

impl TemplateChange<'_> {
    /// The pod template a recreated object should have.
    fn wanted(&self) -> String {
        match self {
            TemplateChange::Bind { service_account } => format!(
                "label {}: \"true\" and serviceAccountName: {service_account} in its pod template",
                keys::USE_LABEL
            ),
            TemplateChange::Unbind => format!("no label {} in its pod template", keys::USE_LABEL),
        }
    }
}

/// Whether `target`'s pod template can take the change, and how its pods get it. `owner` is
/// the workload at the top of its controller chain (a pod's Deployment, a Job's CronJob).
/// Refusals name what to do instead, before anything is written.
pub fn rollout(
    target: &Target,
    obj: &Value,
    owner: Option<&Target>,
    change: TemplateChange<'_>,
) -> Result<Rollout, InputError> {
    let refuse = |why: &str, hint: String| {
        Err(InputError::new("workload", &target.to_string(), why.to_string()).with_hint(hint))
    };
    let template_wants = change.wanted();
    match (target.kind, owner) {
        // A pod's spec (serviceAccountName included) is immutable, and the webhook only mutates
        // at creation: relabelling a running pod changes nothing.
        (Kind::Pod, Some(o)) => refuse(
            "a workload with a pod template (a running pod cannot gain injection)",
            format!("{target} is run by {o}: name that instead, --workload {o}"),
        ),
        (Kind::Pod, None) => refuse(
            "a workload with a pod template (a running pod cannot gain injection)",
            format!(
                "{target} has no controller: recreate it with {template_wants} (the webhook mutates pods only when they are created)"
            ),
        ),
        // The API server rejects changes to a Job's spec.template ("field is immutable").
        (Kind::Job, Some(o)) if o.kind == Kind::CronJob => refuse(
            "a workload whose pod template can change (a Job's is immutable)",
            format!(
                "{target} was created by {o}: bind that instead, --workload {o} (its next Jobs get the identity)"
            ),
        ),
        (Kind::Job, _) => refuse(
            "a workload whose pod template can change (a Job's is immutable)",
            format!("delete {target} and create it again with {template_wants}"),
        ),
        // A Deployment's ReplicaSets are its own: it would replace a patched template.
        (Kind::ReplicaSet, Some(o)) => refuse(
            "a workload that owns its pod template (this ReplicaSet is managed by its owner)",
            format!("name its owner instead: --workload {o}"),
        ),
        (Kind::ReplicaSet, None) => Ok(Rollout::WhenDeleted {
            selector: selector(obj),
        }),
        (Kind::Deployment, _) if obj.pointer("/spec/paused") == Some(&Value::Bool(true)) => {
            Ok(Rollout::Paused)
        }
        (Kind::StatefulSet | Kind::DaemonSet, _)
            if obj
                .pointer("/spec/updateStrategy/type")
                .and_then(Value::as_str)
                == Some("OnDelete") =>
        {
            Ok(Rollout::WhenDeleted {
                selector: selector(obj),
            })
        }
        (Kind::CronJob, _) => Ok(Rollout::NextRuns),
        (Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet, _) => Ok(Rollout::Rolls),
        (Kind::ServiceAccount, _) => refuse(
            "deploy/, sts/, ds/, rs/ or cronjob/NAME",
            "name the workload that runs the pods, e.g. --workload deploy/NAME".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn t(s: &str) -> Target {
        Target::parse(s).unwrap()
    }

    const BIND: TemplateChange<'static> = TemplateChange::Bind {
        service_account: "sa",
    };

    #[test]
    fn controller_chain_is_read_from_owner_references() {
        let pod = json!({"metadata": {"ownerReferences": [
            {"kind": "Node", "name": "n", "controller": false},
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f", "controller": true}
        ]}});
        assert_eq!(controller_of(&pod), Some(t("rs/web-5d8f")));
        assert_eq!(controller_of(&json!({"metadata": {}})), None);
    }

    #[test]
    fn kinds_that_cannot_be_labelled_are_refused_with_what_to_do() {
        let e = rollout(&t("job/once"), &json!({}), None, BIND).unwrap_err();
        assert!(e.expected.contains("immutable"), "{e}");
        assert!(
            e.hint
                .unwrap()
                .contains("delete job/once and create it again")
        );
        let e = rollout(&t("job/n-1"), &json!({}), Some(&t("cronjob/n")), BIND).unwrap_err();
        assert!(e.hint.unwrap().contains("--workload cronjob/n"));
        let e = rollout(
            &t("pod/web-5d8f-x"),
            &json!({}),
            Some(&t("deploy/web")),
            BIND,
        )
        .unwrap_err();
        assert!(e.hint.unwrap().contains("--workload deploy/web"));
        let e = rollout(&t("pod/lone"), &json!({}), None, BIND).unwrap_err();
        assert!(e.hint.unwrap().contains("recreate it"));
        let e = rollout(&t("rs/web-5d8f"), &json!({}), Some(&t("deploy/web")), BIND).unwrap_err();
        assert!(e.hint.unwrap().contains("--workload deploy/web"));
    }

    #[test]
    fn rolls_only_where_the_controller_replaces_pods() {
        let sel = json!({"spec": {"selector": {"matchLabels": {"app": "db"}}, "updateStrategy": {"type": "OnDelete"}}});
        let cases = [
            ("deploy/web", json!({}), Rollout::Rolls),
            (
                "deploy/web",
                json!({"spec": {"paused": true}}),
                Rollout::Paused,
            ),
            (
                "sts/db",
                json!({"spec": {"updateStrategy": {"type": "RollingUpdate"}}}),
                Rollout::Rolls,
            ),
            (
                "sts/db",
                sel.clone(),
                Rollout::WhenDeleted {
                    selector: Some("app=db".into()),
                },
            ),
            (
                "ds/agent",
                sel,
                Rollout::WhenDeleted {
                    selector: Some("app=db".into()),
                },
            ),
            (
                "rs/bare",
                json!({}),
                Rollout::WhenDeleted { selector: None },
            ),
            ("cronjob/nightly", json!({}), Rollout::NextRuns),
        ];
        for (target, obj, want) in cases {
            let got = rollout(&t(target), &obj, None, BIND).unwrap();
            assert_eq!(got, want, "{target}");
            let words = got.words(&t(target), "ns");
            assert_eq!(
                words.contains("rolls the pods"),
                want == Rollout::Rolls,
                "{words}"
            );
        }
        assert!(
            Rollout::Paused
                .words(&t("deploy/web"), "ns")
                .contains("`kubectl rollout resume deploy/web -n ns`")
        );
    }
}
