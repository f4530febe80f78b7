//! `KIND/NAME` targets as kubectl spells them: `pod/x`, `deploy/x`, `sa/x`; and what
//! recreates a pod, found through its ownerReferences.

use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde::Serialize;

use crate::error::InputError;

use super::names;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    CronJob,
    ServiceAccount,
}

impl Kind {
    /// The aliases kubectl accepts, plural and short forms, with or without the API group.
    fn parse(kind: &str) -> Option<Kind> {
        let kind = kind.to_ascii_lowercase();
        let base = kind.split('.').next().unwrap_or_default();
        Some(match base {
            "pod" | "pods" | "po" => Kind::Pod,
            "deployment" | "deployments" | "deploy" => Kind::Deployment,
            "statefulset" | "statefulsets" | "sts" => Kind::StatefulSet,
            "daemonset" | "daemonsets" | "ds" => Kind::DaemonSet,
            "replicaset" | "replicasets" | "rs" => Kind::ReplicaSet,
            "job" | "jobs" => Kind::Job,
            "cronjob" | "cronjobs" | "cj" => Kind::CronJob,
            "serviceaccount" | "serviceaccounts" | "sa" => Kind::ServiceAccount,
            _ => return None,
        })
    }

    pub fn short(self) -> &'static str {
        match self {
            Kind::Pod => "pod",
            Kind::Deployment => "deploy",
            Kind::StatefulSet => "sts",
            Kind::DaemonSet => "ds",
            Kind::ReplicaSet => "rs",
            Kind::Job => "job",
            Kind::CronJob => "cronjob",
            Kind::ServiceAccount => "sa",
        }
    }

    /// The API's kind name, as events' `involvedObject.kind` carries it.
    pub fn api_kind(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Job => "Job",
            Kind::CronJob => "CronJob",
            Kind::ServiceAccount => "ServiceAccount",
        }
    }

    /// Kinds that carry a pod template (and so can be labelled for injection).
    pub fn has_pod_template(self) -> bool {
        !matches!(self, Kind::Pod | Kind::ServiceAccount)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub kind: Kind,
    pub name: String,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind.short(), self.name)
    }
}

const ACCEPTED: &str = "KIND/NAME with KIND one of pod, deploy, sts, ds, rs, job, cronjob, sa";

impl Target {
    pub fn parse(value: &str) -> Result<Target, InputError> {
        let Some((kind, name)) = value.split_once('/') else {
            return Err(InputError::new("target", value, ACCEPTED)
                .with_hint(format!("did you mean pod/{value}?")));
        };
        let kind =
            Kind::parse(kind).ok_or_else(|| InputError::new("target kind", kind, ACCEPTED))?;
        let name = names::object_name("name", name)?;
        Ok(Target { kind, name })
    }

    /// A `--workload` target. A pod is accepted here so that bind can name its controller once
    /// it has read it (`wi::workload` refuses it then); a ServiceAccount is no workload.
    pub fn parse_workload(value: &str) -> Result<Target, InputError> {
        let t = Target::parse(value)?;
        if t.kind == Kind::ServiceAccount {
            return Err(InputError::new(
                "workload",
                value,
                "deploy/, sts/, ds/, rs/, job/ or cronjob/NAME",
            )
            .with_hint("name the workload that runs the pods, e.g. deploy/NAME"));
        }
        Ok(t)
    }
}

/// What recreates a pod (so the webhook sees it again), found through ownerReferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "owner")]
pub enum Owner {
    /// A Deployment, StatefulSet or DaemonSet: `kubectl rollout restart` replaces its pods.
    Rollout { target: Target },
    /// A ReplicaSet no Deployment owns: it replaces each pod that is deleted.
    ReplicaSet {
        name: String,
        /// Its pod selector, to delete all its pods at once.
        selector: Option<String>,
    },
    /// A Job: its pod template cannot change, the Job is made again.
    Job { name: String },
    /// A CronJob: its next Job gets the change.
    CronJob { name: String },
    /// Another controller (a custom resource's): it replaces a deleted pod.
    Other { kind: String, name: String },
    /// No controller: the pod is all there is.
    Bare,
}

