//! Test ground I holds: the real webhook mutates (both token layouts), pods run and can be
//! exec'd into, their tokens carry the issuer Entra will see and verify against the API
//! server's published keys, RBAC bites, and kubectl finds the plugin.

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::{
    Api,
    api::{AttachParams, PostParams},
};
use kubectl_azwi::wi::{
    claims::Jwt,
    jwks::{self, Jwks},
    keys,
    mutation::{self, Layout},
};
use serde_json::json;

use crate::support::{self, Ground, fixtures};

const CLIENT_ID: &str = "a1b2c3d4-0000-4000-8000-000000000001";

async fn bound_pod(ns_labels: &[(&str, &str)], prefix: &str) -> (Api<Pod>, String, Pod) {
    let g = Ground::get();
    let client = g.client().await;
    let ns = support::namespace(&client, prefix, ns_labels).await;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    sas.create(
        &PostParams::default(),
        &fixtures::service_account(
            "workload-identity-sa",
            &[(keys::CLIENT_ID_ANNOTATION, CLIENT_ID)],
        ),
    )
    .await
    .unwrap();
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let created = pods
        .create(
            &PostParams::default(),
            &fixtures::pod(
                "quick-start",
                "workload-identity-sa",
                &[fixtures::use_label()],
            ),
        )
        .await
        .expect("the webhook admits the pod");
    (pods, ns, created)
}

fn assert_mutated(pod: &Pod, layout: Layout) {
    let inj = mutation::observe(pod);
    let vol = inj
        .volume
        .as_ref()
        .expect("the webhook added the projected token volume");
    assert_eq!(vol.layout, layout);
    assert_eq!(vol.audience.as_deref(), Some(keys::AUDIENCE));
    assert_eq!(vol.expiration_seconds, Some(3600));
    assert_eq!(inj.containers.len(), 2, "init and main container");
    let want_file = mutation::expected_token_file(layout, &vol.path);
    for c in &inj.containers {
        assert!(
            c.missing_env().is_empty(),
            "{} lacks {:?}",
            c.name,
            c.missing_env()
        );
        assert_eq!(
            c.env_value(keys::ENV_CLIENT_ID),
            Some(CLIENT_ID),
            "{}",
            c.name
        );
        assert_eq!(
            c.env_value(keys::ENV_TENANT_ID),
            Some(Ground::get().var("AZWI_GROUND_TENANT")),
            "{}",
            c.name
        );
        // The ground's webhook is set up as for a custom cloud whose Entra is the emulator.
        let authority = format!("{}/", Ground::get().var("AZURE_EMULATOR_URL"));
        assert_eq!(
            c.env_value(keys::ENV_AUTHORITY_HOST),
            Some(authority.as_str())
        );
        assert_eq!(c.token_file(), Some(want_file.as_str()), "{}", c.name);
        assert!(c.mount_path.is_some(), "{} mounts the token volume", c.name);
    }
}

#[tokio::test]
async fn webhook_v1_6_mutates_labelled_pod_into_the_new_layout() {
    let (_, _, pod) = bound_pod(&[], "mutate16").await;
    assert_mutated(&pod, Layout::Reserved);
    let name = &mutation::observe(&pod).volume.unwrap().name;
    assert!(name.starts_with(mutation::RESERVED_VOLUME_PREFIX), "{name}");
}

#[tokio::test]
async fn webhook_v1_5_1_mutates_into_the_old_layout() {
    let (_, _, pod) = bound_pod(&[("azwi.test/webhook", "v1.5.1")], "mutate15").await;
    assert_mutated(&pod, Layout::Legacy);
}

#[tokio::test]
async fn unlabelled_pod_is_not_mutated() {
    let g = Ground::get();
    let client = g.client().await;
    let ns = support::namespace(&client, "nolabel", &[]).await;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    sas.create(
        &PostParams::default(),
        &fixtures::service_account("sa", &[(keys::CLIENT_ID_ANNOTATION, CLIENT_ID)]),
    )
    .await
    .unwrap();
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    for (name, labels) in [
        ("plain", vec![]),
        ("capital-true", vec![(keys::USE_LABEL, "True")]),
    ] {
        let pod = pods
            .create(&PostParams::default(), &fixtures::pod(name, "sa", &labels))
            .await
            .unwrap();
        let inj = mutation::observe(&pod);
        assert!(!inj.mutated(), "{name} must not be mutated");
        assert!(
            inj.containers.iter().all(|c| c.env.is_empty()),
            "{name}: {inj:?}"
        );
    }
}

