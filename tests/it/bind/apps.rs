//! `bind --app` / `unbind --app` (issue 14): an Entra application (app registration) as the
//! identity, through Microsoft Graph. Graph's rules (a credential is POSTed, never upserted by
//! name; a second one with the same issuer and subject is refused with 400; at most 20 per
//! application; least privilege Application.ReadWrite.OwnedBy) are from
//! tests/azure-emulator/data/azure-api/graph-federated-credentials and identity-bindings §8;
//! what `azwi serviceaccount create` makes is from upstream's pkg/cmd/serviceaccount (§9).

use std::time::{Duration, Instant};

use k8s_openapi::api::{apps::v1::Deployment, core::v1::ServiceAccount};
use kube::{Api, api::PostParams};
use serde_json::{Value, json};

use kubectl_azwi::wi::{azwi, keys};

use super::{actions, deployment, json_out, step, wait_for_injected_pod};
use crate::{
    doctor::apps::{App, AppBench, pod},
    support::{
        self, Ground,
        azure::{Sub, run_plugin, uuid_like},
    },
};

const BLOB_READER: &str = "Storage Blob Data Reader";

/// Mutating Graph requests the emulator saw from `login` (answered or refused).
async fn graph_writes(sub: &Sub, login: &(String, String)) -> u64 {
    sub.control_global("GET", &format!("clients/{}/graph-writes", login.0), None)
        .await["count"]
        .as_u64()
        .expect("graph-writes count")
}

/// The plugin as `login`, `args` then `-n NS`.
fn plugin(a: &AppBench, login: &(String, String), args: &[&str]) -> (i32, String, String) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["-n", &a.b.ns]);
    run_plugin(&all, &a.b.sub.env_as(&login.0, &login.1))
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn get(a: &AppBench, path: &str) -> Value {
    a.graph("GET", path, None).await
}

async fn apps_named(a: &AppBench, name: &str) -> Vec<Value> {
    let v = get(
        a,
        &format!("/v1.0/applications?$filter=displayName eq '{name}'"),
    )
    .await;
    v["value"].as_array().unwrap().clone()
}

async fn fics(a: &AppBench, object_id: &str) -> Vec<Value> {
    let v = get(
        a,
        &format!("/v1.0/applications/{object_id}/federatedIdentityCredentials"),
    )
    .await;
    v["value"].as_array().unwrap().clone()
}

async fn sa(a: &AppBench) -> Option<ServiceAccount> {
    Api::<ServiceAccount>::namespaced(Ground::get().client().await, &a.b.ns)
        .get_opt("wi")
        .await
        .unwrap()
}

/// A principal that may create applications and manage the ones it owns (the least
/// privilege README names for bind --app) and assign roles on the subscription.
async fn binder(a: &AppBench) -> (String, String) {
    a.b.sub
        .graph_principal("Owner", &["Application.ReadWrite.OwnedBy"])
        .await
}

