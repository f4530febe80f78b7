//! token-exchange on the identity-binding path, on Facts built in code: each answer of the
//! proxy gets its cause and the command that repairs it. The refusal texts are the ground's
//! (tests/ground/README.md); AKS's are UNCONFIRMED, so the cause comes from RBAC and ARM first.

use super::super::testing::{CID, good, verdict};
use crate::{
    doctor::{
        Status,
        identity_binding::{IbCluster, IbFacts},
        model::{Exchange, Facts, ProxyAnswer},
    },
    wi::{
        identity_binding as ib,
        token_proxy::{self, Route},
    },
};

fn route() -> Route {
    let env = [
        (ib::ENV_TOKEN_PROXY, "https://kubernetes.default.svc"),
        (ib::ENV_SNI_NAME, "0a1b2c"),
        (ib::ENV_CA_FILE, "/var/run/secrets/azure/wi/ca-cert/ca.crt"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .into();
    let s = token_proxy::settings(&env).unwrap().unwrap();
    token_proxy::route(
        &s,
        "https://login.microsoftonline.com/",
        "t",
        "https://aks1.hcp.example:443",
    )
}

/// A bound pod whose grant and binding are as `grant` and `state` say, and the proxy's answer.
fn facts(grant: bool, state: &str, answer: ProxyAnswer) -> Facts {
    let mut f = good();
    f.identity_binding = Ok(IbFacts {
        grant: Ok(grant),
        roles: Ok(vec![]),
        role_bindings: Ok(vec![]),
        cluster: Ok(IbCluster {
            name: "aks1".into(),
            resource_group: "rg".into(),
            refusal: None,
            binding: Some(("ib1".into(), state.into())),
        }),
        app_log: Ok(vec![]),
    });
    f.exchange = Ok(Exchange::Proxied {
        route: Some(route()),
        answer,
    });
    f
}

fn refused(status: u16, description: &str, aadsts: Option<u32>) -> ProxyAnswer {
    ProxyAnswer::Refused {
        status,
        description: description.into(),
        aadsts,
    }
}

fn fails(f: &Facts, detail_has: &str, hint_has: &str) {
    let v = verdict(f, "token-exchange");
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert!(v.detail.contains(detail_has), "{}", v.detail);
    let hint = v.hint.unwrap_or_default();
    assert!(hint.contains(hint_has), "{hint}");
}

#[test]
fn a_token_through_the_proxy_passes_and_says_how_it_went() {
    let token = ProxyAnswer::Token {
        tenant: "t".into(),
        expires: None,
    };
    let v = verdict(&facts(true, "Succeeded", token), "token-exchange");
    assert_eq!(v.status, Status::Pass, "{v:?}");
    for part in [
        "through the AKS token proxy at aks1.hcp.example:443",
        "TLS name 0a1b2c",
        "ca-cert/ca.crt",
        "in-cluster name",
    ] {
        assert!(v.detail.contains(part), "{part}: {}", v.detail);
    }
}

#[test]
fn a_403_is_named_from_rbac_and_arm_before_the_proxys_words() {
    let bind = format!("kubectl azwi bind wi -n ns --identity {CID} --identity-binding");
    // RBAC says no: the grant, whatever the proxy's words.
    let f = facts(false, "Succeeded", refused(403, "forbidden", None));
    fails(
        &f,
        ib::VERB,
        &format!("grant it with a ClusterRole and ClusterRoleBinding: `{bind}"),
    );
    // RBAC allows, ARM says Failed.
    let f = facts(true, "Failed", refused(403, "forbidden", None));
    fails(
        &f,
        "is Failed, not Succeeded",
        "put the identity binding again",
    );
    // Neither read: the proxy's words (the ground's).
    let mut f = facts(
        true,
        "Succeeded",
        refused(
            403,
            "identity binding 'ib1' of managed identity 'c' is Failed, not Succeeded",
            None,
        ),
    );
    f.identity_binding = Err(crate::doctor::model::Gap::not_asked("x"));
    fails(&f, "is Failed", "put the identity binding again");
}

#[test]
fn other_answers_get_their_cause() {
    let f = facts(
        true,
        "Succeeded",
        refused(
            401,
            "the cluster did not accept the service account token",
            None,
        ),
    );
    fails(&f, ib::AUDIENCE, "--custom-token-endpoint-audience");
    let f = facts(
        true,
        "Succeeded",
        refused(401, "AADSTS70025: no credential", Some(70025)),
    );
    fails(&f, "AADSTS70025", ib::MANAGED_CREDENTIAL);
    let failed = ProxyAnswer::Failed {
        reason: "invalid peer certificate: UnknownIssuer".into(),
    };
    fails(
        &facts(true, "Succeeded", failed),
        "UnknownIssuer",
        "AZURE_KUBERNETES_SNI_NAME",
    );
    let mut f = facts(
        true,
        "Succeeded",
        ProxyAnswer::Failed {
            reason: "both set".into(),
        },
    );
    f.exchange = Ok(Exchange::Proxied {
        route: None,
        answer: ProxyAnswer::Failed {
            reason: "both AZURE_KUBERNETES_CA_FILE and AZURE_KUBERNETES_CA_DATA are set".into(),
        },
    });
    fails(&f, "would refuse its proxy settings", "see ib-env");
}
