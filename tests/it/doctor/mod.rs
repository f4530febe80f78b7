//! doctor against the real ground: a pod bound by hand passes every check, and each way of
//! breaking the binding fails the one check that names it, with its fix. production.rs has
//! the pods real clusters run (distroless, sidecars, rejected workloads); hints.rs follows
//! each hint literally and runs doctor again.

pub(crate) mod apps;
mod hints;
mod production;

use std::{process::Command, time::Duration};

use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{Event, Pod, ServiceAccount},
};
use kube::{
    Api, Client,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
    runtime::wait::{await_condition, conditions},
};
use serde_json::{Value, json};

use kubectl_azwi::wi::keys;

use crate::support::{
    self, Ground,
    azure::{Sub, run_plugin},
    fixtures,
};

pub struct Bench {
    pub ns: String,
    pub sub: Sub,
    pub client: Client,
    pub client_id: String,
    pub identity_id: String,
}

impl Bench {
    /// A namespace, a subscription, and an identity in it; nothing bound yet.
    pub async fn new(prefix: &str, ns_labels: &[(&str, &str)]) -> Bench {
        let g = Ground::get();
        let client = g.client().await;
        let ns = support::namespace(&client, prefix, ns_labels).await;
        let sub = Sub::new().await;
        sub.resource_group("rg").await;
        let id = sub.identity("rg", "app-id").await;
        Bench {
            ns,
            client_id: id["properties"]["clientId"].as_str().unwrap().into(),
            identity_id: id["id"].as_str().unwrap().into(),
            sub,
            client,
        }
    }

    /// A namespace whose service account `wi` is bound: a credential for the ground's issuer,
    /// the client-id annotation. No pod yet.
    pub async fn with_bound_sa(prefix: &str, ns_labels: &[(&str, &str)]) -> Bench {
        let b = Bench::new(prefix, ns_labels).await;
        b.credential(Ground::get().issuer(), &b.subject("wi")).await;
        b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
            .await;
        b
    }

    pub fn subject(&self, sa: &str) -> String {
        format!("system:serviceaccount:{}:{sa}", self.ns)
    }

    /// A federated credential PUT straight at ARM, as `az identity federated-credential create`.
    pub async fn credential(&self, issuer: &str, subject: &str) {
        let path = format!(
            "{}/federatedIdentityCredentials/fic-{:x}?api-version=2023-01-31",
            self.identity_id,
            rand::random::<u16>()
        );
        let body = json!({"properties": {"issuer": issuer, "subject": subject, "audiences": [keys::AUDIENCE]}});
        let (status, resp) = self.sub.arm("PUT", &path, Some(body)).await;
        assert!(status < 300, "FIC: {status} {resp}");
    }

    pub async fn sa(&self, name: &str, annotations: &[(&str, &str)]) {
        Api::<ServiceAccount>::namespaced(self.client.clone(), &self.ns)
            .create(
                &PostParams::default(),
                &fixtures::service_account(name, annotations),
            )
            .await
            .unwrap();
    }

    pub fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// A pod whose containers reach the emulator as their authority (set in the spec; the
    /// webhook keeps a user-set value), plus `env`; waits until Running.
    pub async fn pod(
        &self,
        name: &str,
        sa: &str,
        labels: &[(&str, &str)],
        env: &[(&str, &str)],
        image: Option<&str>,
    ) -> Pod {
        let mut pod = fixtures::pod(name, sa, labels);
        let authority = Ground::get().var("AZURE_EMULATOR_URL").to_string();
        let spec = pod.spec.as_mut().unwrap();
        for c in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
        {
            let mut vars = vec![json!({"name": keys::ENV_AUTHORITY_HOST, "value": authority})];
            vars.extend(env.iter().map(|(k, v)| json!({"name": k, "value": v})));
            c.env = Some(serde_json::from_value(Value::Array(vars)).unwrap());
        }
        if let Some(i) = image {
            spec.containers[0].image = Some(i.into());
        }
        self.pods()
            .create(&PostParams::default(), &pod)
            .await
            .unwrap();
        support::wait_running(&self.pods(), name).await
    }

