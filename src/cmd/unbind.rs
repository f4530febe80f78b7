//! `kubectl azwi unbind`: removes what bind made (the matching federated credential, the role
//! assignments bind marked as its own, the annotations bind owns and, with `--workload`, the
//! label) and nothing else. Idempotent. `--delete-identity` refuses while the identity still
//! serves anything else, unless `--force`.

use serde::Serialize;
use serde_json::Value;

use super::bind::{
    IdentitySummary, IssuerQuery, IssuerReport, find_issuer, forbidden, resolve_identity, summary,
    validate_workload,
};
use crate::{
    Error,
    azure::{AzureError, authz::Assignment, msi::Identity},
    cli::UnbindArgs,
    ctx::{AzureCtx, Ctx},
    error::InputError,
    wi::{
        credential::{Credential, Wanted},
        identity::{self, IdentityRef},
        issuer, keys, names,
        plan::{self, Action, Op, Step, StepKind, WorkloadPlan},
        target::Target,
        workload::TemplateChange,
    },
};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnbindReport {
    pub dry_run: bool,
    pub namespace: String,
    pub service_account: String,
    pub issuer: IssuerReport,
    pub identity: Option<IdentitySummary>,
    /// With `--app`: the Entra application (src/cmd/unbind_app.rs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<super::bind::AppSummary>,
    pub steps: Vec<Step>,
    pub warnings: Vec<String>,
}

/// What Azure holds for the identity: its credentials and its role assignments.
struct Held {
    identity: Identity,
    credentials: Vec<Credential>,
    /// `Err`: they could not be listed (the note says why).
    assignments: Result<Vec<Assignment>, String>,
}

