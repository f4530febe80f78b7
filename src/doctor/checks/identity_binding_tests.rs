//! The identity-binding checks on Facts built in code: a pod bound this way passes every
//! check, and each way users break it fails the check that names it, with a hint that is the
//! command repairing it. (The same cases on the ground need the identity-binding webhook and
//! token proxy of the ground branch: tests/it/doctor/identity_binding.rs once merged.)

use serde_json::json;

use super::super::testing::{
    CID, PRINCIPAL, TENANT, good, pod_mut, set_credentials, verdict, volume_source,
};
use crate::{
    doctor::{
        Status,
        identity_binding::{IbCluster, IbFacts},
        model::Facts,
        run,
    },
    wi::{credential::Credential, identity_binding as ib, keys},
};

fn managed() -> Credential {
    Credential {
        name: ib::MANAGED_CREDENTIAL.into(),
        issuer: format!("{}{TENANT}/{CID}", ib::ISSUER_PREFIX),
        subject: "opaque".into(),
        audiences: vec!["opaque".into()],
    }
}

/// data/azure-api/aks-identity-bindings/k8s-rbac-use-managed-identity.yaml's shape.
fn cluster_role(name: &str, resource: &str) -> serde_json::Value {
    json!({"kind": "ClusterRole", "metadata": {"name": name},
        "rules": [{"apiGroups": [ib::API_GROUP], "resources": [resource], "verbs": [ib::VERB]}]})
}

/// A pod bound through an identity binding, as the v1.6.0 webhook mutates it.
fn ib_good() -> Facts {
    let mut f = good();
    pod_mut(&mut f)
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(ib::ANNOTATION.into(), "true".into());
    volume_source(&mut f).audience = Some(ib::AUDIENCE.into());
    if let Ok(t) = f.token.as_mut()
        && let Ok(j) = t.jwt.as_mut()
    {
        j.claims.aud = vec![ib::AUDIENCE.into()];
    }
    let env = &mut f.app.as_mut().unwrap().env;
    env.insert(
        ib::ENV_TOKEN_PROXY.into(),
        "https://kubernetes.default.svc".into(),
    );
    env.insert(ib::ENV_SNI_NAME.into(), "0123abcd.ib.example".into());
    env.insert(
        ib::ENV_CA_FILE.into(),
        "/var/run/secrets/azure/wi/ca-cert/ca.crt".into(),
    );
    set_credentials(&mut f, vec![managed()]);
    f.identity_binding = Ok(IbFacts {
        grant: Ok(true),
        roles: Ok(vec![cluster_role(&ib::rbac_name(CID), CID)]),
        role_bindings: Ok(vec![]),
        cluster: Ok(IbCluster {
            name: "aks1".into(),
            resource_group: "rg".into(),
            refusal: None,
            binding: Some(("id1234".into(), "Succeeded".into())),
        }),
    });
    f
}

fn ib(f: &mut Facts) -> &mut IbFacts {
    f.identity_binding.as_mut().unwrap()
}

fn fails(f: &Facts, id: &str, detail_has: &str, hint_has: &str) {
    let v = verdict(f, id);
    assert_eq!(v.status, Status::Fail, "{id}: {v:?}");
    assert!(v.detail.contains(detail_has), "{id}: {}", v.detail);
    assert!(
        v.hint.as_deref().unwrap_or_default().contains(hint_has),
        "{id}: {:?}",
        v.hint
    );
    assert!(!run(f, crate::doctor::checks::CHECKS, Default::default()).success);
}

#[test]
fn a_pod_bound_by_identity_binding_passes_every_check() {
    let f = ib_good();
    let report = run(&f, crate::doctor::checks::CHECKS, Default::default());
    let bad: Vec<_> = report
        .all()
        .filter(|c| !matches!(c.status, Status::Pass | Status::Skip))
        .map(|c| (c.id, c.detail.clone()))
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    for id in [
        "ib-annotation",
        "ib-env",
        "ib-token-audience",
        "ib-rbac",
        "ib-arm-binding",
        "ib-managed-credential",
        "ib-mixed",
    ] {
        assert_eq!(report.get(id).unwrap().status, Status::Pass, "{id}");
    }
    // The classic credential match does not apply to this token.
    assert_eq!(report.get("azure-credential").unwrap().status, Status::Skip);
}