    /// The usual binding: credential for the ground issuer, SA annotated, labelled pod.
    pub async fn bound(&self, pod: &str, image: Option<&str>) {
        self.credential(Ground::get().issuer(), &self.subject("wi"))
            .await;
        self.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &self.client_id)])
            .await;
        self.pod(pod, "wi", &[fixtures::use_label()], &[], image)
            .await;
    }

    /// Creates a pod from its manifest and waits until it runs.
    pub async fn create_pod(&self, manifest: &Value) -> Pod {
        let pod: Pod = serde_json::from_value(manifest.clone()).unwrap();
        let name = pod.metadata.name.clone().unwrap();
        self.pods()
            .create(&PostParams::default(), &pod)
            .await
            .unwrap_or_else(|e| panic!("create pod {name}: {e}"));
        support::wait_running(&self.pods(), &name).await
    }

    /// Deletes a pod and waits until it is gone.
    pub async fn delete_pod(&self, name: &str) {
        let uid = self.pods().get(name).await.unwrap().metadata.uid.unwrap();
        self.pods()
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
        let gone = await_condition(self.pods(), name, conditions::is_deleted(&uid));
        tokio::time::timeout(Duration::from_secs(60), gone)
            .await
            .expect("pod deleted within 60s")
            .unwrap();
    }

    /// "Delete the pod, then create it again from its manifest": what a hint asks of a bare pod.
    pub async fn recreate_pod(&self, manifest: &Value) -> Pod {
        self.delete_pod(manifest["metadata"]["name"].as_str().unwrap())
            .await;
        self.create_pod(manifest).await
    }

    /// Runs a command a hint printed, literally, in a shell whose PATH has the ground's kubectl
    /// and the plugin (as `kubectl azwi`), logged in to the emulator.
    pub fn follow(&self, command: &str) -> String {
        let g = Ground::get();
        let (_, path) = support::path_with(
            "hint",
            &[
                ("kubectl", g.var("AZWI_GROUND_KUBECTL")),
                ("kubectl-azwi", env!("CARGO_BIN_EXE_kubectl-azwi")),
            ],
        );
        let out = Command::new("sh")
            .args(["-c", command])
            .env("PATH", path)
            .env("KUBECONFIG", g.kubeconfig())
            .env("SSL_CERT_FILE", g.var("AZWI_GROUND_CA"))
            .envs(self.sub.env())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "`{command}` failed: {text}");
        text
    }

    /// `kubectl apply` of a manifest in the namespace, as a user would.
    pub fn apply(&self, manifest: &Value) {
        self.follow(&format!(
            "echo '{manifest}' | kubectl apply -n {} -f -",
            self.ns
        ));
    }

    /// Waits (list, not sleep) until a controller in the namespace records a FailedCreate.
    pub async fn failed_create(&self, object: &str) -> Event {
        let events: Api<Event> = Api::namespaced(self.client.clone(), &self.ns);
        let lp = ListParams::default().fields("reason=FailedCreate");
        for _ in 0..300 {
            let found = events.list(&lp).await.unwrap().items.into_iter().find(|e| {
                e.involved_object
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with(object))
            });
            if let Some(e) = found {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no FailedCreate event for {object} within 30s");
    }

    /// `doctor ARGS -n NS -o json` logged in to the emulator: (exit code, report).
    pub fn doctor(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["doctor"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-n", &self.ns, "-o", "json"]);
        let (code, out, err) = run_plugin(&all, &self.sub.env());
        let report: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("doctor -o json: {e}\nstdout: {out}\nstderr: {err}"));
        (code, report)
    }
}

/// A labelled pod running as `sa`: one container `app` of `image`, merged with `extra`
/// (top-level keys of metadata and spec are replaced).
pub fn manifest(name: &str, sa: &str, image: &str, extra: Value) -> Value {
    let mut m = json!({
        "metadata": {"name": name, "labels": {keys::USE_LABEL: "true"}},
        "spec": {"serviceAccountName": sa, "containers": [{"name": "app", "image": image}]}
    });
    for part in ["metadata", "spec"] {
        if let Some(o) = extra[part].as_object() {
            for (k, v) in o {
                m[part][k] = v.clone();
            }
        }
    }
    m
}

/// A Deployment `name` of labelled busybox pods running as `wi`, its pod template's
/// annotations and spec extended with `annotations` and `spec`.
pub fn deployment(name: &str, annotations: Value, spec: Value) -> Value {
    let mut d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
            "metadata": {"labels": {"app": name, keys::USE_LABEL: "true"}, "annotations": annotations},
            "spec": {"serviceAccountName": "wi", "containers": [{"name": "app", "image": "busybox"}]}}}
    });
    for (k, v) in spec.as_object().into_iter().flatten() {
        d["spec"]["template"]["spec"][k] = v.clone();
    }
    d
}

/// The ids of the checks that fail.
pub fn failing(report: &Value) -> Vec<String> {
    report["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["checks"].as_array().unwrap())
        .filter(|c| c["status"] == "fail")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// A check's detail.
pub fn detail<'a>(report: &'a Value, id: &str) -> &'a str {
    check(report, id)["detail"].as_str().unwrap_or_default()
}

pub fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["checks"].as_array().unwrap())
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

