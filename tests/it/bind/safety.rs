//! Bind never replaces another binding's credential (issue 11 item 3) and leaves no
//! ServiceAccount naming the wrong tenant (item 4).

use k8s_openapi::api::core::v1::Pod;
use kube::{Api, api::PostParams};
use serde_json::json;

use super::{Setup, json_out, setup};
use crate::support::{
    self, Ground,
    azure::{Sub, exchange},
    fixtures,
};
use kubectl_azwi::wi::{keys, mutation};

/// `--credential-name` naming a credential with another issuer or subject: a PUT would replace
/// another cluster's working binding. Refused, with the credential shown; the hint, followed,
/// binds without touching it.
#[tokio::test]
async fn a_credential_name_used_by_another_binding_is_refused_and_shown() {
    let s = setup("fic-name").await;
    let other = json!({"properties": {"issuer": "https://westeurope.oic.prod-aks.azure.com/other-tenant/other-cluster/", "subject": "system:serviceaccount:payments:api", "audiences": [keys::AUDIENCE]}});
    let (status, body) = s
        .sub
        .arm(
            "PUT",
            &format!(
                "{}/federatedIdentityCredentials/shared?api-version=2023-01-31",
                s.id()
            ),
            Some(other.clone()),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let writes = s.sub.writes().await;
    let (code, _, err) = s.bind(&["--credential-name", "shared"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("shared (https://westeurope.oic.prod-aks.azure.com/other-tenant/other-cluster/, system:serviceaccount:payments:api)"),
        "the credential is shown: {err}"
    );
    assert!(err.contains("leave it out"), "{err}");
    assert_eq!(s.sub.writes().await, writes, "nothing written to Azure");
    assert!(s.sa().await.is_none(), "nothing written to the cluster");

    // The hint, followed: without --credential-name bind uses its own name, next to it.
    let (code, out, err) = s.bind(&["-o", "json"]);
    json_out(code, &out, &err);
    let creds = s.sub.credentials(s.id()).await;
    assert_eq!(creds.len(), 2, "{creds:?}");
    let shared = creds.iter().find(|c| c["name"] == "shared").unwrap();
    assert_eq!(shared["properties"], other["properties"], "left as it was");
}

/// The webhook uses the tenant-id annotation whenever the key exists, even empty
/// (azure-workload-identity v1.6.0, pkg/webhook/webhook.go, `getTenantID`), so pods of a
/// ServiceAccount still naming another tenant get AADSTS700016. Rebinding removes it when the
/// webhook's tenant is the identity's, and writes the identity's tenant otherwise.
#[tokio::test]
async fn rebinding_corrects_a_tenant_annotation_naming_another_tenant() {
    let g = Ground::get();
    for stale in ["8c7e1b52-6a1f-4f0e-9d3b-2f6b8e0d4a11", ""] {
        let s = setup("tenant").await;
        let client = g.client().await;
        Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(client.clone(), &s.ns)
            .create(
                &PostParams::default(),
                &fixtures::service_account(
                    "workload-identity-sa",
                    &[
                        (keys::CLIENT_ID_ANNOTATION, s.client_id()),
                        (keys::TENANT_ID_ANNOTATION, stale),
                    ],
                ),
            )
            .await
            .unwrap();
        let (code, out, err) = s.bind(&["-o", "json"]);
        let report = json_out(code, &out, &err);
        let ann = s.sa().await.unwrap().metadata.annotations.unwrap();
        assert!(
            !ann.contains_key(keys::TENANT_ID_ANNOTATION),
            "stale tenant '{stale}' removed: {ann:?}\n{report}"
        );
        // A pod created now gets the identity's tenant from the webhook, and its token works.
        let pods: Api<Pod> = Api::namespaced(client, &s.ns);
        let pod = pods
            .create(
                &PostParams::default(),
                &fixtures::pod("app", "workload-identity-sa", &[fixtures::use_label()]),
            )
            .await
            .unwrap();
        let inj = mutation::observe(&pod);
        assert_eq!(
            inj.containers[1].env_value(keys::ENV_TENANT_ID),
            Some(s.sub.tenant.as_str())
        );
        support::wait_running(&pods, "app").await;
        let token = support::exec(
            &pods,
            "app",
            "oidc",
            &["sh", "-c", "cat \"$AZURE_FEDERATED_TOKEN_FILE\""],
        )
        .await;
        let (status, body) = exchange(&s.sub.tenant, s.client_id(), token.trim()).await;
        assert_eq!(status, 200, "{body}");
    }
}

/// An identity in another tenant than the webhook's: the annotation is set to it.
#[tokio::test]
async fn an_identity_in_another_tenant_gets_its_tenant_annotation() {
    let other = format!(
        "{:08x}-0000-4000-8000-{:012x}",
        rand::random::<u32>(),
        rand::random::<u32>()
    );
    let sub = Sub::in_tenant(&other).await;
    sub.resource_group("rg").await;
    let identity = sub.identity("rg", "app-id").await;
    let ns = support::namespace(&Ground::get().client().await, "tenant-x", &[]).await;
    let s = Setup { sub, ns, identity };
    let (code, out, err) = s.bind(&["-o", "json"]);
    json_out(code, &out, &err);
    let ann = s.sa().await.unwrap().metadata.annotations.unwrap();
    assert_eq!(ann[keys::TENANT_ID_ANNOTATION], s.sub.tenant);
}
