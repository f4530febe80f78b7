//! The identity-binding path proven by the plugin (issue 13): a workload bound with one
//! `kubectl azwi bind ... --identity-binding` passes `doctor --exchange`, and `exec-login` gets
//! the identity's token, both sending the pod's token to the AKS token proxy the way the Azure
//! SDKs do (TCP to AZURE_KUBERNETES_TOKEN_PROXY, TLS name AZURE_KUBERNETES_SNI_NAME, only the
//! pod's CA trusted: azure-identity 1.27.0 token_binding_transport_*.py, azidentity
//! internal/customtokenproxy). Broken as users break it (the RBAC grant removed, the binding
//! Failed), both name the cause, and the fix they print, followed literally, restores it.
//!
//! The proxy's refusal shapes are the ground's (tests/ground/README.md: 403
//! `unauthorized_client`, no AADSTS code); AKS's own status and text are UNCONFIRMED
//! (identity-bindings facts §7), so the assertions key on the cause the plugin names (read
//! from RBAC and ARM), not on the proxy's words.

use std::time::Instant;

use serde_json::{Value, json};

use kubectl_azwi::wi::{claims::Jwt, identity_binding as ib};

use crate::{
    doctor::{Bench, check, deployment, detail, failing},
    support::{Ground, azure::run_plugin},
};

/// A namespace routed to the identity-binding webhook, the ground's API server registered as
/// AKS cluster `rg/aks1`, and Deployment `web` (service account `wi`) bound by one command.
async fn bound(prefix: &str) -> Bench {
    bound_with(prefix, json!({})).await
}

/// The same, the Deployment's pod spec extended with `spec`.
async fn bound_with(prefix: &str, spec: Value) -> Bench {
    let (k, v) = crate::identity_binding_ground::ib_namespace_label();
    let b = Bench::new(prefix, &[(&k, &v)]).await;
    b.sub.ground_as_aks("rg", "aks1").await;
    b.apply(&deployment("web", json!({}), spec));
    b.follow(&format!(
        "kubectl azwi bind wi -n {} --identity {} --identity-binding --workload deploy/web",
        b.ns, b.client_id
    ));
    rollout(&b);
    b
}

fn rollout(b: &Bench) {
    b.follow(&format!(
        "kubectl rollout status deploy/web -n {} --timeout=90s",
        b.ns
    ));
}

/// `exec-login deploy/web -o json` (+ extra): exit code, report, seconds taken.
fn login(b: &Bench, extra: &[&str]) -> (i32, Value, f64) {
    let mut args = vec!["exec-login", "deploy/web", "-n", &b.ns, "-o", "json"];
    args.extend_from_slice(extra);
    let started = Instant::now();
    let (code, out, err) = run_plugin(&args, &b.sub.env());
    let secs = started.elapsed().as_secs_f64();
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}\n{err}"));
    (code, v, secs)
}

/// The exchange went to the ground's proxy as the SDKs send it: TCP to its address, the SNI
/// name as TLS name, the pod's CA file as the only trust.
fn assert_through_the_proxy(route: &Value) {
    let g = Ground::get();
    let proxy = g.var("AZWI_GROUND_IB_PROXY");
    assert_eq!(
        route["connect"],
        proxy.trim_start_matches("https://"),
        "{route}"
    );
    assert_eq!(route["tlsName"], g.var("AZWI_GROUND_IB_SNI"), "{route}");
    assert!(
        route["trust"]
            .as_str()
            .unwrap()
            .contains("/var/run/secrets/azure/wi/ca-cert/ca.crt"),
        "{route}"
    );
}

/// The access token's claims are the identity's (decoded here, never printed).
fn assert_identitys_token(b: &Bench, token: &str) {
    let c = Jwt::decode(token).expect("a JWT").claims;
    let s = |k: &str| c.other[k].as_str().unwrap_or_default().to_string();
    assert_eq!(s("appid"), b.client_id);
    assert!(s("xms_mirid").eq_ignore_ascii_case(&b.identity_id));
    assert_eq!(s("tid"), Ground::get().var("AZWI_GROUND_TENANT"));
    assert_eq!(c.aud, ["https://management.azure.com/"]);
}

