//! Directory reads: servicePrincipals, applications, users, directoryObjects/getByIds, /me.
//! The directory is the emulator's own world: service principals with secrets (control API),
//! managed identities (ARM), users and groups (control API), all in the caller's tenant.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{GraphError, Req, ok};
use crate::store::World;

/// Graph application permissions that allow each kind of read ("least privileged" first, as
/// the Graph permission tables list them).
pub const READ_APPS: &[&str] = &[
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Application.ReadWrite.OwnedBy",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const READ_USERS: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const READ_DIRECTORY: &[&str] = &["Directory.Read.All", "Directory.ReadWrite.All"];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    ServicePrincipal,
    Application,
    User,
    Group,
}

impl Kind {
    fn odata_type(self) -> &'static str {
        match self {
            Kind::ServicePrincipal => "#microsoft.graph.servicePrincipal",
            Kind::Application => "#microsoft.graph.application",
            Kind::User => "#microsoft.graph.user",
            Kind::Group => "#microsoft.graph.group",
        }
    }
    fn resource(self) -> &'static str {
        match self {
            Kind::ServicePrincipal => "servicePrincipals",
            Kind::Application => "applications",
            Kind::User => "users",
            Kind::Group => "groups",
        }
    }
    /// The name Graph uses in filter errors ("... of resource 'ServicePrincipal'").
    fn type_name(self) -> &'static str {
        match self {
            Kind::ServicePrincipal => "ServicePrincipal",
            Kind::Application => "Application",
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }
    fn read_permissions(self) -> &'static [&'static str] {
        match self {
            Kind::ServicePrincipal | Kind::Application => READ_APPS,
            Kind::User | Kind::Group => READ_USERS,
        }
    }
    /// Properties `$filter` supports here (`eq`), and the collection one (`any`).
    fn filterable(self) -> &'static [&'static str] {
        match self {
            Kind::ServicePrincipal => &["id", "appId", "displayName", "servicePrincipalNames"],
            Kind::Application => &["id", "appId", "displayName"],
            Kind::User => &["id", "userPrincipalName", "displayName"],
            Kind::Group => &["id", "displayName"],
        }
    }
}

/// Every directory object of `kind` in `tenant`, in Graph's JSON (with `@odata.type`).
fn objects(w: &World, tenant: &str, kind: Kind) -> Vec<Value> {
    let mut out = Vec::new();
    let typed = |mut v: Value| {
        v["@odata.type"] = json!(kind.odata_type());
        v
    };
    match kind {
        Kind::ServicePrincipal => {
            for a in w.apps.values().filter(|a| a.tenant_id == tenant) {
                if let Some(sp) = &a.sp {
                    out.push(typed(super::apps::sp_json(a, sp)));
                }
            }
            for s in w.subs.values().filter(|s| s.tenant_id == tenant) {
                for i in s.identities.values() {
                    let rid = crate::arm::msi::identity_id(&s.id, &i.rg, &i.name);
                    out.push(typed(json!({
                        "id": i.principal_id,
                        "appId": i.client_id,
                        "displayName": i.name,
                        "accountEnabled": true,
                        "appOwnerOrganizationId": null,
                        "servicePrincipalType": "ManagedIdentity",
                        "servicePrincipalNames": [i.client_id],
                        "alternativeNames": ["isExplicit=True", rid],
                    })));
                }
            }
        }
        Kind::Application => {
            for a in w.apps.values().filter(|a| a.tenant_id == tenant) {
                out.push(typed(super::apps::app_json(a)));
            }
        }
        Kind::User | Kind::Group => {
            let want = if kind == Kind::User { "User" } else { "Group" };
            for (id, p) in w
                .principals
                .iter()
                .filter(|(_, p)| p.tenant_id == tenant && p.kind == want)
            {
                let name = p
                    .display_name
                    .clone()
                    .unwrap_or_else(|| format!("{}-{}", want.to_lowercase(), &id[..8]));
                let mut v = json!({"id": id, "displayName": name});
                if kind == Kind::User {
                    v["userPrincipalName"] = json!(format!("{name}@emulator.onmicrosoft.com"));
                } else {
                    v["securityEnabled"] = json!(true);
                    v["mailEnabled"] = json!(false);
                }
                out.push(typed(v));
            }
        }
    }
    out
}

pub fn route(req: &Req<'_>) -> Result<Response, GraphError> {
    let segs: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (req.method, segs.as_slice()) {
        (&Method::GET, ["me"]) => me(req),
        (&Method::POST, ["directoryObjects", "getByIds"]) => get_by_ids(req),
        (&Method::GET, [collection]) => {
            if let Some((kind, key)) = keyed(collection) {
                return get_one(req, kind, &key);
            }
            let kind = kind_of(collection)?;
            list(req, kind)
        }
        (&Method::GET, [collection, id]) => get_one(req, kind_of(collection)?, &Key::Id(id)),
        (_, [first, ..]) if kind_of(first).is_ok() || *first == "me" => Err(GraphError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )),
        (_, [first, ..]) => Err(unknown_segment(first)),
        _ => Err(unknown_segment("")),
    }
}

