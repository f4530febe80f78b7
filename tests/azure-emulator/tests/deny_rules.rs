//! Deny assignments as ARM serves and applies them: every 2022-04-01 example replayed, the
//! documented `$filter` forms, and a deny beating a role assignment.
//!
//! Sources: Azure/azure-rest-api-specs Authorization 2022-04-01 deny assignments spec and
//! examples (vendored in data/azure-api/authorization/deny-assignments); MicrosoftDocs
//! azure-docs articles/role-based-access-control/ deny-assignments.md, deny-assignments-rest.md.

mod common;

use std::collections::BTreeSet;

use common::authz::{ids, principal};
use common::{Ctx, Sub, assert_arm_error, shape};
use reqwest::Method;
use serde_json::{Value, json};

const API: &str = "api-version=2022-04-01";

/// Replaces the examples' placeholders with this test's subscription, resource group and principals.
fn localize(text: &str, s: &Sub, p1: &str, p2: &str) -> Value {
    serde_json::from_str(
        &text
            .replace("subId", &s.sub)
            .replace("subID", &s.sub)
            .replace("principalId1", p1)
            .replace("principalId2", p2)
            .replace("principalType1", "ServicePrincipal")
            .replace("principalType2", "ServicePrincipal"),
    )
    .unwrap()
}

#[tokio::test]
async fn deny_assignment_examples_replay() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/azure-api/authorization/deny-assignments/examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 6, "{}", dir.display());
    for file in files {
        let ctx = Ctx::new().await;
        let s = ctx.subscription(json!({})).await;
        ctx.put_rg(&s, "rgname").await;
        let (p1, p2) = (
            uuid::Uuid::new_v4().to_string(),
            uuid::Uuid::new_v4().to_string(),
        );
        let ex = localize(&std::fs::read_to_string(&file).unwrap(), &s, &p1, &p2);
        let body = &ex["responses"]["200"]["body"];
        let items: Vec<Value> = match body["value"].as_array() {
            Some(v) => v.clone(),
            None => vec![body.clone()],
        };
        for it in &items {
            ctx.control(
                Method::POST,
                "/_emulator/denyAssignments",
                json!({"name": it["name"], "properties": it["properties"]}),
            )
            .await;
        }
        let p = &ex["parameters"];
        let s_ = |k: &str| p[k].as_str().unwrap_or_default().to_string();
        // The operation follows from the parameters (two examples carry no operationId).
        let has = |k: &str| p.get(k).is_some();
        let auth = "providers/Microsoft.Authorization/denyAssignments";
        let path = if has("resourceName") {
            format!(
                "/subscriptions/{}/resourcegroups/{}/providers/{}/{}/{}/{}/{auth}",
                s.sub,
                s_("resourceGroupName"),
                s_("resourceProviderNamespace"),
                s_("parentResourcePath"),
                s_("resourceType"),
                s_("resourceName")
            )
        } else if has("resourceGroupName") {
            format!(
                "/subscriptions/{}/resourceGroups/{}/{auth}",
                s.sub,
                s_("resourceGroupName")
            )
        } else if has("scope") && has("denyAssignmentId") {
            format!("/{}/{auth}/{}", s_("scope"), s_("denyAssignmentId"))
        } else if has("denyAssignmentId") {
            format!("/{}", s_("denyAssignmentId"))
        } else if has("scope") {
            format!("/{}/{auth}", s_("scope"))
        } else {
            format!("/subscriptions/{}/{auth}", s.sub)
        };
        let (st, got, _) = ctx
            .arm(Some(&s.token), Method::GET, &format!("{path}?{API}"), None)
            .await;
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        assert_eq!(st, 200, "{name}: {got}");
        assert_eq!(
            shape(&got),
            shape(body),
            "{name}: keys and types as the example"
        );
        let want_ids: BTreeSet<String> = items
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_ascii_lowercase())
            .collect();
        let got_ids = match got["value"].as_array() {
            Some(_) => ids(&got),
            None => BTreeSet::from([got["id"].as_str().unwrap().to_ascii_lowercase()]),
        };
        assert_eq!(got_ids, want_ids, "{name}");
        assert!(
            !got.to_string().contains("/resourceGroups/"),
            "{name}: ids and scopes use lower-case resourcegroups, as the examples do"
        );
    }
}

