//! Flexible federated credentials (msi 2025-01-31-preview: `claimsMatchingExpression` instead of
//! `subject`, "Either 'subject' or 'claimsMatchingExpression' must be defined, but not both"),
//! role assignment descriptions (Authorization 2022-04-01 RoleAssignmentProperties) and the
//! per-client token request counter.

mod common;

use common::{Ctx, assert_arm_error, fic_path};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn flexible_credentials_by_api_version() {
    let c = Ctx::new().await;
    let s = c.subscription(json!({})).await;
    c.put_rg(&s, "rg").await;
    c.put_identity(&s, "rg", "id-app").await;
    let preview = |name: &str| {
        fic_path(&s.sub, "rg", "id-app", name).replace("2024-11-30", "2025-01-31-preview")
    };
    let expression =
        json!({"value": "claims['sub'] matches 'repo:contoso/app:*'", "languageVersion": 1});
    let flexible = json!({"properties": {"issuer": "https://token.actions.githubusercontent.com", "audiences": ["api://AzureADTokenExchange"], "claimsMatchingExpression": expression}});
    let (st, b, _) = c
        .arm(
            Some(&s.token),
            Method::PUT,
            &preview("gh-flex"),
            Some(&flexible),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(b["properties"]["claimsMatchingExpression"], expression);
    assert!(b["properties"].get("subject").is_none(), "{b}");

    // Both at once: refused. Without the preview api-version the expression is no substitute.
    let mut both = flexible.clone();
    both["properties"]["subject"] = json!("repo:contoso/app:ref:refs/heads/main");
    let (st, b, _) = c
        .arm(
            Some(&s.token),
            Method::PUT,
            &preview("both-at-once"),
            Some(&both),
        )
        .await;
    assert_arm_error(st, &b, 400, "BadRequest");
    let (st, b, _) = c
        .arm(
            Some(&s.token),
            Method::PUT,
            &fic_path(&s.sub, "rg", "id-app", "ga-flex"),
            Some(&flexible),
        )
        .await;
    assert_arm_error(st, &b, 400, "BadRequest");

    // Listed at a GA api-version: no subject, no expression.
    let list = fic_path(&s.sub, "rg", "id-app", "x")
        .replace("/x?api-version=2024-11-30", "?api-version=2023-01-31");
    let (st, b, _) = c.arm(Some(&s.token), Method::GET, &list, None).await;
    assert_eq!(st, 200, "{b}");
    let props = &b["value"][0]["properties"];
    assert_eq!(
        props["issuer"],
        "https://token.actions.githubusercontent.com"
    );
    assert!(
        props.get("subject").is_none() && props.get("claimsMatchingExpression").is_none(),
        "{b}"
    );
}

#[tokio::test]
async fn role_assignment_descriptions_and_token_counts() {
    let c = Ctx::new().await;
    let s = c.subscription(json!({})).await;
    c.put_rg(&s, "rg").await;
    let id = c.put_identity(&s, "rg", "id-app").await;
    let principal = id["properties"]["principalId"].as_str().unwrap();
    let path = format!(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/0b2c4d6e-8f10-4a12-9c14-16181a1c1e20?api-version=2022-04-01",
        s.sub
    );
    let body = json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", s.sub),
        "principalId": principal, "principalType": "ServicePrincipal", "description": "made by a tool"}});
    let (st, b, _) = c.arm(Some(&s.token), Method::PUT, &path, Some(&body)).await;
    assert_eq!(st, 201, "{b}");
    let (_, b, _) = c.arm(Some(&s.token), Method::GET, &path, None).await;
    assert_eq!(b["properties"]["description"], "made by a tool");

    let count = |v: serde_json::Value| v["count"].as_u64().unwrap();
    let url = format!("/_emulator/clients/{}/token-requests", s.owner_client_id);
    let before = count(c.control(Method::GET, &url, json!(null)).await);
    let (st, _) = c
        .token_request(
            &s.tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &s.owner_client_id),
                ("client_secret", "wrong"),
                ("scope", "https://management.azure.com/.default"),
            ],
        )
        .await;
    assert_eq!(st, 401);
    assert_eq!(
        count(c.control(Method::GET, &url, json!(null)).await),
        before + 1,
        "refused requests count too"
    );
}
