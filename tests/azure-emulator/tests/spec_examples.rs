//! Replays every x-ms-example of the Microsoft specs vendored in data/azure-api against the emulator:
//! sets up what the example presupposes, sends its request and checks the status is one the
//! example documents and the body has the example's shape (keys, value types, id forms).

mod common;

use common::Ctx;
use regex::Regex;
use reqwest::Method;
use serde_json::{Value, json};

fn examples(rel: &str) -> Vec<(String, Value)> {
    let dir = common::data_dir().join(rel);
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (name, v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!out.is_empty(), "no examples in {}", dir.display());
    out
}

/// Keys the services return that these examples leave out (documented in the specs).
const OPTIONAL_KEYS: &[&str] = &[
    "nextLink",
    "createdOn",
    "updatedOn",
    "createdBy",
    "updatedBy",
    "condition",
    "conditionVersion",
    "delegatedManagedIdentityResourceId",
    "description",
    "systemData",
];

/// ARM id -> regex: keywords (and provider namespaces/types) literal, names free.
fn id_pattern(id: &str) -> String {
    let segs: Vec<&str> = id.trim_start_matches('/').split('/').collect();
    let mut out = String::new();
    let mut i = 0;
    while i < segs.len() {
        if segs[i].eq_ignore_ascii_case("providers") {
            out.push('/');
            out.push_str(&regex::escape(segs[i]));
            if i + 1 < segs.len() {
                out.push('/');
                out.push_str(&regex::escape(segs[i + 1]));
            }
            i += 2;
            continue;
        }
        out.push('/');
        out.push_str(&regex::escape(segs[i]));
        if i + 1 < segs.len() {
            out.push_str("/[^/]+");
        }
        i += 2;
    }
    out
}

fn shape(expected: &Value, actual: &Value, key: &str, at: &str, errs: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Null, _) => {}
        (Value::Object(e), Value::Object(a)) => {
            for k in e.keys() {
                if !a.contains_key(k) && k != "nextLink" {
                    errs.push(format!("{at}: missing key `{k}`"));
                }
            }
            for k in a.keys() {
                if !e.contains_key(k) && !OPTIONAL_KEYS.contains(&k.as_str()) {
                    errs.push(format!("{at}: unexpected key `{k}`"));
                }
            }
            for (k, ev) in e {
                if let Some(av) = a.get(k) {
                    shape(ev, av, k, &format!("{at}.{k}"), errs);
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if key == "value" && !e.is_empty() && a.is_empty() {
                errs.push(format!("{at}: expected a non-empty list"));
            }
            // Each element must have the shape of one of the example's elements (lists mix
            // e.g. subscription- and resource-group-scoped assignments).
            if !e.is_empty() {
                for (n, av) in a.iter().enumerate() {
                    let tries: Vec<Vec<String>> = e
                        .iter()
                        .map(|ev| {
                            let mut sub = Vec::new();
                            shape(ev, av, key, &format!("{at}[{n}]"), &mut sub);
                            sub
                        })
                        .collect();
                    if tries.iter().all(|t| !t.is_empty()) {
                        errs.extend(tries.into_iter().next().unwrap());
                    }
                }
            }
        }
        // Built-in roles are assignable at "/", custom ones at subscriptions: both are scopes.
        (Value::String(_), Value::String(_)) if key == "assignableScopes" => {}
        (Value::String(e), Value::String(a)) if e.starts_with('/') => {
            // Full id form for `id`; for references (roleDefinitionId...) the provider part.
            let pat = match (key, e.rfind("/providers/")) {
                ("id", _) | (_, None) => format!("^{}$", id_pattern(e)),
                (_, Some(p)) => format!("{}$", id_pattern(&e[p..])),
            };
            if !Regex::new(&pat).unwrap().is_match(a) {
                errs.push(format!(
                    "{at}: `{a}` does not have the form of `{e}` ({pat})"
                ));
            }
        }
        (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Number(_), Value::Number(_)) => {}
        (e, a) => errs.push(format!("{at}: type differs: example {e} vs {a}")),
    }
}

fn p<'a>(ex: &'a Value, k: &str) -> &'a str {
    ex["parameters"][k]
        .as_str()
        .unwrap_or_else(|| panic!("parameter {k}"))
}

/// Roles the examples name that are not built-in roles get a real built-in (Reader) instead.
const EXAMPLE_ROLE: &str = "0b5fe924-9a61-425c-96af-cfe6e287ca2d";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