async fn deny(ctx: &Ctx, name: &str, properties: Value) -> String {
    let v = ctx
        .control(
            Method::POST,
            "/_emulator/denyAssignments",
            json!({"name": name, "properties": properties}),
        )
        .await;
    v["id"].as_str().unwrap().to_ascii_lowercase()
}

fn principals(ids: &[&str]) -> Value {
    Value::Array(
        ids.iter()
            .map(|i| json!({"id": i, "type": "ServicePrincipal"}))
            .collect(),
    )
}

#[tokio::test]
async fn deny_assignment_filters_are_the_documented_ones() {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    ctx.put_rg(&s, "rg").await;
    ctx.put_rg(&s, "rg2").await;
    let sub = format!("/subscriptions/{}", s.sub);
    let rg = format!("{sub}/resourcegroups/rg");
    let (group, _) = principal(&ctx, &s, json!({"kind": "Group"})).await;
    let (p, _) = principal(&ctx, &s, json!({"memberOf": [group]})).await;
    let write = json!([{"actions": ["Microsoft.Resources/subscriptions/resourceGroups/write"]}]);
    let d1 = deny(&ctx, "d1", json!({"scope": sub, "permissions": write, "principals": principals(&[&group]), "denyAssignmentName": "for the group"})).await;
    let d2 = deny(&ctx, "d2", json!({"scope": rg, "permissions": write, "principals": [{"id": "00000000-0000-0000-0000-000000000000", "type": "SystemDefined"}], "excludePrincipals": principals(&[&p]), "doNotApplyToChildScopes": true, "description": "everyone but p"})).await;
    let d3 = deny(&ctx, "d3", json!({"scope": format!("{sub}/resourcegroups/rg2"), "permissions": write, "principals": principals(&["11111111-1111-1111-1111-111111111111"]), "denyAssignmentName": "other"})).await;
    let list = |scope: &str, filter: &str| {
        let path = format!(
            "{scope}/providers/Microsoft.Authorization/denyAssignments?{API}{}",
            if filter.is_empty() {
                String::new()
            } else {
                format!("&$filter={}", filter.replace(' ', "%20"))
            }
        );
        let (ctx, token) = (&ctx, s.token.clone());
        async move { ctx.arm(Some(&token), Method::GET, &path, None).await }
    };
    let set = |v: &[&String]| v.iter().map(|x| x.to_string()).collect::<BTreeSet<_>>();
    // No filter: at, above and below the scope (spec FilterParameter, deny-assignments-rest.md).
    assert_eq!(ids(&list(&rg, "").await.1), set(&[&d1, &d2]));
    assert_eq!(ids(&list(&sub, "").await.1), set(&[&d1, &d2, &d3]));
    // atScope(): the scope and above.
    assert_eq!(ids(&list(&sub, "atScope()").await.1), set(&[&d1]));
    // assignedTo: transitive through groups; "everyone" names every principal.
    assert_eq!(
        ids(&list(&rg, &format!("assignedTo('{p}')")).await.1),
        set(&[&d1, &d2])
    );
    assert_eq!(
        ids(&list(&rg, &format!("atScope() and assignedTo('{p}')"))
            .await
            .1),
        set(&[&d1, &d2])
    );
    // principalId eq: exactly that object in the principals list.
    assert_eq!(
        ids(&list(&sub, &format!("principalId eq '{p}'")).await.1),
        BTreeSet::new()
    );
    assert_eq!(
        ids(&list(&sub, &format!("principalId eq '{group}'")).await.1),
        set(&[&d1])
    );
    assert_eq!(
        ids(&list(&sub, "denyAssignmentName eq 'other'").await.1),
        set(&[&d3])
    );
    // gdprExportPrincipalId: principals or excludePrincipals, only name and description.
    let (_, b, _) = list(&sub, &format!("gdprExportPrincipalId eq '{p}'")).await;
    assert_eq!(ids(&b), set(&[&d2]));
    let props: BTreeSet<&String> = b["value"][0]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        props,
        [
            &"denyAssignmentName".to_string(),
            &"description".to_string()
        ]
        .into_iter()
        .collect()
    );
    let (st, b, _) = list(&sub, "roleName eq 'x'").await;
    assert_arm_error(st, &b, 400, "UnsupportedQuery");
    // At the root scope a filter is required.
    let (st, b, _) = list("", "").await;
    assert_arm_error(st, &b, 400, "UnsupportedQuery");
    let (st, b, _) = ctx
        .arm(Some(&s.token), Method::GET, &format!("{d1}?{API}"), None)
        .await;
    assert_eq!(
        (st, b["properties"]["isSystemProtected"].as_bool()),
        (200, Some(true)),
        "{b}"
    );
    let (st, b, _) = ctx
        .arm(
            Some(&s.token),
            Method::GET,
            &format!("{sub}/providers/Microsoft.Authorization/denyAssignments/nope?{API}"),
            None,
        )
        .await;
    assert_eq!(st, 404, "{b}");
}

