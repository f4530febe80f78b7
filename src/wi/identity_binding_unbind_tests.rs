use super::*;
use crate::wi::{keys, target::Target, workload::Rollout};
use serde_json::json;

const CLIENT: &str = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9";
const IDENTITY: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app";
const CLUSTER: &str =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1";

fn crb(name: &str, role: &str, owned: bool, subjects: Value) -> Value {
    let mut v = json!({"metadata": {"name": name, "resourceVersion": "7"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}, "subjects": subjects});
    if owned {
        v["metadata"]["labels"] = json!({ib::OWNER_LABEL: CLIENT});
    }
    v
}

fn sa(ns: &str, name: &str) -> Value {
    json!({"kind": "ServiceAccount", "name": name, "namespace": ns})
}

#[test]
fn workload_loses_label_and_annotation_only() {
    let web = Target::parse("deploy/web").unwrap();
    let plan = |tpl| WorkloadPlan {
        target: &web,
        namespace: "ns",
        template: tpl,
        rollout: &Rollout::Rolls,
    };
    let bound = json!({"metadata": {"labels": {"app": "web", keys::USE_LABEL: "true"}, "annotations": {ANNOTATION: "true", "team": "x"}}, "spec": {"serviceAccountName": "sa"}});
    let s = workload_step(&plan(Some(&bound)), "sa");
    assert_eq!(s.action, Action::Update);
    let tpl = &s.body.as_ref().unwrap()["spec"]["template"];
    assert_eq!(tpl["metadata"]["labels"][keys::USE_LABEL], Value::Null);
    assert_eq!(tpl["metadata"]["annotations"][ANNOTATION], Value::Null);
    assert!(
        tpl["metadata"]["annotations"].get("team").is_none()
            && tpl["metadata"]["labels"].get("app").is_none()
            && tpl.get("spec").is_none(),
        "only bind's keys are in the patch: {tpl}"
    );
    // "false" does not opt in (the webhook compares with "true"): not bind's, left.
    let theirs = json!({"metadata": {"annotations": {ANNOTATION: "false"}}});
    assert_eq!(
        workload_step(&plan(Some(&theirs)), "sa").action,
        Action::Unchanged
    );
    // Annotation only (the label was someone else's and went already): it goes alone.
    let ann = json!({"metadata": {"annotations": {ANNOTATION: "TRUE"}}});
    let s = workload_step(&plan(Some(&ann)), "sa");
    assert_eq!(s.action, Action::Update);
    assert!(s.detail.contains("rolls the pods"), "{}", s.detail);
}

