//! The ground's AKS identity bindings, without the plugin: the real v1.6.0 webhook running with
//! its custom-token-endpoint flags mutates an opted-in pod, and the emulator's token proxy
//! exchanges that pod's token the way the AKS docs describe (TokenReview, the
//! `use-managed-identity` RBAC grant, a Succeeded binding, the `aks-identity-binding`
//! credential), as Microsoft's Python SDK sees it from inside the pod.
//!
//! Sources of the expected values: Azure/azure-workload-identity v1.6.0 pkg/webhook/webhook.go
//! and consts.go (env, volume, audience, CA path), its scripts/ci-e2e.sh (flag values),
//! data/azure-api/aks-identity-bindings/ (k8s-pod-mutated.yaml, k8s-rbac-use-managed-identity.yaml,
//! proxy-token-request.http), MicrosoftDocs/azure-aks-docs articles/aks/identity-bindings.md
//! (the grant), azure-sdk-for-js sdk/identity/identity/TROUBLESHOOTING.md (AADSTS700211/700212
//! for an app that does not opt in).

use std::{net::SocketAddr, path::PathBuf};

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::{
    Api, Client,
    api::{DynamicObject, PostParams},
    core::{ApiResource, GroupVersionKind},
};
use serde_json::{Value, json};

use crate::support::{self, Ground, azure::Sub, fixtures};

const AUDIENCE: &str = "api://AKSIdentityBinding";
const CA_FILE: &str = "/var/run/secrets/azure/wi/ca-cert/ca.crt";
const USE_LABEL: &str = "azure.workload.identity/use";
const IB_ANNOTATION: &str = "azure.workload.identity/use-identity-binding";
const CLIENT_ID_ANNOTATION: &str = "azure.workload.identity/client-id";
const ARM_SCOPE: &str = "https://management.azure.com/.default";

/// One identity, bound to the ground's cluster, and a namespace routed to the
/// identity-binding webhook; no grant yet.
struct Ib {
    sub: Sub,
    client: Client,
    ns: String,
    client_id: String,
    principal_id: String,
    identity_id: String,
    binding_url: String,
}

/// `$AZWI_GROUND_IB_NAMESPACE_LABEL` as (key, value): routes a namespace to that webhook.
pub(crate) fn ib_namespace_label() -> (String, String) {
    let v = Ground::get().var("AZWI_GROUND_IB_NAMESPACE_LABEL");
    let (k, v) = v.split_once('=').expect("key=value");
    (k.to_string(), v.to_string())
}

impl Ib {
    async fn new(prefix: &str) -> Ib {
        let g = Ground::get();
        let client = g.client().await;
        let (k, v) = ib_namespace_label();
        let ns = support::namespace(&client, prefix, &[(&k, &v)]).await;
        let sub = Sub::new().await;
        sub.resource_group("rg").await;
        let id = sub.identity("rg", "ib-id").await;
        // The ground's Kubernetes as an AKS cluster of this subscription (its OIDC issuer is
        // how the proxy tells its own cluster's bindings).
        sub.ground_as_aks("rg", "ground").await;
        let binding_url = format!(
            "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/ground/identityBindings/ibid?api-version=2026-04-01",
            sub.id
        );
        Ib {
            client_id: id["properties"]["clientId"].as_str().unwrap().into(),
            principal_id: id["properties"]["principalId"].as_str().unwrap().into(),
            identity_id: id["id"].as_str().unwrap().into(),
            sub,
            client,
            ns,
            binding_url,
        }
    }

