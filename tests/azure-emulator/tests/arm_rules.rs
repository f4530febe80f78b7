//! ARM behaviour the plugin relies on: FIC rules, concurrency 409, faults, RBAC, auth, paging,
//! write counting, role assignment conflicts and principal propagation.

mod common;

use common::{Ctx, assert_arm_error, fic_body, fic_path, identity_path};
use reqwest::Method;
use serde_json::{Value, json};

const ISS: &str = "https://oidc.example.test/tenant/issuer/";

#[tokio::test]
async fn fic_create_then_update_status_and_limits() {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    ctx.put_rg(&s, "rg1").await;
    ctx.put_identity(&s, "rg1", "id1").await;
    let t = Some(s.token.as_str());

    let path = fic_path(&s.sub, "rg1", "id1", "fic-0");
    let (st, b, _) = ctx
        .arm(
            t,
            Method::PUT,
            &path,
            Some(&fic_body(ISS, "system:serviceaccount:ns:sa0")),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(
        b["type"],
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
    );
    assert!(
        b["id"].as_str().unwrap().contains("/resourcegroups/rg1/"),
        "{b}"
    );
    let (st, _, _) = ctx
        .arm(
            t,
            Method::PUT,
            &path,
            Some(&fic_body(ISS, "system:serviceaccount:ns:sa0")),
        )
        .await;
    assert_eq!(st, 200, "re-PUT of the same FIC is 200");

    // Duplicate issuer+subject under another name.
    let (st, b, _) = ctx
        .arm(
            t,
            Method::PUT,
            &fic_path(&s.sub, "rg1", "id1", "dup"),
            Some(&fic_body(ISS, "system:serviceaccount:ns:sa0")),
        )
        .await;
    assert_arm_error(st, &b, 400, "BadRequest");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Issuer and subject combination already exists")
    );

    // Invalid names.
    for bad in ["ab", "-abc", "a.bc", &"x".repeat(121)] {
        let (st, b, _) = ctx
            .arm(
                t,
                Method::PUT,
                &fic_path(&s.sub, "rg1", "id1", bad),
                Some(&fic_body(ISS, "s-bad")),
            )
            .await;
        assert_arm_error(st, &b, 400, "BadRequest");
    }
    // Two audiences, none, non-https issuer, too long subject.
    let two = json!({"properties": {"issuer": ISS, "subject": "s2", "audiences": ["a", "b"]}});
    let none = json!({"properties": {"issuer": ISS, "subject": "s2", "audiences": []}});
    let http = fic_body("http://oidc.example.test/", "s2");
    let long = fic_body(ISS, &"s".repeat(601));
    for body in [two, none, http, long] {
        let (st, b, _) = ctx
            .arm(
                t,
                Method::PUT,
                &fic_path(&s.sub, "rg1", "id1", "fic-x"),
                Some(&body),
            )
            .await;
        assert_arm_error(st, &b, 400, "BadRequest");
    }

    // Up to 20, then the 21st is refused.
    for n in 1..20 {
        let (st, b, _) = ctx
            .arm(
                t,
                Method::PUT,
                &fic_path(&s.sub, "rg1", "id1", &format!("fic-{n}")),
                Some(&fic_body(ISS, &format!("sub-{n}"))),
            )
            .await;
        assert_eq!(st, 201, "fic {n}: {b}");
    }
    let (st, b, _) = ctx
        .arm(
            t,
            Method::PUT,
            &fic_path(&s.sub, "rg1", "id1", "fic-20"),
            Some(&fic_body(ISS, "sub-20")),
        )
        .await;
    assert_arm_error(st, &b, 400, "BadRequest");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("20"),
        "{b}"
    );

    // Paged list with $top, following nextLink.
    let mut url = format!(
        "/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1/federatedIdentityCredentials?api-version=2024-11-30&$top=8",
        s.sub
    );
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let (st, b, _) = ctx.arm(t, Method::GET, &url, None).await;
        assert_eq!(st, 200, "{b}");
        pages += 1;
        names.extend(
            b["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["name"].as_str().unwrap().to_string()),
        );
        match b["nextLink"].as_str() {
            Some(next) => url = next.strip_prefix(ctx.emu.url()).unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!((names.len(), pages), (20, 3));

    // Delete: 200 then 204.
    let (st, _, _) = ctx
        .arm(
            t,
            Method::DELETE,
            &fic_path(&s.sub, "rg1", "id1", "fic-3"),
            None,
        )
        .await;
    assert_eq!(st, 200);
    let (st, _, _) = ctx
        .arm(
            t,
            Method::DELETE,
            &fic_path(&s.sub, "rg1", "id1", "fic-3"),
            None,
        )
        .await;
    assert_eq!(st, 204);
    let (st, b, _) = ctx
        .arm(
            t,
            Method::GET,
            &fic_path(&s.sub, "rg1", "id1", "fic-3"),
            None,
        )
        .await;
    assert_arm_error(st, &b, 404, "ResourceNotFound");
}

#[tokio::test]
async fn concurrent_fic_writes_to_one_identity_conflict() {
    let ctx = Ctx::new().await;
    let s = ctx
        .subscription(json!({"settings": {"ficWriteLatencyMs": 400}}))
        .await;
    ctx.put_rg(&s, "rg").await;
    ctx.put_identity(&s, "rg", "one").await;
    ctx.put_identity(&s, "rg", "two").await;
    let t = Some(s.token.as_str());
    let a = fic_path(&s.sub, "rg", "one", "fic-a");
    let b = fic_path(&s.sub, "rg", "one", "fic-b");
    let c = fic_path(&s.sub, "rg", "two", "fic-c");
    let (ba, bb, bc) = (
        fic_body(ISS, "sa"),
        fic_body(ISS, "sb"),
        fic_body(ISS, "sc"),
    );
    let first = ctx.arm(t, Method::PUT, &a, Some(&ba));
    let second = async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        ctx.arm(t, Method::PUT, &b, Some(&bb)).await
    };
    let other_identity = async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        ctx.arm(t, Method::PUT, &c, Some(&bc)).await
    };
    let ((s1, _, _), (s2, body2, _), (s3, _, _)) = tokio::join!(first, second, other_identity);
    assert_eq!(s1, 201);
    assert_arm_error(
        s2,
        &body2,
        409,
        "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
    );
    assert!(
        body2["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/userassignedidentities/one"),
        "{body2}"
    );
    assert_eq!(
        s3, 201,
        "another identity is written in parallel without conflict"
    );
    // Once the first write finished the identity accepts writes again.
    let (s4, _, _) = ctx.arm(t, Method::PUT, &b, Some(&bb)).await;
    assert_eq!(s4, 201);
}

