//! Test ground II against test ground I: tokens minted by the real kube-apiserver for a real
//! pod are exchanged at the emulator's Entra endpoint, which fetches the AKS-like issuer's
//! discovery and JWKS over https and matches iss/sub/aud exactly, as Entra does.

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::{Api, api::PostParams};
use kubectl_azwi::wi::{claims::Jwt, keys};
use serde_json::{Value, json};

use crate::support::{
    self, Ground,
    azure::{Sub, exchange},
    fixtures,
};

/// A running, injected pod whose SA names `client_id`; returns (namespace, token).
async fn pod_token(client_id: &str) -> (String, String) {
    let client = Ground::get().client().await;
    let ns = support::namespace(&client, "xchg", &[]).await;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    sas.create(
        &PostParams::default(),
        &fixtures::service_account("app", &[(keys::CLIENT_ID_ANNOTATION, client_id)]),
    )
    .await
    .unwrap();
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    pods.create(
        &PostParams::default(),
        &fixtures::pod("p", "app", &[fixtures::use_label()]),
    )
    .await
    .unwrap();
    support::wait_running(&pods, "p").await;
    let token = support::exec(
        &pods,
        "p",
        "oidc",
        &["sh", "-c", "cat \"$AZURE_FEDERATED_TOKEN_FILE\""],
    )
    .await;
    (ns, token.trim().to_string())
}

async fn identity_with_credential(sub: &Sub, issuer: &str, subject: &str) -> (String, String) {
    sub.resource_group("rg").await;
    let id = sub.identity("rg", "app-id").await;
    let id_path = id["id"].as_str().unwrap().to_string();
    let (status, body) = sub
        .arm("PUT", &format!("{id_path}/federatedIdentityCredentials/fic?api-version=2023-01-31"), Some(json!({"properties": {"issuer": issuer, "subject": subject, "audiences": [keys::AUDIENCE]}})))
        .await;
    assert_eq!(status, 201, "{body}");
    (
        id["properties"]["clientId"].as_str().unwrap().to_string(),
        id_path,
    )
}

fn code(body: &Value) -> i64 {
    body["error_codes"][0]
        .as_i64()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

#[tokio::test]
async fn real_apiserver_token_is_exchanged_when_a_credential_matches() {
    let g = Ground::get();
    let sub = Sub::new().await;
    sub.resource_group("rg").await;
    let id = sub.identity("rg", "app-id").await;
    let client_id = id["properties"]["clientId"].as_str().unwrap();
    let (ns, token) = pod_token(client_id).await;
    let subject = format!("system:serviceaccount:{ns}:app");
    let (status, body) = sub
        .arm("PUT", &format!("{}/federatedIdentityCredentials/fic?api-version=2023-01-31", id["id"].as_str().unwrap()), Some(json!({"properties": {"issuer": g.issuer(), "subject": subject, "audiences": [keys::AUDIENCE]}})))
        .await;
    assert_eq!(status, 201, "{body}");

    let (status, body) = exchange(&sub.tenant, client_id, &token).await;
    assert_eq!(status, 200, "{body}");
    let access = Jwt::decode(body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(access.claims.other["oid"], id["properties"]["principalId"]);
    assert_eq!(access.claims.other["appid"], client_id);
    assert_eq!(access.claims.other["tid"], sub.tenant.as_str());
}

#[tokio::test]
async fn issuer_without_its_trailing_slash_is_aadsts700211() {
    let g = Ground::get();
    let sub = Sub::new().await;
    let issuer = g.issuer().trim_end_matches('/');
    assert_ne!(
        issuer,
        g.issuer(),
        "the ground's issuer ends with '/', like AKS's"
    );
    // The subject is not known before the namespace exists: any subject will do, the issuer decides.
    let (client_id, _) =
        identity_with_credential(&sub, issuer, "system:serviceaccount:x:app").await;
    let (_, token) = pod_token(&client_id).await;
    let (status, body) = exchange(&sub.tenant, &client_id, &token).await;
    assert_eq!((status, code(&body)), (401, 700211), "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains(g.issuer())
    );
}

#[tokio::test]
async fn another_service_account_is_aadsts700213() {
    let g = Ground::get();
    let sub = Sub::new().await;
    let (client_id, _) =
        identity_with_credential(&sub, g.issuer(), "system:serviceaccount:elsewhere:other").await;
    let (_, token) = pod_token(&client_id).await;
    let (status, body) = exchange(&sub.tenant, &client_id, &token).await;
    assert_eq!(code(&body), 700213, "{status} {body}");
}

#[tokio::test]
async fn a_new_credential_is_aadsts70021_while_it_propagates() {
    let g = Ground::get();
    let sub = Sub::new().await;
    sub.control(
        "PUT",
        "settings",
        Some(json!({"ficPropagationSeconds": 600})),
    )
    .await;
    sub.resource_group("rg").await;
    let id = sub.identity("rg", "app-id").await;
    let client_id = id["properties"]["clientId"].as_str().unwrap();
    let (ns, token) = pod_token(client_id).await;
    let subject = format!("system:serviceaccount:{ns}:app");
    sub.arm("PUT", &format!("{}/federatedIdentityCredentials/fic?api-version=2023-01-31", id["id"].as_str().unwrap()), Some(json!({"properties": {"issuer": g.issuer(), "subject": subject, "audiences": [keys::AUDIENCE]}})))
        .await;
    let (status, body) = exchange(&sub.tenant, client_id, &token).await;
    assert_eq!((status, code(&body)), (400, 70021), "{body}");
    // Once propagated, the same token works.
    sub.control("PUT", "settings", Some(json!({"ficPropagationSeconds": 0})))
        .await;
    let (status, body) = exchange(&sub.tenant, client_id, &token).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_expired_token_is_aadsts700024() {
    let g = Ground::get();
    let sub = Sub::new().await;
    sub.resource_group("rg").await;
    let id = sub.identity("rg", "app-id").await;
    let client_id = id["properties"]["clientId"].as_str().unwrap();
    let (ns, token) = pod_token(client_id).await;
    sub.arm("PUT", &format!("{}/federatedIdentityCredentials/fic?api-version=2023-01-31", id["id"].as_str().unwrap()), Some(json!({"properties": {"issuer": g.issuer(), "subject": format!("system:serviceaccount:{ns}:app"), "audiences": [keys::AUDIENCE]}})))
        .await;
    // Two hours later, as Entra sees it: the one-hour projected token has expired.
    sub.control("PUT", "settings", Some(json!({"clockOffsetSeconds": 7200})))
        .await;
    let (status, body) = exchange(&sub.tenant, client_id, &token).await;
    assert_eq!((status, code(&body)), (401, 700024), "{body}");
}