/// Reads the token through exec, decodes it, and verifies it against the API server's JWKS
/// fetched anonymously over https from its discovery document.
async fn token_from_exec_verifies(ns_labels: &[(&str, &str)], prefix: &str) {
    let g = Ground::get();
    let (pods, ns, _) = bound_pod(ns_labels, prefix).await;
    let pod = support::wait_running(&pods, "quick-start").await;
    let file = mutation::observe(&pod).containers[1]
        .token_file()
        .unwrap()
        .to_string();

    let env = support::exec(&pods, "quick-start", "oidc", &["env"]).await;
    assert!(
        env.lines()
            .any(|l| l == format!("{}={file}", keys::ENV_TOKEN_FILE)),
        "exec env: {env}"
    );
    let token = support::exec(
        &pods,
        "quick-start",
        "oidc",
        &["sh", "-c", "cat \"$AZURE_FEDERATED_TOKEN_FILE\""],
    )
    .await;
    let jwt = Jwt::decode(&token).expect("the token file holds a JWT");
    assert_eq!(jwt.claims.iss.as_deref(), Some(g.issuer()));
    assert_eq!(
        jwt.claims.sub.as_deref(),
        Some(format!("system:serviceaccount:{ns}:workload-identity-sa").as_str())
    );
    assert_eq!(jwt.claims.aud, vec![keys::AUDIENCE.to_string()]);
    let (iat, exp) = (jwt.claims.iat.unwrap(), jwt.claims.exp.unwrap());
    assert_eq!(exp - iat, 3600, "expiry from the volume");
    let bound = &jwt.claims.other["kubernetes.io"]["pod"];
    assert_eq!(
        bound["name"], "quick-start",
        "token is bound to the pod: {bound}"
    );
    assert_eq!(bound["uid"].as_str(), pod.metadata.uid.as_deref());

    // Same through the real kubectl binary.
    let out = g
        .kubectl()
        .args([
            "exec",
            "-n",
            &ns,
            "quick-start",
            "-c",
            "oidc",
            "--",
            "cat",
            &file,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl exec: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), token.trim());

    // The API server's own discovery, anonymously, as Entra would fetch an issuer.
    let http = anonymous_https();
    let api = g.var("AZWI_GROUND_APISERVER");
    let disco: serde_json::Value = http
        .get(format!("{api}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disco["issuer"], g.issuer());
    let keys: Jwks = http
        .get(format!("{api}/openid/v1/jwks"))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid =
        jwks::verify(&token, &keys).expect("signature verifies against the API server's JWKS");
    assert_eq!(Some(kid.as_str()), jwt.kid());
    // And a key that is not the signer's is refused.
    let mut forged = keys.clone();
    forged
        .keys
        .iter_mut()
        .for_each(|k| k.n = Some("AQAB".into()));
    assert!(jwks::verify(&token, &forged).is_err());
}

#[tokio::test]
async fn exec_reads_a_verifiable_token_v1_6() {
    token_from_exec_verifies(&[], "token16").await;
}

#[tokio::test]
async fn exec_reads_a_verifiable_token_v1_5_1() {
    token_from_exec_verifies(&[("azwi.test/webhook", "v1.5.1")], "token15").await;
}

pub fn anonymous_https() -> reqwest::Client {
    let pem = std::fs::read(Ground::get().var("AZWI_GROUND_CA")).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn limited_user_is_forbidden_where_admin_succeeds() {
    let g = Ground::get();
    let admin = g.client().await;
    let ns = support::namespace(&admin, "rbac", &[]).await;
    let limited: Api<ServiceAccount> = Api::namespaced(g.client_for(support::LIMITED).await, &ns);
    let err = limited
        .create(&PostParams::default(), &fixtures::service_account("x", &[]))
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => assert_eq!(s.code, 403, "{s:?}"),
        other => panic!("expected 403, got {other:?}"),
    }
    let admin_sas: Api<ServiceAccount> = Api::namespaced(admin, &ns);
    admin_sas
        .create(&PostParams::default(), &fixtures::service_account("x", &[]))
        .await
        .expect("admin may create");
    assert!(
        limited.get("x").await.is_ok(),
        "the limited user can still read"
    );
}

#[test]
fn kubectl_finds_the_plugin() {
    let g = Ground::get();
    let (dir, path) = support::path_with(
        "path",
        &[("kubectl-azwi", env!("CARGO_BIN_EXE_kubectl-azwi"))],
    );
    let link = dir.join("kubectl-azwi");

    let list = g
        .kubectl()
        .args(["plugin", "list"])
        .env("PATH", &path)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains(&link.display().to_string()),
        "plugin list: {listed}"
    );

    let help = g
        .kubectl()
        .args(["azwi", "--help"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        help.status.success(),
        "{}",
        String::from_utf8_lossy(&help.stderr)
    );
    let text = String::from_utf8_lossy(&help.stdout);
    for cmd in [
        "bind",
        "unbind",
        "inspect",
        "doctor",
        "exec-login",
        "version",
    ] {
        assert!(text.contains(cmd), "help lists {cmd}: {text}");
    }
    let version = g
        .kubectl()
        .args(["azwi", "version", "-o", "json"])
        .env("PATH", &path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&version.stdout).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let bad = g
        .kubectl()
        .args(["azwi", "doctor", "quick-start"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "bad target is a usage error");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("did you mean pod/quick-start?"));
}

// ---------- pods as production runs them (issue 12, item 4) ----------

/// Runs `argv` through the API server's exec; returns (stdout, stderr, status message),
/// whether or not it succeeded.
async fn try_exec(
    pods: &Api<Pod>,
    pod: &str,
    container: &str,
    argv: &[&str],
) -> (String, String, String) {
    use tokio::io::AsyncReadExt;
    let ap = AttachParams::default()
        .container(container)
        .stderr(true)
        .stdout(true);
    let mut proc = pods
        .exec(pod, argv.iter().copied(), &ap)
        .await
        .expect("exec");
    let (mut out, mut err) = (String::new(), String::new());
    let (so, se) = (proc.stdout(), proc.stderr());
    let status = proc.take_status().unwrap();
    tokio::join!(
        async {
            if let Some(mut s) = so {
                let _ = s.read_to_string(&mut out).await;
            }
        },
        async {
            if let Some(mut s) = se {
                let _ = s.read_to_string(&mut err).await;
            }
        }
    );
    let status = status.await;
    let _ = proc.join().await;
    let msg = status
        .map(|s| {
            format!(
                "{}: {}",
                s.status.unwrap_or_default(),
                s.message.unwrap_or_default()
            )
        })
        .unwrap_or_default();
    (out, err, msg)
}

async fn ns_with_sa(prefix: &str) -> (kube::Client, String, Api<Pod>) {
    let client = Ground::get().client().await;
    let ns = support::namespace(&client, prefix, &[]).await;
    Api::<ServiceAccount>::namespaced(client.clone(), &ns)
        .create(
            &PostParams::default(),
            &fixtures::service_account("wi", &[(keys::CLIENT_ID_ANNOTATION, CLIENT_ID)]),
        )
        .await
        .unwrap();
    let pods = Api::namespaced(client.clone(), &ns);
    (client, ns, pods)
}

async fn run_pod(pods: &Api<Pod>, manifest: serde_json::Value) -> Pod {
    let p: Pod = serde_json::from_value(manifest).unwrap();
    let name = p.metadata.name.clone().unwrap();
    pods.create(&PostParams::default(), &p).await.unwrap();
    support::wait_running(pods, &name).await
}

/// A distroless container has no shell: exec of sh fails the way runc fails it
/// (`exec: "sh": executable file not found in $PATH`, see tests/ground/README.md), while the
/// pod's other container runs commands as before.
#[tokio::test]
async fn distroless_containers_have_no_shell() {
    let (_, _, pods) = ns_with_sa("distroless").await;
    run_pod(
        &pods,
        json!({"metadata": {"name": "p", "labels": {keys::USE_LABEL: "true"}}, "spec": {
            "serviceAccountName": "wi",
            "containers": [{"name": "app", "image": "gcr.io/distroless/static:nonroot"},
                           {"name": "debug", "image": "busybox"}]}}),
    )
    .await;
    for cmd in ["sh", "cat"] {
        let (out, err, status) = try_exec(&pods, "p", "app", &[cmd, "-c", "true"]).await;
        assert!(out.is_empty(), "{out}");
        assert_eq!(
            err.trim(),
            format!(
                "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{cmd}\": executable file not found in $PATH: unknown"
            )
        );
        assert!(status.starts_with("Failure"), "{status}");
    }
    let (out, _, status) = try_exec(&pods, "p", "debug", &["sh", "-c", "echo ok"]).await;
    assert_eq!((out.trim(), status.as_str()), ("ok", "Success: "));
}

/// The webhook's proxy sidecar: on Kubernetes >= 1.32 a native sidecar (an init container
/// with restartPolicy Always) plus the azwi-proxy-init container, both with the images a
/// release names (v1.6.0 webhook.go injectProxySidecarContainer, consts.go), running, and
/// shell-less like the distroless images they are built from.
#[tokio::test]
async fn the_proxy_sidecar_is_a_native_sidecar() {
    let (_, _, pods) = ns_with_sa("proxy").await;
    let pod = run_pod(
        &pods,
        json!({"metadata": {"name": "p", "labels": {keys::USE_LABEL: "true"},
                            "annotations": {keys::INJECT_PROXY_ANNOTATION: "true"}},
               "spec": {"serviceAccountName": "wi", "containers": [{"name": "app", "image": "busybox"}]}}),
    )
    .await;
    let inits = pod.spec.as_ref().unwrap().init_containers.clone().unwrap();
    let names: Vec<_> = inits.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["azwi-proxy", "azwi-proxy-init"]);
    assert_eq!(inits[0].restart_policy.as_deref(), Some("Always"));
    let v = Ground::get().var("AZWI_GROUND_WEBHOOK_VERSION");
    assert_eq!(
        inits[0].image.as_deref(),
        Some(format!("mcr.microsoft.com/oss/azure/workload-identity/proxy:{v}").as_str())
    );
    let statuses = pod.status.unwrap().init_container_statuses.unwrap();
    assert!(
        statuses[0].state.as_ref().unwrap().running.is_some(),
        "{statuses:?}"
    );
    let inj = mutation::observe(&pods.get("p").await.unwrap());
    assert!(inj.container("azwi-proxy").unwrap().sidecar);
    assert!(
        inj.container("azwi-proxy")
            .unwrap()
            .missing_env()
            .is_empty(),
        "the webhook serves its own sidecar"
    );
    let (_, err, _) = try_exec(&pods, "p", "azwi-proxy", &["sh", "-c", "true"]).await;
    assert!(err.contains("executable file not found in $PATH"), "{err}");
}

/// skip-containers: the named container gets neither variables nor the token mount.
#[tokio::test]
async fn skip_containers_leaves_a_container_alone() {
    let (_, _, pods) = ns_with_sa("skip").await;
    let pod = run_pod(
        &pods,
        json!({"metadata": {"name": "p", "labels": {keys::USE_LABEL: "true"},
                            "annotations": {keys::SKIP_CONTAINERS_ANNOTATION: "app"}},
               "spec": {"serviceAccountName": "wi", "containers": [
                   {"name": "app", "image": "busybox"}, {"name": "log", "image": "busybox"}]}}),
    )
    .await;
    let inj = mutation::observe(&pod);
    let app = inj.container("app").unwrap();
    assert!(
        app.skipped && app.env.is_empty() && app.mount_path.is_none(),
        "{app:?}"
    );
    assert!(inj.container("log").unwrap().missing_env().is_empty());
}

/// A ReplicaSet whose pods the webhook denies records FailedCreate events with the API
/// server's and the webhook's words.
#[tokio::test]
async fn a_replicaset_records_the_webhooks_denial() {
    let (client, ns, _) = ns_with_sa("denied").await;
    let rs: k8s_openapi::api::apps::v1::ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web", keys::USE_LABEL: "true"},
                         "annotations": {keys::TOKEN_EXPIRATION_ANNOTATION: "600"}},
            "spec": {"serviceAccountName": "wi", "containers": [{"name": "app", "image": "busybox"}]}}}
    }))
    .unwrap();
    Api::<k8s_openapi::api::apps::v1::ReplicaSet>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &rs)
        .await
        .unwrap();
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client, &ns);
    let lp = kube::api::ListParams::default().fields("involvedObject.name=web,reason=FailedCreate");
    let mut msg = None;
    for _ in 0..300 {
        if let Some(e) = events.list(&lp).await.unwrap().items.pop() {
            msg = e.message;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        msg.as_deref(),
        Some(
            "Error creating: admission webhook \"mutation.azure-workload-identity.io\" denied the request: token expiration 600 not valid. Expected value to be between 3600 and 86400"
        )
    );
}