    /// PUT the binding (IdentityBindings_CreateOrUpdate.json) and wait for a terminal state.
    async fn bind(&self) -> Value {
        let body = json!({"properties": {"managedIdentity": {"resourceId": self.identity_id}}});
        let (status, v) = self.sub.arm("PUT", &self.binding_url, Some(body)).await;
        assert!(status == 200 || status == 201, "{status} {v}");
        for _ in 0..100 {
            let (_, v) = self.sub.arm("GET", &self.binding_url, None).await;
            let state = v["properties"]["provisioningState"].as_str().unwrap_or("");
            if matches!(state, "Succeeded" | "Failed" | "Canceled") {
                return v;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("binding not settled in 10 s");
    }

    /// The docs' grant: a ClusterRole for `resource` (the client id, or a wrong value) and a
    /// binding of it to the service account, cluster-wide or in `role_binding_ns`.
    /// The whole working setup (the ARM binding, the grant on the client id, the opted-in pod
    /// `app`): three independent writes, made at once. The binding as ARM answered its PUT.
    async fn ready(&self) -> Value {
        let (binding, (), _) = tokio::join!(
            self.bind(),
            self.grant("app", &self.client_id, None),
            self.pod("app")
        );
        binding
    }

    async fn grant(&self, sa: &str, resource: &str, role_binding_ns: Option<&str>) {
        let name = format!("use-mi-{}-{}", self.ns, rand::random::<u16>());
        create(
            &self.client,
            (
                "rbac.authorization.k8s.io",
                "v1",
                "ClusterRole",
                "clusterroles",
            ),
            None,
            json!({"metadata": {"name": name}, "rules": [{"apiGroups": ["cid.wi.aks.azure.com"],
                   "resources": [resource], "verbs": ["use-managed-identity"]}]}),
        )
        .await;
        let binding = json!({
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": self.ns}],
        });
        match role_binding_ns {
            None => {
                let gvk = (
                    "rbac.authorization.k8s.io",
                    "v1",
                    "ClusterRoleBinding",
                    "clusterrolebindings",
                );
                create(&self.client, gvk, None, binding).await
            }
            Some(ns) => {
                let gvk = (
                    "rbac.authorization.k8s.io",
                    "v1",
                    "RoleBinding",
                    "rolebindings",
                );
                create(&self.client, gvk, Some(ns), binding).await
            }
        }
    }

    /// SA `app` naming the identity, and a running pod opted in to identity bindings.
    async fn pod(&self, name: &str) -> Pod {
        let sas: Api<ServiceAccount> = Api::namespaced(self.client.clone(), &self.ns);
        let sa = fixtures::service_account("app", &[(CLIENT_ID_ANNOTATION, &self.client_id)]);
        match sas.create(&PostParams::default(), &sa).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => panic!("create serviceaccount app: {e}"),
        }
        self.pod_with(name, "app", &[(IB_ANNOTATION, "true")]).await
    }

    async fn pod_with(&self, name: &str, sa: &str, annotations: &[(&str, &str)]) -> Pod {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.ns);
        let ann: serde_json::Map<_, _> = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {USE_LABEL: "true"}, "annotations": ann},
            "spec": {"serviceAccountName": sa,
                     "containers": [{"name": "app", "image": "python:3.11-slim"}]},
        }))
        .unwrap();
        pods.create(&PostParams::default(), &pod).await.unwrap();
        support::wait_running(&pods, name).await
    }

    async fn sh(&self, pod: &str, script: &str) -> String {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.ns);
        support::exec(&pods, pod, "app", &["sh", "-c", script]).await
    }

    async fn token(&self, pod: &str) -> String {
        self.sh(pod, "cat \"$AZURE_FEDERATED_TOKEN_FILE\"")
            .await
            .trim()
            .to_string()
    }

    /// Microsoft's Python SDK in the pod (tests/python/ib_app.py); its one-line JSON verdict.
    async fn python(&self, pod: &str, mode: &str) -> Value {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.ns);
        let out = ib_app(&pods, pod, mode).await;
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
    }
}

