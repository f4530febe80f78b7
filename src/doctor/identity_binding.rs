//! Doctor's identity-binding facts and their gathering: one more wave of concurrent calls,
//! made only when the pod asks for the path (its annotation) or the identity carries AKS's
//! credential. Kubernetes: a SubjectAccessReview for the service account (what the token
//! proxy decides) and the RBAC objects naming `cid.wi.aks.azure.com`; Azure: the AKS cluster
//! of the kube context, its binding of the identity, the identity's principal id.

use serde_json::Value;

use super::model::{Fact, Facts, Gap};
use crate::{
    azure::AzureError,
    ctx::Ctx,
    k8s::rbac::RbacKind,
    wi::identity_binding::{self as ib, API_GROUP, VERB},
};

/// The AKS cluster behind the kube context, and the identity's binding on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IbCluster {
    pub name: String,
    pub resource_group: String,
    pub refusal: Option<String>,
    /// (binding name, provisioning state) of the identity's binding, if any.
    pub binding: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct IbFacts {
    /// The SubjectAccessReview: may the service account `use-managed-identity` the client id?
    pub grant: Fact<bool>,
    /// ClusterRoles and Roles with a rule on `cid.wi.aks.azure.com`.
    pub roles: Fact<Vec<Value>>,
    /// ClusterRoleBindings and RoleBindings (to say which one names whom).
    pub role_bindings: Fact<Vec<Value>>,
    pub cluster: Fact<IbCluster>,
}

/// Whether the pod (or its template) asks for the identity-binding path.
pub fn asked(f: &Facts) -> bool {
    let annotated = |p: &k8s_openapi::api::core::v1::Pod| {
        ib::opted_in(
            p.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(ib::ANNOTATION))
                .map(String::as_str),
        )
    };
    f.workload.as_ref().is_ok_and(|w| annotated(&w.template))
        || f.pod.as_ref().is_ok_and(annotated)
        || f.template.as_ref().is_some_and(annotated)
}

/// Whether the identity carries AKS's credential (it has an identity binding somewhere).
pub fn identity_has_binding(f: &Facts) -> bool {
    f.identity()
        .and_then(|i| i.credentials.as_ref().ok())
        .is_some_and(|c| ib::has_managed_credential(c))
}

fn names_group(role: &Value) -> bool {
    role.get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| {
            r.get("apiGroups")
                .and_then(Value::as_array)
                .is_some_and(|g| g.iter().any(|x| x == API_GROUP))
        })
}

async fn rbac(ctx: &Ctx, kinds: [RbacKind; 2], keep: fn(&Value) -> bool) -> Fact<Vec<Value>> {
    let (a, b) = tokio::join!(
        ctx.kube.rbac_objects(kinds[0]),
        ctx.kube.rbac_objects(kinds[1])
    );
    let mut out = a.map_err(|e| super::gather::gap(&e))?;
    out.extend(b.map_err(|e| super::gather::gap(&e))?);
    out.retain(keep);
    Ok(out)
}

async fn cluster(ctx: &Ctx, identity_id: Option<&str>) -> (Fact<IbCluster>, u64) {
    let az = match ctx.azure().await {
        Ok(az) => az,
        Err(e) => return (Err(Gap::unreachable(e.to_string())), 0),
    };
    let gap = |e: AzureError| Gap::unreachable(e.to_string());
    let Some(aks) = crate::cmd::bind::aks_by_server(&az, &ctx.kube.server).await else {
        let why = format!(
            "the kube context's API server {} is no AKS cluster in subscription {}: identity bindings are an AKS feature",
            ctx.kube.server, az.subscription
        );
        return (Err(Gap::not_asked(why)), az.arm.calls());
    };
    let binding = match az.arm.identity_bindings(&aks.id).await {
        Ok(list) => list
            .into_iter()
            .find(|b| {
                identity_id.is_some_and(|id| {
                    b.properties
                        .managed_identity
                        .resource_id
                        .eq_ignore_ascii_case(id)
                })
            })
            .map(|b| (b.name.clone(), b.state().to_string())),
        Err(e) => return (Err(gap(e)), az.arm.calls()),
    };
    let c = IbCluster {
        name: aks.name,
        resource_group: aks.resource_group,
        refusal: aks.identity_binding_refusal,
        binding,
    };
    (Ok(c), az.arm.calls())
}

/// The third wave: Kubernetes RBAC and the AKS side, concurrently. Returns the facts, the
/// Kubernetes calls and the ARM calls made.
pub async fn gather(ctx: &Ctx, f: &Facts) -> Option<(IbFacts, u64, u64)> {
    if !asked(f) && !identity_has_binding(f) {
        return None;
    }
    let sa = f.sa_name.clone().unwrap_or_else(|| "default".into());
    let client_id = super::checks::client_id(f).unwrap_or_default();
    let identity_id = f.identity().map(|i| i.id.clone());
    let k = &ctx.kube;
    let (grant, roles, role_bindings, (cluster, arm)) = tokio::join!(
        k.service_account_may(&f.namespace, &sa, API_GROUP, &client_id, VERB),
        rbac(ctx, [RbacKind::ClusterRole, RbacKind::Role], names_group),
        rbac(
            ctx,
            [RbacKind::ClusterRoleBinding, RbacKind::RoleBinding],
            |_| true
        ),
        cluster(ctx, identity_id.as_deref()),
    );
    let facts = IbFacts {
        grant: grant.map_err(|e| super::gather::gap(&e)),
        roles,
        role_bindings,
        cluster,
    };
    Some((facts, 5, arm))
}
