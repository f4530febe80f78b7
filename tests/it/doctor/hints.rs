//! Broken the way users break it, diagnosed once, and each hint followed literally: doctor
//! run again must pass (a fix that does not fix, or that breaks another binding, is a bug).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::{
    Api,
    api::{ListParams, Patch, PatchParams},
};
use serde_json::{Value, json};

use kubectl_azwi::wi::keys;

use super::{Bench, check, deployment, detail, failing, fails_on, manifest};
use crate::support::Ground;

/// The command a hint ends with, after `marker` (up to the first `(` aside, if any).
fn command_after<'a>(hint: &'a str, marker: &str) -> &'a str {
    let rest = &hint[hint
        .find(marker)
        .unwrap_or_else(|| panic!("'{marker}' in {hint}"))..];
    rest.split(" (").next().unwrap().trim()
}

fn hint(r: &Value, id: &str) -> String {
    check(r, id)["hint"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Item 10: one slash too many is named as that (not as a missing trailing '/'), and the
/// credential is this binding's own, so its update is proposed; following it fixes it.
#[tokio::test]
async fn an_issuer_with_a_slash_too_many() {
    let b = Bench::new("doc-slashes", &[]).await;
    let iss = Ground::get().issuer();
    b.credential(&format!("{iss}/"), &b.subject("wi")).await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
        .await;
    b.create_pod(&manifest("app", "wi", "busybox", json!({})))
        .await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(code, &r, "azure-credential", &format!("--issuer {iss}"));
    let d = detail(&r, "azure-credential");
    assert!(d.contains("ends in 2 '/' where"), "{d}");
    assert!(d.contains("1 too many"), "{d}");
    assert!(!d.contains("lacks"), "{d}");
}

/// Item 11: a user-set AZURE_CLIENT_ID wins over the webhook's (v1.6.0 addEnvironmentVariables
/// only adds names the container lacks). A later write to the service account that leaves
/// client-id alone (same field manager, so its managedFields time moves) is not a re-bind.
#[tokio::test]
async fn a_user_set_client_id_is_the_users_not_a_stale_pod() {
    let b = Bench::new("doc-userid", &[]).await;
    b.credential(Ground::get().issuer(), &b.subject("wi")).await;
    b.follow(&format!(
        "kubectl create sa wi -n {0} && kubectl annotate sa wi -n {0} {1}={2}",
        b.ns,
        keys::CLIENT_ID_ANNOTATION,
        b.client_id
    ));
    let other = "99999999-9999-4999-8999-999999999999";
    let with_id = manifest(
        "app",
        "wi",
        "busybox",
        json!({"spec": {"containers": [{"name": "app", "image": "busybox",
            "env": [{"name": keys::ENV_CLIENT_ID, "value": other}]}]}}),
    );
    let pod = b.create_pod(&with_id).await;
    // The annotate after the pod, in a later second, by the manager that set client-id.
    let created = pod.metadata.creation_timestamp.unwrap().0.as_second();
    while SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        <= created
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.follow(&format!("kubectl annotate sa wi -n {} team=payments", b.ns));
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(
        code,
        &r,
        "container-client-id",
        "Remove AZURE_CLIENT_ID from the spec of app",
    );
    assert_eq!(failing(&r), vec!["container-client-id"], "{r:#}");
    assert_eq!(check(&r, "pod-current")["status"], "pass");
    let d = detail(&r, "container-client-id");
    assert!(
        d.contains(&format!(
            "app uses AZURE_CLIENT_ID='{other}' (set in its spec, read in the container)"
        )),
        "{d}"
    );
    // Following the hint: the variable out of the manifest, the pod created again.
    b.recreate_pod(&manifest("app", "wi", "busybox", json!({})))
        .await;
    let (code, r) = b.doctor(&["pod/app", "--exchange"]);
    assert_eq!(code, 0, "{r:#}");
}

/// Item 11: valueFrom a ConfigMap (read in the container) and, in a distroless container,
/// valueFrom a Secret (resolved through the API), compared as the value the app gets.
#[tokio::test]
async fn a_client_id_from_a_configmap_or_secret() {
    let b = Bench::with_bound_sa("doc-valuefrom", &[]).await;
    let other = "88888888-8888-4888-8888-888888888888";
    b.follow(&format!(
        "kubectl create configmap ids -n {0} --from-literal=client={other} && kubectl create secret generic ids -n {0} --from-literal=client={other}",
        b.ns
    ));
    let from = |name: &str, image: &str, source: Value| {
        manifest(
            name,
            "wi",
            image,
            json!({"spec": {"containers": [{"name": "app", "image": image,
                "env": [{"name": keys::ENV_CLIENT_ID, "valueFrom": source}]}]}}),
        )
    };
    b.create_pod(&from(
        "cm",
        "busybox",
        json!({"configMapKeyRef": {"name": "ids", "key": "client"}}),
    ))
    .await;
    b.create_pod(&from(
        "sec",
        "gcr.io/distroless/static:nonroot",
        json!({"secretKeyRef": {"name": "ids", "key": "client"}}),
    ))
    .await;
    for (pod, how) in [
        ("cm", "from configmap ids key client, read in the container"),
        ("sec", "from secret ids key client"),
    ] {
        let (code, r) = b.doctor(&[&format!("pod/{pod}")]);
        fails_on(code, &r, "container-client-id", "Remove AZURE_CLIENT_ID");
        let d = detail(&r, "container-client-id");
        assert!(
            d.contains(&format!("app uses AZURE_CLIENT_ID='{other}' ({how})")),
            "{pod}: {d}"
        );
        assert_eq!(
            check(&r, "pod-current")["status"],
            "pass",
            "{pod}: not stale"
        );
    }
    // The ConfigMap fixed: a running container keeps the value it started with (env is
    // resolved at container start), and doctor reads that one; the pod created again is good.
    b.follow(&format!(
        "kubectl create configmap ids -n {0} --from-literal=client={1} --dry-run=client -o yaml | kubectl apply -f -",
        b.ns, b.client_id
    ));
    let (code, _) = b.doctor(&["pod/cm"]);
    assert_eq!(code, 3, "the container still has the old value");
    b.recreate_pod(&from(
        "cm",
        "busybox",
        json!({"configMapKeyRef": {"name": "ids", "key": "client"}}),
    ))
    .await;
    let (code, r) = b.doctor(&["pod/cm"]);
    assert_eq!(code, 0, "{r:#}");
}

/// Item 14: ARM returns the identity's tenant; a tenant-id annotation naming another one
/// fails with the fix, and the fix (annotate, recreate) makes Entra accept the pod.
#[tokio::test]
async fn a_tenant_annotation_for_another_tenant() {
    let b = Bench::new("doc-tenant", &[]).await;
    b.credential(Ground::get().issuer(), &b.subject("wi")).await;
    let wrong = "7b1e3a55-0c8e-4d57-9a43-5f2a1c9e0d11";
    b.sa(
        "wi",
        &[
            (keys::CLIENT_ID_ANNOTATION, &b.client_id),
            (keys::TENANT_ID_ANNOTATION, wrong),
        ],
    )
    .await;
    let m = manifest("app", "wi", "busybox", json!({}));
    b.create_pod(&m).await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(
        code,
        &r,
        "sa-tenant-id",
        "--overwrite; then kubectl delete pod app",
    );
    assert_eq!(failing(&r), vec!["sa-tenant-id"], "{r:#}");
    let h = hint(&r, "sa-tenant-id");
    assert!(h.contains(&b.sub.tenant), "{h}");
    b.follow(
        command_after(&h, "kubectl annotate")
            .split("; then")
            .next()
            .unwrap(),
    );
    b.recreate_pod(&m).await;
    let (code, r) = b.doctor(&["pod/app", "--exchange"]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(check(&r, "token-exchange")["status"], "pass");
}

/// Item 15: AZURE_FEDERATED_TOKEN_FILE hard-coded to the pre-v1.6 path: the webhook keeps it,
/// so recreating the pod as it is changes nothing (shown), and removing it from the spec does.
#[tokio::test]
async fn a_hard_coded_token_file() {
    let b = Bench::with_bound_sa("doc-tokenfile", &[]).await;
    let legacy = manifest(
        "app",
        "wi",
        "busybox",
        json!({"spec": {"containers": [{"name": "app", "image": "busybox",
            "env": [{"name": keys::ENV_TOKEN_FILE, "value": "/var/run/secrets/azure/tokens/azure-identity-token"}]}]}}),
    );
    b.create_pod(&legacy).await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(
        code,
        &r,
        "token-volume",
        "remove AZURE_FEDERATED_TOKEN_FILE from the spec of app",
    );
    assert_eq!(
        failing(&r),
        vec!["token-volume"],
        "one cause, one failure: {r:#}"
    );
    assert!(hint(&r, "token-volume").contains("recreating the pod as it is changes nothing"));
    // Recreating as it is: still broken, as the hint says.
    b.recreate_pod(&legacy).await;
    let (code, _) = b.doctor(&["pod/app"]);
    assert_eq!(code, 3);
    b.recreate_pod(&manifest("app", "wi", "busybox", json!({})))
        .await;
    let (code, r) = b.doctor(&["pod/app", "--exchange"]);
    assert_eq!(code, 0, "{r:#}");
}

/// The running pods matching a label selector, once there are `n` of them and no others.
pub(super) async fn running(b: &Bench, selector: &str, n: usize, not: &[String]) -> Vec<Pod> {
    for _ in 0..600 {
        let pods = b
            .pods()
            .list(&ListParams::default().labels(selector))
            .await
            .unwrap()
            .items;
        let up: Vec<Pod> = pods
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .filter(|p| !not.contains(p.metadata.name.as_ref().unwrap()))
            .cloned()
            .collect();
        if up.len() == n && pods.len() == n {
            return up;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{n} running pod(s) for {selector} within 60s");
}

/// Item 16: "recreate the pod" names the real owner, found through the ReplicaSet's
/// ownerReferences, and works when run as printed; a ReplicaSet without a Deployment has its
/// pods deleted (it does not roll).
#[tokio::test]
async fn recreate_hints_work_as_printed() {
    let b = Bench::new("doc-owner", &[]).await;
    b.credential(Ground::get().issuer(), &b.subject("wi")).await;
    b.sa("wi", &[]).await;
    b.apply(&deployment("web", json!({}), json!({})));
    let rs = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "solo"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "solo"}}, "template": {
            "metadata": {"labels": {"app": "solo", keys::USE_LABEL: "true"}},
            "spec": {"serviceAccountName": "wi", "containers": [{"name": "app", "image": "busybox"}]}}}
    });
    b.apply(&rs);
    let old_web = running(&b, "app=web", 1, &[]).await;
    let old_solo = running(&b, "app=solo", 1, &[]).await;
    // Bound after the pods were created: they carry no AZURE_CLIENT_ID.
    b.follow(&format!(
        "kubectl annotate sa wi -n {} {}={}",
        b.ns,
        keys::CLIENT_ID_ANNOTATION,
        b.client_id
    ));
    let web_pod = old_web[0].metadata.name.clone().unwrap();
    for target in [format!("pod/{web_pod}"), "deploy/web".to_string()] {
        let (code, r) = b.doctor(&[&target]);
        fails_on(
            code,
            &r,
            "pod-current",
            &format!("kubectl rollout restart deploy/web -n {}", b.ns),
        );
        assert_eq!(failing(&r), vec!["pod-current"], "{target}: {r:#}");
    }
    let h = hint(&b.doctor(&["deploy/web"]).1, "pod-current");
    b.follow(&h);
    let names = |p: &[Pod]| {
        p.iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect::<Vec<_>>()
    };
    running(&b, "app=web", 1, &names(&old_web)).await;
    let (code, r) = b.doctor(&["deploy/web"]);
    assert_eq!(code, 0, "{r:#}");

    let (code, r) = b.doctor(&["rs/solo"]);
    let h = hint(&r, "pod-current");
    fails_on(
        code,
        &r,
        "pod-current",
        &format!("kubectl delete pods -n {} -l app=solo", b.ns),
    );
    assert!(!h.contains("rollout restart"), "{h}");
    b.follow(command_after(&h, "kubectl delete pods"));
    running(&b, "app=solo", 1, &names(&old_solo)).await;
    let (code, r) = b.doctor(&["rs/solo"]);
    assert_eq!(code, 0, "{r:#}");
}

