//! exec-login against the real ground: a bound pod logs in on both paths (az in the pod, and
//! the plugin's own exchange), an unbound one fails with the decoded AADSTS code.

use serde_json::{Value, json};

use kubectl_azwi::wi::keys;

use crate::{
    doctor::{Bench, manifest},
    support::{self, Ground, azure::run_plugin, fixtures},
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

/// A bound service account `wi` and a pod `app` of `image` with `extra` (see `manifest`).
async fn bound_pod(prefix: &str, image: &str, extra: Value) -> Bench {
    let b = Bench::with_bound_sa(prefix, &[]).await;
    b.create_pod(&manifest("app", "wi", image, extra)).await;
    b
}

/// Item 23: az in the pod logs in inside a throwaway AZURE_CONFIG_DIR: the app's own login
/// (its `~/.azure`, az's default config dir) is left exactly as it was, and nothing is left
/// behind in /tmp.
#[tokio::test]
async fn az_login_leaves_the_apps_own_login_alone() {
    let b = bound_pod("login-own", "mcr.microsoft.com/azure-cli:2.67.0", json!({})).await;
    let pods = b.pods();
    // The app logged in itself, as the walkthrough's init container pattern does.
    support::exec(
        &pods,
        "app",
        "app",
        &["sh", "-c", r#"az login --service-principal -u "$AZURE_CLIENT_ID" -t "$AZURE_TENANT_ID" --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --allow-no-subscriptions -o none"#],
    )
    .await;
    let look = r#"stat -c '%y %s' "$HOME/.azure/azureProfile.json"; ls -A /tmp | wc -l"#;
    let before = support::exec(&pods, "app", "app", &["sh", "-c", look]).await;
    let (code, r, err) = login(&b, "pod/app", &[]);
    assert_eq!(code, 0, "{err}");
    assert_logged_in(&b, &r, "azInPod");
    let after = support::exec(&pods, "app", "app", &["sh", "-c", look]).await;
    assert_eq!(before, after, "the app's ~/.azure and /tmp are untouched");
}

/// Item 23: with a read-only root filesystem no throwaway config dir can be made: exec-login
/// says what failed, and proves the login with the plugin's own exchange instead.
#[tokio::test]
async fn a_read_only_root_filesystem_is_named() {
    let b = bound_pod(
        "login-ro",
        "mcr.microsoft.com/azure-cli:2.67.0",
        json!({"spec": {"containers": [{"name": "app", "image": "mcr.microsoft.com/azure-cli:2.67.0",
            "securityContext": {"readOnlyRootFilesystem": true}}]}}),
    )
    .await;
    let (code, r, err) = login(&b, "pod/app", &[]);
    assert_eq!(code, 0, "{err}");
    assert_logged_in(&b, &r, "plugin");
    let note = r["notes"][0].as_str().unwrap();
    assert!(note.contains("mktemp -d` failed"), "{note}");
    assert!(note.contains("Read-only file system"), "{note}");
    let (_, out, _) = run_plugin(&["exec-login", "pod/app", "-n", &b.ns], &b.sub.env());
    assert!(
        out.contains("note: az in container app was not used"),
        "{out}"
    );
}

/// Item 23: the default --scope follows --cloud (Azure China's Resource Manager here).
#[tokio::test]
async fn the_default_scope_follows_the_cloud() {
    let b = bound_pod("login-cloud", "busybox", json!({})).await;
    let (code, r, err) = login(&b, "pod/app", &["--cloud", "china"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        r["who"]["audience"],
        json!(["https://management.chinacloudapi.cn"]),
        "{r:#}"
    );
    let (_, r, _) = login(&b, "pod/app", &[]);
    assert_eq!(
        r["who"]["audience"],
        json!(["https://management.azure.com/"])
    );
}

/// Item 9 for exec-login: no shell is named as such (with the doctor command that proves the
/// token path anyway); `-c` naming no container is one line and exit 2.
#[tokio::test]
async fn a_container_without_a_shell_or_a_wrong_container() {
    let b = bound_pod(
        "login-noshell",
        "gcr.io/distroless/static:nonroot",
        json!({}),
    )
    .await;
    let (code, r, _) = login(&b, "pod/app", &[]);
    assert_eq!(code, 1, "{r:#}");
    let f = &r["failure"];
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("container app has no shell (exec: \"sh\""),
        "{r:#}"
    );
    assert!(f["fix"].as_str().unwrap().contains(&format!(
        "kubectl azwi doctor pod/app -n {} --exchange",
        b.ns
    )));
    let (code, out, err) = run_plugin(
        &["exec-login", "pod/app", "-c", "nope", "-n", &b.ns],
        &b.sub.env(),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(
        err.trim(),
        "error: invalid container 'nope': expected one of pod app's containers: app"
    );
}