/// The "done when": one `bind --app NAME --create-app` sets up the walkthrough with an
/// application; doctor --exchange is clean and exec-login gets a token as the application.
#[tokio::test]
async fn one_bind_with_create_app_makes_a_working_binding() {
    let a = AppBench::new("bind-app").await;
    let me = binder(&a).await;
    let ns = a.b.ns.clone();
    let name = format!("payments-{ns}");
    Api::<Deployment>::namespaced(a.b.client.clone(), &ns)
        .create(&PostParams::default(), &deployment("web"))
        .await
        .unwrap();
    let scope = format!("/subscriptions/{}/resourceGroups/rg", a.b.sub.id);
    let args = [
        "bind",
        "wi",
        "--app",
        &name,
        "--create-app",
        "--workload",
        "deploy/web",
        "--role",
        BLOB_READER,
        "--scope",
        &scope,
        "-o",
        "json",
    ];
    let (code, out, err) = plugin(&a, &me, &args);
    let r = json_out(code, &out, &err);
    assert_eq!(
        actions(&r),
        owned(&[
            ("application", "create"),
            ("servicePrincipal", "create"),
            ("federatedCredential", "create"),
            ("roleAssignment", "create"),
            ("serviceAccount", "create"),
            ("workload", "update"),
        ]),
        "{r:#}"
    );
    let app_id = r["application"]["appId"].as_str().unwrap().to_string();
    let sp_id = r["application"]["servicePrincipalId"].as_str().unwrap();

    // Graph: one application of that name, its service principal, one exact credential.
    let apps = apps_named(&a, &name).await;
    assert_eq!(apps.len(), 1, "{apps:?}");
    assert_eq!(apps[0]["appId"], app_id.as_str());
    let sp = get(&a, &format!("/v1.0/servicePrincipals(appId='{app_id}')")).await;
    assert_eq!(sp["id"], sp_id);
    let creds = fics(&a, apps[0]["id"].as_str().unwrap()).await;
    assert_eq!(creds.len(), 1, "{creds:?}");
    assert_eq!(creds[0]["issuer"], Ground::get().issuer());
    assert_eq!(creds[0]["subject"], a.b.subject("wi"));
    assert_eq!(creds[0]["audiences"], json!([keys::AUDIENCE]));
    // The role is the service principal's (its object id), not the application's.
    let assigned = a.b.sub.assignments_of(sp_id).await;
    assert_eq!(assigned.len(), 1, "{assigned:?}");
    let sa = sa(&a).await.expect("bind created the service account");
    assert_eq!(
        sa.metadata.annotations.unwrap()[keys::CLIENT_ID_ANNOTATION],
        app_id
    );

    let pod = wait_for_injected_pod(&a.b.pods()).await;
    let pod_name = pod.metadata.name.unwrap();
    support::wait_running(&a.b.pods(), &pod_name).await;
    let target = format!("pod/{pod_name}");
    a.passes_on(&target);
    let (code, out, err) = run_plugin(
        &["exec-login", &target, "-n", &ns, "-o", "json"],
        &a.b.sub.env(),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let login: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(login["success"], true, "{login:#}");
    assert_eq!(login["who"]["clientId"], app_id.as_str(), "{login:#}");
}

/// `--dry-run` writes nothing (Graph, ARM, cluster) and shows the Graph bodies; the real run
/// does what it showed; a second run writes nothing at all.
#[tokio::test]
async fn dry_run_then_bind_then_a_second_bind_that_writes_nothing() {
    let a = AppBench::new("bind-app-idem").await;
    let me = binder(&a).await;
    let name = format!("idem-{}", a.b.ns);
    let args = ["bind", "wi", "--app", &name, "--create-app", "-o", "json"];
    let (gw, aw) = (graph_writes(&a.b.sub, &me).await, a.b.sub.writes().await);
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let (code, out, err) = plugin(&a, &me, &dry);
    let plan = json_out(code, &out, &err);
    assert_eq!(plan["dryRun"], true);
    assert_eq!(step(&plan, "application")["body"]["displayName"], name);
    let cred = &step(&plan, "federatedCredential")["body"];
    assert_eq!(cred["subject"], a.b.subject("wi"));
    assert_eq!(cred["audiences"], json!([keys::AUDIENCE]));
    assert_eq!(
        graph_writes(&a.b.sub, &me).await,
        gw,
        "a dry run wrote to Graph"
    );
    assert_eq!(a.b.sub.writes().await, aw);
    assert!(apps_named(&a, &name).await.is_empty());
    assert!(sa(&a).await.is_none());

    let (code, out, err) = plugin(&a, &me, &args);
    let real = json_out(code, &out, &err);
    let kinds = |r: &Value| actions(r);
    assert_eq!(kinds(&plan), kinds(&real), "the plan is what the run did");
    let app = &apps_named(&a, &name).await[0];
    let sent = &fics(&a, app["id"].as_str().unwrap()).await[0];
    for k in ["name", "issuer", "subject", "audiences", "description"] {
        assert_eq!(sent[k], cred[k], "{k}");
    }

    let (gw2, aw) = (graph_writes(&a.b.sub, &me).await, a.b.sub.writes().await);
    assert_eq!(gw2, gw + 3, "application, service principal, credential");
    let gw = gw2;
    let rv = sa(&a).await.unwrap().metadata.resource_version;
    let (code, out, err) = plugin(&a, &me, &args);
    let again = json_out(code, &out, &err);
    assert!(
        actions(&again).iter().all(|(_, act)| act == "unchanged"),
        "{again:#}"
    );
    assert_eq!(
        graph_writes(&a.b.sub, &me).await,
        gw,
        "no Graph write on re-run"
    );
    assert_eq!(a.b.sub.writes().await, aw, "no ARM write on re-run");
    assert_eq!(sa(&a).await.unwrap().metadata.resource_version, rv);
    let (code, text, _) = plugin(&a, &me, &args[..5]);
    assert_eq!(code, 0);
    assert!(text.contains(&format!("application: {name}")), "{text}");
}

/// The "done when": a binding made exactly as `azwi serviceaccount create` makes it is
/// adopted by `bind --app` (by client id and by its display name): no second credential, no
/// write at all; and it still passes doctor.
#[tokio::test]
async fn a_binding_made_by_azwi_is_adopted_not_duplicated() {
    let a = AppBench::new("bind-app-azwi").await;
    let app = a.made_by_azwi().await;
    let ns = a.b.ns.clone();
    let iss = Ground::get().issuer();
    let display = azwi::application_name(&ns, "wi", iss);
    for by in [app.app_id.as_str(), display.as_str()] {
        let gw = graph_writes(&a.b.sub, &a.admin).await;
        let (code, out, err) = plugin(&a, &a.admin, &["bind", "wi", "--app", by, "-o", "json"]);
        let r = json_out(code, &out, &err);
        assert!(
            actions(&r).iter().all(|(_, act)| act == "unchanged"),
            "{r:#}"
        );
        let cred = step(&r, "federatedCredential");
        assert!(
            cred["target"]
                .as_str()
                .unwrap()
                .ends_with(&azwi::credential_name(&ns, "wi", iss)),
            "{cred}"
        );
        assert!(
            cred["detail"]
                .as_str()
                .unwrap()
                .starts_with("adopted (made by azwi serviceaccount create)"),
            "{cred}"
        );
        assert_eq!(
            graph_writes(&a.b.sub, &a.admin).await,
            gw,
            "adopting writes nothing"
        );
        assert_eq!(fics(&a, &app.object_id).await.len(), 1);
    }
    a.b.create_pod(&pod()).await;
    a.passes();
}

/// This binding's issuer and subject under another name with another audience: put right in
/// place (Graph refuses a second credential with the same issuer and subject: 400
/// InvalidFederatedIdentityCredentialValue, error-400-duplicate-issuer-subject.json).
#[tokio::test]
async fn a_credential_with_another_audience_is_corrected_in_place() {
    let a = AppBench::new("bind-app-aud").await;
    let app = a.app(&format!("aud-{}", a.b.ns), true).await;
    let body = json!({"name": "mine", "issuer": Ground::get().issuer(),
        "subject": a.b.subject("wi"), "audiences": ["api://other"]});
    let path = format!(
        "/v1.0/applications/{}/federatedIdentityCredentials",
        app.object_id
    );
    a.graph("POST", &path, Some(body)).await;
    let (code, out, err) = plugin(
        &a,
        &a.admin,
        &["bind", "wi", "--app", &app.app_id, "-o", "json"],
    );
    let r = json_out(code, &out, &err);
    assert_eq!(step(&r, "federatedCredential")["action"], "update", "{r:#}");
    let all = fics(&a, &app.object_id).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["name"], "mine");
    assert_eq!(all[0]["audiences"], json!([keys::AUDIENCE]));
}

