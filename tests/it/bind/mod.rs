//! `kubectl azwi bind` / `unbind` on the real ground and the emulator: the walkthrough in one
//! command, idempotent, previewable, safe on bad input, and undone by unbind. The submodules are
//! the ways users really break things, each case read against the upstream webhook, Microsoft's
//! specs or a public report.

mod apps;
mod flexible;
mod identity_binding;
mod issuer;
mod login;
mod roles;
mod safety;
mod unbind_identity_binding;
mod workloads;

use std::time::Duration;

use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{Pod, ServiceAccount},
};
use kube::{
    Api,
    api::{ListParams, PostParams},
};
use kubectl_azwi::wi::{keys, mutation};
use serde_json::{Value, json};

use crate::support::{
    self, Ground,
    azure::{Sub, exchange, run_plugin, uuid_like},
    fixtures,
};

pub(crate) struct Setup {
    pub sub: Sub,
    pub ns: String,
    pub identity: Value,
}

pub(crate) async fn setup(prefix: &str) -> Setup {
    let sub = Sub::new().await;
    sub.resource_group("rg").await;
    let identity = sub.identity("rg", "app-id").await;
    let ns = support::namespace(&Ground::get().client().await, prefix, &[]).await;
    Setup { sub, ns, identity }
}

impl Setup {
    /// Twenty GitHub credentials on the identity: the maximum, none of them a binding's. One
    /// at a time: ARM refuses concurrent credential writes on one identity (409).
    pub async fn fill_credentials(&self) {
        for i in 0..20 {
            let (status, body) = self
                .sub
                .arm("PUT", &format!("{}/federatedIdentityCredentials/other-{i}?api-version=2023-01-31", self.id()), Some(json!({"properties": {"issuer": "https://token.actions.githubusercontent.com", "subject": format!("repo:o/r{i}:ref:refs/heads/main"), "audiences": [keys::AUDIENCE]}})))
                .await;
            assert_eq!(status, 201, "{body}");
        }
    }

    pub fn bind(&self, extra: &[&str]) -> (i32, String, String) {
        self.bind_with(extra, &self.sub.env())
    }

    /// `bind workload-identity-sa --identity app-id -g rg EXTRA` with this environment.
    pub fn bind_with(&self, extra: &[&str], env: &[(String, String)]) -> (i32, String, String) {
        self.bind_sa("workload-identity-sa", extra, env)
    }

    /// `bind SA --identity app-id -g rg EXTRA` with this environment.
    pub fn bind_sa(
        &self,
        sa: &str,
        extra: &[&str],
        env: &[(String, String)],
    ) -> (i32, String, String) {
        let mut args = vec![
            "bind",
            sa,
            "-n",
            &self.ns,
            "--identity",
            "app-id",
            "-g",
            "rg",
        ];
        args.extend_from_slice(extra);
        run_plugin(&args, env)
    }

    pub fn unbind(&self, extra: &[&str]) -> (i32, String, String) {
        let mut args = vec!["unbind", "workload-identity-sa", "-n", &self.ns];
        args.extend_from_slice(extra);
        run_plugin(&args, &self.sub.env())
    }

    pub fn id(&self) -> &str {
        self.identity["id"].as_str().unwrap()
    }

    pub fn client_id(&self) -> &str {
        self.identity["properties"]["clientId"].as_str().unwrap()
    }

    pub async fn sa(&self) -> Option<ServiceAccount> {
        Api::<ServiceAccount>::namespaced(Ground::get().client().await, &self.ns)
            .get_opt("workload-identity-sa")
            .await
            .unwrap()
    }
}

pub(crate) fn json_out(code: i32, out: &str, err: &str) -> Value {
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The first step of `kind` in a report.
pub(crate) fn step<'a>(report: &'a Value, kind: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} step in {report}"))
}

pub(crate) fn actions(report: &Value) -> Vec<(String, String)> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap().to_string(),
                s["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub(crate) fn deployment(name: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "oidc", "image": "ghcr.io/azure/azure-workload-identity/msal-go"}]}},
        }
    }))
    .unwrap()
}

