//! doctor on the pods production clusters run: a distroless app, the webhook's proxy sidecar,
//! several containers with skip-containers, workloads whose pods are refused, and targets that
//! do not exist.

use serde_json::json;

use kubectl_azwi::wi::keys;

use super::{Bench, check, deployment, detail, failing, fails_on, manifest};
use crate::support::azure::run_plugin;

/// Item 9. A distroless image has no shell: containerd answers the exec with runc's
/// `exec: "sh": executable file not found in $PATH` (as users report it, e.g.
/// grafana/mimir#10571). doctor says exactly that, and still proves the token path with a
/// token minted as the kubelet mints it, through to Entra.
#[tokio::test]
async fn a_distroless_app_is_proven_with_a_minted_token() {
    let b = Bench::with_bound_sa("doc-distroless", &[]).await;
    b.create_pod(&manifest(
        "app",
        "wi",
        "gcr.io/distroless/static:nonroot",
        json!({}),
    ))
    .await;
    let (code, r) = b.doctor(&["pod/app", "--exchange"]);
    assert_eq!(code, 0, "{r:#}");
    let tf = check(&r, "token-file");
    assert_eq!(tf["status"], "skip", "{tf}");
    let d = tf["detail"].as_str().unwrap();
    assert!(
        d.contains("container app has no shell (exec: \"sh\": executable file not found in $PATH)"),
        "{d}"
    );
    assert!(
        d.contains(&format!(
            "TokenRequest for service account wi, audience {}, 3600s, bound to pod app",
            keys::AUDIENCE
        )),
        "{d}"
    );
    assert!(!r.to_string().contains("not mutated"), "{r:#}");
    for id in ["token-claims", "token-signature"] {
        let c = check(&r, id);
        assert_eq!(c["status"], "pass", "{c}");
        assert!(
            c["detail"].as_str().unwrap().starts_with("minted token: "),
            "{c}"
        );
    }
    let x = check(&r, "token-exchange");
    assert_eq!(x["status"], "pass", "{x}");
    assert!(
        x["detail"].as_str().unwrap().contains("a minted token"),
        "{x}"
    );
    assert!(detail(&r, "container-client-id").contains("app has no shell: from its spec"));
    assert!(
        !r.to_string().contains("eyJ"),
        "a JWT leaked into the report"
    );

    // `-c` naming no container: one line and exit 2, no debug dump.
    let (code, out, err) = run_plugin(
        &["doctor", "pod/app", "-c", "nope", "-n", &b.ns],
        &b.sub.env(),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(
        err.trim(),
        "error: invalid container 'nope': expected one of pod app's containers: app"
    );
}

/// Item 9, the default container: with the proxy sidecar injected (azwi-proxy and
/// azwi-proxy-init, v1.6.0 consts.go), doctor reads the app, never the proxy; asked for the
/// proxy, it finds it shell-less (its image is built FROM distroless) and mints.
#[tokio::test]
async fn the_proxy_sidecar_is_not_the_app() {
    let b = Bench::with_bound_sa("doc-proxy", &[]).await;
    let m = manifest(
        "app",
        "wi",
        "busybox",
        json!({"metadata": {"annotations": {keys::INJECT_PROXY_ANNOTATION: "true"}}}),
    );
    b.create_pod(&m).await;
    let (code, r) = b.doctor(&["pod/app"]);
    assert_eq!(code, 0, "{r:#}");
    let env = detail(&r, "container-env");
    assert!(
        env.contains(
            "3 container(s) served (azwi-proxy, azwi-proxy-init, app); your code runs in app"
        ),
        "{env}"
    );
    let tf = check(&r, "token-file");
    assert_eq!(tf["status"], "pass", "{tf}");
    assert!(
        tf["detail"]
            .as_str()
            .unwrap()
            .contains(" in app holds a JWT"),
        "{tf}"
    );
    let (code, r) = b.doctor(&["pod/app", "-c", "azwi-proxy"]);
    assert_eq!(code, 0, "{r:#}");
    let tf = detail(&r, "token-file");
    assert!(tf.contains("container azwi-proxy has no shell"), "{tf}");
}

/// Item 12. Each container the webhook serves is checked and the app's is named; a
/// skip-containers annotation that leaves the app without identity while a sidecar gets it
/// fails. Following the hint (remove it from the manifest, recreate) fixes it.
#[tokio::test]
async fn several_containers_and_skip_containers() {
    let b = Bench::with_bound_sa("doc-multi", &[]).await;
    let spec = |skip: Option<&str>| {
        let mut m = manifest(
            "app",
            "wi",
            "busybox",
            json!({"spec": {
                "containers": [{"name": "app", "image": "busybox"}, {"name": "log-shipper", "image": "busybox"}],
                // A native sidecar of the user's own (restartPolicy Always).
                "initContainers": [{"name": "mesh", "image": "busybox", "restartPolicy": "Always"}],
            }}),
        );
        if let Some(s) = skip {
            m["metadata"]["annotations"] = json!({keys::SKIP_CONTAINERS_ANNOTATION: s});
        }
        m
    };
    b.create_pod(&spec(Some("app"))).await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(
        code,
        &r,
        "container-env",
        "remove app from the azure.workload.identity/skip-containers annotation",
    );
    let d = detail(&r, "container-env");
    assert!(
        d.contains("the app container app is in azure.workload.identity/skip-containers"),
        "{d}"
    );
    assert!(d.contains("while mesh, log-shipper get(s) it"), "{d}");
    assert_eq!(failing(&r), vec!["container-env"], "{r:#}");

    b.recreate_pod(&spec(None)).await;
    let (code, r) = b.doctor(&["pod/app"]);
    assert_eq!(code, 0, "{r:#}");
    let d = detail(&r, "container-env");
    assert!(
        d.contains("3 container(s) served (mesh, app, log-shipper); your code runs in app"),
        "{d}"
    );
}

/// Item 13. A target that does not exist is an error with its one-line cause, not "all ok".
#[tokio::test]
async fn a_target_that_does_not_exist_is_an_error() {
    let b = Bench::new("doc-missing", &[]).await;
    for (target, resource) in [
        ("pod/nope", "pods"),
        ("deploy/nope", "deployments"),
        ("sts/nope", "statefulsets"),
        ("sa/nope", "serviceaccounts"),
    ] {
        let (code, out, err) = run_plugin(&["doctor", target, "-n", &b.ns], &b.sub.env());
        assert_eq!(code, 1, "{target}: {out}{err}");
        let mut lines = err.lines();
        assert_eq!(
            lines.next(),
            Some(format!("error: {target} not found in namespace {}", b.ns).as_str()),
            "{err}"
        );
        assert_eq!(
            lines.next().map(str::trim),
            Some(
                format!(
                    "hint: see what exists: kubectl get {resource} -n {} (or pass -n/--namespace)",
                    b.ns
                )
                .as_str()
            )
        );
        assert!(out.is_empty(), "no report: {out}");
    }
}

/// Item 13. A Deployment whose pods the webhook denies (the proxy sidecar cannot run with
/// hostNetwork: v1.6.0 webhook.go Handle) is diagnosed from its ReplicaSet's FailedCreate
/// events; following the hint literally lets the pods in.
#[tokio::test]
async fn a_deployment_whose_pods_are_denied() {
    let b = Bench::with_bound_sa("doc-denied", &[]).await;
    b.apply(&deployment(
        "web",
        json!({keys::INJECT_PROXY_ANNOTATION: "true"}),
        json!({"hostNetwork": true}),
    ));
    let ev = b.failed_create("web-").await;
    assert!(
        ev.message.as_deref().unwrap_or_default().contains(
            "admission webhook \"mutation.azure-workload-identity.io\" denied the request: hostNetwork is set to true, cannot inject proxy sidecar"
        ),
        "{ev:?}"
    );
    let (code, r) = b.doctor(&["deploy/web"]);
    fails_on(code, &r, "pod-admitted", "kubectl patch deploy/web");
    assert_eq!(failing(&r), vec!["pod-admitted"], "{r:#}");
    let calls = check(&r, "webhook-calls");
    assert_eq!(calls["status"], "pass", "the webhook answers: {calls}");
    assert!(
        calls["detail"]
            .as_str()
            .unwrap()
            .contains("0 failed call(s), 1 denial(s)")
    );
    let hint = check(&r, "pod-admitted")["hint"].as_str().unwrap();
    let cmd = hint
        .split_once("(kubectl patch")
        .map(|(_, rest)| {
            format!(
                "kubectl patch{}",
                rest.split_once("), or hostNetwork").unwrap().0
            )
        })
        .unwrap();
    b.follow(&cmd);
    let (code, r) = b.doctor(&["deploy/web", "--wait", "60s"]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(check(&r, "pod-admitted")["status"], "pass");
}

/// Item 13 with item 19's rule: a token expiration the webhook refuses (outside 3600..86400)
/// is named once, by sa-token-expiration; pod-admitted points there.
#[tokio::test]
async fn a_deployment_with_a_refused_token_expiration() {
    let b = Bench::with_bound_sa("doc-expiry", &[]).await;
    b.apply(&deployment(
        "web",
        json!({keys::TOKEN_EXPIRATION_ANNOTATION: "600"}),
        json!({}),
    ));
    let ev = b.failed_create("web-").await;
    // The webhook's own words (v1.6.0 getServiceAccountTokenExpiration).
    assert!(
        ev.message.as_deref().unwrap_or_default().ends_with(
            "denied the request: token expiration 600 not valid. Expected value to be between 3600 and 86400"
        ),
        "{ev:?}"
    );
    let (code, r) = b.doctor(&["deploy/web"]);
    fails_on(code, &r, "sa-token-expiration", "3600..86400");
    assert_eq!(failing(&r), vec!["sa-token-expiration"], "{r:#}");
    let adm = check(&r, "pod-admitted");
    assert_eq!(adm["status"], "skip", "{adm}");
    assert!(
        adm["detail"]
            .as_str()
            .unwrap()
            .contains("see sa-token-expiration")
    );
}

/// Item 13: a Deployment whose service account does not exist: the API server refuses its
/// pods before the webhook sees them, and sa-exists is the one failure.
#[tokio::test]
async fn a_deployment_whose_service_account_is_missing() {
    let b = Bench::with_bound_sa("doc-nosa", &[]).await;
    let mut d = deployment("web", json!({}), json!({}));
    d["spec"]["template"]["spec"]["serviceAccountName"] = json!("missing");
    b.apply(&d);
    let ev = b.failed_create("web-").await;
    let msg = ev.message.unwrap_or_default();
    assert!(
        msg.contains("serviceaccount \"missing\" not found"),
        "{msg}"
    );
    let (code, r) = b.doctor(&["deploy/web"]);
    fails_on(code, &r, "sa-exists", "kubectl azwi bind missing");
    assert_eq!(failing(&r), vec!["sa-exists"], "{r:#}");
    assert!(
        detail(&r, "pod-admitted").contains("see sa-exists"),
        "{r:#}"
    );
}
