//! `bind --identity-binding`: the AKS identity-binding path (docs: identity-bindings §6). Read
//! everything first (refusing where bindings do not apply: no AKS cluster, API server VNet
//! integration, an app registration, no room for AKS's credential, RBAC objects that are not
//! the plugin's), plan the steps, then write: the ARM binding first (long-running, polled),
//! then the ClusterRole/ClusterRoleBinding, the ServiceAccount and the workloads.

use std::time::Duration;

use k8s_openapi::api::core::v1::ServiceAccount;
use serde_json::Value;
use tracing::info;

use super::{
    BindReport, IdentitySummary, IssuerReport,
    issuer::{self, AksCluster},
    read::{self, Checked, ClusterFacts, SaUser, WorkloadFacts},
    summary,
};
use crate::{
    Error,
    azure::{aks::IdentityBinding, msi::Identity},
    cli::BindArgs,
    ctx::{AzureCtx, Ctx},
    error::InputError,
    k8s::rbac::RbacKind,
    wi::{
        credential::Credential,
        identity::IdentityRef,
        identity_binding::{self as ib, BindingFact, NotOurs},
        keys,
        plan::{self, Action, Op, Step, StepKind, WorkloadPlan},
    },
};

/// How long bind waits for AKS to settle a binding before it gives up (it goes on in Azure).
const PATIENCE: Duration = Duration::from_secs(300);

pub(super) struct Facts {
    sa: Option<ServiceAccount>,
    cluster: ClusterFacts,
    workloads: Vec<WorkloadFacts>,
    identity: Identity,
    aks: AksCluster,
    credentials: Vec<Credential>,
    bindings: Vec<IdentityBinding>,
    role: Option<Value>,
    role_binding: Option<Value>,
    sa_users: Vec<SaUser>,
}

pub(super) async fn run(ctx: &Ctx, args: &BindArgs) -> Result<BindReport, Error> {
    let input = read::check(ctx, args)?;
    let (az, facts) = gather(ctx, args, &input).await?;
    let mut report = plan(&input, args, &facts)?;
    if !args.dry_run {
        apply(ctx, &az, &mut report).await?;
    }
    report.next = next_steps(&report, &facts.sa_users);
    Ok(report)
}

/// The identity, which must be a user-assigned one that exists: bindings take no app
/// registration, and this path creates no identity.
async fn identity(az: &AzureCtx, c: &Checked) -> Result<Identity, Error> {
    let Some(wanted) = &c.identity else {
        return Err(InputError::new(
            "identity",
            "",
            "a user-assigned managed identity (--identity NAME|CLIENT-ID|RESOURCE-ID)",
        )
        .with_hint("an identity binding binds a managed identity: add --identity")
        .into());
    };
    let found = read::resolve_identity(az, wanted, c.resource_group.as_deref()).await;
    match (found, wanted) {
        (Ok(Ok(i)), _) => Ok(i),
        (Ok(Err(id)), _) => Err(InputError::new(
            "identity",
            &id.name,
            format!(
                "a user-assigned identity in resource group {}",
                id.resource_group
            ),
        )
        .with_hint(format!(
            "create it first (`az identity create -g {} -n {}`), or check -g and --subscription",
            id.resource_group, id.name
        ))
        .into()),
        (Err(e), IdentityRef::ClientId { client_id }) => {
            match az.graph.application_by_app_id(client_id.as_str()).await {
                Ok(Some(app)) => Err(InputError::new(
                    "identity",
                    client_id.as_str(),
                    "a user-assigned managed identity (identity bindings take no app registration)",
                )
                .with_hint(format!(
                    "{client_id} is app registration '{}': bind it without --identity-binding, or use a user-assigned identity",
                    app.display_name
                ))
                .into()),
                _ => Err(e),
            }
        }
        (Err(e), _) => Err(e),
    }
}

