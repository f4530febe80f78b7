use super::*;
use crate::wi::{target::Target, workload::Rollout};

const CLIENT: &str = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9";
const PRINCIPAL: &str = "9a8b7c6d-5e4f-4031-9213-8c7d6e5f4a3b";

/// data/azure-api/aks-identity-bindings/k8s-rbac-use-managed-identity.yaml, the shape
/// MicrosoftDocs azure-aks-docs identity-bindings.md shows.
fn doc_role(resource: &str) -> Value {
    json!({"rules": [{"apiGroups": ["cid.wi.aks.azure.com"], "resources": [resource], "verbs": ["use-managed-identity"]}]})
}

#[test]
fn binding_names_conform_to_the_spec_pattern() {
    for (name, id) in [
        (
            "mi-payments",
            "/subscriptions/s/resourceGroups/rg/providers/x/mi-payments",
        ),
        ("9lives", "/x/9lives"),
        ("ÄÖ_weird.Name-01", "/x/y"),
        (&"a".repeat(200), "/x/long"),
        ("", "/x/empty"),
    ] {
        let n = binding_name(name, id);
        assert!(is_binding_name(&n), "{n}");
    }
    assert_ne!(
        binding_name("app", "/subscriptions/s/resourceGroups/rg1/x/app"),
        binding_name("app", "/subscriptions/s/resourceGroups/rg2/x/app"),
        "two identities of one name get two bindings"
    );
    assert_eq!(
        binding_name("app", "/A/B"),
        binding_name("app", "/a/b"),
        "ARM ids are case-insensitive"
    );
    // [DOC] uses `${MI_NAME}-ib`: a hyphen the spec pattern does not allow.
    assert!(!is_binding_name("mi-payments-ib"));
    assert!(is_binding_name("mipayments"));
}