#[test]
fn a_classic_pod_shows_no_identity_binding_rows() {
    let report = run(&good(), crate::doctor::checks::CHECKS, Default::default());
    assert!(report.all().all(|c| !c.id.starts_with("ib-")));
}

#[test]
fn annotation_missing() {
    let mut f = ib_good();
    pod_mut(&mut f).metadata.annotations = None;
    fails(
        &f,
        "ib-annotation",
        "lacks azure.workload.identity/use-identity-binding",
        "--identity-binding --cluster aks1 --cluster-resource-group rg",
    );
}

#[test]
fn proxy_settings_missing_or_both_ca_forms() {
    let mut f = ib_good();
    f.app.as_mut().unwrap().env.remove(ib::ENV_TOKEN_PROXY);
    fails(
        &f,
        "ib-env",
        "lacks AZURE_KUBERNETES_TOKEN_PROXY",
        "--custom-token-endpoint-annotation-suffix=identity-binding",
    );
    let mut f = ib_good();
    f.app
        .as_mut()
        .unwrap()
        .env
        .insert(ib::ENV_CA_DATA.into(), "-----BEGIN CERTIFICATE-----".into());
    fails(&f, "ib-env", "both", "ConfigMap");
}

#[test]
fn token_with_the_classic_audience() {
    let mut f = ib_good();
    if let Ok(t) = f.token.as_mut()
        && let Ok(j) = t.jwt.as_mut()
    {
        j.claims.aud = vec![keys::AUDIENCE.into()];
    }
    fails(
        &f,
        "ib-token-audience",
        "api://AzureADTokenExchange",
        "pods get them only at creation",
    );
}

#[test]
fn cluster_role_naming_the_principal_id() {
    let mut f = ib_good();
    let i = ib(&mut f);
    i.grant = Ok(false);
    i.roles = Ok(vec![cluster_role("use-mi", PRINCIPAL)]);
    fails(&f, "ib-rbac", "principal (object) id", "--identity-binding");
}

#[test]
fn role_binding_in_another_namespace() {
    let mut f = ib_good();
    let i = ib(&mut f);
    i.grant = Ok(false);
    i.role_bindings = Ok(vec![
        json!({"kind": "RoleBinding", "metadata": {"name": "use-mi", "namespace": "other"},
        "roleRef": {"kind": "ClusterRole", "name": ib::rbac_name(CID)},
        "subjects": [{"kind": "ServiceAccount", "name": "wi", "namespace": "ns"}]}),
    ]);
    fails(
        &f,
        "ib-rbac",
        "grants it only inside namespace other",
        "--identity-binding",
    );
}

#[test]
fn binding_stuck_in_failed() {
    let mut f = ib_good();
    ib(&mut f).cluster.as_mut().unwrap().binding = Some(("id1234".into(), "Failed".into()));
    fails(&f, "ib-arm-binding", "is Failed", "put it again");
    ib(&mut f).cluster.as_mut().unwrap().binding = None;
    fails(&f, "ib-arm-binding", "no identity binding", "create it");
}

#[test]
fn managed_credential_deleted_by_hand() {
    let mut f = ib_good();
    set_credentials(&mut f, vec![]);
    fails(
        &f,
        "ib-managed-credential",
        "no aks-identity-binding",
        "--identity-binding",
    );
}

#[test]
fn classic_credential_and_binding_mixed_on_one_service_account() {
    let mut f = ib_good();
    set_credentials(
        &mut f,
        vec![
            managed(),
            super::super::testing::cred(super::super::testing::ISS, "system:serviceaccount:ns:wi"),
        ],
    );
    let v = verdict(&f, "ib-mixed");
    assert_eq!(v.status, Status::Warn, "{v:?}");
    assert!(
        v.hint
            .unwrap()
            .contains("az identity federated-credential delete --identity-name id -g rg -n fic")
    );
}
