//! OIDC issuer URLs: validation and the differences Entra is strict about.

use crate::error::InputError;

/// Validates a user-supplied issuer: Entra only fetches discovery over https.
pub fn parse(value: &str) -> Result<String, InputError> {
    let expected = "an https URL such as https://eastus.oic.prod-aks.azure.com/<tenant>/<uuid>/";
    let Some(rest) = value.strip_prefix("https://") else {
        let e = InputError::new("issuer", value, expected);
        return Err(if value.starts_with("http://") {
            e.with_hint("Entra fetches the issuer's discovery document over https only; serve it over https")
        } else {
            e
        });
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || value.contains(['?', '#', ' ']) || value.len() > 600 {
        return Err(InputError::new("issuer", value, expected));
    }
    Ok(value.to_string())
}

/// Whether the issuer is an in-cluster name Entra cannot reach. A cluster without a public OIDC
/// issuer puts its API server's in-cluster URL in tokens: AKS before `--enable-oidc-issuer`
/// issues `https://kubernetes.default.svc.cluster.local` (seen by Entra as "Assertion Issuer:
/// 'https://kubernetes.default.svc.cluster.local'", Azure/azure-workload-identity#616).
pub fn is_in_cluster(value: &str) -> bool {
    let host = value
        .trim_start_matches("https://")
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    host == "kubernetes"
        || host.ends_with(".svc")
        || host.ends_with(".svc.cluster.local")
        || host.ends_with(".cluster.local")
}

/// The fix for an AKS cluster whose tokens Entra cannot use (Microsoft Learn, "Deploy and
/// configure workload identity on an AKS cluster": `az aks update ... --enable-oidc-issuer
/// --enable-workload-identity`).
pub fn aks_fix(resource_group: &str, cluster: &str) -> String {
    format!(
        "az aks update -g {resource_group} -n {cluster} --enable-oidc-issuer --enable-workload-identity"
    )
}

/// How two issuer strings differ, in the words a person needs. Entra compares issuers
/// character for character, so every difference is named as what it is.
pub fn difference(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let trailing = |s: &str| s.len() - s.trim_end_matches('/').len();
    let (want, have) = (trailing(expected), trailing(actual));
    Some(
        if expected.trim_end_matches('/') == actual.trim_end_matches('/') {
            match (want, have) {
                (1, 0) => format!("'{actual}' lacks the trailing '/' of '{expected}'"),
                (0, 1) => format!("'{actual}' has a trailing '/' that '{expected}' lacks"),
                (w, h) if h > w => format!(
                    "'{actual}' ends in {h} '/' where '{expected}' ends in {w}: {} too many",
                    h - w
                ),
                (w, h) => format!(
                    "'{actual}' ends in {h} '/' where '{expected}' ends in {w}: {} missing",
                    w - h
                ),
            }
        } else if let Some(at) = doubled_slash(expected, actual) {
            format!("'{actual}' has one '/' too many after '{at}' (expected '{expected}')")
        } else if let Some(at) = doubled_slash(actual, expected) {
            format!("'{actual}' lacks a '/' after '{at}' (expected '{expected}')")
        } else if expected.eq_ignore_ascii_case(actual) {
            format!(
                "'{actual}' differs from '{expected}' only in letter case (matching is case-sensitive)"
            )
        } else {
            char_diff(expected, actual)
        },
    )
}

/// Where `longer` has a "//" in its path that `shorter` has as "/", when that is the only
/// difference: the common prefix up to it.
fn doubled_slash<'a>(shorter: &str, longer: &'a str) -> Option<&'a str> {
    let path_start = longer.find("://").map_or(0, |i| i + 3);
    let at = longer[path_start..].find("//")? + path_start;
    let rebuilt = format!("{}{}", &longer[..at], &longer[at + 1..]);
    (rebuilt == shorter).then(|| &longer[..=at])
}

/// Marks where two strings part: the common prefix, then each side's rest.
pub fn char_diff(expected: &str, actual: &str) -> String {
    let common = expected
        .char_indices()
        .zip(actual.chars())
        .take_while(|((_, a), b)| a == b)
        .last()
        .map(|((i, c), _)| i + c.len_utf8())
        .unwrap_or(0);
    format!(
        "differs after '{}': expected '{}', found '{}'",
        &expected[..common],
        &expected[common..],
        &actual[common..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_only() {
        assert!(parse("https://eastus.oic.prod-aks.azure.com/t/u/").is_ok());
        let e = parse("http://127.0.0.1/").unwrap_err();
        assert!(e.hint.unwrap().contains("https"));
        for bad in [
            "",
            "https://",
            "ftp://x",
            "https://x/?a=b",
            "eastus.oic.prod-aks.azure.com",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn in_cluster_issuers_are_recognised() {
        for v in [
            "https://kubernetes.default.svc.cluster.local",
            "https://kubernetes.default.svc",
            "https://kubernetes.default.svc.cluster.local.",
            "https://KUBERNETES.default.svc:443/",
        ] {
            assert!(is_in_cluster(v), "{v}");
        }
        for v in [
            "https://eastus.oic.prod-aks.azure.com/t/u/",
            "https://127.0.0.1:8443/t/u/",
            "https://oidc.example.com/svc/",
        ] {
            assert!(!is_in_cluster(v), "{v}");
        }
    }

    #[test]
    fn names_the_trailing_slash() {
        let d = difference("https://i/t/u/", "https://i/t/u").unwrap();
        assert!(d.contains("lacks the trailing '/'"), "{d}");
        let d = difference("https://i/t/u", "https://i/t/u/").unwrap();
        assert!(d.contains("has a trailing '/'"), "{d}");
        assert!(
            difference("https://I/t", "https://i/t")
                .unwrap()
                .contains("letter case")
        );
        assert_eq!(difference("https://i/", "https://i/"), None);
        let d = difference("https://a.example/t/1/", "https://a.example/t/2/").unwrap();
        assert_eq!(
            d,
            "differs after 'https://a.example/t/': expected '1/', found '2/'"
        );
    }

    #[test]
    fn names_extra_and_missing_slashes_as_they_are() {
        let iss = "https://oidc.example/t/u/";
        let d = difference(iss, "https://oidc.example/t/u//").unwrap();
        assert_eq!(
            d,
            "'https://oidc.example/t/u//' ends in 2 '/' where 'https://oidc.example/t/u/' ends in 1: 1 too many"
        );
        assert!(!d.contains("lacks"), "{d}");
        let d = difference("https://oidc.example/t/u//", iss).unwrap();
        assert!(d.contains("1 missing"), "{d}");
        let d = difference(iss, "https://oidc.example/t//u/").unwrap();
        assert_eq!(
            d,
            "'https://oidc.example/t//u/' has one '/' too many after 'https://oidc.example/t/' (expected 'https://oidc.example/t/u/')"
        );
        let d = difference(iss, "https://oidc.exampletu/").unwrap();
        assert!(d.starts_with("differs after"), "{d}");
        let d = difference("https://oidc.example//t/u/", iss).unwrap();
        assert!(
            d.contains("lacks a '/' after 'https://oidc.example/'"),
            "{d}"
        );
    }
}