#[test]
fn the_grant_is_on_the_client_id_not_the_principal_id() {
    assert!(grants(&doc_role(CLIENT), CLIENT));
    assert!(!grants(&doc_role(PRINCIPAL), CLIENT));
    assert_eq!(named_resources(&doc_role(PRINCIPAL)), [PRINCIPAL]);
    let wrong_verb =
        json!({"rules": [{"apiGroups": [API_GROUP], "resources": [CLIENT], "verbs": ["get"]}]});
    assert!(!grants(&wrong_verb, CLIENT));
    let wildcard = json!({"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]});
    assert!(grants(&wildcard, CLIENT), "cluster-admin's rule grants it");
    assert!(grants(&cluster_role(CLIENT), CLIENT));
}

#[test]
fn cluster_role_is_created_once_and_only_ours_is_changed() {
    let s = cluster_role_step(None, CLIENT).unwrap();
    assert_eq!(s.action, Action::Create);
    let mut made = s.body.unwrap();
    assert_eq!(made["metadata"]["labels"][OWNER_LABEL], CLIENT);
    made["metadata"]["resourceVersion"] = json!("7");
    assert_eq!(
        cluster_role_step(Some(&made), CLIENT).unwrap().action,
        Action::Unchanged
    );
    // Hand-edited to the principal id: put back, guarded by the version read.
    let mut edited = made.clone();
    edited["rules"][0]["resources"] = json!([PRINCIPAL]);
    let fix = cluster_role_step(Some(&edited), CLIENT).unwrap();
    assert_eq!(fix.action, Action::Update);
    let patch = fix.body.unwrap();
    assert_eq!(patch["metadata"]["resourceVersion"], "7");
    assert_eq!(patch["rules"][0]["resources"], json!([CLIENT]));
    // Someone else's object under that name is left alone.
    let theirs = json!({"metadata": {"name": rbac_name(CLIENT)}, "rules": []});
    assert_eq!(
        cluster_role_step(Some(&theirs), CLIENT),
        Err(NotOurs {
            kind: "clusterrole",
            name: rbac_name(CLIENT)
        })
    );
}

#[test]
fn binding_subjects_are_added_and_others_kept() {
    let s = cluster_role_binding_step(None, CLIENT, "ns", "sa").unwrap();
    assert_eq!(s.action, Action::Create);
    let mut made = s.body.unwrap();
    assert_eq!(made["roleRef"]["name"], rbac_name(CLIENT));
    assert_eq!(
        made["subjects"],
        json!([{"kind": "ServiceAccount", "name": "sa", "namespace": "ns"}])
    );
    made["metadata"]["resourceVersion"] = json!("3");
    assert_eq!(
        cluster_role_binding_step(Some(&made), CLIENT, "ns", "sa")
            .unwrap()
            .action,
        Action::Unchanged
    );
    let add = cluster_role_binding_step(Some(&made), CLIENT, "other", "api").unwrap();
    assert_eq!(add.action, Action::Update);
    let patch = add.body.unwrap();
    assert_eq!(patch["subjects"].as_array().unwrap().len(), 2);
    assert_eq!(
        patch["subjects"][0]["namespace"], "ns",
        "the first subject kept"
    );
    assert_eq!(patch["metadata"]["resourceVersion"], "3");

    // Unbind takes one subject out, and the whole binding with the last one.
    let mut two = made.clone();
    two["subjects"] = patch["subjects"].clone();
    let out = cluster_role_binding_unbind_step(Some(&two), CLIENT, "ns", "sa");
    assert_eq!(out.action, Action::Update);
    assert_eq!(out.body.unwrap()["subjects"][0]["name"], "api");
    let last = cluster_role_binding_unbind_step(Some(&made), CLIENT, "ns", "sa");
    assert_eq!(last.action, Action::Delete);
    assert_eq!(
        cluster_role_binding_unbind_step(Some(&made), CLIENT, "ns", "nobody").action,
        Action::Unchanged
    );
}

#[test]
fn group_and_user_subjects_name_the_service_account() {
    let g = json!([{"kind": "Group", "name": "system:serviceaccounts:ns"}]);
    assert!(names_service_account(Some(&g), "ns", "sa"));
    assert!(!names_service_account(Some(&g), "other", "sa"));
    let u = json!([{"kind": "User", "name": "system:serviceaccount:ns:sa"}]);
    assert!(names_service_account(Some(&u), "ns", "sa"));
    let wrong_ns = json!([{"kind": "ServiceAccount", "name": "sa", "namespace": "default"}]);
    assert!(!names_service_account(Some(&wrong_ns), "ns", "sa"));
}

#[test]
fn workload_gets_label_service_account_and_annotation() {
    let web = Target::parse("deploy/web").unwrap();
    let plan = |tpl| WorkloadPlan {
        target: &web,
        namespace: "ns",
        template: tpl,
        rollout: &Rollout::Rolls,
    };
    let bare = json!({"metadata": {"labels": {"app": "web"}}, "spec": {}});
    let s = workload_step(&plan(Some(&bare)), "sa");
    assert_eq!(s.action, Action::Update);
    let tpl = &s.body.as_ref().unwrap()["spec"]["template"];
    assert_eq!(tpl["metadata"]["annotations"][ANNOTATION], "true");
    assert_eq!(tpl["metadata"]["labels"][keys::USE_LABEL], "true");
    assert_eq!(tpl["spec"]["serviceAccountName"], "sa");
    // Labelled already (a classic binding): only the annotation is added.
    let labelled = json!({"metadata": {"labels": {keys::USE_LABEL: "true"}}, "spec": {"serviceAccountName": "sa"}});
    let s = workload_step(&plan(Some(&labelled)), "sa");
    assert_eq!(s.action, Action::Update);
    let tpl = &s.body.as_ref().unwrap()["spec"]["template"];
    assert!(tpl["metadata"].get("labels").is_none(), "{tpl}");
    assert!(s.detail.contains("rolls the pods"), "{}", s.detail);
    let mut done = labelled.clone();
    done["metadata"]["annotations"] = json!({ANNOTATION: "True"});
    assert_eq!(
        workload_step(&plan(Some(&done)), "sa").action,
        Action::Unchanged,
        "the webhook compares case-insensitively"
    );
}

#[test]
fn room_for_the_managed_credential() {
    let c = |name: &str| Credential {
        name: name.into(),
        issuer: "https://i/".into(),
        subject: format!("s-{name}"),
        audiences: vec![keys::AUDIENCE.into()],
    };
    assert_eq!(credential_room(&[]), Ok(false));
    let mut full: Vec<Credential> = (0..20).map(|i| c(&format!("c{i}"))).collect();
    assert_eq!(credential_room(&full).unwrap_err().len(), 20);
    full[3] = c(MANAGED_CREDENTIAL);
    assert_eq!(
        credential_room(&full),
        Ok(true),
        "already there: no new slot"
    );
}

#[test]
fn vnet_integration_is_refused() {
    let mc = json!({"properties": {"apiServerAccessProfile": {"enableVnetIntegration": true}}});
    assert!(cluster_refusal(&mc).unwrap().contains("VNet integration"));
    assert_eq!(cluster_refusal(&json!({"properties": {}})), None);
}

#[test]
fn an_existing_binding_is_reused_whatever_its_name() {
    let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi";
    let fact = |state: &str| BindingFact {
        name: "handmade".into(),
        identity_id: id.to_uppercase(),
        state: state.into(),
    };
    let s = binding_step(&[fact("Succeeded")], id, "/c", "mi1234", true);
    assert_eq!(
        (s.action, s.target.as_str()),
        (Action::Unchanged, "identity binding handmade")
    );
    let s = binding_step(&[fact("Succeeded")], id, "/c", "mi1234", false);
    assert_eq!(
        s.action,
        Action::Update,
        "AKS's credential deleted by hand: put again"
    );
    let s = binding_step(&[fact("Failed")], id, "/c", "mi1234", true);
    assert_eq!(s.action, Action::Update);
    assert_eq!(
        s.op,
        Some(Op::IdentityBinding {
            path: "/c/identityBindings/handmade".into(),
            put: true
        })
    );
    let s = binding_step(&[fact("Creating")], id, "/c", "mi1234", true);
    assert!(matches!(s.op, Some(Op::IdentityBinding { put: false, .. })));
    let s = binding_step(&[], id, "/c", "mi1234", false);
    assert_eq!(s.action, Action::Create);
    assert_eq!(
        s.body.unwrap(),
        json!({"properties": {"managedIdentity": {"resourceId": id}}})
    );
}

#[test]
fn entra_refusals_of_the_binding_token_mean_no_proxy_opt_in() {
    // The 700212 text as azure-sdk-for-js TROUBLESHOOTING.md quotes it.
    let d = "AADSTS700212: No matching federated identity record found for presented assertion audience 'api://AKSIdentityBinding'.";
    let why = sdk_without_proxy(700212, d, None).unwrap();
    assert!(
        why.contains("azure-identity >= 1.27.0") && why.contains("enable_proxy"),
        "{why}"
    );
    assert!(sdk_without_proxy(700211, "AADSTS700211: No matching federated identity record found for presented assertion issuer", Some(AUDIENCE)).is_some());
    // The classic token's refusals keep their classic meaning.
    assert_eq!(
        sdk_without_proxy(700211, "AADSTS700211: issuer", Some(keys::AUDIENCE)),
        None
    );
    assert_eq!(sdk_without_proxy(70021, d, None), None);
}
