//! doctor on the AKS identity-binding path, on the ground (the v1.6.0 webhook with its
//! custom-token-endpoint flags, the emulator as AKS): each setup is made by the real
//! `kubectl azwi bind --identity-binding`, broken the way users break it (kubectl, az, ARM),
//! diagnosed, and the hint followed literally; doctor then passes, and another binding of the
//! same identity (namespace `…-ok`, sharing the ARM binding, AKS's credential, the ClusterRole
//! and ClusterRoleBinding) passes before and after.
//!
//! Expected behaviour comes from MicrosoftDocs azure-aks-docs identity-bindings.md and
//! identity-bindings-concepts.md (the grant on the CLIENT id, `aks-identity-binding` shared by
//! every binding of the identity, the pod annotation), the 2026-04-01 spec examples vendored in
//! tests/azure-emulator/data/azure-api/aks-identity-bindings/, and azure-sdk-for-js
//! sdk/identity/identity/TROUBLESHOOTING.md (AADSTS700211/700212 without the SDK opt-in).

use std::{io::Write, path::PathBuf, time::Duration};

use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api,
    api::{ApiResource, DynamicObject, GroupVersionKind, PostParams},
};
use serde_json::{Value, json};

use kubectl_azwi::wi::identity_binding as ib;

use super::{Bench, check, deployment, detail, failing, fails_on, hints::running, not_ok};
use crate::{
    az_cli::{self, Az},
    identity_binding_ground::{ib_app, ib_namespace_label},
    support::{self, Ground},
};

/// Two namespaces routed to the identity-binding webhook, each with `deploy/web` running as
/// service account `wi`, both bound by `bind --identity-binding` to the one identity `app-id`
/// on the ground's cluster `rg/aks1`. `b.ns` is the one the test breaks; `ok` stays healthy.
struct Ib {
    b: Bench,
    ok: Bench,
    principal_id: String,
}

impl Ib {
    async fn new(prefix: &str) -> Ib {
        let (k, v) = ib_namespace_label();
        let b = Bench::new(prefix, &[(&k, &v)]).await;
        // The ground's API server as AKS cluster rg/aks1 (doctor finds it by the kube
        // context's server); operations end at once, polled after Retry-After 1 s.
        b.sub.ground_as_aks("rg", "aks1").await;
        b.sub
            .control(
                "PUT",
                "settings",
                Some(json!({"asyncOperationSeconds": 0, "retryAfterSeconds": 1})),
            )
            .await;
        let ok_ns = support::namespace(&b.client, &format!("{prefix}-ok"), &[(&k, &v)]).await;
        let ok = Bench {
            ns: ok_ns,
            sub: b.sub.clone(),
            client: b.client.clone(),
            client_id: b.client_id.clone(),
            identity_id: b.identity_id.clone(),
        };
        let (_, id) = b
            .sub
            .arm(
                "GET",
                &format!("{}?api-version=2023-01-31", b.identity_id),
                None,
            )
            .await;
        let principal_id = id["properties"]["principalId"].as_str().unwrap().into();
        let ib = Ib {
            b,
            ok,
            principal_id,
        };
        for bench in [&ib.b, &ib.ok] {
            bench.apply(&deployment("web", json!({}), json!({})));
            ib.bind(bench);
        }
        ib
    }

    /// The real az CLI, logged in as the subscription's owner (the one who made the setup).
    fn az(&self, tag: &str) -> Az {
        let sub = &self.b.sub;
        az_cli::logged_in(tag, &sub.tenant, &sub.client_id, &sub.client_secret)
    }

    /// The setup as a user makes it: the app's Deployment exists, then one bind command.
    fn bind(&self, bench: &Bench) {
        bench.follow(&format!(
            "kubectl azwi bind wi -n {} --identity app-id -g rg --identity-binding --workload deploy/web",
            bench.ns
        ));
        rolled(bench);
    }

    /// The one running pod of deploy/web, once the rollout is over (none other than it left).
    async fn web(bench: &Bench, not: &[String]) -> String {
        let up: Vec<Pod> = running(bench, "app=web", 1, not).await;
        up[0].metadata.name.clone().unwrap()
    }

