//! Azure RBAC evaluation, pure: given what ARM answered for one principal (its role assignments
//! at and above a scope, its other assignments, the deny assignments, the role definitions),
//! may it perform an action there, and if not, what came nearest and what would grant it.
//!
//! The rules, each from MicrosoftDocs/azure-docs articles/role-based-access-control/:
//! - a deny assignment that applies blocks, whatever the role assignments grant
//!   (overview.md "How Azure RBAC determines if a user has access to a resource", step 3);
//! - assignments at a parent scope are inherited (overview.md "Scope"), directly or through
//!   the principal's groups (step 2);
//! - per role, `actions - notActions` for control-plane actions and `dataActions -
//!   notDataActions` for data actions; `notActions` subtract only within the same role and are
//!   no deny (role-definitions.md "NotActions"); roles add up (overview.md "Multiple role
//!   assignments");
//! - a condition on an assignment filters what it grants (conditions-overview.md).

pub mod action;
pub mod condition;
pub mod explain;
pub mod scope;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use action::{Action, Plane, glob};

/// The deny-assignment principal id for "everyone" (type `SystemDefined`), deny-assignments.md.
pub const EVERYONE: &str = "00000000-0000-0000-0000-000000000000";

/// One entry of a role definition's (or deny assignment's) `permissions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Permission {
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub data_actions: Vec<String>,
    pub not_data_actions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

/// How one permission entry treats an action on its plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Grants(String),
    /// Granted by the first pattern, taken away by the second (a notActions entry).
    Excluded(String, String),
    No,
}