#[tokio::test]
async fn bind_makes_a_working_binding_from_nothing() {
    let g = Ground::get();
    let s = setup("bind").await;
    let client = g.client().await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), &s.ns);
    deploys
        .create(&PostParams::default(), &deployment("web"))
        .await
        .unwrap();

    let (code, out, err) = s.bind(&["--workload", "deploy/web", "-o", "json"]);
    let report = json_out(code, &out, &err);
    assert_eq!(report["issuer"]["value"], g.issuer(), "{report}");
    assert_eq!(
        actions(&report),
        [
            ("identity", "unchanged"),
            ("federatedCredential", "create"),
            ("serviceAccount", "create"),
            ("workload", "update")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );

    // Azure: exactly one credential, exactly right.
    let creds = s.sub.credentials(s.id()).await;
    assert_eq!(creds.len(), 1, "{creds:?}");
    assert_eq!(creds[0]["properties"]["issuer"], g.issuer());
    assert_eq!(
        creds[0]["properties"]["subject"],
        format!("system:serviceaccount:{}:workload-identity-sa", s.ns)
    );
    assert_eq!(creds[0]["properties"]["audiences"], json!([keys::AUDIENCE]));
    // Kubernetes: the SA names the identity, the template is labelled and uses the SA.
    let sa = s.sa().await.expect("bind created the service account");
    assert_eq!(
        sa.metadata.annotations.unwrap()[keys::CLIENT_ID_ANNOTATION],
        s.client_id()
    );
    let d = deploys.get("web").await.unwrap();
    let tpl = d.spec.unwrap().template;
    assert_eq!(
        tpl.metadata.unwrap().labels.unwrap()[keys::USE_LABEL],
        "true"
    );
    assert_eq!(
        tpl.spec.unwrap().service_account_name.as_deref(),
        Some("workload-identity-sa")
    );

    // A pod of the rolled template is mutated by the real webhook, and its token works at Entra.
    let pods: Api<Pod> = Api::namespaced(client, &s.ns);
    let pod = wait_for_injected_pod(&pods).await;
    let name = pod.metadata.name.clone().unwrap();
    support::wait_running(&pods, &name).await;
    let token = support::exec(
        &pods,
        &name,
        "oidc",
        &["sh", "-c", "cat \"$AZURE_FEDERATED_TOKEN_FILE\""],
    )
    .await;
    let (status, body) = exchange(&s.sub.tenant, s.client_id(), token.trim()).await;
    assert_eq!(status, 200, "{body}");
}

pub(crate) async fn wait_for_injected_pod(pods: &Api<Pod>) -> Pod {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let list = pods
            .list(&ListParams::default().labels("app=web"))
            .await
            .unwrap();
        if let Some(p) = list
            .items
            .into_iter()
            .find(|p| mutation::observe(p).mutated() && p.metadata.deletion_timestamp.is_none())
        {
            return p;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no injected pod of deploy/web within 60s"
        );
        // The rollout is driven by the controller manager: poll its result at a short interval.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn second_bind_writes_nothing_and_says_unchanged() {
    let s = setup("rebind").await;
    let (code, out, err) = s.bind(&["-o", "json"]);
    json_out(code, &out, &err);
    let writes = s.sub.writes().await;
    let rv = s.sa().await.unwrap().metadata.resource_version;

    let (code, out, err) = s.bind(&["-o", "json"]);
    let report = json_out(code, &out, &err);
    assert!(
        actions(&report).iter().all(|(_, a)| a == "unchanged"),
        "{report}"
    );
    assert_eq!(s.sub.writes().await, writes, "no ARM write on re-run");
    assert_eq!(
        s.sa().await.unwrap().metadata.resource_version,
        rv,
        "no Kubernetes write on re-run"
    );
    let (code, text, _) = s.bind(&[]);
    assert_eq!(code, 0);
    assert!(text.contains("unchanged"), "{text}");
}

