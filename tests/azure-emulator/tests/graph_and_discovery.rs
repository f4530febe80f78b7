//! ARM's cloud discovery (`/metadata/endpoints`), Microsoft Graph's directory reads with
//! Graph's own token audience, permissions and error shape, and the CONNECT proxy that serves
//! `graph.microsoft.com`.

mod common;

use common::Ctx;
use common::graph::{assert_graph_error, graph, graph_token, urlenc};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The 2022-09-01 answer is one cloud object, older versions an array; the keys are those of
/// hashicorp/go-azure-sdk's `metaDataResponse20220901` (sdk/internal/metadata/client.go), the
/// model of management.azure.com's answer. No token is needed.
#[tokio::test]
async fn metadata_endpoints_as_arm_serves_them() {
    let ctx = Ctx::new().await;
    let r = ctx
        .http
        .get(ctx.url("/metadata/endpoints?api-version=2022-09-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let keys = [
        "portal",
        "authentication",
        "media",
        "graphAudience",
        "graph",
        "name",
        "suffixes",
        "batch",
        "resourceManager",
        "vmImageAliasDoc",
        "activeDirectoryDataLake",
        "sqlManagement",
        "microsoftGraphResourceId",
        "appInsightsResourceId",
        "appInsightsTelemetryChannelResourceId",
        "attestationResourceId",
        "synapseAnalyticsResourceId",
        "logAnalyticsResourceId",
        "ossrDbmsResourceId",
    ];
    let mut got: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = keys.to_vec();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(v["authentication"]["loginEndpoint"], ctx.emu.url());
    assert_eq!(v["resourceManager"], format!("{}/", ctx.emu.url()));
    assert_eq!(
        v["authentication"]["audiences"],
        json!([
            "https://management.core.windows.net/",
            "https://management.azure.com/"
        ])
    );
    assert_eq!(
        v["microsoftGraphResourceId"],
        "https://graph.microsoft.com/"
    );
    let old: Value = ctx
        .http
        .get(ctx.url("/metadata/endpoints?api-version=2019-05-01"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(old, json!([v]));
    let r = ctx
        .http
        .get(ctx.url("/metadata/endpoints"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "MissingApiVersionParameter");
}

#[tokio::test]
async fn graph_reads_need_graph_tokens_and_permissions() {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    ctx.put_rg(&s, "rg").await;
    let ident = ctx.put_identity(&s, "rg", "app-id").await;
    let reader = ctx
        .control(
            Method::POST,
            &format!("/_emulator/subscriptions/{}/principals", s.sub),
            json!({"displayName": "dir-reader", "graphRoles": ["Directory.Read.All"]}),
        )
        .await;
    let s_ = |v: &Value| v.as_str().unwrap().to_string();
    let token = graph_token(
        &ctx,
        &s.tenant,
        &s_(&reader["clientId"]),
        &s_(&reader["clientSecret"]),
    )
    .await;

    // An ARM token is not a Graph token; a new app has no Graph permission.
    let (st, b) = graph(&ctx, &s.token, Method::GET, "/v1.0/servicePrincipals", None).await;
    assert_graph_error(st, &b, 401, "InvalidAuthenticationToken");
    let owner_graph = graph_token(&ctx, &s.tenant, &s.owner_client_id, &s.owner_secret).await;
    let (st, b) = graph(
        &ctx,
        &owner_graph,
        Method::GET,
        "/v1.0/servicePrincipals",
        None,
    )
    .await;
    assert_graph_error(st, &b, 403, "Authorization_RequestDenied");
    assert_eq!(
        b["error"]["message"],
        "Insufficient privileges to complete the operation."
    );

    // The managed identity's service principal, by the filters the Azure CLI sends.
    let cid = s_(&ident["properties"]["clientId"]);
    let pid = s_(&ident["properties"]["principalId"]);
    let f = format!("servicePrincipalNames/any(c:c eq '{cid}')");
    let (st, b) = graph(
        &ctx,
        &token,
        Method::GET,
        &format!("/v1.0/servicePrincipals?$filter={}", urlenc(&f)),
        None,
    )
    .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["value"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(b["value"][0]["id"], pid.as_str());
    assert_eq!(b["value"][0]["servicePrincipalType"], "ManagedIdentity");
    assert!(
        b["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/$metadata#servicePrincipals")
    );
    let (st, b) = graph(
        &ctx,
        &token,
        Method::GET,
        &format!("/v1.0/servicePrincipals(appId='{cid}')?$select=id,appId,displayName"),
        None,
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let mut keys: Vec<&String> = b.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["@odata.context", "appId", "displayName", "id"]);
    // An app registration: its application object has its own id.
    let app_id = s_(&reader["clientId"]);
    let (st, b) = graph(
        &ctx,
        &token,
        Method::GET,
        &format!("/v1.0/applications(appId='{app_id}')"),
        None,
    )
    .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["id"], reader["appObjectId"]);
    assert_eq!(b["displayName"], "dir-reader");
    // By object id, as `az role assignment list` resolves names.
    let (st, b) = graph(
        &ctx,
        &token,
        Method::POST,
        "/v1.0/directoryObjects/getByIds",
        Some(json!({"ids": [pid, s.owner_oid, uuid::Uuid::new_v4().to_string()], "types": ["user", "group", "servicePrincipal", "directoryObjectPartnerReference"]})),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let types: Vec<&str> = b["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["@odata.type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["#microsoft.graph.servicePrincipal"; 2], "{b}");

    // Not found, unknown segments, unsupported filters, /me for an app: Graph's errors.
    let missing = uuid::Uuid::new_v4().to_string();
    let (st, b) = graph(
        &ctx,
        &token,
        Method::GET,
        &format!("/v1.0/servicePrincipals/{missing}"),
        None,
    )
    .await;
    assert_graph_error(st, &b, 404, "Request_ResourceNotFound");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Resource '{missing}' does not exist"))
    );
    let (st, b) = graph(
        &ctx,
        &token,
        Method::GET,
        "/v1.0/servicePrincipals?$filter=tags%20eq%20'x'",
        None,
    )
    .await;
    assert_graph_error(st, &b, 400, "Request_UnsupportedQuery");
    let (st, b) = graph(
        &ctx,
        &token,
        Method::GET,
        "/v1.0/servicePrincipals?$filter=garbage",
        None,
    )
    .await;
    assert_graph_error(st, &b, 400, "BadRequest");
    let (st, b) = graph(&ctx, &token, Method::GET, "/v1.0/me", None).await;
    assert_graph_error(st, &b, 400, "BadRequest");
    assert_eq!(
        b["error"]["message"],
        "/me request is only valid with delegated authentication flow."
    );
    let (st, b) = graph(&ctx, &token, Method::GET, "/v1.0/nothing", None).await;
    assert_graph_error(st, &b, 400, "BadRequest");
}

/// `CONNECT graph.microsoft.com:443` is answered by the emulator itself (TLS with its own
/// certificate follows); any other target is refused.
#[tokio::test]
async fn connect_proxy_serves_graph_and_refuses_everything_else() {
    let ctx = Ctx::new().await;
    for (target, want) in [
        ("graph.microsoft.com:443", "HTTP/1.1 200"),
        ("login.microsoftonline.com:443", "HTTP/1.1 403"),
        ("graph.microsoft.com:80", "HTTP/1.1 403"),
    ] {
        let mut tcp = tokio::net::TcpStream::connect(ctx.emu.addr())
            .await
            .unwrap();
        tcp.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut buf = vec![0u8; 256];
        let n = tcp.read(&mut buf).await.unwrap();
        let head = String::from_utf8_lossy(&buf[..n]);
        assert!(head.starts_with(want), "{target}: {head}");
    }
    // A real client through the proxy reaches Graph at its real URL, trusting only the
    // emulator's CA.
    let s = ctx.subscription(json!({})).await;
    let token = graph_token(&ctx, &s.tenant, &s.owner_client_id, &s.owner_secret).await;
    let cfg = azure_emulator::tls::client_config(&[ctx.emu.ca_pem()]).unwrap();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(cfg)
        .proxy(reqwest::Proxy::https(format!("http://{}", ctx.emu.addr())).unwrap())
        .build()
        .unwrap();
    let r = client
        .get("https://graph.microsoft.com/v1.0/servicePrincipals")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    // 403: the owner has no Graph permission, and the answer is Graph's.
    assert_eq!(r.status(), 403);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "Authorization_RequestDenied");
}