/// Item 17: the identity also serves another namespace; its credential there is a near miss
/// here and must not be rewritten: a new credential is proposed, and following that leaves the
/// other binding intact.
#[tokio::test]
async fn a_shared_identity_gets_a_new_credential() {
    let b = Bench::new("doc-shared", &[]).await;
    let elsewhere = "system:serviceaccount:payments:wi";
    b.credential(Ground::get().issuer(), elsewhere).await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
        .await;
    b.create_pod(&manifest("app", "wi", "busybox", json!({})))
        .await;
    let (code, r) = b.doctor(&["pod/app"]);
    let bind = format!(
        "kubectl azwi bind wi -n {} --identity {}",
        b.ns, b.client_id
    );
    fails_on(code, &r, "azure-credential", &bind);
    let h = hint(&r, "azure-credential");
    assert!(!h.contains("federated-credential update"), "{h}");
    b.follow(command_after(&h, "kubectl azwi bind"));
    let (code, r) = b.doctor(&["pod/app", "--exchange"]);
    assert_eq!(code, 0, "{r:#}");
    let creds = b.sub.credentials(&b.identity_id).await;
    assert_eq!(creds.len(), 2, "{creds:#?}");
    assert!(
        creds
            .iter()
            .any(|c| c["properties"]["subject"] == elsewhere),
        "the other namespace's credential is untouched: {creds:#?}"
    );
}

