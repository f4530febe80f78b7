//! exec-login against the real ground: a bound pod logs in on both paths (az in the pod, and
//! the plugin's own exchange), an unbound one fails with the decoded AADSTS code.

use serde_json::Value;

use kubectl_azwi::wi::keys;

use crate::{
    doctor::Bench,
    support::{Ground, azure::run_plugin, fixtures},
};

fn login(b: &Bench, pod: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["exec-login", pod, "-n", &b.ns, "-o", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run_plugin(&args, &b.sub.env());
    let v =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}\nstdout: {out}\nstderr: {err}"));
    (code, v, err)
}

fn assert_logged_in(b: &Bench, r: &Value, via: &str) {
    assert_eq!(r["success"], true, "{r:#}");
    assert_eq!(r["via"], via);
    assert_eq!(r["who"]["tenant"], Ground::get().var("AZWI_GROUND_TENANT"));
    assert_eq!(r["who"]["clientId"], b.client_id.as_str());
    assert!(
        r["who"]["objectId"].as_str().is_some_and(|o| !o.is_empty()),
        "{r:#}"
    );
    assert!(r["who"]["expires"].as_i64().is_some());
    assert!(
        r.get("accessToken").is_none(),
        "no token without --show-token"
    );
}

#[tokio::test]
async fn plugin_exchange_for_a_pod_without_az() {
    let b = Bench::new("login-plugin", &[]).await;
    b.bound("app", None).await;
    let (code, r, err) = login(&b, "pod/app", &[]);
    assert_eq!(code, 0, "{err}");
    assert_logged_in(&b, &r, "plugin");
    let (_, r, _) = login(&b, "pod/app", &["--show-token"]);
    assert!(r["accessToken"].as_str().unwrap().starts_with("eyJ"));
}

#[tokio::test]
async fn az_login_inside_a_pod_with_azure_cli() {
    let b = Bench::new("login-az", &[]).await;
    b.bound("app", Some("mcr.microsoft.com/azure-cli:2.67.0"))
        .await;
    let (code, r, err) = login(&b, "pod/app", &[]);
    assert_eq!(code, 0, "{err}");
    assert_logged_in(&b, &r, "azInPod");
    // Human output names who the pod is.
    let (code, out, _) = run_plugin(&["exec-login", "pod/app", "-n", &b.ns], &b.sub.env());
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("client id: {}", b.client_id)),
        "{out}"
    );
    assert!(!out.contains("eyJ"), "{out}");
}

#[tokio::test]
async fn unbound_pod_fails_with_the_decoded_code() {
    for (image, via) in [
        (None, "plugin"),
        (Some("mcr.microsoft.com/azure-cli"), "azInPod"),
    ] {
        let b = Bench::new("login-unbound", &[]).await;
        b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
            .await;
        b.pod("app", "wi", &[fixtures::use_label()], &[], image)
            .await;
        let (code, r, err) = login(&b, "pod/app", &[]);
        assert_eq!(code, 1, "{r:#}");
        assert_eq!(r["via"], via);
        // An identity without any federated credential: Entra's AADSTS70025.
        assert_eq!(r["failure"]["code"], "AADSTS70025", "{r:#}");
        assert!(
            r["failure"]["fix"].as_str().unwrap().contains("doctor"),
            "{r:#}"
        );
        assert!(err.contains("AADSTS70025"), "{err}");
    }
}

#[tokio::test]
async fn emits_the_init_container_pattern() {
    let b = Bench::new("login-init", &[]).await;
    let g = Ground::get();
    let out = g
        .kubectl()
        .args([
            "create",
            "deployment",
            "web",
            "--image=busybox",
            "-n",
            &b.ns,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let (code, out, err) = run_plugin(
        &[
            "exec-login",
            "pod/ignored",
            "-n",
            &b.ns,
            "--emit-init-container",
            "deploy/web",
        ],
        &b.sub.env(),
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_yaml::from_str(&out).unwrap();
    let spec = &v["spec"]["template"]["spec"];
    assert_eq!(spec["initContainers"][0]["name"], "azure-login");
    assert_eq!(spec["containers"][0]["name"], "busybox");
    // It applies: the server accepts it as a strategic merge patch.
    std::fs::write(std::env::temp_dir().join(format!("{}.yaml", b.ns)), &out).unwrap();
    let applied = g
        .kubectl()
        .args(["patch", "deploy/web", "-n", &b.ns, "--patch-file"])
        .arg(std::env::temp_dir().join(format!("{}.yaml", b.ns)))
        .output()
        .unwrap();
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
}
