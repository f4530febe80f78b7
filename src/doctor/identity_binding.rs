//! Doctor's identity-binding facts and their gathering: one more wave of concurrent calls,
//! made only when the pod asks for the path (its annotation) or the identity carries AKS's
//! credential. Kubernetes: a SubjectAccessReview for the service account (what the token
//! proxy decides), the RBAC objects naming `cid.wi.aks.azure.com` and the app container's
//! log tail (an SDK without the proxy opt-in logs Entra's refusal); Azure: the AKS cluster of
//! the kube context and its binding of the identity.

use serde_json::Value;

use super::model::{Fact, Facts, Gap};
use crate::{
    azure::AzureError,
    ctx::{AzureCtx, Ctx},
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
    /// The lines of the app container's log tail that carry an AADSTS code.
    pub app_log: Fact<Vec<String>>,
}

/// Log lines read from the app container: enough for a retry loop's last errors.
pub const LOG_LINES: i64 = 200;

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

/// Whether this cluster has an identity binding of the pod's identity (whatever its state).
pub fn binding_here(f: &Facts) -> bool {
    f.identity_binding
        .as_ref()
        .is_ok_and(|i| i.cluster.as_ref().is_ok_and(|c| c.binding.is_some()))
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

/// The AKS side, read with wave 2's login (`None`: Azure was not reached; azure-identity says
/// why). Returns the ARM calls this made.
async fn cluster(
    ctx: &Ctx,
    az: Option<&AzureCtx>,
    identity_id: Option<&str>,
) -> (Fact<IbCluster>, u64) {
    let Some(az) = az else {
        let why = "Azure was not reached (see azure-identity)";
        return (Err(Gap::unreachable(why)), 0);
    };
    let before = az.arm.calls();
    let calls = || az.arm.calls() - before;
    let gap = |e: AzureError| Gap::unreachable(e.to_string());
    let Some(aks) = crate::cmd::bind::aks_by_server(az, &ctx.kube.server).await else {
        let why = format!(
            "the kube context's API server {} is no AKS cluster in subscription {}: identity bindings are an AKS feature",
            ctx.kube.server, az.subscription
        );
        return (Err(Gap::not_asked(why)), calls());
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
        Err(e) => return (Err(gap(e)), calls()),
    };
    let c = IbCluster {
        name: aks.name,
        resource_group: aks.resource_group,
        refusal: aks.identity_binding_refusal,
        binding,
    };
    (Ok(c), calls())
}

/// The AADSTS lines of the app container's log tail.
async fn app_log(ctx: &Ctx, f: &Facts) -> Fact<Vec<String>> {
    let (Ok(pod), Some(container)) = (&f.pod, &f.container) else {
        return Err(Gap::not_asked("no running pod to read the log of"));
    };
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let text = ctx
        .kube
        .log_tail(&f.namespace, name, container, LOG_LINES)
        .await
        .map_err(|e| super::gather::gap(&e))?;
    Ok(text
        .lines()
        .filter(|l| l.contains("AADSTS"))
        .map(str::to_string)
        .collect())
}

/// What the identity-binding gather read, and what it cost.
pub struct IbGather {
    pub facts: IbFacts,
    pub kube_calls: u64,
    pub arm_calls: u64,
    /// Rounds of concurrent calls: one, and a second for the RBAC objects when the grant is
    /// missing (they only say why).
    pub waves: u32,
}

/// The third wave: the SubjectAccessReview, the app's log tail and the AKS side (over `az`,
/// wave 2's login), concurrently; then, only if the grant is missing, the RBAC objects that
/// explain it (listing every Role and RoleBinding is the costly read on a large cluster).
pub async fn gather(ctx: &Ctx, f: &Facts, az: Option<&AzureCtx>) -> Option<IbGather> {
    if !asked(f) && !identity_has_binding(f) {
        return None;
    }
    let sa = f.sa_name.clone().unwrap_or_else(|| "default".into());
    let client_id = super::checks::client_id(f).unwrap_or_default();
    let identity_id = f.identity().map(|i| i.id.clone());
    let k = &ctx.kube;
    let (grant, (cluster, arm_calls), app_log) = tokio::join!(
        k.service_account_may(&f.namespace, &sa, API_GROUP, &client_id, VERB),
        cluster(ctx, az, identity_id.as_deref()),
        app_log(ctx, f),
    );
    let grant = grant.map_err(|e| super::gather::gap(&e));
    let mut kube_calls = 1 + u64::from(f.pod.is_ok() && f.container.is_some());
    let (roles, role_bindings, waves) = if grant == Ok(false) {
        kube_calls += 4;
        let (roles, bindings) = tokio::join!(
            rbac(ctx, [RbacKind::ClusterRole, RbacKind::Role], names_group),
            rbac(
                ctx,
                [RbacKind::ClusterRoleBinding, RbacKind::RoleBinding],
                |_| true
            ),
        );
        (roles, bindings, 2)
    } else {
        let granted = || Err(Gap::not_asked("the grant is there: RBAC objects not read"));
        (granted(), granted(), 1)
    };
    let facts = IbFacts {
        grant,
        roles,
        role_bindings,
        cluster,
        app_log,
    };
    Some(IbGather {
        facts,
        kube_calls,
        arm_calls,
        waves,
    })
}
