//! The emulator's Authorization model against Microsoft's: built-in roles with their published
//! ids and permissions, custom roles, `assignedTo` through groups, inheritance from management
//! groups, conditions on assignments (deny assignments: deny_rules.rs).
//!
//! Sources: Azure/azure-rest-api-specs Authorization 2022-04-01 (role definitions, role
//! assignments, deny assignments and their examples, vendored in data/azure-api); MicrosoftDocs
//! azure-docs articles/role-based-access-control/ role-assignments-list-rest.md,
//! deny-assignments.md, deny-assignments-rest.md, overview.md.

mod common;

use common::authz::{ids, principal};
use common::{Ctx, Sub, assert_arm_error};
use reqwest::Method;
use serde_json::{Value, json};

const API: &str = "api-version=2022-04-01";

fn data(rel: &str) -> Value {
    common::data_json(rel.strip_prefix("azure-api/").unwrap_or(rel))
}

fn assignment_path(scope: &str) -> String {
    format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{}?{API}",
        uuid::Uuid::new_v4()
    )
}

async fn assign(
    ctx: &Ctx,
    s: &Sub,
    scope: &str,
    role_guid: &str,
    principal: &str,
    kind: &str,
) -> Value {
    let body = json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}", s.sub),
        "principalId": principal,
        "principalType": kind,
    }});
    let (st, b, _) = ctx
        .arm(
            Some(&s.token),
            Method::PUT,
            &assignment_path(scope),
            Some(&body),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    b
}

const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

#[tokio::test]
async fn builtin_roles_are_microsofts_published_definitions() {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    let vendored = data("azure-api/authorization/builtin-roles/roles.json");
    for role in vendored.as_array().unwrap() {
        let guid = role["name"].as_str().unwrap();
        let (st, b, _) = ctx
            .arm(
                Some(&s.token),
                Method::GET,
                &format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}?{API}"),
                None,
            )
            .await;
        assert_eq!(st, 200, "{b}");
        assert_eq!(b["id"], role["id"]);
        assert_eq!(b["properties"]["roleName"], role["properties"]["roleName"]);
        assert_eq!(b["properties"]["type"], "BuiltInRole");
        let perms = |v: &Value| -> Vec<Value> {
            v["properties"]["permissions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    json!([
                        p["actions"],
                        p["notActions"],
                        p["dataActions"],
                        p["notDataActions"]
                    ])
                })
                .collect()
        };
        assert_eq!(perms(&b), perms(role), "{guid}");
    }
    // Read at a subscription, a built-in's id carries the subscription (GetRoleDefinitionAtScope).
    let (st, b, _) = ctx
        .arm(
            Some(&s.token),
            Method::GET,
            &format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions?{API}&$filter=roleName%20eq%20'AcrPull'", s.sub),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(
        b["value"][0]["id"],
        format!(
            "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d",
            s.sub
        )
    );
}

