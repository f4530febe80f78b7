//! AKS managedClusters writes as ARM runs them: PUT (201/200 with `Azure-AsyncOperation`, the
//! operation polled from InProgress to Succeeded) and DELETE (202 with `Location`, polled to the
//! end, then 404). Expected values come from the vendored examples named at each assertion.

mod common;

use common::aks::{after_operation, cluster_path, create_cluster, ex, get, header, local, setup};
use common::{Ctx, assert_arm_error, data_json, shape};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn cluster_put_is_long_running_and_behaves_like_a_seeded_cluster() {
    let ctx = Ctx::new().await;
    let s = setup(&ctx).await;
    let api = "2026-06-01";
    let example = data_json("containerservice/ManagedClustersCreate_SecurityProfile.json");
    let (b, h) = create_cluster(&ctx, &s, "aks1", api).await;
    // The example's 201: provisioningState Creating, its type, tags, dnsPrefix and
    // securityProfile.workloadIdentity as asked.
    let created = &example["responses"]["201"]["body"];
    assert_eq!(b["properties"]["provisioningState"], "Creating");
    assert_eq!(b["type"], created["type"]);
    assert_eq!(b["tags"], created["tags"]);
    assert_eq!(
        b["properties"]["dnsPrefix"],
        created["properties"]["dnsPrefix"]
    );
    assert_eq!(
        b["properties"]["securityProfile"]["workloadIdentity"],
        created["properties"]["securityProfile"]["workloadIdentity"]
    );
    assert!(
        b["id"].as_str().unwrap().contains("/resourcegroups/rg1/"),
        "{b}"
    );
    // final-state-via azure-async-operation: the operation URL, AKS's form.
    let op = header(&h, "azure-asyncoperation");
    assert!(
        op.contains("/providers/Microsoft.ContainerService/locations/location1/operations/"),
        "{op}"
    );
    assert_eq!(header(&h, "retry-after"), "1");
    let (st, status, h) = get(&ctx, &s, &local(&ctx, &op)).await;
    assert_eq!((st, &status["status"]), (200, &json!("InProgress")));
    // A running operation repeats Retry-After: pollers wait what the last answer says.
    assert_eq!(header(&h, "retry-after"), "1");
    assert_eq!(shape(&status), shape(&ex("AsyncOperation_InProgress.json")));
    let path = cluster_path(&s.sub, "aks1", api);
    let (_, during, _) = get(&ctx, &s, &path).await;
    assert_eq!(during["properties"]["provisioningState"], "Creating");
    after_operation().await;
    let (st, status, _) = get(&ctx, &s, &local(&ctx, &op)).await;
    assert_eq!((st, &status["status"]), (200, &json!("Succeeded")));
    assert_eq!(shape(&status), shape(&ex("AsyncOperation_Succeeded.json")));

    // Then it is what the seeded clusters are: GET, list, issuer host, kubeconfig.
    let (st, got, _) = get(&ctx, &s, &path).await;
    assert_eq!(st, 200, "{got}");
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    let issuer = got["properties"]["oidcIssuerProfile"]["issuerURL"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        issuer.starts_with(&format!("{}/{}/", ctx.emu.url(), s.tenant)) && issuer.ends_with('/'),
        "{issuer}"
    );
    let discovery = ctx
        .get_json(&format!("{issuer}.well-known/openid-configuration"))
        .await;
    assert_eq!(discovery["issuer"], issuer.as_str());
    let (_, list, _) = get(
        &ctx,
        &s,
        &format!(
            "/subscriptions/{}/providers/Microsoft.ContainerService/managedClusters?api-version={api}",
            s.sub
        ),
    )
    .await;
    assert_eq!(list["value"][0]["name"], "aks1");
    let cred = format!(
        "/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1/listClusterUserCredential?api-version={api}",
        s.sub
    );
    let (st, kc, _) = ctx.arm(Some(&s.token), Method::POST, &cred, None).await;
    assert_eq!(
        (st, &kc["kubeconfigs"][0]["name"]),
        (200, &json!("clusterUser"))
    );

    // A second PUT is an update: 200, Updating, another operation.
    let body = json!({"location": "location1", "tags": {"tier": "test"}, "properties": {"kubernetesVersion": "1.34.1"}});
    let (st, upd, h) = ctx
        .arm(Some(&s.token), Method::PUT, &path, Some(&body))
        .await;
    assert_eq!(
        (st, &upd["properties"]["provisioningState"]),
        (200, &json!("Updating"))
    );
    assert_eq!(
        upd["properties"]["oidcIssuerProfile"]["issuerURL"],
        issuer.as_str()
    );
    assert_eq!(upd["tags"], json!({"tier": "test"}));
    assert_ne!(header(&h, "azure-asyncoperation"), op);
    after_operation().await;
    let (_, got, _) = get(&ctx, &s, &path).await;
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    assert_eq!(got["properties"]["kubernetesVersion"], "1.34.1");
    let w = ctx.writes(&s).await;
    assert_eq!(w["byOperation"]["ManagedClusters_CreateOrUpdate"], 2, "{w}");
}

