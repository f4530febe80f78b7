//! `kubectl azwi bind`: the walkthrough in one idempotent command, in three steps. `read`
//! gathers and validates everything first (concurrent waves; bad input stops here, exit 2,
//! nothing written), `plan` turns the facts into steps with their exact bodies (pure: a dry run
//! prints it), and `apply` writes them, Azure first, so a refused permission leaves the cluster
//! untouched.

mod app;
mod apply;
mod identity_binding;
mod issuer;
mod plan;
mod read;

use serde::Serialize;

pub(crate) use app::{AppSummary, app_credential, find_app, not_found as app_not_found};
pub(crate) use issuer::{IssuerQuery, aks_cluster_by_server as aks_by_server, find_issuer};
pub(crate) use read::{forbidden, resolve_identity, summary, validate_workload};

use crate::{
    Error,
    cli::BindArgs,
    ctx::Ctx,
    wi::{
        keys,
        plan::{Action, Step, StepKind},
    },
};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BindReport {
    pub dry_run: bool,
    pub namespace: String,
    pub service_account: String,
    pub issuer: IssuerReport,
    pub identity: IdentitySummary,
    /// With `--app`: the Entra application behind `identity` (src/cmd/bind/app.rs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<app::AppSummary>,
    pub steps: Vec<Step>,
    pub warnings: Vec<String>,
    pub next: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuerReport {
    pub value: String,
    pub source: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The AKS cluster behind the kube context or `--cluster`, when one was found.
    #[serde(skip)]
    pub aks: Option<issuer::AksCluster>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySummary {
    pub name: String,
    pub resource_group: String,
    pub id: String,
    pub client_id: Option<String>,
    pub principal_id: Option<String>,
    pub tenant_id: Option<String>,
}

pub async fn run(ctx: &Ctx, args: &BindArgs) -> Result<BindReport, Error> {
    if args.app.is_some() {
        let (mut report, sa_users) = app::run(ctx, args).await?;
        report.next = next_steps(&report, &sa_users);
        return Ok(report);
    }
    if args.identity_binding {
        return identity_binding::run(ctx, args).await;
    }
    let input = read::check(ctx, args)?;
    let (az, facts) = read::gather(ctx, args, &input).await?;
    let mut report = plan::plan(&input, args, &facts)?;
    if !args.dry_run {
        apply::apply(ctx, &az, &mut report, &input, &facts).await?;
    }
    report.next = next_steps(&report, &facts.sa_users);
    Ok(report)
}

/// `kubectl rollout status` for each written workload whose pods the change rolls (a Job or
/// CronJob takes it at its next run: nothing to watch).
fn rollout_hints(r: &BindReport) -> Vec<String> {
    r.steps
        .iter()
        .filter(|s| s.kind == StepKind::Workload && s.action.writes())
        .filter(|s| s.detail.contains("rolls the pods"))
        .map(|s| {
            format!(
                "watch {} roll: `kubectl rollout status {} -n {}`",
                s.target, s.target, r.namespace
            )
        })
        .collect()
}

/// What to do next, each a command that works as printed.
pub(crate) fn next_steps(r: &BindReport, sa_users: &[read::SaUser]) -> Vec<String> {
    let ns = &r.namespace;
    let mut next = Vec::new();
    let writes = |kind| r.steps.iter().any(|s| s.kind == kind && s.action.writes());
    if writes(StepKind::FederatedCredential) {
        next.push("a new federated credential can take a minute or two to propagate: a token exchange may fail with AADSTS70021 meanwhile".into());
    }
    let patched: Vec<&Step> = r
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Workload && s.action.writes())
        .collect();
    next.extend(rollout_hints(r));
    let sa_changed = r
        .steps
        .iter()
        .any(|s| s.kind == StepKind::ServiceAccount && s.action == Action::Update);
    // Pods already running as the ServiceAccount keep what the webhook gave them at creation.
    if sa_changed {
        let patched_targets: Vec<&str> = patched.iter().map(|s| s.target.as_str()).collect();
        let restart: Vec<String> = sa_users
            .iter()
            .filter(|u| u.labelled)
            .map(|u| &u.owner)
            .filter(|t| !patched_targets.contains(&t.to_string().as_str()))
            .map(|t| match t.kind {
                crate::wi::target::Kind::Pod => format!("pod {t}: delete and create it again"),
                _ => format!("`kubectl rollout restart {t} -n {ns}`"),
            })
            .collect();
        if !restart.is_empty() {
            next.push(format!(
                "pods already running as {ns}/{} keep their old settings (the webhook changes pods only when they are created): {}",
                r.service_account,
                restart.join("; ")
            ));
        }
    }
    let unlabelled = sa_users.iter().any(|u| !u.labelled);
    let no_workload = !r.steps.iter().any(|s| s.kind == StepKind::Workload);
    if no_workload && (unlabelled || sa_users.is_empty()) {
        let known = sa_users
            .iter()
            .filter(|u| !u.labelled && u.owner.kind != crate::wi::target::Kind::Pod)
            .map(|u| format!("--workload {}", u.owner))
            .collect::<Vec<_>>();
        next.push(if known.is_empty() {
            format!(
                "give the pods that should use this identity the label {}: \"true\" and serviceAccountName: {} in their pod template, or re-run this command with --workload KIND/NAME for each workload",
                keys::USE_LABEL,
                r.service_account
            )
        } else {
            format!(
                "label the pod templates of the workloads running as {}: re-run this command with {}",
                r.service_account,
                known.join(" ")
            )
        });
    }
    let doctor_target = patched
        .first()
        .map(|s| s.target.clone())
        .unwrap_or_else(|| format!("sa/{}", r.service_account));
    next.push(format!(
        "check the binding: `kubectl azwi doctor {doctor_target} -n {ns}`"
    ));
    next
}