/// Runs tests/python/ib_app.py (`proxy` or `direct`) in the pod's container `app` for an ARM
/// token; what it printed (one JSON line).
pub(crate) async fn ib_app(pods: &Api<Pod>, pod: &str, mode: &str) -> String {
    let script = support::repo().join("tests/python/ib_app.py");
    // Without the opt-in the SDK talks to AZURE_AUTHORITY_HOST (the emulator) with the
    // process's own trust store: the ground's CA, as an image of a custom cloud would carry.
    let trust = if mode == "direct" {
        format!(
            "REQUESTS_CA_BUNDLE='{}' ",
            Ground::get().var("AZWI_GROUND_CA")
        )
    } else {
        String::new()
    };
    // The script goes in as text (`python -c`): a checkout under /tmp is hidden behind the
    // pod's own /tmp, so its path may not exist inside the pod.
    let text = std::fs::read_to_string(&script).unwrap();
    let cmd = format!("{trust}exec \"$0\" -c \"$1\" {mode} '{ARM_SCOPE}'");
    let py = python().display().to_string();
    support::exec(pods, pod, "app", &["sh", "-c", &cmd, &py, &text]).await
}

/// The SDK venv of tests/python/setup.sh (azure-identity 1.27.0, requirements.txt).
fn python() -> PathBuf {
    support::venv_program("AZWI_PY_VENV", "venv", "python")
}

async fn create(
    client: &Client,
    (group, version, kind, plural): (&str, &str, &str, &str),
    ns: Option<&str>,
    mut body: Value,
) {
    let ar =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    body["apiVersion"] = json!(format!("{group}/{version}"));
    body["kind"] = json!(kind);
    let obj: DynamicObject = serde_json::from_value(body).unwrap();
    let api: Api<DynamicObject> = match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    };
    api.create(&PostParams::default(), &obj).await.unwrap();
}

/// POST the pod's token to the proxy as the AKS preview guide's curl does: TCP to the proxy
/// address, TLS SNI and Host = AZURE_KUBERNETES_SNI_NAME, trusting only the cluster CA, path `/`.
async fn proxy_post(client_id: &str, token: &str) -> (u16, Value) {
    let g = Ground::get();
    let sni = g.var("AZWI_GROUND_IB_SNI");
    let proxy = g.var("AZWI_GROUND_IB_PROXY");
    let addr: SocketAddr = proxy.trim_start_matches("https://").parse().unwrap();
    let ca = std::fs::read(g.var("AZWI_GROUND_CA")).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .resolve(sni, addr)
        .build()
        .unwrap();
    let resp = http
        .post(format!("https://{sni}:{}/", addr.port()))
        .form(&[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", token),
            ("client_id", client_id),
            ("scope", ARM_SCOPE),
        ])
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn env_of(pod: &Pod) -> Vec<(String, String)> {
    pod.spec.as_ref().unwrap().containers[0]
        .env
        .iter()
        .flatten()
        .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default()))
        .collect()
}

fn env_value<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The projected sources of the webhook's volume (`azure-workload-identity-reserved-…`).
fn projected_sources(pod: &Pod) -> Value {
    let v = serde_json::to_value(pod.spec.as_ref().unwrap().volumes.as_ref().unwrap()).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|v| {
            v["name"]
                .as_str()
                .unwrap()
                .starts_with("azure-workload-identity-reserved-")
        })
        .unwrap_or_else(|| panic!("no webhook volume in {v}"))["projected"]["sources"]
        .clone()
}

