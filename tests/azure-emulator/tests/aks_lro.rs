//! AKS writes as ARM runs them: managedClusters PUT/DELETE and managedClusters/identityBindings
//! PUT/GET/LIST/DELETE, long-running with `Azure-AsyncOperation`/`Location`/`Retry-After`, the
//! operation polled from InProgress to Succeeded (or Failed), and AKS's `aks-identity-binding`
//! credential on the identity. Expected values come from the vendored examples named at each
//! assertion (data/azure-api/containerservice and data/azure-api/aks-identity-bindings).

mod common;

use std::time::Duration;

use common::{Ctx, Sub, assert_arm_error, data_json, fic_body, fic_path, shape};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const IB: &str = "aks-identity-bindings";
/// How long each operation runs in these tests (the subscription's `asyncOperationSeconds`).
const OP_SECONDS: f64 = 1.0;

fn ex(file: &str) -> Value {
    data_json(&format!("{IB}/{file}"))
}

/// A subscription whose operations run `OP_SECONDS`, with resource group `rg1`.
async fn setup(ctx: &Ctx) -> Sub {
    let s = ctx
        .subscription(json!({"settings": {"asyncOperationSeconds": OP_SECONDS}}))
        .await;
    ctx.put_rg(&s, "rg1").await;
    s
}

fn cluster_path(sub: &str, name: &str, api: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/{name}?api-version={api}"
    )
}

fn binding_path(sub: &str, cluster: &str, name: &str, api: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/{cluster}/identityBindings/{name}?api-version={api}"
    )
}

fn binding_body(identity_id: &str) -> Value {
    json!({"properties": {"managedIdentity": {"resourceId": identity_id}}})
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .unwrap_or_else(|| panic!("no {name} header in {h:?}"))
        .to_str()
        .unwrap()
        .to_string()
}

/// The path (and query) of an absolute URL the emulator handed out.
fn local(ctx: &Ctx, url: &str) -> String {
    url.strip_prefix(ctx.emu.url())
        .unwrap_or_else(|| panic!("{url} is not on the emulator"))
        .to_string()
}

async fn get(ctx: &Ctx, s: &Sub, path: &str) -> (u16, Value, HeaderMap) {
    ctx.arm(Some(&s.token), Method::GET, path, None).await
}

async fn after_operation() {
    tokio::time::sleep(Duration::from_secs_f64(OP_SECONDS + 0.2)).await;
}

/// The cluster of ManagedClustersCreate_SecurityProfile.json, made over ARM, with the OIDC
/// issuer asked for. Returns the 201's body and headers.
async fn create_cluster(ctx: &Ctx, s: &Sub, name: &str, api: &str) -> (Value, HeaderMap) {
    let mut body = data_json("containerservice/ManagedClustersCreate_SecurityProfile.json")
        ["parameters"]["parameters"]
        .clone();
    body["properties"]["oidcIssuerProfile"] = json!({"enabled": true});
    let (st, b, h) = ctx
        .arm(
            Some(&s.token),
            Method::PUT,
            &cluster_path(&s.sub, name, api),
            Some(&body),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    (b, h)
}

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
    let (st, status, _) = get(&ctx, &s, &local(&ctx, &op)).await;
    assert_eq!((st, &status["status"]), (200, &json!("InProgress")));
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
    let discovery: Value = ctx
        .http
        .get(format!("{issuer}.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let (_, w, _) = get(
        &ctx,
        &s,
        &format!("/_emulator/subscriptions/{}/writes", s.sub),
    )
    .await;
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

/// An identity `mi-payments` (as in the examples) in `rg1`; returns its ARM body.
async fn identity(ctx: &Ctx, s: &Sub) -> Value {
    ctx.put_identity(s, "rg1", "mi-payments").await
}

fn identity_id(s: &Sub) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi-payments",
        s.sub
    )
}

async fn fics(ctx: &Ctx, s: &Sub) -> Vec<Value> {
    let path = format!(
        "/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi-payments/federatedIdentityCredentials?api-version=2024-11-30",
        s.sub
    );
    let (st, b, _) = get(ctx, s, &path).await;
    assert_eq!(st, 200, "{b}");
    b["value"].as_array().unwrap().clone()
}

