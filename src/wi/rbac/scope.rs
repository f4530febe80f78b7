//! RBAC scopes: `/`, `/providers/Microsoft.Management/managementGroups/{mg}`,
//! `/subscriptions/{sub}[/resourceGroups/{rg}[/providers/{ns}/{type}/{name}...]]`.
//! Permissions granted at a scope are inherited by every scope below it (overview.md, "Scope");
//! which management groups sit above a subscription only ARM knows, so the string shows the rest.

use serde::Serialize;

use crate::{
    error::InputError,
    wi::{identity::is_resource_group, names::is_guid},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "level"
)]
pub enum Level {
    Root,
    ManagementGroup {
        name: String,
    },
    Subscription {
        subscription: String,
    },
    ResourceGroup {
        subscription: String,
        resource_group: String,
    },
    Resource {
        subscription: String,
        resource_group: String,
        resource_type: String,
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    /// As given, with one leading `/` and no trailing one.
    pub id: String,
    #[serde(flatten)]
    pub level: Level,
}

const ACCEPTED: &str = "a resource id (/subscriptions/<guid>/resourceGroups/<rg>/providers/<namespace>/<type>/<name>), a resource group, subscription or management group scope, or /";

fn bad(value: &str) -> InputError {
    InputError::new("scope", value, ACCEPTED)
}

/// `providers/{ns}/{type}/{name}[/{type}/{name}...]`, with nested `providers` for extension
/// resources; returns the last `type` (qualified by its namespace) and name.
fn resource_part(segs: &[&str]) -> Option<(String, String)> {
    let mut i = 0;
    let mut last = None;
    while i < segs.len() {
        if !segs[i].eq_ignore_ascii_case("providers") {
            return None;
        }
        let ns = segs.get(i + 1)?;
        if !ns.contains('.') {
            return None;
        }
        i += 2;
        let mut types = vec![*ns];
        loop {
            let (t, n) = (segs.get(i)?, segs.get(i + 1)?);
            if t.eq_ignore_ascii_case("providers") || t.is_empty() || n.is_empty() {
                return None;
            }
            types.push(t);
            last = Some((types.join("/"), n.to_string()));
            i += 2;
            if i >= segs.len() || segs[i].eq_ignore_ascii_case("providers") {
                break;
            }
        }
    }
    last
}

impl Scope {
    pub fn parse(value: &str) -> Result<Scope, InputError> {
        let trimmed = value.trim();
        if trimmed.contains("://") || trimmed.contains(char::is_whitespace) {
            return Err(bad(value).with_hint(
                "give the resource id ARM uses, not a URL: `az resource show ... --query id`",
            ));
        }
        let id = format!("/{}", trimmed.trim_matches('/'));
        let segs: Vec<&str> = id.trim_start_matches('/').split('/').collect();
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let level = match segs.as_slice() {
            [""] => Level::Root,
            [p, ns, mgs, name]
                if eq(p, "providers")
                    && eq(ns, "Microsoft.Management")
                    && eq(mgs, "managementGroups")
                    && !name.is_empty() =>
            {
                Level::ManagementGroup {
                    name: name.to_string(),
                }
            }
            [s, sub, rest @ ..] if eq(s, "subscriptions") => {
                if !is_guid(sub) {
                    return Err(bad(value).with_hint("the subscription in a scope is its GUID"));
                }
                let subscription = sub.to_ascii_lowercase();
                match rest {
                    [] => Level::Subscription { subscription },
                    [g, rg, tail @ ..] if eq(g, "resourceGroups") && is_resource_group(rg) => {
                        let resource_group = rg.to_string();
                        if tail.is_empty() {
                            Level::ResourceGroup {
                                subscription,
                                resource_group,
                            }
                        } else {
                            let (resource_type, name) =
                                resource_part(tail).ok_or_else(|| bad(value))?;
                            Level::Resource {
                                subscription,
                                resource_group,
                                resource_type,
                                name,
                            }
                        }
                    }
                    _ => return Err(bad(value)),
                }
            }
            _ => return Err(bad(value)),
        };
        let id = if level == Level::Root {
            "/".to_string()
        } else {
            id
        };
        Ok(Scope { id, level })
    }

    pub fn subscription(&self) -> Option<&str> {
        match &self.level {
            Level::Subscription { subscription }
            | Level::ResourceGroup { subscription, .. }
            | Level::Resource { subscription, .. } => Some(subscription),
            _ => None,
        }
    }

