//! Facts for the checks' unit tests, built in code: a correctly bound pod, and the small
//! edits that break it the ways users do.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{EnvVar, Pod, ServiceAccount};
use serde_json::json;

use super::CHECKS;
use crate::{
    doctor::{
        Status,
        model::{
            AppEnv, AzureFacts, Discovery, Exchange, Facts, Gap, IdentityFacts, TokenFacts,
            TokenSource, Verdict,
        },
        run,
    },
    wi::{
        claims::Jwt,
        credential::Credential,
        keys,
        mutation::{Layout, fixtures::mutated_pod},
        target::{Owner, Target},
        webhook::{self, Install},
    },
};

pub const CID: &str = "11111111-1111-1111-1111-111111111111";
pub const TENANT: &str = "22222222-2222-2222-2222-222222222222";
pub const PRINCIPAL: &str = "33333333-3333-3333-3333-333333333333";
pub const ISS: &str = "https://oidc.example/t/u/";
pub const NOW: i64 = 1_800_000_000;
pub const TOKEN_FILE: &str = "/var/run/secrets/azure/wi/token/azure-identity-token";

pub fn sa(name: &str, ann: &[(&str, &str)]) -> ServiceAccount {
    serde_json::from_value(json!({"metadata": {"name": name, "annotations": ann.iter().cloned().collect::<BTreeMap<_, _>>()}})).unwrap()
}

pub fn jwt(iss: &str, sub: &str, exp: i64) -> Jwt {
    Jwt {
        header: serde_json::from_value(json!({"alg": "RS256", "kid": "k1"})).unwrap(),
        claims: serde_json::from_value(json!({"iss": iss, "sub": sub, "aud": [keys::AUDIENCE], "exp": exp, "nbf": NOW - 10, "iat": NOW - 10})).unwrap(),
    }
}

pub fn install() -> Install {
    webhook::installs(&[serde_json::from_value(json!({
        "metadata": {"name": keys::WEBHOOK_CONFIGURATION},
        "webhooks": [{"name": keys::WEBHOOK_NAME, "admissionReviewVersions": ["v1"], "sideEffects": "None",
            "clientConfig": {"service": {"namespace": "azure-workload-identity-system", "name": "azure-wi-webhook-webhook-service"}, "caBundle": "Zm9v"}}]
    }))
    .unwrap()])
    .remove(0)
}

/// A credential as ARM lists it (built from JSON: the same shape whatever fields it grows).
pub fn cred(iss: &str, sub: &str) -> Credential {
    serde_json::from_value(
        json!({"name": "fic", "issuer": iss, "subject": sub, "audiences": [keys::AUDIENCE]}),
    )
    .unwrap()
}

/// The identity's federated credentials, as ARM would list them.
pub fn set_credentials(f: &mut Facts, c: Vec<Credential>) {
    f.azure
        .as_mut()
        .unwrap()
        .identity
        .as_mut()
        .unwrap()
        .credentials = Ok(c)
}

