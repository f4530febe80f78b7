//! Microsoft.ContainerService managedClusters: reads and the credential POSTs; clusters come
//! from the control API or an ARM PUT (aks_write.rs).

use axum::http::StatusCode;
use base64::Engine;
use serde_json::{Value, json};

use super::{ArmError, ArmResult, Req, json, sub_mut};
use crate::store::Cluster;

pub const CLUSTER_TYPE: &str = "Microsoft.ContainerService/managedClusters";

/// Shape of ManagedClustersCreate_SecurityProfile.json, trimmed to what a cluster reports.
pub fn cluster_json(sub: &str, c: &Cluster) -> Value {
    let mut oidc = json!({"enabled": c.issuer_url.is_some()});
    if let Some(u) = &c.issuer_url {
        oidc["issuerURL"] = json!(u);
    }
    // AKS leaves workloadIdentity out of securityProfile unless it has been enabled.
    let security = if c.workload_identity {
        json!({"workloadIdentity": {"enabled": true}})
    } else {
        json!({})
    };
    let mut out = json!({
        "id": format!("/subscriptions/{sub}/resourcegroups/{}/providers/{CLUSTER_TYPE}/{}", c.rg, c.name),
        "location": c.location,
        "name": c.name,
        "tags": c.tags,
        "type": "Microsoft.ContainerService/ManagedClusters",
        "properties": {
            "provisioningState": c.state.as_str(),
            "powerState": {"code": "Running"},
            "kubernetesVersion": c.kubernetes_version,
            "currentKubernetesVersion": c.kubernetes_version,
            "dnsPrefix": c.dns_prefix.as_deref().unwrap_or(&c.name),
            "fqdn": c.fqdn,
            "azurePortalFQDN": c.fqdn,
            "nodeResourceGroup": format!("MC_{}_{}_{}", c.rg, c.name, c.location),
            "enableRBAC": true,
            "oidcIssuerProfile": oidc,
            "securityProfile": security,
        },
    });
    // Only what was set: a cluster without the profile reports none.
    if let Some(a) = &c.api_server_access {
        out["properties"]["apiServerAccessProfile"] = json!(a);
    }
    out
}

pub fn list_clusters(req: &Req<'_>, sub: &str, rg: Option<&str>) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    if let Some(rg) = rg
        && !s.rgs.contains_key(&rg.to_ascii_lowercase())
    {
        return Err(ArmError::resource_group_not_found(rg));
    }
    let value: Vec<Value> = s
        .clusters
        .values()
        .filter(|c| rg.is_none_or(|rg| c.rg.eq_ignore_ascii_case(rg)))
        .map(|c| cluster_json(&s.id, c))
        .collect();
    json(StatusCode::OK, json!({"value": value}))
}

pub fn get_cluster(req: &Req<'_>, sub: &str, rg: &str, name: &str) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    if !s.rgs.contains_key(&rg.to_ascii_lowercase()) {
        return Err(ArmError::resource_group_not_found(rg));
    }
    let c = s
        .clusters
        .get(&super::msi::key(rg, name))
        .ok_or_else(|| ArmError::resource_not_found(CLUSTER_TYPE, name, rg))?;
    json(StatusCode::OK, cluster_json(&s.id, c))
}

/// `listClusterUserCredential` / `listClusterAdminCredential`: `{"kubeconfigs": [{"name":
/// "clusterUser"|"clusterAdmin", "value": <base64 kubeconfig>}]}` (CredentialResults in the
/// managedClusters spec). The kubeconfig has AKS's names: cluster and context `{name}`, user
/// `clusterUser_{rg}_{name}` / `clusterAdmin_{rg}_{name}`, and
/// points at the API server registered for the cluster (its public FQDN when none is).
pub fn credentials(req: &Req<'_>, sub: &str, rg: &str, name: &str, admin: bool) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    if !s.rgs.contains_key(&rg.to_ascii_lowercase()) {
        return Err(ArmError::resource_group_not_found(rg));
    }
    let c = s
        .clusters
        .get(&super::msi::key(rg, name))
        .ok_or_else(|| ArmError::resource_not_found(CLUSTER_TYPE, name, rg))?;
    // The context is the cluster's name in both; `az aks get-credentials --admin` renames it
    // to `{name}-admin` itself when merging.
    let (kind, user) = if admin {
        ("clusterAdmin", format!("clusterAdmin_{}_{}", c.rg, c.name))
    } else {
        ("clusterUser", format!("clusterUser_{}_{}", c.rg, c.name))
    };
    let context = &c.name;
    let api = c
        .api_server
        .clone()
        .unwrap_or_else(|| crate::store::ApiServer {
            server: format!("https://{}:443", c.fqdn),
            ..Default::default()
        });
    let kubeconfig = format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n    server: {server}\n  name: {cluster}\ncontexts:\n- context:\n    cluster: {cluster}\n    user: {user}\n  name: {context}\ncurrent-context: {context}\nkind: Config\npreferences: {{}}\nusers:\n- name: {user}\n  user:\n    client-certificate-data: {cert}\n    client-key-data: {key}\n",
        ca = api.certificate_authority_data,
        server = api.server,
        cluster = c.name,
        cert = api.client_certificate_data,
        key = api.client_key_data,
    );
    let value = base64::engine::general_purpose::STANDARD.encode(kubeconfig);
    json(
        StatusCode::OK,
        json!({"kubeconfigs": [{"name": kind, "value": value}]}),
    )
}