#[test]
fn subjects_and_grants_that_keep_the_identity_in_use() {
    let own = ib::rbac_name(CLIENT);
    let two = crb(&own, &own, true, json!([sa("ns", "web"), sa("ns", "api")]));
    assert_eq!(
        other_subjects(Some(&two), "ns", "web"),
        ["serviceaccount ns/api"]
    );
    let theirs = crb(&own, &own, false, json!([sa("ns", "api")]));
    assert!(other_subjects(Some(&theirs), "ns", "web").is_empty());

    // A binding of the user's own, through a role granting the same client id, keeps the
    // identity in use; one through a role naming the principal id grants nothing (the
    // resource is the client id: identity-bindings.md).
    let role = |name: &str, res: &str| json!({"metadata": {"name": name}, "rules": [{"apiGroups": [ib::API_GROUP], "resources": [res], "verbs": [ib::VERB]}]});
    let roles = [
        role(&own, CLIENT),
        role("mine", CLIENT),
        role("wrong", "9a8b7c6d-5e4f-4031-9213-8c7d6e5f4a3b"),
        // cluster-admin's rule (`*` everywhere), bound to system:masters on every cluster.
        json!({"metadata": {"name": "cluster-admin"}, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
    ];
    let bindings = [
        crb(&own, &own, true, json!([sa("ns", "web")])),
        crb("mine", "mine", false, json!([sa("other", "x")])),
        crb("wrong", "wrong", false, json!([sa("other", "y")])),
        crb("empty", "mine", false, json!([])),
        crb("reuse", &own, false, json!([sa("other", "z")])),
        crb(
            "cluster-admin",
            "cluster-admin",
            false,
            json!([{"kind": "Group", "name": "system:masters"}]),
        ),
        crb(
            "users",
            "mine",
            false,
            json!([{"kind": "User", "name": "alice"}]),
        ),
    ];
    assert_eq!(
        other_grants(&roles, &bindings, CLIENT),
        ["clusterrolebinding mine", "clusterrolebinding reuse"]
    );
    assert_eq!(
        role_references(&bindings, CLIENT),
        ["clusterrolebinding reuse"]
    );
}

#[test]
fn cluster_role_goes_with_the_last_subject_unless_referred_to() {
    let own = ib::rbac_name(CLIENT);
    let ours = ib::cluster_role(CLIENT);
    let s = cluster_role_step(Some(&ours), CLIENT, &[], &[]);
    assert_eq!(s.action, Action::Delete);
    assert_eq!(s.op, Some(Op::ClusterRole { name: own }));
    let kept = cluster_role_step(Some(&ours), CLIENT, &["serviceaccount ns/api".into()], &[]);
    assert_eq!(kept.action, Action::Unchanged);
    assert!(kept.detail.contains("ns/api"), "{}", kept.detail);
    let referred = cluster_role_step(Some(&ours), CLIENT, &[], &["clusterrolebinding x".into()]);
    assert_eq!(referred.action, Action::Unchanged);
    let theirs = json!({"metadata": {"name": "x"}, "rules": []});
    assert_eq!(
        cluster_role_step(Some(&theirs), CLIENT, &[], &[]).action,
        Action::Unchanged,
        "a role the plugin did not make is never deleted"
    );
    assert_eq!(
        cluster_role_step(None, CLIENT, &[], &[]).action,
        Action::Unchanged
    );
}

#[test]
fn arm_binding_goes_when_no_one_keeps_it() {
    let fact = |state: &str| BindingFact {
        name: "app1a2b3c4d".into(),
        identity_id: IDENTITY.to_ascii_uppercase(),
        state: state.into(),
    };
    let s = binding_step(&[fact("Succeeded")], IDENTITY, CLUSTER, &[]);
    assert_eq!(s.action, Action::Delete);
    assert_eq!(
        s.op,
        Some(Op::DeleteIdentityBinding {
            path: format!("{CLUSTER}/identityBindings/app1a2b3c4d"),
            send: true
        })
    );
    // A Failed binding is deleted too: it serves nothing.
    assert_eq!(
        binding_step(&[fact("Failed")], IDENTITY, CLUSTER, &[]).action,
        Action::Delete
    );
    let waiting = binding_step(&[fact("Deleting")], IDENTITY, CLUSTER, &[]);
    assert!(matches!(
        waiting.op,
        Some(Op::DeleteIdentityBinding { send: false, .. })
    ));
    let kept = binding_step(
        &[fact("Succeeded")],
        IDENTITY,
        CLUSTER,
        &["serviceaccount ns/api".into()],
    );
    assert_eq!(kept.action, Action::Unchanged);
    assert!(kept.detail.contains("ns/api"), "{}", kept.detail);
    let other = BindingFact {
        identity_id: "/x/other".into(),
        ..fact("Succeeded")
    };
    assert_eq!(
        binding_step(&[other], IDENTITY, CLUSTER, &[]).action,
        Action::Unchanged
    );
}

#[test]
fn managed_credential_goes_only_when_no_binding_anywhere_uses_it() {
    let managed = Credential {
        name: MANAGED_CREDENTIAL.into(),
        issuer: format!("{}t/{CLIENT}", ib::ISSUER_PREFIX),
        subject: "opaque".into(),
        audiences: vec!["opaque".into()],
    };
    let creds = [managed];
    let elsewhere = [BindingUse {
        cluster: "rg2/aks2".into(),
        name: "app9".into(),
    }];
    let u = |kept_here, elsewhere, unknown| CredentialUse {
        kept_here,
        elsewhere,
        unknown,
        subscription: "s",
    };
    let s = managed_credential_step("app", &creds, &u(false, &[], &[]));
    assert_eq!(s.action, Action::Delete);
    assert_eq!(
        s.op,
        Some(Op::DeleteCredential {
            name: MANAGED_CREDENTIAL.into()
        })
    );
    let kept = managed_credential_step("app", &creds, &u(false, &elsewhere, &[]));
    assert_eq!(kept.action, Action::Unchanged);
    assert!(
        kept.detail
            .contains("identity binding app9 on cluster rg2/aks2"),
        "names the binding that keeps it: {}",
        kept.detail
    );
    assert_eq!(
        managed_credential_step("app", &creds, &u(true, &[], &[])).action,
        Action::Unchanged
    );
    let unknown = ["rg3/aks3".to_string()];
    assert_eq!(
        managed_credential_step("app", &creds, &u(false, &[], &unknown)).action,
        Action::Unchanged,
        "a cluster whose bindings could not be read may still use it"
    );
    assert_eq!(
        managed_credential_step("app", &[], &u(false, &[], &[])).action,
        Action::Unchanged
    );
}