async fn post_fic(a: &AppBench, app: &App, name: &str, subject: &str) {
    let body = json!({"name": name, "issuer": "https://token.actions.githubusercontent.com",
        "subject": subject, "audiences": [keys::AUDIENCE]});
    let path = format!(
        "/v1.0/applications/{}/federatedIdentityCredentials",
        app.object_id
    );
    a.graph("POST", &path, Some(body)).await;
}

/// Bad input and refused permissions: one line with the fix, non-zero, nothing written.
#[tokio::test]
async fn bad_app_input_is_one_line_non_zero_and_writes_nothing() {
    let a = AppBench::new("bind-app-bad").await;
    let ns = a.b.ns.clone();
    let twin = format!("twin-{ns}");
    let (t1, t2) = (a.app(&twin, true).await, a.app(&twin, true).await);
    let taken = a.app(&format!("taken-{ns}"), true).await;
    post_fic(&a, &taken, "taken", "repo:o/r:ref:refs/heads/main").await;
    let full = a.app(&format!("full-{ns}"), true).await;
    for i in 0..20 {
        post_fic(
            &a,
            &full,
            &format!("gh-{i}"),
            &format!("repo:o/r{i}:ref:main"),
        )
        .await;
    }
    // Not its owner: OwnedBy may not write to it.
    let stranger = a.app(&format!("stranger-{ns}"), true).await;
    let owned_by = binder(&a).await;
    let new_name = format!("new-{ns}");
    // (extra args, the login, expected exit code, what the message names)
    type Case<'a> = (Vec<&'a str>, &'a (String, String), i32, Vec<String>);
    let cases: Vec<Case> = vec![
        (
            vec!["--app", &twin],
            &a.admin,
            2,
            vec![
                format!("client id {}", t1.app_id),
                format!("client id {}", t2.app_id),
            ],
        ),
        (
            vec!["--app", "nobody-has-this-name"],
            &a.admin,
            2,
            vec!["--create-app".into()],
        ),
        (
            vec!["--app", &t1.app_id, "--create-app"],
            &a.admin,
            2,
            vec!["a display name with --create-app".into()],
        ),
        (
            vec!["--app", &taken.app_id, "--credential-name", "taken"],
            &a.admin,
            2,
            vec!["another binding's".into(), "409".into()],
        ),
        (
            vec!["--app", &full.app_id],
            &a.admin,
            2,
            vec!["maximum of 20".into(), "gh-0".into(), "gh-19".into()],
        ),
        (
            vec!["--app", &new_name, "--create-app"],
            &a.reader,
            1,
            vec![
                "Authorization_RequestDenied".into(),
                "Application.ReadWrite.OwnedBy".into(),
            ],
        ),
        (
            vec!["--app", &stranger.app_id],
            &owned_by,
            1,
            vec![
                "Authorization_RequestDenied".into(),
                "Application.ReadWrite.OwnedBy".into(),
            ],
        ),
    ];
    for (extra, login, want_code, want) in cases {
        let mut argv = vec!["bind", "wi"];
        argv.extend(extra.iter());
        let before = a.b.sub.writes().await;
        let (code, out, err) = plugin(&a, login, &argv);
        assert_eq!(code, want_code, "{argv:?}\nstdout: {out}\nstderr: {err}");
        assert!(err.starts_with("error: "), "{argv:?}: {err}");
        assert_eq!(err.lines().filter(|l| l.starts_with("error")).count(), 1);
        assert!(err.contains("\n  hint: "), "{argv:?} gives a fix: {err}");
        for w in &want {
            assert!(err.contains(w.as_str()), "{argv:?}: want '{w}' in:\n{err}");
        }
        assert_eq!(a.b.sub.writes().await, before, "{argv:?} wrote to ARM");
        assert!(sa(&a).await.is_none(), "{argv:?} wrote to the cluster");
    }
    assert!(apps_named(&a, &new_name).await.is_empty());
    for (app, n) in [(&taken, 1), (&full, 20), (&stranger, 0), (&t1, 0)] {
        assert_eq!(fics(&a, &app.object_id).await.len(), n);
    }
}

