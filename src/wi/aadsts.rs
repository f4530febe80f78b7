//! Entra token-endpoint error codes seen with workload identity, and what to do about each.

/// Meaning and fix of an AADSTS code, if it is one workload identity users meet.
pub fn explain(code: u32) -> Option<(&'static str, &'static str)> {
    Some(match code {
        70021 => (
            "no federated credential matches the token (or a new one has not propagated yet)",
            "compare the token's iss/sub/aud with the identity's credentials (`kubectl azwi doctor`); a credential created in the last minutes may still be propagating: wait and retry",
        ),
        70025 => (
            "the identity has no federated credential Entra can see (none exists, or the first one has not propagated yet)",
            "create the credential for this service account: `kubectl azwi bind SA --identity ID` (`kubectl azwi doctor` names both); if you just did, wait a minute or two and retry",
        ),
        700211 => (
            "no federated credential has the token's issuer",
            "the credential's issuer must equal the cluster's OIDC issuer character for character, trailing '/' included",
        ),
        700212 => (
            "no federated credential has the token's audience",
            "use the token from the webhook's projected volume (audience api://AzureADTokenExchange)",
        ),
        700213 => (
            "no federated credential has the token's subject",
            "the pod runs as another service account or namespace than the credential names: fix serviceAccountName or bind that account",
        ),
        700024 => (
            "the token is outside its valid time range (expired or not yet valid)",
            "re-read AZURE_FEDERATED_TOKEN_FILE before each exchange (the kubelet rotates it); check node clock skew",
        ),
        90061 | 50166 => (
            "Entra could not fetch the issuer's discovery document or keys",
            "the issuer's /.well-known/openid-configuration and JWKS must be reachable anonymously over https",
        ),
        700016 => (
            "no application with this client id in the tenant (or an application without a service principal there)",
            "annotate the service account with the identity's or application's client id (not a principal/object id) and check the tenant; an application needs a service principal in the tenant: az ad sp create --id CLIENT_ID",
        ),
        // "Application '…'(…) is disabled." (MicrosoftDocs/azure-docs#28469, Worklytics/psoxy#74).
        7000112 => (
            "the application's service principal is disabled",
            "enable it: az ad sp update --id CLIENT_ID --set accountEnabled=true",
        ),
        7000215 => (
            "an invalid client secret was presented",
            "a stray client secret is being used instead of the federated token: remove AZURE_CLIENT_SECRET from the pod",
        ),
        700027 => (
            "the assertion's signature does not verify against the issuer's keys",
            "the issuer's JWKS lacks the key that signed the token (key rotation or wrong issuer)",
        ),
        _ => return None,
    })
}

/// The first AADSTS code in an error description or `error_codes`.
pub fn code_in(text: &str) -> Option<u32> {
    let start = text.find("AADSTS")? + "AADSTS".len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_code_has_a_fix() {
        for code in [
            70021, 70025, 700211, 700212, 700213, 700024, 90061, 50166, 700016, 7000215, 700027,
        ] {
            let (meaning, fix) = explain(code).unwrap();
            assert!(!meaning.is_empty() && !fix.is_empty(), "{code}");
        }
        assert_eq!(explain(1), None);
    }

    #[test]
    fn finds_the_code_in_a_description() {
        assert_eq!(
            code_in("AADSTS700211: No matching federated identity record"),
            Some(700211)
        );
        assert_eq!(code_in("no code"), None);
    }
}
