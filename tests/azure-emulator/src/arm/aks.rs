//! Microsoft.ContainerService managedClusters: read-only; clusters come from the control API.

use axum::http::StatusCode;
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
    json!({
        "id": format!("/subscriptions/{sub}/resourcegroups/{}/providers/{CLUSTER_TYPE}/{}", c.rg, c.name),
        "location": c.location,
        "name": c.name,
        "tags": {},
        "type": "Microsoft.ContainerService/ManagedClusters",
        "properties": {
            "provisioningState": "Succeeded",
            "powerState": {"code": "Running"},
            "kubernetesVersion": c.kubernetes_version,
            "currentKubernetesVersion": c.kubernetes_version,
            "dnsPrefix": c.name,
            "fqdn": c.fqdn,
            "azurePortalFQDN": c.fqdn,
            "nodeResourceGroup": format!("MC_{}_{}_{}", c.rg, c.name, c.location),
            "enableRBAC": true,
            "oidcIssuerProfile": oidc,
            "securityProfile": security,
        },
    })
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
