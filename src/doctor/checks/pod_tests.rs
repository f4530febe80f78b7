//! The pod checks on built facts: each way users break the pod side, and the hint each gets.

use std::collections::BTreeMap;

use serde_json::json;

use crate::{
    doctor::{
        Status,
        checks::testing::*,
        model::{Facts, Workload},
    },
    wi::{
        keys,
        mutation::{Layout, ValueRef, fixtures::mutated_pod},
        target::{Owner, Target},
        webhook::create_failures,
    },
};

#[test]
fn label_problems() {
    let mut f = bound();
    pod_mut(&mut f).metadata.labels = None;
    fails(&f, "pod-label", "then kubectl delete pod app -n ns");
    let mut f = bound();
    pod_mut(&mut f).metadata.labels =
        Some([(keys::USE_LABEL.to_string(), "True".to_string())].into());
    let v = verdict(&f, "pod-label");
    assert!(v.detail.contains("'True'"), "{v:?}");
    // Label on the Deployment object, not its template.
    let mut f = bound();
    f.target = Some(Target::parse("deploy/web").unwrap());
    let mut template = f.pod.clone().unwrap();
    template.metadata.labels = Some([("app".to_string(), "web".to_string())].into());
    f.workload = Ok(Workload {
        target: Target::parse("deploy/web").unwrap(),
        labels: [(keys::USE_LABEL.to_string(), "true".to_string())].into(),
        template,
    });
    let v = verdict(&f, "pod-label");
    assert_eq!(v.status, Status::Fail);
    assert!(v.detail.contains("not on its pod template"), "{v:?}");
    assert!(v.hint.unwrap().contains("kubectl patch deploy/web"));
}

#[test]
fn wrong_service_account() {
    let mut f = bound();
    pod_mut(&mut f).spec.as_mut().unwrap().service_account_name = Some("default".into());
    f.sa_name = Some("default".into());
    f.service_account = Ok(sa("default", &[]));
    fails(&f, "pod-service-account", "serviceAccountName: wi");
    assert_eq!(
        verdict(&f, "sa-client-id").status,
        Status::Skip,
        "one root cause, one failure"
    );
    // Owned by a Deployment: the template is patched, which rolls the pods.
    f.owner = Some(Owner::Rollout {
        target: Target::parse("deploy/web").unwrap(),
    });
    fails(
        &f,
        "pod-service-account",
        r#"kubectl patch deploy/web -n ns --type merge -p '{"spec":{"template":{"spec":{"serviceAccountName":"wi"}}}}'"#,
    );
}

#[test]
fn stale_pods() {
    // v1.6 injects no AZURE_CLIENT_ID without the annotation: the pod predates it.
    let mut f = bound();
    for c in &mut pod_mut(&mut f).spec.as_mut().unwrap().containers {
        c.env
            .as_mut()
            .unwrap()
            .retain(|e| e.name != keys::ENV_CLIENT_ID);
    }
    fails(&f, "pod-current", "kubectl delete pod app -n ns");
    assert_eq!(verdict(&f, "container-env").status, Status::Pass);
    assert_eq!(
        verdict(&f, "container-client-id").status,
        Status::Pass,
        "not blamed on the user"
    );
    // Injected from an older annotation (not in managedFields: the webhook's).
    let mut f = bound();
    set_env(
        pod_mut(&mut f),
        keys::ENV_CLIENT_ID,
        "22222222-2222-2222-2222-222222222222",
    );
    user_wrote(pod_mut(&mut f), "app", "X_UNRELATED");
    fails(&f, "pod-current", "kubectl delete pod app -n ns");
    assert_eq!(verdict(&f, "container-client-id").status, Status::Pass);
}