#[tokio::test]
async fn identity_binding_create_polls_to_succeeded_as_the_examples() {
    let ctx = Ctx::new().await;
    let s = setup(&ctx).await;
    let mi = identity(&ctx, &s).await;
    create_cluster(&ctx, &s, "aks1", "2026-04-01").await;
    let example = ex("IdentityBindings_CreateOrUpdate.json");
    let api = example["parameters"]["api-version"].as_str().unwrap();
    let path = binding_path(&s.sub, "aks1", "mipayments", api);
    let (st, b, h) = ctx
        .arm(
            Some(&s.token),
            Method::PUT,
            &path,
            Some(&binding_body(&identity_id(&s))),
        )
        .await;
    // IdentityBindings_CreateOrUpdate.json's 201: body shape, Creating, the three headers.
    let want = &example["responses"]["201"];
    assert_eq!(st, 201, "{b}");
    assert_eq!(shape(&b), shape(&want["body"]));
    assert_eq!(b["properties"]["provisioningState"], "Creating");
    assert_eq!(b["type"], want["body"]["type"]);
    assert_eq!(b["id"], path.split('?').next().unwrap());
    let m = &b["properties"]["managedIdentity"];
    assert_eq!(m["resourceId"], identity_id(&s).as_str());
    assert_eq!(m["clientId"], mi["properties"]["clientId"]);
    assert_eq!(m["objectId"], mi["properties"]["principalId"]);
    assert_eq!(m["tenantId"], s.tenant.as_str());
    let issuer = format!(
        "https://ib.oic.prod-aks.azure.com/{}/{}",
        s.tenant,
        mi["properties"]["clientId"].as_str().unwrap()
    );
    assert_eq!(
        b["properties"]["oidcIssuer"]["oidcIssuerUrl"],
        issuer.as_str()
    );
    assert_eq!(b["systemData"]["createdBy"], s.owner_client_id.as_str());
    for name in want["headers"].as_object().unwrap().keys() {
        header(&h, name);
    }
    let op = header(&h, "azure-asyncoperation");
    assert!(header(&h, "location").contains("/operationresults/"));
    // Nothing on the identity while the operation runs.
    assert!(fics(&ctx, &s).await.is_empty());
    let (_, status, _) = get(&ctx, &s, &local(&ctx, &op)).await;
    assert_eq!(status["status"], "InProgress");
    assert_eq!(shape(&status), shape(&ex("AsyncOperation_InProgress.json")));
    after_operation().await;
    let (_, status, _) = get(&ctx, &s, &local(&ctx, &op)).await;
    assert_eq!(status["status"], "Succeeded");
    assert_eq!(shape(&status), shape(&ex("AsyncOperation_Succeeded.json")));
    // The final GET (IdentityBindings_Get.json) and the Location (final-state-via location).
    let (st, got, _) = get(&ctx, &s, &path).await;
    assert_eq!(st, 200);
    assert_eq!(
        shape(&got),
        shape(&ex("IdentityBindings_Get.json")["responses"]["200"]["body"])
    );
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    let (st, fin, _) = get(&ctx, &s, &local(&ctx, &header(&h, "location"))).await;
    assert_eq!((st, &fin["id"]), (200, &got["id"]));
    // AKS's credential (ManagedFIC_aks-identity-binding.json): name, the binding's issuer,
    // subject and audience as the example has them.
    let managed = &ex("ManagedFIC_aks-identity-binding.json")["responses"]["200"]["body"];
    let list = fics(&ctx, &s).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["name"], managed["name"]);
    assert_eq!(list[0]["properties"]["issuer"], issuer.as_str());
    assert_eq!(
        list[0]["properties"]["subject"],
        managed["properties"]["subject"]
    );
    assert_eq!(
        list[0]["properties"]["audiences"],
        managed["properties"]["audiences"]
    );
    // An identical re-PUT: the example's 200, Succeeded, no operation.
    let (st, again, h) = ctx
        .arm(
            Some(&s.token),
            Method::PUT,
            &path,
            Some(&binding_body(&identity_id(&s))),
        )
        .await;
    assert_eq!(
        (st, &again["properties"]["provisioningState"]),
        (200, &json!("Succeeded"))
    );
    assert_eq!(shape(&again), shape(&example["responses"]["200"]["body"]));
    assert!(h.get("azure-asyncoperation").is_none());
}

