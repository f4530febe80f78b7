//! `unbind --identity-binding`: undoes `bind --identity-binding` (src/cmd/bind/identity_binding.rs)
//! in reverse. Reads first, in three waves (the identity and the cluster; what the identity,
//! the cluster and RBAC hold; the other clusters' bindings), plans with the pure rules of
//! `wi::identity_binding_unbind`, asks for the RBAC rights the plan needs, then writes: the
//! ServiceAccount, the workloads and the grant, then the ARM binding (a long-running DELETE,
//! polled), and AKS's credential last, only once no binding in any cluster uses the identity.

use std::time::Duration;

use serde_json::Value;
use tracing::info;

use super::{
    bind::{AksCluster, IssuerReport, aks_by_server, aks_cluster, resolve_identity, summary},
    unbind::{Checked, Start, UnbindReport},
};
use crate::{
    Error,
    azure::{aks::IdentityBinding, msi::Identity},
    cli::UnbindArgs,
    ctx::{AzureCtx, Ctx},
    error::InputError,
    k8s::rbac::RbacKind,
    wi::{
        credential::Credential,
        identity::IdentityRef,
        identity_binding::{self as ib, BindingFact},
        identity_binding_unbind::{self as ibu, BindingUse, CredentialUse},
        keys,
        plan::{self, Action, Op, Step, StepKind},
    },
};

/// How long unbind waits for AKS to delete a binding before it gives up (it goes on in Azure).
const PATIENCE: Duration = Duration::from_secs(300);

struct Facts {
    identity: Identity,
    aks: AksCluster,
    credentials: Vec<Credential>,
    /// This cluster's bindings.
    bindings: Vec<IdentityBinding>,
    role: Option<Value>,
    role_binding: Option<Value>,
    roles: Vec<Value>,
    role_bindings: Vec<Value>,
    /// The identity's bindings on the subscription's other clusters.
    elsewhere: Vec<BindingUse>,
    /// Clusters whose bindings could not be listed.
    unknown: Vec<String>,
}

pub(crate) async fn run(ctx: &Ctx, args: &UnbindArgs, start: Start) -> Result<UnbindReport, Error> {
    let Start {
        c,
        az,
        annotations,
        workload_steps,
    } = start;
    let ns = ctx.kube.namespace.clone();
    let f = gather(ctx, &az, args, &c, annotations.as_ref()).await?;
    let mut steps = plan_steps(&ns, &c.sa, &az.subscription, annotations.as_ref(), &f);
    // The workloads before the grant: pods stop asking before they lose the right.
    let at = steps
        .iter()
        .position(|s| s.kind == StepKind::ClusterRoleBinding)
        .unwrap_or(steps.len());
    steps.splice(at..at, workload_steps);
    check_rights(ctx, &steps).await?;
    if !args.dry_run {
        apply(ctx, &az, &ns, &c.sa, &f, &mut steps).await?;
    }
    let issuer = f
        .bindings
        .iter()
        .find_map(IdentityBinding::issuer)
        .map_or_else(
            || {
                format!(
                    "{}{}/{}",
                    ib::ISSUER_PREFIX,
                    f.identity.properties.tenant_id,
                    f.identity.properties.client_id
                )
            },
            str::to_string,
        );
    Ok(UnbindReport {
        dry_run: args.dry_run,
        namespace: ns,
        service_account: c.sa,
        issuer: IssuerReport {
            value: issuer,
            source: format!("AKS identity binding on cluster {}", f.aks.name),
            notes: Vec::new(),
            aks: None,
        },
        identity: Some(summary(&f.identity)),
        application: None,
        steps,
        warnings: Vec::new(),
    })
}