#[tokio::test]
async fn injected_faults_and_write_counter() {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    let other = ctx.subscription(json!({})).await;
    ctx.put_rg(&s, "rg").await;
    ctx.put_identity(&s, "rg", "ident").await;
    let t = Some(s.token.as_str());
    let faults = format!("/_emulator/subscriptions/{}/faults", s.sub);
    ctx.control(Method::POST, &faults, json!({"method": "PUT", "pathContains": "/federatedIdentityCredentials/", "count": 1, "status": 429, "retryAfter": 7})).await;
    ctx.control(Method::POST, &faults, json!({"method": "PUT", "pathContains": "/federatedIdentityCredentials/", "count": 1, "status": 503})).await;
    ctx.control(Method::POST, &faults, json!({"method": "PUT", "pathContains": "/federatedIdentityCredentials/", "count": 1, "status": 409})).await;
    ctx.control(Method::POST, &faults, json!({"method": "GET", "pathContains": "userAssignedIdentities/ident", "count": 1, "delayMs": 300})).await;
    let path = fic_path(&s.sub, "rg", "ident", "fic-f");
    let body = fic_body(ISS, "s");

    let (st, b, h) = ctx.arm(t, Method::PUT, &path, Some(&body)).await;
    assert_arm_error(st, &b, 429, "TooManyRequests");
    assert_eq!(h.get("retry-after").unwrap(), "7");
    let (st, b, _) = ctx.arm(t, Method::PUT, &path, Some(&body)).await;
    assert_arm_error(st, &b, 503, "ServiceUnavailable");
    let (st, b, _) = ctx.arm(t, Method::PUT, &path, Some(&body)).await;
    assert_arm_error(
        st,
        &b,
        409,
        "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
    );
    let (st, _, _) = ctx.arm(t, Method::PUT, &path, Some(&body)).await;
    assert_eq!(st, 201, "faults are used up");
    let started = std::time::Instant::now();
    let (st, _, _) = ctx
        .arm(t, Method::GET, &identity_path(&s.sub, "rg", "ident"), None)
        .await;
    assert_eq!(st, 200);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(300),
        "slowed by the delay fault"
    );

    let listed = ctx.control(Method::GET, &faults, json!({})).await;
    assert_eq!(listed["fired"], 4);

    let writes = ctx
        .control(
            Method::GET,
            &format!("/_emulator/subscriptions/{}/writes", s.sub),
            json!({}),
        )
        .await;
    assert_eq!(
        writes["byOperation"]["FederatedIdentityCredentials_CreateOrUpdate"], 4,
        "{writes}"
    );
    assert_eq!(
        writes["byOperation"]["UserAssignedIdentities_CreateOrUpdate"], 1,
        "{writes}"
    );
    assert_eq!(writes["total"], 6, "{writes}");
    let (st, _, _) = ctx.arm(t, Method::PUT, &path, Some(&body)).await;
    assert_eq!(st, 200);
    // Other subscriptions see none of it.
    let w2 = ctx
        .control(
            Method::GET,
            &format!("/_emulator/subscriptions/{}/writes", other.sub),
            json!({}),
        )
        .await;
    assert_eq!(w2["total"], 0);
    ctx.control(
        Method::DELETE,
        &format!("/_emulator/subscriptions/{}/writes", s.sub),
        json!({}),
    )
    .await;
    let (st, _, _) = ctx.arm(t, Method::GET, &path, None).await;
    assert_eq!(st, 200);
    let writes = ctx
        .control(
            Method::GET,
            &format!("/_emulator/subscriptions/{}/writes", s.sub),
            json!({}),
        )
        .await;
    assert_eq!(writes["total"], 0, "reads do not count: {writes}");
}

