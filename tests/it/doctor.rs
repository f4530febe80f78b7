//! doctor against the real ground: a pod bound by hand passes every check, and each way of
//! breaking the binding fails the one check that names it, with its fix.

use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{Pod, ServiceAccount},
};
use kube::{
    Api, Client,
    api::{Patch, PatchParams, PostParams},
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
fn fails_on(code: i32, report: &Value, id: &str, hint: &str) {
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
    assert!(
        check(&r, "token-exchange")["detail"]
            .as_str()
            .unwrap()
            .contains(Ground::get().var("AZWI_GROUND_TENANT"))
    );
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
    let b = Bench::new("doc-nolabel", &[]).await;
    b.credential(Ground::get().issuer(), &b.subject("wi")).await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
        .await;
    b.pod("app", "wi", &[], &[], None).await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(code, &r, "pod-label", "recreate it");
    assert_eq!(check(&r, "pod-mutated")["status"], "skip", "one root cause");
}

#[tokio::test]
async fn label_capital_true() {
    let b = Bench::new("doc-true", &[]).await;
    b.credential(Ground::get().issuer(), &b.subject("wi")).await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
        .await;
    b.pod("app", "wi", &[(keys::USE_LABEL, "True")], &[], None)
        .await;
    let (code, r) = b.doctor(&["pod/app"]);
    fails_on(code, &r, "pod-label", "\"true\"");
    assert!(
        check(&r, "pod-label")["detail"]
            .as_str()
            .unwrap()
            .contains("'True'")
    );
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
    assert!(
        check(&r, "pod-label")["detail"]
            .as_str()
            .unwrap()
            .contains("not on its pod template")
    );
}

#[tokio::test]
async fn wrong_service_account() {
    let b = Bench::new("doc-wrongsa", &[]).await;
    b.credential(Ground::get().issuer(), &b.subject("wi")).await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
        .await;
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
    fails_on(code, &r, "pod-current", "recreate the pod");
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
    assert!(
        check(&r, "sa-client-id")["detail"]
            .as_str()
            .unwrap()
            .contains("misspelled")
    );
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
    let b = Bench::new("doc-userset", &[]).await;
    b.credential(Ground::get().issuer(), &b.subject("wi")).await;
    b.sa("wi", &[(keys::CLIENT_ID_ANNOTATION, &b.client_id)])
        .await;
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
    fails_on(code, &r, "container-client-id", "remove it from the spec");
    assert!(
        check(&r, "container-client-id")["detail"]
            .as_str()
            .unwrap()
            .contains(other)
    );
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
    assert!(
        check(&r, "azure-credential")["detail"]
            .as_str()
            .unwrap()
            .contains("lacks the trailing '/'")
    );
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
    assert!(
        check(&r, "azure-credential")["detail"]
            .as_str()
            .unwrap()
            .starts_with("none of 0")
    );
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
    fails_on(
        code,
        &r,
        "azure-credential",
        &format!("--subject {}", b.subject("wi")),
    );
    assert!(
        check(&r, "azure-credential")["detail"]
            .as_str()
            .unwrap()
            .contains("subject is")
    );
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
    assert!(
        check(&r, "token-volume")["detail"]
            .as_str()
            .unwrap()
            .contains("<= v1.5")
    );
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
    let detail = check(&r, "token-exchange")["detail"].as_str().unwrap();
    assert!(detail.contains("700024"), "{detail}");
}
