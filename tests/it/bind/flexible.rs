//! An identity that also holds a flexible federated credential (`claimsMatchingExpression`, no
//! subject: the kind made for GitHub Actions) lists, binds, inspects and doctors cleanly: it is
//! shown, and never counted as a match (issue 11 item 8).

use k8s_openapi::api::{apps::v1::Deployment, core::v1::Pod};
use kube::{Api, api::PostParams};
use serde_json::Value;

use super::{actions, deployment, json_out, setup, wait_for_injected_pod};
use crate::support::{self, Ground, azure::run_plugin};

#[tokio::test]
async fn an_identity_with_a_flexible_credential_binds_inspects_and_doctors_cleanly() {
    let g = Ground::get();
    let s = setup("flex").await;
    // GitHub Actions' documented use: every branch of one repository (Microsoft Learn,
    // "Flexible federated identity credentials").
    s.sub
        .flexible_credential(
            s.id(),
            "gh-flex",
            "claims['sub'] matches 'repo:contoso/app:*'",
        )
        .await;
    let client = g.client().await;
    Api::<Deployment>::namespaced(client.clone(), &s.ns)
        .create(&PostParams::default(), &deployment("web"))
        .await
        .unwrap();

    let (code, out, err) = s.bind(&["--workload", "deploy/web", "-o", "json"]);
    let report = json_out(code, &out, &err);
    assert!(
        actions(&report).contains(&("federatedCredential".into(), "create".into())),
        "the flexible credential is not this binding's: {report}"
    );
    let creds = s.sub.credentials(s.id()).await;
    assert_eq!(creds.len(), 2, "{creds:?}");
    assert!(
        creds.iter().any(|c| c["name"] == "gh-flex"),
        "left as it was: {creds:?}"
    );
    let (code, out, err) = s.bind(&["--workload", "deploy/web", "-o", "json"]);
    let again = json_out(code, &out, &err);
    assert!(
        actions(&again).iter().all(|(_, a)| a == "unchanged"),
        "{again}"
    );

    // inspect: the binding is an exact match; the flexible credential is shown beside it.
    let env = s.sub.env();
    let (code, out, err) = run_plugin(&["inspect", "-n", &s.ns, "-o", "json"], &env);
    let v: Value = json_out(code, &out, &err);
    let row = &v["items"][0];
    assert_eq!(row["credential"]["status"], "exact", "{row}");
    assert_eq!(row["problems"], serde_json::json!([]), "{row}");
    assert!(
        row["identity"]["flexibleCredentials"][0]
            .as_str()
            .unwrap_or_default()
            .starts_with("gh-flex (https://token.actions.githubusercontent.com"),
        "{row}"
    );
    let (code, table, err) = run_plugin(&["inspect", "-n", &s.ns], &env);
    assert_eq!(code, 0, "{err}");
    assert!(
        table.contains("Identity app-id also holds: gh-flex"),
        "{table}"
    );

    // doctor on a pod of the workload: every check passes, the credential found is bind's.
    let pods: Api<Pod> = Api::namespaced(client, &s.ns);
    let pod = wait_for_injected_pod(&pods).await;
    let name = pod.metadata.name.clone().unwrap();
    support::wait_running(&pods, &name).await;
    let target = format!("pod/{name}");
    let (code, out, err) = run_plugin(
        &["doctor", &target, "--exchange", "-n", &s.ns, "-o", "json"],
        &env,
    );
    let r: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let checks: Vec<&Value> = r["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["checks"].as_array().unwrap())
        .collect();
    let not_ok: Vec<_> = checks.iter().filter(|c| c["status"] != "pass").collect();
    assert!(not_ok.is_empty(), "{not_ok:#?}");
    assert_eq!(code, 0, "{err}");
    let cred = checks
        .iter()
        .find(|c| c["id"] == "azure-credential")
        .unwrap();
    assert!(
        !cred["detail"].as_str().unwrap().contains("gh-flex"),
        "{cred}"
    );
}
