//! Entra token endpoint: client secrets and workload identity federation against an issuer host
//! served by the emulator itself, with a test-owned RSA key.

mod common;

use azure_emulator::jwt::{self, RsaSigner};
use common::{Ctx, Sub, fic_body, fic_path};
use regex::Regex;
use reqwest::Method;
use serde_json::{Value, json};

const AUD: &str = "api://AzureADTokenExchange";
const SA: &str = "system:serviceaccount:demo:workload";

/// Entra error bodies must have exactly the keys of the captured examples, typed alike.
fn assert_entra_error(status: u16, body: &Value, want_status: u16, error: &str, code: u64) {
    assert_eq!(status, want_status, "{body}");
    let example: Value = serde_json::from_str(
        &std::fs::read_to_string(common::data_dir().join("entra/token-error-AADSTS70021.json"))
            .unwrap(),
    )
    .unwrap();
    let mut want: Vec<&String> = example.as_object().unwrap().keys().collect();
    let mut got: Vec<&String> = body.as_object().unwrap().keys().collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let ts = body["timestamp"].as_str().unwrap();
    assert!(
        Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$")
            .unwrap()
            .is_match(ts),
        "{ts}"
    );
    let desc = body["error_description"].as_str().unwrap();
    assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
    for k in ["trace_id", "correlation_id"] {
        let id = body[k].as_str().unwrap();
        assert!(
            uuid::Uuid::parse_str(id).is_ok() && desc.contains(id),
            "{k} in {desc}"
        );
    }
    assert!(desc.ends_with(&format!("Timestamp: {ts}")), "{desc}");
}

struct Fixture {
    ctx: Ctx,
    s: Sub,
    signer: RsaSigner,
    issuer_path: String,
    issuer: String,
    client_id: String,
    principal_id: String,
}

async fn fixture() -> Fixture {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    let signer = RsaSigner::generate();
    let reg = ctx
        .control(Method::POST, "/_emulator/issuers", json!({"path": format!("/{}/{}/", s.tenant, uuid::Uuid::new_v4()), "jwks": signer.jwks()}))
        .await;
    let issuer = reg["issuer"].as_str().unwrap().to_string();
    assert!(issuer.ends_with('/'));
    ctx.put_rg(&s, "rg").await;
    let ident = ctx.put_identity(&s, "rg", "workload").await;
    let (st, b, _) = ctx
        .arm(
            Some(&s.token),
            Method::PUT,
            &fic_path(&s.sub, "rg", "workload", "k8s"),
            Some(&fic_body(&issuer, SA)),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    Fixture {
        issuer_path: reg["path"].as_str().unwrap().to_string(),
        client_id: ident["properties"]["clientId"]
            .as_str()
            .unwrap()
            .to_string(),
        principal_id: ident["properties"]["principalId"]
            .as_str()
            .unwrap()
            .to_string(),
        ctx,
        s,
        signer,
        issuer,
    }
}

fn assertion(signer: &RsaSigner, iss: &str, sub: &str, aud: &str, exp_offset: i64) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    signer.sign(&json!({
        "iss": iss, "sub": sub, "aud": [aud],
        "iat": now.min(now + exp_offset) - 10, "nbf": now.min(now + exp_offset) - 10, "exp": now + exp_offset,
        "kubernetes.io": {"namespace": "demo", "serviceaccount": {"name": "workload", "uid": "u"}},
    }))
}

impl Fixture {
    async fn exchange_as(&self, tenant: &str, client_id: &str, token: &str) -> (u16, Value) {
        self.ctx
            .token_request(
                tenant,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("scope", "https://management.azure.com/.default"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", token),
                ],
            )
            .await
    }
    async fn exchange(&self, token: &str) -> (u16, Value) {
        self.exchange_as(&self.s.tenant, &self.client_id, token)
            .await
    }
    fn token(&self, iss: &str, sub: &str, aud: &str, exp_offset: i64) -> String {
        assertion(&self.signer, iss, sub, aud, exp_offset)
    }
    async fn settings(&self, patch: Value) {
        self.ctx
            .control(
                Method::PUT,
                &format!("/_emulator/subscriptions/{}/settings", self.s.sub),
                patch,
            )
            .await;
    }
    /// A federated credential for this fixture's issuer on `identity` (created: 201).
    async fn credential(&self, identity: &str, name: &str, subject: &str) {
        let (st, b, _) = self
            .ctx
            .arm(
                Some(&self.s.token),
                Method::PUT,
                &fic_path(&self.s.sub, "rg", identity, name),
                Some(&fic_body(&self.issuer, subject)),
            )
            .await;
        assert_eq!(st, 201, "{b}");
    }
}