    /// Where the principal's other assignments are listed for near misses: the subscription
    /// of the scope (at, above and below it), or the scope itself above subscriptions.
    pub fn neighbourhood(&self) -> String {
        match self.subscription() {
            Some(s) => format!("/subscriptions/{s}"),
            None => self.id.clone(),
        }
    }
}

fn norm(s: &str) -> String {
    s.trim_end_matches('/').to_ascii_lowercase()
}

pub fn same(a: &str, b: &str) -> bool {
    norm(a) == norm(b)
}

/// `outer` is `inner` or one of its ancestors by the string (management groups are not).
pub fn covers(outer: &str, inner: &str) -> bool {
    let (o, i) = (norm(outer), norm(inner));
    o.is_empty() || o == i || i.starts_with(&format!("{o}/"))
}

/// Scopes rooted at a subscription can be checked by their string; others only ARM places.
pub fn under_subscription(scope: &str) -> bool {
    norm(scope).starts_with("/subscriptions/")
}

/// How many leading segments two scopes share: a near miss at a sibling resource in the same
/// resource group is nearer than one in another resource group.
pub fn closeness(a: &str, b: &str) -> usize {
    norm(a)
        .split('/')
        .zip(norm(b).split('/'))
        .take_while(|(x, y)| x == y)
        .count()
}

/// A scope in a few characters, for tables: `/`, `mg:NAME`, `sub:1234abcd`, `rg:NAME`,
/// `TYPE/NAME` for a resource.
pub fn short(scope: &str) -> String {
    match Scope::parse(scope).map(|s| s.level) {
        Ok(Level::Root) => "/".into(),
        Ok(Level::ManagementGroup { name }) => format!("mg:{name}"),
        Ok(Level::Subscription { subscription }) => format!("sub:{}", &subscription[..8]),
        Ok(Level::ResourceGroup { resource_group, .. }) => format!("rg:{resource_group}"),
        Ok(Level::Resource {
            resource_type,
            name,
            ..
        }) => {
            let t = resource_type.rsplit('/').next().unwrap_or(&resource_type);
            format!("{t}/{name}")
        }
        Err(_) => scope.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "11111111-2222-3333-4444-555555555555";

    #[test]
    fn parses_each_level() {
        let r = Scope::parse(&format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct/blobServices/default/containers/c")).unwrap();
        assert_eq!(
            r.level,
            Level::Resource {
                subscription: SUB.into(),
                resource_group: "rg".into(),
                resource_type: "Microsoft.Storage/storageAccounts/blobServices/containers".into(),
                name: "c".into()
            }
        );
        assert_eq!(r.subscription(), Some(SUB));
        assert_eq!(r.neighbourhood(), format!("/subscriptions/{SUB}"));
        assert!(matches!(
            Scope::parse(&format!("subscriptions/{SUB}/resourcegroups/rg/"))
                .unwrap()
                .level,
            Level::ResourceGroup { .. }
        ));
        assert_eq!(Scope::parse("/").unwrap().level, Level::Root);
        let mg = Scope::parse("/providers/Microsoft.Management/managementGroups/corp").unwrap();
        assert_eq!(
            mg.level,
            Level::ManagementGroup {
                name: "corp".into()
            }
        );
        assert_eq!(mg.neighbourhood(), mg.id);
        // An extension resource under another resource.
        assert!(Scope::parse(&format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Insights/diagnosticSettings/d")).is_ok());
    }

    #[test]
    fn rejects_what_is_not_a_scope() {
        for bad in [
            "/subscriptions/not-a-guid",
            &format!("/subscriptions/{SUB}/resourceGroups"),
            &format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts"
            ),
            &format!("/subscriptions/{SUB}/resourceGroups/rg/providers/storageAccounts/acct"),
            &format!("/subscriptions/{SUB}/foo/bar"),
            "https://management.azure.com/subscriptions/x",
            "/providers/Microsoft.Management/managementGroups",
            "myStorageAccount",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn coverage_closeness_and_short_forms() {
        let rg = format!("/subscriptions/{SUB}/resourceGroups/rg");
        let acct = format!("{rg}/providers/Microsoft.Storage/storageAccounts/acct");
        assert!(covers(&rg, &acct));
        assert!(covers(&rg.to_uppercase(), &acct));
        assert!(!covers(&acct, &rg));
        assert!(!covers(&rg, &format!("{rg}x")));
        assert!(covers("/", &rg));
        let other = format!("{rg}/providers/Microsoft.Storage/storageAccounts/other");
        let far = format!(
            "/subscriptions/{SUB}/resourceGroups/rg2/providers/Microsoft.Storage/storageAccounts/acct"
        );
        assert!(closeness(&acct, &other) > closeness(&acct, &far));
        assert_eq!(short(&acct), "storageAccounts/acct");
        assert_eq!(short(&rg), "rg:rg");
        assert_eq!(short(&format!("/subscriptions/{SUB}")), "sub:11111111");
        assert_eq!(
            short("/providers/Microsoft.Management/managementGroups/corp"),
            "mg:corp"
        );
        assert!(
            under_subscription(&rg)
                && !under_subscription("/providers/Microsoft.Management/managementGroups/x")
        );
    }
}