/// The controlling reference among `refs`, as (kind, name).
pub fn controller(refs: &[OwnerReference]) -> Option<(&str, &str)> {
    refs.iter()
        .find(|r| r.controller == Some(true))
        .map(|r| (r.kind.as_str(), r.name.as_str()))
}

impl Owner {
    /// The owner of an object whose controller is `(kind, name)`; `parent` is that
    /// controller's own controller when it was read (a ReplicaSet's Deployment, a Job's CronJob).
    pub fn from_controller(
        controller: Option<(&str, &str)>,
        parent: Option<(&str, &str)>,
        selector: Option<String>,
    ) -> Owner {
        let rollout = |kind, name: &str| Owner::Rollout {
            target: Target {
                kind,
                name: name.to_string(),
            },
        };
        match (controller, parent) {
            (None, _) => Owner::Bare,
            (Some(("ReplicaSet", _)), Some(("Deployment", d))) => rollout(Kind::Deployment, d),
            (Some(("ReplicaSet", rs)), _) => Owner::ReplicaSet {
                name: rs.to_string(),
                selector,
            },
            (Some(("Deployment", d)), _) => rollout(Kind::Deployment, d),
            (Some(("StatefulSet", s)), _) => rollout(Kind::StatefulSet, s),
            (Some(("DaemonSet", d)), _) => rollout(Kind::DaemonSet, d),
            (Some(("Job", _)), Some(("CronJob", c))) => Owner::CronJob {
                name: c.to_string(),
            },
            (Some(("Job", j)), _) => Owner::Job {
                name: j.to_string(),
            },
            (Some(("CronJob", c)), _) => Owner::CronJob {
                name: c.to_string(),
            },
            (Some((kind, name)), _) => Owner::Other {
                kind: kind.to_string(),
                name: name.to_string(),
            },
        }
    }

    /// The owner a workload target is for its own pods (`selector`: its pod selector).
    pub fn of_target(
        target: &Target,
        controller: Option<(&str, &str)>,
        selector: Option<String>,
    ) -> Owner {
        match target.kind {
            Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet => Owner::Rollout {
                target: target.clone(),
            },
            Kind::ReplicaSet => {
                Owner::from_controller(Some(("ReplicaSet", &target.name)), controller, selector)
            }
            Kind::Job => Owner::from_controller(Some(("Job", &target.name)), controller, None),
            Kind::CronJob => Owner::CronJob {
                name: target.name.clone(),
            },
            Kind::Pod | Kind::ServiceAccount => Owner::Bare,
        }
    }