/// data/azure-api/aks-identity-bindings/k8s-pod-mutated.yaml, as JSON.
fn vendored_mutated_pod() -> Value {
    let path = support::repo()
        .join("tests/azure-emulator/data/azure-api/aks-identity-bindings/k8s-pod-mutated.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn aud_of(token: &str) -> Vec<String> {
    kubectl_azwi::wi::claims::Jwt::decode(token)
        .expect("a JWT")
        .claims
        .aud
}

/// k8s-pod-mutated.yaml: the four usual variables plus TOKEN_PROXY, SNI_NAME and CA_FILE (always),
/// never CA_DATA (the webhook has a CA ConfigMap, not CA data); the token's audience is the
/// custom one and the CA ConfigMap `kube-root-ca.crt` lands at `ca-cert/ca.crt`. The other
/// instances stay as they were: the default v1.6.0 has no custom-endpoint flags.
#[tokio::test]
async fn the_identity_binding_webhook_mutates_an_opted_in_pod_as_upstream_v1_6_0_does() {
    let g = Ground::get();
    let b = Ib::new("ib-mutate").await;
    let pod = b.pod("opted-in").await;
    let env = env_of(&pod);
    assert_eq!(
        env_value(&env, "AZURE_KUBERNETES_TOKEN_PROXY"),
        Some(g.var("AZWI_GROUND_IB_PROXY"))
    );
    assert_eq!(
        env_value(&env, "AZURE_KUBERNETES_SNI_NAME"),
        Some(g.var("AZWI_GROUND_IB_SNI"))
    );
    assert_eq!(env_value(&env, "AZURE_KUBERNETES_CA_FILE"), Some(CA_FILE));
    assert_eq!(env_value(&env, "AZURE_KUBERNETES_CA_DATA"), None, "{env:?}");
    assert_eq!(
        env_value(&env, "AZURE_CLIENT_ID"),
        Some(b.client_id.as_str())
    );
    // The vendored example (built from upstream's code) is the expectation for the volume.
    let want = vendored_mutated_pod();
    let want_sources = &want["spec"]["volumes"][0]["projected"]["sources"];
    let sources = projected_sources(&pod);
    assert_eq!(sources[0], want_sources[0]);
    assert_eq!(sources[0]["serviceAccountToken"]["audience"], AUDIENCE);
    assert_eq!(sources[1], want_sources[1]);
    assert_eq!(sources.as_array().unwrap().len(), 2, "{sources}");
    let want_env = &want["spec"]["containers"][0]["env"];
    assert_eq!(want_env[6]["value"], CA_FILE);
    for e in want_env.as_array().unwrap() {
        let name = e["name"].as_str().unwrap();
        assert!(env_value(&env, name).is_some(), "{name} missing: {env:?}");
    }
    // In the pod: the token carries the custom audience; the CA file is the cluster CA, which
    // signed the proxy's certificate.
    assert_eq!(aud_of(&b.token("opted-in").await), [AUDIENCE]);
    let ca = b.sh("opted-in", &format!("cat {CA_FILE}")).await;
    assert_eq!(
        ca.trim(),
        std::fs::read_to_string(g.var("AZWI_GROUND_CA"))
            .unwrap()
            .trim()
    );

    // Same namespace, no annotation: ordinary workload identity.
    let plain = b.pod_with("plain", "app", &[]).await;
    assert!(
        env_of(&plain)
            .iter()
            .all(|(n, _)| !n.starts_with("AZURE_KUBERNETES_")),
        "{:?}",
        env_of(&plain)
    );
    assert_eq!(
        projected_sources(&plain)[0]["serviceAccountToken"]["audience"],
        "api://AzureADTokenExchange"
    );
    // The webhook compares the annotation with "true" case-insensitively; other values opt out.
    let upper = b.pod_with("upper", "app", &[(IB_ANNOTATION, "TRUE")]).await;
    assert_eq!(
        projected_sources(&upper)[0]["serviceAccountToken"]["audience"],
        AUDIENCE
    );
    let no = b.pod_with("no", "app", &[(IB_ANNOTATION, "yes")]).await;
    assert_eq!(
        projected_sources(&no)[0]["serviceAccountToken"]["audience"],
        "api://AzureADTokenExchange"
    );

    // The default instance (unlabelled namespace) runs without the custom-endpoint flags.
    let other = support::namespace(&b.client, "ib-default", &[]).await;
    let sas: Api<ServiceAccount> = Api::namespaced(b.client.clone(), &other);
    let sa = fixtures::service_account("app", &[(CLIENT_ID_ANNOTATION, &b.client_id)]);
    sas.create(&PostParams::default(), &sa).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(b.client.clone(), &other);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "p", "labels": {USE_LABEL: "true"}, "annotations": {IB_ANNOTATION: "true"}},
        "spec": {"serviceAccountName": "app", "containers": [{"name": "app", "image": "python:3.11-slim"}]},
    }))
    .unwrap();
    let created = pods.create(&PostParams::default(), &pod).await.unwrap();
    assert!(
        env_of(&created)
            .iter()
            .all(|(n, _)| !n.starts_with("AZURE_KUBERNETES_"))
    );
    assert_eq!(
        projected_sources(&created)[0]["serviceAccountToken"]["audience"],
        "api://AzureADTokenExchange"
    );
}

