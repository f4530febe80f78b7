//! `unbind --identity-binding` (issue 13): undoes what `bind --identity-binding` made and
//! nothing else. The ARM DELETE is long-running (202 + `Azure-AsyncOperation` + `Location` +
//! `Retry-After`, IdentityBindings_Delete.json of the 2026-04-01 spec) and is waited out; AKS
//! never removes its shared credential `aks-identity-binding` itself and it must stay while any
//! binding of the identity, in any cluster, uses it (MicrosoftDocs azure-aks-docs
//! identity-bindings-concepts.md: delete it only after checking that no binding references the
//! identity); a grant still naming another ServiceAccount keeps the ClusterRole and the binding.

use std::collections::BTreeMap;

use k8s_openapi::api::{apps::v1::Deployment, core::v1::ServiceAccount};
use kube::{Api, api::PostParams};
use kubectl_azwi::wi::{identity_binding as ib, keys};
use serde_json::{Value, json};

use super::identity_binding::{aks, bindings, rbac};
use super::{Setup, actions, deployment, json_out, setup, step};
use crate::support::{Ground, azure::run_plugin};

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The pod template's labels and annotations (what bind and unbind may touch).
async fn template_meta(deploys: &Api<Deployment>) -> (Value, Value) {
    let d = deploys.get("web").await.unwrap();
    let meta = d.spec.unwrap().template.metadata.unwrap();
    (json!(meta.labels), json!(meta.annotations))
}

fn unbind_sa(s: &Setup, sa: &str, extra: &[&str]) -> (i32, String, String) {
    let mut argv = vec![
        "unbind",
        sa,
        "-n",
        &s.ns,
        "--identity",
        "app-id",
        "-g",
        "rg",
        "--cluster",
        "aks1",
        "--identity-binding",
        "-o",
        "json",
    ];
    argv.extend_from_slice(extra);
    run_plugin(&argv, &s.sub.env())
}

