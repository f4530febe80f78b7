//! Federated identity credentials on an application (Graph), per
//! data/azure-api/graph-federated-credentials: list (with `$filter` on `name` or `subject`),
//! create (409 on a taken name, 400 on a taken issuer+subject, at most 20), get / update /
//! delete by id or name, and the `(name='…')` upsert with `Prefer: create-if-missing`.

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::apps::{Key, body, created, find_app, may_read, may_write, no_content, split_key};
use super::{GraphError, Req, ok};
use crate::store::{App, AppFic, Fic, guid};

/// "A maximum of 20 objects can be added to an application" (microsoft-graph-docs-contrib,
/// application-post-federatedidentitycredentials.md).
pub const MAX_PER_APP: usize = 20;
const MAX_NAME: usize = 120;
const MAX_VALUE: usize = 600;

pub fn route(
    req: &Req<'_>,
    app: &Key,
    segment: &str,
    tail: &[&str],
) -> Result<Response, GraphError> {
    let (coll, alt) = split_key(segment);
    if coll != "federatedIdentityCredentials" {
        return Err(unknown(segment));
    }
    let item = match (alt, tail) {
        (Some(Key::Name(n)), []) => Some(Key::Name(n)),
        (None, [id]) if !id.is_empty() => Some(Key::Id(id.to_string())),
        (None, []) => None,
        _ => return Err(unknown(segment)),
    };
    let m = req.method;
    match item {
        None if m == Method::GET => list(req, app),
        None if m == Method::POST => create(req, app),
        Some(k) if m == Method::GET => get(req, app, &k),
        Some(k) if m == Method::PATCH => update(req, app, &k),
        Some(k) if m == Method::DELETE => delete(req, app, &k),
        _ => Err(GraphError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )),
    }
}

fn unknown(seg: &str) -> GraphError {
    GraphError::bad_request(
        "BadRequest",
        format!("Resource not found for the segment '{seg}'."),
    )
}

fn fic_json(f: &AppFic) -> Value {
    json!({
        "id": f.id,
        "name": f.fic.name,
        "issuer": f.fic.issuer,
        "subject": f.fic.subject,
        "description": f.description,
        "audiences": f.fic.audiences,
    })
}

/// The credentials of the application with this object id, as a `$expand` carries them.
pub fn of_app(w: &crate::store::World, object_id: &Value) -> Value {
    let id = object_id.as_str().unwrap_or_default();
    let fics: Vec<Value> = w
        .apps
        .values()
        .find(|a| a.app_object_id == id)
        .map(|a| a.fics.iter().map(fic_json).collect())
        .unwrap_or_default();
    Value::Array(fics)
}

fn context(req: &Req<'_>, app: &App, entity: bool) -> String {
    format!(
        "{}/$metadata#applications('{}')/federatedIdentityCredentials{}",
        req.base,
        app.app_object_id,
        if entity { "/$entity" } else { "" }
    )
}

fn entity(req: &Req<'_>, app: &App, f: &AppFic) -> Value {
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(context(req, app, true)));
    if let Value::Object(m) = fic_json(f) {
        out.extend(m);
    }
    Value::Object(out)
}

/// The documentation allows the id or the name in the key slot, and `(name='…')`.
fn position(app: &App, key: &Key) -> Option<usize> {
    app.fics.iter().position(|f| match key {
        Key::Id(v) => f.id.eq_ignore_ascii_case(v) || f.fic.name.eq_ignore_ascii_case(v),
        Key::Name(n) => f.fic.name.eq_ignore_ascii_case(n),
        _ => false,
    })
}

/// `$filter=subject eq '…'` or `name eq '…'`; one property only (fic-list-filter-subject.json).
fn filter(req: &Req<'_>) -> Result<Option<(String, String)>, GraphError> {
    let Some(raw) = req.query("$filter") else {
        return Ok(None);
    };
    let unsupported = || {
        GraphError::bad_request(
            "Request_UnsupportedQuery",
            format!(
                "Unsupported or invalid query filter clause specified for resource 'FederatedIdentityCredential': {raw}"
            ),
        )
    };
    let (prop, rhs) = raw.trim().split_once(" eq ").ok_or_else(unsupported)?;
    let value = rhs
        .trim()
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .filter(|v| !v.contains("' and ") && !v.contains("' or "))
        .ok_or_else(unsupported)?
        .replace("''", "'");
    match prop.trim() {
        p @ ("subject" | "name") => Ok(Some((p.to_string(), value))),
        _ => Err(unsupported()),
    }
}

