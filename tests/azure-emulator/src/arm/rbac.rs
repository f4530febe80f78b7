//! Azure RBAC as ARM evaluates it, for the emulator's own requests and its listings:
//! management groups above subscriptions, Entra group membership (transitive), deny
//! assignments, and the scope relations (`at or above`, `below`) the list filters use.
//!
//! Rules (MicrosoftDocs/azure-docs articles/role-based-access-control/): a deny assignment that
//! applies blocks first (overview.md "How Azure RBAC determines if a user has access");
//! assignments at a parent scope are inherited (overview.md "Scope"); per role,
//! `actions - notActions` (role-definitions.md); `*` matches any run of characters,
//! case-insensitively (custom-roles.md "Wildcard permissions").

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::roles::{self, Permission};
use super::{ArmError, ArmResult, Req, json, scope_subscription};
use crate::store::{DenyAssignment, ManagementGroup, RoleAssignment, Subscription, World};

/// The principal id ARM uses in a deny assignment for "everyone" (type `SystemDefined`).
pub const EVERYONE: &str = "00000000-0000-0000-0000-000000000000";

const MG_PREFIX: &str = "/providers/microsoft.management/managementgroups/";

/// Case-insensitive glob where `*` matches any run of characters (RBAC action syntax).
pub fn glob(pattern: &str, s: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let s = s.to_ascii_lowercase();
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == s;
    }
    let mut rest = s.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// `(actions - notActions)` or, for a data action, `(dataActions - notDataActions)` of one
/// permission entry; notActions only subtract within the same entry.
pub fn perm_grants(p: &Permission, action: &str, data: bool) -> bool {
    let (grant, except) = if data {
        (&p.data_actions, &p.not_data_actions)
    } else {
        (&p.actions, &p.not_actions)
    };
    grant.iter().any(|a| glob(a, action)) && !except.iter().any(|a| glob(a, action))
}

pub fn normalize(scope: &str) -> String {
    format!("/{}", scope.trim_matches('/'))
}

/// ARM's spelling of a scope in Authorization responses: `resourcegroups` lower-case
/// (the deny-assignment examples show it in both `scope` and `id`).
pub fn arm_case(scope: &str) -> String {
    let mut segs: Vec<String> = scope.split('/').map(str::to_string).collect();
    if segs.len() > 3 && segs[3].eq_ignore_ascii_case("resourcegroups") {
        segs[3] = "resourcegroups".into();
    }
    segs.join("/")
}

/// Whether `outer` is `inner` or a string ancestor of it (segment-wise, case-insensitive).
pub fn covers(outer: &str, inner: &str) -> bool {
    let o = outer.trim_end_matches('/').to_ascii_lowercase();
    let i = inner.trim_end_matches('/').to_ascii_lowercase();
    o.is_empty() || i == o || i.starts_with(&format!("{o}/"))
}

pub fn mg_scope(name: &str) -> String {
    format!("/providers/Microsoft.Management/managementGroups/{name}")
}

/// The management group a path is in (or is), lower-case.
pub fn mg_of(path: &str) -> Option<String> {
    let lower = normalize(path).to_ascii_lowercase();
    let rest = lower.strip_prefix(MG_PREFIX)?;
    let name = rest.split('/').next().filter(|n| !n.is_empty())?;
    Some(name.to_string())
}

/// Management groups from `mg` up to the top, nearest first (cycles cut).
fn mg_chain(w: &World, mg: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = mg.map(str::to_ascii_lowercase);
    while let Some(name) = cur {
        if out.contains(&name) {
            break;
        }
        cur = w
            .management_groups
            .get(&name)
            .and_then(|g| g.parent.clone())
            .map(|p| p.to_ascii_lowercase());
        out.push(name);
    }
    out
}

/// Scopes above `scope` that its string form does not show: the management groups over its
/// subscription (or over the management group it names), lower-case.
pub fn hidden_ancestors(w: &World, scope: &str) -> Vec<String> {
    let chain = match (scope_subscription(scope), mg_of(scope)) {
        (Some(sub), _) => {
            let mg = w
                .subs
                .get(&sub.to_ascii_lowercase())
                .and_then(|s| s.management_group.clone());
            mg_chain(w, mg.as_deref())
        }
        (None, Some(mg)) => mg_chain(w, Some(&mg)).into_iter().skip(1).collect(),
        _ => Vec::new(),
    };
    chain
        .iter()
        .map(|m| mg_scope(m).to_ascii_lowercase())
        .collect()
}

