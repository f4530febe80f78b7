//! A decision in sentences: what grants, what blocks, what came nearest. Shared by `can-i`
//! and doctor's `azure-can` check.

use super::{Action, Decision, Denial, Grant, Miss, Plane, scope::short};

pub fn grant(g: &Grant) -> String {
    let mut s = format!("{} at {}", g.role, short(&g.scope));
    if g.inherited {
        s.push_str(" (inherited)");
    }
    if let Some(group) = &g.group {
        s.push_str(&format!(" through group {group}"));
    }
    s
}

pub fn denial(d: &Denial) -> String {
    format!(
        "deny assignment '{}' at {} blocks it ('{}'){}",
        d.name,
        short(&d.scope),
        d.pattern,
        if d.conditional {
            " under a condition"
        } else {
            ""
        }
    )
}

pub fn miss(m: &Miss) -> String {
    match m {
        Miss::ControlPlaneOnly {
            role,
            scope,
            pattern,
            ..
        } => format!(
            "{role} at {} matches it only in actions ('{pattern}'): a data action is matched against dataActions, which {role} does not grant",
            short(scope)
        ),
        Miss::NotActions {
            role,
            scope,
            not_action,
            ..
        } => format!(
            "{role} at {} would grant it, but its notActions remove it ('{not_action}')",
            short(scope)
        ),
        Miss::OtherScope { role, scope, .. } => {
            format!("{role} grants it at {scope}, which is not the scope or a parent of it")
        }
    }
}

/// One sentence: why the answer is what it is.
pub fn summary(d: &Decision, action: &Action) -> String {
    if let Some(x) = d.denied.iter().find(|x| !x.conditional) {
        return format!("{}; deny assignments win over role assignments", denial(x));
    }
    if let Some(g) = d.granted.first() {
        return format!("granted by {}", grant(g));
    }
    if let Some(g) = d.conditional.first() {
        return format!(
            "granted by {} only under a condition ARM evaluates per request",
            grant(g)
        );
    }
    match d.misses.first() {
        Some(m) => miss(m),
        None => format!(
            "no role assigned to this identity at the scope or above grants this {}",
            match action.plane {
                Plane::Control => "control-plane action",
                Plane::Data => "data action",
            }
        ),
    }
}

/// The nearest place the action is granted elsewhere, if the first reason is not already that.
pub fn nearest(d: &Decision) -> Option<String> {
    let first = d.misses.first()?;
    d.misses
        .iter()
        .find(|m| matches!(m, Miss::OtherScope { .. }) && *m != first)
        .map(miss)
}

#[cfg(test)]
mod tests {
    use super::super::{Allowed, Decision};
    use super::*;

    fn no(misses: Vec<Miss>) -> Decision {
        Decision {
            allowed: Allowed::No,
            granted: vec![],
            conditional: vec![],
            denied: vec![],
            misses,
            unread_roles: vec![],
        }
    }

    #[test]
    fn sentences() {
        let a = Action::parse("blob-read", false).unwrap();
        let sub = "/subscriptions/11111111-2222-3333-4444-555555555555";
        let other =
            format!("{sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/other");
        let cp = Miss::ControlPlaneOnly {
            role: "Contributor".into(),
            scope: sub.into(),
            assignment_id: "a".into(),
            pattern: "*".into(),
        };
        let far = Miss::OtherScope {
            role: "Storage Blob Data Reader".into(),
            scope: other.clone(),
            assignment_id: "b".into(),
            pattern: a.name.clone(),
        };
        let d = no(vec![cp, far]);
        assert!(
            summary(&d, &a)
                .starts_with("Contributor at sub:11111111 matches it only in actions ('*')")
        );
        assert_eq!(
            nearest(&d).unwrap(),
            format!(
                "Storage Blob Data Reader grants it at {other}, which is not the scope or a parent of it"
            )
        );
        assert_eq!(
            summary(&no(vec![]), &a),
            "no role assigned to this identity at the scope or above grants this data action"
        );
    }
}
