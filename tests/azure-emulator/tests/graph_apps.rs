//! Microsoft Graph writes on application registrations, their service principals and their
//! federated identity credentials, replayed from the vendored examples in
//! data/azure-api/graph-federated-credentials (each test names the files it replays), and the
//! token exchange for a credential on an application.

mod common;

use std::collections::BTreeSet;

use azure_emulator::jwt::RsaSigner;
use common::graph::{assert_graph_error, graph, graph_caller, graph_with, urlenc};
use common::{Ctx, Sub};
use reqwest::Method;
use serde_json::{Value, json};

/// The placeholders of the examples (README.md there): application object id, application
/// (client) id, service principal object id, credential id, tenant.
const APP_OID: &str = "3c5b7a9d-1e2f-4a6b-8c9d-0e1f2a3b4c5d";
const APP_ID: &str = "7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b";
const SP_OID: &str = "5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f";
const FIC_ID: &str = "d9b7bf1e-429e-4678-8132-9b00c9846cc4";
const TENANT: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
/// Properties whose values are the service's own (time, absolute links clients do not follow).
const OWN: [&str; 2] = ["createdDateTime", "@odata.id"];

/// An example file with the placeholders replaced by this run's ids and Graph's host by the
/// emulator's (as `@odata.context` carries the host the caller used).
fn example(ctx: &Ctx, file: &str, ids: &[(&str, &str)]) -> Value {
    let path = common::data_dir()
        .join("graph-federated-credentials")
        .join(file);
    let mut text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (from, to) in ids {
        text = text.replace(from, to);
    }
    text = text.replace("https://graph.microsoft.com", ctx.emu.url());
    serde_json::from_str(&text).unwrap()
}

/// The request of an example as a path on the emulator, the `$filter`/`$select` values
/// percent-encoded as they go on the wire.
fn request_path(ctx: &Ctx, ex: &Value) -> String {
    let url = ex["request"]["url"].as_str().unwrap();
    let rest = url.strip_prefix(ctx.emu.url()).unwrap();
    match rest.split_once('?') {
        None => rest.to_string(),
        Some((path, q)) => {
            let q: Vec<String> = q
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => format!("{k}={}", urlenc(v)),
                    None => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", q.join("&"))
        }
    }
}

async fn replay(ctx: &Ctx, token: &str, ex: &Value) -> (u16, Value) {
    let r = &ex["request"];
    let method = Method::from_bytes(r["method"].as_str().unwrap().as_bytes()).unwrap();
    let headers: Vec<(String, String)> = r["headers"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.as_str() == "Prefer")
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let hs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = Some(r["body"].clone()).filter(|b| !b.is_null());
    graph_with(ctx, token, method, &request_path(ctx, ex), body, &hs).await
}

