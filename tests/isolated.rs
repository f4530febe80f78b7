//! Tests that change what the whole ground serves (the issuer's published keys) get a ground of
//! their own, so the shared one never flickers under the other tests.
#[path = "it/support/mod.rs"]
mod support;

use kubectl_azwi::wi::keys;
use serde_json::{Value, json};
use support::{
    Ground,
    azure::{Sub, run_plugin},
    fixtures,
};

/// Starts a private ground and makes it the one `Ground::get()` returns in this process.
fn private_ground() -> &'static Ground {
    let out = std::process::Command::new("bash")
        .arg(support::repo().join("tests/ground/up.sh"))
        .args(["--owner-pid", &std::process::id().to_string()])
        .output()
        .expect("run tests/ground/up.sh");
    assert!(
        out.status.success(),
        "private ground: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string();
    // SAFETY: set once, before any thread of this single-test binary reads the environment.
    unsafe { std::env::set_var("AZWI_GROUND_DIR", dir) };
    Ground::get()
}

/// A green test removes its private ground (about 120 MB under ~/.cache); a failed one never
/// gets here, so its logs stay for reading, and the reaper up.sh started stops its processes.
fn purge(g: &Ground) {
    let status = std::process::Command::new("bash")
        .arg(support::repo().join("tests/ground/down.sh"))
        .args([g.var("AZWI_GROUND_DIR"), "--purge"])
        .status()
        .expect("run tests/ground/down.sh");
    assert!(status.success(), "down.sh --purge: {status}");
}

#[tokio::test]
async fn doctor_names_a_jwks_that_lacks_the_signing_key() {
    let g = private_ground();
    let client = g.client().await;
    let ns = support::namespace(&client, "doc-jwks", &[]).await;
    let sub = Sub::new().await;
    sub.resource_group("rg").await;
    let id = sub.identity("rg", "app-id").await;
    let client_id = id["properties"]["clientId"].as_str().unwrap();
    let path = format!(
        "{}/federatedIdentityCredentials/fic?api-version=2023-01-31",
        id["id"].as_str().unwrap()
    );
    let body = json!({"properties": {"issuer": g.issuer(), "subject": format!("system:serviceaccount:{ns}:wi"), "audiences": [keys::AUDIENCE]}});
    assert_eq!(sub.arm("PUT", &path, Some(body)).await.0, 201);
    let sas =
        kube::Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(client.clone(), &ns);
    sas.create(
        &Default::default(),
        &fixtures::service_account("wi", &[(keys::CLIENT_ID_ANNOTATION, client_id)]),
    )
    .await
    .unwrap();
    let pods = kube::Api::<k8s_openapi::api::core::v1::Pod>::namespaced(client, &ns);
    pods.create(
        &Default::default(),
        &fixtures::pod("app", "wi", &[fixtures::use_label()]),
    )
    .await
    .unwrap();
    support::wait_running(&pods, "app").await;

    // The issuer now publishes a key that did not sign the pod's token (a botched rotation).
    let issuer_path = g
        .issuer()
        .split_once("127.0.0.1:")
        .unwrap()
        .1
        .split_once('/')
        .unwrap()
        .1;
    let http = support::azure::https();
    http.put(format!(
        "{}/_emulator/issuers/mode",
        g.var("AZURE_EMULATOR_URL")
    ))
    .json(&json!({"path": format!("/{issuer_path}"), "mode": "wrong-key"}))
    .send()
    .await
    .unwrap()
    .error_for_status()
    .unwrap();
    let (code, out, err) = run_plugin(&["doctor", "pod/app", "-n", &ns, "-o", "json"], &sub.env());
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let check = report["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["checks"].as_array().unwrap())
        .find(|c| c["id"] == "token-signature")
        .unwrap();
    assert_eq!(check["status"], "fail", "{check:#}");
    assert!(
        check["hint"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("jwks"),
        "{check:#}"
    );
    assert_eq!(code, 3);
    purge(g);
}
