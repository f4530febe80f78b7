//! `doctor --can ACTION --scope SCOPE`: can-i's verdict for the pod's identity, as the
//! `azure-can` check. The reads run beside the credential list (same wave), with can-i's rules.

use super::model::{Fact, Facts, Gap, Verdict};
use crate::{
    azure::{Arm, msi::Identity},
    cli::DoctorArgs,
    error::InputError,
    wi::rbac::{self, Action, Allowed, Decision, explain, scope::Scope},
};

/// The question, parsed before any call.
#[derive(Debug, Clone)]
pub struct CanAsk {
    pub action: Action,
    pub scope: Scope,
}

pub fn ask(args: &DoctorArgs) -> Result<Option<CanAsk>, InputError> {
    match (&args.can, &args.scope) {
        (Some(a), Some(s)) => Ok(Some(CanAsk {
            action: Action::parse(a, false)?,
            scope: Scope::parse(s)?,
        })),
        _ => Ok(None),
    }
}

#[derive(Debug, Clone)]
pub struct CanFacts {
    pub ask: CanAsk,
    pub principal: String,
    pub client_id: String,
    pub decision: Decision,
    /// The narrowest built-in role from the short-name table, when it names one.
    pub role: Option<&'static str>,
}

/// Reads the principal's assignments around the scope; a gap says why not.
pub async fn gather(
    arm: &Arm,
    ask: Option<&CanAsk>,
    identity: Option<&Identity>,
) -> Fact<CanFacts> {
    let ask =
        ask.ok_or_else(|| Gap::not_asked("pass --can ACTION --scope SCOPE to check a permission"))?;
    let i = identity
        .ok_or_else(|| Gap::unreachable("no managed identity to check (see azure-identity)"))?;
    let principal = i.properties.principal_id.clone();
    let (view, _) = arm.rbac_view(&ask.scope, &principal).await.map_err(|e| {
        if e.status() == Some(403) {
            Gap::Forbidden {
                verb: "read".into(),
                resource: "Microsoft.Authorization/roleAssignments and denyAssignments".into(),
            }
        } else {
            Gap::unreachable(e.to_string())
        }
    })?;
    Ok(CanFacts {
        decision: rbac::evaluate(&ask.scope.id, &ask.action, &view),
        role: ask.action.suggested_role,
        client_id: i.properties.client_id.clone(),
        ask: ask.clone(),
        principal,
    })
}

pub fn check(f: &Facts) -> Verdict {
    let c = match &f.can {
        Ok(c) => c,
        Err(Gap::NotAsked { why } | Gap::Unreachable { reason: why }) => {
            return Verdict::skip(why.clone());
        }
        Err(g) => {
            return Verdict::warn(
                g.describe("role assignments"),
                "give your login Reader at the scope to check it",
            );
        }
    };
    let what = format!("{} at {}", c.ask.action.name, c.ask.scope.id);
    let why = explain::summary(&c.decision, &c.ask.action);
    match c.decision.allowed {
        Allowed::Yes => Verdict::pass(format!("may {what}: {why}")),
        Allowed::Conditional => Verdict::warn(
            format!("may {what} only under a condition: {why}"),
            "ARM evaluates the condition per request; check the resource's attributes against it",
        ),
        Allowed::No => {
            let blocked = c.decision.denied.iter().any(|d| !d.conditional);
            let hint = match (blocked, c.role) {
                (true, _) => "a deny assignment blocks it: lift or exclude the principal where Azure made it (managed application, deployment stack)".to_string(),
                (false, Some(role)) => {
                    let sa = f.sa_name.as_deref().unwrap_or("SA");
                    format!(
                        "grant it: {}; or: {}",
                        rbac::az_grant(&c.principal, role, &c.ask.scope.id),
                        rbac::bind_grant(sa, &f.namespace, &c.client_id, role, &c.ask.scope.id)
                    )
                }
                (false, None) => format!(
                    "assign a role that grants it at the scope; `kubectl azwi can-i {} {} --scope {}` names the narrowest",
                    c.ask.action.name,
                    f.target.as_ref().map(|t| t.to_string()).unwrap_or_default(),
                    c.ask.scope.id
                ),
            };
            Verdict::fail(format!("may not {what}: {why}"), hint)
        }
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::doctor::model::Status;
    use crate::wi::rbac::{Grant, Miss};

    const SCOPE: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg";

    fn facts(allowed: Allowed, granted: Vec<Grant>, misses: Vec<Miss>) -> CanFacts {
        CanFacts {
            ask: CanAsk {
                action: Action::parse("blob-read", false).unwrap(),
                scope: Scope::parse(SCOPE).unwrap(),
            },
            principal: "p".into(),
            client_id: "c".into(),
            decision: Decision {
                allowed,
                granted,
                conditional: vec![],
                denied: vec![],
                misses,
                unread_roles: vec![],
            },
            role: Some("Storage Blob Data Reader"),
        }
    }

    /// A yes, for fixtures of a fully working binding.
    pub fn granted() -> CanFacts {
        let g = Grant {
            role: "Storage Blob Data Reader".into(),
            scope: SCOPE.into(),
            assignment_id: "a".into(),
            inherited: false,
            group: None,
            pattern: "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read".into(),
            condition: None,
        };
        facts(Allowed::Yes, vec![g], vec![])
    }

    #[test]
    fn verdicts() {
        let mut f = Facts::empty("ns", 0);
        f.sa_name = Some("wi".into());
        f.can = Ok(granted());
        assert_eq!(check(&f).status, Status::Pass);
        let miss = Miss::ControlPlaneOnly {
            role: "Contributor".into(),
            scope: SCOPE.into(),
            assignment_id: "b".into(),
            pattern: "*".into(),
        };
        f.can = Ok(facts(Allowed::No, vec![], vec![miss]));
        let v = check(&f);
        assert_eq!(v.status, Status::Fail);
        let hint = v.hint.unwrap();
        assert!(hint.contains("--role 'Storage Blob Data Reader'"), "{hint}");
        assert!(
            hint.contains("kubectl azwi bind wi -n ns --identity c"),
            "{hint}"
        );
        f.can = Err(Gap::not_asked("pass --can"));
        assert_eq!(check(&f).status, Status::Skip);
    }

    #[test]
    fn shown_only_when_asked() {
        let mut f = Facts::empty("ns", 0);
        f.target = Some(crate::wi::target::Target::parse("pod/app").unwrap());
        let shown = |f: &Facts| {
            crate::doctor::run(f, crate::doctor::checks::CHECKS, Default::default())
                .get("azure-can")
                .is_some()
        };
        f.can = Err(Gap::not_asked("--can not given"));
        assert!(!shown(&f));
        f.can = Err(Gap::unreachable("Azure was not reached"));
        assert!(shown(&f), "asked but not answerable: said so");
        f.can = Ok(granted());
        assert!(shown(&f));
    }
}
