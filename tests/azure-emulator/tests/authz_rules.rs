//! The emulator's Authorization model against Microsoft's: built-in roles with their published
//! ids and permissions, custom roles, `assignedTo` through groups, inheritance from management
//! groups, deny assignments (the 2022-04-01 examples replayed, the documented filters, and
//! enforcement), conditions on assignments.
//!
//! Sources: Azure/azure-rest-api-specs Authorization 2022-04-01 (role definitions, role
//! assignments, deny assignments and their examples, vendored in data/azure-api); MicrosoftDocs
//! azure-docs articles/role-based-access-control/ role-assignments-list-rest.md,
//! deny-assignments.md, deny-assignments-rest.md, overview.md.

mod common;

use std::collections::BTreeSet;

use common::{Ctx, Sub, assert_arm_error};
use reqwest::Method;
use serde_json::{Value, json};

const API: &str = "api-version=2022-04-01";

fn data(rel: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A principal of `kind` in the subscription, with its token when it is a service principal.
async fn principal(ctx: &Ctx, s: &Sub, body: Value) -> (String, Option<String>) {
    let v = ctx
        .control(
            Method::POST,
            &format!("/_emulator/subscriptions/{}/principals", s.sub),
            body,
        )
        .await;
    let oid = v["objectId"].as_str().unwrap().to_string();
    let token = match (v["clientId"].as_str(), v["clientSecret"].as_str()) {
        (Some(c), Some(k)) => Some(ctx.secret_token(&s.tenant, c, k).await),
        _ => None,
    };
    (oid, token)
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

fn ids(list: &Value) -> BTreeSet<String> {
    list["value"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_ascii_lowercase())
        .collect()
}

const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

#[tokio::test]
async fn builtin_roles_are_microsofts_published_definitions() {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    let vendored = data("builtin-roles.json");
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

/// Keys and value types of a JSON document, as paths (`a.b[].c:string`).
fn shape_of(v: &Value, at: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                shape_of(x, &format!("{at}.{k}"), out);
            }
        }
        Value::Array(a) => {
            for x in a {
                shape_of(x, &format!("{at}[]"), out);
            }
        }
        Value::Null => {}
        Value::String(_) => {
            out.insert(format!("{at}:string"));
        }
        Value::Bool(_) => {
            out.insert(format!("{at}:bool"));
        }
        Value::Number(_) => {
            out.insert(format!("{at}:number"));
        }
    }
}

fn shape(v: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    shape_of(v, "", &mut out);
    out
}

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
