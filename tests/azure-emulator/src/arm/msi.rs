//! Microsoft.ManagedIdentity: userAssignedIdentities and their federatedIdentityCredentials.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::{ArmError, ArmResult, Req, empty, json, skip_token, sub_mut};
use crate::store::{Fic, Identity, Principal, Subscription, guid, secs};

pub const IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";
pub const FIC_TYPE: &str =
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials";
pub const CONCURRENT_CODE: &str =
    "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity";
pub const MAX_FICS: usize = 20;
const MAX_CLAIM_LEN: usize = 600;

pub fn concurrent_message(identity_id: &str) -> String {
    format!(
        "Too many Federated Identity Credentials are written concurrently for the managed identity '{}'. Concurrent Federated Identity Credentials writes under the same managed identity are not supported.",
        identity_id.to_ascii_lowercase()
    )
}

/// Ids use lower-case `resourcegroups`, as the service returns them.
pub fn identity_id(sub: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourcegroups/{rg}/providers/{IDENTITY_TYPE}/{name}")
}

pub fn key(rg: &str, name: &str) -> String {
    format!("{}/{}", rg.to_ascii_lowercase(), name.to_ascii_lowercase())
}

fn identity_json(sub: &str, i: &Identity, api: &str) -> Value {
    let mut props = json!({
        "tenantId": i.tenant_id,
        "principalId": i.principal_id,
        "clientId": i.client_id,
    });
    // isolationScope appeared in 2024-11-30, assignmentRestrictions in 2026-05-31.
    if api >= "2024-11-30" {
        props["isolationScope"] = json!(i.isolation_scope);
    }
    if api >= "2026-05-31" {
        props["assignmentRestrictions"] = json!({"providers": []});
    }
    json!({
        "id": identity_id(sub, &i.rg, &i.name),
        "name": i.name,
        "type": IDENTITY_TYPE,
        "location": i.location,
        "tags": i.tags.clone().unwrap_or_default(),
        "properties": props,
    })
}

/// The api-version whose FederatedIdentityCredentialProperties carry `claimsMatchingExpression`
/// and an optional `subject` (Azure/azure-rest-api-specs, specification/msi/resource-manager/
/// Microsoft.ManagedIdentity/ManagedIdentity/preview/2025-01-31-preview/ManagedIdentity.json:
/// "Either 'subject' or 'claimsMatchingExpression' must be defined, but not both").
pub const FLEXIBLE_API: &str = "2025-01-31-preview";

/// A flexible credential is listed with no subject at any api-version; only the one that
/// knows the expression shows it.
fn fic_json(sub: &str, i: &Identity, f: &Fic, api: &str) -> Value {
    let mut props = json!({"issuer": f.issuer, "audiences": f.audiences});
    match &f.claims {
        None => props["subject"] = json!(f.subject),
        Some(c) if api == FLEXIBLE_API => props["claimsMatchingExpression"] = c.clone(),
        Some(_) => {}
    }
    json!({
        "id": format!("{}/federatedIdentityCredentials/{}", identity_id(sub, &i.rg, &i.name), f.name),
        "name": f.name,
        "type": FIC_TYPE,
        "properties": props,
    })
}

fn rg_checked(s: &Subscription, rg: &str) -> Result<(), ArmError> {
    if s.rgs.contains_key(&rg.to_ascii_lowercase()) {
        Ok(())
    } else {
        Err(ArmError::resource_group_not_found(rg))
    }
}

