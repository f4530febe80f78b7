//! `--identity NAME|CLIENT-ID|RESOURCE-ID`: which form the user gave, parsed before any call.

use serde::Serialize;

use super::names::{Guid, is_guid};
use crate::error::InputError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "by")]
pub enum IdentityRef {
    /// A client (application) id. Could also be a principal id by mistake: resolved later.
    ClientId {
        client_id: Guid,
    },
    ResourceId {
        id: ResourceId,
    },
    /// A name, resolved in `-g`.
    Name {
        name: String,
    },
}

/// `/subscriptions/S/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceId {
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
}

impl ResourceId {
    /// The canonical path, in ARM's spelling (`resourcegroups` lower-case, as ARM returns ids).
    pub fn path(&self) -> String {
        format!(
            "/subscriptions/{}/resourcegroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    /// The id as Azure documents it (`/resourceGroups/`): the spelling case-sensitive parsers
    /// require, such as azurerm's (hashicorp/go-azure-helpers, resourcemanager/commonids/
    /// user_assigned_identity.go: `ValidateUserAssignedIdentityID` parses with
    /// `insensitively = false` against the static segment `resourceGroups`).
    pub fn canonical(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    pub fn parse(value: &str) -> Option<ResourceId> {
        let parts: Vec<&str> = value.trim_end_matches('/').split('/').collect();
        match parts.as_slice() {
            ["", subs, sub, rgs, rg, providers, ns, kind, name]
                if subs.eq_ignore_ascii_case("subscriptions")
                    && rgs.eq_ignore_ascii_case("resourcegroups")
                    && providers.eq_ignore_ascii_case("providers")
                    && ns.eq_ignore_ascii_case("Microsoft.ManagedIdentity")
                    && kind.eq_ignore_ascii_case("userAssignedIdentities")
                    && is_guid(sub)
                    && is_resource_group(rg)
                    && is_identity_name(name) =>
            {
                Some(ResourceId {
                    subscription: sub.to_ascii_lowercase(),
                    resource_group: rg.to_string(),
                    name: name.to_string(),
                })
            }
            _ => None,
        }
    }
}

/// User-assigned identity names: 3-128 of letters, digits, '-' and '_', starting alphanumeric.
pub fn is_identity_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=128).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

/// Resource group names: 1-90 of letters, digits, '-', '_', '.', '(' and ')', not ending in '.'.
pub fn is_resource_group(name: &str) -> bool {
    (1..=90).contains(&name.len())
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
}

pub fn resource_group(value: &str) -> Result<String, InputError> {
    if is_resource_group(value) {
        Ok(value.to_string())
    } else {
        Err(InputError::new(
            "resource group",
            value,
            "1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'",
        ))
    }
}

impl IdentityRef {
    pub fn parse(value: &str) -> Result<IdentityRef, InputError> {
        if is_guid(value) {
            return Ok(IdentityRef::ClientId {
                client_id: Guid::parse("client id", value)?,
            });
        }
        if value.starts_with('/') {
            return ResourceId::parse(value).map(|id| IdentityRef::ResourceId { id }).ok_or_else(|| {
                InputError::new(
                    "identity resource id",
                    value,
                    "/subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>",
                )
            });
        }
        // A mistyped GUID would otherwise pass as a name and fail later as "not found".
        let looks_like_guid = (30..=40).contains(&value.len())
            && value.matches('-').count() == 4
            && value
                .chars()
                .all(|c| c.is_ascii_hexdigit() || matches!(c, '-' | '{' | '}'));
        if is_identity_name(value) && !looks_like_guid {
            return Ok(IdentityRef::Name {
                name: value.to_string(),
            });
        }
        let e = InputError::new(
            "identity",
            value,
            "a name (3-128 of letters, digits, '-', '_'), a client id GUID, or a resource id",
        );
        Err(if looks_like_guid {
            e.with_hint(
                "a client id is a GUID like 00000000-0000-0000-0000-000000000000 (no braces)",
            )
        } else {
            e
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_forms() {
        assert!(matches!(
            IdentityRef::parse("11111111-2222-3333-4444-555555555555").unwrap(),
            IdentityRef::ClientId { .. }
        ));
        assert_eq!(
            IdentityRef::parse("myIdentity").unwrap(),
            IdentityRef::Name {
                name: "myIdentity".into()
            }
        );
        let id = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/myRG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/myIdentity";
        let IdentityRef::ResourceId { id } = IdentityRef::parse(id).unwrap() else {
            panic!()
        };
        assert_eq!(id.resource_group, "myRG");
        assert_eq!(
            id.path(),
            "/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/myRG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/myIdentity"
        );
    }

    #[test]
    fn bad_identities() {
        for bad in [
            "a",
            "my identity",
            "/subscriptions/x/resourceGroups/rg",
            "{11111111-2222-3333-4444-555555555555}",
        ] {
            assert!(IdentityRef::parse(bad).is_err(), "{bad}");
        }
        assert!(
            IdentityRef::parse("11111111-2222-3333-4444-55555555555")
                .unwrap_err()
                .hint
                .is_some()
        );
        assert!(resource_group("rg.").is_err());
        assert!(resource_group("my_rg(1)").is_ok());
    }
}