#[tokio::test]
async fn deny_assignments_win_over_role_assignments() {
    // deny-assignments.md: a deny assignment blocks the listed actions even when a role
    // assignment grants them; excludePrincipals are spared; doNotApplyToChildScopes keeps it
    // at its own scope.
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    for rg in ["locked", "open", "top"] {
        ctx.put_rg(&s, rg).await;
    }
    let (spared, spared_token) = principal(&ctx, &s, json!({"role": "Owner"})).await;
    let sub = format!("/subscriptions/{}", s.sub);
    let everyone = json!([{"id": "00000000-0000-0000-0000-000000000000", "type": "SystemDefined"}]);
    deny(&ctx, "lock", json!({"scope": format!("{sub}/resourceGroups/locked"), "principals": everyone, "excludePrincipals": principals(&[&spared]),
        "permissions": [{"actions": ["*"], "notActions": ["*/read"]}]})).await;
    deny(&ctx, "top-only", json!({"scope": format!("{sub}/resourceGroups/top"), "principals": everyone, "doNotApplyToChildScopes": true,
        "permissions": [{"actions": ["*"]}]})).await;
    let id = |rg: &str, name: &str| common::identity_path(&s.sub, rg, name);
    let body = json!({"location": "eastus"});
    let put = |path: String, token: String| {
        let (ctx, body) = (&ctx, body.clone());
        async move { ctx.arm(Some(&token), Method::PUT, &path, Some(&body)).await }
    };
    let (st, b, _) = put(id("locked", "id-x"), s.token.clone()).await;
    assert_arm_error(st, &b, 403, "AuthorizationFailed");
    let (st, _, _) = ctx
        .arm(
            Some(&s.token),
            Method::GET,
            &format!("{sub}/resourceGroups/locked?api-version=2021-04-01"),
            None,
        )
        .await;
    assert_eq!(st, 200, "notActions */read: reads pass the deny");
    let (st, _, _) = put(id("open", "id-x"), s.token.clone()).await;
    assert_eq!(st, 201);
    let (st, _, _) = put(id("locked", "id-x"), spared_token.unwrap()).await;
    assert_eq!(st, 201, "excluded from the deny");
    let (st, _, _) = put(id("top", "child"), s.token.clone()).await;
    assert_eq!(
        st, 201,
        "doNotApplyToChildScopes: an identity below is not denied"
    );
    let (st, b, _) = put(
        format!("{sub}/resourceGroups/top?api-version=2021-04-01"),
        s.token.clone(),
    )
    .await;
    assert_arm_error(st, &b, 403, "AuthorizationFailed");
}