#[tokio::test]
async fn identity_bindings_list_share_one_credential_and_delete_leaves_it() {
    let ctx = Ctx::new().await;
    let s = setup(&ctx).await;
    identity(&ctx, &s).await;
    let api = "2026-08-01";
    for c in ["aks1", "aks2"] {
        create_cluster(&ctx, &s, c, api).await;
        let (st, b, _) = ctx
            .arm(
                Some(&s.token),
                Method::PUT,
                &binding_path(&s.sub, c, "mipayments", api),
                Some(&binding_body(&identity_id(&s))),
            )
            .await;
        assert_eq!(st, 201, "{b}");
    }
    after_operation().await;
    // Two clusters, one credential: the issuer is per identity (reference §0).
    assert_eq!(fics(&ctx, &s).await.len(), 1);
    let list_path = format!(
        "/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1/identityBindings?api-version={api}",
        s.sub
    );
    let (st, list, _) = get(&ctx, &s, &list_path).await;
    let want = &ex("IdentityBindings_ListByManagedCluster.json")["responses"]["200"]["body"];
    assert_eq!(st, 200);
    assert_eq!(shape(&list), shape(want));
    assert_eq!(list["value"].as_array().unwrap().len(), 1);

    // IdentityBindings_Delete.json: 202 with the three headers, then 204 for a gone binding.
    let path = binding_path(&s.sub, "aks1", "mipayments", api);
    let (st, _, h) = ctx.arm(Some(&s.token), Method::DELETE, &path, None).await;
    assert_eq!(st, 202);
    let headers = ex("IdentityBindings_Delete.json")["responses"]["202"]["headers"].clone();
    for name in headers.as_object().unwrap().keys() {
        header(&h, name);
    }
    let (_, during, _) = get(&ctx, &s, &path).await;
    assert_eq!(during["properties"]["provisioningState"], "Deleting");
    let (st, _, _) = get(&ctx, &s, &local(&ctx, &header(&h, "location"))).await;
    assert_eq!(st, 202);
    after_operation().await;
    let (_, status, _) = get(&ctx, &s, &local(&ctx, &header(&h, "azure-asyncoperation"))).await;
    assert_eq!(status["status"], "Succeeded");
    let (st, b, _) = get(&ctx, &s, &path).await;
    assert_arm_error(st, &b, 404, "ResourceNotFound");
    let (st, _, _) = ctx.arm(Some(&s.token), Method::DELETE, &path, None).await;
    assert_eq!(st, 204);
    // No garbage collection: the credential stays (reference §2), for aks2's binding too.
    let (st, list, _) = get(&ctx, &s, &list_path).await;
    assert_eq!((st, list["value"].as_array().unwrap().len()), (200, 0));
    let left = fics(&ctx, &s).await;
    assert_eq!(
        (left.len(), &left[0]["name"]),
        (1, &json!("aks-identity-binding"))
    );
}