#[tokio::test]
async fn identity_binding_unbind_leaves_nothing_bind_made_and_reruns_write_nothing() {
    let s = setup("ib-unbind").await;
    aks(&s, 2.0).await;
    let client = Ground::get().client().await;
    // A ServiceAccount and a Deployment of the user's, with keys of their own.
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &s.ns);
    let mine: ServiceAccount = serde_json::from_value(json!({"metadata": {"name": "workload-identity-sa", "annotations": {"team": "payments"}, "labels": {"app": "web"}}})).unwrap();
    sas.create(&PostParams::default(), &mine).await.unwrap();
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), &s.ns);
    let mut d = deployment("web");
    let tpl = d.spec.as_mut().unwrap().template.metadata.as_mut().unwrap();
    tpl.annotations = Some(BTreeMap::from([("team".into(), "payments".into())]));
    d.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .service_account_name = Some("workload-identity-sa".into());
    deploys.create(&PostParams::default(), &d).await.unwrap();
    let sa_before = s.sa().await.unwrap().metadata;
    let tpl_before = template_meta(&deploys).await;

    let (code, out, err) = s.bind(&["--identity-binding", "--workload", "deploy/web"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(bindings(&s).await.len(), 1);

    // Dry run: every step shown, nothing written anywhere.
    let writes = s.sub.writes().await;
    let (role, crb) = rbac(s.client_id()).await;
    let sa_rv = s.sa().await.unwrap().metadata.resource_version;
    let (code, out, err) = unbind_sa(
        &s,
        "workload-identity-sa",
        &["--workload", "deploy/web", "--dry-run"],
    );
    let plan = json_out(code, &out, &err);
    let want = pairs(&[
        ("identity", "unchanged"),
        ("serviceAccount", "update"),
        ("workload", "update"),
        ("clusterRoleBinding", "delete"),
        ("clusterRole", "delete"),
        ("identityBinding", "delete"),
        ("federatedCredential", "delete"),
    ]);
    assert_eq!(actions(&plan), want, "{plan}");
    assert_eq!(plan["dryRun"], true);
    assert_eq!(
        s.sub.writes().await,
        writes,
        "a dry run writes nothing to Azure"
    );
    assert_eq!(rbac(s.client_id()).await, (role, crb), "nor to RBAC");
    assert_eq!(s.sa().await.unwrap().metadata.resource_version, sa_rv);
    assert_eq!(bindings(&s).await.len(), 1);

    let (code, out, err) = unbind_sa(&s, "workload-identity-sa", &["--workload", "deploy/web"]);
    let report = json_out(code, &out, &err);
    assert_eq!(actions(&report), want, "the run is the plan: {report}");
    // The delete ran 2 s with Retry-After 1: unbind polled it to the end.
    let detail = step(&report, "identityBinding")["detail"].as_str().unwrap();
    assert!(detail.starts_with("gone after "), "{detail}");
    assert!(!detail.starts_with("gone after 0 poll"), "{detail}");
    assert!(bindings(&s).await.is_empty(), "the ARM binding is gone");
    assert!(
        s.sub.credentials(s.id()).await.is_empty(),
        "AKS's credential went with the last binding of the identity"
    );
    assert_eq!(rbac(s.client_id()).await, (None, None));
    let sa_after = s.sa().await.unwrap().metadata;
    assert_eq!(
        sa_after.annotations, sa_before.annotations,
        "as before bind"
    );
    assert_eq!(sa_after.labels, sa_before.labels);
    assert_eq!(template_meta(&deploys).await, tpl_before, "as before bind");

    // Again: nothing to do, nothing written.
    let writes = s.sub.writes().await;
    let sa_rv = s.sa().await.unwrap().metadata.resource_version;
    let generation = deploys.get("web").await.unwrap().metadata.generation;
    let (code, out, err) = unbind_sa(&s, "workload-identity-sa", &["--workload", "deploy/web"]);
    let again = json_out(code, &out, &err);
    assert!(
        actions(&again).iter().all(|(_, a)| a == "unchanged"),
        "{again}"
    );
    assert_eq!(s.sub.writes().await, writes);
    assert_eq!(s.sa().await.unwrap().metadata.resource_version, sa_rv);
    assert_eq!(
        deploys.get("web").await.unwrap().metadata.generation,
        generation
    );
}

/// A second cluster `rg2/aks2` (no API server behind it) where the identity has a binding of
/// its own, made through ARM as `az aks identity-binding create` would.
async fn binding_on_aks2(s: &Setup) -> String {
    s.sub
        .control(
            "POST",
            "clusters",
            Some(json!({"resourceGroup": "rg2", "name": "aks2", "fqdn": "aks2.example"})),
        )
        .await;
    let path = format!(
        "/subscriptions/{}/resourceGroups/rg2/providers/Microsoft.ContainerService/managedClusters/aks2/identityBindings/other2?api-version=2026-04-01",
        s.sub.id
    );
    let body = json!({"properties": {"managedIdentity": {"resourceId": s.id()}}});
    let (st, v) = s.sub.arm("PUT", &path, Some(body)).await;
    assert_eq!(st, 201, "{v}");
    path
}

#[tokio::test]
async fn identity_binding_unbind_keeps_what_another_binding_uses() {
    let s = setup("ib-unbind-keep").await;
    aks(&s, 0.0).await;
    let aks2 = binding_on_aks2(&s).await;
    let (code, out, err) = s.bind(&["--identity-binding"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = s.bind_sa("api", &["--identity-binding"], &s.sub.env());
    assert_eq!(code, 0, "{out}{err}");

    // The first ServiceAccount goes: `api` keeps the grant, the role and the ARM binding.
    let (code, out, err) = unbind_sa(&s, "workload-identity-sa", &[]);
    let report = json_out(code, &out, &err);
    assert_eq!(
        actions(&report)[1..],
        pairs(&[
            ("serviceAccount", "update"),
            ("clusterRoleBinding", "update"),
            ("clusterRole", "unchanged"),
            ("identityBinding", "unchanged"),
            ("federatedCredential", "unchanged"),
        ])[..],
        "{report}"
    );
    let who = format!("serviceaccount {}/api", s.ns);
    let kept = step(&report, "identityBinding")["detail"].as_str().unwrap();
    assert!(kept.contains(&who), "{kept}");
    let (role, crb) = rbac(s.client_id()).await;
    assert!(role.is_some());
    let names: Vec<String> = crb
        .unwrap()
        .subjects
        .unwrap()
        .into_iter()
        .map(|x| x.name)
        .collect();
    assert_eq!(names, ["api"]);
    assert_eq!(bindings(&s).await.len(), 1);

    // The last one goes: the cluster side and this cluster's binding go, AKS's credential stays
    // for aks2's binding, which the report names.
    let (code, out, err) = unbind_sa(&s, "api", &[]);
    let report = json_out(code, &out, &err);
    assert_eq!(
        actions(&report)[2..],
        pairs(&[
            ("clusterRoleBinding", "delete"),
            ("clusterRole", "delete"),
            ("identityBinding", "delete"),
            ("federatedCredential", "unchanged"),
        ])[..],
        "{report}"
    );
    let kept = step(&report, "federatedCredential")["detail"]
        .as_str()
        .unwrap();
    assert!(
        kept.contains("identity binding other2 on cluster rg2/aks2"),
        "{kept}"
    );
    assert!(bindings(&s).await.is_empty());
    assert_eq!(rbac(s.client_id()).await, (None, None));
    let creds = s.sub.credentials(s.id()).await;
    assert_eq!(creds.len(), 1, "{creds:?}");
    assert_eq!(creds[0]["name"], ib::MANAGED_CREDENTIAL);

    // aks2's binding deleted (as `az aks identity-binding delete`): now nothing uses the
    // identity, and the next unbind removes the credential.
    let (st, v) = s.sub.arm("DELETE", &aks2, None).await;
    assert_eq!(st, 202, "{v}");
    for _ in 0..50 {
        let (st, _) = s.sub.arm("GET", &aks2, None).await;
        if st == 404 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (code, out, err) = unbind_sa(&s, "api", &[]);
    let report = json_out(code, &out, &err);
    assert_eq!(step(&report, "federatedCredential")["action"], "delete");
    assert!(s.sub.credentials(s.id()).await.is_empty());
}

#[tokio::test]
async fn identity_binding_unbind_bad_input_writes_nothing() {
    let s = setup("ib-unbind-bad").await;
    let (code, out, err) = s.bind(&[]);
    assert_eq!(code, 0, "{out}{err}");
    let writes = s.sub.writes().await;
    let sa_rv = s.sa().await.unwrap().metadata.resource_version;
    // No AKS cluster of that name: one line with its fix, exit 2, nothing written.
    let (code, _, err) = unbind_sa(&s, "workload-identity-sa", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("an AKS cluster that exists"), "{err}");
    assert_eq!(err.trim().lines().count(), 2, "cause and hint: {err}");
    // --cluster belongs to this path only: the parser refuses it alone.
    let argv = [
        "unbind",
        "workload-identity-sa",
        "-n",
        &s.ns,
        "--cluster",
        "aks1",
    ];
    let (code, _, err) = run_plugin(&argv, &s.sub.env());
    assert_eq!(code, 2, "{err}");
    assert_eq!(s.sub.writes().await, writes);
    let sa = s.sa().await.unwrap();
    assert_eq!(sa.metadata.resource_version, sa_rv);
    assert_eq!(
        sa.metadata.annotations.unwrap()[keys::CLIENT_ID_ANNOTATION],
        s.client_id(),
        "the classic binding is untouched"
    );
}