/// `outer` is `inner` or above it, management groups included.
pub fn at_or_above(w: &World, outer: &str, inner: &str) -> bool {
    covers(outer, inner)
        || hidden_ancestors(w, inner).contains(&normalize(outer).to_ascii_lowercase())
}

/// The principal and every group it is a member of, directly or through other groups.
pub fn principal_and_groups(w: &World, oid: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::from([oid.to_ascii_lowercase()]);
    loop {
        let more: Vec<String> = w
            .group_members
            .iter()
            .filter(|(g, members)| !out.contains(*g) && members.iter().any(|m| out.contains(m)))
            .map(|(g, _)| g.clone())
            .collect();
        if more.is_empty() {
            return out;
        }
        out.extend(more);
    }
}

/// What subscriptions and management groups hold at, above or below `scope` (the ones whose
/// scope relates to it), picked by `mg` and `sub`.
fn near<'w, T>(
    w: &'w World,
    scope: &str,
    mg: fn(&ManagementGroup) -> &BTreeMap<String, T>,
    sub: fn(&Subscription) -> &BTreeMap<String, T>,
) -> Vec<&'w T> {
    let mut out: Vec<&T> = Vec::new();
    let mgs = hidden_ancestors(w, scope);
    for g in w.management_groups.values() {
        let gs = mg_scope(&g.name).to_ascii_lowercase();
        if mgs.contains(&gs) || at_or_above(w, scope, &gs) {
            out.extend(mg(g).values());
        }
    }
    for s in w.subs.values() {
        let ss = format!("/subscriptions/{}", s.id);
        if covers(&ss, scope) || at_or_above(w, scope, &ss) {
            out.extend(sub(s).values());
        }
    }
    out
}

/// Every role assignment that can be at, above or below `scope`: the subscription's and its
/// management groups', or a management group's subtree and chain.
pub fn assignments_near<'w>(w: &'w World, scope: &str) -> Vec<&'w RoleAssignment> {
    near(w, scope, |g| &g.role_assignments, |s| &s.role_assignments)
}

fn deny_assignments_near<'w>(w: &'w World, scope: &str) -> Vec<&'w DenyAssignment> {
    near(w, scope, |g| &g.deny_assignments, |s| &s.deny_assignments)
}

fn sub_of<'w>(w: &'w World, scope: &str) -> Option<&'w Subscription> {
    scope_subscription(scope).and_then(|s| w.subs.get(&s.to_ascii_lowercase()))
}

/// A deny assignment blocks `action` at `path` for one of `who`: it is at `path`, or above it
/// and not limited to its own scope (`doNotApplyToChildScopes`); it names one of them (or
/// everyone) and excludes none of them; one of its permissions covers the action.
pub fn deny_applies(
    w: &World,
    d: &DenyAssignment,
    who: &BTreeSet<String>,
    action: &str,
    data: bool,
    path: &str,
) -> bool {
    let p = &d.properties;
    let here = normalize(&p.scope).eq_ignore_ascii_case(&normalize(path));
    let inherited = !p.do_not_apply_to_child_scopes && at_or_above(w, &p.scope, path);
    let named = p
        .principals
        .iter()
        .any(|x| x.id.eq_ignore_ascii_case(EVERYONE) || who.contains(&x.id.to_ascii_lowercase()));
    let excluded = p
        .exclude_principals
        .iter()
        .any(|x| who.contains(&x.id.to_ascii_lowercase()));
    (here || inherited)
        && named
        && !excluded
        && p.permissions
            .iter()
            .any(|perm| perm_grants(perm, action, data))
}