/// The AKS cluster: `--cluster`, else the one whose API server is the kube context's.
async fn aks(ctx: &Ctx, az: &AzureCtx, args: &BindArgs, c: &Checked) -> Result<AksCluster, Error> {
    let found = match &args.cluster {
        Some(name) => {
            let rg = args
                .cluster_resource_group
                .as_deref()
                .or(c.resource_group.as_deref());
            issuer::aks_cluster(az, name, rg).await?
        }
        None => issuer::aks_cluster_by_server(az, &ctx.kube.server)
            .await
            .ok_or_else(|| {
                InputError::new(
                    "cluster",
                    &ctx.kube.server,
                    format!("an AKS cluster (identity bindings are an AKS feature; no managed cluster in subscription {} has this API server)", az.subscription),
                )
                .with_hint("name it: --cluster NAME --cluster-resource-group RG (`az aks list -o table`); on another Kubernetes bind without --identity-binding")
            })?,
    };
    if let Some(why) = &found.identity_binding_refusal {
        return Err(InputError::new("cluster", &found.name, why.clone())
            .with_hint("bind without --identity-binding: a federated credential per ServiceAccount works on this cluster")
            .into());
    }
    Ok(found)
}

/// Creating and changing the grant needs cluster-wide RBAC rights: asked before any write.
async fn check_rbac_rights(ctx: &Ctx) -> Result<(), Error> {
    let k = &ctx.kube;
    let group = "rbac.authorization.k8s.io";
    let asks = [
        ("create", "clusterroles"),
        ("patch", "clusterroles"),
        ("create", "clusterrolebindings"),
        ("patch", "clusterrolebindings"),
    ];
    let answers =
        futures::future::join_all(asks.iter().map(|(v, r)| k.can_i(v, group, r, ""))).await;
    for ((verb, resource), allowed) in asks.iter().zip(answers) {
        if !allowed? {
            return Err(InputError::new("Kubernetes permission", &format!("{verb} {resource}"), format!("'{verb}' on {resource} (cluster-wide)"))
                .with_hint(format!("identity bindings are granted by a ClusterRole and ClusterRoleBinding: `kubectl auth can-i {verb} {resource}` must say yes (cluster-admin or equivalent); nothing was written"))
                .into());
        }
    }
    Ok(())
}

async fn gather(ctx: &Ctx, args: &BindArgs, c: &Checked) -> Result<(AzureCtx, Facts), Error> {
    let (az, sa, cluster, workloads) = read::wave_one(ctx, c).await?;
    let k = &ctx.kube;
    // Wave 2: the identity, the cluster, the rights to grant, who runs as the SA.
    let (identity, aks, rights, sa_users) = tokio::join!(
        identity(&az, c),
        aks(ctx, &az, args, c),
        check_rbac_rights(ctx),
        async {
            match &sa {
                Some(_) => read::sa_users(k, &c.ns, &c.sa).await,
                None => Vec::new(),
            }
        },
    );
    let (identity, aks) = (identity?, aks?);
    rights?;
    // Wave 3: what exists already, on the identity, the cluster and in RBAC.
    let name = ib::rbac_name(&identity.properties.client_id);
    let (credentials, bindings, role, role_binding) = tokio::join!(
        az.arm.credentials(&identity.id),
        az.arm.identity_bindings(&aks.id),
        k.rbac_object(RbacKind::ClusterRole, &name),
        k.rbac_object(RbacKind::ClusterRoleBinding, &name),
    );
    let facts = Facts {
        sa,
        cluster,
        workloads,
        identity,
        aks,
        credentials: credentials?,
        bindings: bindings?,
        role: role?,
        role_binding: role_binding?,
        sa_users,
    };
    Ok((az, facts))
}

fn not_ours(n: NotOurs) -> Error {
    InputError::new(
        n.kind,
        &n.name,
        format!("a {} kubectl-azwi made (label {}), or none", n.kind, ib::OWNER_LABEL),
    )
    .with_hint(format!(
        "{} {} exists and is not kubectl-azwi's: it is left alone; delete it (`kubectl delete {} {}`) if bind should manage it",
        n.kind, n.name, n.kind, n.name
    ))
    .into()
}