/// Item 18: only events about the workload-identity webhook count: another webhook's failed
/// calls are not ours, and the webhook's denials are counted (and named to doctor).
#[tokio::test]
async fn webhook_calls_count_only_the_workload_identity_webhook() {
    let b = Bench::with_bound_sa("doc-events", &[]).await;
    b.create_pod(&manifest("app", "wi", "busybox", json!({})))
        .await;
    // Another mutating webhook, unreachable, for this namespace's pods labelled noise=yes.
    let other = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": format!("other-{}", b.ns)},
        "webhooks": [{"name": "sidecar.other.example", "admissionReviewVersions": ["v1"], "sideEffects": "None",
            "failurePolicy": "Fail", "timeoutSeconds": 2,
            "clientConfig": {"url": "https://127.0.0.1:1/mutate"},
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": b.ns}},
            "objectSelector": {"matchLabels": {"noise": "yes"}},
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}]}]
    });
    b.follow(&format!("echo '{other}' | kubectl apply -f -"));
    let noise = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "noise"},
        "spec": {"selector": {"matchLabels": {"noise": "yes"}}, "template": {
            "metadata": {"labels": {"noise": "yes"}},
            "spec": {"containers": [{"name": "app", "image": "busybox"}]}}}
    });
    b.apply(&noise);
    let ev = b.failed_create("noise-").await;
    assert!(
        ev.message
            .unwrap()
            .contains("failed calling webhook \"sidecar.other.example\"")
    );
    let (code, r) = b.doctor(&["pod/app"]);
    assert_eq!(code, 0, "another webhook's failures are not ours: {r:#}");
    // The workload-identity webhook's denial of another workload is counted and named.
    b.apply(&deployment(
        "bad",
        json!({keys::TOKEN_EXPIRATION_ANNOTATION: "90000"}),
        json!({}),
    ));
    b.failed_create("bad-").await;
    let (code, r) = b.doctor(&["pod/app"]);
    assert_eq!(code, 0, "{r:#}");
    let calls = check(&r, "webhook-calls");
    assert_eq!(calls["status"], "warn", "{calls}");
    assert!(
        calls["detail"]
            .as_str()
            .unwrap()
            .contains("0 failed call(s), 1 denial(s)"),
        "{calls}"
    );
    let h = calls["hint"].as_str().unwrap();
    let cmd = command_after(h, "kubectl azwi doctor rs/bad-");
    let out = b.follow(&format!("{cmd} -o json || true"));
    let r: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(failing(&r), vec!["sa-token-expiration"], "{r:#}");
    b.follow(&format!(
        "kubectl delete mutatingwebhookconfiguration other-{}",
        b.ns
    ));
}