fn unknown_segment(seg: &str) -> GraphError {
    GraphError::bad_request(
        "BadRequest",
        format!("Resource not found for the segment '{seg}'."),
    )
}

fn kind_of(collection: &str) -> Result<Kind, GraphError> {
    match collection {
        "servicePrincipals" => Ok(Kind::ServicePrincipal),
        "applications" => Ok(Kind::Application),
        "users" => Ok(Kind::User),
        "groups" => Ok(Kind::Group),
        other => Err(unknown_segment(other)),
    }
}

enum Key<'a> {
    Id(&'a str),
    AppId(String),
    UniqueName(String),
}

/// `servicePrincipals(appId='x')` / `applications(appId='x')`, `applications(uniqueName='x')`
/// (alternate keys).
fn keyed(segment: &str) -> Option<(Kind, Key<'static>)> {
    let (collection, key) = super::apps::split_key(segment);
    let kind = kind_of(collection).ok()?;
    match (kind, key?) {
        (Kind::ServicePrincipal | Kind::Application, super::apps::Key::AppId(a)) => {
            Some((kind, Key::AppId(a)))
        }
        (Kind::Application, super::apps::Key::UniqueName(u)) => Some((kind, Key::UniqueName(u))),
        _ => None,
    }
}

fn authorize(req: &Req<'_>, perms: &[&str]) -> Result<(), GraphError> {
    if req.caller.has_any(perms) {
        Ok(())
    } else {
        Err(GraphError::forbidden())
    }
}

fn get_one(req: &Req<'_>, kind: Kind, key: &Key<'_>) -> Result<Response, GraphError> {
    authorize(req, kind.read_permissions())?;
    let w = req.st.world();
    let found = objects(&w, &req.caller.tid, kind)
        .into_iter()
        .find(|o| match key {
            Key::Id(id) => o["id"].as_str().is_some_and(|v| v.eq_ignore_ascii_case(id)),
            Key::AppId(a) => o["appId"]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case(a)),
            Key::UniqueName(u) => o["uniqueName"].as_str() == Some(u.as_str()),
        });
    let mut obj = found.ok_or_else(|| match key {
        Key::Id(id) => GraphError::not_found(id),
        Key::AppId(a) | Key::UniqueName(a) => GraphError::not_found(a),
    })?;
    let select = select_list(req);
    let ctx = format!(
        "{}/$metadata#{}{}/$entity",
        req.base,
        kind.resource(),
        select
            .as_ref()
            .map(|s| format!("({})", s.join(",")))
            .unwrap_or_default()
    );
    if let Some(s) = &select {
        obj = project(obj, s);
    }
    if let Value::Object(m) = &mut obj {
        m.remove("@odata.type");
        let mut out = Map::new();
        out.insert("@odata.context".into(), json!(ctx));
        out.extend(std::mem::take(m));
        return ok(Value::Object(out));
    }
    ok(obj)
}

fn list(req: &Req<'_>, kind: Kind) -> Result<Response, GraphError> {
    authorize(req, kind.read_permissions())?;
    let filter = match req.query("$filter") {
        Some(f) => Some(Filter::parse(f, kind)?),
        None => None,
    };
    let select = select_list(req);
    // `$expand=federatedIdentityCredentials` on applications (the property "Supports $expand",
    // msgraph-sdk models/application.py).
    let expand = kind == Kind::Application
        && req.query("$expand").is_some_and(|e| {
            e.split(',')
                .any(|p| p.trim() == "federatedIdentityCredentials")
        });
    let w = req.st.world();
    let value: Vec<Value> = objects(&w, &req.caller.tid, kind)
        .into_iter()
        .filter(|o| filter.as_ref().is_none_or(|f| f.matches(o)))
        .map(|mut o| {
            if let Value::Object(m) = &mut o {
                m.remove("@odata.type");
            }
            let fics = expand.then(|| super::fics::of_app(&w, &o["id"]));
            let mut o = match &select {
                Some(s) => project(o, s),
                None => o,
            };
            if let Some(f) = fics {
                o["federatedIdentityCredentials"] = f;
            }
            o
        })
        .collect();
    // With $select the context names the properties (application-find-by-displayname.json).
    let shape = select_list(req)
        .map(|s| format!("({})", s.join(",")))
        .unwrap_or_default();
    ok(json!({
        "@odata.context": format!("{}/$metadata#{}{shape}", req.base, kind.resource()),
        "value": value,
    }))
}

