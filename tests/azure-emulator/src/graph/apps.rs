//! Application registrations, their service principals and the applications' federated
//! identity credentials: the Graph writes `azwi serviceaccount create`, `az ad app|sp` and the
//! plugin make, held to data/azure-api/graph-federated-credentials (README.md there lists the
//! URL forms: object id, `(appId='…')`, `(uniqueName='…')`, `(name='…')`). Reads of the
//! collections and single objects stay in `directory.rs`; this module answers everything else
//! under `/applications` and `/servicePrincipals`.

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{GraphError, Req, errors::json_response, fics};
use crate::store::{App, Principal, ServicePrincipal, World, guid, now_rfc3339, secs};

/// Least privileged first, as Graph's permission tables list them. `OwnedBy` covers only the
/// applications the caller owns (and those it creates, which it then owns).
pub const WRITE_ALL: &str = "Application.ReadWrite.All";
pub const WRITE_OWNED: &str = "Application.ReadWrite.OwnedBy";

/// How a request names an application or service principal.
#[derive(Debug, PartialEq)]
pub enum Key {
    Id(String),
    AppId(String),
    UniqueName(String),
    /// A federated credential's alternate key.
    Name(String),
}

impl Key {
    pub fn shown(&self) -> &str {
        match self {
            Key::Id(v) | Key::AppId(v) | Key::UniqueName(v) | Key::Name(v) => v,
        }
    }
}

/// `applications(appId='x')` -> ("applications", Some(AppId(x))); `applications` -> (.., None).
pub fn split_key(segment: &str) -> (&str, Option<Key>) {
    let Some((collection, rest)) = segment.split_once('(') else {
        return (segment, None);
    };
    let key = rest.strip_suffix(')').and_then(|inner| {
        let (prop, value) = inner.split_once('=')?;
        let value = value
            .strip_prefix('\'')?
            .strip_suffix('\'')?
            .replace("''", "'");
        match prop {
            "appId" => Some(Key::AppId(value)),
            "uniqueName" => Some(Key::UniqueName(value)),
            "name" => Some(Key::Name(value)),
            _ => None,
        }
    });
    (collection, key)
}

pub fn route(req: &Req<'_>) -> Option<Result<Response, GraphError>> {
    let segs: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let (collection, alt) = split_key(segs[0]);
    let key = match (alt, segs.get(1)) {
        (Some(k), _) => Some(k),
        (None, Some(id)) if !id.is_empty() => Some(Key::Id(id.to_string())),
        _ => None,
    };
    // With an alternate key in the first segment, the rest starts one segment earlier.
    let rest: &[&str] = match (&key, segs[0].contains('(')) {
        (Some(_), true) => &segs[1..],
        (Some(_), false) => &segs[2..],
        (None, _) => &[],
    };
    let m = req.method;
    match (collection, key, rest) {
        ("applications", None, []) if m == Method::POST => Some(create_app(req)),
        ("applications", Some(k), []) if m == Method::PATCH => Some(upsert_app(req, &k)),
        ("applications", Some(k), []) if m == Method::DELETE => Some(delete_app(req, &k)),
        ("applications", Some(k), [fic, tail @ ..])
            if fic.starts_with("federatedIdentityCredentials") =>
        {
            Some(fics::route(req, &k, fic, tail))
        }
        ("servicePrincipals", None, []) if m == Method::POST => {
            Some(body(req).and_then(|b| create_sp(req, b)))
        }
        ("servicePrincipals", Some(k), []) if m == Method::PATCH => Some(update_sp(req, &k)),
        ("servicePrincipals", Some(k), []) if m == Method::DELETE => Some(delete_sp(req, &k)),
        _ => None,
    }
}

/// The caller may read applications (and their credentials).
pub fn may_read(req: &Req<'_>) -> Result<(), GraphError> {
    let c = req.caller;
    if c.has_any(super::directory::READ_APPS) {
        Ok(())
    } else {
        Err(GraphError::forbidden())
    }
}

/// The caller may change this application: `All`, or `OwnedBy` and an owner.
pub fn may_write(req: &Req<'_>, app: &App) -> Result<(), GraphError> {
    let c = req.caller;
    if c.has_any(&[WRITE_ALL]) || (c.has_any(&[WRITE_OWNED]) && app.owners.contains(&c.oid)) {
        Ok(())
    } else {
        Err(GraphError::forbidden())
    }
}