fn list(req: &Req<'_>, key: &Key) -> Result<Response, GraphError> {
    may_read(req)?;
    let filter = filter(req)?;
    let mut w = req.st.world();
    let app = find_app(&mut w, &req.caller.tid, key)?;
    let value: Vec<Value> = app
        .fics
        .iter()
        .filter(|f| match &filter {
            Some((p, v)) if p == "subject" => &f.fic.subject == v,
            Some((_, v)) => f.fic.name.eq_ignore_ascii_case(v),
            None => true,
        })
        .map(fic_json)
        .collect();
    ok(json!({"@odata.context": context(req, app, false), "value": value}))
}

fn get(req: &Req<'_>, app_key: &Key, key: &Key) -> Result<Response, GraphError> {
    may_read(req)?;
    let mut w = req.st.world();
    let app = find_app(&mut w, &req.caller.tid, app_key)?;
    let i = position(app, key).ok_or_else(|| GraphError::not_found(key.shown()))?;
    ok(entity(req, app, &app.fics[i]))
}

/// The values a write may set; `None` = not in the body.
#[derive(Default)]
struct Fields {
    name: Option<String>,
    issuer: Option<String>,
    subject: Option<String>,
    audiences: Option<Vec<String>>,
    description: Option<Option<String>>,
}

fn invalid(message: String) -> GraphError {
    GraphError::bad_request("Request_BadRequest", message)
}

fn fields(b: &Map<String, Value>) -> Result<Fields, GraphError> {
    let text = |k: &str| -> Result<Option<String>, GraphError> {
        match b.get(k) {
            None => Ok(None),
            Some(Value::String(s)) if s.chars().count() <= MAX_VALUE => Ok(Some(s.clone())),
            Some(Value::String(_)) => Err(invalid(format!(
                "Property '{k}' exceeds the maximum length of {MAX_VALUE} characters."
            ))),
            Some(_) => Err(invalid(format!(
                "Invalid value specified for property '{k}'."
            ))),
        }
    };
    let audiences = match b.get("audiences") {
        None => None,
        Some(Value::Array(a)) => {
            let v: Vec<String> = a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            if v.len() != 1
                || v.len() != a.len()
                || v[0].is_empty()
                || v[0].chars().count() > MAX_VALUE
            {
                return Err(invalid(
                    "Property 'audiences' must contain exactly one value of at most 600 characters.".into(),
                ));
            }
            Some(v)
        }
        Some(_) => {
            return Err(invalid(
                "Invalid value specified for property 'audiences'.".into(),
            ));
        }
    };
    let name = text("name")?;
    if let Some(n) = &name
        && !valid_name(n)
    {
        return Err(invalid(format!(
            "Property 'name' must be 1 to {MAX_NAME} URL-friendly characters: '{n}'."
        )));
    }
    Ok(Fields {
        name,
        issuer: text("issuer")?,
        subject: text("subject")?,
        audiences,
        description: match b.get("description") {
            Some(Value::Null) => Some(None),
            _ => text("description")?.map(Some),
        },
    })
}

/// "URL friendly", as the resource page puts it: no character that needs escaping in a path
/// segment. `=` stays allowed: azwi's base64url names end with it and Graph accepts them.
fn valid_name(n: &str) -> bool {
    (1..=MAX_NAME).contains(&n.chars().count())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.~=".contains(c))
}

/// Another credential of the app already has this issuer and subject: the 400 of
/// error-400-duplicate-issuer-subject.json.
fn check_unique(
    app: &App,
    skip: Option<usize>,
    issuer: &str,
    subject: &str,
) -> Result<(), GraphError> {
    let taken = app
        .fics
        .iter()
        .enumerate()
        .any(|(i, f)| Some(i) != skip && f.fic.issuer == issuer && f.fic.subject == subject);
    if taken {
        return Err(GraphError::bad_request(
            "InvalidFederatedIdentityCredentialValue",
            format!(
                "The combination of issuer and subject must be unique for the application. Issuer {issuer} and Subject: {subject} already exist. paramName: FederatedIdentityCredential.Subject, paramValue: {subject}, objectType: Microsoft.Online.DirectoryServices.Application"
            ),
        ));
    }
    Ok(())
}

