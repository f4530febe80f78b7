//! Test ground I holds: the real webhook mutates (both token layouts), pods run and can be
//! exec'd into, their tokens carry the issuer Entra will see and verify against the API
//! server's published keys, RBAC bites, and kubectl finds the plugin.

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::{Api, api::PostParams};
use kubectl_azwi::wi::{
    claims::Jwt,
    jwks::{self, Jwks},
    keys,
    mutation::{self, Layout},
};

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
