//! AKS identity bindings (`managedClusters/{c}/identityBindings`) as their vendored examples
//! show them (data/azure-api/aks-identity-bindings): PUT long-running with three headers, the
//! operation polled to Succeeded or Failed, GET, LIST, DELETE (202, then 204), and AKS's one
//! `aks-identity-binding` credential on the identity. Each assertion names its example.

mod common;

use common::aks::{
    after_operation, binding_body, binding_path, create_cluster, ex, fics, get, header, identity,
    identity_id, local, put_binding, setup,
};
use common::authz::principal;
use common::{Ctx, assert_arm_error, fic_body, fic_path, shape};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn identity_binding_create_polls_to_succeeded_as_the_examples() {
    let ctx = Ctx::new().await;
    let s = setup(&ctx).await;
    let mi = identity(&ctx, &s).await;
    create_cluster(&ctx, &s, "aks1", "2026-04-01").await;
    let example = ex("IdentityBindings_CreateOrUpdate.json");
    let api = example["parameters"]["api-version"].as_str().unwrap();
    let path = binding_path(&s.sub, "aks1", "mipayments", api);
    let (st, b, h) = put_binding(&ctx, &s, &path).await;
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
    let (st, again, h) = put_binding(&ctx, &s, &path).await;
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
    // Two clusters, one credential: the issuer is per identity (the per-identity issuer of IdentityBindings_Get.json).
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
    // No garbage collection: the credential stays (no garbage collection: MicrosoftDocs/azure-aks-docs articles/aks/identity-bindings-concepts.md), for aks2's binding too.
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
    let (st, b, _) = put_binding(&ctx, &s, &path).await;
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
    let (st, b, _) = put_binding(&ctx, &s, &path).await;
    assert_eq!(st, 201, "{b}");
    after_operation().await;
    let (_, got, _) = get(&ctx, &s, &path).await;
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    assert_eq!(fics(&ctx, &s).await.len(), 20);
    let (st, _, _) = put_binding(&ctx, &s, &path).await;
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
    let (st, _, h) = put_binding(&ctx, &s, &path).await;
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
    let (st, b, h) = put_binding(&ctx, &s, &path).await;
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
    let (_, rt) = principal(&ctx, &s, json!({"role": "Reader"})).await;
    let rt = rt.unwrap();
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
    let w = ctx.writes(&s).await;
    assert!(
        w["byOperation"]["IdentityBindings_CreateOrUpdate"]
            .as_u64()
            .unwrap()
            >= 2,
        "{w}"
    );
}

/// AKS writes the credential for the caller, who needs both `identityBindings/write` and the
/// credential write on the identity (MicrosoftDocs/azure-aks-docs articles/aks/identity-bindings-concepts.md, permissions): the
/// built-in AKS Contributor role alone is not enough; with Managed Identity Contributor on the
/// identity it is.
#[tokio::test]
async fn identity_binding_needs_the_credential_write_on_the_identity() {
    let ctx = Ctx::new().await;
    let s = setup(&ctx).await;
    identity(&ctx, &s).await;
    create_cluster(&ctx, &s, "aks1", "2026-04-01").await;
    let (oid, token) = principal(
        &ctx,
        &s,
        json!({"role": "Azure Kubernetes Service Contributor Role"}),
    )
    .await;
    let token = token.unwrap();
    let path = binding_path(&s.sub, "aks1", "mipayments", "2026-04-01");
    let body = binding_body(&identity_id(&s));
    let (st, b, _) = ctx.arm(Some(&token), Method::PUT, &path, Some(&body)).await;
    assert_arm_error(st, &b, 403, "LinkedAuthorizationFailed");
    let msg = b["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("federatedIdentityCredentials/write") && msg.contains(&identity_id(&s)),
        "{msg}"
    );
    let (st, _, _) = ctx.arm(Some(&token), Method::GET, &path, None).await;
    assert_eq!(st, 404, "nothing was created");
    ctx.control(
        Method::POST,
        "/_emulator/roleAssignments",
        json!({"scope": identity_id(&s), "principalId": oid, "role": "Managed Identity Contributor"}),
    )
    .await;
    let (st, b, _) = ctx.arm(Some(&token), Method::PUT, &path, Some(&body)).await;
    assert_eq!(st, 201, "{b}");
}