/// Item 11: a user-set AZURE_CLIENT_ID wins over the webhook's (addEnvironmentVariables only
/// appends missing names), so it is compared as the container has it, and a later write to
/// the service account that leaves client-id alone does not make the pod stale.
#[test]
fn user_set_client_ids_are_compared_as_the_container_has_them() {
    let other = "99999999-9999-4999-8999-999999999999";
    // Literal in the spec, pod older than the service account's last write by the same
    // manager that set client-id (its managedFields time moved): still the user's value.
    let mut f = bound();
    set_env(pod_mut(&mut f), keys::ENV_CLIENT_ID, other);
    user_wrote(pod_mut(&mut f), "app", keys::ENV_CLIENT_ID);
    f.app
        .as_mut()
        .unwrap()
        .env
        .insert(keys::ENV_CLIENT_ID.into(), other.into());
    pod_mut(&mut f).metadata.creation_timestamp =
        Some(serde_json::from_value(json!("2027-01-01T00:00:00Z")).unwrap());
    let mut s = sa("wi", &[(keys::CLIENT_ID_ANNOTATION, CID), ("team", "x")]);
    s.metadata.managed_fields = Some(vec![serde_json::from_value(json!({
        "manager": "kubectl-annotate", "operation": "Update", "time": "2027-01-10T00:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:annotations": {"f:azure.workload.identity/client-id": {}, "f:team": {}}}}
    })).unwrap()]);
    f.service_account = Ok(s);
    assert_eq!(verdict(&f, "pod-current").status, Status::Pass);
    fails(
        &f,
        "container-client-id",
        "Remove AZURE_CLIENT_ID from the spec of app",
    );
    assert_eq!(failing(&f), vec!["container-client-id"]);
    // valueFrom a ConfigMap, read in the container: its value is compared.
    let mut f = bound();
    let env = pod_mut(&mut f).spec.as_mut().unwrap().containers[0]
        .env
        .as_mut()
        .unwrap();
    env.retain(|e| e.name != keys::ENV_CLIENT_ID);
    env.push(serde_json::from_value(json!({"name": keys::ENV_CLIENT_ID, "valueFrom": {"configMapKeyRef": {"name": "ids", "key": "client"}}})).unwrap());
    f.app
        .as_mut()
        .unwrap()
        .env
        .insert(keys::ENV_CLIENT_ID.into(), other.into());
    let v = verdict(&f, "container-client-id");
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert!(
        v.detail
            .contains("from configmap ids key client, read in the container"),
        "{v:?}"
    );
    assert_eq!(
        verdict(&f, "pod-current").status,
        Status::Pass,
        "the user's, not stale"
    );
    // No shell: the Secret's value, read through the API.
    let mut f2 = f.clone();
    let env = pod_mut(&mut f2).spec.as_mut().unwrap().containers[0]
        .env
        .as_mut()
        .unwrap();
    env.retain(|e| e.name != keys::ENV_CLIENT_ID);
    env.push(serde_json::from_value(json!({"name": keys::ENV_CLIENT_ID, "valueFrom": {"secretKeyRef": {"name": "ids", "key": "client"}}})).unwrap());
    f2.app.as_mut().unwrap().no_shell =
        Some("exec: \"sh\": executable file not found in $PATH".into());
    let r = ValueRef::Secret {
        name: "ids".into(),
        key: "client".into(),
    };
    f2.refs = BTreeMap::from([(r, Ok(other.to_string()))]);
    let v = verdict(&f2, "container-client-id");
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert!(v.detail.contains("from secret ids key client"), "{v:?}");
    f2.refs.values_mut().for_each(|v| *v = Ok(CID.to_string()));
    assert_eq!(verdict(&f2, "container-client-id").status, Status::Pass);
}

fn two_containers(skip: Option<&str>) -> Facts {
    let mut f = bound();
    let pod = pod_mut(&mut f);
    let spec = pod.spec.as_mut().unwrap();
    let mut log = spec.containers[0].clone();
    log.name = "log-shipper".into();
    if skip == Some("app") {
        // Skipped: the webhook left app alone entirely.
        spec.containers[0].env = None;
        spec.containers[0].volume_mounts = None;
    }
    spec.containers.push(log);
    if let Some(s) = skip {
        pod.metadata.annotations =
            Some([(keys::SKIP_CONTAINERS_ANNOTATION.to_string(), s.to_string())].into());
    }
    f.container = Some("app".into());
    f
}