#[tokio::test]
async fn cluster_delete_is_202_polled_at_location_then_404() {
    let ctx = Ctx::new().await;
    let s = setup(&ctx).await;
    let api = "2026-04-01";
    create_cluster(&ctx, &s, "aks1", api).await;
    let path = cluster_path(&s.sub, "aks1", api);
    let (st, b, h) = ctx.arm(Some(&s.token), Method::DELETE, &path, None).await;
    assert_eq!((st, &b), (202, &Value::Null));
    let location = header(&h, "location");
    assert!(location.contains("/operationresults/"), "{location}");
    assert!(header(&h, "azure-asyncoperation").contains("/operations/"));
    let (_, during, _) = get(&ctx, &s, &path).await;
    assert_eq!(during["properties"]["provisioningState"], "Deleting");
    let (st, _, h2) = get(&ctx, &s, &local(&ctx, &location)).await;
    assert_eq!((st, header(&h2, "location")), (202, location.clone()));
    after_operation().await;
    let (st, _, _) = get(&ctx, &s, &local(&ctx, &location)).await;
    assert_eq!(st, 204);
    let (st, b, _) = get(&ctx, &s, &path).await;
    assert_arm_error(st, &b, 404, "ResourceNotFound");
    let (st, _, _) = ctx.arm(Some(&s.token), Method::DELETE, &path, None).await;
    assert_eq!(st, 204, "deleting what is gone");
}

/// API server VNet integration: `properties.apiServerAccessProfile.enableVnetIntegration` and
/// its `subnetId`, the REST names of `ManagedClusterAPIServerAccessProfile` in PyPI
/// azure-mgmt-containerservice 41.6.0 (`models/_models.py`), kept from a PUT and from the control
/// API and reported back; a cluster without it reports no profile.
#[tokio::test]
async fn api_server_vnet_integration_is_kept_and_reported() {
    let ctx = Ctx::new().await;
    let s = setup(&ctx).await;
    let api = "2026-04-01";
    let subnet = format!(
        "/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/v/subnets/apiserver",
        s.sub
    );
    let mut body = data_json("containerservice/ManagedClustersCreate_SecurityProfile.json")
        ["parameters"]["parameters"]
        .clone();
    body["properties"]["apiServerAccessProfile"] =
        json!({"enableVnetIntegration": true, "subnetId": subnet});
    let path = cluster_path(&s.sub, "vnet1", api);
    let (st, b, _) = ctx
        .arm(Some(&s.token), Method::PUT, &path, Some(&body))
        .await;
    assert_eq!(st, 201, "{b}");
    after_operation().await;
    let (_, got, _) = get(&ctx, &s, &path).await;
    assert_eq!(
        got["properties"]["apiServerAccessProfile"],
        json!({"enableVnetIntegration": true, "subnetId": subnet})
    );
    let (st, bad, _) = ctx
        .arm(
            Some(&s.token),
            Method::PUT,
            &path,
            Some(&json!({"location": "location1", "properties": {"apiServerAccessProfile": {"enableVnetIntegration": "yes"}}})),
        )
        .await;
    assert_eq!(st, 400, "{bad}");

    let seeded = ctx
        .control(
            Method::POST,
            &format!("/_emulator/subscriptions/{}/clusters", s.sub),
            json!({"resourceGroup": "rg1", "name": "vnet2", "apiServerAccessProfile": {"enableVnetIntegration": true}}),
        )
        .await;
    assert_eq!(
        seeded["properties"]["apiServerAccessProfile"]["enableVnetIntegration"],
        true
    );
    let (plain, _) = create_cluster(&ctx, &s, "plain", api).await;
    assert!(
        plain["properties"].get("apiServerAccessProfile").is_none(),
        "{plain}"
    );
}
