//! Application registrations in inspect's rows: what makes Entra refuse one whatever its
//! credentials, and credentials `azwi serviceaccount create` made (adopted as they are).

use super::{CredentialState, IdentityFacts, IdentityKind};

/// An application Entra refuses whatever its credentials: no service principal in the tenant
/// (AADSTS700016), or a disabled one (AADSTS7000112).
pub fn problem(i: &IdentityFacts) -> Option<String> {
    match i.kind {
        IdentityKind::Application {
            service_principal: None,
        } => Some(format!(
            "application {} has no service principal in the tenant: Entra refuses its tokens (az ad sp create --id {})",
            i.name, i.client_id
        )),
        IdentityKind::Application {
            service_principal: Some(false),
        } => Some(format!(
            "application {}'s service principal is disabled: Entra refuses its tokens (az ad sp update --id {} --set accountEnabled=true)",
            i.name, i.client_id
        )),
        _ => None,
    }
}

/// Who made the matching credential, when it is recognisably `azwi serviceaccount create`.
pub fn made_by(
    identity: Option<&IdentityFacts>,
    credential: &CredentialState,
    issuer: Option<&str>,
    ns: &str,
    sa: &str,
) -> Option<&'static str> {
    let (CredentialState::Exact { name, .. }, Some(i), Some(iss)) = (credential, identity, issuer)
    else {
        return None;
    };
    let desc = i.descriptions.get(name).map(String::as_str);
    crate::wi::azwi::made_it(ns, sa, iss, name, desc).then_some("azwi serviceaccount create")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::{Filter, IdentityFacts, IdentityKind, rows, tests::*};
    use crate::wi::azwi;

    const APP: &str = "77777777-7777-4777-8777-777777777777";

    fn application(sp: Option<bool>, name: &str, desc: &str, subject: &str) -> IdentityFacts {
        IdentityFacts {
            id: "88888888-8888-4888-8888-888888888888".into(),
            name: "payments".into(),
            client_id: APP.into(),
            credentials: Some(vec![cred(name, ISS, subject)]),
            kind: IdentityKind::Application {
                service_principal: sp,
            },
            descriptions: BTreeMap::from([(name.to_string(), desc.to_string())]),
            ..Default::default()
        }
    }

    /// An application binding made the way `azwi serviceaccount create` makes it (its name
    /// scheme and description, identity-bindings §9) beside a managed identity's.
    #[test]
    fn application_bindings_beside_managed_identities() {
        let mut az = azure(vec![cred("fic", ISS, "system:serviceaccount:ns:wi")]);
        let name = azwi::credential_name("ns", "azwi", ISS);
        az.identities.push(application(
            Some(true),
            &name,
            &azwi::description("ns", "azwi"),
            "system:serviceaccount:ns:azwi",
        ));
        let c = cluster(
            vec![sa("ns", "wi", Some(CID)), sa("ns", "azwi", Some(APP))],
            vec![],
        );
        let r = rows(&c, Some(&az), Filter::Bindings);
        assert_eq!(r[0].service_account, "azwi");
        assert_eq!(r[0].identity.as_ref().unwrap().kind, "application");
        assert_eq!(r[0].credential.name(), Some(name.as_str()));
        assert_eq!(r[0].made_by, Some("azwi serviceaccount create"));
        assert!(r[0].ok(), "{:?}", r[0].problems);
        assert_eq!(r[1].identity.as_ref().unwrap().kind, "userAssignedIdentity");
        assert_eq!(r[1].made_by, None);
        assert!(r[1].ok(), "{:?}", r[1].problems);
    }

    #[test]
    fn an_application_without_an_enabled_service_principal_is_a_problem() {
        for (sp, fix) in [
            (None, format!("az ad sp create --id {APP}")),
            (
                Some(false),
                format!("az ad sp update --id {APP} --set accountEnabled=true"),
            ),
        ] {
            let mut az = azure(vec![]);
            az.identities = vec![application(
                sp,
                "own",
                "mine",
                "system:serviceaccount:ns:app",
            )];
            let c = cluster(vec![sa("ns", "app", Some(APP))], vec![]);
            let r = rows(&c, Some(&az), Filter::Bindings);
            assert_eq!(r[0].made_by, None);
            assert!(
                r[0].problems.iter().any(|p| p.contains(&fix)),
                "{:?}",
                r[0].problems
            );
        }
    }
}