#[tokio::test]
async fn unrelated_labels_and_annotations_survive_bind_and_unbind() {
    let s = setup("keep").await;
    let sas: Api<ServiceAccount> = Api::namespaced(Ground::get().client().await, &s.ns);
    let mut sa = fixtures::service_account(
        "workload-identity-sa",
        &[("team.example.com/owner", "payments")],
    );
    sa.metadata.labels = Some([("app".to_string(), "payments".to_string())].into());
    sas.create(&PostParams::default(), &sa).await.unwrap();

    let (code, out, err) = s.bind(&["-o", "json", "--token-expiration", "2h"]);
    let report = json_out(code, &out, &err);
    assert!(
        actions(&report).contains(&("serviceAccount".into(), "update".into())),
        "{report}"
    );
    let after = s.sa().await.unwrap().metadata;
    let ann = after.annotations.unwrap();
    assert_eq!(ann["team.example.com/owner"], "payments");
    assert_eq!(ann[keys::CLIENT_ID_ANNOTATION], s.client_id());
    assert_eq!(ann[keys::TOKEN_EXPIRATION_ANNOTATION], "7200");
    assert_eq!(after.labels.unwrap()["app"], "payments");

    let (code, out, err) = s.unbind(&["-o", "json"]);
    json_out(code, &out, &err);
    assert!(
        s.sub.credentials(s.id()).await.is_empty(),
        "unbind removed the credential"
    );
    let after = s.sa().await.unwrap().metadata;
    let ann = after.annotations.unwrap_or_default();
    assert_eq!(
        ann.get("team.example.com/owner").map(String::as_str),
        Some("payments")
    );
    for k in [
        keys::CLIENT_ID_ANNOTATION,
        keys::TENANT_ID_ANNOTATION,
        keys::TOKEN_EXPIRATION_ANNOTATION,
    ] {
        assert!(!ann.contains_key(k), "{k} left behind");
    }
    assert_eq!(after.labels.unwrap()["app"], "payments");

    // A second unbind is a no-op. Without the annotation it needs to be told the identity.
    let writes = s.sub.writes().await;
    let rv = s.sa().await.unwrap().metadata.resource_version;
    let (code, out, err) = s.unbind(&["--identity", "app-id", "-g", "rg", "-o", "json"]);
    let report = json_out(code, &out, &err);
    assert!(
        actions(&report).iter().all(|(_, a)| a == "unchanged"),
        "{report}"
    );
    assert_eq!(s.sub.writes().await, writes);
    assert_eq!(s.sa().await.unwrap().metadata.resource_version, rv);
}

#[tokio::test]
async fn bind_rides_out_409_429_and_5xx() {
    let s = setup("faults").await;
    for (status, retry_after) in [(409, None), (429, Some(1)), (503, None), (500, None)] {
        let mut f = json!({"method": "PUT", "pathContains": "federatedIdentityCredentials", "count": 1, "status": status});
        if let Some(r) = retry_after {
            f["retryAfter"] = json!(r);
        }
        s.sub.control("POST", "faults", Some(f)).await;
    }
    let (code, out, err) = s.bind(&["-o", "json"]);
    json_out(code, &out, &err);
    let faults = s.sub.control("GET", "faults", None).await;
    assert_eq!(faults["fired"], 4, "{faults}");
    assert_eq!(s.sub.credentials(s.id()).await.len(), 1);
}

#[tokio::test]
async fn twenty_credentials_stop_bind_before_any_write() {
    let s = setup("full").await;
    s.fill_credentials().await;
    let writes = s.sub.writes().await;
    let (code, _, err) = s.bind(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("maximum of 20"), "{err}");
    assert!(
        err.contains("other-0") && err.contains("other-19"),
        "the error lists them: {err}"
    );
    assert_eq!(s.sub.writes().await, writes);
    assert!(s.sa().await.is_none(), "nothing written to the cluster");
}

