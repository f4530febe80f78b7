//! `--workload` kinds are validated before any write (issue 11 item 6): a Job's pod template
//! cannot change, a pod cannot be relabelled into mutation, a Deployment's ReplicaSet is not
//! the thing to patch; each refusal says what to do instead, and "rolls the pods" is said only
//! where it is true. The next steps print commands that work as printed.

use std::time::Duration;

use k8s_openapi::api::{
    apps::v1::{Deployment, ReplicaSet},
    batch::v1::{CronJob, Job},
    core::v1::Pod,
};
use kube::{
    Api,
    api::{ListParams, PostParams},
};
use serde_json::{Value, json};

use super::{deployment, json_out, setup, step};
use crate::support::Ground;
use kubectl_azwi::wi::{keys, mutation};

fn template(name: &str) -> Value {
    json!({"metadata": {"labels": {"app": name}}, "spec": {"restartPolicy": "Never", "containers": [{"name": "oidc", "image": "ghcr.io/azure/azure-workload-identity/msal-go"}]}})
}

/// The ReplicaSet the Deployment controller made for `deploy/web`, and one of its pods.
async fn web_replica_set_and_pod(client: &kube::Client, ns: &str) -> (String, String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let pods = Api::<Pod>::namespaced(client.clone(), ns)
            .list(&ListParams::default().labels("app=web"))
            .await
            .unwrap();
        let rs = Api::<ReplicaSet>::namespaced(client.clone(), ns)
            .list(&ListParams::default().labels("app=web"))
            .await
            .unwrap();
        if let (Some(p), Some(r)) = (pods.items.first(), rs.items.first()) {
            return (
                r.metadata.name.clone().unwrap(),
                p.metadata.name.clone().unwrap(),
            );
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deploy/web made no pod in 60s"
        );
        // The controller manager creates them: poll its result.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn workloads_that_cannot_take_the_binding_are_refused_before_any_write() {
    let g = Ground::get();
    let s = setup("kinds").await;
    let client = g.client().await;
    Api::<Deployment>::namespaced(client.clone(), &s.ns)
        .create(&PostParams::default(), &deployment("web"))
        .await
        .unwrap();
    let job: Job = serde_json::from_value(
        json!({"metadata": {"name": "once"}, "spec": {"template": template("once")}}),
    )
    .unwrap();
    Api::<Job>::namespaced(client.clone(), &s.ns)
        .create(&PostParams::default(), &job)
        .await
        .unwrap();
    let (rs, pod) = web_replica_set_and_pod(&client, &s.ns).await;

    // Each: the workload, what the refusal must say to do instead.
    let cases = [
        (
            "job/once".to_string(),
            "delete job/once and create it again",
        ),
        (format!("pod/{pod}"), "--workload deploy/web"),
        (format!("rs/{rs}"), "--workload deploy/web"),
    ];
    for (workload, instead) in &cases {
        let writes = s.sub.writes().await;
        let (code, out, err) = s.bind(&["--workload", workload]);
        assert_eq!(code, 2, "{workload}\nstdout: {out}\nstderr: {err}");
        assert!(
            err.contains(instead),
            "{workload}: want '{instead}' in\n{err}"
        );
        assert_eq!(
            s.sub.writes().await,
            writes,
            "{workload}: nothing written to Azure"
        );
        assert!(
            s.sa().await.is_none(),
            "{workload}: nothing written to the cluster"
        );
        assert!(s.sub.credentials(s.id()).await.is_empty());
    }

    // The hint, followed: the Deployment takes it and rolls; its next step works as printed.
    let (code, out, err) = s.bind(&["--workload", "deploy/web", "-o", "json"]);
    let report = json_out(code, &out, &err);
    let step = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "workload")
        .unwrap();
    assert!(
        step["detail"].as_str().unwrap().contains("rolls the pods"),
        "{step}"
    );
    let next: Vec<&str> = report["next"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let watch = format!("`kubectl rollout status deploy/web -n {}`", s.ns);
    assert!(next.iter().any(|n| n.contains(&watch)), "{next:?}");
    let out = g
        .kubectl()
        .args([
            "rollout",
            "status",
            "deploy/web",
            "-n",
            &s.ns,
            "--timeout=60s",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{watch} as printed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doctor = format!("`kubectl azwi doctor deploy/web -n {}`", s.ns);
    assert!(next.iter().any(|n| n.contains(&doctor)), "{next:?}");
}

/// A CronJob's next Jobs take the change; it does not "roll" anything.
#[tokio::test]
async fn a_cronjob_is_bound_for_its_next_runs() {
    let g = Ground::get();
    let s = setup("cron").await;
    let cj: CronJob = serde_json::from_value(json!({
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template("nightly")}}}
    }))
    .unwrap();
    Api::<CronJob>::namespaced(g.client().await, &s.ns)
        .create(&PostParams::default(), &cj)
        .await
        .unwrap();
    let (code, out, err) = s.bind(&["--workload", "cronjob/nightly", "-o", "json"]);
    let report = json_out(code, &out, &err);
    let detail = step(&report, "workload")["detail"].as_str().unwrap();
    assert!(
        detail.contains("next Jobs") && !detail.contains("rolls the pods"),
        "{detail}"
    );
    let cj = Api::<CronJob>::namespaced(g.client().await, &s.ns)
        .get("nightly")
        .await
        .unwrap();
    let tpl = cj.spec.unwrap().job_template.spec.unwrap().template;
    assert_eq!(
        tpl.spec.unwrap().service_account_name.as_deref(),
        Some("workload-identity-sa")
    );
    assert!(
        !report["next"].to_string().contains("rollout status"),
        "nothing to watch roll: {}",
        report["next"]
    );
}

