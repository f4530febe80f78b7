//! Pure rules on names: Kubernetes names, GUIDs, the federated subject and the credential name.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InputError;

/// A GUID in its canonical 8-4-4-4-12 hex form, stored lower-case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Guid(String);

impl Guid {
    /// Parses `value` as a GUID; `what` names the input in the error ("client id").
    pub fn parse(what: &'static str, value: &str) -> Result<Self, InputError> {
        if is_guid(value) {
            Ok(Guid(value.to_ascii_lowercase()))
        } else {
            Err(InputError::new(
                what,
                value,
                "a GUID like 00000000-0000-0000-0000-000000000000",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn is_guid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// RFC 1123 label: namespaces, and the `NAME` part that must also be a label.
pub fn is_dns_label(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
}

/// RFC 1123 subdomain: ServiceAccounts, Pods, Deployments.
pub fn is_dns_subdomain(value: &str) -> bool {
    value.len() <= 253 && value.split('.').all(is_dns_label)
}

pub fn namespace(value: &str) -> Result<String, InputError> {
    if is_dns_label(value) {
        Ok(value.to_string())
    } else {
        Err(InputError::new(
            "namespace",
            value,
            "a DNS label: lower-case letters, digits and '-', at most 63, starting and ending alphanumeric",
        ))
    }
}

pub fn object_name(what: &'static str, value: &str) -> Result<String, InputError> {
    if is_dns_subdomain(value) {
        Ok(value.to_string())
    } else {
        Err(InputError::new(
            what,
            value,
            "a DNS subdomain: lower-case letters, digits, '-' and '.', at most 253",
        ))
    }
}

/// The subject a projected token of `namespace/service_account` carries.
pub fn subject(namespace: &str, service_account: &str) -> String {
    format!("system:serviceaccount:{namespace}:{service_account}")
}

/// Splits a Kubernetes service-account subject into (namespace, name).
pub fn parse_subject(subject: &str) -> Option<(&str, &str)> {
    let rest = subject.strip_prefix("system:serviceaccount:")?;
    let (ns, name) = rest.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
}

/// Whether `name` is a valid federated identity credential name on a managed identity.
pub fn is_credential_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=120).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

/// A deterministic, readable credential name for (issuer, namespace, service account).
///
/// The hash of issuer and subject keeps two clusters binding the same `ns/sa` to one identity
/// apart, and makes a re-run pick the same name.
pub fn credential_name(issuer: &str, namespace: &str, service_account: &str) -> String {
    let digest = fnv1a64(format!("{issuer}\n{}", subject(namespace, service_account)).as_bytes());
    let readable: String = format!("{namespace}-{service_account}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    // "azwi-" + readable + "-" + 12 hex digits <= 120
    let budget = 120 - "azwi-".len() - 1 - 12;
    let readable = &readable[..readable.len().min(budget)];
    format!("azwi-{readable}-{:012x}", digest & 0xffff_ffff_ffff)
}

/// FNV-1a: stable across releases and platforms, unlike `DefaultHasher`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids() {
        for ok in [
            "00000000-0000-0000-0000-000000000000",
            "A1B2C3D4-e5f6-7890-abcd-ef0123456789",
        ] {
            assert!(is_guid(ok), "{ok}");
        }
        for bad in [
            "",
            "not-a-guid",
            "00000000-0000-0000-0000-00000000000",
            "{00000000-0000-0000-0000-000000000000}",
            "0000000000000000000000000000000000000",
        ] {
            assert!(!is_guid(bad), "{bad}");
        }
        assert_eq!(
            Guid::parse("client id", "A1B2C3D4-E5F6-7890-ABCD-EF0123456789")
                .unwrap()
                .as_str(),
            "a1b2c3d4-e5f6-7890-abcd-ef0123456789"
        );
        let err = Guid::parse("client id", "abc").unwrap_err();
        assert!(err.to_string().contains("client id"), "{err}");
    }

    #[test]
    fn kubernetes_names() {
        assert!(is_dns_label("default"));
        assert!(is_dns_label("a-1"));
        for bad in ["", "-a", "a-", "A", "a_b", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad}");
        }
        assert!(is_dns_subdomain("workload-identity-sa"));
        assert!(is_dns_subdomain("a.b-c"));
        assert!(!is_dns_subdomain("a..b"));
        assert!(!is_dns_subdomain("Workload"));
        assert!(namespace("Bad_NS").is_err());
        assert!(object_name("service account", "sa/x").is_err());
    }

    #[test]
    fn subjects() {
        assert_eq!(
            subject("default", "workload-identity-sa"),
            "system:serviceaccount:default:workload-identity-sa"
        );
        assert_eq!(
            parse_subject("system:serviceaccount:ns:sa"),
            Some(("ns", "sa"))
        );
        assert_eq!(parse_subject("system:serviceaccount:ns"), None);
        assert_eq!(parse_subject("repo:org/x:ref:refs/heads/main"), None);
    }

    #[test]
    fn credential_names_are_valid_deterministic_and_distinct() {
        let a = credential_name("https://issuer/t/u/", "default", "workload-identity-sa");
        assert!(is_credential_name(&a), "{a}");
        assert!(a.starts_with("azwi-default-workload-identity-sa-"), "{a}");
        assert_eq!(
            a,
            credential_name("https://issuer/t/u/", "default", "workload-identity-sa")
        );
        assert_ne!(
            a,
            credential_name("https://issuer/t/u", "default", "workload-identity-sa")
        );
        let long = credential_name("https://i/", &"n".repeat(63), &"s.".repeat(120));
        assert!(is_credential_name(&long), "{long}");
        assert_eq!(long.len(), 120);
    }

    #[test]
    fn credential_name_pattern() {
        assert!(is_credential_name("abc"));
        assert!(is_credential_name("a_b-c"));
        for bad in ["ab", "-abc", "_abc", "a.bc", "a bc", &"a".repeat(121)] {
            assert!(!is_credential_name(bad), "{bad}");
        }
    }
}