async fn held(az: &AzureCtx, identity: Identity) -> Result<Held, Error> {
    let (credentials, assignments) = tokio::join!(
        az.arm.credentials(&identity.id),
        az.arm
            .assignments_of(&az.subscription, &identity.properties.principal_id),
    );
    let assignments = match assignments {
        Ok(a) => Ok(a),
        Err(e @ AzureError::Arm { status: 403, .. }) => Err(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    Ok(Held {
        identity,
        credentials: credentials?,
        assignments,
    })
}

pub(crate) fn role_target(a: &Assignment) -> String {
    format!(
        "role assignment {} (role {} on {})",
        a.name,
        a.role_guid(),
        a.properties.scope.as_deref().unwrap_or("?")
    )
}

/// The Azure steps: the matching credentials; bind's own role assignments once nothing else on
/// the identity may rely on them; the identity itself with `--delete-identity`, refused while
/// it still serves anything else unless `--force`.
fn azure_steps(
    h: &Held,
    want: &Wanted,
    args: &UnbindArgs,
    warnings: &mut Vec<String>,
) -> Result<Vec<Step>, Error> {
    let i = &h.identity;
    let mut steps = plan::credential_unbind_steps(&i.name, &h.credentials, want);
    let deleted: Vec<&str> = steps
        .iter()
        .filter_map(|s| match &s.op {
            Some(Op::DeleteCredential { name }) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let others: Vec<&Credential> = h
        .credentials
        .iter()
        .filter(|c| !deleted.contains(&c.name.as_str()))
        .collect();
    let assignments: &[Assignment] = match &h.assignments {
        Ok(a) => a,
        Err(e) => {
            warnings.push(format!(
                "could not list the identity's role assignments ({e}): none removed"
            ));
            &[]
        }
    };
    let (bind_made, own): (Vec<&Assignment>, Vec<&Assignment>) =
        assignments.iter().partition(|a| a.made_by_bind());
    steps.extend(role_steps(
        &i.name,
        &bind_made,
        &others,
        args.delete_identity,
        warnings,
    ));
    if args.delete_identity {
        steps.push(delete_identity_step(
            i, &others, &own, args.force, warnings,
        )?);
    }
    Ok(steps)
}

/// Bind's own role assignments go once no other credential of the identity may rely on them
/// (or the identity itself goes).
pub(crate) fn role_steps(
    owner: &str,
    bind_made: &[&Assignment],
    others: &[&Credential],
    deleting: bool,
    warnings: &mut Vec<String>,
) -> Vec<Step> {
    if !others.is_empty() && !deleting {
        if !bind_made.is_empty() {
            warnings.push(format!(
                "kept {} role assignment(s) bind made: {} still has other federated credentials that may rely on them ({})",
                bind_made.len(),
                owner,
                others.iter().map(|c| c.describe()).collect::<Vec<_>>().join("; ")
            ));
        }
        return Vec::new();
    }
    bind_made
        .iter()
        .map(|a| Step {
            kind: StepKind::RoleAssignment,
            action: Action::Delete,
            target: role_target(a),
            detail: "made by bind".into(),
            body: None,
            op: Some(Op::DeleteRoleAssignment { id: a.id.clone() }),
        })
        .collect()
}

/// `--delete-identity`: refused, listing them, while the identity still serves anything else.
fn delete_identity_step(
    i: &Identity,
    others: &[&Credential],
    own: &[&Assignment],
    force: bool,
    warnings: &mut Vec<String>,
) -> Result<Step, Error> {
    let still: Vec<String> = others
        .iter()
        .map(|c| format!("federated credential {}", c.describe()))
        .chain(own.iter().map(|a| role_target(a)))
        .collect();
    if !still.is_empty() && !force {
        return Err(InputError::new(
            "--delete-identity",
            &i.name,
            "an identity nothing else uses",
        )
        .with_hint(format!(
            "identity {} still holds: {}; deleting it breaks them: unbind them first, or add --force to delete it anyway",
            i.name,
            still.join("; ")
        ))
        .into());
    }
    if !own.is_empty() {
        warnings.push(format!(
            "your own role assignments were left, now naming a deleted identity: {}",
            own.iter()
                .map(|a| role_target(a))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    Ok(Step {
        kind: StepKind::Identity,
        action: Action::Delete,
        target: format!("identity {}", i.name),
        detail: format!(
            "in resource group {}",
            i.resource_group().unwrap_or_default()
        ),
        body: None,
        op: Some(Op::DeleteIdentity { id: i.id.clone() }),
    })
}

/// The `--workload` steps: each label taken off, or why its template cannot change.
async fn workload_steps(
    ctx: &Ctx,
    ns: &str,
    sa: &str,
    targets: &[Target],
    objs: Vec<Option<Value>>,
) -> Result<Vec<Step>, Error> {
    let mut steps = Vec::new();
    for (t, obj) in targets.iter().zip(objs) {
        let Some(obj) = obj else {
            steps.push(Step::noop(
                StepKind::Workload,
                Action::Unchanged,
                t.to_string(),
                "not found".into(),
            ));
            continue;
        };
        let rollout = validate_workload(&ctx.kube, ns, TemplateChange::Unbind, t, &obj).await?;
        let template = plan::template_path(t.kind)
            .iter()
            .try_fold(&obj, |v, key| v.get(*key));
        steps.push(plan::workload_step(
            &WorkloadPlan {
                target: t,
                namespace: ns,
                template,
                rollout: &rollout,
            },
            sa,
            false,
        ));
    }
    Ok(steps)
}

pub(crate) async fn apply(
    ctx: &Ctx,
    az: &AzureCtx,
    ns: &str,
    sa: &str,
    identity: Option<&Identity>,
    steps: &[Step],
) -> Result<(), Error> {
    let k = &ctx.kube;
    // The identity last, so a failure before it leaves it for a re-run.
    let (last, first): (Vec<&Step>, Vec<&Step>) = steps
        .iter()
        .filter(|s| s.action.writes())
        .partition(|s| matches!(s.op, Some(Op::DeleteIdentity { .. })));
    for s in first.into_iter().chain(last) {
        match &s.op {
            Some(Op::DeleteCredential { name }) => {
                let i = identity.expect("planned with an identity");
                az.arm.delete_credential(&i.id, name).await?;
            }
            Some(Op::DeleteRoleAssignment { id }) => {
                az.arm.delete_assignment(id).await?;
            }
            Some(Op::ServiceAccount) => {
                k.patch_service_account(ns, sa, s.body.as_ref().expect("patch"))
                    .await?;
            }
            Some(Op::Workload(t)) => {
                k.patch_workload(ns, t.kind, &t.name, s.body.as_ref().expect("patch"))
                    .await?;
            }
            Some(Op::DeleteIdentity { id }) => {
                az.arm.delete_identity(id).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Inputs checked before any call.
pub(crate) struct Checked {
    pub sa: String,
    identity: Option<IdentityRef>,
    resource_group: Option<String>,
    workloads: Vec<Target>,
    issuer: Option<String>,
}

fn check(args: &UnbindArgs) -> Result<Checked, InputError> {
    Ok(Checked {
        sa: names::object_name("service account name", &args.service_account)?,
        identity: args
            .identity
            .as_deref()
            .map(IdentityRef::parse)
            .transpose()?,
        resource_group: args
            .resource_group
            .as_deref()
            .map(identity::resource_group)
            .transpose()?,
        workloads: args
            .workload
            .iter()
            .map(|w| Target::parse_workload(w))
            .collect::<Result<_, _>>()?,
        issuer: args.issuer.as_deref().map(issuer::parse).transpose()?,
    })
}

/// The issuer whose credential unbind removes: `--issuer`, else found like bind.
pub(crate) async fn find_unbind_issuer(
    ctx: &Ctx,
    az: &AzureCtx,
    c: &Checked,
    sa_exists: bool,
) -> Result<IssuerReport, Error> {
    let q = IssuerQuery {
        flag: c.issuer.as_deref(),
        cluster: None,
        cluster_rg: None,
        ns: &ctx.kube.namespace,
        sa: &c.sa,
        sa_exists,
        for_entra: false,
    };
    find_issuer(ctx, Some(az), q).await
}

/// The identity (given, or the one the ServiceAccount names) and the issuer, concurrently.
async fn identity_and_issuer(
    ctx: &Ctx,
    az: &AzureCtx,
    c: &Checked,
    annotations: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<(Option<Identity>, IssuerReport), Error> {
    let identity_ref = match &c.identity {
        Some(r) => Some(r.clone()),
        None => annotations
            .and_then(|a| a.get(keys::CLIENT_ID_ANNOTATION))
            .map(|c| IdentityRef::parse(c))
            .transpose()?,
    };
    let (identity, issuer) = tokio::join!(
        async {
            match &identity_ref {
                Some(r) => resolve_identity(az, r, c.resource_group.as_deref())
                    .await
                    .map(Some),
                None => Ok(None),
            }
        },
        find_unbind_issuer(ctx, az, c, annotations.is_some())
    );
    Ok((identity?.and_then(|r| r.ok()), issuer?))
}

/// What both modes start from: the input checked, the login, the ServiceAccount's annotations
/// and the `--workload` steps, read concurrently.
pub(crate) struct Start {
    pub c: Checked,
    pub az: AzureCtx,
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
    pub workload_steps: Vec<Step>,
}

pub(crate) async fn start(ctx: &Ctx, args: &UnbindArgs) -> Result<Start, Error> {
    let k = &ctx.kube;
    let ns = k.namespace.clone();
    let c = check(args)?;
    let workload_gets =
        futures::future::join_all(c.workloads.iter().map(|w| k.workload(&ns, w.kind, &w.name)));
    let (az, sa, objs, can_patch) = tokio::join!(
        ctx.azure(),
        k.service_account(&ns, &c.sa),
        workload_gets,
        k.can_i("patch", "", "serviceaccounts", &ns)
    );
    let az = az?;
    let sa = sa?;
    let objs: Vec<Option<Value>> = objs
        .into_iter()
        .map(|o| Ok(o?.map(|o| serde_json::to_value(o).unwrap_or_default())))
        .collect::<Result<_, Error>>()?;
    if sa.is_some() && !can_patch? {
        return Err(forbidden("patch", "serviceaccounts", &ns));
    }
    let workload_steps = workload_steps(ctx, &ns, &c.sa, &c.workloads, objs).await?;
    let annotations = sa
        .as_ref()
        .map(|s| s.metadata.annotations.clone().unwrap_or_default());
    Ok(Start {
        c,
        az,
        annotations,
        workload_steps,
    })
}

pub async fn run(ctx: &Ctx, args: &UnbindArgs) -> Result<UnbindReport, Error> {
    // Parsed before any call: a bad --app writes nothing and reads nothing.
    let app = args
        .app
        .as_deref()
        .map(crate::wi::app_plan::AppRef::parse)
        .transpose()?;
    let start = start(ctx, args).await?;
    if let Some(r) = app {
        return super::unbind_app::run(ctx, args, &r, start).await;
    }
    let Start {
        c,
        az,
        annotations,
        workload_steps,
    } = start;
    let ns = ctx.kube.namespace.clone();
    let (identity, issuer) = identity_and_issuer(ctx, &az, &c, annotations.as_ref()).await?;
    let mut warnings = Vec::new();
    let want = Wanted {
        issuer: issuer.value.clone(),
        subject: names::subject(&ns, &c.sa),
        audience: keys::AUDIENCE.into(),
    };
    let mut steps = match identity.clone() {
        Some(i) => azure_steps(&held(&az, i).await?, &want, args, &mut warnings)?,
        None => {
            warnings.push("no identity found (none given, and the ServiceAccount names none that exists): no federated credential removed".into());
            Vec::new()
        }
    };
    let client_id = identity.as_ref().map(|i| i.properties.client_id.clone());
    steps.push(plan::service_account_unbind_step(
        &ns,
        &c.sa,
        annotations.as_ref(),
        client_id.as_deref(),
    ));
    steps.extend(workload_steps);
    if !args.dry_run {
        apply(ctx, &az, &ns, &c.sa, identity.as_ref(), &steps).await?;
    }
    Ok(UnbindReport {
        dry_run: args.dry_run,
        namespace: ns,
        service_account: c.sa,
        issuer,
        identity: identity.as_ref().map(summary),
        application: None,
        steps,
        warnings,
    })
}