    /// doctor on the broken namespace's pod.
    async fn doctor(&self) -> (String, i32, Value) {
        let pod = Ib::web(&self.b, &[]).await;
        let (code, r) = self.b.doctor(&[&format!("pod/{pod}")]);
        (pod, code, r)
    }

    /// The healthy binding passes every check.
    async fn other_passes(&self) -> Value {
        let pod = Ib::web(&self.ok, &[]).await;
        let (code, r) = self.ok.doctor(&[&format!("pod/{pod}")]);
        passes(code, &r);
        r
    }
}

/// The next step bind prints: wait for deploy/web's rollout.
fn rolled(bench: &Bench) {
    bench.follow(&format!(
        "kubectl rollout status deploy/web -n {} --timeout 90s",
        bench.ns
    ));
}

/// Every check that ran passed or said why it skipped, exit 0; the identity-binding ones
/// passed (but the app-log one, which needs a log the ground serves only where a test wrote it).
fn passes(code: i32, r: &Value) {
    let bad = not_ok(r);
    assert!(bad.is_empty(), "{bad:#?}");
    assert_eq!(code, 0, "{r:#}");
    let ib_checks = kubectl_azwi::doctor::checks::CHECKS
        .iter()
        .filter(|c| c.id.starts_with("ib-") && c.id != "ib-sdk-opt-in");
    for c in ib_checks {
        assert_eq!(check(r, c.id)["status"], "pass", "{}: {r:#}", c.id);
    }
}

/// The command a hint gives in backquotes (the first one).
fn quoted(hint: &str) -> &str {
    let start = hint
        .find('`')
        .unwrap_or_else(|| panic!("no command in {hint}"));
    let rest = &hint[start + 1..];
    &rest[..rest
        .find('`')
        .unwrap_or_else(|| panic!("unclosed in {hint}"))]
}

fn hint<'a>(r: &'a Value, id: &str) -> &'a str {
    check(r, id)["hint"].as_str().unwrap_or_default()
}

/// 1. The team's CI deploys a new version with `kubectl replace -f` from its own manifest,
/// which has the label but never had the annotation (bind had added it to the live object;
/// `kubectl apply` would have kept it, replace does not): the new pods get the classic token
/// and no proxy settings.
#[tokio::test]
async fn ib_pod_annotation_missing() {
    let s = Ib::new("dib-annot").await;
    let logins = s.ok.sub.token_requests(&s.ok.sub.client_id).await;
    let r = s.other_passes().await;
    // The identity-binding wave, beside the exchange: a SubjectAccessReview and the app's log
    // tail (the RBAC objects are listed only when the grant is missing), the AKS cluster and
    // its bindings over ARM with wave 2's login: one token request in all.
    let stats = &r["stats"];
    eprintln!("healthy identity-binding pod: {stats}");
    assert_eq!(stats["waves"], 3, "{stats}");
    assert_eq!(stats["execs"], 1, "{stats}");
    assert!(stats["kubeCalls"].as_u64().unwrap() <= 10, "{stats}");
    assert_eq!(stats["armCalls"], 4, "{stats}");
    let logins = s.ok.sub.token_requests(&s.ok.sub.client_id).await - logins;
    assert_eq!(logins, 1, "doctor logs in to Azure once");
    let before = Ib::web(&s.b, &[]).await;
    let mut theirs = deployment("web", json!({}), json!({}));
    theirs["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:1.37");
    s.b.follow(&format!(
        "echo '{theirs}' | kubectl replace -n {} -f -",
        s.b.ns
    ));
    rolled(&s.b);
    let pod = Ib::web(&s.b, &[before]).await;
    let (code, r) = s.b.doctor(&[&format!("pod/{pod}")]);
    fails_on(code, &r, "ib-annotation", "--identity-binding");
    assert!(hint(&r, "ib-annotation").contains("--workload deploy/web"));
    assert_eq!(failing(&r), ["ib-annotation"], "one root cause: {r:#}");

    s.b.follow(quoted(hint(&r, "ib-annotation")));
    rolled(&s.b);
    let pod = Ib::web(&s.b, &[pod]).await;
    let (code, r) = s.b.doctor(&[&format!("pod/{pod}")]);
    passes(code, &r);
    s.other_passes().await;
}