/// A correctly bound pod: every check passes.
pub fn good() -> Facts {
    let mut f = Facts::empty("ns", NOW);
    f.target = Some(Target::parse("pod/app").unwrap());
    f.cluster_issuer = Ok(ISS.into());
    f.discovery = Ok(Discovery {
        url: format!("{ISS}.well-known/openid-configuration"),
        issuer: ISS.into(),
        jwks_uri: format!("{ISS}openid/v1/jwks"),
        jwks: Ok(1),
    });
    f.webhooks = Ok(vec![install()]);
    f.namespace_labels = Ok(BTreeMap::new());
    f.create_failures = Ok(vec![]);
    let mut pod = mutated_pod(Layout::Reserved);
    pod.metadata.name = Some("app".into());
    pod.metadata.labels = Some([(keys::USE_LABEL.to_string(), "true".to_string())].into());
    pod.spec.as_mut().unwrap().service_account_name = Some("wi".into());
    f.pod = Ok(pod);
    f.owner = Some(Owner::Bare);
    f.sa_name = Some("wi".into());
    f.service_account = Ok(sa("wi", &[(keys::CLIENT_ID_ANNOTATION, CID)]));
    f.service_accounts = Ok(vec![
        sa("default", &[]),
        sa("wi", &[(keys::CLIENT_ID_ANNOTATION, CID)]),
    ]);
    f.container = Some("app".into());
    f.app = Ok(AppEnv {
        container: "app".into(),
        env: [
            (keys::ENV_CLIENT_ID, CID),
            (keys::ENV_TENANT_ID, TENANT),
            (keys::ENV_TOKEN_FILE, TOKEN_FILE),
            (
                keys::ENV_AUTHORITY_HOST,
                "https://login.microsoftonline.com/",
            ),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into(),
        no_shell: None,
    });
    f.token = Ok(TokenFacts {
        container: "app".into(),
        source: TokenSource::File,
        file: Some(TOKEN_FILE.into()),
        jwt: Ok(jwt(ISS, "system:serviceaccount:ns:wi", NOW + 3000)),
        signature: Ok(Ok("k1".into())),
    });
    f.azure = Ok(AzureFacts {
        subscription: "s".into(),
        identity: Some(IdentityFacts {
            name: "id".into(),
            id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id".into(),
            client_id: CID.into(),
            tenant_id: TENANT.into(),
            principal_id: PRINCIPAL.into(),
            credentials: Ok(vec![cred(ISS, "system:serviceaccount:ns:wi")]),
        }),
        identities_seen: 1,
        principal_mixup: None,
        graph: Err(Gap::not_asked("the client id is a managed identity's")),
    });
    f.exchange = Ok(Exchange::Ok {
        tenant: TENANT.into(),
        expires: Some(NOW + 3600),
    });
    f
}

/// `good()` with the client id injected as the webhook does (the fixture pod's is another).
pub fn bound() -> Facts {
    let mut f = good();
    set_env(pod_mut(&mut f), keys::ENV_CLIENT_ID, CID);
    f
}

pub fn verdict(f: &Facts, id: &str) -> Verdict {
    (CHECKS.iter().find(|c| c.id == id).unwrap().run)(f)
}

/// `id` fails with `hint_has` in its hint, and the report fails.
pub fn fails(f: &Facts, id: &str, hint_has: &str) {
    let v = verdict(f, id);
    assert_eq!(v.status, Status::Fail, "{id}: {v:?}");
    assert!(
        v.hint.as_deref().unwrap_or_default().contains(hint_has),
        "{id} hint: {:?}",
        v.hint
    );
    let report = run(f, CHECKS, Default::default());
    assert!(!report.success);
}

/// The ids of the checks that fail.
pub fn failing(f: &Facts) -> Vec<&'static str> {
    run(f, CHECKS, Default::default())
        .all()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.id)
        .collect()
}

pub fn pod_mut(f: &mut Facts) -> &mut Pod {
    f.pod.as_mut().unwrap()
}

pub fn set_env(pod: &mut Pod, name: &str, value: &str) {
    for c in &mut pod.spec.as_mut().unwrap().containers {
        let env = c.env.get_or_insert_with(Vec::new);
        env.retain(|e| e.name != name);
        env.push(EnvVar {
            name: name.into(),
            value: Some(value.into()),
            ..Default::default()
        });
    }
}

/// Records in the pod's managedFields that a client wrote `var` into `container`, as the API
/// server does for what the pod's creator sent (and never for what the webhook adds).
pub fn user_wrote(pod: &mut Pod, container: &str, var: &str) {
    let c = format!("k:{}", json!({"name": container}));
    let e = format!("k:{}", json!({"name": var}));
    let entry = serde_json::from_value(json!({
        "manager": "kubectl-client-side-apply", "operation": "Update", "time": "2027-01-15T07:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:containers": {c: {"f:env": {e: {".": {}, "f:name": {}, "f:value": {}}}}}}}
    }))
    .unwrap();
    pod.metadata
        .managed_fields
        .get_or_insert_with(Vec::new)
        .push(entry);
}

/// The webhook's token volume, for edits.
pub fn volume_source(
    f: &mut Facts,
) -> &mut k8s_openapi::api::core::v1::ServiceAccountTokenProjection {
    pod_mut(f).spec.as_mut().unwrap().volumes.as_mut().unwrap()[0]
        .projected
        .as_mut()
        .unwrap()
        .sources
        .as_mut()
        .unwrap()[0]
        .service_account_token
        .as_mut()
        .unwrap()
}