#[tokio::test]
async fn federated_exchange_success_and_every_failure() {
    let f = fixture().await;

    // Success: a v1 ARM token for the managed identity that ARM accepts (403: no role yet).
    let (st, b) = f.exchange(&f.token(&f.issuer, SA, AUD, 3600)).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["token_type"], "Bearer");
    assert!(b["expires_in"].as_i64().unwrap() > 0 && b["ext_expires_in"].is_number());
    let at = b["access_token"].as_str().unwrap();
    let claims = jwt::decode(at).unwrap().claims;
    assert_eq!(claims["aud"], "https://management.azure.com/");
    assert_eq!(
        claims["iss"],
        format!("https://sts.windows.net/{}/", f.s.tenant)
    );
    assert_eq!(claims["tid"], f.s.tenant);
    assert_eq!(claims["oid"], f.principal_id);
    assert_eq!(claims["sub"], f.principal_id);
    assert_eq!(claims["appid"], f.client_id);
    assert_eq!(claims["azp"], f.client_id);
    assert_eq!(claims["idtyp"], "app");
    assert!(claims["xms_mirid"].as_str().unwrap().ends_with(
        "/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/workload"
    ));
    let (st, body, _) = f
        .ctx
        .arm(
            Some(at),
            Method::GET,
            &common::identity_path(&f.s.sub, "rg", "workload"),
            None,
        )
        .await;
    common::assert_arm_error(st, &body, 403, "AuthorizationFailed");

    // 700211: the only difference is the trailing slash of the issuer.
    let (st, b) = f
        .exchange(&f.token(f.issuer.trim_end_matches('/'), SA, AUD, 3600))
        .await;
    assert_entra_error(st, &b, 401, "invalid_client", 700211);
    assert!(
        b["error_description"]
            .as_str()
            .unwrap()
            .contains(&format!("issuer '{}'", f.issuer.trim_end_matches('/')))
    );
    // 700213: subject (case-sensitive).
    let (st, b) = f
        .exchange(&f.token(&f.issuer, &SA.to_uppercase(), AUD, 3600))
        .await;
    assert_entra_error(st, &b, 401, "invalid_client", 700213);
    // 700212: audience.
    let (st, b) = f
        .exchange(&f.token(&f.issuer, SA, "api://other", 3600))
        .await;
    assert_entra_error(st, &b, 401, "invalid_client", 700212);
    // 700024: expired.
    let (st, b) = f.exchange(&f.token(&f.issuer, SA, AUD, -3600)).await;
    assert_entra_error(st, &b, 401, "invalid_client", 700024);
    // 700027: signed by a key the issuer does not publish.
    let other = RsaSigner::generate();
    let (st, b) = f
        .exchange(&assertion(&other, &f.issuer, SA, AUD, 3600))
        .await;
    assert_entra_error(st, &b, 401, "invalid_client", 700027);
    // 700016: unknown client id; and the right client id in another tenant.
    let (st, b) = f
        .exchange_as(
            &f.s.tenant,
            &uuid::Uuid::new_v4().to_string(),
            &f.token(&f.issuer, SA, AUD, 3600),
        )
        .await;
    assert_entra_error(st, &b, 400, "unauthorized_client", 700016);
    let other_tenant = f.ctx.subscription(json!({})).await;
    let (st, b) = f
        .exchange_as(
            &other_tenant.tenant,
            &f.client_id,
            &f.token(&f.issuer, SA, AUD, 3600),
        )
        .await;
    assert_entra_error(st, &b, 400, "unauthorized_client", 700016);

    // JWKS that does not match the signing key, then discovery unreachable.
    let mode = |m: &str| json!({"path": f.issuer_path, "mode": m});
    f.ctx
        .control(Method::PUT, "/_emulator/issuers/mode", mode("wrong-key"))
        .await;
    let (st, b) = f.exchange(&f.token(&f.issuer, SA, AUD, 3600)).await;
    assert_entra_error(st, &b, 401, "invalid_client", 700027);
    f.ctx
        .control(Method::PUT, "/_emulator/issuers/mode", mode("not-found"))
        .await;
    let (st, b) = f.exchange(&f.token(&f.issuer, SA, AUD, 3600)).await;
    assert_entra_error(st, &b, 400, "invalid_request", 90061);
    f.ctx
        .control(Method::PUT, "/_emulator/issuers/mode", mode("normal"))
        .await;
    let (st, _) = f.exchange(&f.token(&f.issuer, SA, AUD, 3600)).await;
    assert_eq!(st, 200);
}