/// 2. The ClusterRole "corrected" by hand to the identity's principal (object) id, the id
/// `az identity show` prints beside the client id: RBAC then grants nothing the proxy asks for
/// (identity-bindings.md: the resource is the client id). Both bindings of the identity lose it.
#[tokio::test]
async fn ib_cluster_role_names_the_principal_id() {
    let s = Ib::new("dib-oid").await;
    let role = ib::rbac_name(&s.b.client_id);
    s.b.follow(&format!(
        "kubectl patch clusterrole {role} --type json -p '[{{\"op\":\"replace\",\"path\":\"/rules/0/resources/0\",\"value\":\"{}\"}}]'",
        s.principal_id
    ));
    let (pod, code, r) = s.doctor().await;
    fails_on(code, &r, "ib-rbac", "--identity-binding");
    assert_eq!(failing(&r), ["ib-rbac"], "{r:#}");
    let d = detail(&r, "ib-rbac");
    assert!(
        d.contains(&format!("ClusterRole {role} names {}", s.principal_id))
            && d.contains("principal (object) id")
            && d.contains(&s.b.client_id),
        "{d}"
    );

    s.b.follow(quoted(hint(&r, "ib-rbac")));
    let (code, r) = s.b.doctor(&[&format!("pod/{pod}")]);
    passes(code, &r);
    s.other_passes().await;
}

/// 3. The grant moved out of the plugin's ClusterRoleBinding into a RoleBinding (a policy of
/// "no cluster-wide bindings for apps"), created without `-n`, so in `default`. The token
/// proxy asks a SubjectAccessReview with no namespace (identity-bindings.md §3), which no
/// RoleBinding answers, in whatever namespace. The other service account keeps its grant.
#[tokio::test]
async fn ib_role_binding_in_the_wrong_namespace() {
    let s = Ib::new("dib-rb").await;
    let name = ib::rbac_name(&s.b.client_id);
    // This namespace's subject is the first: it was bound first.
    s.b.follow(&format!(
        "kubectl patch clusterrolebinding {name} --type json -p '[{{\"op\":\"test\",\"path\":\"/subjects/0/namespace\",\"value\":\"{ns}\"}},{{\"op\":\"remove\",\"path\":\"/subjects/0\"}}]' && kubectl create rolebinding use-mi-{ns} --clusterrole {name} --serviceaccount {ns}:wi",
        ns = s.b.ns
    ));
    s.other_passes().await;
    let (pod, code, r) = s.doctor().await;
    fails_on(code, &r, "ib-rbac", "--identity-binding");
    assert_eq!(failing(&r), ["ib-rbac"], "{r:#}");
    // The RBAC objects that say why: one wave more.
    eprintln!("grant missing: {}", r["stats"]);
    assert_eq!(r["stats"]["waves"], 4, "{}", r["stats"]);
    let d = detail(&r, "ib-rbac");
    assert!(
        d.contains(&format!("RoleBinding default/use-mi-{}", s.b.ns)) && d.contains("cluster-wide"),
        "{d}"
    );

    s.b.follow(quoted(hint(&r, "ib-rbac")));
    let (code, r) = s.b.doctor(&[&format!("pod/{pod}")]);
    passes(code, &r);
    s.other_passes().await;
}

/// Waits until the ARM binding at `url` is in `want` (a provisioningState, or "gone": 404).
async fn settled(bench: &Bench, url: &str, want: &str) {
    for _ in 0..100 {
        let (st, v) = bench.sub.arm("GET", url, None).await;
        let state = v["properties"]["provisioningState"].as_str().unwrap_or("");
        if (want == "gone" && st == 404) || state == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} not {want} within 10s");
}

