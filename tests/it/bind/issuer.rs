//! An issuer Entra cannot use is refused before any write, exit 2, with the fix (issue 11
//! item 2): an AKS cluster without the OIDC issuer, the in-cluster issuer such a cluster puts
//! in tokens, and an issuer whose discovery document or keys are not served anonymously.

use k8s_openapi::api::{
    core::v1::ServiceAccount,
    rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding},
};
use kube::{
    Api,
    api::{DeleteParams, PostParams},
};
use serde_json::json;

use super::{Setup, json_out, setup};
use crate::support::Ground;

/// The fix Microsoft Learn gives for a cluster without the OIDC issuer ("Deploy and configure
/// workload identity on an AKS cluster").
const FIX: &str =
    "az aks update -g rg -n myAKSCluster --enable-oidc-issuer --enable-workload-identity";

async fn refused(s: &Setup, args: &[&str], want: &[&str]) {
    let writes = s.sub.writes().await;
    let (code, out, err) = s.bind(args);
    assert_eq!(code, 2, "{args:?}\nstdout: {out}\nstderr: {err}");
    for w in want {
        assert!(err.contains(w), "{args:?}: want '{w}' in\n{err}");
    }
    assert_eq!(s.sub.writes().await, writes, "{args:?} wrote to Azure");
    assert!(s.sa().await.is_none(), "{args:?} wrote to the cluster");
}

#[tokio::test]
async fn an_aks_cluster_without_the_oidc_issuer_is_refused_with_the_fix() {
    let s = setup("nooidc").await;
    // As ARM shows a cluster created without --enable-oidc-issuer: no issuerURL. Found from the
    // kube context's server, and named with --cluster.
    s.sub
        .control(
            "POST",
            "clusters",
            Some(json!({"resourceGroup": "rg", "name": "myAKSCluster", "fqdn": "127.0.0.1"})),
        )
        .await;
    refused(&s, &[], &["myAKSCluster", FIX]).await;
    refused(&s, &["--cluster", "myAKSCluster"], &[FIX]).await;
}

#[tokio::test]
async fn the_in_cluster_issuer_is_refused_with_the_fix() {
    let s = setup("incluster").await;
    // What an AKS cluster without the OIDC issuer puts in tokens, as Entra reports it
    // ("Assertion Issuer: 'https://kubernetes.default.svc.cluster.local'", Azure/azure-workload-identity#616).
    refused(
        &s,
        &["--issuer", "https://kubernetes.default.svc.cluster.local"],
        &[
            "in-cluster",
            "--enable-oidc-issuer --enable-workload-identity",
        ],
    )
    .await;
}

/// A user of its own: it may bind in the test namespace but not read the API server's discovery
/// document (only --issuer then names the issuer, as on a cluster whose discovery is private).
struct NoDiscovery {
    kubeconfig: std::path::PathBuf,
    user: String,
}