async fn replay(file: &str, ex: &Value, api_dir: &str) {
    let ctx = Ctx::new().await;
    let params = &ex["parameters"];
    let api = p(ex, "api-version");
    // Each example runs in its own emulator with the literal ids the example uses.
    let sub_id = params["subscriptionId"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            params["scope"]
                .as_str()
                .and_then(|s| s.strip_prefix("subscriptions/"))
                .map(|s| s.split('/').next().unwrap().to_string())
        })
        .unwrap_or_else(|| "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2".to_string());
    let s = ctx.subscription(json!({"subscriptionId": sub_id})).await;
    let sub = &s.sub;
    let body = params.get("parameters").cloned();

    let (method, path): (Method, String) = if api_dir.starts_with("msi") {
        let rg = params["resourceGroupName"]
            .as_str()
            .unwrap_or("rgName")
            .to_string();
        ctx.put_rg(&s, &rg).await;
        let id_base = format!(
            "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
        );
        let name = params["resourceName"]
            .as_str()
            .unwrap_or("resourceName")
            .to_string();
        let fic_name = params["federatedIdentityCredentialResourceName"]
            .as_str()
            .unwrap_or("ficResourceName");
        let needs_identity = !file.starts_with("IdentityCreate");
        if needs_identity {
            // With the tags the example's response shows, as the example presupposes them.
            let tags = ex["responses"]["200"]["body"]["tags"].clone();
            let tags = if tags.is_object() {
                tags
            } else {
                ex["responses"]["200"]["body"]["value"][0]["tags"].clone()
            };
            let (st, b, _) = ctx
                .arm(
                    Some(&s.token),
                    Method::PUT,
                    &format!("{id_base}/{name}?api-version={api}"),
                    Some(&json!({"location": "eastus", "tags": tags})),
                )
                .await;
            assert_eq!(st, 201, "{file}: identity setup: {b}");
        }
        if matches!(
            file,
            "FederatedIdentityCredentialGet"
                | "FederatedIdentityCredentialDelete"
                | "FederatedIdentityCredentialList"
        ) {
            let (st, b, _) = ctx
                .arm(
                    Some(&s.token),
                    Method::PUT,
                    &format!(
                        "{id_base}/{name}/federatedIdentityCredentials/{fic_name}?api-version={api}"
                    ),
                    Some(&common::fic_body(
                        "https://oidc.prod-aks.azure.com/TenantGUID/IssuerGUID",
                        "system:serviceaccount:ns:svcaccount",
                    )),
                )
                .await;
            assert_eq!(st, 201, "{file}: FIC setup: {b}");
        }
        let q = format!("api-version={api}");
        match file {
            "IdentityCreate" => (Method::PUT, format!("{id_base}/{name}?{q}")),
            "IdentityGet" => (Method::GET, format!("{id_base}/{name}?{q}")),
            "IdentityUpdate" => (Method::PATCH, format!("{id_base}/{name}?{q}")),
            "IdentityDelete" => (Method::DELETE, format!("{id_base}/{name}?{q}")),
            "IdentityListByResourceGroup" => (Method::GET, format!("{id_base}?{q}")),
            "IdentityListBySubscription" => (
                Method::GET,
                format!(
                    "/subscriptions/{sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?{q}"
                ),
            ),
            "FederatedIdentityCredentialCreate"
            | "FederatedIdentityCredentialGet"
            | "FederatedIdentityCredentialDelete" => {
                let m = match file {
                    "FederatedIdentityCredentialCreate" => Method::PUT,
                    "FederatedIdentityCredentialGet" => Method::GET,
                    _ => Method::DELETE,
                };
                (
                    m,
                    format!("{id_base}/{name}/federatedIdentityCredentials/{fic_name}?{q}"),
                )
            }
            "FederatedIdentityCredentialList" => {
                let top = params["top"]
                    .as_str()
                    .map(|t| format!("&$top={t}"))
                    .unwrap_or_default();
                (
                    Method::GET,
                    format!("{id_base}/{name}/federatedIdentityCredentials?{q}{top}"),
                )
            }
            other => panic!("no replay mapping for example {api_dir}/{other}"),
        }
    } else {
        let scope = params["scope"]
            .as_str()
            .map(|s| {
                if s == "scope" {
                    format!("subscriptions/{sub}")
                } else {
                    s.to_string()
                }
            })
            .unwrap_or_else(|| format!("subscriptions/{sub}"));
        // Every resource group the example mentions exists; its principal exists (as a user).
        let text = ex.to_string();
        for rg in Regex::new(r"resourceGroups/([A-Za-z0-9_\-]+)")
            .unwrap()
            .captures_iter(&text)
        {
            ctx.put_rg(&s, &rg[1]).await;
        }
        if let Some(rg) = params["resourceGroupName"].as_str() {
            ctx.put_rg(&s, rg).await;
        }
        for pid in Regex::new(r#""principalId":"([0-9a-f-]{36})""#)
            .unwrap()
            .captures_iter(&text)
        {
            ctx.control(
                Method::POST,
                &format!("/_emulator/subscriptions/{sub}/principals"),
                json!({"objectId": &pid[1], "kind": "User"}),
            )
            .await;
        }
        // Assignments the example's response (or its Get/Delete) presupposes.
        let mut presupposed: Vec<(String, String, String)> = Vec::new();
        if let Some(list) = ex["responses"]["200"]["body"]["value"].as_array() {
            for ra in list
                .iter()
                .filter(|v| v["type"] == "Microsoft.Authorization/roleAssignments")
            {
                presupposed.push((
                    ra["properties"]["scope"].as_str().unwrap().to_string(),
                    ra["name"].as_str().unwrap().to_string(),
                    ra["properties"]["principalId"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                ));
            }
        }
        if matches!(file, "RoleAssignments_Get" | "RoleAssignments_Delete") {
            let b = &ex["responses"]["200"]["body"];
            presupposed.push((
                format!("/{scope}"),
                p(ex, "roleAssignmentName").to_string(),
                b["properties"]["principalId"].as_str().unwrap().to_string(),
            ));
        }
        for (sc, name, pid) in presupposed {
            let (st, b, _) = ctx
                .arm(
                    Some(&s.token),
                    Method::PUT,
                    &format!("{sc}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01"),
                    Some(&json!({"properties": {
                        "roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}"),
                        "principalId": pid}})),
                )
                .await;
            assert_eq!(st, 201, "{file}: setup assignment {name}: {b}");
        }
        let q = format!("api-version={api}");
        match file {
            f if f.starts_with("RoleAssignments_Create") => (
                Method::PUT,
                format!(
                    "/{scope}/providers/Microsoft.Authorization/roleAssignments/{}?{q}",
                    p(ex, "roleAssignmentName")
                ),
            ),
            "RoleAssignments_Get" | "RoleAssignments_Delete" => (
                if file.ends_with("Get") {
                    Method::GET
                } else {
                    Method::DELETE
                },
                format!(
                    "/{scope}/providers/Microsoft.Authorization/roleAssignments/{}?{q}",
                    p(ex, "roleAssignmentName")
                ),
            ),
            "RoleAssignments_ListForScope" => (
                Method::GET,
                format!("/{scope}/providers/Microsoft.Authorization/roleAssignments?{q}"),
            ),
            "RoleAssignments_ListForSubscription" => (
                Method::GET,
                format!(
                    "/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments?{q}"
                ),
            ),
            "RoleAssignments_ListForResourceGroup" => (
                Method::GET,
                format!(
                    "/subscriptions/{sub}/resourceGroups/{}/providers/Microsoft.Authorization/roleAssignments?{q}",
                    p(ex, "resourceGroupName")
                ),
            ),
            "GetRoleDefinitionAtScope" => (
                Method::GET,
                format!("/{scope}/providers/Microsoft.Authorization/roleDefinitions?{q}"),
            ),
            "GetRoleDefinitionByName" => (
                Method::GET,
                format!("/{scope}/providers/Microsoft.Authorization/roleDefinitions/{READER}?{q}"),
            ),
            other => panic!("no replay mapping for example {api_dir}/{other}"),
        }
    };
    let body = body.map(|b| {
        serde_json::from_str::<Value>(&b.to_string().replace(EXAMPLE_ROLE, READER)).unwrap()
    });
    let (status, got, _) = ctx
        .arm(Some(&s.token), method.clone(), &path, body.as_ref())
        .await;
    let responses = ex["responses"].as_object().unwrap();
    let documented = responses.get(&status.to_string()).unwrap_or_else(|| {
        panic!(
            "{api_dir}/{file}: {method} {path} answered {status} {got}, documented: {:?}",
            responses.keys().collect::<Vec<_>>()
        )
    });
    match documented.get("body") {
        Some(expected) => {
            let mut errs = Vec::new();
            shape(expected, &got, "", "$", &mut errs);
            assert!(
                errs.is_empty(),
                "{api_dir}/{file}: shape differs:\n  {}\n got: {got:#}",
                errs.join("\n  ")
            );
        }
        None => assert!(
            got.is_null(),
            "{api_dir}/{file}: documented without body, got {got}"
        ),
    }
    eprintln!("replayed {api_dir}/{file}: {method} -> {status}");
}

async fn replay_dir(rel: &str, expect_at_least: usize) {
    let all = examples(rel);
    assert!(
        all.len() >= expect_at_least,
        "{rel}: only {} examples",
        all.len()
    );
    for (file, ex) in &all {
        replay(file, ex, rel).await;
    }
}

#[tokio::test]
async fn msi_2024_11_30_examples() {
    replay_dir("msi/2024-11-30/examples", 10).await;
}

#[tokio::test]
async fn msi_2026_05_31_examples() {
    replay_dir("msi/2026-05-31/examples", 8).await;
}

#[tokio::test]
async fn authorization_2022_04_01_examples() {
    replay_dir("authorization/2022-04-01/examples", 10).await;
}

#[test]
fn id_pattern_keeps_keywords_literal() {
    let pat = id_pattern(
        "/subscriptions/x/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/n",
    );
    let re = Regex::new(&format!("^{pat}$")).unwrap();
    assert!(re.is_match("/subscriptions/1/resourcegroups/a/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b"));
    assert!(!re.is_match("/subscriptions/1/resourceGroups/a/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b"));
}