/// 4. The binding re-created (deleted, then put again, as `az aks identity-binding delete`
/// and `create`, or a template re-deploy, do) and the operation ending Failed (the emulator's
/// identityBindingFailures control; ARM's AsyncOperation_Failed.json): the proxy exchanges
/// only for a Succeeded binding, so both service accounts of the identity lose it.
#[tokio::test]
async fn ib_arm_binding_failed() {
    let s = Ib::new("dib-failed").await;
    let cluster = format!(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1",
        s.b.sub.id
    );
    let list = format!("{cluster}/identityBindings?api-version=2026-04-01");
    let (st, v) = s.b.sub.arm("GET", &list, None).await;
    assert_eq!(st, 200, "{v}");
    let name = v["value"][0]["name"].as_str().unwrap().to_string();
    let url = format!("{cluster}/identityBindings/{name}?api-version=2026-04-01");
    let (st, v) = s.b.sub.arm("DELETE", &url, None).await;
    assert!(st == 202 || st == 204, "{st} {v}");
    settled(&s.b, &url, "gone").await;
    s.b.sub
        .control("POST", "identityBindingFailures", Some(json!({"count": 1})))
        .await;
    let body = json!({"properties": {"managedIdentity": {"resourceId": s.b.identity_id}}});
    let (st, v) = s.b.sub.arm("PUT", &url, Some(body)).await;
    assert_eq!(st, 201, "{v}");
    settled(&s.b, &url, "Failed").await;

    let (pod, code, r) = s.doctor().await;
    fails_on(code, &r, "ib-arm-binding", "--identity-binding");
    assert_eq!(failing(&r), ["ib-arm-binding"], "{r:#}");
    assert!(
        detail(&r, "ib-arm-binding").contains(&format!("{name} on cluster aks1 is Failed")),
        "{r:#}"
    );

    s.b.follow(quoted(hint(&r, "ib-arm-binding")));
    let (code, r) = s.b.doctor(&[&format!("pod/{pod}")]);
    passes(code, &r);
    s.other_passes().await;
}

/// 5. AKS's credential deleted by hand with the real az CLI, as someone tidying the identity's
/// credentials would (identity-bindings.md: every binding of the identity, in every cluster,
/// stops working). A PUT of the binding has AKS write it again.
#[tokio::test]
async fn ib_managed_credential_deleted_by_hand() {
    let s = Ib::new("dib-fic").await;
    let az = s.az("dib-fic");
    az.follow(&format!(
        "az identity federated-credential delete --identity-name app-id -g rg -n {} --yes --subscription {}",
        ib::MANAGED_CREDENTIAL,
        s.b.sub.id
    ));
    assert!(s.b.sub.credentials(&s.b.identity_id).await.is_empty());
    let (pod, code, r) = s.doctor().await;
    fails_on(code, &r, "ib-managed-credential", "--identity-binding");
    assert_eq!(failing(&r), ["ib-managed-credential"], "{r:#}");

    s.b.follow(quoted(hint(&r, "ib-managed-credential")));
    let creds = s.b.sub.credentials(&s.b.identity_id).await;
    assert_eq!(creds.len(), 1, "{creds:?}");
    assert_eq!(creds[0]["name"], ib::MANAGED_CREDENTIAL);
    let (code, r) = s.b.doctor(&[&format!("pod/{pod}")]);
    passes(code, &r);
    s.other_passes().await;
}

/// 7. The walkthrough's classic credential for the same service account, made with az
/// beside the identity binding: two paths, one of the 20 credential slots spent on what the
/// binding exists to save. A warning (pods with the annotation still work), whose az command,
/// run as printed, removes only that credential.
#[tokio::test]
async fn ib_classic_credential_beside_the_binding() {
    let s = Ib::new("dib-mixed").await;
    let az = s.az("dib-mixed");
    az.follow(&format!(
        "az identity federated-credential create --name classic-web --identity-name app-id -g rg --issuer {} --subject system:serviceaccount:{}:wi --audiences api://AzureADTokenExchange --subscription {} -o none",
        Ground::get().issuer(),
        s.b.ns,
        s.b.sub.id
    ));
    let (pod, code, r) = s.doctor().await;
    let c = check(&r, "ib-mixed");
    assert_eq!(c["status"], "warn", "{r:#}");
    assert_eq!(code, 0, "a warning: {r:#}");
    assert!(failing(&r).is_empty(), "{r:#}");
    assert!(detail(&r, "ib-mixed").contains("classic-web"), "{r:#}");
    let h = hint(&r, "ib-mixed");
    assert!(h.contains("az identity federated-credential delete"), "{h}");
    s.other_passes().await;

    az.follow(quoted(h));
    let creds = s.b.sub.credentials(&s.b.identity_id).await;
    let names: Vec<&str> = creds.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, [ib::MANAGED_CREDENTIAL]);
    let (code, r) = s.b.doctor(&[&format!("pod/{pod}")]);
    passes(code, &r);
    s.other_passes().await;
}