#[tokio::test]
async fn a_workload_bound_with_an_identity_binding_exchanges_through_the_proxy() {
    let b = bound("ibx-ok").await;
    // The identity holds AKS's credential only: a token sent straight to Entra would be
    // refused (AADSTS700211), so a token at all proves the proxy path.
    let creds = b.sub.credentials(&b.identity_id).await;
    let names: Vec<&str> = creds.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, [ib::MANAGED_CREDENTIAL]);

    let started = Instant::now();
    let (code, r) = b.doctor(&["deploy/web", "--exchange"]);
    let doctor_secs = started.elapsed().as_secs_f64();
    assert_eq!((code, failing(&r)), (0, vec![]), "{r:#}");
    assert_eq!(check(&r, "ib-rbac")["status"], "pass", "{r:#}");
    let d = detail(&r, "token-exchange");
    assert!(d.contains("through the AKS token proxy"), "{d}");
    assert!(d.contains(Ground::get().var("AZWI_GROUND_IB_SNI")), "{d}");
    eprintln!(
        "doctor --exchange on the identity-binding path: {doctor_secs:.2}s, {}",
        r["stats"]
    );

    let (code, r, secs) = login(&b, &[]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["success"], true, "{r:#}");
    assert_eq!(r["via"], "tokenProxy", "{r:#}");
    assert_through_the_proxy(&r["proxy"]);
    assert_eq!(r["who"]["clientId"], b.client_id.as_str());
    assert!(
        r.get("accessToken").is_none(),
        "no token without --show-token"
    );
    eprintln!("exec-login through the proxy: {secs:.2}s");
    let (_, r, _) = login(&b, &["--show-token"]);
    assert_identitys_token(&b, r["accessToken"].as_str().unwrap());
}

/// A distroless app (no shell to read the token or the CA with): doctor mints the token as the
/// kubelet would (the volume's audience, api://AKSIdentityBinding) and takes the CA from where
/// the webhook projects it (ConfigMap kube-root-ca.crt, k8s-pod-mutated.yaml), and the exchange
/// through the proxy still passes.
#[tokio::test]
async fn a_distroless_workload_is_proven_with_a_minted_token_and_the_projected_ca() {
    let containers =
        json!({"containers": [{"name": "app", "image": "gcr.io/distroless/static:nonroot"}]});
    let b = bound_with("ibx-distroless", containers).await;
    let (code, r) = b.doctor(&["deploy/web", "--exchange"]);
    assert_eq!((code, failing(&r)), (0, vec![]), "{r:#}");
    assert!(detail(&r, "token-file").contains("minted"), "{r:#}");
    let d = detail(&r, "token-exchange");
    assert!(
        d.contains("through the AKS token proxy") && d.contains("ca-cert/ca.crt"),
        "{d}"
    );
    assert_eq!(check(&r, "ib-env")["status"], "pass", "{r:#}");
}

