//! `bind --identity-binding` (issue 13): the ARM identity binding (long-running PUT, polled),
//! AKS's shared credential, the ClusterRole/ClusterRoleBinding granting `use-managed-identity`
//! on the CLIENT id, the ServiceAccount and the pod annotation; idempotent, previewable, and
//! refused with the reason where identity bindings do not apply. Expected shapes come from
//! MicrosoftDocs azure-aks-docs identity-bindings.md (RBAC, annotation) and the 2026-04-01 spec
//! examples vendored under tests/azure-emulator/data/azure-api/aks-identity-bindings/.

use k8s_openapi::api::{
    apps::v1::Deployment,
    rbac::v1::{ClusterRole, ClusterRoleBinding},
};
use kube::{Api, api::PostParams};
use kubectl_azwi::wi::{identity_binding as ib, keys};
use serde_json::{Value, json};

use super::{Setup, actions, deployment, json_out, setup, step};
use crate::support::Ground;

/// The ground's API server as an AKS cluster `rg/aks1`, its operations taking `op_seconds`.
pub(super) async fn aks(s: &Setup, op_seconds: f64) {
    s.sub.ground_as_aks("rg", "aks1").await;
    s.sub
        .control(
            "PUT",
            "settings",
            Some(json!({"asyncOperationSeconds": op_seconds, "retryAfterSeconds": 1})),
        )
        .await;
}

pub(super) fn cluster_path(s: &Setup) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1",
        s.sub.id
    )
}

pub(super) async fn bindings(s: &Setup) -> Vec<Value> {
    let (st, v) = s
        .sub
        .arm(
            "GET",
            &format!(
                "{}/identityBindings?api-version=2026-04-01",
                cluster_path(s)
            ),
            None,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    v["value"].as_array().unwrap().clone()
}

pub(super) async fn rbac(client_id: &str) -> (Option<ClusterRole>, Option<ClusterRoleBinding>) {
    let c = Ground::get().client().await;
    let name = ib::rbac_name(client_id);
    (
        Api::<ClusterRole>::all(c.clone())
            .get_opt(&name)
            .await
            .unwrap(),
        Api::<ClusterRoleBinding>::all(c)
            .get_opt(&name)
            .await
            .unwrap(),
    )
}

fn kinds(report: &Value) -> Vec<(String, String, String)> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let f = |k: &str| s[k].as_str().unwrap().to_string();
            (f("kind"), f("action"), f("target"))
        })
        .collect()
}

