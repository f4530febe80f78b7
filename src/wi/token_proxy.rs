//! The AKS identity-binding token proxy as the Azure SDKs reach it (WorkloadIdentityCredential
//! with the proxy opt-in), pure: which settings they read and refuse, where the token request
//! goes (URL, path, TLS name, Host, trust), and what a refusal of the proxy means.
//!
//! Sources: azure-identity (Python) 1.27.0 `_credentials/workload_identity.py` and
//! `_internal/token_binding_transport_{mixin,requests}.py`; azidentity (Go)
//! `internal/customtokenproxy/{configuration,transport}.go`; Azure/azure-workload-identity
//! v1.6.0 `pkg/webhook` (the variables). The proxy's own refusal bodies are not documented
//! anywhere public (UNCONFIRMED): a refusal is read from its status and the absence of an
//! AADSTS code first, its text only refines it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;

use super::identity_binding::{AUDIENCE, ENV_CA_DATA, ENV_CA_FILE, ENV_SNI_NAME, ENV_TOKEN_PROXY};

/// Where the SDK takes the proxy's CA from: the file (re-read when it changes), the PEM in the
/// environment, or, with neither, the system's roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaSource {
    File(String),
    Data,
    System,
}

/// `AZURE_KUBERNETES_TOKEN_PROXY`, checked as the SDKs check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// `host[:port]` as written: the Host header the SDKs send.
    pub authority: String,
    pub host: String,
    pub port: u16,
    /// Never empty: Go turns an empty path into `/`, Python joins the same way.
    pub path: String,
}

/// The settings a pod's SDK would use, from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySettings {
    pub url: ProxyUrl,
    pub sni: Option<String>,
    pub ca: CaSource,
}

/// The proxy settings of an environment: `None` when it has none (the SDK then takes the
/// ordinary Entra path), an error where the SDK refuses to build the credential.
pub fn settings(env: &BTreeMap<String, String>) -> Result<Option<ProxySettings>, String> {
    let get = |k: &str| env.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let (proxy, sni, file, data) = (
        get(ENV_TOKEN_PROXY),
        get(ENV_SNI_NAME),
        get(ENV_CA_FILE),
        get(ENV_CA_DATA),
    );
    let Some(proxy) = proxy else {
        if sni.is_some() || file.is_some() || data.is_some() {
            return Err(format!(
                "{ENV_TOKEN_PROXY} is not set but other custom endpoint variables are ({}): the SDKs refuse this",
                [
                    (ENV_SNI_NAME, sni),
                    (ENV_CA_FILE, file),
                    (ENV_CA_DATA, data)
                ]
                .iter()
                .filter(|(_, v)| v.is_some())
                .map(|(k, _)| *k)
                .collect::<Vec<_>>()
                .join(", ")
            ));
        }
        return Ok(None);
    };
    let ca = match (file, data) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "both {ENV_CA_FILE} and {ENV_CA_DATA} are set: the SDKs take only one"
            ));
        }
        (Some(f), None) => CaSource::File(f.to_string()),
        (None, Some(_)) => CaSource::Data,
        (None, None) => CaSource::System,
    };
    Ok(Some(ProxySettings {
        url: proxy_url(proxy)?,
        sni: sni.map(str::to_string),
        ca,
    }))
}

/// An https URL without user info, query or fragment (what both SDKs validate).
pub fn proxy_url(raw: &str) -> Result<ProxyUrl, String> {
    let bad = |why: &str| Err(format!("{ENV_TOKEN_PROXY} {raw}: {why}"));
    let Some(rest) = raw
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .map(|_| &raw[8..])
    else {
        return bad("must be an https URL");
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return bad("must not contain a user name or password");
    }
    if tail.contains('#') {
        return bad("must not contain a fragment");
    }
    if tail.contains('?') {
        return bad("must not contain a query");
    }
    let Some((host, port)) = host_port(authority) else {
        return bad("has no valid host[:port]");
    };
    Ok(ProxyUrl {
        authority: authority.to_string(),
        host,
        port,
        path: if tail.is_empty() {
            "/".into()
        } else {
            tail.into()
        },
    })
}

