//! Bind's apply step: each planned write, by its own `Op`, in order: the identity, its
//! credential and roles (Azure), then the ServiceAccount and the workloads (the cluster).

use std::time::Duration;

use k8s_openapi::api::core::v1::ServiceAccount;

use super::{
    BindReport,
    plan::service_account_step,
    read::{Checked, ClusterFacts, Facts},
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
                let role = Role {
                    scope: &scope,
                    definition: &role_definition_id,
                    subject: &subject,
                };
                assign_role(
                    az,
                    &role,
                    &principal,
                    identity_created,
                    &mut report.steps[i],
                )
                .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// One `--role` at its scope, for the binding's subject.
pub(super) struct Role<'a> {
    pub scope: &'a str,
    pub definition: &'a str,
    pub subject: &'a str,
}

/// Assigns `role` to `principal`, and records what was sent on its step. A brand-new principal
/// (a created identity or service principal) takes a while to replicate to Authorization, which
/// answers PrincipalNotFound meanwhile: wait for it, boundedly.
pub(super) async fn assign_role(
    az: &AzureCtx,
    role: &Role<'_>,
    principal: &str,
    fresh: bool,
    step: &mut Step,
) -> Result<(), Error> {
    let name = authz::assignment_name(role.scope, role.definition, principal);
    let body = AssignmentBody::for_bind(role.definition, principal, role.subject);
    let patience = Duration::from_secs(if fresh { 120 } else { 30 });
    az.arm
        .put_assignment(role.scope, &name, &body, patience)
        .await?;
    step.body = Some(serde_json::to_value(&body).expect("JSON body"));
    step.detail = format!("for principal {principal} (assignment {name})");
    Ok(())
}

/// The cluster, now that Azure holds the credential.
pub(super) async fn cluster(
    ctx: &Ctx,
    report: &mut BindReport,
    c: &Checked,
    sa: Option<&ServiceAccount>,
    facts: &ClusterFacts,
) -> Result<(), Error> {
    let k = &ctx.kube;
    let ns = report.namespace.clone();
    for i in 0..report.steps.len() {
        if !report.steps[i].action.writes() {
            continue;
        }
        match report.steps[i].op.clone() {
            Some(Op::ServiceAccount) => {
                // Recomputed: a new identity's client id and tenant are only known now.
                let fresh: Step = service_account_step(c, sa, facts, &report.identity);
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
    cluster(ctx, report, c, f.sa.as_ref(), &f.cluster).await
}