#[tokio::test]
async fn rbac_and_authentication() {
    let ctx = Ctx::new().await;
    let s = ctx
        .subscription(json!({"principals": [{"role": "Reader"}]}))
        .await;
    ctx.put_rg(&s, "rg").await;
    ctx.put_identity(&s, "rg", "ident").await;
    let reader = &s.raw["principals"][0];
    let reader_token = ctx
        .secret_token(
            &s.tenant,
            reader["clientId"].as_str().unwrap(),
            reader["clientSecret"].as_str().unwrap(),
        )
        .await;
    let path = fic_path(&s.sub, "rg", "ident", "fic-f");
    let (st, _, _) = ctx
        .arm(
            Some(&reader_token),
            Method::GET,
            &identity_path(&s.sub, "rg", "ident"),
            None,
        )
        .await;
    assert_eq!(st, 200, "Reader reads");
    let (st, b, _) = ctx
        .arm(
            Some(&reader_token),
            Method::PUT,
            &path,
            Some(&fic_body(ISS, "s")),
        )
        .await;
    assert_arm_error(st, &b, 403, "AuthorizationFailed");
    // ARM names a service principal by its application id, then its object id.
    let oid = reader["objectId"].as_str().unwrap();
    let app = reader["clientId"].as_str().unwrap();
    let msg = b["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("The client '{app}' with object id '{oid}' does not have authorization to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write' over scope '/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ident/federatedIdentityCredentials/fic-f' or the scope is invalid.", s.sub)),
        "{msg}"
    );
    // A Managed Identity Contributor at the RG writes FICs but cannot assign roles.
    let mic = ctx
        .control(Method::POST, &format!("/_emulator/subscriptions/{}/principals", s.sub), json!({"role": "Managed Identity Contributor", "scope": format!("/subscriptions/{}/resourceGroups/rg", s.sub)}))
        .await;
    let mic_token = ctx
        .secret_token(
            &s.tenant,
            mic["clientId"].as_str().unwrap(),
            mic["clientSecret"].as_str().unwrap(),
        )
        .await;
    let (st, b, _) = ctx
        .arm(
            Some(&mic_token),
            Method::PUT,
            &path,
            Some(&fic_body(ISS, "s")),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let ra = format!(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
        s.sub,
        uuid::Uuid::new_v4()
    );
    let (st, b, _) = ctx
        .arm(Some(&mic_token), Method::PUT, &ra, Some(&json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "principalId": oid}})))
        .await;
    assert_arm_error(st, &b, 403, "AuthorizationFailed");

    // No token, garbage token, wrong audience, expired.
    let get = identity_path(&s.sub, "rg", "ident");
    let (st, b, h) = ctx.arm(None, Method::GET, &get, None).await;
    assert_arm_error(st, &b, 401, "AuthenticationFailed");
    assert!(
        h.get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Bearer authorization_uri=")
    );
    let (st, b, _) = ctx.arm(Some("not.a.jwt"), Method::GET, &get, None).await;
    assert_arm_error(st, &b, 401, "InvalidAuthenticationToken");
    let mint = |aud: &str, exp: i64| json!({"tenantId": s.tenant, "objectId": s.owner_oid, "audience": aud, "expiresIn": exp});
    let wrong_aud = ctx
        .control(
            Method::POST,
            "/_emulator/token",
            mint("https://vault.azure.net", 600),
        )
        .await;
    let (st, b, _) = ctx
        .arm(wrong_aud["access_token"].as_str(), Method::GET, &get, None)
        .await;
    assert_arm_error(st, &b, 401, "InvalidAuthenticationTokenAudience");
    let expired = ctx
        .control(
            Method::POST,
            "/_emulator/token",
            mint("https://management.core.windows.net/", -60),
        )
        .await;
    let (st, b, _) = ctx
        .arm(expired["access_token"].as_str(), Method::GET, &get, None)
        .await;
    assert_arm_error(st, &b, 401, "ExpiredAuthenticationToken");
    let other_aud = ctx
        .control(
            Method::POST,
            "/_emulator/token",
            mint("https://management.core.windows.net/", 600),
        )
        .await;
    let (st, _, _) = ctx
        .arm(other_aud["access_token"].as_str(), Method::GET, &get, None)
        .await;
    assert_eq!(
        st, 200,
        "management.core.windows.net is an accepted audience"
    );
}