/// `host[:port]` or `[v6][:port]`, port 443 by default.
pub fn host_port(authority: &str) -> Option<(String, u16)> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']')?;
            (h, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => 443,
    };
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// The request path through the proxy: the proxy's path, then the token request's own
/// (`{authority path}/{tenant}/oauth2/v2.0/token`), one slash between (Python's join; Go's
/// `JoinPath` gives the same).
pub fn token_path(proxy: &ProxyUrl, authority: &str, tenant: &str) -> String {
    let after_scheme = authority.split_once("://").map_or(authority, |(_, r)| r);
    let authority_path = after_scheme
        .find('/')
        .map_or("", |i| &after_scheme[i..])
        .trim_matches('/');
    let request = if authority_path.is_empty() {
        format!("{tenant}/oauth2/v2.0/token")
    } else {
        format!("{authority_path}/{tenant}/oauth2/v2.0/token")
    };
    format!("{}/{request}", proxy.path.trim_end_matches('/'))
}

/// The proxy variables of a container as its spec sets them (the webhook writes plain values):
/// what a container without a shell would have.
pub fn spec_env(pod: &Pod, container: &str) -> BTreeMap<String, String> {
    let c = pod
        .spec
        .iter()
        .flat_map(|s| {
            s.containers
                .iter()
                .chain(s.init_containers.iter().flatten())
        })
        .find(|c| c.name == container);
    c.and_then(|c| c.env.as_ref())
        .into_iter()
        .flatten()
        .filter(|e| {
            [ENV_TOKEN_PROXY, ENV_SNI_NAME, ENV_CA_FILE, ENV_CA_DATA].contains(&e.name.as_str())
        })
        .filter_map(|e| Some((e.name.clone(), e.value.clone().filter(|v| !v.is_empty())?)))
        .collect()
}

/// Where the CA file comes from, for a container whose file cannot be read: the ConfigMap
/// (name, key) of the projected source the webhook put at `ca_file` (v1.6.0: the token volume,
/// item `ca-cert/ca.crt` of AZURE_KUBERNETES_CA_CONFIGMAP_NAME), or why not.
pub fn ca_config_map(
    pod: &Pod,
    container: &str,
    ca_file: &str,
) -> Result<(String, String), String> {
    let spec = pod.spec.as_ref().ok_or("the pod has no spec")?;
    let mounts = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == container)
        .and_then(|c| c.volume_mounts.as_ref())
        .ok_or_else(|| format!("container {container} mounts nothing at {ca_file}"))?;
    for m in mounts {
        let Some(rel) = ca_file
            .strip_prefix(m.mount_path.trim_end_matches('/'))
            .and_then(|r| r.strip_prefix('/'))
        else {
            continue;
        };
        let sources = spec
            .volumes
            .iter()
            .flatten()
            .find(|v| v.name == m.name)
            .and_then(|v| v.projected.as_ref())
            .and_then(|p| p.sources.as_ref());
        for src in sources.into_iter().flatten() {
            if let Some(cm) = &src.config_map
                && let Some(item) = cm.items.iter().flatten().find(|i| i.path == rel)
            {
                return Ok((cm.name.clone(), item.key.clone()));
            }
            if src
                .cluster_trust_bundle
                .as_ref()
                .is_some_and(|b| b.path == rel)
            {
                return Err(format!(
                    "{ca_file} comes from a ClusterTrustBundle, which the plugin does not read"
                ));
            }
        }
    }
    Err(format!(
        "no ConfigMap of the pod's volumes is mounted at {ca_file}"
    ))
}

/// How the request is made, from where the plugin runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    /// The URL requested: its host is the TLS name (SNI and certificate check).
    pub url: String,
    /// The Host header, the proxy's `host[:port]` as the SDKs send it.
    pub host_header: String,
    /// Where the TCP connection goes.
    pub connect: String,
    /// The TLS name: AZURE_KUBERNETES_SNI_NAME, else the proxy's host.
    pub tls_name: String,
    /// The trust: the pod's CA file, its CA data, or the system roots.
    pub trust: String,
    /// Set when the proxy's in-cluster name was replaced by the kube context's API server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The in-cluster names of the `kubernetes` Service, which fronts the API server: a pod
/// reaches the proxy through them (upstream's e2e sets `https://kubernetes.default.svc`), the
/// plugin, outside the cluster, through the kube context's server.
fn api_server_service(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    matches!(
        h.as_str(),
        "kubernetes" | "kubernetes.default" | "kubernetes.default.svc"
    ) || h.starts_with("kubernetes.default.svc.")
}