/// A credential still propagating is not there for the token service yet: a token it would
/// match is checked against the others (here a subject mismatch, 700213), and works once it has
/// propagated (Microsoft's AKS workload identity guide: a token request made right after a
/// federated credential is added may fail until the credential has propagated).
#[tokio::test]
async fn a_propagating_credential_is_invisible_until_it_has_propagated() {
    let f = fixture().await;
    f.settings(json!({"ficPropagationSeconds": 1.5})).await;
    // The fixture's own credential is older than that once this has passed.
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    let sa2 = "system:serviceaccount:demo:second";
    f.credential("workload", "second", sa2).await;
    let (st, b) = f.exchange(&f.token(&f.issuer, sa2, AUD, 3600)).await;
    assert_entra_error(st, &b, 401, "invalid_client", 700213);
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    let (st, b) = f.exchange(&f.token(&f.issuer, sa2, AUD, 3600)).await;
    assert_eq!(st, 200, "{b}");
}

/// An identity without any federated credential is AADSTS70025 "The client '...' has no
/// configured federated identity credentials." (the code and sentence in public reports, e.g.
/// Azure/login users' "AADSTS70025: The client '<app>' has no configured federated identity
/// credentials."), also while its first credential is still propagating.
#[tokio::test]
async fn an_identity_without_credentials_is_aadsts70025() {
    let f = fixture().await;
    let bare = f.ctx.put_identity(&f.s, "rg", "bare").await;
    let bare_client = bare["properties"]["clientId"].as_str().unwrap();
    let (st, b) = f
        .exchange_as(&f.s.tenant, bare_client, &f.token(&f.issuer, SA, AUD, 3600))
        .await;
    assert_entra_error(st, &b, 401, "invalid_client", 70025);
    let desc = b["error_description"].as_str().unwrap();
    assert!(
        desc.starts_with(&format!(
            "AADSTS70025: The client 'bare'({bare_client}) has no configured federated identity credentials."
        )),
        "{desc}"
    );
    // Its first credential, still propagating: the same answer, then success.
    f.settings(json!({"ficPropagationSeconds": 1.5})).await;
    f.credential("bare", "first", SA).await;
    let (st, b) = f
        .exchange_as(&f.s.tenant, bare_client, &f.token(&f.issuer, SA, AUD, 3600))
        .await;
    assert_entra_error(st, &b, 401, "invalid_client", 70025);
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    let (st, b) = f
        .exchange_as(&f.s.tenant, bare_client, &f.token(&f.issuer, SA, AUD, 3600))
        .await;
    assert_eq!(st, 200, "{b}");
}

/// Entra reports the same mismatch either per field (700211/700212/700213) or with the one
/// generic AADSTS70021 in its older form (400 invalid_request, CRLF trailer, the assertion's
/// iss/sub/aud quoted: Azure/azure-workload-identity#616); public reports show both for a
/// subject mismatch. `ficMismatchCodes: "generic"` selects the second.
#[tokio::test]
async fn generic_mismatch_mode_answers_70021_for_every_field() {
    let f = fixture().await;
    f.settings(json!({"ficMismatchCodes": "generic"})).await;
    let other = "system:serviceaccount:demo:other";
    let trimmed = f.issuer.trim_end_matches('/');
    for (iss, sub, aud) in [
        (f.issuer.as_str(), other, AUD),
        (f.issuer.as_str(), SA, "api://other"),
        (trimmed, SA, AUD),
    ] {
        let (st, b) = f.exchange(&f.token(iss, sub, aud, 3600)).await;
        assert_entra_error(st, &b, 400, "invalid_request", 70021);
        let desc = b["error_description"].as_str().unwrap();
        assert!(
            desc.contains(&format!(
                "Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{aud}'."
            )),
            "{desc}"
        );
        assert!(
            desc.contains("\r\nTrace ID: "),
            "the 70021 form uses CRLF: {desc}"
        );
    }
    // A new identity whose only credential is still propagating: 70021 in this mode (70025 in
    // the other); an identity with none at all is 70025 in both.
    f.settings(json!({"ficPropagationSeconds": 60})).await;
    let fresh = f.ctx.put_identity(&f.s, "rg", "fresh").await;
    f.credential("fresh", "only", SA).await;
    let (st, b) = f
        .exchange_as(
            &f.s.tenant,
            fresh["properties"]["clientId"].as_str().unwrap(),
            &f.token(&f.issuer, SA, AUD, 3600),
        )
        .await;
    assert_entra_error(st, &b, 400, "invalid_request", 70021);
    let bare = f.ctx.put_identity(&f.s, "rg", "bare").await;
    let (st, b) = f
        .exchange_as(
            &f.s.tenant,
            bare["properties"]["clientId"].as_str().unwrap(),
            &f.token(&f.issuer, SA, AUD, 3600),
        )
        .await;
    assert_entra_error(st, &b, 401, "invalid_client", 70025);
    f.settings(json!({"ficPropagationSeconds": 0})).await;
    // The matching token still works, and "specific" brings the per-field codes back.
    let (st, b) = f.exchange(&f.token(&f.issuer, SA, AUD, 3600)).await;
    assert_eq!(st, 200, "{b}");
    f.settings(json!({"ficMismatchCodes": "specific"})).await;
    let (st, b) = f.exchange(&f.token(&f.issuer, other, AUD, 3600)).await;
    assert_entra_error(st, &b, 401, "invalid_client", 700213);
}