#[tokio::test]
async fn custom_roles_are_created_listed_assigned_and_enforced() {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    ctx.put_rg(&s, "rg").await;
    let guid = uuid::Uuid::new_v4().to_string();
    let path = format!(
        "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{guid}?{API}",
        s.sub
    );
    let body = json!({"properties": {
        "roleName": "Group Reader",
        "description": "reads resource groups",
        "type": "CustomRole",
        "permissions": [{"actions": ["Microsoft.Resources/subscriptions/resourceGroups/read"], "notActions": [], "dataActions": [], "notDataActions": []}],
        "assignableScopes": [format!("/subscriptions/{}", s.sub)],
    }});
    let (st, b, _) = ctx
        .arm(Some(&s.token), Method::PUT, &path, Some(&body))
        .await;
    assert_eq!(st, 201, "RoleDefinitions_CreateOrUpdate answers 201: {b}");
    assert_eq!(b["properties"]["type"], "CustomRole");
    let (st, b, _) = ctx
        .arm(Some(&s.token), Method::GET, &format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions?{API}&$filter=type%20eq%20'CustomRole'", s.sub), None)
        .await;
    assert_eq!((st, b["value"].as_array().unwrap().len()), (200, 1), "{b}");
    let other = format!(
        "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{}?{API}",
        s.sub,
        uuid::Uuid::new_v4()
    );
    let (st, b, _) = ctx
        .arm(Some(&s.token), Method::PUT, &other, Some(&body))
        .await;
    assert_arm_error(st, &b, 409, "RoleDefinitionWithSameNameExists");

    let (p, token) = principal(&ctx, &s, json!({})).await;
    let rg = format!("/subscriptions/{}/resourceGroups/rg", s.sub);
    assign(&ctx, &s, &rg, &guid, &p, "ServicePrincipal").await;
    let t = token.as_deref();
    let (st, _, _) = ctx
        .arm(
            t,
            Method::GET,
            &format!("{rg}?api-version=2021-04-01"),
            None,
        )
        .await;
    assert_eq!(st, 200, "the custom role grants resourceGroups/read");
    let (st, b, _) = ctx
        .arm(
            t,
            Method::PUT,
            &format!("{rg}?api-version=2021-04-01"),
            Some(&json!({"location": "eastus"})),
        )
        .await;
    assert_arm_error(st, &b, 403, "AuthorizationFailed");

    let (st, _, _) = ctx.arm(Some(&s.token), Method::DELETE, &path, None).await;
    assert_eq!(st, 200);
    let (st, _, _) = ctx.arm(Some(&s.token), Method::DELETE, &path, None).await;
    assert_eq!(st, 204, "RoleDefinitions_Delete: 204 when absent");
}

#[tokio::test]
async fn assigned_to_lists_group_assignments_transitively() {
    // role-assignments-list-rest.md: assignedTo('{objectId}') lists the principal's assignments
    // and those of groups it is a member of, transitively; principalId eq lists exactly one object.
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    ctx.put_rg(&s, "rg").await;
    ctx.put_rg(&s, "other").await;
    let (outer, _) = principal(&ctx, &s, json!({"kind": "Group"})).await;
    let (inner, _) = principal(&ctx, &s, json!({"kind": "Group", "memberOf": [outer]})).await;
    let (p, token) = principal(&ctx, &s, json!({"memberOf": [inner]})).await;
    let rg = format!("/subscriptions/{}/resourceGroups/rg", s.sub);
    let ra = assign(&ctx, &s, &rg, READER, &outer, "Group").await;
    let id = ra["id"].as_str().unwrap().to_ascii_lowercase();
    let list = |filter: String| {
        let path = format!(
            "{rg}/providers/Microsoft.Authorization/roleAssignments?{API}&$filter={}",
            filter.replace(' ', "%20")
        );
        let ctx = &ctx;
        let token = s.token.clone();
        async move {
            let (st, b, _) = ctx.arm(Some(&token), Method::GET, &path, None).await;
            assert_eq!(st, 200, "{b}");
            ids(&b)
        }
    };
    assert!(list(format!("assignedTo('{p}')")).await.contains(&id));
    assert!(
        list(format!("atScope() and assignedTo('{p}')"))
            .await
            .contains(&id)
    );
    assert!(!list(format!("principalId eq '{p}'")).await.contains(&id));
    assert!(
        list(format!("principalId eq '{outer}'"))
            .await
            .contains(&id)
    );
    // ARM grants through the group: the member reads the group, not another one.
    let t = token.as_deref();
    let (st, _, _) = ctx
        .arm(
            t,
            Method::GET,
            &format!("{rg}?api-version=2021-04-01"),
            None,
        )
        .await;
    assert_eq!(st, 200);
    let (st, b, _) = ctx
        .arm(
            t,
            Method::GET,
            &format!(
                "/subscriptions/{}/resourceGroups/other?api-version=2021-04-01",
                s.sub
            ),
            None,
        )
        .await;
    assert_arm_error(st, &b, 403, "AuthorizationFailed");
}

#[tokio::test]
async fn management_group_assignments_are_inherited() {
    // overview.md "Scope": management group > subscription > resource group > resource, and
    // permissions granted at a parent are inherited.
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    ctx.put_rg(&s, "rg").await;
    let top = ctx
        .control(
            Method::POST,
            "/_emulator/managementGroups",
            json!({"tenantId": s.tenant}),
        )
        .await;
    let top_name = top["name"].as_str().unwrap().to_string();
    let child = ctx
        .control(
            Method::POST,
            "/_emulator/managementGroups",
            json!({"tenantId": s.tenant, "parent": top_name, "subscriptions": [s.sub]}),
        )
        .await;
    let child_scope = child["id"].as_str().unwrap().to_string();
    let (p, token) = principal(&ctx, &s, json!({})).await;
    let mg_scope = format!("/providers/Microsoft.Management/managementGroups/{top_name}");
    let ra = ctx
        .control(
            Method::POST,
            "/_emulator/roleAssignments",
            json!({"scope": mg_scope, "principalId": p, "role": "Reader"}),
        )
        .await;
    let t = token.as_deref();
    let rg = format!("/subscriptions/{}/resourceGroups/rg", s.sub);
    let (st, _, _) = ctx
        .arm(
            t,
            Method::GET,
            &format!("{rg}?api-version=2021-04-01"),
            None,
        )
        .await;
    assert_eq!(
        st, 200,
        "Reader two management groups up reads the resource group"
    );

    let (st, b, _) = ctx
        .arm(t, Method::GET, &format!("{rg}/providers/Microsoft.Authorization/roleAssignments?{API}&$filter=atScope()%20and%20assignedTo('{p}')"), None)
        .await;
    assert_eq!(st, 200, "{b}");
    let listed = &b["value"][0];
    assert_eq!(listed["id"], ra["id"]);
    assert_eq!(listed["properties"]["scope"], mg_scope);
    assert_eq!(
        listed["properties"]["roleDefinitionId"],
        format!("/providers/Microsoft.Authorization/roleDefinitions/{READER}"),
        "an assignment above subscriptions names the tenant-level definition"
    );
    // Listing at the child management group: the parent's assignment is at or above it.
    let (st, b, _) = ctx
        .arm(t, Method::GET, &format!("{child_scope}/providers/Microsoft.Authorization/roleAssignments?{API}&$filter=atScope()"), None)
        .await;
    assert_eq!(st, 200, "{b}");
    assert!(ids(&b).contains(&ra["id"].as_str().unwrap().to_ascii_lowercase()));
    // The subscription's owner holds nothing at the management group.
    let (st, b, _) = ctx
        .arm(Some(&s.token), Method::GET, &format!("{mg_scope}/providers/Microsoft.Authorization/roleAssignments?{API}&$filter=atScope()"), None)
        .await;
    assert_arm_error(st, &b, 403, "AuthorizationFailed");
}

#[tokio::test]
async fn assignment_conditions_are_kept() {
    // RoleAssignmentProperties.condition / conditionVersion (2022-04-01); the condition is the
    // delegation example of delegate-role-assignments-overview.md.
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    let (p, _) = principal(&ctx, &s, json!({})).await;
    let condition = "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {2a2b9908-6ea1-4ae2-8e65-a410df84e7d1}))";
    let scope = format!("/subscriptions/{}", s.sub);
    let body = json!({"properties": {
        "roleDefinitionId": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/f58310d9-a9f6-439a-9e8d-f62e7b41a168"),
        "principalId": p, "principalType": "ServicePrincipal",
        "condition": condition, "conditionVersion": "2.0",
    }});
    let (st, b, _) = ctx
        .arm(
            Some(&s.token),
            Method::PUT,
            &assignment_path(&scope),
            Some(&body),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(
        (
            b["properties"]["condition"].as_str(),
            b["properties"]["conditionVersion"].as_str()
        ),
        (Some(condition), Some("2.0"))
    );
    let (_, l, _) = ctx
        .arm(Some(&s.token), Method::GET, &format!("{scope}/providers/Microsoft.Authorization/roleAssignments?{API}&$filter=principalId%20eq%20'{p}'"), None)
        .await;
    assert_eq!(l["value"][0]["properties"]["condition"], condition);
}