impl NoDiscovery {
    async fn new(ns: &str) -> NoDiscovery {
        let g = Ground::get();
        let client = g.client().await;
        let user = format!("azwi-nodisco-{:08x}", rand::random::<u32>());
        let subject =
            json!([{"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"}]);
        let cluster_role: ClusterRole = serde_json::from_value(json!({
            "metadata": {"name": user},
            "rules": [
                {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]},
                {"apiGroups": ["admissionregistration.k8s.io"], "resources": ["mutatingwebhookconfigurations"], "verbs": ["list"]},
            ]
        }))
        .unwrap();
        Api::<ClusterRole>::all(client.clone())
            .create(&PostParams::default(), &cluster_role)
            .await
            .unwrap();
        let crb: ClusterRoleBinding = serde_json::from_value(json!({
            "metadata": {"name": user},
            "subjects": subject,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": user}
        }))
        .unwrap();
        Api::<ClusterRoleBinding>::all(client.clone())
            .create(&PostParams::default(), &crb)
            .await
            .unwrap();
        let role: Role = serde_json::from_value(json!({
            "metadata": {"name": "bind"},
            "rules": [{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["get", "create", "patch"]}]
        }))
        .unwrap();
        Api::<Role>::namespaced(client.clone(), ns)
            .create(&PostParams::default(), &role)
            .await
            .unwrap();
        let rb: RoleBinding = serde_json::from_value(json!({
            "metadata": {"name": "bind"},
            "subjects": subject,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "bind"}
        }))
        .unwrap();
        Api::<RoleBinding>::namespaced(client, ns)
            .create(&PostParams::default(), &rb)
            .await
            .unwrap();
        // The ground's admin, impersonating the user (`as:`): no credential is copied.
        let text = std::fs::read_to_string(g.kubeconfig()).unwrap();
        let mut kc: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        let admin = kc["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == "azwi-ground-admin")
            .unwrap()["user"]
            .clone();
        let mut as_user = admin;
        as_user["as"] = json!(user);
        kc["users"] = json!([{"name": "as-user", "user": as_user}]);
        kc["contexts"] = json!([{"name": "as-user", "context": {"cluster": "azwi-ground", "user": "as-user", "namespace": ns}}]);
        kc["current-context"] = json!("as-user");
        let kubeconfig = std::env::temp_dir().join(format!("{user}.yaml"));
        {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&kubeconfig)
                .unwrap();
            std::io::Write::write_all(&mut f, serde_yaml::to_string(&kc).unwrap().as_bytes())
                .unwrap();
        }
        NoDiscovery { kubeconfig, user }
    }

    fn bind(&self, s: &Setup, issuer: &str) -> (i32, String, String) {
        let kc = self.kubeconfig.display().to_string();
        s.bind(&["--issuer", issuer, "--kubeconfig", &kc, "-o", "json"])
    }

    async fn cleanup(self) {
        let client = Ground::get().client().await;
        let _ = std::fs::remove_file(&self.kubeconfig);
        let _ = Api::<ClusterRoleBinding>::all(client.clone())
            .delete(&self.user, &DeleteParams::default())
            .await;
        let _ = Api::<ClusterRole>::all(client)
            .delete(&self.user, &DeleteParams::default())
            .await;
    }
}

/// An issuer host registered on the emulator (the ground's issuer host) for this test only.
async fn issuer_host(s: &Setup, body: serde_json::Value) -> String {
    let v = s.sub.control_global("POST", "issuers", Some(body)).await;
    v["issuer"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_issuer_whose_discovery_or_keys_are_not_served_anonymously_is_refused() {
    let s = setup("unserved").await;
    let user = NoDiscovery::new(&s.ns).await;
    // Its discovery document answers 404, as an issuer URL nothing was published at.
    let path = format!("/{}/{:08x}/", s.sub.tenant, rand::random::<u32>());
    let missing = issuer_host(&s, json!({"path": path, "jwks": {"keys": []}})).await;
    s.sub
        .control_global(
            "PUT",
            "issuers/mode",
            Some(json!({"path": path, "mode": "not-found"})),
        )
        .await;
    // Its keys cannot be fetched: the JWKS it mirrors is unreachable (the emulator answers 502).
    let no_keys = issuer_host(
        &s,
        json!({"path": format!("/{}/{:08x}/", s.sub.tenant, rand::random::<u32>()), "jwksUpstream": "https://127.0.0.1:1/openid/v1/jwks"}),
    )
    .await;
    for (issuer, want) in [
        (
            missing.as_str(),
            "/.well-known/openid-configuration without credentials: HTTP 404",
        ),
        (
            no_keys.as_str(),
            "/openid/v1/jwks without credentials: HTTP 502",
        ),
    ] {
        let writes = s.sub.writes().await;
        let (code, out, err) = user.bind(&s, issuer);
        assert_eq!(code, 2, "{issuer}\nstdout: {out}\nstderr: {err}");
        assert!(err.contains(want), "want '{want}' in\n{err}");
        assert_eq!(
            s.sub.writes().await,
            writes,
            "{issuer}: nothing written to Azure"
        );
        assert!(
            s.sa().await.is_none(),
            "{issuer}: nothing written to the cluster"
        );
    }
    // The same user with the cluster's real issuer binds: the refusals were the issuer's.
    let (code, out, err) = user.bind(&s, Ground::get().issuer());
    let report = json_out(code, &out, &err);
    assert_eq!(report["issuer"]["source"], "--issuer", "{report}");
    let sas: Api<ServiceAccount> = Api::namespaced(Ground::get().client().await, &s.ns);
    assert!(sas.get_opt("workload-identity-sa").await.unwrap().is_some());
    user.cleanup().await;
}