fn insert(app: &mut App, name: String, f: Fields) -> Result<AppFic, GraphError> {
    let (Some(issuer), Some(subject), Some(audiences)) = (f.issuer, f.subject, f.audiences) else {
        return Err(invalid(
            "Properties 'name', 'issuer', 'subject' and 'audiences' are required.".into(),
        ));
    };
    if app
        .fics
        .iter()
        .any(|x| x.fic.name.eq_ignore_ascii_case(&name))
    {
        return Err(GraphError::new(
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            format!("FederatedIdentityCredential with name {name} already exists."),
        ));
    }
    check_unique(app, None, &issuer, &subject)?;
    if app.fics.len() >= MAX_PER_APP {
        // The limit is documented; Graph's answer to the 21st is not (see
        // error-400-fic-limit-UNCONFIRMED.json): this wording is the emulator's.
        return Err(invalid(format!(
            "The application already has the maximum of {MAX_PER_APP} federated identity credentials."
        )));
    }
    let new = AppFic {
        id: guid(),
        description: f.description.flatten(),
        fic: Fic {
            name,
            issuer,
            subject,
            audiences,
            claims: None,
            changed: Instant::now(),
        },
    };
    app.fics.push(new.clone());
    Ok(new)
}

/// `POST …/federatedIdentityCredentials` -> 201 (fic-create.json, fic-create-by-appid.json).
fn create(req: &Req<'_>, key: &Key) -> Result<Response, GraphError> {
    let f = fields(&body(req)?)?;
    let mut w = req.st.world();
    let app = find_app(&mut w, &req.caller.tid, key)?;
    may_write(req, app)?;
    let name = f
        .name
        .clone()
        .ok_or_else(|| invalid("Property 'name' is required.".into()))?;
    let new = insert(app, name, f)?;
    created(entity(req, app, &new))
}

/// `PATCH …/{id}` updates (204, fic-update.json; the name is immutable); `PATCH
/// …(name='…')` with `Prefer: create-if-missing` creates when missing (201,
/// fic-upsert-by-name.json).
fn update(req: &Req<'_>, app_key: &Key, key: &Key) -> Result<Response, GraphError> {
    let f = fields(&body(req)?)?;
    let mut w = req.st.world();
    let app = find_app(&mut w, &req.caller.tid, app_key)?;
    may_write(req, app)?;
    let Some(i) = position(app, key) else {
        if let (true, Key::Name(n)) = (req.prefer_create, key) {
            if f.name.as_ref().is_some_and(|b| b != n) {
                return Err(invalid("Property 'name' does not match the key.".into()));
            }
            let new = insert(app, n.clone(), f)?;
            return created(entity(req, app, &new));
        }
        return Err(GraphError::not_found(key.shown()));
    };
    if f.name.as_ref().is_some_and(|n| n != &app.fics[i].fic.name) {
        return Err(invalid("Property 'name' is read-only once set.".into()));
    }
    let cur = &app.fics[i].fic;
    let issuer = f.issuer.clone().unwrap_or_else(|| cur.issuer.clone());
    let subject = f.subject.clone().unwrap_or_else(|| cur.subject.clone());
    check_unique(app, Some(i), &issuer, &subject)?;
    let e = &mut app.fics[i];
    let moved = issuer != e.fic.issuer
        || subject != e.fic.subject
        || f.audiences.as_ref().is_some_and(|a| a != &e.fic.audiences);
    e.fic.issuer = issuer;
    e.fic.subject = subject;
    if let Some(a) = f.audiences {
        e.fic.audiences = a;
    }
    if let Some(d) = f.description {
        e.description = d;
    }
    if moved {
        e.fic.changed = Instant::now();
    }
    no_content()
}

fn delete(req: &Req<'_>, app_key: &Key, key: &Key) -> Result<Response, GraphError> {
    let mut w = req.st.world();
    let app = find_app(&mut w, &req.caller.tid, app_key)?;
    may_write(req, app)?;
    let i = position(app, key).ok_or_else(|| GraphError::not_found(key.shown()))?;
    app.fics.remove(i);
    no_content()
}
