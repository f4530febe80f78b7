//! Test ground II against test ground I: tokens minted by the real kube-apiserver for a real
//! pod are exchanged at the emulator's Entra endpoint, which fetches the AKS-like issuer's
//! discovery and JWKS over https and matches iss/sub/aud exactly, as Entra does.

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::{Api, api::PostParams};
use kubectl_azwi::wi::{claims::Jwt, keys};
use serde_json::{Value, json};

use crate::doctor::{Bench, check};
use crate::support::{
    self, Ground,
    azure::{Sub, exchange, run_plugin},
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

/// A credential Entra cannot see yet (still propagating) on an identity with no other one:
/// AADSTS70025, "has no configured federated identity credentials"; the same token works once
/// it has propagated.
#[tokio::test]
async fn a_new_credential_is_aadsts70025_while_it_propagates() {
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
    assert_eq!((status, code(&body)), (401, 70025), "{body}");
    // Once propagated, the same token works.
    sub.control("PUT", "settings", Some(json!({"ficPropagationSeconds": 0})))
        .await;
    let (status, body) = exchange(&sub.tenant, client_id, &token).await;
    assert_eq!(status, 200, "{body}");
}

/// Public reports show Entra answering a subject mismatch with AADSTS700213 and with the
/// generic AADSTS70021 (see the emulator's `ficMismatchCodes`). The plugin explains each:
/// `doctor --exchange` and `exec-login` name the code and a fix that applies, and doctor's
/// credential check names the exact subject either way.
#[tokio::test]
async fn a_subject_mismatch_is_explained_in_either_of_entras_answers() {
    for (mode, want, fix) in [
        (
            "specific",
            "AADSTS700213",
            "fix serviceAccountName or bind that account",
        ),
        ("generic", "AADSTS70021", "kubectl azwi doctor"),
    ] {
        let b = Bench::new("xchg-subject", &[]).await;
        b.sub
            .control("PUT", "settings", Some(json!({"ficMismatchCodes": mode})))
            .await;
        b.credential(Ground::get().issuer(), &b.subject("someone-else"))
            .await;
        b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
            .await;
        b.pod("app", "wi", &[fixtures::use_label()], &[], None)
            .await;
        let (code, r) = b.doctor(&["pod/app", "--exchange"]);
        assert_eq!(code, 3, "{r:#}");
        let x = check(&r, "token-exchange");
        assert_eq!(x["status"], "fail", "{x}");
        assert!(x["detail"].as_str().unwrap().contains(want), "{mode}: {x}");
        assert!(x["hint"].as_str().unwrap().contains(fix), "{mode}: {x}");
        // The credential names the exact subject either way; it belongs to another service
        // account, so the fix is a new credential, never a rewrite of that one (issue 11.17).
        let c = check(&r, "azure-credential");
        assert!(
            c["detail"].as_str().unwrap().contains(&b.subject("wi")),
            "{mode}: {c}"
        );
        let hint = c["hint"].as_str().unwrap();
        assert!(
            hint.contains(&format!("kubectl azwi bind wi -n {}", b.ns))
                && !hint.contains("--subject"),
            "{mode}: {c}"
        );
        let (code, out, err) = run_plugin(
            &["exec-login", "pod/app", "-n", &b.ns, "-o", "json"],
            &b.sub.env(),
        );
        assert_eq!(code, 1, "{out}{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["failure"]["code"], want, "{mode}: {v:#}");
        assert!(
            v["failure"]["fix"].as_str().unwrap().contains(fix),
            "{mode}: {v:#}"
        );
    }
}

/// No credential at all is AADSTS70025; its fix, followed literally (`kubectl azwi bind SA
/// --identity ID`), makes the same pod's exchange work.
#[tokio::test]
async fn no_credential_is_aadsts70025_and_its_fix_works() {
    let b = Bench::new("xchg-none", &[]).await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
        .await;
    b.pod("app", "wi", &[fixtures::use_label()], &[], None)
        .await;
    let (_, r) = b.doctor(&["pod/app", "--exchange"]);
    let x = check(&r, "token-exchange");
    assert!(x["detail"].as_str().unwrap().contains("AADSTS70025"), "{x}");
    let hint = x["hint"].as_str().unwrap();
    assert!(
        hint.contains("kubectl azwi bind SA --identity ID"),
        "{hint}"
    );
    let (code, out, err) = run_plugin(
        &["bind", "wi", "-n", &b.ns, "--identity", &b.client_id],
        &b.sub.env(),
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, r) = b.doctor(&["pod/app", "--exchange"]);
    assert_eq!(check(&r, "token-exchange")["status"], "pass", "{r:#}");
    assert_eq!(code, 0, "{r:#}");
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