/// ARM's decision for one of the emulator's own (control-plane) requests. A conditional
/// grant does not count: the emulator does not evaluate ABAC attributes.
pub fn permits(w: &World, oid: &str, action: &str, path: &str) -> bool {
    let who = principal_and_groups(w, oid);
    if deny_assignments_near(w, path)
        .into_iter()
        .any(|d| deny_applies(w, d, &who, action, false, path))
    {
        return false;
    }
    let sub = sub_of(w, path);
    assignments_near(w, path).into_iter().any(|ra| {
        who.contains(&ra.principal_id.to_ascii_lowercase())
            && ra.condition.is_none()
            && at_or_above(w, &ra.scope, path)
            && roles::find(sub, &ra.role_definition_guid).is_some_and(|r| {
                r.permissions
                    .iter()
                    .any(|p| p.condition.is_none() && perm_grants(p, action, false))
            })
    })
}

/// The front door's check for requests at a management-group scope (no subscription to
/// carry the tenant): the group must exist in the caller's tenant and the caller be allowed.
pub fn authorize_mg(
    w: &World,
    oid: &str,
    tid: &str,
    path: &str,
    action: &str,
) -> Result<(), ArmError> {
    let known = mg_of(path)
        .and_then(|m| w.management_groups.get(&m))
        .is_some_and(|g| g.tenant_id.eq_ignore_ascii_case(tid));
    if known && permits(w, oid, action, path) {
        return Ok(());
    }
    Err(ArmError::new(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        format!(
            "The client '{oid}' with object id '{oid}' does not have authorization to perform action '{action}' over scope '{path}' or the scope is invalid. If access was recently granted, please refresh your credentials."
        ),
    ))
}

/// Who a list filter asks about.
pub enum Who {
    Anyone,
    /// `principalId eq '{id}'`: that object exactly (a user, group or service principal).
    Exactly(String),
    /// `assignedTo('{id}')`: the object and every group it is in, transitively.
    AssignedTo(BTreeSet<String>),
}

impl Who {
    pub fn new(w: &World, principal_eq: Option<&str>, assigned_to: Option<&str>) -> Who {
        match (assigned_to, principal_eq) {
            (Some(a), _) => Who::AssignedTo(principal_and_groups(w, a)),
            (None, Some(p)) => Who::Exactly(p.to_ascii_lowercase()),
            (None, None) => Who::Anyone,
        }
    }

    pub fn admits(&self, principal: &str) -> bool {
        match self {
            Who::Anyone => true,
            Who::Exactly(p) => p.eq_ignore_ascii_case(principal),
            Who::AssignedTo(set) => set.contains(&principal.to_ascii_lowercase()),
        }
    }
}

/// The role assignments a list at `scope` returns: at or above it (management groups
/// included), plus below it unless `atScope()`, for `who`.
pub fn list_view<'w>(
    w: &'w World,
    scope: &str,
    at_scope: bool,
    who: &Who,
) -> Vec<&'w RoleAssignment> {
    assignments_near(w, scope)
        .into_iter()
        .filter(|ra| {
            at_or_above(w, &ra.scope, scope) || (!at_scope && at_or_above(w, scope, &ra.scope))
        })
        .filter(|ra| who.admits(&ra.principal_id))
        .collect()
}

type Held<'w> = (
    &'w mut BTreeMap<String, RoleAssignment>,
    &'w mut BTreeMap<String, DenyAssignment>,
);

/// Where a scope's role and deny assignments are kept: its subscription's, or its management
/// group's.
fn holder<'w>(w: &'w mut World, scope: &str) -> Result<Held<'w>, String> {
    if let Some(sub) = scope_subscription(scope) {
        let s = w
            .subs
            .get_mut(&sub.to_ascii_lowercase())
            .ok_or_else(|| format!("no subscription {sub}"))?;
        return Ok((&mut s.role_assignments, &mut s.deny_assignments));
    }
    let mg = mg_of(scope).ok_or_else(|| format!("unsupported scope {scope}"))?;
    let g = w
        .management_groups
        .get_mut(&mg)
        .ok_or_else(|| format!("no management group {mg}"))?;
    Ok((&mut g.role_assignments, &mut g.deny_assignments))
}

pub fn insert_assignment(w: &mut World, ra: RoleAssignment) -> Result<(), String> {
    let (roles, _) = holder(w, &ra.scope)?;
    roles.insert(ra.id.to_ascii_lowercase(), ra);
    Ok(())
}