/// unbind --app removes the credential and the annotations; `--delete-app` is refused while
/// another credential or a role assignment bind did not make uses the application, naming
/// each, and then deletes the service principal and the application.
#[tokio::test]
async fn unbind_removes_the_credential_and_delete_app_waits_for_the_others() {
    let a = AppBench::new("unbind-app").await;
    let me = binder(&a).await;
    let name = format!("gone-{}", a.b.ns);
    let scope = format!("/subscriptions/{}/resourceGroups/rg", a.b.sub.id);
    let bind = [
        "bind",
        "wi",
        "--app",
        &name,
        "--create-app",
        "--role",
        BLOB_READER,
        "--scope",
        &scope,
        "-o",
        "json",
    ];
    let (code, out, err) = plugin(&a, &me, &bind);
    let r = json_out(code, &out, &err);
    let app = App {
        object_id: apps_named(&a, &name).await[0]["id"]
            .as_str()
            .unwrap()
            .into(),
        app_id: r["application"]["appId"].as_str().unwrap().into(),
    };
    let sp_id = r["application"]["servicePrincipalId"]
        .as_str()
        .unwrap()
        .to_string();
    post_fic(&a, &app, "ci", "repo:o/r:ref:refs/heads/main").await;
    let theirs =
        a.b.sub
            .assign("4633458b-17de-408a-b874-0445c86b69e6", &scope, &sp_id)
            .await;

    // Refused while the GitHub credential and someone else's role assignment use it.
    let gw = graph_writes(&a.b.sub, &me).await;
    let (code, _, err) = plugin(&a, &me, &["unbind", "wi", "--app", &name, "--delete-app"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("ci (https://token.actions") && err.contains(&theirs),
        "{err}"
    );
    assert_eq!(graph_writes(&a.b.sub, &me).await, gw);
    assert_eq!(fics(&a, &app.object_id).await.len(), 2);

    // Without --delete-app: this binding's credential and annotations go, the roles stay.
    let (code, out, err) = plugin(&a, &me, &["unbind", "wi", "--app", &name, "-o", "json"]);
    let u = json_out(code, &out, &err);
    assert_eq!(step(&u, "federatedCredential")["action"], "delete");
    let left = fics(&a, &app.object_id).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["name"], "ci");
    let ann = sa(&a)
        .await
        .unwrap()
        .metadata
        .annotations
        .unwrap_or_default();
    assert!(!ann.contains_key(keys::CLIENT_ID_ANNOTATION), "{ann:?}");
    assert_eq!(a.b.sub.assignments_of(&sp_id).await.len(), 2);

    // Once nothing else uses it: bind's role assignment, the principal and the application go.
    a.graph(
        "DELETE",
        &format!(
            "/v1.0/applications/{}/federatedIdentityCredentials/ci",
            app.object_id
        ),
        None,
    )
    .await;
    a.b.sub
        .arm(
            "DELETE",
            &format!(
                "{scope}/providers/Microsoft.Authorization/roleAssignments/{theirs}?api-version=2022-04-01"
            ),
            None,
        )
        .await;
    let (code, out, err) = plugin(
        &a,
        &me,
        &[
            "unbind",
            "wi",
            "--app",
            &app.app_id,
            "--delete-app",
            "-o",
            "json",
        ],
    );
    let u = json_out(code, &out, &err);
    assert_eq!(step(&u, "application")["action"], "delete", "{u:#}");
    assert_eq!(step(&u, "servicePrincipal")["action"], "delete");
    assert!(apps_named(&a, &name).await.is_empty());
    assert!(a.b.sub.assignments_of(&sp_id).await.is_empty());
    let (st, _) =
        a.b.sub
            .graph(
                &a.admin,
                "GET",
                &format!("/v1.0/servicePrincipals/{sp_id}"),
                None,
            )
            .await;
    assert_eq!(st, 404);
    // Again: nothing left to do.
    let gw = graph_writes(&a.b.sub, &me).await;
    let (code, out, err) = plugin(
        &a,
        &me,
        &["unbind", "wi", "--app", &app.app_id, "-o", "json"],
    );
    let u = json_out(code, &out, &err);
    assert!(
        actions(&u).iter().all(|(_, act)| act == "unchanged"),
        "{u:#}"
    );
    assert_eq!(graph_writes(&a.b.sub, &me).await, gw);
}