#[tokio::test]
async fn bad_input_is_one_line_non_zero_and_writes_nothing() {
    let s = setup("bad").await;
    let principal_id = s.identity["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let (reader_id, reader_secret) = s.sub.principal("Reader").await;
    let reader_env = s.sub.env_as(&reader_id, &reader_secret);
    let limited = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend_from_slice(&["--context", support::LIMITED]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let no_login: Vec<(String, String)> = s
        .sub
        .env()
        .into_iter()
        .filter(|(k, _)| k != "AZURE_CLIENT_SECRET")
        .collect();
    let ns = s.ns.as_str();
    let cases: Vec<Case> = vec![
        (
            args(&[
                "bind",
                "Bad_SA",
                "-n",
                ns,
                "--identity",
                "app-id",
                "-g",
                "rg",
            ]),
            s.sub.env(),
            2,
            "invalid service account name 'Bad_SA'",
        ),
        (
            args(&[
                "bind",
                "sa",
                "-n",
                "Bad_NS",
                "--identity",
                "app-id",
                "-g",
                "rg",
            ]),
            s.sub.env(),
            2,
            "invalid namespace 'Bad_NS'",
        ),
        (
            args(&[
                "bind",
                "sa",
                "-n",
                ns,
                "--identity",
                "app-id",
                "-g",
                "rg",
                "--subscription",
                "nope",
            ]),
            s.sub.env(),
            2,
            "invalid subscription id 'nope'",
        ),
        (
            args(&[
                "bind",
                "sa",
                "-n",
                ns,
                "--identity",
                "12345678-1234-1234-1234-12345678901",
                "-g",
                "rg",
            ]),
            s.sub.env(),
            2,
            "invalid identity '12345678-1234-1234-1234-12345678901'",
        ),
        (
            args(&["bind", "sa", "-n", ns, "--identity", &principal_id]),
            s.sub.env(),
            2,
            "is the principal (object) id of identity 'app-id'",
        ),
        (
            args(&["bind", "sa", "-n", ns, "--identity", "nope-id", "-g", "rg"]),
            s.sub.env(),
            2,
            "invalid identity 'nope-id'",
        ),
        (
            args(&[
                "bind",
                "sa",
                "-n",
                ns,
                "--identity",
                "app-id",
                "-g",
                "no-such-rg",
            ]),
            s.sub.env(),
            1,
            "ResourceGroupNotFound",
        ),
        (
            args(&[
                "bind",
                "sa",
                "-n",
                ns,
                "--identity",
                "app-id",
                "-g",
                "rg",
                "--issuer",
                "http://127.0.0.1/x/",
            ]),
            s.sub.env(),
            2,
            "invalid issuer 'http://127.0.0.1/x/'",
        ),
        (
            args(&["bind", "sa", "-n", ns, "--identity", "app-id", "-g", "rg"]),
            no_login,
            1,
            "no Azure credentials found",
        ),
        (
            limited(&["bind", "sa", "-n", ns, "--identity", "app-id", "-g", "rg"]),
            s.sub.env(),
            2,
            "Kubernetes permission 'create serviceaccounts'",
        ),
        (
            args(&["bind", "sa", "-n", ns, "--identity", "app-id", "-g", "rg"]),
            reader_env,
            1,
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
        ),
    ];
    for (argv, env, want_code, want_text) in cases {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let writes = s.sub.writes().await;
        let (code, out, err) = run_plugin(&argv, &env);
        assert_eq!(code, want_code, "{argv:?}\nstdout: {out}\nstderr: {err}");
        assert!(err.starts_with("error: "), "{argv:?}: {err}");
        assert!(
            err.contains(want_text),
            "{argv:?}: want '{want_text}' in:\n{err}"
        );
        assert!(
            err.contains("\n  hint: ") || err.lines().next().unwrap().contains(": expected "),
            "{argv:?} gives a fix: {err}"
        );
        assert!(
            s.sub.credentials(s.id()).await.is_empty(),
            "{argv:?} created a credential"
        );
        // A refused write is still counted by ARM; every other case must not even try.
        if !want_text.contains("/write") {
            assert_eq!(s.sub.writes().await, writes, "{argv:?} wrote to Azure");
        }
        assert!(s.sa().await.is_none(), "{argv:?} wrote to the cluster");
        let sas: Api<ServiceAccount> = Api::namespaced(Ground::get().client().await, ns);
        assert!(
            sas.get_opt("sa").await.unwrap().is_none(),
            "{argv:?} created a service account"
        );
    }
}

/// argv, env, expected exit code, expected text on stderr.
type Case<'a> = (Vec<String>, Vec<(String, String)>, i32, &'a str);

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn dry_run_writes_nothing_and_matches_the_real_run() {
    let s = setup("dry").await;
    let before = s.sub.writes().await;
    let (code, out, err) = s.bind(&["--dry-run", "-o", "json"]);
    let plan = json_out(code, &out, &err);
    assert_eq!(plan["dryRun"], true);
    assert_eq!(s.sub.writes().await, before);
    assert!(s.sa().await.is_none());
    let cred = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "federatedCredential")
        .unwrap();
    assert_eq!(
        cred["body"]["properties"]["subject"],
        format!("system:serviceaccount:{}:workload-identity-sa", s.ns),
        "the exact ARM body"
    );
    let (_, text, _) = s.bind(&["--dry-run"]);
    assert!(
        text.contains("dry run: nothing was written") && text.contains("would create"),
        "{text}"
    );

    let (code, out, err) = s.bind(&["-o", "json"]);
    let real = json_out(code, &out, &err);
    let strip = |v: &Value| {
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["kind"].clone(), s["action"].clone(), s["target"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        strip(&plan),
        strip(&real),
        "the plan is what the real run did"
    );
    let sent = s.sub.credentials(s.id()).await;
    assert_eq!(sent[0]["properties"], cred["body"]["properties"]);
}

#[tokio::test]
async fn create_identity_and_role_assignment_are_idempotent() {
    let sub = Sub::new().await;
    sub.resource_group("rg").await;
    let ns = support::namespace(&Ground::get().client().await, "newid", &[]).await;
    let scope = format!("/subscriptions/{}/resourceGroups/rg", sub.id);
    let argv = [
        "bind",
        "sa",
        "-n",
        &ns,
        "--identity",
        "fresh-id",
        "-g",
        "rg",
        "--create-identity",
        "--location",
        "eastus",
        "--role",
        "Storage Blob Data Reader",
        "--scope",
        &scope,
        "-o",
        "json",
    ];
    let (code, out, err) = run_plugin(&argv, &sub.env());
    let report = json_out(code, &out, &err);
    assert_eq!(
        actions(&report),
        [
            ("identity", "create"),
            ("federatedCredential", "create"),
            ("roleAssignment", "create"),
            ("serviceAccount", "create")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let client_id = report["identity"]["clientId"].as_str().unwrap();
    let (status, list) = sub
        .arm(
            "GET",
            &format!(
                "{scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"
            ),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let mine: Vec<&Value> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["properties"]["principalId"] == report["identity"]["principalId"])
        .collect();
    assert_eq!(mine.len(), 1, "{list}");
    assert_eq!(mine[0]["properties"]["principalType"], "ServicePrincipal");
    let sa = Api::<ServiceAccount>::namespaced(Ground::get().client().await, &ns)
        .get("sa")
        .await
        .unwrap();
    assert_eq!(
        sa.metadata.annotations.unwrap()[keys::CLIENT_ID_ANNOTATION],
        client_id
    );

    let writes = sub.writes().await;
    let (code, out, err) = run_plugin(&argv, &sub.env());
    let again = json_out(code, &out, &err);
    assert!(
        actions(&again).iter().all(|(_, a)| a == "unchanged"),
        "{again}"
    );
    assert_eq!(sub.writes().await, writes);
}

#[tokio::test]
async fn aks_issuer_is_found_from_the_context_and_a_disagreement_is_refused() {
    let g = Ground::get();
    let s = setup("aks").await;
    let register = |issuer: String| json!({"resourceGroup": "rg", "name": "myAKSCluster", "fqdn": "127.0.0.1", "issuerUrl": issuer, "workloadIdentity": true});
    // Without its trailing slash, the AKS value disagrees with the cluster's own: refused, both named.
    s.sub
        .control(
            "POST",
            "clusters",
            Some(register(g.issuer().trim_end_matches('/').to_string())),
        )
        .await;
    let writes = s.sub.writes().await;
    let (code, _, err) = s.bind(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("disagree") && err.contains("trailing '/'"),
        "{err}"
    );
    assert_eq!(s.sub.writes().await, writes);

    s.sub
        .control("POST", "clusters", Some(register(g.issuer().to_string())))
        .await;
    let (code, out, err) = s.bind(&["-o", "json"]);
    let report = json_out(code, &out, &err);
    assert!(
        report["issuer"]["source"]
            .as_str()
            .unwrap()
            .starts_with("AKS cluster myAKSCluster"),
        "{report}"
    );
    assert!(
        report["issuer"]["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("agrees with"),
        "{report}"
    );
}

/// The plugin itself running in a pod: it logs in with workload identity (the pod's projected
/// token) instead of a secret or the az CLI.
#[tokio::test]
async fn bind_logs_in_with_workload_identity_from_a_pod() {
    let g = Ground::get();
    let s = setup("wi-login").await;
    // The plugin's own identity, Owner on the subscription, federated with ns/plugin-runner.
    let runner = s.sub.identity("rg", "plugin-runner").await;
    let principal = runner["properties"]["principalId"].as_str().unwrap();
    let owner = format!(
        "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        s.sub.id
    );
    let (status, body) = s
        .sub
        .arm(
            "PUT",
            &format!("/subscriptions/{}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01", s.sub.id, uuid_like()),
            Some(json!({"properties": {"roleDefinitionId": owner, "principalId": principal, "principalType": "ServicePrincipal"}})),
        )
        .await;
    assert!(status < 300, "{status} {body}");
    let fic = json!({"properties": {"issuer": g.issuer(), "subject": format!("system:serviceaccount:{}:plugin-runner", s.ns), "audiences": [keys::AUDIENCE]}});
    let (status, body) = s
        .sub
        .arm(
            "PUT",
            &format!(
                "{}/federatedIdentityCredentials/runner?api-version=2023-01-31",
                runner["id"].as_str().unwrap()
            ),
            Some(fic),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let client = g.client().await;
    let runner_client_id = runner["properties"]["clientId"].as_str().unwrap();
    Api::<ServiceAccount>::namespaced(client.clone(), &s.ns)
        .create(
            &PostParams::default(),
            &fixtures::service_account(
                "plugin-runner",
                &[(keys::CLIENT_ID_ANNOTATION, runner_client_id)],
            ),
        )
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client, &s.ns);
    pods.create(
        &PostParams::default(),
        &fixtures::pod("runner", "plugin-runner", &[fixtures::use_label()]),
    )
    .await
    .unwrap();
    support::wait_running(&pods, "runner").await;
    let token = support::exec(
        &pods,
        "runner",
        "oidc",
        &["sh", "-c", "cat \"$AZURE_FEDERATED_TOKEN_FILE\""],
    )
    .await;

    // The pod's projected token, where the kubelet would put it (0600, removed after the run).
    let dir = std::env::temp_dir().join(format!("azwi-wi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("azure-identity-token");
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&file)
            .unwrap();
        std::io::Write::write_all(&mut f, token.trim().as_bytes()).unwrap();
    }
    let mut env: Vec<(String, String)> = s
        .sub
        .env()
        .into_iter()
        .filter(|(k, _)| k != "AZURE_CLIENT_SECRET" && k != "AZURE_CLIENT_ID")
        .collect();
    env.push(("AZURE_CLIENT_ID".into(), runner_client_id.into()));
    env.push((
        "AZURE_FEDERATED_TOKEN_FILE".into(),
        file.display().to_string(),
    ));
    let (code, out, err) = s.bind_with(&["-o", "json", "-v"], &env);
    std::fs::remove_dir_all(&dir).unwrap();
    json_out(code, &out, &err);
    assert!(
        err.contains("workload identity (AZURE_FEDERATED_TOKEN_FILE)"),
        "the login source is named: {err}"
    );
    assert_eq!(s.sub.credentials(s.id()).await.len(), 1);
}