#[tokio::test]
async fn identity_binding_bind_makes_every_piece_once_and_dry_run_shows_it() {
    let s = setup("ib-bind").await;
    aks(&s, 2.0).await;
    let client = Ground::get().client().await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), &s.ns);
    deploys
        .create(&PostParams::default(), &deployment("web"))
        .await
        .unwrap();
    let args = [
        "--identity-binding",
        "--workload",
        "deploy/web",
        "-o",
        "json",
    ];

    let before = s.sub.writes().await;
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let (code, out, err) = s.bind(&dry);
    let plan = json_out(code, &out, &err);
    assert_eq!(
        s.sub.writes().await,
        before,
        "a dry run writes nothing to Azure"
    );
    assert_eq!(rbac(s.client_id()).await, (None, None));
    assert!(s.sa().await.is_none());
    let binding_step = step(&plan, "identityBinding");
    assert_eq!(
        binding_step["body"],
        json!({"properties": {"managedIdentity": {"resourceId": s.id()}}}),
        "the exact ARM body (IdentityBindings_CreateOrUpdate.json's shape)"
    );

    let (code, out, err) = s.bind(&args);
    let report = json_out(code, &out, &err);
    assert_eq!(
        actions(&report),
        [
            ("identity", "unchanged"),
            ("identityBinding", "create"),
            ("federatedCredential", "create"),
            ("clusterRole", "create"),
            ("clusterRoleBinding", "create"),
            ("serviceAccount", "create"),
            ("workload", "update"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(kinds(&plan), kinds(&report), "the plan is what the run did");
    // The operation ran 2 s with Retry-After 1: bind polled it, then read the binding back.
    let detail = report["steps"][1]["detail"].as_str().unwrap();
    assert!(detail.starts_with("Succeeded after "), "{detail}");
    assert!(!detail.starts_with("Succeeded after 0 poll"), "{detail}");

    // Azure: one binding of this identity, Succeeded; AKS's one credential on the identity.
    let list = bindings(&s).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["properties"]["provisioningState"], "Succeeded");
    assert!(ib::is_binding_name(list[0]["name"].as_str().unwrap()));
    let creds = s.sub.credentials(s.id()).await;
    assert_eq!(creds.len(), 1, "{creds:?}");
    assert_eq!(creds[0]["name"], ib::MANAGED_CREDENTIAL);
    // Per-identity issuer `https://ib.oic.prod-aks.azure.com/<tenant>/<client id>` (az CLI live
    // test test_identity_binding_usages checks the `/{tenant}/{client}` end).
    let want_issuer = format!(
        "{}{}/{}",
        ib::ISSUER_PREFIX,
        s.identity["properties"]["tenantId"].as_str().unwrap(),
        s.client_id()
    );
    assert_eq!(report["issuer"]["value"], want_issuer.as_str());

    // Kubernetes: the grant names the CLIENT id, the SA is its subject, the pods opt in.
    let (role, crb) = rbac(s.client_id()).await;
    let role = role.expect("ClusterRole");
    let rule = &role.rules.unwrap()[0];
    assert_eq!(
        rule.api_groups.as_deref(),
        Some(&[ib::API_GROUP.to_string()][..])
    );
    assert_eq!(
        rule.resources.as_deref(),
        Some(&[s.client_id().to_string()][..])
    );
    assert_eq!(rule.verbs, [ib::VERB.to_string()]);
    let subjects = crb.expect("ClusterRoleBinding").subjects.unwrap();
    assert_eq!(subjects.len(), 1);
    assert_eq!(
        (
            subjects[0].kind.as_str(),
            subjects[0].name.as_str(),
            subjects[0].namespace.as_deref()
        ),
        (
            "ServiceAccount",
            "workload-identity-sa",
            Some(s.ns.as_str())
        )
    );
    let sa = s.sa().await.unwrap();
    assert_eq!(
        sa.metadata.annotations.unwrap()[keys::CLIENT_ID_ANNOTATION],
        s.client_id()
    );
    let tpl = deploys.get("web").await.unwrap().spec.unwrap().template;
    let meta = tpl.metadata.unwrap();
    assert_eq!(meta.annotations.unwrap()[ib::ANNOTATION], "true");
    assert_eq!(meta.labels.unwrap()[keys::USE_LABEL], "true");

    // Again: nothing written anywhere.
    let writes = s.sub.writes().await;
    // The generation moves only with the spec (the controller keeps updating the status).
    let versions = |d: &Deployment| d.metadata.generation;
    let d_rv = versions(&deploys.get("web").await.unwrap());
    let (r1, b1) = rbac(s.client_id()).await;
    let (code, out, err) = s.bind(&args);
    let again = json_out(code, &out, &err);
    assert!(
        actions(&again).iter().all(|(_, a)| a == "unchanged"),
        "{again}"
    );
    assert_eq!(s.sub.writes().await, writes, "no ARM write on re-run");
    assert_eq!(versions(&deploys.get("web").await.unwrap()), d_rv);
    let (r2, b2) = rbac(s.client_id()).await;
    assert_eq!(
        (
            r1.unwrap().metadata.resource_version,
            b1.unwrap().metadata.resource_version
        ),
        (
            r2.unwrap().metadata.resource_version,
            b2.unwrap().metadata.resource_version
        )
    );
}

#[tokio::test]
async fn identity_binding_second_service_account_joins_and_others_are_kept() {
    let s = setup("ib-two").await;
    aks(&s, 0.0).await;
    let (code, out, err) = s.bind(&["--identity-binding", "-o", "json"]);
    json_out(code, &out, &err);
    let writes = s.sub.writes().await;
    let (code, out, err) = s.bind_sa("api", &["--identity-binding", "-o", "json"], &s.sub.env());
    let report = json_out(code, &out, &err);
    assert_eq!(
        &actions(&report)[1..5],
        [
            ("identityBinding", "unchanged"),
            ("federatedCredential", "unchanged"),
            ("clusterRole", "unchanged"),
            ("clusterRoleBinding", "update"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(
        s.sub.writes().await,
        writes,
        "the binding is reused: no ARM write"
    );
    let (_, crb) = rbac(s.client_id()).await;
    let names: Vec<String> = crb
        .unwrap()
        .subjects
        .unwrap()
        .into_iter()
        .map(|x| x.name)
        .collect();
    assert_eq!(names, ["workload-identity-sa", "api"]);
}

#[tokio::test]
async fn identity_binding_refusals_write_nothing() {
    let s = setup("ib-refuse").await;
    // No AKS cluster has this API server: refused, one line, exit 2, nothing written.
    let before = s.sub.writes().await;
    let (code, _, err) = s.bind(&["--identity-binding"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("an AKS cluster"), "{err}");
    assert_eq!(err.trim().lines().count(), 2, "cause and hint: {err}");
    assert_eq!(s.sub.writes().await, before);
    assert!(s.sa().await.is_none());

    aks(&s, 0.0).await;
    // An app registration's client id: identity bindings take user-assigned identities only.
    let admin = s
        .sub
        .graph_principal("Owner", &["Application.ReadWrite.All"])
        .await;
    let (st, app) = s
        .sub
        .graph(
            &admin,
            "POST",
            "/v1.0/applications",
            Some(json!({"displayName": "ib-app"})),
        )
        .await;
    assert_eq!(st, 201, "{app}");
    let app_id = app["appId"].as_str().unwrap();
    let argv = [
        "bind",
        "sa",
        "-n",
        &s.ns,
        "--identity",
        app_id,
        "--identity-binding",
    ];
    let (code, _, err) =
        crate::support::azure::run_plugin(&argv, &s.sub.env_as(&admin.0, &admin.1));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("app registration 'ib-app'"), "{err}");

    // A ClusterRole of that name that the plugin did not make is left alone.
    let client = Ground::get().client().await;
    let theirs: ClusterRole = serde_json::from_value(
        json!({"metadata": {"name": ib::rbac_name(s.client_id())}, "rules": []}),
    )
    .unwrap();
    Api::<ClusterRole>::all(client.clone())
        .create(&PostParams::default(), &theirs)
        .await
        .unwrap();
    let (code, _, err) = s.bind(&["--identity-binding"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not kubectl-azwi's"), "{err}");
    Api::<ClusterRole>::all(client)
        .delete(&ib::rbac_name(s.client_id()), &Default::default())
        .await
        .unwrap();

    // Twenty credentials and none of them AKS's: no room for it.
    s.fill_credentials().await;
    let before = s.sub.writes().await;
    let (code, _, err) = s.bind(&["--identity-binding"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("room for AKS's credential"), "{err}");
    assert!(err.contains("other-19"), "{err}");
    assert_eq!(s.sub.writes().await, before);
    assert!(bindings(&s).await.is_empty());
    assert_eq!(rbac(s.client_id()).await, (None, None));
    assert!(s.sa().await.is_none());

    // Flags of the other path are refused by the parser.
    let (code, _, err) = s.bind(&["--identity-binding", "--issuer", "https://x/"]);
    assert_eq!(code, 2, "{err}");
}

/// A binding whose operation ends Failed (emulator control identityBindingFailures): bind
/// stops before the cluster is touched, and the next run puts it again.
#[tokio::test]
async fn identity_binding_failed_operation_stops_bind_and_a_rerun_recovers() {
    let s = setup("ib-failed").await;
    aks(&s, 1.0).await;
    s.sub
        .control("POST", "identityBindingFailures", Some(json!({"count": 1})))
        .await;
    let (code, _, err) = s.bind(&["--identity-binding"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("ended Failed"), "{err}");
    assert_eq!(rbac(s.client_id()).await, (None, None), "cluster untouched");
    assert!(s.sa().await.is_none());
    assert_eq!(
        bindings(&s).await[0]["properties"]["provisioningState"],
        "Failed"
    );

    let (code, out, err) = s.bind(&["--identity-binding", "-o", "json"]);
    let report = json_out(code, &out, &err);
    let step = &report["steps"][1];
    assert_eq!(step["action"], "update", "{report}");
    assert_eq!(
        bindings(&s).await[0]["properties"]["provisioningState"],
        "Succeeded"
    );
    assert!(s.sa().await.is_some());
}

/// An AKS cluster with API server VNet integration (`apiServerAccessProfile.enableVnetIntegration`,
/// the managedClusters model's REST name): identity bindings do not support it
/// (identity-bindings-concepts.md, Limitations), so bind refuses before any write.
#[tokio::test]
async fn identity_binding_refused_on_a_vnet_integrated_api_server() {
    let s = setup("ib-vnet").await;
    let g = Ground::get();
    s.sub
        .control(
            "POST",
            "clusters",
            Some(json!({"resourceGroup": "rg", "name": "aks1", "fqdn": "127.0.0.1", "issuerUrl": g.issuer(), "apiServerAccessProfile": {"enableVnetIntegration": true, "subnetId": format!("/subscriptions/{}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/apiserver", s.sub.id)}})),
        )
        .await;
    let before = s.sub.writes().await;
    // Named, and found from the kube context's API server: refused both ways.
    for extra in [&["--cluster", "aks1"][..], &[]] {
        let mut args = vec!["--identity-binding"];
        args.extend_from_slice(extra);
        let (code, _, err) = s.bind(&args);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("API server VNet integration"), "{err}");
        assert_eq!(err.trim().lines().count(), 2, "cause and hint: {err}");
    }
    assert_eq!(s.sub.writes().await, before);
    assert!(bindings(&s).await.is_empty());
    assert_eq!(rbac(s.client_id()).await, (None, None));
    assert!(s.sa().await.is_none());
}