/// A new service principal is unknown to Azure Authorization for a while (PrincipalNotFound):
/// `--role` waits it out with bounded backoff instead of failing. In a tenant of its own, so
/// the emulator's replication delay applies to this test alone.
#[tokio::test]
async fn role_for_a_new_service_principal_waits_for_replication() {
    let sub = Sub::in_tenant(&uuid_like()).await;
    sub.resource_group("rg").await;
    sub.control(
        "PUT",
        "settings",
        Some(json!({"principalPropagationSeconds": 4})),
    )
    .await;
    let me = sub
        .graph_principal("Owner", &["Application.ReadWrite.OwnedBy"])
        .await;
    let ns = support::namespace(&Ground::get().client().await, "bind-app-repl", &[]).await;
    let scope = format!("/subscriptions/{}/resourceGroups/rg", sub.id);
    let started = Instant::now();
    let (code, out, err) = run_plugin(
        &[
            "bind",
            "wi",
            "-n",
            &ns,
            "--app",
            "replicating",
            "--create-app",
            "--role",
            BLOB_READER,
            "--scope",
            &scope,
            "-o",
            "json",
        ],
        &sub.env_as(&me.0, &me.1),
    );
    let r = json_out(code, &out, &err);
    assert!(started.elapsed() >= Duration::from_secs(4), "{r:#}");
    let sp = r["application"]["servicePrincipalId"].as_str().unwrap();
    assert_eq!(step(&r, "roleAssignment")["action"], "create");
    let assigned = sub.assignments_of(sp).await;
    assert_eq!(assigned.len(), 1, "{assigned:?}");
    // The application's tenant is not the webhook's: the service account names it.
    let sa = Api::<ServiceAccount>::namespaced(Ground::get().client().await, &ns)
        .get("wi")
        .await
        .unwrap();
    assert_eq!(
        sa.metadata.annotations.unwrap()[keys::TENANT_ID_ANNOTATION],
        sub.tenant
    );
}