/// The grant removed (`kubectl delete clusterrolebinding`): the proxy refuses with a 403 of its
/// own; doctor and exec-login both say the service account may not use the identity, and the
/// command they print puts the grant back.
#[tokio::test]
async fn without_the_rbac_grant_both_name_it_and_the_fix_restores_the_exchange() {
    let b = bound("ibx-grant").await;
    b.follow(&format!(
        "kubectl delete clusterrolebinding {}",
        ib::rbac_name(&b.client_id)
    ));

    let (code, r) = b.doctor(&["deploy/web", "--exchange"]);
    let c = check(&r, "token-exchange");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert_eq!(code, 3);
    let d = c["detail"].as_str().unwrap();
    assert!(d.contains(ib::VERB) && d.contains("403"), "{d}");
    assert!(!d.contains("AADSTS"), "the proxy's own refusal: {d}");
    let hint = c["hint"].as_str().unwrap();
    let doctor_fix = command_in(hint);
    assert!(doctor_fix.contains("--identity-binding"), "{hint}");

    let (code, r, _) = login(&b, &[]);
    assert_eq!(code, 1, "{r:#}");
    let f = &r["failure"];
    assert!(f["meaning"].as_str().unwrap().contains(ib::VERB), "{r:#}");
    let login_fix = command_in(f["fix"].as_str().unwrap());

    // exec-login's fix, literally; then doctor's (it must be harmless when already applied).
    b.follow(&login_fix);
    let (code, r, _) = login(&b, &[]);
    assert_eq!((code, &r["success"]), (0, &json!(true)), "{r:#}");
    b.follow(&doctor_fix);
    let (code, r) = b.doctor(&["deploy/web", "--exchange"]);
    assert_eq!(check(&r, "token-exchange")["status"], "pass", "{r:#}");
    assert_eq!(code, 0, "{r:#}");
}

/// The binding deleted and created again by hand, the creation ending Failed (emulator control
/// identityBindingFailures, as a failed `az aks identity-binding create` leaves it): the proxy
/// has no Succeeded binding to exchange with; both name the state, and the printed fix puts the
/// binding again. (An identical re-PUT of a Succeeded binding answers 200 at once and runs no
/// operation: IdentityBindings_CreateOrUpdate.json's 200.)
#[tokio::test]
async fn a_failed_binding_is_named_and_the_fix_puts_it_again() {
    let b = bound("ibx-failed").await;
    let list = format!(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1/identityBindings",
        b.sub.id
    );
    let (_, v) = b
        .sub
        .arm("GET", &format!("{list}?api-version=2026-04-01"), None)
        .await;
    let url = format!(
        "{list}/{}?api-version=2026-04-01",
        v["value"][0]["name"].as_str().unwrap()
    );
    let (status, v) = b.sub.arm("DELETE", &url, None).await;
    assert_eq!(status, 202, "{v}");
    settle(&b, &url, |status, _| status == 404).await;
    b.sub
        .control("POST", "identityBindingFailures", Some(json!({"count": 1})))
        .await;
    let body = json!({"properties": {"managedIdentity": {"resourceId": b.identity_id}}});
    let (status, v) = b.sub.arm("PUT", &url, Some(body)).await;
    assert!(status == 200 || status == 201, "{status} {v}");
    settle(&b, &url, |_, v| {
        v["properties"]["provisioningState"] == "Failed"
    })
    .await;

    let (code, r) = b.doctor(&["deploy/web", "--exchange"]);
    let c = check(&r, "token-exchange");
    assert_eq!((code, c["status"].as_str()), (3, Some("fail")), "{c:#}");
    assert!(c["detail"].as_str().unwrap().contains("is Failed"), "{c:#}");
    let doctor_fix = command_in(c["hint"].as_str().unwrap());

    let (code, r, _) = login(&b, &[]);
    assert_eq!(code, 1, "{r:#}");
    assert!(
        r["failure"]["meaning"].as_str().unwrap().contains("Failed"),
        "{r:#}"
    );
    b.follow(&doctor_fix);
    let (code, r) = b.doctor(&["deploy/web", "--exchange"]);
    assert_eq!(check(&r, "token-exchange")["status"], "pass", "{r:#}");
    assert_eq!(code, 0);
    let (code, r, _) = login(&b, &[]);
    assert_eq!((code, &r["success"]), (0, &json!(true)), "{r:#}");
}

/// Polls the binding (ARM GET, as a client polls a long-running operation) until `done`.
async fn settle(b: &Bench, url: &str, done: impl Fn(u16, &Value) -> bool) {
    for _ in 0..100 {
        let (status, v) = b.sub.arm("GET", url, None).await;
        if done(status, &v) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{url}: not settled in 10 s");
}

/// The command between backticks in a hint.
fn command_in(hint: &str) -> String {
    hint.split('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no command in: {hint}"))
        .to_string()
}
