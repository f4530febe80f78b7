//! `KIND/NAME` targets as kubectl spells them: `pod/x`, `deploy/x`, `sa/x`.

use std::fmt;

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
}