/// The report fails (exit 3) on `id`, whose hint contains `hint`.
pub fn fails_on(code: i32, report: &Value, id: &str, hint: &str) {
    let c = check(report, id);
    assert_eq!(c["status"], "fail", "{id}: {c:#}\n{report:#}");
    let h = c["hint"].as_str().unwrap_or_default();
    assert!(h.contains(hint), "{id} hint lacks '{hint}': {h}");
    assert_eq!(code, 3, "exit code with a failed check");
    assert_eq!(report["success"], false);
}

#[tokio::test]
async fn a_bound_pod_passes_every_check_and_exchanges() {
    let b = Bench::new("doc-ok", &[]).await;
    b.bound("app", None).await;
    let (code, r) = b.doctor(&["pod/app", "--exchange"]);
    let not_ok: Vec<_> = r["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["checks"].as_array().unwrap())
        .filter(|c| c["status"] != "pass")
        .collect();
    assert!(not_ok.is_empty(), "{not_ok:#?}");
    assert_eq!(code, 0);
    assert!(detail(&r, "token-exchange").contains(Ground::get().var("AZWI_GROUND_TENANT")));
    assert!(check(&r, "token-signature")["status"] == "pass");
    // The token itself never appears, only what it says.
    let text = r.to_string();
    assert!(!text.contains("eyJ"), "a JWT leaked into the report");
    let stats = &r["stats"];
    assert_eq!(stats["waves"], 2);
    assert_eq!(stats["execs"], 1);
    assert!(stats["kubeCalls"].as_u64().unwrap() <= 8, "{stats}");
    // The checklist renders the same, plain when piped.
    let (code, out, _) = run_plugin(&["doctor", "pod/app", "-n", &b.ns], &b.sub.env());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("[ok]   the token verifies against the issuer's JWKS"),
        "{out}"
    );
    assert!(!out.contains('\x1b'));
}

#[tokio::test]
async fn no_label() {
    let b = Bench::with_bound_sa("doc-nolabel", &[]).await;
    b.pod("app", "wi", &[], &[], None).await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(code, &r, "pod-label", "recreate it");
    assert_eq!(check(&r, "pod-mutated")["status"], "skip", "one root cause");
}

#[tokio::test]
async fn label_capital_true() {
    let b = Bench::with_bound_sa("doc-true", &[]).await;
    b.pod("app", "wi", &[(keys::USE_LABEL, "True")], &[], None)
        .await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(code, &r, "pod-label", "\"true\"");
    assert!(detail(&r, "pod-label").contains("'True'"));
}

#[tokio::test]
async fn label_only_on_the_deployment() {
    let b = Bench::new("doc-deploy", &[]).await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
        .await;
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web", "labels": {keys::USE_LABEL: "true"}},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"serviceAccountName": "wi", "containers": [{"name": "app", "image": "busybox"}]}}}
    }))
    .unwrap();
    Api::<Deployment>::namespaced(b.client.clone(), &b.ns)
        .create(&PostParams::default(), &d)
        .await
        .unwrap();
    let (code, r) = b.doctor(&["deploy/web"]);
    fails_on(code, &r, "pod-label", "kubectl patch deploy/web");
    assert!(detail(&r, "pod-label").contains("not on its pod template"));
}

#[tokio::test]
async fn wrong_service_account() {
    let b = Bench::with_bound_sa("doc-wrongsa", &[]).await;
    b.sa("other", &[]).await;
    b.pod("app", "other", &[fixtures::use_label()], &[], None)
        .await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(code, &r, "pod-service-account", "serviceAccountName: wi");
    assert_eq!(check(&r, "sa-client-id")["status"], "skip");
}

#[tokio::test]
async fn pod_older_than_the_annotation() {
    let b = Bench::new("doc-stale", &[]).await;
    b.credential(Ground::get().issuer(), &b.subject("wi")).await;
    b.sa("wi", &[]).await;
    b.pod("app", "wi", &[fixtures::use_label()], &[], None)
        .await;
    Api::<ServiceAccount>::namespaced(b.client.clone(), &b.ns)
        .patch(
            "wi",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {keys::CLIENT_ID_ANNOTATION: b.client_id}}}),
            ),
        )
        .await
        .unwrap();
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(
        code,
        &r,
        "pod-current",
        &format!("kubectl delete pod app -n {}", b.ns),
    );
    assert_eq!(
        check(&r, "container-env")["status"],
        "pass",
        "not blamed twice"
    );
}

#[tokio::test]
async fn misspelled_annotation() {
    let b = Bench::new("doc-misspelt", &[]).await;
    b.sa("wi", &[("azure.workload.identity/client_id", &b.client_id)])
        .await;
    b.pod("app", "wi", &[fixtures::use_label()], &[], None)
        .await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(
        code,
        &r,
        "sa-client-id",
        "azure.workload.identity/client_id-",
    );
    assert!(detail(&r, "sa-client-id").contains("misspelled"));
}