/// `got` has the example body's properties with the example's values; `exact`: and no others.
fn assert_body(got: &Value, want: &Value, exact: bool) {
    let keys = |v: &Value| -> BTreeSet<String> {
        v.as_object()
            .unwrap()
            .keys()
            .filter(|k| !OWN.contains(&k.as_str()))
            .cloned()
            .collect()
    };
    let (g, w) = (keys(got), keys(want));
    if exact {
        assert_eq!(g, w, "properties of {got}");
    } else {
        assert!(w.is_subset(&g), "{w:?} not all in {got}");
    }
    for k in &w {
        assert_eq!(got[k], want[k], "{k} in {got}");
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap().to_string()
}

/// Creates the example application and returns the id substitutions for the other examples.
async fn example_app(ctx: &Ctx, token: &str) -> Vec<(String, String)> {
    let ex = example(ctx, "application-create.json", &[]);
    let (st, b) = replay(ctx, token, &ex).await;
    assert_eq!(st, ex["response"]["status"], "{b}");
    vec![
        (APP_OID.to_string(), text(&b["id"])),
        (APP_ID.to_string(), text(&b["appId"])),
    ]
}

fn refs(ids: &[(String, String)]) -> Vec<(&str, &str)> {
    ids.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

async fn writer(ctx: &Ctx) -> (Sub, String, String) {
    let s = ctx.subscription(json!({})).await;
    let (oid, token) = graph_caller(ctx, &s, &["Application.ReadWrite.OwnedBy"]).await;
    (s, oid, token)
}

/// application-create, application-find-by-displayname, application-get-by-appid,
/// serviceprincipal-create, serviceprincipal-get-by-appid; the app id in the object-id slot is
/// a 404 (the note in application-get-by-appid.json), a second service principal a 409.
#[tokio::test]
async fn applications_and_service_principals_as_the_examples_show() {
    let ctx = Ctx::new().await;
    let (s, _, token) = writer(&ctx).await;
    let ex = example(&ctx, "application-create.json", &[]);
    let (st, b) = replay(&ctx, &token, &ex).await;
    assert_eq!(st, 201, "{b}");
    let ids = vec![
        (APP_OID.to_string(), text(&b["id"])),
        (APP_ID.to_string(), text(&b["appId"])),
        (TENANT.to_string(), s.tenant.clone()),
    ];
    let ex = example(&ctx, "application-create.json", &refs(&ids));
    assert_body(&b, &ex["response"]["body"], false);
    let created = b["createdDateTime"].as_str().unwrap();
    assert!(
        regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
            .unwrap()
            .is_match(created),
        "{created}"
    );

    // The Azure CLI lists applications by prefix (role/custom.py `list_applications`:
    // `startswith(displayName,'…')`), a filter Graph documents for displayName.
    let f = urlenc("startswith(displayName,'payments-')");
    let (st, b) = graph(
        &ctx,
        &token,
        Method::GET,
        &format!("/v1.0/applications?$filter={f}"),
        None,
    )
    .await;
    assert_eq!(
        (st, b["value"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{b}"
    );
    let f = urlenc("startswith(displayName,'checkout')");
    let (_, b) = graph(
        &ctx,
        &token,
        Method::GET,
        &format!("/v1.0/applications?$filter={f}"),
        None,
    )
    .await;
    assert_eq!(b["value"], json!([]));
    for file in [
        "application-find-by-displayname.json",
        "application-get-by-appid.json",
    ] {
        let ex = example(&ctx, file, &refs(&ids));
        let (st, b) = replay(&ctx, &token, &ex).await;
        assert_eq!(st, ex["response"]["status"], "{file}: {b}");
        assert_body(&b, &ex["response"]["body"], true);
    }
    let app_id = ids[1].1.clone();
    let (st, b) = graph(
        &ctx,
        &token,
        Method::GET,
        &format!("/v1.0/applications/{app_id}"),
        None,
    )
    .await;
    assert_graph_error(st, &b, 404, "Request_ResourceNotFound");

    // No service principal until one is created.
    let get_sp = example(&ctx, "serviceprincipal-get-by-appid.json", &refs(&ids));
    let (st, b) = replay(&ctx, &token, &get_sp).await;
    assert_graph_error(st, &b, 404, "Request_ResourceNotFound");
    let ex = example(&ctx, "serviceprincipal-create.json", &refs(&ids));
    let (st, b) = replay(&ctx, &token, &ex).await;
    assert_eq!(st, 201, "{b}");
    let mut ids = ids;
    ids.push((SP_OID.to_string(), text(&b["id"])));
    let ex = example(&ctx, "serviceprincipal-create.json", &refs(&ids));
    assert_body(&b, &ex["response"]["body"], false);
    let get_sp = example(&ctx, "serviceprincipal-get-by-appid.json", &refs(&ids));
    let (st, b) = replay(&ctx, &token, &get_sp).await;
    assert_eq!(st, 200, "{b}");
    assert_body(&b, &get_sp["response"]["body"], true);
    let (st, b) = replay(&ctx, &token, &ex).await;
    assert_graph_error(st, &b, 409, "Request_MultipleObjectsWithSameKeyValue");

    // Disabling the service principal shows in accountEnabled.
    let sp = &ids[3].1;
    let (st, _) = graph(
        &ctx,
        &token,
        Method::PATCH,
        &format!("/v1.0/servicePrincipals/{sp}"),
        Some(json!({"accountEnabled": false})),
    )
    .await;
    assert_eq!(st, 204);
    let (st, b) = graph(
        &ctx,
        &token,
        Method::GET,
        &format!("/v1.0/servicePrincipals/{sp}"),
        None,
    )
    .await;
    assert_eq!((st, &b["accountEnabled"]), (200, &json!(false)), "{b}");
    // The list form the README names for a service principal by app id.
    let f = urlenc(&format!("appId eq '{app_id}'"));
    let (_, b) = graph(
        &ctx,
        &token,
        Method::GET,
        &format!("/v1.0/servicePrincipals?$filter={f}"),
        None,
    )
    .await;
    assert_eq!(b["value"].as_array().unwrap().len(), 1, "{b}");
    // Deleting the application deletes its service principal.
    let (st, _) = graph(
        &ctx,
        &token,
        Method::DELETE,
        &format!("/v1.0/applications(appId='{app_id}')"),
        None,
    )
    .await;
    assert_eq!(st, 204);
    let (st, b) = replay(&ctx, &token, &get_sp).await;
    assert_graph_error(st, &b, 404, "Request_ResourceNotFound");
}

/// fic-create, fic-create-by-appid (then the 409 of error-409-duplicate-name.json), a second
/// name for the same issuer+subject (error-400-duplicate-issuer-subject.json, word for word),
/// fic-list, fic-list-filter-subject, fic-get (by id, by name, by `(name='…')`), fic-update,
/// fic-delete, and the 404 of error-404-not-found.json.
#[tokio::test]
async fn federated_credentials_as_the_examples_show() {
    let ctx = Ctx::new().await;
    let (_, _, token) = writer(&ctx).await;
    let ids = example_app(&ctx, &token).await;
    let ex = example(&ctx, "fic-create.json", &refs(&ids));
    let (st, b) = replay(&ctx, &token, &ex).await;
    assert_eq!(st, 201, "{b}");
    let mut ids = ids;
    ids.push((FIC_ID.to_string(), text(&b["id"])));
    let ex = example(&ctx, "fic-create.json", &refs(&ids));
    assert_body(&b, &ex["response"]["body"], true);

    // The same credential again through the app id: its name is taken.
    let by_appid = example(&ctx, "fic-create-by-appid.json", &refs(&ids));
    let (st, b) = replay(&ctx, &token, &by_appid).await;
    let want = example(&ctx, "error-409-duplicate-name.json", &[]);
    assert_graph_error(st, &b, 409, want["body"]["error"]["code"].as_str().unwrap());
    assert_eq!(b["error"]["message"], want["body"]["error"]["message"]);
    // Under another name: issuer+subject are taken.
    let mut other = by_appid.clone();
    other["request"]["body"]["name"] = json!("payments-checkout-eastus2-aks1-b");
    let (st, b) = replay(&ctx, &token, &other).await;
    let want = example(&ctx, "error-400-duplicate-issuer-subject.json", &[]);
    assert_graph_error(st, &b, 400, want["body"]["error"]["code"].as_str().unwrap());
    assert_eq!(b["error"]["message"], want["body"]["error"]["message"]);

    // `$expand=federatedIdentityCredentials` on the application list embeds them.
    let (st, b) = graph(
        &ctx,
        &token,
        Method::GET,
        "/v1.0/applications?$select=id,appId,displayName&$expand=federatedIdentityCredentials",
        None,
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let want = example(&ctx, "fic-list.json", &refs(&ids));
    // The tenant also holds the caller's own registration: pick the example application.
    let listed = b["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == ids[0].1.as_str())
        .unwrap();
    assert_eq!(
        listed["federatedIdentityCredentials"],
        want["response"]["body"]["value"]
    );
    for file in [
        "fic-list.json",
        "fic-list-filter-subject.json",
        "fic-get.json",
    ] {
        let ex = example(&ctx, file, &refs(&ids));
        let (st, b) = replay(&ctx, &token, &ex).await;
        assert_eq!(st, 200, "{file}: {b}");
        assert_body(&b, &ex["response"]["body"], true);
    }
    let fic_get = example(&ctx, "fic-get.json", &refs(&ids));
    let base = request_path(&ctx, &fic_get);
    let by_id = base.rsplit_once('/').unwrap().0.to_string();
    for alt in [
        "/payments-checkout-eastus2-aks1",
        "(name='payments-checkout-eastus2-aks1')",
    ] {
        let (st, b) = graph(&ctx, &token, Method::GET, &format!("{by_id}{alt}"), None).await;
        assert_eq!(st, 200, "{alt}: {b}");
        assert_body(&b, &fic_get["response"]["body"], true);
    }
    let f = urlenc("subject eq 'system:serviceaccount:payments:other'");
    let (_, b) = graph(
        &ctx,
        &token,
        Method::GET,
        &format!("{by_id}?$filter={f}"),
        None,
    )
    .await;
    assert_eq!(b["value"], json!([]));
    let f = urlenc("issuer eq 'x'");
    let (st, b) = graph(
        &ctx,
        &token,
        Method::GET,
        &format!("{by_id}?$filter={f}"),
        None,
    )
    .await;
    assert_graph_error(st, &b, 400, "Request_UnsupportedQuery");

    let upd = example(&ctx, "fic-update.json", &refs(&ids));
    let (st, b) = replay(&ctx, &token, &upd).await;
    assert_eq!((st, &b), (204, &Value::Null));
    let (_, b) = replay(&ctx, &token, &fic_get).await;
    assert_eq!(b["subject"], upd["request"]["body"]["subject"]);
    assert_eq!(b["description"], upd["request"]["body"]["description"]);
    assert_eq!(b["issuer"], fic_get["response"]["body"]["issuer"]);

    let del = example(&ctx, "fic-delete.json", &refs(&ids));
    let (st, _) = replay(&ctx, &token, &del).await;
    assert_eq!(st, 204);
    let (st, b) = replay(&ctx, &token, &fic_get).await;
    let want = example(&ctx, "error-404-not-found.json", &[]);
    assert_graph_error(st, &b, 404, want["body"]["error"]["code"].as_str().unwrap());
    let text = want["body"]["error"]["message"].as_str().unwrap();
    assert_eq!(b["error"]["message"], text.replace(APP_OID, &ids[2].1));
}

/// fic-upsert-by-name: 201 with the object when the name is new, 204 without a body when it
/// exists; without `Prefer: create-if-missing` a missing name is a 404.
#[tokio::test]
async fn upsert_by_name_creates_then_updates() {
    let ctx = Ctx::new().await;
    let (_, _, token) = writer(&ctx).await;
    let ids = example_app(&ctx, &token).await;
    let ex = example(&ctx, "fic-upsert-by-name.json", &refs(&ids));
    let mut plain = ex.clone();
    plain["request"]["headers"]
        .as_object_mut()
        .unwrap()
        .remove("Prefer");
    let (st, b) = replay(&ctx, &token, &plain).await;
    assert_graph_error(st, &b, 404, "Request_ResourceNotFound");
    let (st, b) = replay(&ctx, &token, &ex).await;
    let created = &ex["responses"][0];
    assert_eq!(st, created["status"], "{b}");
    let ids: Vec<(String, String)> = ids
        .into_iter()
        .chain([(FIC_ID.to_string(), text(&b["id"]))])
        .collect();
    let ex = example(&ctx, "fic-upsert-by-name.json", &refs(&ids));
    assert_body(&b, &ex["responses"][0]["body"], true);
    let (st, b) = replay(&ctx, &token, &ex).await;
    assert_eq!((st, &b), (204, &ex["responses"][1]["body"]));
    let (_, b) = graph(
        &ctx,
        &token,
        Method::GET,
        &format!(
            "/v1.0/applications/{}/federatedIdentityCredentials",
            ids[0].1
        ),
        None,
    )
    .await;
    assert_eq!(b["value"].as_array().unwrap().len(), 1, "{b}");
}

/// "A maximum of 20 objects can be added to an application" (application-post-
/// federatedidentitycredentials.md): the 21st is refused and not stored. Its exact error is
/// unpublished (error-400-fic-limit-UNCONFIRMED.json), so only the status is held here.
#[tokio::test]
async fn twenty_credentials_per_application() {
    let ctx = Ctx::new().await;
    let (_, _, token) = writer(&ctx).await;
    let ids = example_app(&ctx, &token).await;
    let path = format!(
        "/v1.0/applications/{}/federatedIdentityCredentials",
        ids[0].1
    );
    let fic = |i: usize| json!({"name": format!("c{i}"), "issuer": "https://issuer.example/", "subject": format!("system:serviceaccount:ns:sa{i}"), "audiences": ["api://AzureADTokenExchange"]});
    for i in 0..20 {
        let (st, b) = graph(&ctx, &token, Method::POST, &path, Some(fic(i))).await;
        assert_eq!(st, 201, "{i}: {b}");
    }
    let (st, b) = graph(&ctx, &token, Method::POST, &path, Some(fic(20))).await;
    assert_eq!(st, 400, "{b}");
    let (_, b) = graph(&ctx, &token, Method::GET, &path, None).await;
    assert_eq!(b["value"].as_array().unwrap().len(), 20);
}

/// `Application.ReadWrite.OwnedBy` writes only the applications the caller owns (the README's
/// permission notes); the refusal is error-403-insufficient-privileges.json. A reader may list.
#[tokio::test]
async fn owned_by_writes_only_its_own_applications() {
    let ctx = Ctx::new().await;
    let (s, _, token) = writer(&ctx).await;
    let ids = example_app(&ctx, &token).await;
    let (_, other) = graph_caller(&ctx, &s, &["Application.ReadWrite.OwnedBy"]).await;
    let (_, reader) = graph_caller(&ctx, &s, &["Application.Read.All"]).await;
    let (_, all) = graph_caller(&ctx, &s, &["Application.ReadWrite.All"]).await;
    let ex = example(&ctx, "fic-create.json", &refs(&ids));
    let want = example(&ctx, "error-403-insufficient-privileges.json", &[]);
    for t in [&other, &reader] {
        let (st, b) = replay(&ctx, t, &ex).await;
        assert_graph_error(st, &b, 403, "Authorization_RequestDenied");
        assert_eq!(b["error"]["message"], want["body"]["error"]["message"]);
    }
    let (st, b) = replay(&ctx, &all, &ex).await;
    assert_eq!(st, 201, "{b}");
    let list = example(&ctx, "fic-list.json", &refs(&ids));
    let (st, b) = replay(&ctx, &reader, &list).await;
    assert_eq!((st, b["value"].as_array().unwrap().len()), (200, 1), "{b}");
}

/// `PATCH /applications(uniqueName='…')` with `Prefer: create-if-missing` (the
/// applications_with_unique_name builder of msgraph-sdk): 201 then 204, one application.
#[tokio::test]
async fn application_upsert_by_unique_name() {
    let ctx = Ctx::new().await;
    let (_, _, token) = writer(&ctx).await;
    let path = "/v1.0/applications(uniqueName='payments-checkout')";
    let body = json!({"displayName": "payments-checkout-aks1"});
    let prefer = [("Prefer", "create-if-missing")];
    let (st, b) = graph_with(
        &ctx,
        &token,
        Method::PATCH,
        path,
        Some(body.clone()),
        &prefer,
    )
    .await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(b["uniqueName"], "payments-checkout");
    let (st, _) = graph_with(&ctx, &token, Method::PATCH, path, Some(body), &prefer).await;
    assert_eq!(st, 204);
    let (st, got) = graph(&ctx, &token, Method::GET, path, None).await;
    assert_eq!((st, &got["appId"]), (200, &b["appId"]));
}

const AUD: &str = "api://AzureADTokenExchange";

/// The client-credentials grant with a federated assertion, as the SDKs send it for ARM.
async fn assertion_grant(
    ctx: &Ctx,
    tenant: &str,
    client_id: &str,
    assertion: &str,
) -> (u16, Value) {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("scope", "https://management.azure.com/.default"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ];
    ctx.token_request(tenant, &form).await
}
const SUBJECT: &str = "system:serviceaccount:payments:checkout";

/// Entra exchanges a service account token for a credential on an application: through an
/// enabled service principal only. Without one the app is "not found in the directory"
/// (AADSTS700016, workload-identity-facts §3); disabled, AADSTS7000112 "Application '…'(…) is
/// disabled." (public reports: MicrosoftDocs/azure-docs#28469, Worklytics/psoxy#74); the
/// service principal's object id is no client id (700016); a credential on another app does
/// not count (70025, no credentials on this one); a wrong subject is 700213; a client secret
/// for an app that has none is AADSTS7000215.
#[tokio::test]
async fn token_exchange_for_an_application_credential() {
    let ctx = Ctx::new().await;
    let (s, _, token) = writer(&ctx).await;
    let signer = RsaSigner::generate();
    let reg = ctx
        .control(Method::POST, "/_emulator/issuers", json!({"path": format!("/{}/{}/", s.tenant, uuid::Uuid::new_v4()), "jwks": signer.jwks()}))
        .await;
    let issuer = text(&reg["issuer"]);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let sa_token = |sub: &str| {
        signer.sign(&json!({"iss": issuer, "sub": sub, "aud": [AUD], "iat": now - 10, "nbf": now - 10, "exp": now + 600}))
    };
    let new_app = |name: &'static str| {
        let (ctx, token) = (&ctx, &token);
        async move {
            let (st, b) = graph(
                ctx,
                token,
                Method::POST,
                "/v1.0/applications",
                Some(json!({"displayName": name})),
            )
            .await;
            assert_eq!(st, 201, "{b}");
            (text(&b["id"]), text(&b["appId"]))
        }
    };
    let (oid, app_id) = new_app("bound").await;
    let (other_oid, other_app_id) = new_app("other").await;
    let fic = json!({"name": "checkout", "issuer": issuer, "subject": SUBJECT, "audiences": [AUD]});
    let (st, b) = graph(
        &ctx,
        &token,
        Method::POST,
        &format!("/v1.0/applications/{oid}/federatedIdentityCredentials"),
        Some(fic.clone()),
    )
    .await;
    assert_eq!(st, 201, "{b}");
    let (st, _) = graph(
        &ctx,
        &token,
        Method::POST,
        &format!("/v1.0/applications/{other_oid}/federatedIdentityCredentials"),
        Some(fic),
    )
    .await;
    assert_eq!(st, 201);
    let exchange = |client_id: String, assertion: String| {
        let (ctx, tenant) = (&ctx, s.tenant.clone());
        async move { assertion_grant(ctx, &tenant, &client_id, &assertion).await }
    };
    let code = |b: &Value| b["error_codes"][0].as_u64();

    let (st, b) = exchange(app_id.clone(), sa_token(SUBJECT)).await;
    assert_eq!((st, code(&b)), (400, Some(700016)), "{b}");
    let (st, sp) = graph(
        &ctx,
        &token,
        Method::POST,
        "/v1.0/servicePrincipals",
        Some(json!({"appId": app_id})),
    )
    .await;
    assert_eq!(st, 201, "{sp}");
    let (st, b) = exchange(app_id.clone(), sa_token(SUBJECT)).await;
    assert_eq!(st, 200, "{b}");
    let claims = azure_emulator::jwt::decode(b["access_token"].as_str().unwrap())
        .unwrap()
        .claims;
    assert_eq!(
        (&claims["appid"], &claims["oid"]),
        (&json!(app_id), &sp["id"])
    );

    let (st, b) = exchange(
        app_id.clone(),
        sa_token("system:serviceaccount:payments:other"),
    )
    .await;
    assert_eq!((st, code(&b)), (401, Some(700213)), "{b}");
    let (st, b) = exchange(text(&sp["id"]), sa_token(SUBJECT)).await;
    assert_eq!((st, code(&b)), (400, Some(700016)), "{b}");

    // The credential is on `other`; `third` has an enabled principal and none of its own.
    let (third_oid, third) = new_app("third").await;
    let (st, _) = graph(
        &ctx,
        &token,
        Method::POST,
        "/v1.0/servicePrincipals",
        Some(json!({"appId": third})),
    )
    .await;
    assert_eq!(st, 201);
    let (st, b) = exchange(third.clone(), sa_token(SUBJECT)).await;
    assert_eq!((st, code(&b)), (401, Some(70025)), "{b}");
    let (st, _) = graph(
        &ctx,
        &token,
        Method::DELETE,
        &format!("/v1.0/applications/{third_oid}"),
        None,
    )
    .await;
    assert_eq!(st, 204);
    assert!(!other_app_id.is_empty());

    let sp_path = format!("/v1.0/servicePrincipals/{}", text(&sp["id"]));
    let (st, _) = graph(
        &ctx,
        &token,
        Method::PATCH,
        &sp_path,
        Some(json!({"accountEnabled": false})),
    )
    .await;
    assert_eq!(st, 204);
    let (st, b) = exchange(app_id.clone(), sa_token(SUBJECT)).await;
    assert_eq!(
        (st, code(&b), &b["error"]),
        (400, Some(7000112), &json!("unauthorized_client")),
        "{b}"
    );
    assert!(
        b["error_description"]
            .as_str()
            .unwrap()
            .contains(&format!("Application '{app_id}'(bound) is disabled."))
    );

    let (st, b) = ctx
        .token_request(
            &s.tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &app_id),
                ("client_secret", "guess"),
                ("scope", "https://management.azure.com/.default"),
            ],
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (400, Some(7000112)),
        "disabled comes first: {b}"
    );
    let (st, _) = graph(
        &ctx,
        &token,
        Method::PATCH,
        &sp_path,
        Some(json!({"accountEnabled": true})),
    )
    .await;
    assert_eq!(st, 204);
    let (st, b) = ctx
        .token_request(
            &s.tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &app_id),
                ("client_secret", "guess"),
                ("scope", "https://management.azure.com/.default"),
            ],
        )
        .await;
    assert_eq!((st, code(&b)), (401, Some(7000215)), "{b}");
}

/// Test settings are per subscription, but an application lives in none: its token requests
/// see the settings of the subscription whose principal created it, so a test that sets its
/// clock ahead never expires the tokens of another test's application in the same tenant
/// (CI run of stop 21: an app test got AADSTS700024 from a neighbour's clockOffsetSeconds).
#[tokio::test]
async fn an_application_sees_its_creators_subscription_settings() {
    let ctx = Ctx::new().await;
    let tenant = uuid::Uuid::new_v4().to_string();
    // The neighbour has the lowest id of the tenant: the one a tenant-wide fallback picks.
    let sub = |id: &str| json!({"tenantId": tenant, "subscriptionId": id});
    let neighbour = ctx
        .subscription(sub("00000000-0000-4000-8000-000000000001"))
        .await;
    let home = ctx
        .subscription(sub("ffffffff-0000-4000-8000-000000000001"))
        .await;
    let (_, token) = graph_caller(&ctx, &home, &["Application.ReadWrite.OwnedBy"]).await;
    let signer = RsaSigner::generate();
    let reg = ctx
        .control(
            Method::POST,
            "/_emulator/issuers",
            json!({"path": format!("/{tenant}/{}/", uuid::Uuid::new_v4()), "jwks": signer.jwks()}),
        )
        .await;
    let issuer = text(&reg["issuer"]);
    let (st, app) = graph(
        &ctx,
        &token,
        Method::POST,
        "/v1.0/applications",
        Some(json!({"displayName": "clocked"})),
    )
    .await;
    assert_eq!(st, 201, "{app}");
    let app_id = text(&app["appId"]);
    let fic = json!({"name": "checkout", "issuer": issuer, "subject": SUBJECT, "audiences": [AUD]});
    let path = format!(
        "/v1.0/applications/{}/federatedIdentityCredentials",
        text(&app["id"])
    );
    assert_eq!(
        graph(&ctx, &token, Method::POST, &path, Some(fic)).await.0,
        201
    );
    let (st, _) = graph(
        &ctx,
        &token,
        Method::POST,
        "/v1.0/servicePrincipals",
        Some(json!({"appId": app_id})),
    )
    .await;
    assert_eq!(st, 201);
    let exchange = || async {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let assertion = signer.sign(&json!({"iss": issuer, "sub": SUBJECT, "aud": [AUD],
            "iat": now - 10, "nbf": now - 10, "exp": now + 600}));
        let (st, b) = assertion_grant(&ctx, &tenant, &app_id, &assertion).await;
        (st, b["error_codes"][0].as_u64())
    };
    let ahead = json!({"clockOffsetSeconds": 7200});
    let settings = |s: &common::Sub| format!("/_emulator/subscriptions/{}/settings", s.sub);
    ctx.control(Method::PUT, &settings(&neighbour), ahead.clone())
        .await;
    assert_eq!(
        exchange().await,
        (200, None),
        "the neighbour's clock is not the app's"
    );
    ctx.control(Method::PUT, &settings(&home), ahead).await;
    assert_eq!(
        exchange().await,
        (401, Some(700024)),
        "its creator's clock is"
    );
}