/// Item 19: the real webhook admits a pod whose annotation (7200) overrides an invalid one on
/// its service account (600): v1.6.0 getServiceAccountTokenExpiration prefers the pod's.
#[tokio::test]
async fn the_pods_token_expiration_wins() {
    let b = Bench::new("doc-expprec", &[]).await;
    b.credential(Ground::get().issuer(), &b.subject("wi")).await;
    b.sa(
        "wi",
        &[
            (keys::CLIENT_ID_ANNOTATION, &b.client_id),
            (keys::TOKEN_EXPIRATION_ANNOTATION, "600"),
        ],
    )
    .await;
    let m = manifest(
        "app",
        "wi",
        "busybox",
        json!({"metadata": {"annotations": {keys::TOKEN_EXPIRATION_ANNOTATION: "7200"}}}),
    );
    b.create_pod(&m).await;
    let (code, r) = b.doctor(&["pod/app"]);
    assert_eq!(code, 0, "{r:#}");
    let d = detail(&r, "sa-token-expiration");
    assert!(
        d.contains("7200s from the pod's annotation (the service account's '600' is not used)"),
        "{d}"
    );
    assert!(detail(&r, "token-volume").contains("7200s"));
}

/// Item 21: the client id of an Entra application (here the subscription owner's app
/// registration), not a managed identity: a warning saying what was not checked.
#[tokio::test]
async fn an_application_client_id_is_a_warning() {
    let b = Bench::new("doc-app", &[]).await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.sub.client_id)])
        .await;
    b.create_pod(&manifest("app", "wi", "busybox", json!({})))
        .await;
    let (code, r) = b.doctor(&["pod/app"]);
    assert_eq!(code, 0, "{r:#}");
    let id = check(&r, "azure-identity");
    assert_eq!(id["status"], "warn", "{id}");
    assert!(
        id["detail"]
            .as_str()
            .unwrap()
            .contains("federated credentials were not checked")
    );
    assert!(id["hint"].as_str().unwrap().contains(&format!(
        "az ad app federated-credential list --id {}",
        b.sub.client_id
    )));
}

