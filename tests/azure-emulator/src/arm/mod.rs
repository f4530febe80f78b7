//! Azure Resource Manager front door: authentication, routing, api-version, RBAC, faults and
//! write counting happen here, in that order, before a resource provider handler runs.

pub mod aks;
pub mod aks_write;
pub mod authz;
pub mod errors;
pub mod identity_bindings;
pub mod lro;
pub mod metadata;
pub mod msi;
pub mod rbac;
pub mod resources;
pub mod roles;

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::store::{Shared, World};
pub use errors::ArmError;

pub type ArmResult = Result<Response, ArmError>;

/// Audiences ARM accepts for its tokens.
const ARM_AUDIENCES: [&str; 4] = [
    "https://management.azure.com/",
    "https://management.azure.com",
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
];

/// One parsed ARM request, handed to the provider handlers.
pub struct Req<'a> {
    pub st: &'a Shared,
    pub method: &'a Method,
    /// Decoded path without the query.
    pub path: &'a str,
    pub query: &'a HashMap<String, String>,
    pub body: &'a Bytes,
    pub api_version: &'a str,
    pub caller: &'a Caller,
}

impl Req<'_> {
    pub fn json_body(&self) -> Result<serde_json::Map<String, Value>, ArmError> {
        if self.body.is_empty() {
            return Err(ArmError::invalid_body("empty body"));
        }
        match serde_json::from_slice::<Value>(self.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(ArmError::invalid_body("expected a JSON object")),
            Err(e) => Err(ArmError::invalid_body(e)),
        }
    }

    /// Absolute link for paging, on this emulator's host.
    pub fn next_link(&self, skiptoken: usize, top: Option<usize>) -> String {
        let top = top.map(|t| format!("&$top={t}")).unwrap_or_default();
        format!(
            "{}{}?api-version={}{top}&$skiptoken={skiptoken}",
            self.st.base_url, self.path, self.api_version
        )
    }

    pub fn query_ci(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Caller {
    pub oid: String,
    pub tid: String,
    /// How ARM names the client in errors: the application id of an app token.
    pub client: String,
}

#[derive(Debug, Clone)]
pub enum Route {
    Subscriptions,
    Subscription {
        sub: String,
    },
    /// `GET /subscriptions/{sub}/operationresults/{id}`: a long-running operation's Location.
    OperationResult {
        sub: String,
        id: String,
    },
    ResourceGroups {
        sub: String,
    },
    ResourceGroup {
        sub: String,
        rg: String,
    },
    Identities {
        sub: String,
        rg: Option<String>,
    },
    Identity {
        sub: String,
        rg: String,
        name: String,
    },
    Fics {
        sub: String,
        rg: String,
        identity: String,
    },
    Fic {
        sub: String,
        rg: String,
        identity: String,
        name: String,
    },
    Clusters {
        sub: String,
        rg: Option<String>,
    },
    Cluster {
        sub: String,
        rg: String,
        name: String,
    },
    /// `POST .../managedClusters/{name}/listClusterUserCredential` (or `...AdminCredential`).
    ClusterCredential {
        sub: String,
        rg: String,
        name: String,
        admin: bool,
    },
    /// `.../managedClusters/{cluster}/identityBindings[/{name}]` (name None = the list).
    IdentityBindings {
        sub: String,
        rg: String,
        cluster: String,
        name: Option<String>,
    },
    /// `.../providers/Microsoft.ContainerService/locations/{region}/operations/{id}`, or its
    /// `operationresults/{id}` (the Location) when `result`.
    AksOperation {
        sub: String,
        id: String,
        result: bool,
    },
    RoleAssignments {
        scope: String,
    },
    RoleAssignment {
        scope: String,
        name: String,
    },
    RoleDefinitions {
        scope: String,
    },
    RoleDefinition {
        scope: String,
        id: String,
    },
    DenyAssignments {
        scope: String,
    },
    DenyAssignment {
        scope: String,
        name: String,
    },
}

impl Route {
    fn subscription(&self) -> Option<String> {
        match self {
            Route::Subscriptions => None,
            Route::Subscription { sub }
            | Route::OperationResult { sub, .. }
            | Route::ResourceGroups { sub }
            | Route::ResourceGroup { sub, .. }
            | Route::Identities { sub, .. }
            | Route::Identity { sub, .. }
            | Route::Fics { sub, .. }
            | Route::Fic { sub, .. }
            | Route::Clusters { sub, .. }
            | Route::Cluster { sub, .. }
            | Route::ClusterCredential { sub, .. }
            | Route::IdentityBindings { sub, .. }
            | Route::AksOperation { sub, .. } => Some(sub.clone()),
            Route::RoleAssignments { scope }
            | Route::RoleAssignment { scope, .. }
            | Route::RoleDefinitions { scope }
            | Route::RoleDefinition { scope, .. }
            | Route::DenyAssignments { scope }
            | Route::DenyAssignment { scope, .. } => scope_subscription(scope),
        }
    }

    /// The management group an Authorization request is scoped to (no subscription then).
    fn management_group(&self) -> Option<String> {
        match self {
            Route::RoleAssignments { scope }
            | Route::RoleAssignment { scope, .. }
            | Route::DenyAssignments { scope }
            | Route::DenyAssignment { scope, .. } => rbac::mg_of(scope),
            _ => None,
        }
    }

    /// Operation id (from the specs) of a mutating request, for the write counter.
    fn operation(&self, method: &Method) -> Option<&'static str> {
        let m = method.as_str();
        Some(match (self, m) {
            (Route::ResourceGroup { .. }, "PUT") => "ResourceGroups_CreateOrUpdate",
            (Route::ResourceGroup { .. }, "PATCH") => "ResourceGroups_Update",
            (Route::ResourceGroup { .. }, "DELETE") => "ResourceGroups_Delete",
            (Route::Identity { .. }, "PUT") => "UserAssignedIdentities_CreateOrUpdate",
            (Route::Identity { .. }, "PATCH") => "UserAssignedIdentities_Update",
            (Route::Identity { .. }, "DELETE") => "UserAssignedIdentities_Delete",
            (Route::Fic { .. }, "PUT") => "FederatedIdentityCredentials_CreateOrUpdate",
            (Route::Fic { .. }, "DELETE") => "FederatedIdentityCredentials_Delete",
            (Route::RoleAssignment { .. }, "PUT") => "RoleAssignments_Create",
            (Route::RoleAssignment { .. }, "DELETE") => "RoleAssignments_Delete",
            (Route::RoleDefinition { .. }, "PUT") => "RoleDefinitions_CreateOrUpdate",
            (Route::RoleDefinition { .. }, "DELETE") => "RoleDefinitions_Delete",
            (Route::Cluster { .. }, "PUT") => "ManagedClusters_CreateOrUpdate",
            (Route::Cluster { .. }, "DELETE") => "ManagedClusters_Delete",
            (Route::IdentityBindings { .. }, "PUT") => "IdentityBindings_CreateOrUpdate",
            (Route::IdentityBindings { .. }, "DELETE") => "IdentityBindings_Delete",
            // A POST that only reads (the kubeconfig): nothing is written.
            (Route::ClusterCredential { .. }, _) => return None,
            (_, "PUT" | "PATCH" | "DELETE" | "POST") => "Other_Write",
            _ => return None,
        })
    }

    /// The RBAC action a request needs.
    fn action(&self, method: &Method) -> Option<String> {
        let verb = match *method {
            Method::GET | Method::HEAD => "read",
            Method::DELETE => "delete",
            _ => "write",
        };
        let base = match self {
            Route::Subscriptions => return None,
            // AKS's own actions: Reader (`*/read`) does not cover them.
            Route::ClusterCredential { admin, .. } => {
                return Some(format!(
                    "Microsoft.ContainerService/managedClusters/listCluster{}Credential/action",
                    if *admin { "Admin" } else { "User" }
                ));
            }
            Route::Subscription { .. } | Route::OperationResult { .. } => {
                "Microsoft.Resources/subscriptions"
            }
            Route::ResourceGroups { .. } | Route::ResourceGroup { .. } => {
                "Microsoft.Resources/subscriptions/resourceGroups"
            }
            Route::Identities { .. } | Route::Identity { .. } => {
                "Microsoft.ManagedIdentity/userAssignedIdentities"
            }
            Route::Fics { .. } | Route::Fic { .. } => {
                "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
            }
            Route::Clusters { .. } | Route::Cluster { .. } => {
                "Microsoft.ContainerService/managedClusters"
            }
            Route::IdentityBindings { .. } => {
                "Microsoft.ContainerService/managedClusters/identityBindings"
            }
            Route::AksOperation { result, .. } => {
                return Some(format!(
                    "Microsoft.ContainerService/locations/{}/read",
                    if *result {
                        "operationresults"
                    } else {
                        "operations"
                    }
                ));
            }
            Route::RoleAssignments { .. } | Route::RoleAssignment { .. } => {
                "Microsoft.Authorization/roleAssignments"
            }
            Route::RoleDefinitions { scope } | Route::RoleDefinition { scope, .. } => {
                // Tenant-level built-in role reads need no assignment.
                scope_subscription(scope)?;
                "Microsoft.Authorization/roleDefinitions"
            }
            Route::DenyAssignments { .. } | Route::DenyAssignment { .. } => {
                "Microsoft.Authorization/denyAssignments"
            }
        };
        Some(format!("{base}/{verb}"))
    }

    fn supported_versions(&self) -> (&'static str, &'static [&'static str]) {
        match self {
            Route::Subscriptions
            | Route::Subscription { .. }
            | Route::OperationResult { .. }
            | Route::ResourceGroups { .. }
            | Route::ResourceGroup { .. } => ("resourceGroups", RESOURCES_VERSIONS),
            Route::Identities { .. } | Route::Identity { .. } => {
                ("userAssignedIdentities", MSI_VERSIONS)
            }
            Route::Fics { .. } | Route::Fic { .. } => (
                "userAssignedIdentities/federatedIdentityCredentials",
                &MSI_VERSIONS[3..],
            ),
            Route::Clusters { .. }
            | Route::Cluster { .. }
            | Route::ClusterCredential { .. }
            | Route::AksOperation { .. } => ("managedClusters", AKS_VERSIONS),
            Route::IdentityBindings { .. } => ("managedClusters/identityBindings", IB_VERSIONS),
            Route::RoleAssignments { .. } | Route::RoleAssignment { .. } => {
                ("roleAssignments", RA_VERSIONS)
            }
            Route::RoleDefinitions { .. } | Route::RoleDefinition { .. } => {
                ("roleDefinitions", RD_VERSIONS)
            }
            Route::DenyAssignments { .. } | Route::DenyAssignment { .. } => {
                ("denyAssignments", DA_VERSIONS)
            }
        }
    }
}

const RESOURCES_VERSIONS: &[&str] = &[
    "2019-10-01",
    "2020-06-01",
    "2021-04-01",
    "2022-09-01",
    "2022-12-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
];
/// Index 3 onwards have federatedIdentityCredentials.
pub const MSI_VERSIONS: &[&str] = &[
    "2015-08-31-preview",
    "2018-11-30",
    "2021-09-30-preview",
    "2022-01-31-preview",
    "2023-01-31",
    "2023-07-31-preview",
    "2024-11-30",
    "2025-01-31-preview",
    "2025-05-31-preview",
    "2026-05-31",
];
const AKS_VERSIONS: &[&str] = &[
    "2023-01-01",
    "2023-05-01",
    "2023-08-01",
    "2023-10-01",
    "2024-01-01",
    "2024-02-01",
    "2024-05-01",
    "2024-07-01",
    "2024-08-01",
    "2024-09-01",
    "2024-10-01",
    "2025-01-01",
    "2025-02-01",
    "2025-03-01",
    "2025-04-01",
    "2025-05-01",
    "2025-06-01",
    "2025-07-01",
    "2025-08-01",
    "2025-09-01",
    "2025-10-01",
    // stable/2026-04-01/managedClusters.json in azure-rest-api-specs; 2026-06-01 is what
    // azure-mgmt-containerservice 41.6.0 (pinned by azure-cli 2.91.0) sends by default.
    "2026-04-01",
    // azure-mgmt-containerservice 41.8.0 validates identity bindings for 2026-04-01 through
    // 2026-08-01 (its default), so managedClusters has each of them.
    "2026-05-01",
    "2026-06-01",
    "2026-07-01",
    "2026-08-01",
];
/// identityBindings: stable from 2026-04-01 (stable/2026-04-01/managedClusters.json).
const IB_VERSIONS: &[&str] = &[
    "2026-04-01",
    "2026-05-01",
    "2026-06-01",
    "2026-07-01",
    "2026-08-01",
];
const RA_VERSIONS: &[&str] = &[
    "2015-07-01",
    "2018-01-01-preview",
    "2018-09-01-preview",
    "2020-03-01-preview",
    "2020-04-01-preview",
    "2020-08-01-preview",
    "2020-10-01-preview",
    "2022-01-01-preview",
    "2022-04-01",
];
/// denyAssignments: the 2022-04-01 spec (shared/azure-api/authorization/deny-assignments) and
/// the older versions clients still send.
const DA_VERSIONS: &[&str] = &["2015-07-01", "2018-07-01-preview", "2022-04-01"];
const RD_VERSIONS: &[&str] = &[
    "2015-07-01",
    "2018-01-01-preview",
    "2022-04-01",
    "2022-05-01-preview",
];

/// `/subscriptions/{id}/...` -> `{id}`.
pub fn scope_subscription(scope: &str) -> Option<String> {
    let mut it = scope.trim_start_matches('/').split('/');
    match (it.next(), it.next()) {
        (Some(s), Some(id)) if s.eq_ignore_ascii_case("subscriptions") && !id.is_empty() => {
            Some(id.to_string())
        }
        _ => None,
    }
}

/// `/subscriptions/{id}/resourceGroups/{rg}/...` -> `{rg}`.
pub fn scope_resource_group(scope: &str) -> Option<String> {
    let segs: Vec<&str> = scope.trim_start_matches('/').split('/').collect();
    if segs.len() >= 4 && segs[2].eq_ignore_ascii_case("resourcegroups") && !segs[3].is_empty() {
        Some(segs[3].to_string())
    } else {
        None
    }
}

fn parse_route(path: &str) -> Option<Route> {
    let lower = path.to_ascii_lowercase();
    // Authorization resources live under any scope, which may itself contain `/providers/`.
    if let Some(pos) = lower.rfind("/providers/microsoft.authorization/") {
        let scope = path[..pos].trim_end_matches('/');
        let scope = if scope.is_empty() {
            "/".to_string()
        } else {
            scope.to_string()
        };
        let rest: Vec<&str> = path[pos + "/providers/microsoft.authorization/".len()..]
            .trim_end_matches('/')
            .split('/')
            .collect();
        return match rest.as_slice() {
            [t] if t.eq_ignore_ascii_case("roleAssignments") => {
                Some(Route::RoleAssignments { scope })
            }
            [t, n] if t.eq_ignore_ascii_case("roleAssignments") => Some(Route::RoleAssignment {
                scope,
                name: n.to_string(),
            }),
            [t] if t.eq_ignore_ascii_case("roleDefinitions") => {
                Some(Route::RoleDefinitions { scope })
            }
            [t, n] if t.eq_ignore_ascii_case("roleDefinitions") => Some(Route::RoleDefinition {
                scope,
                id: n.to_string(),
            }),
            [t] if t.eq_ignore_ascii_case("denyAssignments") => {
                Some(Route::DenyAssignments { scope })
            }
            [t, n] if t.eq_ignore_ascii_case("denyAssignments") => Some(Route::DenyAssignment {
                scope,
                name: n.to_string(),
            }),
            _ => None,
        };
    }
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let s = |x: &str| x.to_string();
    match segs.as_slice() {
        [a] if eq(a, "subscriptions") => Some(Route::Subscriptions),
        [a, sub] if eq(a, "subscriptions") => Some(Route::Subscription { sub: s(sub) }),
        [a, sub, o, id] if eq(a, "subscriptions") && eq(o, "operationresults") => {
            Some(Route::OperationResult {
                sub: s(sub),
                id: s(id),
            })
        }
        [a, sub, b] if eq(a, "subscriptions") && eq(b, "resourcegroups") => {
            Some(Route::ResourceGroups { sub: s(sub) })
        }
        [a, sub, b, rg] if eq(a, "subscriptions") && eq(b, "resourcegroups") => {
            Some(Route::ResourceGroup {
                sub: s(sub),
                rg: s(rg),
            })
        }
        [a, sub, p, ns, t] if eq(a, "subscriptions") && eq(p, "providers") => {
            provider_list(ns, t, s(sub), None)
        }
        [a, sub, p, ns, l, _region, kind, id]
            if eq(a, "subscriptions")
                && eq(p, "providers")
                && eq(ns, "Microsoft.ContainerService")
                && eq(l, "locations")
                && (eq(kind, "operations") || eq(kind, "operationresults")) =>
        {
            Some(Route::AksOperation {
                sub: s(sub),
                id: s(id),
                result: eq(kind, "operationresults"),
            })
        }
        [a, sub, b, rg, p, ns, t, rest @ ..]
            if eq(a, "subscriptions") && eq(b, "resourcegroups") && eq(p, "providers") =>
        {
            let (sub, rg) = (s(sub), s(rg));
            match rest {
                [] => provider_list(ns, t, sub, Some(rg)),
                [name]
                    if eq(ns, "Microsoft.ManagedIdentity") && eq(t, "userAssignedIdentities") =>
                {
                    Some(Route::Identity {
                        sub,
                        rg,
                        name: s(name),
                    })
                }
                [name, f]
                    if eq(ns, "Microsoft.ManagedIdentity")
                        && eq(t, "userAssignedIdentities")
                        && eq(f, "federatedIdentityCredentials") =>
                {
                    Some(Route::Fics {
                        sub,
                        rg,
                        identity: s(name),
                    })
                }
                [name, f, fic]
                    if eq(ns, "Microsoft.ManagedIdentity")
                        && eq(t, "userAssignedIdentities")
                        && eq(f, "federatedIdentityCredentials") =>
                {
                    Some(Route::Fic {
                        sub,
                        rg,
                        identity: s(name),
                        name: s(fic),
                    })
                }
                [name] if eq(ns, "Microsoft.ContainerService") && eq(t, "managedClusters") => {
                    Some(Route::Cluster {
                        sub,
                        rg,
                        name: s(name),
                    })
                }
                [name, ib, rest @ ..]
                    if eq(ns, "Microsoft.ContainerService")
                        && eq(t, "managedClusters")
                        && eq(ib, "identityBindings")
                        && rest.len() <= 1 =>
                {
                    Some(Route::IdentityBindings {
                        sub,
                        rg,
                        cluster: s(name),
                        name: rest.first().map(|n| s(n)),
                    })
                }
                [name, action]
                    if eq(ns, "Microsoft.ContainerService")
                        && eq(t, "managedClusters")
                        && (eq(action, "listClusterUserCredential")
                            || eq(action, "listClusterAdminCredential")) =>
                {
                    Some(Route::ClusterCredential {
                        sub,
                        rg,
                        name: s(name),
                        admin: eq(action, "listClusterAdminCredential"),
                    })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn provider_list(ns: &str, t: &str, sub: String, rg: Option<String>) -> Option<Route> {
    if ns.eq_ignore_ascii_case("Microsoft.ManagedIdentity")
        && t.eq_ignore_ascii_case("userAssignedIdentities")
    {
        Some(Route::Identities { sub, rg })
    } else if ns.eq_ignore_ascii_case("Microsoft.ContainerService")
        && t.eq_ignore_ascii_case("managedClusters")
    {
        Some(Route::Clusters { sub, rg })
    } else {
        None
    }
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Entry point for every ARM request.
pub async fn handle(
    st: &Shared,
    method: &Method,
    raw_path: &str,
    raw_query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let path = percent_decode(raw_path);
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(raw_query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let mut resp = match handle_inner(st, method, &path, &query, headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    // ARM stamps every response with request/correlation ids.
    let h = resp.headers_mut();
    for name in ["x-ms-request-id", "x-ms-correlation-request-id"] {
        if let Ok(v) = HeaderValue::from_str(&crate::store::guid()) {
            h.insert(name, v);
        }
    }
    resp
}

async fn handle_inner(
    st: &Shared,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> ArmResult {
    let caller = authenticate(st, headers)?;
    let route = parse_route(path).ok_or_else(|| {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!("The resource type could not be found for the request path '{path}'."),
        )
    })?;

    let api_version = query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("api-version"))
        .map(|(_, v)| v.clone())
        .ok_or_else(|| {
            ArmError::bad_request(
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        })?;
    let (rtype, versions) = route.supported_versions();
    if !versions.contains(&api_version.as_str()) {
        let list = versions.join(", ");
        return Err(if rtype == "resourceGroups" {
            ArmError::bad_request(
                "InvalidApiVersionParameter",
                format!(
                    "The api-version '{api_version}' is invalid. The supported versions are '{list}'."
                ),
            )
        } else {
            ArmError::bad_request(
                "NoRegisteredProviderFound",
                format!(
                    "No registered resource provider found for location 'global' and API version '{api_version}' for type '{rtype}'. The supported api-versions are '{list}'. The supported locations are ', eastus, eastus2, westus2, westeurope, northeurope'."
                ),
            )
        });
    }

    // Subscription checks, write counting, RBAC and faults happen under one short lock.
    let mut delay = None;
    if let Some(sub_id) = route.subscription() {
        let mut w = st.world();
        lro::settle(&mut w);
        let sub = w
            .subs
            .get(&sub_id.to_ascii_lowercase())
            .ok_or_else(|| ArmError::subscription_not_found(&sub_id))?;
        if !sub.tenant_id.eq_ignore_ascii_case(&caller.tid) {
            return Err(unauthorized(
                st,
                "InvalidAuthenticationTokenTenant",
                &format!(
                    "The access token is from the wrong issuer 'https://sts.windows.net/{}/'. It must match the tenant 'https://sts.windows.net/{}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/{}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.",
                    caller.tid, sub.tenant_id, sub.tenant_id
                ),
            ));
        }
        if let Some(op) = route.operation(method)
            && let Some(sub) = w.subs.get_mut(&sub_id.to_ascii_lowercase())
        {
            *sub.writes.entry(op.to_string()).or_default() += 1;
        }
        if let Some(action) = route.action(method)
            && !rbac::permits(&w, &caller.oid, &action, path)
        {
            return Err(ArmError::new(
                StatusCode::FORBIDDEN,
                "AuthorizationFailed",
                format!(
                    "The client '{client}' with object id '{oid}' does not have authorization to perform action '{action}' over scope '{path}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
                    client = caller.client,
                    oid = caller.oid
                ),
            ));
        }
        if let Some(sub) = w.subs.get_mut(&sub_id.to_ascii_lowercase())
            && let Some(fault) = take_fault(sub, method, path)
        {
            match fault {
                FaultHit::Fail(e) => return Err(e),
                FaultHit::Delay(d) => delay = Some(d),
            }
        }
    }
    if route.subscription().is_none()
        && let (Some(_), Some(action)) = (route.management_group(), route.action(method))
    {
        rbac::authorize_mg(&st.world(), &caller.oid, &caller.tid, path, &action)?;
    }
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }

    let req = Req {
        st,
        method,
        path,
        query,
        body,
        api_version: &api_version,
        caller: &caller,
    };
    let not_allowed = || {
        Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The requested method '{method}' is not allowed for '{path}'."),
        ))
    };
    match (&route, method.as_str()) {
        (Route::Subscriptions, "GET") => resources::list_subscriptions(&req),
        (Route::Subscription { sub }, "GET") => resources::get_subscription(&req, sub),
        (Route::OperationResult { sub, id }, "GET") => resources::operation_result(&req, sub, id),
        (Route::ResourceGroups { sub }, "GET") => resources::list_rgs(&req, sub),
        (Route::ResourceGroup { sub, rg }, _) => resources::resource_group(&req, sub, rg),
        (Route::Identities { sub, rg }, "GET") => msi::list_identities(&req, sub, rg.as_deref()),
        (Route::Identity { sub, rg, name }, _) => msi::identity(&req, sub, rg, name),
        (Route::Fics { sub, rg, identity }, "GET") => msi::list_fics(&req, sub, rg, identity),
        (
            Route::Fic {
                sub,
                rg,
                identity,
                name,
            },
            "GET",
        ) => msi::get_fic(&req, sub, rg, identity, name),
        (
            Route::Fic {
                sub,
                rg,
                identity,
                name,
            },
            "PUT" | "DELETE",
        ) => msi::write_fic(&req, sub, rg, identity, name).await,
        (Route::Clusters { sub, rg }, "GET") => aks::list_clusters(&req, sub, rg.as_deref()),
        (Route::Cluster { sub, rg, name }, "GET") => aks::get_cluster(&req, sub, rg, name),
        (Route::Cluster { sub, rg, name }, "PUT") => aks_write::put(&req, sub, rg, name),
        (Route::Cluster { sub, rg, name }, "DELETE") => aks_write::delete(&req, sub, rg, name),
        (
            Route::IdentityBindings {
                sub,
                rg,
                cluster,
                name,
            },
            m,
        ) => identity_bindings::route(&req, m, sub, rg, cluster, name.as_deref()),
        (Route::AksOperation { sub, id, result }, "GET") => match result {
            true => lro::result(&req, sub, id),
            false => lro::status(&req, sub, id),
        },
        (
            Route::ClusterCredential {
                sub,
                rg,
                name,
                admin,
            },
            "POST",
        ) => aks::credentials(&req, sub, rg, name, *admin),
        (Route::RoleAssignments { scope }, "GET") => authz::list_assignments(&req, scope),
        (Route::RoleAssignment { scope, name }, _) => authz::assignment(&req, scope, name),
        (Route::RoleDefinitions { scope }, "GET") => roles::list_definitions(&req, scope),
        (Route::RoleDefinition { scope, id }, "GET") => roles::get_definition(&req, scope, id),
        (Route::RoleDefinition { scope, id }, "PUT" | "DELETE") => {
            roles::write_definition(&req, scope, id)
        }
        (Route::DenyAssignments { scope }, "GET") => rbac::list_denies(&req, scope),
        (Route::DenyAssignment { scope, name }, "GET") => rbac::get_deny(&req, scope, name),
        _ => not_allowed(),
    }
}

enum FaultHit {
    Fail(ArmError),
    Delay(Duration),
}

fn take_fault(
    sub: &mut crate::store::Subscription,
    method: &Method,
    path: &str,
) -> Option<FaultHit> {
    let lower = path.to_ascii_lowercase();
    let fault = sub.faults.iter_mut().find(|f| {
        f.remaining > 0
            && f.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
            && lower.contains(&f.path_contains.to_ascii_lowercase())
    })?;
    fault.remaining -= 1;
    fault.fired += 1;
    if let Some(ms) = fault.delay_ms {
        return Some(FaultHit::Delay(Duration::from_millis(ms)));
    }
    let status = fault.status.unwrap_or(500);
    let retry_after = fault.retry_after;
    let err = match status {
        409 => {
            let identity = identity_id_in(path).unwrap_or_else(|| path.to_string());
            ArmError::new(
                StatusCode::CONFLICT,
                msi::CONCURRENT_CODE,
                msi::concurrent_message(&identity),
            )
        }
        429 => ArmError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "The request is being throttled as the limit has been reached for operation type - Write_ObservationWindow_00:05:00. For more information, see - https://aka.ms/srpthrottlinglimits",
        ),
        503 => ArmError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is currently unavailable. Please try again later.",
        ),
        other => ArmError::new(
            StatusCode::from_u16(other).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "InternalServerError",
            format!(
                "Encountered internal server error. Diagnostic information: timestamp '{}', subscription id '{}', tracking id '{}', request correlation id '{}'.",
                crate::store::now_rfc3339(),
                sub.id,
                crate::store::guid(),
                crate::store::guid()
            ),
        ),
    };
    Some(FaultHit::Fail(match retry_after {
        Some(s) => err.with_header(header::RETRY_AFTER, s.to_string()),
        None => err,
    }))
}

/// The user-assigned identity id a path points into, if any.
fn identity_id_in(path: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    let pos = lower.find("/userassignedidentities/")?;
    let after = &path[pos + "/userassignedidentities/".len()..];
    let name = after.split('/').next()?;
    Some(format!("{}/userAssignedIdentities/{name}", &path[..pos]))
}

fn unauthorized(st: &Shared, code: &str, message: &str) -> ArmError {
    ArmError::new(StatusCode::UNAUTHORIZED, code, message).with_header(
        header::WWW_AUTHENTICATE,
        format!(
            "Bearer authorization_uri=\"{}/\", error=\"invalid_token\", error_description=\"{}\"",
            st.base_url,
            message.replace('"', "'")
        ),
    )
}

fn authenticate(st: &Shared, headers: &HeaderMap) -> Result<Caller, ArmError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized(
            st,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    let value = value.to_str().unwrap_or("");
    let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    else {
        return Err(unauthorized(
            st,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.",
        ));
    };
    let invalid = || {
        unauthorized(
            st,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        )
    };
    let claims = st.own_token_claims(token).ok_or_else(invalid)?;
    let c = &claims;
    let aud = c.get("aud").and_then(Value::as_str).unwrap_or("");
    if !ARM_AUDIENCES.contains(&aud) {
        return Err(unauthorized(
            st,
            "InvalidAuthenticationTokenAudience",
            &format!(
                "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."
            ),
        ));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let exp = c.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= now {
        return Err(unauthorized(
            st,
            "ExpiredAuthenticationToken",
            &format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                arm_time(exp),
                arm_time(now)
            ),
        ));
    }
    let oid = c.get("oid").and_then(Value::as_str).ok_or_else(invalid)?;
    let tid = c.get("tid").and_then(Value::as_str).ok_or_else(invalid)?;
    let client = c.get("appid").and_then(Value::as_str).unwrap_or(oid);
    Ok(Caller {
        oid: oid.to_string(),
        tid: tid.to_string(),
        client: client.to_string(),
    })
}

/// ARM prints times like `11/28/2026 10:00:00 AM`.
fn arm_time(unix: i64) -> String {
    let fmt = time::macros::format_description!(
        "[month padding:none]/[day padding:none]/[year] [hour repr:12 padding:none]:[minute]:[second] [period]"
    );
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// 200/201 with a JSON body.
pub fn json(status: StatusCode, v: Value) -> ArmResult {
    Ok((status, axum::Json(v)).into_response())
}

pub fn empty(status: StatusCode) -> ArmResult {
    Ok(status.into_response())
}

/// `location` of a tracked resource's PUT body: 400 `LocationRequired` when absent or empty.
pub fn required_location(body: &serde_json::Map<String, Value>) -> Result<String, ArmError> {
    body.get("location")
        .and_then(Value::as_str)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            ArmError::bad_request(
                "LocationRequired",
                "The location property is required for this definition.",
            )
        })
}

/// Lookup helper shared by handlers: the subscription exists (checked by the front door).
pub fn sub_mut<'w>(
    w: &'w mut World,
    sub: &str,
) -> Result<&'w mut crate::store::Subscription, ArmError> {
    w.subs
        .get_mut(&sub.to_ascii_lowercase())
        .ok_or_else(|| ArmError::subscription_not_found(sub))
}

/// `$skiptoken` is our own offset; anything unparseable restarts at 0.
pub fn skip_token(req: &Req<'_>) -> usize {
    req.query_ci("$skiptoken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