pub fn insert_deny(w: &mut World, d: DenyAssignment) -> Result<(), String> {
    let (_, denies) = holder(w, &d.properties.scope)?;
    denies.insert(d.id.to_ascii_lowercase(), d);
    Ok(())
}

fn deny_json(d: &DenyAssignment) -> Value {
    json!({
        "properties": d.properties,
        "id": d.id,
        "type": "Microsoft.Authorization/denyAssignments",
        "name": d.name,
    })
}

/// The `$filter` forms the denyAssignments spec and deny-assignments-rest.md document.
enum DenyFilter {
    None,
    AtScope,
    AssignedTo(String),
    AtScopeAssignedTo(String),
    PrincipalId(String),
    Name(String),
    GdprExport(String),
}

fn quoted(s: &str) -> Option<&str> {
    s.trim().strip_prefix('\'')?.strip_suffix('\'')
}

fn parse_deny_filter(raw: &str) -> Option<DenyFilter> {
    let f = raw.trim();
    if f.is_empty() {
        return Some(DenyFilter::None);
    }
    let lower = f.to_ascii_lowercase();
    if lower == "atscope()" {
        return Some(DenyFilter::AtScope);
    }
    let assigned = |s: &str| -> Option<String> {
        let l = s.to_ascii_lowercase();
        let inner = l.strip_prefix("assignedto(")?.strip_suffix(')')?;
        quoted(inner)?;
        let start = s.find('(')? + 1;
        quoted(&s[start..s.len() - 1]).map(str::to_string)
    };
    if let Some(rest) = lower.strip_prefix("atscope() and ") {
        let tail = &f[f.len() - rest.len()..];
        return assigned(tail).map(DenyFilter::AtScopeAssignedTo);
    }
    if let Some(id) = assigned(f) {
        return Some(DenyFilter::AssignedTo(id));
    }
    for (key, make) in [
        (
            "principalid eq ",
            DenyFilter::PrincipalId as fn(String) -> DenyFilter,
        ),
        ("denyassignmentname eq ", DenyFilter::Name),
        ("gdprexportprincipalid eq ", DenyFilter::GdprExport),
    ] {
        if lower.starts_with(key) {
            return quoted(&f[key.len()..]).map(|v| make(v.to_string()));
        }
    }
    None
}

/// `DenyAssignments_List*`: at, above and below the scope unless `atScope()`; `assignedTo`
/// through groups; `gdprExportPrincipalId` returns only names and descriptions.
pub fn list_denies(req: &Req<'_>, scope: &str) -> ArmResult {
    let scope = normalize(scope);
    let raw = req.query_ci("$filter").unwrap_or("");
    let filter = parse_deny_filter(raw).ok_or_else(|| {
        ArmError::bad_request(
            "UnsupportedQuery",
            format!(
                "The filter '{raw}' is not supported. Supported filters are either 'atScope()' or 'principalId eq '{{value}}' or assignedTo('{{value}}') or 'atScope() and assignedTo('{{value}}')' or 'denyAssignmentName eq '{{value}}''."
            ),
        )
    })?;
    if scope == "/" && !matches!(filter, DenyFilter::AtScope | DenyFilter::Name(_)) {
        return Err(ArmError::bad_request(
            "UnsupportedQuery",
            "At the root scope a filter is required: atScope() or denyAssignmentName eq '{value}'.",
        ));
    }
    let w = req.st.world();
    let at_scope = matches!(
        filter,
        DenyFilter::AtScope | DenyFilter::AtScopeAssignedTo(_)
    );
    let who: Option<BTreeSet<String>> = match &filter {
        DenyFilter::AssignedTo(id) | DenyFilter::AtScopeAssignedTo(id) => {
            Some(principal_and_groups(&w, id))
        }
        DenyFilter::PrincipalId(id) => Some(BTreeSet::from([id.to_ascii_lowercase()])),
        _ => None,
    };
    let value: Vec<Value> = deny_assignments_near(&w, &scope)
        .into_iter()
        .filter(|d| {
            at_or_above(&w, &d.properties.scope, &scope)
                || (!at_scope && at_or_above(&w, &scope, &d.properties.scope))
        })
        .filter(|d| {
            let p = &d.properties;
            match (&filter, &who) {
                (DenyFilter::Name(n), _) => p.deny_assignment_name.eq_ignore_ascii_case(n),
                (DenyFilter::GdprExport(id), _) => p
                    .principals
                    .iter()
                    .chain(p.exclude_principals.iter())
                    .any(|x| x.id.eq_ignore_ascii_case(id)),
                (DenyFilter::PrincipalId(_), Some(set)) => p
                    .principals
                    .iter()
                    .any(|x| set.contains(&x.id.to_ascii_lowercase())),
                (_, Some(set)) => p.principals.iter().any(|x| {
                    x.id.eq_ignore_ascii_case(EVERYONE) || set.contains(&x.id.to_ascii_lowercase())
                }),
                _ => true,
            }
        })
        .map(|d| match filter {
            DenyFilter::GdprExport(_) => json!({
                "properties": {
                    "denyAssignmentName": d.properties.deny_assignment_name,
                    "description": d.properties.description,
                },
                "id": d.id,
                "type": "Microsoft.Authorization/denyAssignments",
                "name": d.name,
            }),
            _ => deny_json(d),
        })
        .collect();
    json(StatusCode::OK, json!({"value": value}))
}