#[tokio::test]
async fn issuer_host_mirrors_upstream_jwks() {
    let f = fixture().await;
    // A second issuer mirrors the first one's JWKS over https (like kube-apiserver upstream).
    let upstream = format!("{}openid/v1/jwks", f.issuer);
    let reg = f
        .ctx
        .control(Method::POST, "/_emulator/issuers", json!({"path": format!("/{}/{}", f.s.tenant, uuid::Uuid::new_v4()), "jwksUpstream": upstream}))
        .await;
    let issuer2 = reg["issuer"].as_str().unwrap().to_string();
    let disc: Value = f
        .ctx
        .http
        .get(format!("{issuer2}.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disc["issuer"], issuer2);
    assert_eq!(disc["jwks_uri"], format!("{issuer2}openid/v1/jwks"));
    assert_eq!(disc["response_types_supported"], json!(["id_token"]));
    assert_eq!(disc["subject_types_supported"], json!(["public"]));
    assert_eq!(
        disc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    let jwks: Value = f
        .ctx
        .http
        .get(format!("{issuer2}openid/v1/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks, f.signer.jwks());

    let (st, _, _) = f
        .ctx
        .arm(
            Some(&f.s.token),
            Method::PUT,
            &fic_path(&f.s.sub, "rg", "workload", "mirror"),
            Some(&fic_body(&issuer2, SA)),
        )
        .await;
    assert_eq!(st, 201);
    let (st, b) = f.exchange(&f.token(&issuer2, SA, AUD, 3600)).await;
    assert_eq!(st, 200, "{b}");
}

#[tokio::test]
async fn client_secret_flow_and_discovery() {
    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    let disc: Value = ctx
        .http
        .get(ctx.url(&format!(
            "/{}/v2.0/.well-known/openid-configuration",
            s.tenant
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        disc["token_endpoint"],
        ctx.url(&format!("/{}/oauth2/v2.0/token", s.tenant))
    );
    let keys: Value = ctx
        .http
        .get(disc["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The issued ARM token verifies against the published keys.
    jwt::decode(&s.token).unwrap().verify(&keys).unwrap();
    let inst: Value = ctx
        .http
        .get(ctx.url(&format!(
            "/common/discovery/instance?api-version=1.1&authorization_endpoint={}",
            ctx.url(&format!("/{}/oauth2/v2.0/authorize", s.tenant))
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        inst["tenant_discovery_endpoint"]
            .as_str()
            .unwrap()
            .contains(&s.tenant)
    );

    let (st, b) = ctx
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
    assert_entra_error(st, &b, 401, "invalid_client", 7000215);
    let (st, b) = ctx
        .token_request(
            &s.tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &s.owner_client_id),
                ("client_secret", &s.owner_secret),
                ("scope", "https://management.azure.com/user_impersonation"),
            ],
        )
        .await;
    assert_entra_error(st, &b, 400, "invalid_scope", 1002012);
    let (st, b) = ctx
        .token_request(
            &uuid::Uuid::new_v4().to_string(),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &s.owner_client_id),
                ("client_secret", &s.owner_secret),
                ("scope", "https://management.azure.com/.default"),
            ],
        )
        .await;
    assert_entra_error(st, &b, 400, "invalid_request", 90002);
}