#[tokio::test]
async fn identity_binding_needs_room_for_the_managed_credential() {
    let ctx = Ctx::new().await;
    let s = setup(&ctx).await;
    identity(&ctx, &s).await;
    create_cluster(&ctx, &s, "aks1", "2026-04-01").await;
    for n in 0..20 {
        let (st, b, _) = ctx
            .arm(
                Some(&s.token),
                Method::PUT,
                &fic_path(&s.sub, "rg1", "mi-payments", &format!("fic-{n}")),
                Some(&fic_body(
                    "https://issuer.example.test/",
                    &format!("system:serviceaccount:ns:sa{n}"),
                )),
            )
            .await;
        assert_eq!(st, 201, "{b}");
    }
    let path = binding_path(&s.sub, "aks1", "mipayments", "2026-04-01");
    let (st, b, _) = ctx
        .arm(
            Some(&s.token),
            Method::PUT,
            &path,
            Some(&binding_body(&identity_id(&s))),
        )
        .await;
    // ARM's ErrorResponse with every field of ErrorResponse_Example.json.
    assert_eq!(st, 400, "{b}");
    assert_eq!(shape(&b), shape(&ex("ErrorResponse_Example.json")));
    assert_eq!(
        b["error"]["target"],
        "properties.managedIdentity.resourceId"
    );
    assert_eq!(
        (&b["error"]["details"], &b["error"]["additionalInfo"]),
        (&json!([]), &json!([]))
    );
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("aks-identity-binding")
    );
    let (st, _, _) = get(&ctx, &s, &path).await;
    assert_eq!(st, 404, "nothing was created");
    assert_eq!(fics(&ctx, &s).await.len(), 20);

    // With room, the binding writes it as the 20th; a re-PUT then reuses it on a full identity.
    let del = fic_path(&s.sub, "rg1", "mi-payments", "fic-19");
    let (st, _, _) = ctx.arm(Some(&s.token), Method::DELETE, &del, None).await;
    assert_eq!(st, 200);
    let (st, b, _) = ctx
        .arm(
            Some(&s.token),
            Method::PUT,
            &path,
            Some(&binding_body(&identity_id(&s))),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    after_operation().await;
    let (_, got, _) = get(&ctx, &s, &path).await;
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    assert_eq!(fics(&ctx, &s).await.len(), 20);
    let (st, _, _) = ctx
        .arm(
            Some(&s.token),
            Method::PUT,
            &path,
            Some(&binding_body(&identity_id(&s))),
        )
        .await;
    assert_eq!(st, 200, "re-PUT with the credential in place");
}

#[tokio::test]
async fn a_failed_binding_operation_leaves_a_failed_binding_until_retried() {
    let ctx = Ctx::new().await;
    let s = setup(&ctx).await;
    identity(&ctx, &s).await;
    create_cluster(&ctx, &s, "aks1", "2026-04-01").await;
    let failed = ex("AsyncOperation_Failed.json");
    let v = ctx
        .control(
            Method::POST,
            &format!("/_emulator/subscriptions/{}/identityBindingFailures", s.sub),
            json!({}),
        )
        .await;
    assert_eq!(v["pending"], 1);
    let path = binding_path(&s.sub, "aks1", "mipayments", "2026-04-01");
    let (st, _, h) = ctx
        .arm(
            Some(&s.token),
            Method::PUT,
            &path,
            Some(&binding_body(&identity_id(&s))),
        )
        .await;
    assert_eq!(st, 201);
    after_operation().await;
    // AsyncOperation_Failed.json: status Failed, endTime, the error; no percentComplete.
    let (st, status, _) = get(&ctx, &s, &local(&ctx, &header(&h, "azure-asyncoperation"))).await;
    assert_eq!((st, &status["status"]), (200, &json!("Failed")));
    assert_eq!(shape(&status), shape(&failed));
    assert_eq!(status["error"], failed["error"]);
    let (st, b, _) = get(&ctx, &s, &local(&ctx, &header(&h, "location"))).await;
    assert_arm_error(st, &b, 400, failed["error"]["code"].as_str().unwrap());
    let (_, got, _) = get(&ctx, &s, &path).await;
    assert_eq!(got["properties"]["provisioningState"], "Failed");
    assert!(
        fics(&ctx, &s).await.is_empty(),
        "no credential from a failed operation"
    );
    // A re-PUT runs it again (200 + operation), and this time it succeeds.
    let (st, b, h) = ctx
        .arm(
            Some(&s.token),
            Method::PUT,
            &path,
            Some(&binding_body(&identity_id(&s))),
        )
        .await;
    assert_eq!(
        (st, &b["properties"]["provisioningState"]),
        (200, &json!("Updating"))
    );
    after_operation().await;
    let (_, status, _) = get(&ctx, &s, &local(&ctx, &header(&h, "azure-asyncoperation"))).await;
    assert_eq!(status["status"], "Succeeded");
    let (_, got, _) = get(&ctx, &s, &path).await;
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    assert_eq!(fics(&ctx, &s).await.len(), 1);
}