/// Item 12: every served container is checked, the app container is named, and skipping the
/// app while a sidecar gets the identity fails.
#[test]
fn several_containers() {
    let f = two_containers(None);
    let v = verdict(&f, "container-env");
    assert_eq!(v.status, Status::Pass, "{v:?}");
    assert!(
        v.detail
            .contains("(app, log-shipper); your code runs in app"),
        "{v:?}"
    );
    let mut f = two_containers(None);
    let c = &mut pod_mut(&mut f).spec.as_mut().unwrap().containers[1];
    c.env
        .as_mut()
        .unwrap()
        .retain(|e| e.name != keys::ENV_AUTHORITY_HOST);
    let v = verdict(&f, "container-env");
    assert!(
        v.detail.contains("log-shipper lacks AZURE_AUTHORITY_HOST"),
        "{v:?}"
    );
    let f = two_containers(Some("app"));
    let v = verdict(&f, "container-env");
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert!(
        v.detail
            .contains("app container app is in azure.workload.identity/skip-containers"),
        "{v:?}"
    );
    assert!(v.detail.contains("while log-shipper get(s) it"), "{v:?}");
    // A sidecar skipped on purpose is fine.
    let f = two_containers(Some("log-shipper"));
    let v = verdict(&f, "container-env");
    assert_eq!(v.status, Status::Pass, "{v:?}");
    assert!(
        v.detail.contains("skipped by annotation: log-shipper"),
        "{v:?}"
    );
}

/// Item 15: the webhook keeps a user-set AZURE_FEDERATED_TOKEN_FILE; recreating the pod as it
/// is changes nothing, so the hint says to remove it from the spec.
#[test]
fn hard_coded_token_file() {
    let mut f = bound();
    set_env(
        pod_mut(&mut f),
        keys::ENV_TOKEN_FILE,
        "/var/run/secrets/azure/tokens/azure-identity-token",
    );
    user_wrote(pod_mut(&mut f), "app", keys::ENV_TOKEN_FILE);
    f.token.as_mut().unwrap().jwt = Err(
        "cat: /var/run/secrets/azure/tokens/azure-identity-token: No such file or directory".into(),
    );
    let v = verdict(&f, "token-volume");
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert!(
        v.detail
            .contains("the path of webhook <= v1.5, set in the spec"),
        "{v:?}"
    );
    let hint = v.hint.unwrap();
    assert!(
        hint.starts_with("remove AZURE_FEDERATED_TOKEN_FILE from the spec of app"),
        "{hint}"
    );
    assert!(hint.contains("changes nothing"), "{hint}");
    assert_eq!(failing(&f), vec!["token-volume"], "one cause, one failure");
}

/// Item 20: a webhook run with --audience projects its audience; that is not wrong by itself.
#[test]
fn non_default_audience_is_read_from_the_volume() {
    let aud = "api://AzureADTokenExchangeUSGov";
    let mut f = bound();
    volume_source(&mut f).audience = Some(aud.into());
    f.token.as_mut().unwrap().jwt.as_mut().unwrap().claims.aud = vec![aud.into()];
    let v = verdict(&f, "token-volume");
    assert_eq!(v.status, Status::Pass, "{v:?}");
    assert!(v.detail.contains(aud), "{v:?}");
    assert_eq!(verdict(&f, "token-claims").status, Status::Pass);
    // The credential must list it.
    let v = verdict(&f, "azure-credential");
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert!(v.detail.contains(aud), "{v:?}");
    let mut c = cred(ISS, "system:serviceaccount:ns:wi");
    c.audiences = vec![aud.into()];
    set_credentials(&mut f, vec![c]);
    assert_eq!(verdict(&f, "azure-credential").status, Status::Pass);
    assert!(failing(&f).is_empty(), "{:?}", failing(&f));
}

/// Item 22: a never-mutated pod fails pod-mutated only.
#[test]
fn a_never_mutated_pod_is_one_failure() {
    let mut f = bound();
    let spec = pod_mut(&mut f).spec.as_mut().unwrap();
    spec.volumes = None;
    for c in &mut spec.containers {
        c.env = None;
        c.volume_mounts = None;
    }
    f.app.as_mut().unwrap().env.clear();
    let t = f.token.as_mut().unwrap();
    t.file = None;
    t.jwt = Err("no AZURE_FEDERATED_TOKEN_FILE".into());
    t.signature = Err(crate::doctor::model::Gap::not_asked("no token"));
    f.exchange = Err(crate::doctor::model::Gap::not_asked("no token was read"));
    assert_eq!(failing(&f), vec!["pod-mutated"]);
}

/// Item 16: the recreate hint names the real owner.
#[test]
fn recreate_hints_name_the_real_owner() {
    let mut f = bound();
    pod_mut(&mut f).spec.as_mut().unwrap().volumes = None;
    f.owner = Some(Owner::from_controller(
        Some(("ReplicaSet", "web-7c9d")),
        Some(("Deployment", "web")),
        None,
    ));
    fails(
        &f,
        "pod-mutated",
        "kubectl rollout restart deploy/web -n ns",
    );
    f.owner = Some(Owner::Bare);
    let v = verdict(&f, "pod-mutated");
    let hint = v.hint.unwrap();
    assert!(
        hint.starts_with("kubectl delete pod app -n ns, then create it again from its manifest"),
        "{hint}"
    );
    assert!(!hint.contains("-o yaml"), "{hint}");
}