/// `DenyAssignments_Get` (at a scope, by name) and `DenyAssignments_GetById` (the same path).
pub fn get_deny(req: &Req<'_>, scope: &str, name: &str) -> ArmResult {
    let id = format!(
        "{}/providers/Microsoft.Authorization/denyAssignments/{name}",
        normalize(scope).trim_end_matches('/')
    );
    let w = req.st.world();
    deny_assignments_near(&w, scope)
        .into_iter()
        .find(|d| d.id.eq_ignore_ascii_case(&id))
        .map(|d| json(StatusCode::OK, deny_json(d)))
        .unwrap_or_else(|| {
            Err(ArmError::new(
                StatusCode::NOT_FOUND,
                "DenyAssignmentNotFound",
                format!("The deny assignment '{name}' is not found."),
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_and_scope() {
        assert!(glob("*", "Microsoft.Authorization/roleAssignments/write"));
        assert!(glob(
            "*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/read"
        ));
        assert!(!glob(
            "*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/write"
        ));
        assert!(glob(
            "Microsoft.Authorization/*/Write",
            "microsoft.authorization/roleassignments/write"
        ));
        assert!(glob(
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read"
        ));
        assert!(covers(
            "/subscriptions/A",
            "/subscriptions/a/resourceGroups/x"
        ));
        assert!(!covers(
            "/subscriptions/a/resourceGroups/x",
            "/subscriptions/a/resourceGroups/xy"
        ));
        assert_eq!(
            mg_of(
                "/providers/Microsoft.Management/managementGroups/Mg1/providers/Microsoft.Authorization/roleAssignments"
            ),
            Some("mg1".into())
        );
    }

    #[test]
    fn deny_filters_are_the_documented_forms() {
        assert!(matches!(parse_deny_filter(""), Some(DenyFilter::None)));
        assert!(matches!(
            parse_deny_filter("atScope()"),
            Some(DenyFilter::AtScope)
        ));
        assert!(matches!(
            parse_deny_filter("atScope() and assignedTo('abc')"),
            Some(DenyFilter::AtScopeAssignedTo(id)) if id == "abc"
        ));
        assert!(matches!(
            parse_deny_filter("assignedTo('ABC')"),
            Some(DenyFilter::AssignedTo(id)) if id == "ABC"
        ));
        assert!(matches!(
            parse_deny_filter("denyAssignmentName eq 'x y'"),
            Some(DenyFilter::Name(n)) if n == "x y"
        ));
        assert!(matches!(
            parse_deny_filter("principalId eq 'p'"),
            Some(DenyFilter::PrincipalId(p)) if p == "p"
        ));
        for bad in [
            "principalId eq p",
            "atScope() or assignedTo('a')",
            "roleName eq 'x'",
        ] {
            assert!(parse_deny_filter(bad).is_none(), "{bad}");
        }
    }
}
