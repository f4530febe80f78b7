//! The ACTION of `can-i`: a full Azure RBAC action string, or a short name for a common one,
//! and its plane. ARM matches a data action only against `dataActions` and a control-plane
//! action only against `actions` (role-definitions.md, "Control and data actions"), so which
//! plane an action is on decides the answer.

use serde::Serialize;

use crate::error::InputError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Plane {
    /// Management operations through ARM, matched against `actions`/`notActions`.
    Control,
    /// Operations on the data a resource holds, matched against `dataActions`/`notDataActions`.
    Data,
}

impl Plane {
    pub fn describe(self) -> &'static str {
        match self {
            Plane::Control => "control-plane action",
            Plane::Data => "data action",
        }
    }
}

/// A common action by a short name, with the narrowest built-in role that grants it.
#[derive(Debug, Clone, Copy)]
pub struct Short {
    pub name: &'static str,
    pub action: &'static str,
    pub plane: Plane,
    /// The built-in role with the fewest and narrowest permissions that grants the action
    /// (checked against Microsoft's published role list in the tests).
    pub role: &'static str,
}

const fn short(
    name: &'static str,
    action: &'static str,
    plane: Plane,
    role: &'static str,
) -> Short {
    Short {
        name,
        action,
        plane,
        role,
    }
}

/// Operation names from Microsoft's resource-provider operations reference and the built-in
/// roles that list them (MicrosoftDocs/azure-docs articles/role-based-access-control/).
pub const SHORT_NAMES: &[Short] = &[
    short(
        "blob-read",
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
        Plane::Data,
        "Storage Blob Data Reader",
    ),
    short(
        "blob-write",
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
        Plane::Data,
        "Storage Blob Data Contributor",
    ),
    short(
        "blob-delete",
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
        Plane::Data,
        "Storage Blob Data Contributor",
    ),
    short(
        "queue-read",
        "Microsoft.Storage/storageAccounts/queueServices/queues/messages/read",
        Plane::Data,
        "Storage Queue Data Reader",
    ),
    short(
        "queue-send",
        "Microsoft.Storage/storageAccounts/queueServices/queues/messages/add/action",
        Plane::Data,
        "Storage Queue Data Message Sender",
    ),
    short(
        "queue-process",
        "Microsoft.Storage/storageAccounts/queueServices/queues/messages/process/action",
        Plane::Data,
        "Storage Queue Data Message Processor",
    ),
    short(
        "secret-read",
        "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        Plane::Data,
        "Key Vault Secrets User",
    ),
    short(
        "secret-write",
        "Microsoft.KeyVault/vaults/secrets/setSecret/action",
        Plane::Data,
        "Key Vault Secrets Officer",
    ),
    short(
        "acr-pull",
        "Microsoft.ContainerRegistry/registries/pull/read",
        Plane::Control,
        "AcrPull",
    ),
    short(
        "acr-push",
        "Microsoft.ContainerRegistry/registries/push/write",
        Plane::Control,
        "AcrPush",
    ),
    short(
        "servicebus-send",
        "Microsoft.ServiceBus/namespaces/messages/send/action",
        Plane::Data,
        "Azure Service Bus Data Sender",
    ),
    short(
        "servicebus-receive",
        "Microsoft.ServiceBus/namespaces/messages/receive/action",
        Plane::Data,
        "Azure Service Bus Data Receiver",
    ),
    short(
        "eventhubs-send",
        "Microsoft.EventHub/namespaces/messages/send/action",
        Plane::Data,
        "Azure Event Hubs Data Sender",
    ),
    short(
        "eventhubs-receive",
        "Microsoft.EventHub/namespaces/messages/receive/action",
        Plane::Data,
        "Azure Event Hubs Data Receiver",
    ),
    short(
        "eventgrid-send",
        "Microsoft.EventGrid/events/send/action",
        Plane::Data,
        "EventGrid Data Sender",
    ),
    short(
        "aks-credentials",
        "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
        Plane::Control,
        "Azure Kubernetes Service Cluster User Role",
    ),
    short(
        "role-assign",
        "Microsoft.Authorization/roleAssignments/write",
        Plane::Control,
        "Role Based Access Control Administrator",
    ),
];

/// Data operations by family. Only patterns that no control-plane operation matches: Key
/// Vault's `vaults/secrets/read` is a control-plane operation while `secrets/getSecret/action`
/// is a data one, so Key Vault is listed by its `/action` data operations only.
const DATA_PATTERNS: &[&str] = &[
    "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*",
    "Microsoft.Storage/storageAccounts/queueServices/queues/messages/*",
    "Microsoft.Storage/storageAccounts/fileServices/fileshares/files/*",
    "Microsoft.Storage/storageAccounts/tableServices/tables/entities/*",
    "Microsoft.KeyVault/vaults/secrets/*/action",
    "Microsoft.KeyVault/vaults/keys/*/action",
    "Microsoft.KeyVault/vaults/certificates/*/action",
    "Microsoft.ServiceBus/*/send/action",
    "Microsoft.ServiceBus/*/receive/action",
    "Microsoft.EventHub/*/send/action",
    "Microsoft.EventHub/*/receive/action",
    "Microsoft.EventGrid/events/*",
    "Microsoft.AppConfiguration/configurationStores/keyValues/*",
    "Microsoft.CognitiveServices/accounts/OpenAI/*",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// The full action string ARM evaluates.
    pub name: String,
    pub plane: Plane,
    /// The short name it was given by, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short: Option<&'static str>,
    /// The role the short-name table suggests.
    #[serde(skip)]
    pub suggested_role: Option<&'static str>,
}