#[tokio::test]
async fn api_version_rg_and_subscription_errors() {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    let t = Some(s.token.as_str());
    let base = format!(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x",
        s.sub
    );
    let (st, b, _) = ctx.arm(t, Method::GET, &base, None).await;
    assert_arm_error(st, &b, 400, "MissingApiVersionParameter");
    let (st, b, _) = ctx
        .arm(
            t,
            Method::GET,
            &format!("{base}?api-version=2099-01-01"),
            None,
        )
        .await;
    assert_arm_error(st, &b, 400, "NoRegisteredProviderFound");
    let (st, b, _) = ctx
        .arm(
            t,
            Method::GET,
            &format!("{base}?api-version=2024-11-30"),
            None,
        )
        .await;
    assert_arm_error(st, &b, 404, "ResourceGroupNotFound");
    assert_eq!(
        b["error"]["message"],
        "Resource group 'rg' could not be found."
    );
    let missing = uuid::Uuid::new_v4();
    let (st, b, _) = ctx
        .arm(
            t,
            Method::GET,
            &format!("/subscriptions/{missing}/resourcegroups/rg?api-version=2021-04-01"),
            None,
        )
        .await;
    assert_arm_error(st, &b, 404, "SubscriptionNotFound");

    // Resource groups: PUT 201/200, HEAD, case-insensitive segment, list, DELETE.
    let rg = |seg: &str| {
        format!(
            "/subscriptions/{}/{seg}/RG-One?api-version=2021-04-01",
            s.sub
        )
    };
    let (st, b, _) = ctx
        .arm(
            t,
            Method::PUT,
            &rg("resourcegroups"),
            Some(&json!({"location": "westeurope"})),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(
        b["id"],
        format!("/subscriptions/{}/resourceGroups/RG-One", s.sub)
    );
    let (st, _, _) = ctx
        .arm(
            t,
            Method::PUT,
            &rg("resourceGroups"),
            Some(&json!({"location": "westeurope"})),
        )
        .await;
    assert_eq!(st, 200);
    let (st, _, _) = ctx.arm(t, Method::HEAD, &rg("RESOURCEGROUPS"), None).await;
    assert_eq!(st, 204);
    let (st, b, _) = ctx
        .arm(
            t,
            Method::GET,
            &format!(
                "/subscriptions/{}/resourcegroups?api-version=2021-04-01",
                s.sub
            ),
            None,
        )
        .await;
    assert_eq!((st, b["value"].as_array().unwrap().len()), (200, 1));
    // Delete is long-running: 202 + Location (+ Retry-After), polled to 200 (ResourceGroups_Delete
    // is x-ms-long-running-operation, 200/202, in the resources spec; `az group delete` polls).
    ctx.control(
        Method::PUT,
        &format!("/_emulator/subscriptions/{}/settings", s.sub),
        json!({"asyncOperationSeconds": 1.0}),
    )
    .await;
    let (st, _, h) = ctx
        .arm(t, Method::DELETE, &rg("resourceGroups"), None)
        .await;
    assert_eq!(st, 202);
    assert_eq!(h["retry-after"], "1");
    let location = h["location"].to_str().unwrap().to_string();
    let poll = location.strip_prefix(ctx.emu.url()).unwrap().to_string();
    assert!(poll.contains("/operationresults/"), "{poll}");
    let (st, _, h) = ctx.arm(t, Method::GET, &poll, None).await;
    assert_eq!(
        (st, h["location"].to_str().unwrap()),
        (202, location.as_str())
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (st, _, _) = ctx.arm(t, Method::GET, &poll, None).await;
    assert_eq!(st, 200);
    let (st, _, _) = ctx.arm(t, Method::HEAD, &rg("resourceGroups"), None).await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn identities_paging_update_delete() {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({"settings": {"pageSize": 2}})).await;
    ctx.put_rg(&s, "rg").await;
    let t = Some(s.token.as_str());
    for n in 0..5 {
        let b = ctx.put_identity(&s, "rg", &format!("id-{n}")).await;
        assert!(b["properties"]["clientId"].as_str().unwrap().len() == 36);
    }
    let (st, b, _) = ctx
        .arm(
            t,
            Method::PUT,
            &identity_path(&s.sub, "rg", "id-0"),
            Some(&json!({"location": "eastus", "tags": {"a": "b"}})),
        )
        .await;
    assert_eq!((st, &b["tags"]["a"]), (200, &json!("b")));
    let (st, b, _) = ctx
        .arm(
            t,
            Method::PUT,
            &identity_path(&s.sub, "rg", "id-9"),
            Some(&json!({"tags": {}})),
        )
        .await;
    assert_arm_error(st, &b, 400, "LocationRequired");
    let (st, b, _) = ctx
        .arm(
            t,
            Method::PATCH,
            &identity_path(&s.sub, "rg", "id-1"),
            Some(&json!({"tags": {"x": "y"}})),
        )
        .await;
    assert_eq!((st, &b["tags"]["x"]), (200, &json!("y")));
    let mut url = format!(
        "/subscriptions/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31",
        s.sub
    );
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let (st, b, _) = ctx.arm(t, Method::GET, &url, None).await;
        assert_eq!(st, 200);
        assert!(
            b["value"][0]["properties"].get("isolationScope").is_none(),
            "2023-01-31 has no isolationScope"
        );
        seen += b["value"].as_array().unwrap().len();
        pages += 1;
        match b["nextLink"].as_str() {
            Some(n) => url = n.strip_prefix(ctx.emu.url()).unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!((seen, pages), (5, 3));
    let (st, _, _) = ctx
        .arm(
            t,
            Method::DELETE,
            &identity_path(&s.sub, "rg", "id-4"),
            None,
        )
        .await;
    assert_eq!(st, 200);
    let (st, _, _) = ctx
        .arm(
            t,
            Method::DELETE,
            &identity_path(&s.sub, "rg", "id-4"),
            None,
        )
        .await;
    assert_eq!(st, 204);
    let (st, b, _) = ctx
        .arm(t, Method::GET, &identity_path(&s.sub, "rg", "id-4"), None)
        .await;
    assert_arm_error(st, &b, 404, "ResourceNotFound");
}

#[tokio::test]
async fn role_assignments_conflict_filters_and_principal_propagation() {
    let ctx = Ctx::new().await;
    let s = ctx
        .subscription(json!({"settings": {"principalPropagationSeconds": 1.0}}))
        .await;
    ctx.put_rg(&s, "rg").await;
    let t = Some(s.token.as_str());
    let ident = ctx.put_identity(&s, "rg", "app").await;
    let pid = ident["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let scope = format!("/subscriptions/{}/resourceGroups/rg", s.sub);
    let body = json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe", s.sub),
        "principalId": pid, "principalType": "ServicePrincipal"}});
    let name1 = uuid::Uuid::new_v4().to_string();
    let ra = |n: &str| {
        format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments/{n}?api-version=2022-04-01"
        )
    };
    let (st, b, _) = ctx.arm(t, Method::PUT, &ra(&name1), Some(&body)).await;
    assert_arm_error(st, &b, 400, "PrincipalNotFound");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (st, b, _) = ctx.arm(t, Method::PUT, &ra(&name1), Some(&body)).await;
    assert_eq!(st, 201, "{b}");
    let (st, _, _) = ctx.arm(t, Method::PUT, &ra(&name1), Some(&body)).await;
    assert_eq!(st, 200, "same assignment again");
    let (st, b, _) = ctx
        .arm(
            t,
            Method::PUT,
            &ra(&uuid::Uuid::new_v4().to_string()),
            Some(&body),
        )
        .await;
    assert_arm_error(st, &b, 409, "RoleAssignmentExists");
    let (st, b, _) = ctx
        .arm(t, Method::PUT, &ra("not-a-guid"), Some(&body))
        .await;
    assert_arm_error(st, &b, 400, "InvalidRoleAssignmentId");
    let unknown = json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "principalId": uuid::Uuid::new_v4().to_string()}});
    let (st, b, _) = ctx
        .arm(
            t,
            Method::PUT,
            &ra(&uuid::Uuid::new_v4().to_string()),
            Some(&unknown),
        )
        .await;
    assert_arm_error(st, &b, 400, "PrincipalNotFound");

    // Filters: principalId at the subscription sees the RG assignment; atScope() at the
    // subscription does not.
    let list = |scope: &str, filter: &str| {
        format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter={}",
            urlenc(filter)
        )
    };
    let sub_scope = format!("/subscriptions/{}", s.sub);
    let (_, b, _) = ctx
        .arm(
            t,
            Method::GET,
            &list(&sub_scope, &format!("principalId eq '{pid}'")),
            None,
        )
        .await;
    assert_eq!(b["value"].as_array().unwrap().len(), 1, "{b}");
    let (_, b, _) = ctx
        .arm(
            t,
            Method::GET,
            &list(&sub_scope, &format!("atScope() and assignedTo('{pid}')")),
            None,
        )
        .await;
    assert_eq!(b["value"].as_array().unwrap().len(), 0, "{b}");
    let (_, b, _) = ctx
        .arm(t, Method::GET, &list(&scope, "atScope()"), None)
        .await;
    assert_eq!(
        b["value"].as_array().unwrap().len(),
        2,
        "owner at sub + the RG one: {b}"
    );

    // Role definitions by name.
    let (st, b, _) = ctx
        .arm(t, Method::GET, &format!("{sub_scope}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter={}", urlenc("roleName eq 'Key Vault Secrets User'")), None)
        .await;
    assert_eq!(st, 200);
    assert_eq!(b["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        b["value"][0]["name"],
        "4633458b-17de-408a-b874-0445c86b69e6"
    );

    // Delete: 200 with body, then 204.
    let (st, b, _) = ctx.arm(t, Method::DELETE, &ra(&name1), None).await;
    assert_eq!((st, b["name"].as_str()), (200, Some(name1.as_str())));
    let (st, _, _) = ctx.arm(t, Method::DELETE, &ra(&name1), None).await;
    assert_eq!(st, 204);
}

