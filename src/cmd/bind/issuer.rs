//! The issuer a federated credential must name: the one this cluster's tokens really carry,
//! found from every source at hand (`--issuer`, the AKS cluster, a TokenRequest, the API
//! server's discovery), and refused before any write when Entra could not use it.

use serde_json::Value;

use super::IssuerReport;
use crate::{
    Error,
    ctx::{AzureCtx, Ctx},
    error::InputError,
    wi::issuer,
};

/// The AKS cluster the issuer was looked up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AksCluster {
    /// The ARM resource id (identity bindings are its children).
    pub id: String,
    pub name: String,
    pub resource_group: String,
    /// `oidcIssuerProfile.issuerURL`; none while the OIDC issuer is disabled.
    pub issuer: Option<String>,
    /// Why identity bindings cannot serve it (API server VNet integration), if so.
    pub identity_binding_refusal: Option<String>,
}

impl AksCluster {
    fn from_arm(mc: &Value) -> AksCluster {
        let id = mc["id"].as_str().unwrap_or_default();
        let segments: Vec<&str> = id.split('/').collect();
        let resource_group = segments
            .iter()
            .position(|s| s.eq_ignore_ascii_case("resourcegroups"))
            .and_then(|i| segments.get(i + 1))
            .unwrap_or(&"")
            .to_string();
        AksCluster {
            id: id.to_string(),
            identity_binding_refusal: crate::wi::identity_binding::cluster_refusal(mc),
            name: mc["name"].as_str().unwrap_or_default().to_string(),
            resource_group,
            issuer: mc
                .pointer("/properties/oidcIssuerProfile/issuerURL")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        }
    }

    fn fix(&self) -> String {
        issuer::aks_fix(&self.resource_group, &self.name)
    }
}

/// Where to look for the issuer.
pub(crate) struct IssuerQuery<'a> {
    pub flag: Option<&'a str>,
    pub cluster: Option<&'a str>,
    pub cluster_rg: Option<&'a str>,
    pub ns: &'a str,
    pub sa: &'a str,
    pub sa_exists: bool,
    /// Bind: the issuer goes into a new credential, so one Entra cannot use is refused here.
    /// Unbind only looks credentials up by it.
    pub for_entra: bool,
}

/// What the cluster itself puts in tokens: a TokenRequest when the SA exists, else discovery.
async fn from_cluster(ctx: &Ctx, q: &IssuerQuery<'_>) -> Option<(String, String)> {
    let k = &ctx.kube;
    if q.sa_exists
        && let Ok(Some(iss)) = k.token_issuer(q.ns, q.sa).await
    {
        return Some((iss, format!("a token requested for {}/{}", q.ns, q.sa)));
    }
    let d = k.discovery().await.ok()?;
    Some((
        d["issuer"].as_str()?.to_string(),
        "the API server's /.well-known/openid-configuration".to_string(),
    ))
}

/// The fix when the issuer belongs to a cluster without a public OIDC issuer.
fn enable_oidc_hint(aks: Option<&AksCluster>) -> String {
    match aks {
        Some(c) => format!("enable the OIDC issuer: `{}`", c.fix()),
        None => format!(
            "AKS: `{}`; another cluster: serve a public OIDC issuer (the API server's --service-account-issuer and its discovery document and JWKS at that https URL)",
            issuer::aks_fix("RESOURCE_GROUP", "CLUSTER")
        ),
    }
}

/// The API server's in-cluster name as the issuer: Entra cannot reach it.
pub(super) fn in_cluster_refusal(
    value: &str,
    source: &str,
    aks: Option<&AksCluster>,
) -> InputError {
    InputError::new(
        "issuer",
        value,
        format!("an issuer Entra can reach ({source} gives the API server's in-cluster name: the cluster has no public OIDC issuer)"),
    )
    .with_hint(enable_oidc_hint(aks))
}

pub(crate) async fn find_issuer(
    ctx: &Ctx,
    az: Option<&AzureCtx>,
    q: IssuerQuery<'_>,
) -> Result<IssuerReport, Error> {
    let aks = match (q.cluster, az) {
        (Some(c), Some(az)) => Some(aks_cluster(az, c, q.cluster_rg).await?),
        (None, Some(az)) => aks_cluster_by_server(az, &ctx.kube.server).await,
        _ => None,
    };
    if q.for_entra
        && let Some(c) = aks.as_ref().filter(|c| c.issuer.is_none())
    {
        return Err(InputError::new(
            "cluster",
            &c.name,
            "an AKS cluster with the OIDC issuer enabled (it has no oidcIssuerProfile.issuerURL: its tokens carry an in-cluster issuer Entra cannot reach)",
        )
        .with_hint(enable_oidc_hint(Some(c)))
        .into());
    }
    let mut candidates: Vec<(String, String)> = Vec::new();
    if let Some(i) = q.flag {
        candidates.push((i.to_string(), "--issuer".into()));
    }
    if let Some(c) = &aks
        && let Some(i) = &c.issuer
    {
        let how = if q.cluster.is_some() {
            String::new()
        } else {
            format!(", matched by the kube context's server {}", ctx.kube.server)
        };
        candidates.push((
            i.clone(),
            format!("AKS cluster {} (oidcIssuerProfile.issuerURL{how})", c.name),
        ));
    }
    if let Some(c) = from_cluster(ctx, &q).await {
        candidates.push(c);
    }
    let Some((value, source)) = candidates.first().cloned() else {
        return Err(InputError::new("issuer", "", "an https URL").with_hint("could not read the cluster's issuer: pass --issuer (AKS: `az aks show -n CLUSTER -g RESOURCE_GROUP --query oidcIssuerProfile.issuerUrl -o tsv`) or --cluster").into());
    };
    // An in-cluster issuer cannot be fixed by naming another one: the tokens themselves carry it.
    if q.for_entra
        && let Some((bad, bad_source)) = candidates.iter().find(|(i, _)| issuer::is_in_cluster(i))
    {
        return Err(in_cluster_refusal(bad, bad_source, aks.as_ref()).into());
    }
    for (other, other_source) in &candidates[1..] {
        if let Some(d) = issuer::difference(other, &value) {
            return Err(InputError::new("issuer", &value, format!("the issuer tokens of this cluster carry, which {other_source} says is '{other}'"))
                .with_hint(format!("{source} and {other_source} disagree: {d}; pass --issuer with the value the cluster's tokens carry"))
                .into());
        }
    }
    let value = issuer::parse(&value)?;
    let notes = candidates[1..]
        .iter()
        .map(|(_, s)| format!("agrees with {s}"))
        .collect();
    Ok(IssuerReport {
        value,
        source,
        notes,
        aks,
    })
}