#[tokio::test]
async fn client_id_not_a_guid() {
    let b = Bench::new("doc-notguid", &[]).await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, "app-id")]).await;
    b.pod("app", "wi", &[fixtures::use_label()], &[], None)
        .await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(code, &r, "sa-client-id", "--query clientId -o tsv");
}

#[tokio::test]
async fn user_set_client_id() {
    let b = Bench::with_bound_sa("doc-userset", &[]).await;
    let other = "99999999-9999-4999-8999-999999999999";
    b.pod(
        "app",
        "wi",
        &[fixtures::use_label()],
        &[(keys::ENV_CLIENT_ID, other)],
        None,
    )
    .await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(
        code,
        &r,
        "container-client-id",
        "Remove AZURE_CLIENT_ID from the spec of",
    );
    assert!(detail(&r, "container-client-id").contains(other));
    assert_eq!(check(&r, "pod-current")["status"], "pass");
}

#[tokio::test]
async fn issuer_without_the_trailing_slash() {
    let b = Bench::new("doc-slash", &[]).await;
    let iss = Ground::get().issuer();
    b.credential(iss.trim_end_matches('/'), &b.subject("wi"))
        .await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
        .await;
    b.pod("app", "wi", &[fixtures::use_label()], &[], None)
        .await;
    let (code, r) = b.doctor(&["pod/app", "--exchange"]);
    fails_on(code, &r, "azure-credential", &format!("--issuer {iss}"));
    assert!(detail(&r, "azure-credential").contains("lacks the trailing '/'"));
    // Entra agrees, with the code doctor explains.
    let x = check(&r, "token-exchange");
    assert_eq!(x["status"], "fail");
    assert!(
        x["detail"].as_str().unwrap().contains("AADSTS700211"),
        "{x}"
    );
    assert!(x["hint"].as_str().unwrap().contains("trailing '/'"), "{x}");
}

#[tokio::test]
async fn no_credential() {
    let b = Bench::new("doc-nofic", &[]).await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
        .await;
    b.pod("app", "wi", &[fixtures::use_label()], &[], None)
        .await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(code, &r, "azure-credential", "kubectl azwi bind wi");
    assert!(detail(&r, "azure-credential").starts_with("none of 0"));
}

#[tokio::test]
async fn wrong_subject() {
    let b = Bench::new("doc-subject", &[]).await;
    b.credential(Ground::get().issuer(), &b.subject("someone-else"))
        .await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
        .await;
    b.pod("app", "wi", &[fixtures::use_label()], &[], None)
        .await;
    let (code, r) = b.doctor(&["pod/app"]);
    // The credential for someone-else may be in use: never rewritten, a new one is proposed.
    fails_on(
        code,
        &r,
        "azure-credential",
        &format!(
            "kubectl azwi bind wi -n {} --identity {}",
            b.ns, b.client_id
        ),
    );
    assert!(detail(&r, "azure-credential").contains("subject is"));
}

#[tokio::test]
async fn webhook_absent_for_the_namespace() {
    let b = Bench::new("doc-nowebhook", &[("azwi.test/webhook", "none")]).await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
        .await;
    b.pod("app", "wi", &[fixtures::use_label()], &[], None)
        .await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(code, &r, "webhook-installed", "namespaceSelector");
    assert_eq!(check(&r, "pod-mutated")["status"], "skip");
    // The cluster view alone says the same.
    let (code, r) = b.doctor(&[]);
    fails_on(code, &r, "webhook-installed", "namespaceSelector");
    assert!(
        r["categories"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["category"] == "cluster")
    );
}

#[tokio::test]
async fn old_webhook_layout_and_sa_target() {
    let b = Bench::new("doc-v15", &[("azwi.test/webhook", "v1.5.1")]).await;
    b.bound("app", None).await;
    let (code, r) = b.doctor(&["sa/wi"]);
    assert_eq!(code, 0, "{r:#}");
    assert!(detail(&r, "token-volume").contains("<= v1.5"));
    assert_eq!(check(&r, "token-file")["status"], "pass");
}

#[tokio::test]
async fn expired_token_as_entra_sees_it() {
    let b = Bench::new("doc-expired", &[]).await;
    b.bound("app", None).await;
    // Two hours later by Entra's clock: the pod's one-hour token has expired there.
    b.sub
        .control("PUT", "settings", Some(json!({"clockOffsetSeconds": 7200})))
        .await;
    let (code, r) = b.doctor(&["pod/app", "--exchange"]);
    fails_on(code, &r, "token-exchange", "AZURE_FEDERATED_TOKEN_FILE");
    let detail = detail(&r, "token-exchange");
    assert!(detail.contains("700024"), "{detail}");
}