#[tokio::test]
async fn managed_clusters() {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    let t = Some(s.token.as_str());
    ctx.control(
        Method::POST,
        &format!("/_emulator/subscriptions/{}/clusters", s.sub),
        json!({"resourceGroup": "aks-rg", "name": "c1", "issuerUrl": "https://eastus.oic.prod-aks.azure.com/t/u/", "fqdn": "c1.hcp.eastus.azmk8s.io"}),
    )
    .await;
    ctx.control(
        Method::POST,
        &format!("/_emulator/subscriptions/{}/clusters", s.sub),
        json!({"resourceGroup": "aks-rg", "name": "c2", "workloadIdentity": false}),
    )
    .await;
    let (st, b, _) = ctx
        .arm(t, Method::GET, &format!("/subscriptions/{}/resourceGroups/aks-rg/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2025-10-01", s.sub), None)
        .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["properties"]["fqdn"], "c1.hcp.eastus.azmk8s.io");
    assert_eq!(
        b["properties"]["oidcIssuerProfile"],
        json!({"enabled": true, "issuerURL": "https://eastus.oic.prod-aks.azure.com/t/u/"})
    );
    assert_eq!(
        b["properties"]["securityProfile"]["workloadIdentity"]["enabled"],
        true
    );
    let (st, b, _) = ctx
        .arm(t, Method::GET, &format!("/subscriptions/{}/providers/Microsoft.ContainerService/managedClusters?api-version=2025-10-01", s.sub), None)
        .await;
    assert_eq!(st, 200);
    let v = b["value"].as_array().unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(
        v[1]["properties"]["oidcIssuerProfile"],
        json!({"enabled": false})
    );
    assert!(
        v[1]["properties"]["securityProfile"]
            .get("workloadIdentity")
            .is_none()
    );
    let (st, b, _) = ctx
        .arm(t, Method::GET, &format!("/subscriptions/{}/resourceGroups/aks-rg/providers/Microsoft.ContainerService/managedClusters/nope?api-version=2025-10-01", s.sub), None)
        .await;
    assert_arm_error(st, &b, 404, "ResourceNotFound");
}

fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Role assignment lists accept exactly the documented `$filter` forms and answer anything
/// else 400 `UnsupportedQuery`, never ignoring a filter. Sources: the 2022-04-01 spec's
/// `$filter` description (data/azure-api/authorization/2022-04-01/
/// authorization-RoleAssignmentsCalls.json), MicrosoftDocs role-assignments-list-rest.md
/// (`assignedTo('{id}')`, `atScope() and assignedTo('{id}')`), and ARM's refusal of an
/// unquoted `principalId eq {id}` with this code and text (Azure/azure-rest-api-specs#28255).
#[tokio::test]
async fn role_assignment_filters_are_exactly_the_documented_forms() {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    ctx.put_rg(&s, "rg").await;
    let t = Some(s.token.as_str());
    let pid = ctx.put_identity(&s, "rg", "app").await["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let sub_scope = format!("/subscriptions/{}", s.sub);
    let rg_scope = format!("{sub_scope}/resourceGroups/rg");
    let (st, b, _) = ctx
        .arm(
            t,
            Method::PUT,
            &format!("{rg_scope}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01", uuid::Uuid::new_v4()),
            Some(&json!({"properties": {
                "roleDefinitionId": format!("{sub_scope}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"),
                "principalId": pid, "principalType": "ServicePrincipal"}})),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let list = |scope: &str, filter: Option<&str>| {
        let f = filter
            .map(|f| format!("&$filter={}", urlenc(f)))
            .unwrap_or_default();
        format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01{f}"
        )
    };
    let count = |b: &Value| b["value"].as_array().map(Vec::len);
    // (scope, filter, assignments listed): the owner's at the subscription, the identity's at
    // the resource group.
    let cases = [
        (&sub_scope, None, 2),
        (&sub_scope, Some("atScope()".to_string()), 1),
        (&rg_scope, Some("atScope()".to_string()), 2),
        (&sub_scope, Some(format!("principalId eq '{pid}'")), 1),
        (&sub_scope, Some(format!("assignedTo('{pid}')")), 1),
        (
            &sub_scope,
            Some(format!("atScope() and assignedTo('{pid}')")),
            0,
        ),
        (
            &rg_scope,
            Some(format!("atScope() and assignedTo('{pid}')")),
            1,
        ),
        (
            &rg_scope,
            Some(format!("principalId eq '{}'", s.owner_oid)),
            1,
        ),
    ];
    for (scope, filter, want) in &cases {
        let (st, b, _) = ctx
            .arm(t, Method::GET, &list(scope, filter.as_deref()), None)
            .await;
        assert_eq!(
            (st, count(&b)),
            (200, Some(*want)),
            "{filter:?} at {scope}: {b}"
        );
    }
    for bad in [
        format!("principalId eq {pid}"),
        format!("atScope() and principalId eq '{pid}'"),
        format!("principalId eq '{pid}' or atScope()"),
        "roleDefinitionId eq 'x'".to_string(),
        "atScope".to_string(),
        String::new(),
    ] {
        let (st, b, _) = ctx
            .arm(t, Method::GET, &list(&sub_scope, Some(&bad)), None)
            .await;
        assert_arm_error(st, &b, 400, "UnsupportedQuery");
        let msg = b["error"]["message"].as_str().unwrap();
        assert!(
            msg.starts_with(&format!("The filter '{bad}' is not supported.")),
            "{msg}"
        );
    }
}

/// A resource group or identity re-created in another location is 409, as ARM answers it
/// ("Status code 409, {"error":{"code":"InvalidResourceGroupLocation",...}}":
/// jenkinsci/azure-vm-agents-plugin#110, trailofbits/algo#1814; the identity's
/// InvalidResourceLocation is the same front-door check: Azure/azure-service-operator#784).
#[tokio::test]
async fn another_location_for_an_existing_name_is_409() {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    ctx.put_rg(&s, "rg").await;
    let t = Some(s.token.as_str());
    let (st, b, _) = ctx
        .arm(
            t,
            Method::PUT,
            &format!(
                "/subscriptions/{}/resourcegroups/rg?api-version=2024-11-01",
                s.sub
            ),
            Some(&json!({"location": "westus"})),
        )
        .await;
    assert_arm_error(st, &b, 409, "InvalidResourceGroupLocation");
    assert_eq!(
        b["error"]["message"],
        "Invalid resource group location 'westus'. The Resource group already exists in location 'eastus'."
    );
    ctx.put_identity(&s, "rg", "app").await;
    let (st, b, _) = ctx
        .arm(
            t,
            Method::PUT,
            &identity_path(&s.sub, "rg", "app"),
            Some(&json!({"location": "westus"})),
        )
        .await;
    assert_arm_error(st, &b, 409, "InvalidResourceLocation");
}