/// A Deployment running as `sa`, labelled for injection or not.
fn deployment_as(name: &str, sa: &str, labelled: bool) -> Deployment {
    let mut labels = json!({"app": name});
    if labelled {
        labels[keys::USE_LABEL] = json!("true");
    }
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": labels}, "spec": {"serviceAccountName": sa, "containers": [{"name": "oidc", "image": "ghcr.io/azure/azure-workload-identity/msal-go"}]}},
        }
    }))
    .unwrap()
}

/// Rebinding a ServiceAccount that running workloads use: the next steps name those workloads
/// (never a placeholder), and each, run as printed, does what it says.
#[tokio::test]
async fn next_steps_name_the_real_workloads_and_work_as_printed() {
    let g = Ground::get();
    let s = setup("next").await;
    let client = g.client().await;
    let old = "0f0e0d0c-0b0a-4908-8706-050403020100";
    Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(client.clone(), &s.ns)
        .create(
            &PostParams::default(),
            &crate::support::fixtures::service_account(
                "workload-identity-sa",
                &[(keys::CLIENT_ID_ANNOTATION, old)],
            ),
        )
        .await
        .unwrap();
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), &s.ns);
    for (name, labelled) in [("web", true), ("api", false)] {
        deploys
            .create(
                &PostParams::default(),
                &deployment_as(name, "workload-identity-sa", labelled),
            )
            .await
            .unwrap();
    }
    let pods: Api<Pod> = Api::namespaced(client, &s.ns);
    let first = super::wait_for_injected_pod(&pods).await;
    assert_eq!(
        mutation::observe(&first).containers[0].env_value(keys::ENV_CLIENT_ID),
        Some(old)
    );
    // The `api` pods exist too (unlabelled: not injected).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while pods
        .list(&ListParams::default().labels("app=api"))
        .await
        .unwrap()
        .items
        .is_empty()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "deploy/api made no pod"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let (code, out, err) = s.bind(&["-o", "json"]);
    let report = json_out(code, &out, &err);
    let next = report["next"].to_string();
    let restart = format!("kubectl rollout restart deploy/web -n {}", s.ns);
    assert!(next.contains(&restart), "{next}");
    assert!(next.contains("--workload deploy/api"), "{next}");
    assert!(!next.contains("NAME"), "no placeholder: {next}");

    // `kubectl rollout restart deploy/web -n NS`, as printed: the new pod has the new client id.
    let out = g
        .kubectl()
        .args(restart.split(' ').skip(1))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let fresh = pods
            .list(&ListParams::default().labels("app=web"))
            .await
            .unwrap()
            .items
            .into_iter()
            .any(|p| {
                p.metadata.deletion_timestamp.is_none()
                    && mutation::observe(&p).containers[0].env_value(keys::ENV_CLIENT_ID)
                        == Some(s.client_id())
            });
        if fresh {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no restarted pod with the new client id"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // `--workload deploy/api`, as printed: its template is labelled and rolls.
    let (code, out, err) = s.bind(&["--workload", "deploy/api", "-o", "json"]);
    let report = json_out(code, &out, &err);
    assert!(
        step(&report, "workload")["detail"]
            .as_str()
            .unwrap()
            .contains("rolls the pods"),
        "{report}"
    );
    let api = deploys.get("api").await.unwrap();
    let labels = api.spec.unwrap().template.metadata.unwrap().labels.unwrap();
    assert_eq!(labels[keys::USE_LABEL], "true");
}
