//! managedClusters PUT (create/update) and DELETE, long-running as AKS runs them: PUT answers
//! 201/200 with `provisioningState` Creating/Updating and `Azure-AsyncOperation` (the spec's
//! final-state-via azure-async-operation; bodies as ManagedClustersCreate_SecurityProfile.json),
//! DELETE answers 202 with `Location` and `Azure-AsyncOperation`, 204 when there is nothing.
//! The operation then settles (lro.rs). A cluster made here has what the control API's have
//! for GET, list and the credential POSTs; with `oidcIssuerProfile.enabled` its issuer is an
//! issuer host of this emulator with a key set of its own.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::lro::{self, Effect};
use super::{ArmError, ArmResult, Req, sub_mut};
use crate::jwt::RsaSigner;
use crate::store::{Cluster, IssuerHost, IssuerMode, JwksSource, ProvisioningState};

/// Kubernetes version of a cluster whose request leaves it empty (as the control API's).
const DEFAULT_K8S: &str = "1.33.2";

fn bool_at(v: &Value, path: &[&str]) -> Option<bool> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_bool()
}

/// Registers an issuer host `/<tenant>/<uuid>/` serving a key set of its own (no API server
/// stands behind a cluster created over ARM) and returns its URL.
fn new_issuer(req: &Req<'_>, w: &mut crate::store::World, tenant: &str) -> String {
    let path = format!("/{tenant}/{}/", crate::store::guid());
    w.issuers.insert(
        path.clone(),
        IssuerHost {
            jwks: JwksSource::Static(RsaSigner::generate().jwks()),
            mode: IssuerMode::Normal,
            wrong_key: Arc::new(RsaSigner::generate()),
            cache: None,
        },
    );
    format!("{}{path}", req.st.base_url)
}

pub fn put(req: &Req<'_>, sub: &str, rg: &str, name: &str) -> ArmResult {
    let body = req.json_body()?;
    let location = super::required_location(&body)?;
    let props = body.get("properties").cloned().unwrap_or(Value::Null);
    let tags = body.get("tags").and_then(Value::as_object).cloned();
    let oidc = bool_at(&props, &["oidcIssuerProfile", "enabled"]);
    let wi = bool_at(&props, &["securityProfile", "workloadIdentity", "enabled"]);
    let version = props
        .get("kubernetesVersion")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    let dns_prefix = props
        .get("dnsPrefix")
        .and_then(Value::as_str)
        .map(str::to_string);
    let access: Option<crate::store::ApiServerAccess> = props
        .get("apiServerAccessProfile")
        .map(|a| serde_json::from_value(a.clone()))
        .transpose()
        .map_err(|e| {
            ArmError::bad_request(
                "InvalidRequestContent",
                format!("properties.apiServerAccessProfile: {e}"),
            )
        })?;

    let mut w = req.st.world();
    let w = &mut *w;
    let s = sub_mut(w, sub)?;
    if !s.rgs.contains_key(&rg.to_ascii_lowercase()) {
        return Err(ArmError::resource_group_not_found(rg));
    }
    let (tenant, k) = (s.tenant_id.clone(), super::msi::key(rg, name));
    let had_issuer = s.clusters.get(&k).is_some_and(|c| c.issuer_url.is_some());
    // AKS cannot turn the OIDC issuer off once on; a PUT without it keeps it.
    let issuer = (oidc == Some(true) && !had_issuer).then(|| new_issuer(req, w, &tenant));
    let s = sub_mut(w, sub)?;
    let (status, c) = match s.clusters.get_mut(&k) {
        Some(c) => {
            if c.state == ProvisioningState::Deleting {
                return Err(ArmError::new(
                    StatusCode::CONFLICT,
                    "OperationNotAllowed",
                    format!("Operation is not allowed: managed cluster '{name}' is being deleted."),
                ));
            }
            c.state = ProvisioningState::Updating;
            (StatusCode::OK, c)
        }
        None => {
            let prefix = dns_prefix.clone().unwrap_or_else(|| name.to_string());
            let loc = location.to_ascii_lowercase().replace(' ', "");
            let c = Cluster {
                rg: rg.to_string(),
                name: name.to_string(),
                fqdn: format!(
                    "{prefix}-{}.hcp.{loc}.azmk8s.io",
                    &crate::store::guid()[..8]
                ),
                location: loc,
                kubernetes_version: DEFAULT_K8S.into(),
                state: ProvisioningState::Creating,
                ..Default::default()
            };
            (
                StatusCode::CREATED,
                s.clusters.entry(k.clone()).or_insert(c),
            )
        }
    };
    if let Some(u) = issuer {
        c.issuer_url = Some(u);
    }
    if let Some(wi) = wi {
        c.workload_identity = wi;
    }
    if let Some(v) = version {
        c.kubernetes_version = v;
    }
    if dns_prefix.is_some() {
        c.dns_prefix = dns_prefix;
    }
    if access.is_some() {
        c.api_server_access = access;
    }
    c.tags = tags.unwrap_or_else(Map::new);
    let region = c.location.clone();
    let op = lro::start(
        req.st,
        s,
        &region,
        Effect::Cluster {
            key: k.clone(),
            delete: false,
        },
    );
    let out = super::aks::cluster_json(&s.id, &s.clusters[&k]);
    lro::accepted(req, status, Some(out), s, &op, false)
}

pub fn delete(req: &Req<'_>, sub: &str, rg: &str, name: &str) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    if !s.rgs.contains_key(&rg.to_ascii_lowercase()) {
        return Err(ArmError::resource_group_not_found(rg));
    }
    let k = super::msi::key(rg, name);
    let Some(c) = s.clusters.get_mut(&k) else {
        return super::empty(StatusCode::NO_CONTENT);
    };
    c.state = ProvisioningState::Deleting;
    let region = c.location.clone();
    let op = lro::start(
        req.st,
        s,
        &region,
        Effect::Cluster {
            key: k,
            delete: true,
        },
    );
    lro::accepted(req, StatusCode::ACCEPTED, None, s, &op, true)
}