fn select_list(req: &Req<'_>) -> Option<Vec<String>> {
    req.query("$select").map(|s| {
        s.split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()
    })
}

fn project(obj: Value, keep: &[String]) -> Value {
    match obj {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| k == "@odata.type" || keep.iter().any(|s| s == k))
                .collect(),
        ),
        other => other,
    }
}

/// `prop eq 'v'` or `coll/any(c:c eq 'v')`, the forms clients of this project send.
struct Filter {
    property: String,
    value: String,
    any: bool,
    /// `startswith(prop,'v')` (the Azure CLI lists applications so, then matches exactly).
    prefix: bool,
}

impl Filter {
    fn parse(raw: &str, kind: Kind) -> Result<Self, GraphError> {
        let invalid = || GraphError::bad_request("BadRequest", "Invalid filter clause");
        let f = raw.trim();
        if let Some(args) = f
            .strip_prefix("startswith(")
            .and_then(|a| a.strip_suffix(')'))
        {
            let (p, v) = args.split_once(',').ok_or_else(invalid)?;
            let mut out = Self::parse(&format!("{} eq {}", p.trim(), v.trim()), kind)?;
            out.prefix = true;
            return Ok(out);
        }
        let (property, rhs, any) = if let Some((coll, rest)) = f.split_once("/any(") {
            let body = rest.strip_suffix(')').ok_or_else(invalid)?;
            let (var, cond) = body.split_once(':').ok_or_else(invalid)?;
            let rhs = cond
                .trim()
                .strip_prefix(var.trim())
                .and_then(|c| c.trim_start().strip_prefix("eq "))
                .ok_or_else(invalid)?;
            (coll.trim().to_string(), rhs, true)
        } else {
            let (p, rhs) = f.split_once(" eq ").ok_or_else(invalid)?;
            (p.trim().to_string(), rhs, false)
        };
        let value = rhs
            .trim()
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .ok_or_else(invalid)?
            .replace("''", "'");
        let supported = kind.filterable().contains(&property.as_str())
            && (any == (property == "servicePrincipalNames"));
        if !supported {
            return Err(GraphError::bad_request(
                "Request_UnsupportedQuery",
                format!(
                    "Unsupported or invalid query filter clause specified for property '{property}' of resource '{}'.",
                    kind.type_name()
                ),
            ));
        }
        Ok(Self {
            property,
            value,
            any,
            prefix: false,
        })
    }

    /// Graph compares these string properties case-insensitively.
    fn matches(&self, obj: &Value) -> bool {
        let eq = |v: &Value| {
            v.as_str().is_some_and(|s| {
                if self.prefix {
                    s.to_ascii_lowercase()
                        .starts_with(&self.value.to_ascii_lowercase())
                } else {
                    s.eq_ignore_ascii_case(&self.value)
                }
            })
        };
        if self.any {
            obj[&self.property]
                .as_array()
                .is_some_and(|a| a.iter().any(eq))
        } else {
            eq(&obj[&self.property])
        }
    }
}

/// `POST /directoryObjects/getByIds` `{"ids": [...], "types": [...]}`: the objects found, in
/// no particular order, unknown ids left out (Graph's documented behaviour).
fn get_by_ids(req: &Req<'_>) -> Result<Response, GraphError> {
    authorize(req, READ_DIRECTORY)?;
    let body: Value = serde_json::from_slice(req.body)
        .map_err(|e| GraphError::bad_request("BadRequest", format!("Invalid request body: {e}")))?;
    let ids: Vec<String> = body["ids"]
        .as_array()
        .ok_or_else(|| GraphError::bad_request("BadRequest", "The 'ids' parameter is required."))?
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_ascii_lowercase)
        .collect();
    let types: Vec<String> = body["types"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default();
    let w = req.st.world();
    let mut value = Vec::new();
    for kind in [
        Kind::User,
        Kind::Group,
        Kind::ServicePrincipal,
        Kind::Application,
    ] {
        let name = kind.odata_type().trim_start_matches("#microsoft.graph.");
        if !types.is_empty() && !types.iter().any(|t| t.eq_ignore_ascii_case(name)) {
            continue;
        }
        value.extend(objects(&w, &req.caller.tid, kind).into_iter().filter(|o| {
            o["id"]
                .as_str()
                .is_some_and(|id| ids.contains(&id.to_ascii_lowercase()))
        }));
    }
    ok(json!({
        "@odata.context": format!("{}/$metadata#directoryObjects", req.base),
        "value": value,
    }))
}

/// `/me` is the signed-in user; an app-only token has none.
fn me(req: &Req<'_>) -> Result<Response, GraphError> {
    if req.caller.app_only {
        return Err(GraphError::bad_request(
            "BadRequest",
            "/me request is only valid with delegated authentication flow.",
        ));
    }
    get_one(req, Kind::User, &Key::Id(&req.caller.oid))
}