/// readOnlyRootFilesystem: the container cannot write its /tmp (or its home); a writable
/// container of the same pod can, in the pod's own /tmp, not the host's.
#[tokio::test]
async fn a_read_only_root_filesystem() {
    let (_, _, pods) = ns_with_sa("readonly").await;
    run_pod(
        &pods,
        json!({"metadata": {"name": "p"}, "spec": {"serviceAccountName": "wi", "containers": [
            {"name": "ro", "image": "busybox", "securityContext": {"readOnlyRootFilesystem": true}},
            {"name": "rw", "image": "busybox"}]}}),
    )
    .await;
    let (_, err, status) = try_exec(&pods, "p", "ro", &["sh", "-c", "mktemp -d"]).await;
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(status.starts_with("Failure"), "{status}");
    let (_, err, _) = try_exec(&pods, "p", "ro", &["sh", "-c", "mkdir \"$HOME/.azure\""]).await;
    assert!(err.contains("Read-only file system"), "{err}");
    let marker = format!("azwi-ground-{}", std::process::id());
    let (out, _, status) = try_exec(
        &pods,
        "p",
        "rw",
        &["sh", "-c", &format!("touch /tmp/{marker} && ls /tmp")],
    )
    .await;
    assert_eq!(status, "Success: ");
    assert!(out.contains(&marker));
    assert!(
        !std::path::Path::new(&format!("/tmp/{marker}")).exists(),
        "the pod's /tmp is its own"
    );
}