/// The application a key names, in the caller's tenant (Graph's 404 otherwise: an app id in the
/// object-id slot is not found, as microsoft-graph-docs-contrib#1107 shows).
pub fn find_app<'w>(w: &'w mut World, tenant: &str, key: &Key) -> Result<&'w mut App, GraphError> {
    w.apps
        .values_mut()
        .filter(|a| a.tenant_id == tenant)
        .find(|a| match key {
            Key::Id(id) => a.app_object_id.eq_ignore_ascii_case(id),
            Key::AppId(id) => a.client_id.eq_ignore_ascii_case(id),
            Key::UniqueName(n) => a.unique_name.as_deref() == Some(n.as_str()),
            Key::Name(_) => false,
        })
        .ok_or_else(|| GraphError::not_found(key.shown()))
}

/// The application whose service principal a key names (`Id` = the SP's object id).
fn find_sp_app<'w>(w: &'w mut World, tenant: &str, key: &Key) -> Result<&'w mut App, GraphError> {
    w.apps
        .values_mut()
        .filter(|a| a.tenant_id == tenant && a.sp.is_some())
        .find(|a| match key {
            Key::Id(id) => a.object_id.eq_ignore_ascii_case(id),
            Key::AppId(id) => a.client_id.eq_ignore_ascii_case(id),
            Key::UniqueName(_) | Key::Name(_) => false,
        })
        .ok_or_else(|| GraphError::not_found(key.shown()))
}

pub fn body(req: &Req<'_>) -> Result<Map<String, Value>, GraphError> {
    match serde_json::from_slice::<Value>(req.body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(GraphError::bad_request(
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )),
    }
}

pub fn created(v: Value) -> Result<Response, GraphError> {
    Ok(json_response(StatusCode::CREATED, v))
}

pub fn no_content() -> Result<Response, GraphError> {
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub fn app_json(a: &App) -> Value {
    json!({
        "id": a.app_object_id,
        "appId": a.client_id,
        "displayName": a.display_name,
        "signInAudience": "AzureADMyOrg",
        "identifierUris": [],
        "createdDateTime": a.created,
        "uniqueName": a.unique_name,
    })
}

pub fn sp_json(a: &App, sp: &ServicePrincipal) -> Value {
    json!({
        "id": a.object_id,
        "appId": a.client_id,
        "displayName": a.display_name,
        "accountEnabled": sp.account_enabled,
        "appOwnerOrganizationId": a.tenant_id,
        "servicePrincipalType": "Application",
        "servicePrincipalNames": [a.client_id],
        "alternativeNames": [],
        "tags": sp.tags,
    })
}

fn with_context(req: &Req<'_>, what: &str, v: Value) -> Value {
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(format!("{}/$metadata#{what}/$entity", req.base)),
    );
    if let Value::Object(m) = v {
        out.extend(m);
    }
    Value::Object(out)
}