    /// The command that gets the pod (`pod`, when one is known) created again, so the webhook
    /// mutates it from the current spec and service account. Real names only: it works when
    /// followed literally. Never `kubectl get -o yaml` and re-apply: that copy carries the
    /// variables the webhook injected, and the webhook keeps them.
    pub fn recreate(&self, ns: &str, pod: Option<&str>) -> String {
        let delete_pod = |by: String| match pod {
            Some(p) => format!("kubectl delete pod {p} -n {ns} ({by} creates it again)"),
            None => format!("delete its pods ({by} creates them again)"),
        };
        match self {
            Owner::Rollout { target } => format!("kubectl rollout restart {target} -n {ns}"),
            Owner::ReplicaSet {
                name,
                selector: Some(sel),
            } => format!(
                "kubectl delete pods -n {ns} -l {sel} (ReplicaSet {name} creates them again)"
            ),
            Owner::ReplicaSet { name, .. } => delete_pod(format!("ReplicaSet {name}")),
            Owner::Other { kind, name } => delete_pod(format!("{kind} {name}")),
            Owner::Job { name } => format!(
                "job/{name} cannot change its pods: kubectl delete job {name} -n {ns}, then create it again from its manifest"
            ),
            Owner::CronJob { name } => format!(
                "the next job of cronjob/{name} gets it; to run one now: kubectl create job {name}-{} --from=cronjob/{name} -n {ns}",
                "azwi"
            ),
            Owner::Bare => match pod {
                Some(p) => format!(
                    "kubectl delete pod {p} -n {ns}, then create it again from its manifest (a bare pod has no owner to recreate it)"
                ),
                None => "create the pod again from its manifest".to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubectl_spellings() {
        for (input, kind) in [
            ("pod/quick-start", Kind::Pod),
            ("pods/quick-start", Kind::Pod),
            ("po/quick-start", Kind::Pod),
            ("deploy/web", Kind::Deployment),
            ("deployments.apps/web", Kind::Deployment),
            ("sts/db", Kind::StatefulSet),
            ("cronjob/nightly", Kind::CronJob),
            ("sa/workload-identity-sa", Kind::ServiceAccount),
            ("ServiceAccount/x", Kind::ServiceAccount),
        ] {
            assert_eq!(Target::parse(input).unwrap().kind, kind, "{input}");
        }
        assert_eq!(
            Target::parse("deployment/web").unwrap().to_string(),
            "deploy/web"
        );
    }

    #[test]
    fn rejects_bad_targets_with_a_hint() {
        let e = Target::parse("quick-start").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean pod/quick-start?"));
        assert!(Target::parse("svc/x").is_err());
        assert!(Target::parse("pod/").is_err());
        assert!(Target::parse("pod/Bad_Name").is_err());
        assert_eq!(Target::parse_workload("pod/x").unwrap().kind, Kind::Pod);
        assert!(Target::parse_workload("sa/x").is_err());
        assert_eq!(
            Target::parse_workload("deploy/x").unwrap().kind,
            Kind::Deployment
        );
    }

    #[test]
    fn owners_recreate_with_real_names() {
        let o = Owner::from_controller(
            Some(("ReplicaSet", "web-5d4f8")),
            Some(("Deployment", "web")),
            None,
        );
        assert_eq!(
            o.recreate("ns", Some("web-5d4f8-x")),
            "kubectl rollout restart deploy/web -n ns"
        );
        let o = Owner::from_controller(Some(("ReplicaSet", "rs1")), None, Some("app=a".into()));
        let r = o.recreate("ns", Some("rs1-x"));
        assert_eq!(
            r,
            "kubectl delete pods -n ns -l app=a (ReplicaSet rs1 creates them again)"
        );
        assert!(!r.contains("rollout restart"), "a ReplicaSet does not roll");
        let r = Owner::from_controller(None, None, None).recreate("ns", Some("p"));
        assert!(
            r.starts_with("kubectl delete pod p -n ns, then create it again"),
            "{r}"
        );
        assert!(!r.contains("-o yaml >"), "no export-and-reapply: {r}");
        let o = Owner::from_controller(Some(("Job", "j-1")), Some(("CronJob", "j")), None);
        assert!(o.recreate("ns", None).contains("--from=cronjob/j"));
        let o = Owner::of_target(&Target::parse("sts/db").unwrap(), None, None);
        assert_eq!(
            o.recreate("ns", None),
            "kubectl rollout restart sts/db -n ns"
        );
        let o = Owner::of_target(
            &Target::parse("rs/web-1").unwrap(),
            Some(("Deployment", "web")),
            Some("app=web".into()),
        );
        assert_eq!(
            o.recreate("ns", None),
            "kubectl rollout restart deploy/web -n ns"
        );
        for r in [
            Owner::Job { name: "j".into() }.recreate("ns", Some("p")),
            Owner::Other {
                kind: "CloneSet".into(),
                name: "c".into(),
            }
            .recreate("ns", Some("p")),
        ] {
            assert!(
                !r.contains("NAME") && !r.contains('<'),
                "no placeholder: {r}"
            );
        }
    }
}