/// The SDKs' request, made from outside the pod: TCP to the proxy (or, for the API server's
/// in-cluster name, to the kube context's server), TLS name = the SNI setting, Host = the
/// proxy's authority, path = proxy path + token path.
pub fn route(s: &ProxySettings, authority: &str, tenant: &str, api_server: &str) -> Route {
    let u = &s.url;
    let tls_name = s.sni.clone().unwrap_or_else(|| u.host.clone());
    let server = api_server
        .split_once("://")
        .map_or(api_server, |(_, r)| r)
        .split('/')
        .next()
        .and_then(host_port);
    let ((host, port), note) = match server.filter(|_| api_server_service(&u.host)) {
        Some((h, p)) => {
            let note = format!(
                "{} is the API server's in-cluster name: reached through the kube context's server {}",
                u.host,
                join_host_port(&h, p)
            );
            ((h, p), Some(note))
        }
        None => ((u.host.clone(), u.port), None),
    };
    Route {
        // The port is the one connected to: a client takes the URL's.
        url: format!(
            "https://{}{}",
            join_host_port(&tls_name, port),
            token_path(u, authority, tenant)
        ),
        host_header: u.authority.clone(),
        connect: join_host_port(&host, port),
        tls_name,
        trust: match &s.ca {
            CaSource::File(f) => format!("only the CA in the pod's {ENV_CA_FILE} ({f})"),
            CaSource::Data => format!("only the CA in the pod's {ENV_CA_DATA}"),
            CaSource::System => "the system's roots (no CA set in the pod)".into(),
        },
        note,
    }
}

fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// What the proxy's refusal means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 401 without an AADSTS code: the cluster did not accept the token for the proxy's
    /// audience (another audience, expired, its pod gone).
    TokenNotAccepted,
    /// 403 without an AADSTS code: the service account lacks `use-managed-identity`, or the
    /// identity has no Succeeded binding on this cluster; which one, the caller asks RBAC (or
    /// reads the text below).
    Forbidden(Forbidden),
    /// Entra's own answer, passed through the proxy.
    Entra(u32),
    /// Anything else (5xx, a body of another shape).
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forbidden {
    NotGranted,
    /// The binding's state when the text names it (`None`: no binding, or not said).
    Binding(Option<String>),
    Unknown,
}

/// Reads a refusal: status and AADSTS code first; the words (the emulator's, AKS's are
/// UNCONFIRMED) only to tell a 403's two causes apart when RBAC was not asked.
pub fn classify(status: u16, description: &str, aadsts: Option<u32>) -> Refusal {
    if let Some(code) = aadsts {
        return Refusal::Entra(code);
    }
    match status {
        401 => Refusal::TokenNotAccepted,
        403 => Refusal::Forbidden(forbidden_from_text(description)),
        _ => Refusal::Other,
    }
}

fn forbidden_from_text(d: &str) -> Forbidden {
    let lower = d.to_ascii_lowercase();
    if lower.contains(super::identity_binding::VERB) || lower.contains("rbac") {
        return Forbidden::NotGranted;
    }
    if lower.contains("identity binding") {
        let state = ["Failed", "Canceled", "Creating", "Updating", "Deleting"]
            .into_iter()
            .find(|s| d.contains(&format!("is {s}")))
            .map(str::to_string);
        return Forbidden::Binding(state);
    }
    Forbidden::Unknown
}

/// The sentence naming the cause of a refusal (the fix is the caller's: it knows the command).
pub fn cause(r: &Refusal) -> String {
    match r {
        Refusal::TokenNotAccepted => format!(
            "the proxy did not accept the pod's token: the cluster rejected it for audience {AUDIENCE} (a token of another audience, or an expired one)"
        ),
        Refusal::Forbidden(Forbidden::NotGranted) => format!(
            "the proxy refused: the service account may not {} the identity (no RBAC grant on {}/<client id>)",
            super::identity_binding::VERB,
            super::identity_binding::API_GROUP
        ),
        Refusal::Forbidden(Forbidden::Binding(Some(s))) => format!(
            "the proxy refused: the identity's binding on this cluster is {s}, not Succeeded"
        ),
        Refusal::Forbidden(Forbidden::Binding(None)) => {
            "the proxy refused: the identity has no Succeeded identity binding on this cluster"
                .into()
        }
        Refusal::Forbidden(Forbidden::Unknown) => "the proxy refused the exchange (403)".into(),
        Refusal::Entra(code) => format!("Entra refused the proxy's exchange (AADSTS{code})"),
        Refusal::Other => "the proxy answered with an error".into(),
    }
}

#[cfg(test)]
#[path = "token_proxy_tests.rs"]
mod tests;