fn display_name(b: &Map<String, Value>) -> Option<String> {
    b.get("displayName")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

fn new_app(req: &Req<'_>, name: String, unique_name: Option<String>) -> App {
    App {
        client_id: guid(),
        secret: None,
        object_id: guid(),
        app_object_id: guid(),
        display_name: name,
        tenant_id: req.caller.tid.clone(),
        graph_roles: Vec::new(),
        sp: None,
        fics: Vec::new(),
        // An app-only caller that creates an application becomes its owner.
        owners: if req.caller.app_only {
            vec![req.caller.oid.clone()]
        } else {
            Vec::new()
        },
        unique_name,
        created: now_rfc3339(),
        home_subscription: None,
    }
}

fn may_create(req: &Req<'_>) -> Result<(), GraphError> {
    if req.caller.has_any(&[WRITE_OWNED, WRITE_ALL]) {
        Ok(())
    } else {
        Err(GraphError::forbidden())
    }
}

/// `POST /applications {"displayName"}` -> 201 (application-create.json).
fn create_app(req: &Req<'_>) -> Result<Response, GraphError> {
    may_create(req)?;
    let b = body(req)?;
    let name = display_name(&b).ok_or_else(|| {
        GraphError::bad_request(
            "Request_BadRequest",
            "Required property 'displayName' not specified.",
        )
    })?;
    let unique = b
        .get("uniqueName")
        .and_then(Value::as_str)
        .map(str::to_string);
    let app = new_app(req, name, unique);
    let v = app_json(&app);
    req.st.world().apps.insert(app.client_id.clone(), app);
    created(with_context(req, "applications", v))
}

/// `PATCH /applications/{id}` (or `(appId=)`): an update (`displayName`; 204), as `az ad app
/// create` patches an application of the same name. On `(uniqueName='…')` with `Prefer:
/// create-if-missing` an upsert (201 with the new object, 204 when it existed).
fn upsert_app(req: &Req<'_>, key: &Key) -> Result<Response, GraphError> {
    let b = body(req)?;
    let mut w = req.st.world();
    match find_app(&mut w, &req.caller.tid, key) {
        Ok(app) => {
            may_write(req, app)?;
            if let Some(n) = display_name(&b) {
                app.display_name = n;
            }
            no_content()
        }
        Err(e) if !req.prefer_create || !matches!(key, Key::UniqueName(_)) => Err(e),
        Err(_) => {
            may_create(req)?;
            let Key::UniqueName(unique) = key else {
                unreachable!("routed only for uniqueName")
            };
            let name = display_name(&b).unwrap_or_else(|| unique.clone());
            let app = new_app(req, name, Some(unique.clone()));
            let v = app_json(&app);
            w.apps.insert(app.client_id.clone(), app);
            created(with_context(req, "applications", v))
        }
    }
}

/// Deleting an application deletes its credentials and its service principal in this tenant.
fn delete_app(req: &Req<'_>, key: &Key) -> Result<Response, GraphError> {
    let mut w = req.st.world();
    let app = find_app(&mut w, &req.caller.tid, key)?;
    may_write(req, app)?;
    let (client_id, sp_id) = (app.client_id.clone(), app.object_id.clone());
    w.apps.remove(&client_id);
    w.principals.remove(&sp_id);
    no_content()
}

/// `POST /servicePrincipals {"appId", "tags"?}` -> 201 (serviceprincipal-create.json); a
/// second one for the same app is 409 with the text `az ad sp create` users report.
fn create_sp(req: &Req<'_>, b: Map<String, Value>) -> Result<Response, GraphError> {
    let app_id = b
        .get("appId")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            GraphError::bad_request(
                "Request_BadRequest",
                "Required property 'appId' not specified.",
            )
        })?
        .to_string();
    let tags = string_list(b.get("tags"));
    let mut w = req.st.world();
    let tenant = req.caller.tid.clone();
    let app = find_app(&mut w, &tenant, &Key::AppId(app_id.clone())).map_err(|_| {
        GraphError::bad_request(
            "Request_BadRequest",
            format!(
                "The appId '{app_id}' of the service principal does not reference a valid application object."
            ),
        )
    })?;
    may_write(req, app)?;
    if app.sp.is_some() {
        return Err(GraphError::new(
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            format!(
                "The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use."
            ),
        ));
    }
    let sp = ServicePrincipal {
        account_enabled: b
            .get("accountEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        tags,
    };
    let v = sp_json(app, &sp);
    app.sp = Some(sp);
    let (oid, name) = (app.object_id.clone(), app.display_name.clone());
    register_principal(&mut w, &tenant, oid, name);
    created(with_context(req, "servicePrincipals", v))
}

/// A new service principal is a principal role assignments may name, after the tenant's
/// configured replication delay (PrincipalNotFound meanwhile, as for managed identities).
fn register_principal(w: &mut World, tenant: &str, oid: String, name: String) {
    let delay = w
        .subs
        .values()
        .filter(|s| s.tenant_id == tenant)
        .min_by(|a, b| a.id.cmp(&b.id))
        .map(|s| s.settings.principal_propagation_seconds)
        .unwrap_or(0.0);
    w.principals.insert(
        oid,
        Principal {
            tenant_id: tenant.to_string(),
            kind: "ServicePrincipal".into(),
            display_name: Some(name),
            visible_at: Instant::now() + secs(delay),
        },
    );
}

/// `PATCH /servicePrincipals/{id}` (or `(appId='…')`, an upsert with `Prefer:
/// create-if-missing`): `accountEnabled` and `tags`.
fn update_sp(req: &Req<'_>, key: &Key) -> Result<Response, GraphError> {
    let b = body(req)?;
    let mut w = req.st.world();
    let tenant = req.caller.tid.clone();
    if req.prefer_create
        && let Key::AppId(a) = key
        && find_sp_app(&mut w, &tenant, key).is_err()
    {
        drop(w);
        let mut with_app = b;
        with_app.insert("appId".into(), json!(a));
        return create_sp(req, with_app);
    }
    let app = find_sp_app(&mut w, &tenant, key)?;
    may_write(req, app)?;
    let Some(sp) = app.sp.as_mut() else {
        return Err(GraphError::not_found(&app.object_id));
    };
    if let Some(e) = b.get("accountEnabled") {
        sp.account_enabled = e.as_bool().ok_or_else(|| {
            GraphError::bad_request(
                "Request_BadRequest",
                "Invalid value specified for property 'accountEnabled'.",
            )
        })?;
    }
    if b.contains_key("tags") {
        sp.tags = string_list(b.get("tags"));
    }
    no_content()
}

fn delete_sp(req: &Req<'_>, key: &Key) -> Result<Response, GraphError> {
    let mut w = req.st.world();
    let app = find_sp_app(&mut w, &req.caller.tid, key)?;
    may_write(req, app)?;
    app.sp = None;
    let oid = app.object_id.clone();
    w.principals.remove(&oid);
    no_content()
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