/// AKS's credential on the identity: there already, or written by AKS when the binding settles.
fn managed_credential_step(identity: &IdentitySummary, f: &Facts) -> Result<Step, Error> {
    let target = format!(
        "federated credential on {}: {}",
        identity.name,
        ib::MANAGED_CREDENTIAL
    );
    match ib::credential_room(&f.credentials) {
        Ok(true) => Ok(Step::noop(
            StepKind::FederatedCredential,
            Action::Unchanged,
            target,
            "AKS's credential, shared by every binding of the identity".into(),
        )),
        Ok(false) => Ok(Step::noop(
            StepKind::FederatedCredential,
            Action::Create,
            target,
            format!(
                "written by AKS when the binding settles ({} of {} slots used)",
                f.credentials.len(),
                keys::MAX_FEDERATED_CREDENTIALS
            ),
        )),
        Err(listed) => Err(InputError::new(
            "identity",
            &identity.name,
            format!(
                "an identity with room for AKS's credential '{}' (it holds the maximum of {})",
                ib::MANAGED_CREDENTIAL,
                keys::MAX_FEDERATED_CREDENTIALS
            ),
        )
        .with_hint(format!(
            "delete one you no longer need (`az identity federated-credential delete --identity-name {} -g {} -n NAME`), or use another identity; it holds: {}",
            identity.name,
            identity.resource_group,
            listed.join("; ")
        ))
        .into()),
    }
}

fn plan(c: &Checked, args: &BindArgs, f: &Facts) -> Result<BindReport, Error> {
    let identity = summary(&f.identity);
    let client_id = f.identity.properties.client_id.as_str();
    let facts: Vec<BindingFact> = f
        .bindings
        .iter()
        .map(|b| BindingFact {
            name: b.name.clone(),
            identity_id: b.properties.managed_identity.resource_id.clone(),
            state: b.state().to_string(),
        })
        .collect();
    let binding = ib::binding_step(
        &facts,
        &f.identity.id,
        &f.aks.id,
        &ib::binding_name(&f.identity.name, &f.identity.id),
        ib::has_managed_credential(&f.credentials),
    );
    let mut steps = vec![
        Step::noop(
            StepKind::Identity,
            Action::Unchanged,
            format!("identity {}", identity.name),
            format!("client id {client_id}"),
        ),
        binding,
        managed_credential_step(&identity, f)?,
        ib::cluster_role_step(f.role.as_ref(), client_id).map_err(not_ours)?,
        ib::cluster_role_binding_step(f.role_binding.as_ref(), client_id, &c.ns, &c.sa)
            .map_err(not_ours)?,
    ];
    steps.push(super::plan::service_account_step(
        c,
        f.sa.as_ref(),
        &f.cluster,
        &identity,
    ));
    for w in &f.workloads {
        let template = plan::template_path(w.target.kind)
            .iter()
            .try_fold(&w.obj, |v, k| v.get(*k));
        steps.push(ib::workload_step(
            &WorkloadPlan {
                target: &w.target,
                namespace: &c.ns,
                template,
                rollout: &w.rollout,
            },
            &c.sa,
        ));
    }
    let existing = f.bindings.iter().find(|b| {
        b.properties
            .managed_identity
            .resource_id
            .eq_ignore_ascii_case(&f.identity.id)
    });
    let issuer = existing.and_then(IdentityBinding::issuer).map_or_else(
        || {
            format!(
                "{}{}/{client_id}",
                ib::ISSUER_PREFIX,
                f.identity.properties.tenant_id
            )
        },
        str::to_string,
    );
    Ok(BindReport {
        application: None,
        dry_run: args.dry_run,
        namespace: c.ns.clone(),
        service_account: c.sa.clone(),
        issuer: IssuerReport {
            value: issuer,
            source: format!(
                "AKS identity binding on cluster {} (one issuer per identity, the same in every cluster)",
                f.aks.name
            ),
            notes: Vec::new(),
            aks: Some(f.aks.clone()),
        },
        identity,
        steps,
        warnings: f
            .cluster
            .injection
            .warning(&c.ns, Some(&f.aks))
            .into_iter()
            .collect(),
        next: Vec::new(),
    })
}