fn denied(f: &mut Facts, rs: &str, reason: &str) {
    let ev = [serde_json::from_value(json!({"metadata": {"name": rs}, "reason": "FailedCreate", "count": 12,
        "involvedObject": {"kind": "ReplicaSet", "name": rs}, "lastTimestamp": "2027-01-15T07:59:00Z",
        "message": format!("Error creating: admission webhook \"mutation.azure-workload-identity.io\" denied the request: {reason}")}))
    .unwrap()];
    f.create_failures = Ok(create_failures(&ev, NOW));
}

/// Item 13: a workload whose pods the webhook rejects is diagnosed from its ReplicaSet's events.
#[test]
fn rejected_pods_are_diagnosed_from_events() {
    let mut f = bound();
    f.target = Some(Target::parse("deploy/web").unwrap());
    let mut template = f.pod.clone().unwrap();
    template.metadata.annotations = Some(
        [(
            keys::INJECT_PROXY_ANNOTATION.to_string(),
            "true".to_string(),
        )]
        .into(),
    );
    f.workload = Ok(Workload {
        target: Target::parse("deploy/web").unwrap(),
        labels: BTreeMap::new(),
        template,
    });
    f.workload_objects = vec![
        ("Deployment".into(), "web".into()),
        ("ReplicaSet".into(), "web-7c9d".into()),
    ];
    f.pod = Err(crate::doctor::model::Gap::NotFound);
    denied(
        &mut f,
        "web-7c9d",
        "hostNetwork is set to true, cannot inject proxy sidecar",
    );
    let v = verdict(&f, "pod-admitted");
    assert_eq!(v.status, Status::Fail, "{v:?}");
    assert!(
        v.detail
            .contains("ReplicaSet web-7c9d cannot create pods (12x"),
        "{v:?}"
    );
    assert!(
        v.hint
            .unwrap()
            .contains("azure.workload.identity~1inject-proxy-sidecar"),
        "the JSON pointer escapes '/'"
    );
    assert_eq!(verdict(&f, "webhook-calls").status, Status::Pass);
    // Token expiration: sa-token-expiration names it; pod-admitted points there.
    let mut g = f.clone();
    g.workload.as_mut().unwrap().template.metadata.annotations = Some(
        [(
            keys::TOKEN_EXPIRATION_ANNOTATION.to_string(),
            "600".to_string(),
        )]
        .into(),
    );
    denied(
        &mut g,
        "web-7c9d",
        "token expiration 600 not valid. Expected value to be between 3600 and 86400",
    );
    assert_eq!(verdict(&g, "pod-admitted").status, Status::Skip);
    assert_eq!(failing(&g), vec!["sa-token-expiration"]);
    // Another workload's denial is not this one's.
    f.workload_objects.truncate(1);
    assert_eq!(verdict(&f, "pod-admitted").status, Status::Pass);
}

#[test]
fn unmutated_and_env_problems() {
    let mut f = bound();
    pod_mut(&mut f).spec.as_mut().unwrap().volumes = None;
    fails(&f, "pod-mutated", "kubectl delete pod app -n ns");
    let mut f = bound();
    let c = &mut pod_mut(&mut f).spec.as_mut().unwrap().containers[0];
    c.env
        .as_mut()
        .unwrap()
        .retain(|e| e.name != keys::ENV_AUTHORITY_HOST);
    fails(&f, "container-env", "skip-containers");
    let mut f = bound();
    volume_source(&mut f).audience = None;
    fails(&f, "token-volume", "kubectl delete pod app -n ns");
    // Legacy layout passes and is named.
    let mut f = bound();
    let mut p = mutated_pod(Layout::Legacy);
    p.metadata = f.pod.as_ref().unwrap().metadata.clone();
    p.spec.as_mut().unwrap().service_account_name = Some("wi".into());
    set_env(&mut p, keys::ENV_CLIENT_ID, CID);
    f.pod = Ok(p);
    let v = verdict(&f, "token-volume");
    assert_eq!(v.status, Status::Pass, "{v:?}");
    assert!(v.detail.contains("<= v1.5"));
}