/// A pod deleted and at once created again under its name runs, each time, and is the new one
/// (what every "delete the pod, then create it again" hint asks). The ground once removed the
/// successor: kwok's delete stage deletes by name, so a late repeat of it hit the new pod
/// (CI run of stop 21, kwok.log: three "Delete pod" for one deletion). The kubelet deletes with
/// the pod's UID as precondition (pkg/kubelet/status/status_manager.go), and so does the ground.
#[tokio::test]
async fn a_pod_created_again_under_its_name_is_the_one_that_runs() {
    use kube::{
        ResourceExt,
        api::DeleteParams,
        runtime::{conditions, wait::await_condition},
    };
    let (_, _, pods) = ns_with_sa("recreate").await;
    let manifest = json!({"metadata": {"name": "p"},
        "spec": {"serviceAccountName": "wi", "containers": [{"name": "app", "image": "busybox"}]}});
    let mut uid = run_pod(&pods, manifest.clone()).await.uid().unwrap();
    for round in 0..8 {
        pods.delete("p", &DeleteParams::default()).await.unwrap();
        let gone = await_condition(pods.clone(), "p", conditions::is_deleted(&uid));
        tokio::time::timeout(std::time::Duration::from_secs(30), gone)
            .await
            .unwrap_or_else(|_| panic!("round {round}: pod {uid} not deleted within 30s"))
            .unwrap();
        let next = run_pod(&pods, manifest.clone()).await.uid().unwrap();
        assert_ne!(next, uid, "round {round}");
        // Still there a moment later: nothing meant for its predecessor removed it.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let now = pods.get_opt("p").await.unwrap().map(|p| p.uid().unwrap());
        assert_eq!(now.as_deref(), Some(next.as_str()), "round {round}");
        uid = next;
    }
}