/// Case-insensitive glob where `*` matches any run of characters, `/` included: RBAC's
/// wildcard ("`*/read` grants read actions for all resource types", role-definitions.md).
pub fn glob(pattern: &str, s: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let s = s.to_ascii_lowercase();
    let mut parts = p.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = s.strip_prefix(first) else {
        return false;
    };
    let tail: Vec<&str> = parts.collect();
    let Some((last, middle)) = tail.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(pos) => rest = &rest[pos + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

const ACCEPTED: &str = "an action like Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read, or a short name";

fn short_list() -> String {
    SHORT_NAMES
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `Provider.Namespace/type[/...]/operation`: letters, digits, `.`, `_`, `-` per segment.
fn well_formed(value: &str) -> bool {
    let segs: Vec<&str> = value.split('/').collect();
    segs.len() >= 2
        && segs[0].contains('.')
        && segs.iter().all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

impl Action {
    /// A short name or a full action; `force_data` marks an action this table does not know
    /// as a data action.
    pub fn parse(value: &str, force_data: bool) -> Result<Action, InputError> {
        let value = value.trim();
        if let Some(s) = SHORT_NAMES
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(value))
        {
            return Ok(Action {
                name: s.action.to_string(),
                plane: s.plane,
                short: Some(s.name),
                suggested_role: Some(s.role),
            });
        }
        if value.contains('*') {
            return Err(InputError::new("action", value, ACCEPTED)
                .with_hint("ask about one action: wildcards belong in role definitions"));
        }
        if !well_formed(value) {
            return Err(InputError::new("action", value, ACCEPTED)
                .with_hint(format!("short names: {}", short_list())));
        }
        let known = SHORT_NAMES
            .iter()
            .find(|s| s.action.eq_ignore_ascii_case(value));
        let data = force_data
            || known.is_some_and(|s| s.plane == Plane::Data)
            || DATA_PATTERNS.iter().any(|p| glob(p, value));
        Ok(Action {
            name: value.to_string(),
            plane: if data { Plane::Data } else { Plane::Control },
            short: known.map(|s| s.name),
            suggested_role: known.map(|s| s.role),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_is_rbac_wildcards() {
        // custom-roles.md "Wildcard permissions": case-insensitive, `*` spans segments.
        for (p, s, want) in [
            ("*", "Microsoft.Authorization/roleAssignments/write", true),
            ("*/read", "Microsoft.Compute/virtualMachines/read", true),
            ("*/read", "Microsoft.Compute/virtualMachines/write", false),
            (
                "Microsoft.Authorization/*/Write",
                "microsoft.authorization/roleassignments/write",
                true,
            ),
            (
                "Microsoft.EventHub/*/receive/action",
                "Microsoft.EventHub/namespaces/messages/receive/action",
                true,
            ),
            (
                "Microsoft.KeyVault/vaults/*/read",
                "Microsoft.KeyVault/vaults/read",
                false,
            ),
            ("Microsoft.Storage/*", "Microsoft.Storagex/a", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "acb", false),
            ("exact", "EXACT", true),
        ] {
            assert_eq!(glob(p, s), want, "{p} ~ {s}");
        }
    }

    #[test]
    fn short_names_and_planes() {
        let a = Action::parse("blob-read", false).unwrap();
        assert_eq!(
            a.name,
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
        );
        assert_eq!(a.plane, Plane::Data);
        let a = Action::parse(
            "microsoft.storage/storageAccounts/blobServices/containers/blobs/read",
            false,
        )
        .unwrap();
        assert_eq!(a.plane, Plane::Data, "full strings work, any case");
        assert_eq!(a.short, Some("blob-read"));
        let a = Action::parse("Microsoft.KeyVault/vaults/secrets/read", false).unwrap();
        assert_eq!(a.plane, Plane::Control, "secret metadata via ARM");
        let a = Action::parse("Microsoft.KeyVault/vaults/secrets/getSecret/action", false).unwrap();
        assert_eq!(a.plane, Plane::Data);
        let a = Action::parse("Contoso.Widgets/widgets/frob/action", true).unwrap();
        assert_eq!(a.plane, Plane::Data, "--data-action");
        for bad in [
            "Microsoft.Storage/*",
            "blobread",
            "read",
            "Microsoft.Storage//x",
            "https://x/y",
        ] {
            assert!(Action::parse(bad, false).is_err(), "{bad}");
        }
        assert!(
            Action::parse("blobread", false)
                .unwrap_err()
                .hint
                .unwrap()
                .contains("blob-read")
        );
    }
}