/// The ARM binding: PUT and poll, or wait for one already running; then read back.
async fn put_binding(az: &AzureCtx, report: &mut BindReport, i: usize) -> Result<(), Error> {
    let Some(Op::IdentityBinding { path, put }) = report.steps[i].op.clone() else {
        return Ok(());
    };
    let before = az.arm.calls();
    let (b, waited) = if put {
        let body = report.steps[i].body.clone().expect("the binding's body");
        az.arm.put_identity_binding(&path, &body, PATIENCE).await?
    } else {
        az.arm.wait_identity_binding(&path, PATIENCE).await?
    };
    info!(
        binding = %b.name,
        arm_calls = az.arm.calls() - before,
        polls = waited.polls,
        waited_ms = waited.slept.as_millis() as u64,
        "identity binding settled"
    );
    if let Some(iss) = b.issuer() {
        report.issuer.value = iss.to_string();
    }
    report.steps[i].detail = format!(
        "{} after {} poll(s), {}s",
        b.state(),
        waited.polls,
        waited.slept.as_secs()
    );
    Ok(())
}

/// Each cluster-side write, by its step's op: the RBAC objects, the ServiceAccount, workloads.
async fn cluster_write(ctx: &Ctx, ns: &str, sa: &str, step: &Step) -> Result<(), Error> {
    let k = &ctx.kube;
    // AKS writes its credential itself: that step has nothing to send.
    let Some(body) = step.body.as_ref() else {
        return Ok(());
    };
    let (kind, name) = match &step.op {
        Some(Op::ClusterRole { name }) => (RbacKind::ClusterRole, name),
        Some(Op::ClusterRoleBinding { name }) => (RbacKind::ClusterRoleBinding, name),
        Some(Op::ServiceAccount) => {
            match step.action {
                Action::Create => k.create_service_account(ns, body).await.map(|_| ())?,
                _ => k.patch_service_account(ns, sa, body).await.map(|_| ())?,
            }
            return Ok(());
        }
        Some(Op::Workload(t)) => return Ok(k.patch_workload(ns, t.kind, &t.name, body).await?),
        _ => return Ok(()),
    };
    match step.action {
        Action::Create => k.create_rbac_object(kind, body).await?,
        _ => k.patch_rbac_object(kind, name, body).await?,
    }
    Ok(())
}

async fn apply(ctx: &Ctx, az: &AzureCtx, report: &mut BindReport) -> Result<(), Error> {
    let mut put = false;
    for i in 0..report.steps.len() {
        if report.steps[i].kind == StepKind::IdentityBinding && report.steps[i].action.writes() {
            put_binding(az, report, i).await?;
            put = true;
        }
    }
    // AKS writes its credential when the binding settles: say so if it is not there (without a
    // put, the plan read it already: its step says it is there or refused the run).
    if put && !ib::has_managed_credential(&az.arm.credentials(&report.identity.id).await?) {
        report.warnings.push(format!(
            "the binding settled but identity {} holds no '{}' credential: tokens cannot be exchanged; re-run this command (AKS writes it again on a PUT)",
            report.identity.name,
            ib::MANAGED_CREDENTIAL
        ));
    }
    let (ns, sa) = (report.namespace.clone(), report.service_account.clone());
    for s in report.steps.iter().filter(|s| s.action.writes()) {
        cluster_write(ctx, &ns, &sa, s).await?;
    }
    Ok(())
}

/// What to do next on this path, each a command that works as printed.
fn next_steps(r: &BindReport, sa_users: &[SaUser]) -> Vec<String> {
    let ns = &r.namespace;
    let mut next = super::rollout_hints(r);
    let patched: Vec<String> = r
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Workload)
        .map(|s| s.target.clone())
        .collect();
    let others: Vec<String> = sa_users
        .iter()
        .map(|u| u.owner.to_string())
        .filter(|o| !patched.contains(o))
        .map(|o| format!("--workload {o}"))
        .collect();
    if !others.is_empty() {
        next.push(format!(
            "pods running as {ns}/{} need the annotation {}: \"true\": re-run this command with {}",
            r.service_account,
            ib::ANNOTATION,
            others.join(" ")
        ));
    }
    next.push(format!(
        "the app must opt in to the token proxy: {}",
        ib::SDK_OPT_IN
    ));
    let target = patched
        .first()
        .cloned()
        .unwrap_or_else(|| format!("sa/{}", r.service_account));
    next.push(format!(
        "check the binding: `kubectl azwi doctor {target} -n {ns}`"
    ));
    next
}