/// The path as a real app sees it: azure-identity 1.27.0 `WorkloadIdentityCredential(
/// enable_azure_proxy=True)` in the pod gets a token for the identity through the proxy.
#[tokio::test]
async fn python_sdk_with_the_proxy_opt_in_gets_the_identitys_token() {
    let b = Ib::new("ib-py").await;
    let binding = b.ready().await;
    assert_eq!(binding["properties"]["provisioningState"], "Succeeded");
    let v = b.python("app", "proxy").await;
    assert_eq!(v["ok"], true, "{v}");
    let claims = &v["claims"];
    assert_eq!(claims["appid"], b.client_id.as_str(), "{v}");
    assert_eq!(claims["oid"], b.principal_id.as_str(), "{v}");
    assert_eq!(claims["aud"], "https://management.azure.com/", "{v}");
    assert!(
        claims["xms_mirid"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&b.identity_id),
        "{v}"
    );
}

/// Without the opt-in the SDK sends the pod's token (cluster issuer, audience
/// api://AKSIdentityBinding) straight to Entra: AADSTS700211 while the identity has no
/// credential for the cluster's issuer, AADSTS700212 once it has a classic one (whose audience
/// is api://AzureADTokenExchange). Both codes are the ones azure-sdk-for-js's TROUBLESHOOTING
/// lists for a forgotten opt-in.
#[tokio::test]
async fn python_sdk_without_the_opt_in_gets_aadsts700211_then_700212() {
    let g = Ground::get();
    let b = Ib::new("ib-direct").await;
    b.ready().await;
    let v = b.python("app", "direct").await;
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("AADSTS700211"),
        "{v}"
    );

    let fic = format!(
        "{}/federatedIdentityCredentials/classic?api-version=2023-01-31",
        b.identity_id
    );
    let subject = format!("system:serviceaccount:{}:app", b.ns);
    let (status, body) = b
        .sub
        .arm(
            "PUT",
            &fic,
            Some(
                json!({"properties": {"issuer": g.issuer(), "subject": subject,
              "audiences": ["api://AzureADTokenExchange"]}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let v = b.python("app", "direct").await;
    assert_eq!(v["ok"], false, "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("AADSTS700212") && msg.contains(AUDIENCE),
        "{v}"
    );
    // The same pod with the opt-in still works: the proxy path does not use that credential.
    assert_eq!(b.python("app", "proxy").await["ok"], true);
}

/// The proxy refuses a service account without the grant: a 4xx of its own, no AADSTS code (the
/// request never reaches Entra; AKS's exact status and text are UNCONFIRMED, the ground answers
/// 403 `unauthorized_client`). The grant must name the CLIENT id, cluster-wide: a ClusterRole
/// naming the principal (object) id, or a RoleBinding in another namespace, grant nothing.
#[tokio::test]
async fn the_proxy_refuses_without_the_use_managed_identity_grant() {
    let b = Ib::new("ib-grant").await;
    b.bind().await;
    b.pod("app").await;
    let token = b.token("app").await;
    let refused = |(status, body): (u16, Value)| {
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"], "unauthorized_client", "{body}");
        assert!(body.get("error_codes").is_none(), "{body}");
        let d = body["error_description"].as_str().unwrap().to_string();
        assert!(!d.contains("AADSTS"), "{d}");
        d
    };
    let d = refused(proxy_post(&b.client_id, &token).await);
    assert!(
        d.contains(&format!("system:serviceaccount:{}:app", b.ns)) && d.contains(&b.client_id),
        "{d}"
    );

    b.grant("app", &b.principal_id, None).await;
    refused(proxy_post(&b.client_id, &token).await);
    let elsewhere = support::namespace(&b.client, "ib-elsewhere", &[]).await;
    b.grant("app", &b.client_id, Some(&elsewhere)).await;
    refused(proxy_post(&b.client_id, &token).await);

    // As the SDK sees it: an authentication error carrying the proxy's words.
    let v = b.python("app", "proxy").await;
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("use-managed-identity"),
        "{v}"
    );

    b.grant("app", &b.client_id, None).await;
    let (status, body) = proxy_post(&b.client_id, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
}

/// Only the webhook's audience is accepted (TokenReview with api://AKSIdentityBinding): an
/// ordinary workload-identity token of the same service account is refused with 401.
#[tokio::test]
async fn the_proxy_accepts_only_identity_binding_tokens() {
    let b = Ib::new("ib-aud").await;
    b.ready().await;
    let plain = b.pod_with("plain", "app", &[]).await;
    let token = b.token(&plain.metadata.name.unwrap()).await;
    assert_eq!(aud_of(&token), ["api://AzureADTokenExchange"]);
    let (status, body) = proxy_post(&b.client_id, &token).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client", "{body}");
    let (status, body) = proxy_post(&b.client_id, &b.token("app").await).await;
    assert_eq!(status, 200, "{body}");
}

/// No binding, or one that did not reach Succeeded: the proxy has nothing to exchange with.
#[tokio::test]
async fn the_proxy_needs_a_succeeded_binding() {
    let b = Ib::new("ib-state").await;
    b.grant("app", &b.client_id, None).await;
    b.pod("app").await;
    let token = b.token("app").await;
    let (status, body) = proxy_post(&b.client_id, &token).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("no identity binding"),
        "{body}"
    );

    b.sub
        .control("POST", "identityBindingFailures", Some(json!({"count": 1})))
        .await;
    let binding = b.bind().await;
    assert_eq!(binding["properties"]["provisioningState"], "Failed");
    let (status, body) = proxy_post(&b.client_id, &token).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("Failed"),
        "{body}"
    );

    // A re-PUT runs the operation again; once Succeeded the same token is exchanged.
    assert_eq!(
        b.bind().await["properties"]["provisioningState"],
        "Succeeded"
    );
    let (status, body) = proxy_post(&b.client_id, &token).await;
    assert_eq!(status, 200, "{body}");
}

/// The `aks-identity-binding` credential is what Entra matches the proxy's assertion against
/// (identity-bindings.md: deleting it breaks every binding of the identity). Deleted, Entra's
/// refusal comes back through the proxy: AADSTS70025, no credential left on the identity.
#[tokio::test]
async fn deleting_the_managed_credential_breaks_the_exchange() {
    let b = Ib::new("ib-fic").await;
    b.ready().await;
    let token = b.token("app").await;
    let (status, body) = proxy_post(&b.client_id, &token).await;
    assert_eq!(status, 200, "{body}");

    let fic = format!(
        "{}/federatedIdentityCredentials/aks-identity-binding?api-version=2023-01-31",
        b.identity_id
    );
    let (status, body) = b.sub.arm("DELETE", &fic, None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = proxy_post(&b.client_id, &token).await;
    assert_eq!(
        (status, body["error_codes"][0].as_i64()),
        (401, Some(70025)),
        "{body}"
    );
    let v = b.python("app", "proxy").await;
    assert!(
        v["message"].as_str().unwrap().contains("AADSTS70025"),
        "{v}"
    );
}