impl Permission {
    pub fn check(&self, action: &str, plane: Plane) -> Match {
        let (grant, except) = match plane {
            Plane::Control => (&self.actions, &self.not_actions),
            Plane::Data => (&self.data_actions, &self.not_data_actions),
        };
        let Some(g) = grant.iter().find(|p| glob(p, action)) else {
            return Match::No;
        };
        match except.iter().find(|p| glob(p, action)) {
            Some(e) => Match::Excluded(g.clone(), e.clone()),
            None => Match::Grants(g.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDef {
    pub id: String,
    pub name: String,
    /// `BuiltInRole` or `CustomRole`.
    pub role_type: String,
    pub permissions: Vec<Permission>,
}

/// The GUID at the end of a role-definition id, lower-case: the same role read at different
/// scopes has different ids.
pub fn role_guid(id: &str) -> String {
    id.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(id)
        .to_ascii_lowercase()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub id: String,
    pub scope: String,
    pub role_definition_id: String,
    pub principal_id: String,
    pub principal_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deny {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub permissions: Vec<Permission>,
    pub principals: Vec<String>,
    pub exclude_principals: Vec<String>,
    pub do_not_apply_to_child_scopes: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

/// What ARM answered about one principal around one scope.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// The principal's object id.
    pub principal: String,
    /// `atScope() and assignedTo(principal)` at the scope: assignments at or above it (management
    /// groups included), to the principal or a group it is in.
    pub applicable: Vec<Assignment>,
    /// `assignedTo(principal)` around the scope (its subscription): candidates for a near miss.
    pub elsewhere: Vec<Assignment>,
    /// `atScope() and assignedTo(principal)` deny assignments at the scope: at or above it.
    pub denies: Vec<Deny>,
    /// Role definitions by GUID.
    pub roles: BTreeMap<String, RoleDef>,
}

/// A role a principal holds somewhere (inspect's ROLES column).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Held {
    pub role: String,
    pub scope: String,
    /// The group it is held through, if not directly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl Held {
    /// `Role@scope` with the scope shortened (`Reader@rg:app`).
    pub fn short(&self) -> String {
        format!("{}@{}", self.role, scope::short(&self.scope))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Allowed {
    Yes,
    No,
    /// Granted only under an ABAC condition ARM evaluates per request.
    Conditional,
}

impl Allowed {
    pub fn word(self) -> &'static str {
        match self {
            Allowed::Yes => "yes",
            Allowed::No => "no",
            Allowed::Conditional => "conditional",
        }
    }
}

/// A role assignment that grants the action at the scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    pub role: String,
    pub scope: String,
    pub assignment_id: String,
    /// Assigned at a parent scope.
    pub inherited: bool,
    /// The group it is assigned to, when not to the principal itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The permission pattern that matched.
    pub pattern: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Denial {
    pub name: String,
    pub id: String,
    pub scope: String,
    pub pattern: String,
    /// The deny assignment (or its permission) carries a condition.
    pub conditional: bool,
}

/// Why a role the principal holds does not answer yes, nearest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum Miss {
    /// A data action was asked; the role grants the string only in `actions` (Owner's `*`).
    ControlPlaneOnly {
        role: String,
        scope: String,
        assignment_id: String,
        pattern: String,
    },
    /// The role's `actions` grant it but its `notActions` take it away.
    NotActions {
        role: String,
        scope: String,
        assignment_id: String,
        pattern: String,
        not_action: String,
    },
    /// The role grants it at a scope that is not this one or a parent of it.
    OtherScope {
        role: String,
        scope: String,
        assignment_id: String,
        pattern: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub allowed: Allowed,
    pub granted: Vec<Grant>,
    pub conditional: Vec<Grant>,
    pub denied: Vec<Denial>,
    pub misses: Vec<Miss>,
    /// Role definitions named by assignments that could not be read: not evaluated.
    pub unread_roles: Vec<String>,
}

fn group_of(a: &Assignment, principal: &str) -> Option<String> {
    (!a.principal_id.eq_ignore_ascii_case(principal)).then(|| a.principal_id.clone())
}

/// The deny assignments that block the action here: at the scope, or above it and not limited
/// to their own scope; naming the principal, a group it is in, or everyone; excluding neither.
fn denials(scope: &str, action: &Action, v: &View, groups: &BTreeSet<String>) -> Vec<Denial> {
    let me = |id: &str| {
        id.eq_ignore_ascii_case(&v.principal) || groups.contains(&id.to_ascii_lowercase())
    };
    v.denies
        .iter()
        .filter(|d| scope::same(&d.scope, scope) || !d.do_not_apply_to_child_scopes)
        .filter(|d| !d.exclude_principals.iter().any(|p| me(p)))
        .filter(|d| {
            d.principals
                .iter()
                .any(|p| p.eq_ignore_ascii_case(EVERYONE) || me(p))
        })
        .filter_map(|d| {
            d.permissions
                .iter()
                .find_map(|p| match p.check(&action.name, action.plane) {
                    Match::Grants(pattern) => Some(Denial {
                        name: d.name.clone(),
                        id: d.id.clone(),
                        scope: d.scope.clone(),
                        pattern,
                        conditional: d.condition.is_some() || p.condition.is_some(),
                    }),
                    _ => None,
                })
        })
        .collect()
}

/// What one assignment's role does for the action: grants (with its condition, if that
/// condition can restrict the action), or the miss it explains.
enum Outcome {
    Grant(Grant),
    Miss(Miss),
    Nothing,
}

fn judge(scope: &str, action: &Action, v: &View, a: &Assignment, role: &RoleDef) -> Outcome {
    let mut miss = None;
    for p in &role.permissions {
        match p.check(&action.name, action.plane) {
            Match::Grants(pattern) => {
                let condition = [a.condition.as_ref(), p.condition.as_ref()]
                    .into_iter()
                    .flatten()
                    .find(|c| condition::restricts(c, &action.name))
                    .cloned();
                return Outcome::Grant(Grant {
                    role: role.name.clone(),
                    scope: a.scope.clone(),
                    assignment_id: a.id.clone(),
                    inherited: !scope::same(&a.scope, scope),
                    group: group_of(a, &v.principal),
                    pattern,
                    condition,
                });
            }
            Match::Excluded(pattern, not_action) => {
                miss = Some(Miss::NotActions {
                    role: role.name.clone(),
                    scope: a.scope.clone(),
                    assignment_id: a.id.clone(),
                    pattern,
                    not_action,
                });
            }
            Match::No if action.plane == Plane::Data && miss.is_none() => {
                if let Match::Grants(pattern) = p.check(&action.name, Plane::Control) {
                    miss = Some(Miss::ControlPlaneOnly {
                        role: role.name.clone(),
                        scope: a.scope.clone(),
                        assignment_id: a.id.clone(),
                        pattern,
                    });
                }
            }
            Match::No => {}
        }
    }
    miss.map_or(Outcome::Nothing, Outcome::Miss)
}

/// Whether an assignment ARM listed as at-or-above really is: a subscription-rooted scope must
/// cover the target by its string; management groups and `/` only ARM can place.
fn above(a: &Assignment, target: &str) -> bool {
    !scope::under_subscription(&a.scope) || scope::covers(&a.scope, target)
}

pub fn evaluate(scope: &str, action: &Action, v: &View) -> Decision {
    let groups: BTreeSet<String> = v
        .applicable
        .iter()
        .chain(&v.elsewhere)
        .filter_map(|a| group_of(a, &v.principal))
        .map(|g| g.to_ascii_lowercase())
        .collect();
    let denied = denials(scope, action, v, &groups);
    let mut d = Decision {
        allowed: Allowed::No,
        granted: Vec::new(),
        conditional: Vec::new(),
        denied: Vec::new(),
        misses: Vec::new(),
        unread_roles: Vec::new(),
    };
    let mut seen = BTreeSet::new();
    let mut far = Vec::new();
    let applicable = v
        .applicable
        .iter()
        .filter(|a| above(a, scope))
        .map(|a| (a, true));
    let others = v.elsewhere.iter().map(|a| (a, false));
    for (a, applies) in applicable.chain(others) {
        if !seen.insert(a.id.to_ascii_lowercase()) {
            continue;
        }
        // An assignment listed only around the scope may still be above it (by its string).
        let applies =
            applies || (scope::under_subscription(&a.scope) && scope::covers(&a.scope, scope));
        let Some(role) = v.roles.get(&role_guid(&a.role_definition_id)) else {
            d.unread_roles.push(a.role_definition_id.clone());
            continue;
        };
        match (judge(scope, action, v, a, role), applies) {
            (Outcome::Grant(g), true) if g.condition.is_some() => d.conditional.push(g),
            (Outcome::Grant(g), true) => d.granted.push(g),
            (Outcome::Grant(g), false) => far.push(Miss::OtherScope {
                role: g.role,
                scope: g.scope,
                assignment_id: g.assignment_id,
                pattern: g.pattern,
            }),
            (Outcome::Miss(m), true) => d.misses.push(m),
            _ => {}
        }
    }
    far.sort_by_key(|m| match m {
        Miss::OtherScope { scope: s, .. } => std::cmp::Reverse(scope::closeness(s, scope)),
        _ => std::cmp::Reverse(0),
    });
    d.misses.extend(far);
    d.unread_roles.sort();
    d.unread_roles.dedup();
    let blocked = denied.iter().any(|x| !x.conditional);
    let maybe_blocked = denied.iter().any(|x| x.conditional);
    d.allowed = if blocked {
        Allowed::No
    } else if !d.granted.is_empty() && !maybe_blocked {
        Allowed::Yes
    } else if !d.granted.is_empty() || !d.conditional.is_empty() {
        Allowed::Conditional
    } else {
        Allowed::No
    };
    d.denied = denied;
    d
}

/// How broad a role is, for choosing the narrowest that grants an action: a bare `*` is
/// everything; a leading `*/` spans every provider; a trailing `/*` a whole family (the fewer
/// segments before it, the larger); a wildcard inside a string (`Microsoft.ServiceBus/*/send/action`)
/// one operation across types. Ties go to the role with fewer operations that are not reads.
fn breadth(r: &RoleDef) -> (usize, usize) {
    let weight = |p: &String| match p.as_str() {
        "*" => 1000,
        p if p.starts_with('*') => 500,
        p if p.ends_with('*') => 100 / p.split('/').count().saturating_sub(1).max(1),
        p if p.contains('*') => 10,
        _ => 1,
    };
    let all = || {
        r.permissions
            .iter()
            .flat_map(|p| p.actions.iter().chain(&p.data_actions))
    };
    let writes = all()
        .filter(|p| !p.to_ascii_lowercase().ends_with("/read"))
        .count();
    (all().map(weight).sum(), writes)
}

/// The built-in role with the narrowest permissions that grants the action unconditionally.
pub fn narrowest<'a>(
    action: &Action,
    roles: impl IntoIterator<Item = &'a RoleDef>,
) -> Option<&'a RoleDef> {
    roles
        .into_iter()
        .filter(|r| r.role_type == "BuiltInRole")
        .filter(|r| {
            r.permissions.iter().any(|p| {
                p.condition.is_none()
                    && matches!(p.check(&action.name, action.plane), Match::Grants(_))
            })
        })
        .min_by(|a, b| {
            breadth(a)
                .cmp(&breadth(b))
                .then_with(|| a.name.cmp(&b.name))
        })
}

/// A value for a POSIX shell: bare when safe, else single-quoted.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-:@=".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `kubectl azwi bind` that adds the role to an existing binding (bind is idempotent: the
/// credential and annotations it finds in place are left as they are).
pub fn bind_grant(sa: &str, ns: &str, client_id: &str, role: &str, scope: &str) -> String {
    format!(
        "kubectl azwi bind {sa} -n {ns} --identity {client_id} --role {} --scope {}",
        shell_word(role),
        shell_word(scope)
    )
}

/// `az role assignment create` for a service principal's object id: with the id and type given,
/// az needs no Microsoft Graph lookup.
pub fn az_grant(principal: &str, role: &str, scope: &str) -> String {
    format!(
        "az role assignment create --assignee-object-id {} --assignee-principal-type ServicePrincipal --role {} --scope {}",
        shell_word(principal),
        shell_word(role),
        shell_word(scope)
    )
}

#[cfg(test)]
mod tests;