/// Entra fetches the issuer's discovery document and keys, anonymously, before it trusts a
/// token: fetched the same way here, so an issuer it cannot read stops bind before any write.
pub(super) async fn check_served(report: &IssuerReport) -> Result<(), Error> {
    let http = crate::azure::entra::http().map_err(|e| {
        InputError::new("issuer", &report.value, "an issuer that can be checked")
            .with_hint(format!("building an HTTP client failed: {e}"))
    })?;
    match crate::azure::issuer::fetch(&http, &report.value).await {
        Ok(_) => Ok(()),
        Err(e) => {
            let fix = match &report.aks {
                Some(c) => format!("enable the OIDC issuer: `{}`", c.fix()),
                None => "serve the discovery document and the JWKS it names at this https URL, readable without credentials (self-managed clusters: the azure-workload-identity docs, \"Service account issuer discovery\")".into(),
            };
            Err(InputError::new(
                "issuer",
                &report.value,
                "an issuer whose discovery document and keys anyone can read over https (Entra fetches them without credentials)",
            )
            .with_hint(format!("GET {} without credentials: {}; {fix}", e.url, e.reason))
            .into())
        }
    }
}

/// `--cluster NAME|RESOURCE-ID`: the AKS cluster, which must exist.
pub(super) async fn aks_cluster(
    az: &AzureCtx,
    cluster: &str,
    rg: Option<&str>,
) -> Result<AksCluster, Error> {
    let id = if cluster.starts_with('/') {
        cluster.to_string()
    } else {
        let rg = rg.ok_or_else(|| {
            InputError::new(
                "cluster",
                cluster,
                "a resource id, or a name with --cluster-resource-group (or -g)",
            )
        })?;
        format!(
            "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{cluster}",
            az.subscription
        )
    };
    let mc: Option<Value> = az.arm.get_opt("get AKS cluster", &id, "2025-10-01").await?;
    let mc = mc.ok_or_else(|| {
        InputError::new("cluster", cluster, "an AKS cluster that exists").with_hint(
            "check --cluster, --cluster-resource-group and --subscription (`az aks list -o table`)",
        )
    })?;
    Ok(AksCluster::from_arm(&mc))
}

/// The AKS cluster whose API server FQDN is the kube context's server, if any; a failure to
/// list clusters (no permission, not AKS) just means this source is not used.
pub(crate) async fn aks_cluster_by_server(az: &AzureCtx, server: &str) -> Option<AksCluster> {
    let host = server
        .trim_start_matches("https://")
        .split([':', '/'])
        .next()?
        .to_ascii_lowercase();
    let path = format!(
        "/subscriptions/{}/providers/Microsoft.ContainerService/managedClusters",
        az.subscription
    );
    let clusters: Vec<Value> = az
        .arm
        .list("list AKS clusters", &path, "2025-10-01")
        .await
        .ok()?;
    let mc = clusters.iter().find(|c| {
        ["/properties/fqdn", "/properties/privateFQDN"]
            .iter()
            .any(|p| {
                c.pointer(p)
                    .and_then(Value::as_str)
                    .is_some_and(|f| f.eq_ignore_ascii_case(&host))
            })
    })?;
    Some(AksCluster::from_arm(mc))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_aks_fix_names_the_real_cluster() {
        // As ARM returns a managed cluster without the OIDC issuer (lower-case resourcegroups).
        let mc = json!({
            "id": "/subscriptions/s/resourcegroups/rg-prod/providers/Microsoft.ContainerService/managedClusters/aks-1",
            "name": "aks-1",
            "properties": {"oidcIssuerProfile": {"enabled": false}}
        });
        let c = AksCluster::from_arm(&mc);
        assert_eq!(c.issuer, None);
        assert_eq!(
            c.fix(),
            "az aks update -g rg-prod -n aks-1 --enable-oidc-issuer --enable-workload-identity"
        );
    }
}