/// Item 22: a pod never mutated fails pod-mutated only; a missing annotation fails
/// sa-client-id only (no other check says "recreate the pod").
#[tokio::test]
async fn one_cause_one_failure() {
    let b = Bench::with_bound_sa("doc-onecause", &[("azwi.test/webhook", "none")]).await;
    b.create_pod(&manifest("app", "wi", "busybox", json!({})))
        .await;
    // The webhook serves the namespace from now on; the pod was admitted before.
    Api::<Namespace>::all(b.client.clone())
        .patch(
            &b.ns,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"azwi.test/webhook": null}}})),
        )
        .await
        .unwrap();
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(
        code,
        &r,
        "pod-mutated",
        &format!("kubectl delete pod app -n {}", b.ns),
    );
    assert_eq!(failing(&r), vec!["pod-mutated"], "{r:#}");

    b.sa("nobody", &[]).await;
    b.create_pod(&manifest("unbound", "nobody", "busybox", json!({})))
        .await;
    let (code, r) = b.doctor(&["pod/unbound"]);
    // The other bound account makes pod-service-account the one failure: bind that instead.
    assert_eq!(code, 3);
    assert_eq!(failing(&r), vec!["pod-service-account"], "{r:#}");
    let b2 = Bench::new("doc-noannot", &[]).await;
    b2.sa("wi", &[]).await;
    b2.create_pod(&manifest("app", "wi", "busybox", json!({})))
        .await;
    let (code, r) = b2.doctor(&["pod/app"]);
    fails_on(code, &r, "sa-client-id", "kubectl azwi bind wi");
    assert_eq!(failing(&r), vec!["sa-client-id"], "{r:#}");
    let env = check(&r, "container-env");
    assert_eq!(env["status"], "pass", "{env}");
}