/// The identity: `--identity`, else the client id the ServiceAccount is annotated with. It
/// must exist: its id is what the binding and AKS's credential are found by.
async fn identity(
    az: &AzureCtx,
    c: &Checked,
    annotations: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<Identity, Error> {
    let from_sa = annotations
        .and_then(|a| a.get(keys::CLIENT_ID_ANNOTATION))
        .map(|id| IdentityRef::parse(id))
        .transpose()?;
    let Some(wanted) = c.identity.clone().or(from_sa) else {
        return Err(InputError::new(
            "identity",
            "",
            "the user-assigned identity the binding uses (--identity NAME|CLIENT-ID|RESOURCE-ID)",
        )
        .with_hint("the ServiceAccount names no client id: add --identity")
        .into());
    };
    match resolve_identity(az, &wanted, c.resource_group.as_deref()).await? {
        Ok(i) => Ok(i),
        Err(id) => Err(InputError::new(
            "identity",
            &id.name,
            format!(
                "a user-assigned identity in resource group {}",
                id.resource_group
            ),
        )
        .with_hint("check --identity, -g and --subscription (`az identity list -o table`)")
        .into()),
    }
}

/// The AKS cluster: `--cluster`, else the one whose API server is the kube context's. A
/// VNet-integrated one is not refused here: unbind cleans up whatever is there.
async fn cluster(
    ctx: &Ctx,
    az: &AzureCtx,
    args: &UnbindArgs,
    c: &Checked,
) -> Result<AksCluster, Error> {
    if let Some(name) = &args.cluster {
        let rg = args
            .cluster_resource_group
            .as_deref()
            .or(c.resource_group.as_deref());
        return aks_cluster(az, name, rg).await;
    }
    aks_by_server(az, &ctx.kube.server).await.ok_or_else(|| {
        InputError::new(
            "cluster",
            &ctx.kube.server,
            format!(
                "an AKS cluster (no managed cluster in subscription {} has this API server)",
                az.subscription
            ),
        )
        .with_hint("name it: --cluster NAME --cluster-resource-group RG (`az aks list -o table`)")
        .into()
    })
}

/// `rg/name` of a managed cluster's ARM id.
fn cluster_label(id: &str) -> String {
    let s: Vec<&str> = id.split('/').collect();
    let after = |k: &str| {
        s.iter()
            .position(|x| x.eq_ignore_ascii_case(k))
            .and_then(|i| s.get(i + 1))
            .copied()
            .unwrap_or_default()
    };
    format!("{}/{}", after("resourceGroups"), after("managedClusters"))
}

/// Wave 3: the identity's bindings on every other cluster of the subscription.
async fn elsewhere(
    az: &AzureCtx,
    clusters: &[Value],
    here: &str,
    identity_id: &str,
) -> (Vec<BindingUse>, Vec<String>) {
    let others: Vec<&str> = clusters
        .iter()
        .filter_map(|c| c["id"].as_str())
        .filter(|id| !id.eq_ignore_ascii_case(here))
        .collect();
    let lists =
        futures::future::join_all(others.iter().map(|id| az.arm.identity_bindings(id))).await;
    let (mut uses, mut unknown) = (Vec::new(), Vec::new());
    for (id, list) in others.iter().zip(lists) {
        match list {
            Ok(l) => uses.extend(
                l.into_iter()
                    .filter(|b| {
                        b.properties
                            .managed_identity
                            .resource_id
                            .eq_ignore_ascii_case(identity_id)
                    })
                    .map(|b| BindingUse {
                        cluster: cluster_label(id),
                        name: b.name,
                    }),
            ),
            Err(_) => unknown.push(cluster_label(id)),
        }
    }
    (uses, unknown)
}

async fn gather(
    ctx: &Ctx,
    az: &AzureCtx,
    args: &UnbindArgs,
    c: &Checked,
    annotations: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<Facts, Error> {
    let k = &ctx.kube;
    let (identity, aks) = tokio::join!(identity(az, c, annotations), cluster(ctx, az, args, c));
    let (identity, aks) = (identity?, aks?);
    let name = ib::rbac_name(&identity.properties.client_id);
    let (credentials, bindings, role, role_binding, roles, role_bindings, clusters) = tokio::join!(
        az.arm.credentials(&identity.id),
        az.arm.identity_bindings(&aks.id),
        k.rbac_object(RbacKind::ClusterRole, &name),
        k.rbac_object(RbacKind::ClusterRoleBinding, &name),
        k.rbac_objects(RbacKind::ClusterRole),
        k.rbac_objects(RbacKind::ClusterRoleBinding),
        az.arm.managed_clusters(&az.subscription),
    );
    let (elsewhere, mut unknown) = match clusters {
        Ok(list) => elsewhere(az, &list, &aks.id, &identity.id).await,
        Err(e) => (
            Vec::new(),
            vec![format!("subscription {} ({e})", az.subscription)],
        ),
    };
    unknown.sort();
    Ok(Facts {
        credentials: credentials?,
        bindings: bindings?,
        role: role?,
        role_binding: role_binding?,
        roles: roles?,
        role_bindings: role_bindings?,
        elsewhere,
        unknown,
        identity,
        aks,
    })
}

fn plan_steps(
    ns: &str,
    sa: &str,
    subscription: &str,
    annotations: Option<&std::collections::BTreeMap<String, String>>,
    f: &Facts,
) -> Vec<Step> {
    let client_id = f.identity.properties.client_id.as_str();
    let facts: Vec<BindingFact> = f.bindings.iter().map(IdentityBinding::fact).collect();
    let subjects_left = ibu::other_subjects(f.role_binding.as_ref(), ns, sa);
    let mut keepers = subjects_left.clone();
    keepers.extend(ibu::other_grants(&f.roles, &f.role_bindings, client_id));
    let binding = ibu::binding_step(&facts, &f.identity.id, &f.aks.id, &keepers);
    let here = facts
        .iter()
        .any(|b| b.identity_id.eq_ignore_ascii_case(&f.identity.id));
    let kept_here = here && !keepers.is_empty();
    let credential = ibu::managed_credential_step(
        &f.identity.name,
        &f.credentials,
        &CredentialUse {
            kept_here,
            elsewhere: &f.elsewhere,
            unknown: &f.unknown,
            subscription,
        },
    );
    vec![
        Step::noop(
            StepKind::Identity,
            Action::Unchanged,
            format!("identity {}", f.identity.name),
            format!("client id {client_id}"),
        ),
        plan::service_account_unbind_step(ns, sa, annotations, Some(client_id)),
        ib::cluster_role_binding_unbind_step(f.role_binding.as_ref(), client_id, ns, sa),
        ibu::cluster_role_step(
            f.role.as_ref(),
            client_id,
            &subjects_left,
            &ibu::role_references(&f.role_bindings, client_id),
        ),
        binding,
        credential,
    ]
}

/// The RBAC rights the plan's writes need, asked before any write.
async fn check_rights(ctx: &Ctx, steps: &[Step]) -> Result<(), Error> {
    let asks: Vec<(&str, &str)> = steps
        .iter()
        .filter(|s| s.action.writes())
        .filter_map(|s| match (&s.op, s.action) {
            (Some(Op::ClusterRole { .. }), _) => Some(("delete", "clusterroles")),
            (Some(Op::ClusterRoleBinding { .. }), Action::Delete) => {
                Some(("delete", "clusterrolebindings"))
            }
            (Some(Op::ClusterRoleBinding { .. }), _) => Some(("patch", "clusterrolebindings")),
            _ => None,
        })
        .collect();
    super::bind::require_rbac_rights(ctx, &asks).await
}

fn resource_version(o: Option<&Value>) -> Option<&str> {
    o.and_then(|v| v.pointer("/metadata/resourceVersion"))
        .and_then(Value::as_str)
}

async fn cluster_write(ctx: &Ctx, ns: &str, sa: &str, f: &Facts, s: &Step) -> Result<(), Error> {
    let k = &ctx.kube;
    match (&s.op, s.action) {
        (Some(Op::ServiceAccount), _) => {
            k.patch_service_account(ns, sa, s.body.as_ref().expect("patch"))
                .await?;
        }
        (Some(Op::Workload(t)), _) => {
            k.patch_workload(ns, t.kind, &t.name, s.body.as_ref().expect("patch"))
                .await?;
        }
        (Some(Op::ClusterRoleBinding { name }), Action::Delete) => {
            let rv = resource_version(f.role_binding.as_ref());
            k.delete_rbac_object(RbacKind::ClusterRoleBinding, name, rv)
                .await?;
        }
        (Some(Op::ClusterRoleBinding { name }), _) => {
            let body = s.body.as_ref().expect("patch");
            k.patch_rbac_object(RbacKind::ClusterRoleBinding, name, body)
                .await?;
        }
        (Some(Op::ClusterRole { name }), _) => {
            let rv = resource_version(f.role.as_ref());
            k.delete_rbac_object(RbacKind::ClusterRole, name, rv)
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// The cluster first (the reverse of bind), then the ARM binding, AKS's credential last: a
/// failure on the way leaves what a re-run finishes.
async fn apply(
    ctx: &Ctx,
    az: &AzureCtx,
    ns: &str,
    sa: &str,
    f: &Facts,
    steps: &mut [Step],
) -> Result<(), Error> {
    for s in steps.iter().filter(|s| s.action.writes()) {
        cluster_write(ctx, ns, sa, f, s).await?;
    }
    for s in steps.iter_mut().filter(|s| s.action.writes()) {
        if let Some(Op::DeleteIdentityBinding { path, send }) = &s.op {
            let before = az.arm.calls();
            let waited = if *send {
                az.arm.delete_identity_binding(path, PATIENCE).await?.1
            } else {
                az.arm.wait_identity_binding_gone(path, PATIENCE).await?
            };
            info!(
                binding = %path,
                arm_calls = az.arm.calls() - before,
                polls = waited.polls,
                waited_ms = waited.slept.as_millis() as u64,
                "identity binding deleted"
            );
            s.detail = format!(
                "gone after {} poll(s), {}s",
                waited.polls,
                waited.slept.as_secs()
            );
        }
    }
    for s in steps.iter().filter(|s| s.action.writes()) {
        if let Some(Op::DeleteCredential { name }) = &s.op {
            az.arm.delete_credential(&f.identity.id, name).await?;
        }
    }
    Ok(())
}