/// The app's run in `pod` (Microsoft's Python SDK, tests/python/ib_app.py, with or without the
/// proxy opt-in) and the container runtime's part, which the ground leaves to the test: what
/// the app printed becomes its container's log (CRI format, served by kwok to `kubectl logs`
/// through a `Logs` object). Returns the app's verdict.
async fn app_runs(bench: &Bench, pod: &str, mode: &str) -> Value {
    let out = ib_app(&bench.pods(), pod, mode).await;
    let line = out.trim().to_string();
    let g = Ground::get();
    let file = PathBuf::from(g.var("AZWI_GROUND_DIR"))
        .join(format!("pods/{}/{pod}/c/app/app.log", bench.ns));
    let stamp = k8s_openapi::jiff::Timestamp::now();
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .and_then(|mut f| writeln!(f, "{stamp} stdout F {line}"))
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let gvk = GroupVersionKind::gvk("kwok.x-k8s.io", "v1alpha1", "Logs");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "logs");
    let logs: Api<DynamicObject> = Api::namespaced_with(bench.client.clone(), &bench.ns, &ar);
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs", "metadata": {"name": pod},
        "spec": {"logs": [{"containers": ["app"], "logsFile": file}]},
    }))
    .unwrap();
    match logs.create(&PostParams::default(), &obj).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => panic!("create Logs {pod}: {e}"),
    }
    // kwok learns Logs objects through its informer: wait until the log is served.
    for _ in 0..100 {
        if let Ok(text) = bench.pods().logs(pod, &Default::default()).await
            && text.contains(&line)
        {
            return serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("kwok does not serve the log of {pod} within 10s");
}

/// 6. The app's SDK without the proxy opt-in (azure-identity's WorkloadIdentityCredential
/// without enable_azure_proxy=True): it sends the identity-binding token straight to Entra and
/// logs AADSTS700211 (no credential for the cluster's issuer; azure-sdk-for-js
/// TROUBLESHOOTING.md). Everything doctor reads in the cluster and in Azure is right; the
/// app's log is what names it. Following the hint: the code opts in, the app is deployed again.
#[tokio::test]
async fn ib_sdk_without_the_proxy_opt_in() {
    let s = Ib::new("dib-sdk").await;
    let pod = Ib::web(&s.b, &[]).await;
    let v = app_runs(&s.b, &pod, "direct").await;
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("AADSTS700211"),
        "{v}"
    );

    let (code, r) = s.b.doctor(&[&format!("pod/{pod}")]);
    fails_on(code, &r, "ib-sdk-opt-in", "enable_azure_proxy=True");
    assert_eq!(failing(&r), ["ib-sdk-opt-in"], "{r:#}");
    assert!(
        detail(&r, "ib-sdk-opt-in").contains("AADSTS700211"),
        "{r:#}"
    );
    let h = hint(&r, "ib-sdk-opt-in");
    // The first versions with the option, per language (the SDKs' changelogs).
    for sdk in [
        "Python azure-identity >= 1.27.0",
        "Go azidentity >= 1.13.0-beta.1",
        ".NET Azure.Identity >= 1.18.0-beta.2",
        "Java azure-identity >= 1.19.0-beta.2",
        "JS @azure/identity >= 4.14.0-beta.1",
        "Rust azure_identity >= 1.1.0-beta.1",
    ] {
        assert!(h.contains(sdk), "{sdk}: {h}");
    }

    // The fix is in the app's code (enable_azure_proxy=True), then the command, as printed.
    s.b.follow(quoted(h));
    rolled(&s.b);
    let pod = Ib::web(&s.b, &[pod]).await;
    let v = app_runs(&s.b, &pod, "proxy").await;
    assert_eq!(v["ok"], true, "{v}");
    let (code, r) = s.b.doctor(&[&format!("pod/{pod}")]);
    passes(code, &r);
    assert_eq!(check(&r, "ib-sdk-opt-in")["status"], "pass", "{r:#}");
    s.other_passes().await;
}
