//! Bind's plan step, pure: the facts read become the steps a real run takes, each with the
//! exact body it writes and its own data (`Op`), so apply never pairs one list with another.

use k8s_openapi::api::core::v1::ServiceAccount;

use super::{
    BindReport, IdentitySummary,
    read::{Checked, ClusterFacts, Facts, RoleFact, WorkloadFacts},
    summary,
};
use crate::{
    Error,
    azure::authz::AssignmentBody,
    cli::BindArgs,
    error::InputError,
    wi::{
        credential::Wanted,
        keys, names,
        plan::{self, Action, CredentialRefusal, Op, Step, StepKind, WorkloadPlan},
    },
};

/// The identity as the plan knows it, and its step.
fn identity_step(f: &Facts, args: &BindArgs) -> (IdentitySummary, Step) {
    match &f.identity {
        Ok(i) => {
            let s = summary(i);
            let step = Step::noop(
                StepKind::Identity,
                Action::Unchanged,
                format!("identity {}", s.name),
                format!("client id {}", s.client_id.as_deref().unwrap_or("")),
            );
            (s, step)
        }
        Err(id) => {
            let location = args.location.clone().unwrap_or_default();
            let step = Step {
                kind: StepKind::Identity,
                action: Action::Create,
                target: format!("identity {}", id.name),
                detail: format!("in resource group {} ({location})", id.resource_group),
                body: Some(serde_json::json!({ "location": location })),
                op: Some(Op::CreateIdentity { location }),
            };
            let s = IdentitySummary {
                name: id.name.clone(),
                resource_group: id.resource_group.clone(),
                id: id.path(),
                client_id: None,
                principal_id: None,
                tenant_id: None,
            };
            (s, step)
        }
    }
}

/// The credential step, or why bind must not write one.
fn credential_step(
    identity: &str,
    f: &Facts,
    want: &Wanted,
    name: &str,
    default_name: Option<&str>,
) -> Result<Step, Error> {
    plan::credential_step(identity, &f.credentials, want, name).map_err(|refusal| {
        match refusal {
            CredentialRefusal::Full(listed) => InputError::new(
                "identity",
                identity,
                format!("an identity with room for a federated credential (it holds the maximum of {})", keys::MAX_FEDERATED_CREDENTIALS),
            )
            .with_hint(format!("delete one you no longer need (`az identity federated-credential delete`), or use another identity; it holds: {}", listed.join("; "))),
            CredentialRefusal::NameTaken(c) => {
                let instead = match default_name {
                    Some(d) if !d.eq_ignore_ascii_case(name) => {
                        format!("pass another --credential-name, or leave it out to use '{d}'")
                    }
                    _ => "pass --credential-name with a name of your own".into(),
                };
                InputError::new(
                    "credential name",
                    name,
                    format!("a name no other binding on identity {identity} uses"),
                )
                .with_hint(format!(
                    "{} is another binding's: writing this one under its name would replace it; {instead}",
                    c.describe()
                ))
            }
        }
        .into()
    })
}

/// One step per role at the scope, each carrying its own role and scope.
pub(super) fn role_steps(
    identity: &IdentitySummary,
    roles: &[RoleFact],
    subject: &str,
) -> Vec<Step> {
    roles
        .iter()
        .map(|r| {
            let action = if r.assigned {
                Action::Unchanged
            } else {
                Action::Create
            };
            Step {
                kind: StepKind::RoleAssignment,
                action,
                target: format!(
                    "role '{}' on {}",
                    r.definition.properties.role_name, r.scope
                ),
                detail: format!(
                    "for principal {}",
                    identity.principal_id.as_deref().unwrap_or("<new identity>")
                ),
                body: identity
                    .principal_id
                    .as_deref()
                    .filter(|_| action == Action::Create)
                    .map(|p| {
                        serde_json::to_value(AssignmentBody::for_bind(&r.definition.id, p, subject))
                            .expect("JSON body")
                    }),
                op: Some(Op::AssignRole {
                    scope: r.scope.clone(),
                    role_definition_id: r.definition.id.clone(),
                }),
            }
        })
        .collect()
}

/// The ServiceAccount step for `identity` (recomputed at apply for a new identity).
pub(super) fn service_account_step(
    c: &Checked,
    sa: Option<&ServiceAccount>,
    cluster: &ClusterFacts,
    identity: &IdentitySummary,
) -> Step {
    let current = sa.map(|s| s.metadata.annotations.clone().unwrap_or_default());
    let tenant = plan::tenant_annotation(
        identity.tenant_id.as_deref(),
        cluster.webhook_tenant.as_deref(),
        current
            .as_ref()
            .and_then(|a| a.get(keys::TENANT_ID_ANNOTATION))
            .map(String::as_str),
    );
    let client_id = identity
        .client_id
        .clone()
        .unwrap_or_else(|| "<client id of the new identity>".into());
    plan::service_account_step(
        &c.ns,
        &c.sa,
        current.as_ref(),
        &plan::owned_annotations(&client_id, tenant, c.expiration),
    )
}

/// One step per `--workload`: its pod template labelled and pointed at the ServiceAccount.
pub(super) fn workload_steps(c: &Checked, workloads: &[WorkloadFacts]) -> Vec<Step> {
    workloads
        .iter()
        .map(|w| {
            let template = plan::template_path(w.target.kind)
                .iter()
                .try_fold(&w.obj, |v, k| v.get(*k));
            plan::workload_step(
                &WorkloadPlan {
                    target: &w.target,
                    namespace: &c.ns,
                    template,
                    rollout: &w.rollout,
                },
                &c.sa,
                true,
            )
        })
        .collect()
}

pub(super) fn plan(c: &Checked, args: &BindArgs, f: &Facts) -> Result<BindReport, Error> {
    let ns = c.ns.as_str();
    let subject = names::subject(ns, &c.sa);
    let want = Wanted {
        issuer: f.issuer.value.clone(),
        subject: subject.clone(),
        audience: keys::AUDIENCE.into(),
    };
    let default_name = names::credential_name(&f.issuer.value, ns, &c.sa);
    let cred_name = args.credential_name.as_deref().unwrap_or(&default_name);
    let (identity, identity_step) = identity_step(f, args);
    let mut steps = vec![identity_step];
    steps.push(credential_step(
        &identity.name,
        f,
        &want,
        cred_name,
        args.credential_name.as_ref().map(|_| default_name.as_str()),
    )?);
    steps.extend(role_steps(&identity, &f.roles, &subject));
    steps.push(service_account_step(
        c,
        f.sa.as_ref(),
        &f.cluster,
        &identity,
    ));
    steps.extend(workload_steps(c, &f.workloads));
    Ok(BindReport {
        dry_run: args.dry_run,
        namespace: ns.to_string(),
        service_account: c.sa.clone(),
        issuer: f.issuer.clone(),
        identity,
        application: None,
        steps,
        warnings: f
            .cluster
            .injection
            .warning(ns, f.issuer.aks.as_ref())
            .into_iter()
            .collect(),
        next: Vec::new(),
    })
}