fn valid_identity_name(n: &str) -> bool {
    let mut chars = n.chars();
    (3..=128).contains(&n.len())
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$`
pub fn valid_fic_name(n: &str) -> bool {
    let mut chars = n.chars();
    (3..=120).contains(&n.len())
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn tags_of(body: &Map<String, Value>) -> Result<Option<Map<String, Value>>, ArmError> {
    match body.get("tags") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(ArmError::invalid_body("tags must be an object")),
    }
}

pub fn list_identities(req: &Req<'_>, sub: &str, rg: Option<&str>) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    if let Some(rg) = rg {
        rg_checked(s, rg)?;
    }
    let all: Vec<Value> = s
        .identities
        .values()
        .filter(|i| rg.is_none_or(|rg| i.rg.eq_ignore_ascii_case(rg)))
        .map(|i| identity_json(&s.id, i, req.api_version))
        .collect();
    page(req, all, s.settings.page_size.max(1), None)
}

fn page(req: &Req<'_>, all: Vec<Value>, size: usize, top: Option<usize>) -> ArmResult {
    let start = skip_token(req).min(all.len());
    let end = (start + size).min(all.len());
    let mut body = json!({"value": all[start..end]});
    if end < all.len() {
        body["nextLink"] = json!(req.next_link(end, top));
    }
    json(StatusCode::OK, body)
}

pub fn identity(req: &Req<'_>, sub: &str, rg: &str, name: &str) -> ArmResult {
    let mut w = req.st.world();
    let w = &mut *w;
    let s = sub_mut(w, sub)?;
    rg_checked(s, rg)?;
    let k = key(rg, name);
    let not_found = || ArmError::resource_not_found(IDENTITY_TYPE, name, rg);
    match *req.method {
        Method::GET => {
            let i = s.identities.get(&k).ok_or_else(not_found)?;
            json(StatusCode::OK, identity_json(&s.id, i, req.api_version))
        }
        Method::DELETE => match s.identities.remove(&k) {
            Some(i) => {
                w.principals.remove(&i.principal_id);
                empty(StatusCode::OK)
            }
            None => empty(StatusCode::NO_CONTENT),
        },
        Method::PATCH => {
            let body = req.json_body()?;
            let tags = tags_of(&body)?;
            let i = s.identities.get_mut(&k).ok_or_else(not_found)?;
            if tags.is_some() {
                i.tags = tags;
            }
            if let Some(scope) = body
                .get("properties")
                .and_then(|p| p.get("isolationScope"))
                .and_then(Value::as_str)
            {
                i.isolation_scope = scope.to_string();
            }
            json(StatusCode::OK, identity_json(&s.id, i, req.api_version))
        }
        Method::PUT => {
            if !valid_identity_name(name) {
                return Err(ArmError::bad_request(
                    "InvalidResourceName",
                    format!(
                        "Resource name {name} is invalid. The name can be between 3 and 128 characters long, must start with a letter or number, and may contain only letters, numbers, hyphens and underscores."
                    ),
                ));
            }
            let body = req.json_body()?;
            let location = super::required_location(&body)?;
            let tags = tags_of(&body)?;
            let isolation = body
                .get("properties")
                .and_then(|p| p.get("isolationScope"))
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(i) = s.identities.get_mut(&k) {
                // The same front-door location check as InvalidResourceGroupLocation, with
                // the same status (409); the code and text are ARM's (Azure/azure-service-
                // operator#784, MicrosoftDocs/azure-docs#70422).
                if !normalize_location(&i.location).eq(&normalize_location(&location)) {
                    return Err(ArmError::new(
                        StatusCode::CONFLICT,
                        "InvalidResourceLocation",
                        format!(
                            "The resource '{name}' already exists in location '{}' in resource group '{rg}'. A resource with the same name cannot be created in location '{location}'. Please select a new resource name.",
                            i.location
                        ),
                    ));
                }
                i.tags = tags;
                if let Some(iso) = isolation {
                    i.isolation_scope = iso;
                }
                return json(StatusCode::OK, identity_json(&s.id, i, req.api_version));
            }
            let rg_name = s.rgs[&rg.to_ascii_lowercase()].name.clone();
            let ident = Identity {
                rg: rg_name,
                name: name.to_string(),
                location,
                tags,
                isolation_scope: isolation.unwrap_or_else(|| "None".into()),
                tenant_id: s.tenant_id.clone(),
                principal_id: guid(),
                client_id: guid(),
                fics: Vec::new(),
            };
            let visible_at = Instant::now() + secs(s.settings.principal_propagation_seconds);
            let body = identity_json(&s.id, &ident, req.api_version);
            w.principals.insert(
                ident.principal_id.clone(),
                Principal {
                    tenant_id: ident.tenant_id.clone(),
                    kind: "ServicePrincipal".into(),
                    display_name: Some(ident.name.clone()),
                    visible_at,
                },
            );
            let s = sub_mut(w, sub)?;
            s.identities.insert(k, ident);
            json(StatusCode::CREATED, body)
        }
        _ => Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "Method not allowed.",
        )),
    }
}

fn normalize_location(l: &str) -> String {
    l.to_ascii_lowercase().replace(' ', "")
}

fn parent_id(req: &Req<'_>) -> String {
    let lower = req.path.to_ascii_lowercase();
    match lower.find("/federatedidentitycredentials") {
        Some(pos) => req.path[..pos].to_string(),
        None => req.path.to_string(),
    }
}

pub fn list_fics(req: &Req<'_>, sub: &str, rg: &str, identity: &str) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    rg_checked(s, rg)?;
    let i = s.identities.get(&key(rg, identity)).ok_or_else(|| {
        ArmError::parent_not_found(
            "read",
            "userAssignedIdentities/federatedIdentityCredentials",
            &parent_id(req),
        )
    })?;
    let all: Vec<Value> = i
        .fics
        .iter()
        .map(|f| fic_json(&s.id, i, f, req.api_version))
        .collect();
    let top = match req.query_ci("$top") {
        None => None,
        Some(t) => Some(t.parse::<usize>().ok().filter(|t| *t > 0).ok_or_else(|| {
            ArmError::bad_request(
                "InvalidParameter",
                format!("The value '{t}' of query parameter '$top' is invalid."),
            )
        })?),
    };
    let size = top.unwrap_or(s.settings.page_size).max(1);
    page(req, all, size, top)
}

pub fn get_fic(req: &Req<'_>, sub: &str, rg: &str, identity: &str, name: &str) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    rg_checked(s, rg)?;
    let i = s.identities.get(&key(rg, identity)).ok_or_else(|| {
        ArmError::parent_not_found(
            "read",
            "userAssignedIdentities/federatedIdentityCredentials",
            &parent_id(req),
        )
    })?;
    let f = i
        .fics
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| fic_not_found(identity, name, rg))?;
    json(StatusCode::OK, fic_json(&s.id, i, f, req.api_version))
}

fn fic_not_found(identity: &str, name: &str, rg: &str) -> ArmError {
    ArmError::resource_not_found(
        &format!("{IDENTITY_TYPE}/{identity}/federatedIdentityCredentials"),
        name,
        rg,
    )
}

struct FicBody {
    issuer: String,
    subject: String,
    audiences: Vec<String>,
    claims: Option<Value>,
}

fn parse_fic_body(req: &Req<'_>) -> Result<FicBody, ArmError> {
    let body = req.json_body()?;
    let props = body.get("properties").cloned().unwrap_or(Value::Null);
    let s = |k: &str| props.get(k).and_then(Value::as_str).map(str::to_string);
    let audiences: Option<Vec<String>> =
        props.get("audiences").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        });
    let missing = || {
        ArmError::bad_request(
            "BadRequest",
            "The request format was unexpected. Federated Identity Credential must specify 'issuer', 'subject' and 'audience'.",
        )
    };
    // A flexible credential: an expression instead of the subject, on the api-version that has it.
    let claims = props
        .get("claimsMatchingExpression")
        .filter(|c| req.api_version == FLEXIBLE_API && c["value"].is_string())
        .cloned();
    let subject = match (s("subject").filter(|s| !s.is_empty()), &claims) {
        (Some(_), Some(_)) => {
            return Err(ArmError::bad_request(
                "BadRequest",
                "Either 'subject' or 'claimsMatchingExpression' must be defined, but not both.",
            ));
        }
        (None, Some(_)) => String::new(),
        (Some(s), None) => s,
        (None, None) => return Err(missing()),
    };
    let (Some(issuer), Some(audiences)) = (s("issuer").filter(|i| !i.is_empty()), audiences) else {
        return Err(missing());
    };
    if audiences.len() != 1 || audiences[0].is_empty() {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!(
                "Federated Identity Credential must have exactly one audience, but {} were provided.",
                audiences.len()
            ),
        ));
    }
    for (field, v) in [
        ("issuer", &issuer),
        ("subject", &subject),
        ("audiences", &audiences[0]),
    ] {
        if v.chars().count() > MAX_CLAIM_LEN {
            return Err(ArmError::bad_request(
                "BadRequest",
                format!(
                    "The Federated Identity Credential '{field}' value exceeds the maximum length of {MAX_CLAIM_LEN} characters."
                ),
            ));
        }
    }
    match url::Url::parse(&issuer) {
        Ok(u) if u.scheme() == "https" && u.host_str().is_some() => {}
        _ => {
            return Err(ArmError::bad_request(
                "BadRequest",
                format!(
                    "The Federated Identity Credential issuer '{issuer}' is invalid. The issuer must be a valid URL using the https scheme."
                ),
            ));
        }
    }
    Ok(FicBody {
        issuer,
        subject,
        audiences,
        claims,
    })
}

/// Clears the identity's in-flight flag however the write ends (including cancellation).
struct InFlight<'a> {
    st: &'a crate::store::Shared,
    key: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.st.world().fic_writes_in_flight.remove(&self.key);
    }
}

/// PUT or DELETE of one FIC. The identity is marked busy across an await point (the configured
/// write latency), so a second write to the same identity meanwhile gets the service's 409.
pub async fn write_fic(
    req: &Req<'_>,
    sub: &str,
    rg: &str,
    identity: &str,
    name: &str,
) -> ArmResult {
    let is_put = *req.method == Method::PUT;
    let verb = if is_put { "write" } else { "delete" };
    if is_put && !valid_fic_name(name) {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!(
                "The federated identity credential name '{name}' is invalid. It must be 3 to 120 characters long, start with a letter or a number, and contain only letters, numbers, hyphens (-) and underscores (_)."
            ),
        ));
    }
    let body = if is_put {
        Some(parse_fic_body(req)?)
    } else {
        None
    };

    let (guard, latency) = {
        let mut w = req.st.world();
        let w = &mut *w;
        let s = sub_mut(w, sub)?;
        rg_checked(s, rg)?;
        let Some(i) = s.identities.get(&key(rg, identity)) else {
            if !is_put {
                return empty(StatusCode::NO_CONTENT);
            }
            return Err(ArmError::parent_not_found(
                verb,
                "userAssignedIdentities/federatedIdentityCredentials",
                &parent_id(req),
            ));
        };
        let id = identity_id(&s.id, &i.rg, &i.name);
        let latency = Duration::from_millis(s.settings.fic_write_latency_ms);
        let lock_key = id.to_ascii_lowercase();
        if !w.fic_writes_in_flight.insert(lock_key.clone()) {
            return Err(ArmError::new(
                StatusCode::CONFLICT,
                CONCURRENT_CODE,
                concurrent_message(&id),
            ));
        }
        (
            InFlight {
                st: req.st,
                key: lock_key,
            },
            latency,
        )
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    let sub_id = s.id.clone();
    let i = s.identities.get_mut(&key(rg, identity)).ok_or_else(|| {
        ArmError::parent_not_found(
            verb,
            "userAssignedIdentities/federatedIdentityCredentials",
            &parent_id(req),
        )
    })?;
    let existing = i
        .fics
        .iter()
        .position(|f| f.name.eq_ignore_ascii_case(name));
    let Some(b) = body else {
        let status = match existing {
            Some(pos) => {
                i.fics.remove(pos);
                StatusCode::OK
            }
            None => StatusCode::NO_CONTENT,
        };
        // `w` is released before `guard` (reverse declaration order), so no self-deadlock.
        return empty(status);
    };
    if i.fics
        .iter()
        .enumerate()
        .any(|(n, f)| Some(n) != existing && f.issuer == b.issuer && f.subject == b.subject)
    {
        return Err(ArmError::bad_request(
            "BadRequest",
            "Issuer and subject combination already exists for this Managed Identity.",
        ));
    }
    let (status, fic) = match existing {
        Some(pos) => {
            let f = &mut i.fics[pos];
            if f.issuer != b.issuer
                || f.subject != b.subject
                || f.audiences != b.audiences
                || f.claims != b.claims
            {
                f.issuer = b.issuer;
                f.subject = b.subject;
                f.audiences = b.audiences;
                f.claims = b.claims;
                f.changed = Instant::now();
            }
            (StatusCode::OK, f.clone())
        }
        None => {
            if i.fics.len() >= MAX_FICS {
                return Err(ArmError::bad_request(
                    "BadRequest",
                    format!(
                        "Too many Federated Identity Credentials. The maximum number of Federated Identity Credentials per managed identity is {MAX_FICS}."
                    ),
                ));
            }
            let f = Fic {
                name: name.to_string(),
                issuer: b.issuer,
                subject: b.subject,
                audiences: b.audiences,
                claims: b.claims,
                changed: Instant::now(),
            };
            i.fics.push(f.clone());
            (StatusCode::CREATED, f)
        }
    };
    let out = fic_json(&sub_id, i, &fic, req.api_version);
    drop(w);
    drop(guard);
    json(status, out)
}