#[tokio::test]
async fn identity_binding_request_rules() {
    let ctx = Ctx::new().await;
    let s = setup(&ctx).await;
    identity(&ctx, &s).await;
    create_cluster(&ctx, &s, "aks1", "2026-04-01").await;
    let t = Some(s.token.as_str());
    let body = binding_body(&identity_id(&s));
    // Identity bindings exist from api-version 2026-04-01 (stable/2026-04-01/managedClusters.json).
    let old = binding_path(&s.sub, "aks1", "mipayments", "2025-10-01");
    let (st, b, _) = ctx.arm(t, Method::PUT, &old, Some(&body)).await;
    assert_arm_error(st, &b, 400, "NoRegisteredProviderFound");
    // identityBindingName: ^[a-z][a-z0-9]{0,63}$ (the same spec).
    for bad in ["mi-payments-ib", "MiPayments", "1payments"] {
        let p = binding_path(&s.sub, "aks1", bad, "2026-04-01");
        let (st, b, _) = ctx.arm(t, Method::PUT, &p, Some(&body)).await;
        assert_arm_error(st, &b, 400, "InvalidResourceName");
    }
    let path = binding_path(&s.sub, "aks1", "mipayments", "2026-04-01");
    let (st, b, _) = ctx
        .arm(t, Method::PUT, &path, Some(&json!({"properties": {}})))
        .await;
    assert_eq!(
        (st, &b["error"]["target"]),
        (400, &json!("properties.managedIdentity.resourceId"))
    );
    let missing = binding_body(&identity_id(&s).replace("mi-payments", "mi-none"));
    let (st, b, _) = ctx.arm(t, Method::PUT, &path, Some(&missing)).await;
    assert_eq!((st, &b["error"]["code"]), (400, &json!("InvalidParameter")));
    let nocluster = binding_path(&s.sub, "nope", "mipayments", "2026-04-01");
    let (st, b, _) = ctx.arm(t, Method::PUT, &nocluster, Some(&body)).await;
    assert_arm_error(st, &b, 404, "ResourceNotFound");
    // Create, then: a second write while it runs, PATCH, and re-pointing (create-only).
    let (st, _, _) = ctx.arm(t, Method::PUT, &path, Some(&body)).await;
    assert_eq!(st, 201);
    let (st, b, _) = ctx.arm(t, Method::PUT, &path, Some(&body)).await;
    assert_arm_error(st, &b, 409, "OperationNotAllowed");
    let (st, _, _) = ctx.arm(t, Method::PATCH, &path, Some(&body)).await;
    assert_eq!(st, 405);
    after_operation().await;
    ctx.put_identity(&s, "rg1", "mi-other").await;
    let other = binding_body(&identity_id(&s).replace("mi-payments", "mi-other"));
    let (st, b, _) = ctx.arm(t, Method::PUT, &path, Some(&other)).await;
    assert_eq!(
        (st, &b["error"]["code"]),
        (400, &json!("PropertyChangeNotAllowed"))
    );
    // A Reader may read bindings, not write them.
    let reader = ctx
        .control(
            Method::POST,
            &format!("/_emulator/subscriptions/{}/principals", s.sub),
            json!({"role": "Reader"}),
        )
        .await;
    let rt = ctx
        .secret_token(
            &s.tenant,
            reader["clientId"].as_str().unwrap(),
            reader["clientSecret"].as_str().unwrap(),
        )
        .await;
    let (st, _, _) = ctx.arm(Some(&rt), Method::GET, &path, None).await;
    assert_eq!(st, 200);
    let (st, b, _) = ctx.arm(Some(&rt), Method::DELETE, &path, None).await;
    assert_arm_error(st, &b, 403, "AuthorizationFailed");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft.ContainerService/managedClusters/identityBindings/delete")
    );
    let (_, w, _) = get(
        &ctx,
        &s,
        &format!("/_emulator/subscriptions/{}/writes", s.sub),
    )
    .await;
    assert!(
        w["byOperation"]["IdentityBindings_CreateOrUpdate"]
            .as_u64()
            .unwrap()
            >= 2,
        "{w}"
    );
}
