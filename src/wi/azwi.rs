//! How upstream `azwi serviceaccount create` names what it makes (Azure/azure-workload-identity
//! v1.6.0 `pkg/cmd/serviceaccount/`, summarised in docs: identity-bindings §9), so bindings set
//! up with it are recognised by inspect and adopted by bind, never duplicated.

use aws_lc_rs::digest;
use base64::Engine;

/// Go's `base64.URLEncoding` (URL alphabet, padded) of a SHA-256.
fn b64_sha256(input: &str) -> String {
    let d = digest::digest(&digest::SHA256, input.as_bytes());
    base64::engine::general_purpose::URL_SAFE.encode(d.as_ref())
}

/// The federated credential's name: base64url(sha256("<ns>-<sa>-<issuer>")), 44 characters.
pub fn credential_name(namespace: &str, service_account: &str, issuer: &str) -> String {
    b64_sha256(&format!("{namespace}-{service_account}-{issuer}"))
}

/// The application's default display name: `<ns>-<sa>-<base64url(sha256(issuer))>`.
pub fn application_name(namespace: &str, service_account: &str, issuer: &str) -> String {
    format!("{namespace}-{service_account}-{}", b64_sha256(issuer))
}

/// The credential's description.
pub fn description(namespace: &str, service_account: &str) -> String {
    format!("Federated Service Account for {namespace}/{service_account}")
}

/// Releases before the hashed names used one fixed name for every credential (the
/// `NewFederatedCredential` of their `pkg/cloud`).
pub const LEGACY_CREDENTIAL_NAME: &str = "federatedcredential-from-cli";

/// Whether a credential for `namespace/service_account` was made by `azwi serviceaccount
/// create`: its name scheme (current or legacy) or its description.
pub fn made_it(
    namespace: &str,
    service_account: &str,
    issuer: &str,
    name: &str,
    desc: Option<&str>,
) -> bool {
    name == credential_name(namespace, service_account, issuer)
        || name == LEGACY_CREDENTIAL_NAME
        || desc == Some(description(namespace, service_account).as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example issuer of data/azure-api/graph-federated-credentials.
    const ISS: &str = "https://eastus2.oic.prod-aks.azure.com/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/6f1c2d3e-4a5b-4c6d-9e7f-8a9b0c1d2e3f/";

    /// Expected values computed independently with Python's hashlib and
    /// base64.urlsafe_b64encode (the same functions as Go's sha256 + base64.URLEncoding).
    #[test]
    fn names_as_azwi_makes_them() {
        let name = credential_name("payments", "checkout", ISS);
        assert_eq!(name, "F8lJhvrlK1IyYFpimeEeKcCvkO7G9i8hWFe4ln3xQUg=");
        assert_eq!(name.len(), 44);
        assert_eq!(
            application_name("payments", "checkout", ISS),
            "payments-checkout-TwtYKsEjutk5oUyM6cykuij8Vfn-Qg5Me7EQ-dVnoyk="
        );
        assert!(made_it("payments", "checkout", ISS, &name, None));
        assert!(made_it(
            "payments",
            "checkout",
            ISS,
            "anything",
            Some("Federated Service Account for payments/checkout")
        ));
        assert!(made_it(
            "payments",
            "checkout",
            ISS,
            LEGACY_CREDENTIAL_NAME,
            None
        ));
        assert!(!made_it("payments", "other", ISS, &name, None));
        assert!(!made_it(
            "payments",
            "checkout",
            ISS,
            "payments-checkout",
            Some("mine")
        ));
    }
}
