//! Bind's apply step: each planned write, by its own `Op`, in order: the identity, its
//! credential and roles (Azure), then the ServiceAccount and the workloads (the cluster).

use std::time::Duration;

use super::{
    BindReport,
    plan::service_account_step,
    read::{Checked, Facts},
    summary,
};
use crate::{
    Error,
    azure::{
        authz::{self, AssignmentBody},
        msi::CredentialBody,
    },
    ctx::{AzureCtx, Ctx},
    wi::{
        names,
        plan::{Action, Op, Step},
    },
};

/// Azure: create the identity, put the credential, assign each role. A new identity's
/// principal is known only once it exists, so the roles come last.
async fn azure(az: &AzureCtx, report: &mut BindReport) -> Result<(), Error> {
    let mut identity_created = false;
    let subject = names::subject(&report.namespace, &report.service_account);
    for i in 0..report.steps.len() {
        let step = &report.steps[i];
        if !step.action.writes() {
            continue;
        }
        match step.op.clone() {
            Some(Op::CreateIdentity { location }) => {
                let created = az
                    .arm
                    .create_identity(&report.identity.id, &location)
                    .await?;
                report.identity = summary(&created);
                identity_created = true;
            }
            Some(Op::PutCredential { name }) => {
                let body: CredentialBody =
                    serde_json::from_value(step.body.clone().expect("credential body"))
                        .expect("credential body");
                az.arm
                    .put_credential(&report.identity.id, &name, &body)
                    .await?;
            }
            Some(Op::AssignRole {
                scope,
                role_definition_id,
            }) => {
                let principal = report
                    .identity
                    .principal_id
                    .clone()
                    .expect("the identity exists by now");
                let name = authz::assignment_name(&scope, &role_definition_id, &principal);
                let body = AssignmentBody::for_bind(&role_definition_id, &principal, &subject);
                // A brand-new principal takes a while to replicate to Authorization: wait for it.
                let patience = Duration::from_secs(if identity_created { 120 } else { 30 });
                az.arm
                    .put_assignment(&scope, &name, &body, patience)
                    .await?;
                let step = &mut report.steps[i];
                step.body = Some(serde_json::to_value(&body).expect("JSON body"));
                step.detail = format!("for principal {principal} (assignment {name})");
            }
            _ => {}
        }
    }
    Ok(())
}

/// The cluster, now that Azure holds the credential.
async fn cluster(ctx: &Ctx, report: &mut BindReport, c: &Checked, f: &Facts) -> Result<(), Error> {
    let k = &ctx.kube;
    let ns = report.namespace.clone();
    for i in 0..report.steps.len() {
        if !report.steps[i].action.writes() {
            continue;
        }
        match report.steps[i].op.clone() {
            Some(Op::ServiceAccount) => {
                // Recomputed: a new identity's client id and tenant are only known now.
                let fresh: Step = service_account_step(c, f, &report.identity);
                let body = fresh.body.as_ref();
                match fresh.action {
                    Action::Create => {
                        k.create_service_account(&ns, body.expect("body")).await?;
                    }
                    Action::Update => {
                        k.patch_service_account(&ns, &report.service_account, body.expect("body"))
                            .await?;
                    }
                    _ => {}
                }
                report.steps[i] = fresh;
            }
            Some(Op::Workload(target)) => {
                let patch = report.steps[i].body.as_ref().expect("patch");
                k.patch_workload(&ns, target.kind, &target.name, patch)
                    .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Executes the plan's writes in order: Azure first, so a refused permission leaves the
/// cluster untouched.
pub(super) async fn apply(
    ctx: &Ctx,
    az: &AzureCtx,
    report: &mut BindReport,
    c: &Checked,
    f: &Facts,
) -> Result<(), Error> {
    azure(az, report).await?;
    cluster(ctx, report, c, f).await
}
