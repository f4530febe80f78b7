//! `unbind --app`: undoes `bind --app` on an Entra application: the credential for this
//! ServiceAccount (Microsoft Graph), the role assignments bind made for the service principal
//! once nothing else relies on them, the annotations and labels; with `--delete-app` the service
//! principal and the application, refused while anything else still uses them.

use super::{
    bind::{AppSummary, app_credential, app_not_found, find_app},
    unbind::{self, Start, UnbindReport, find_unbind_issuer, role_target},
};
use crate::{
    Error,
    azure::{AzureError, authz::Assignment, graph::ServicePrincipal},
    cli::UnbindArgs,
    ctx::{AzureCtx, Ctx},
    error::InputError,
    wi::{
        app_plan::{self, AppCredential, AppOp, AppRef, AppRow},
        credential::{Credential, Wanted},
        keys, names,
        plan::{self, Action, Op, Step, StepKind},
    },
};

/// The service principal's role assignments, or why they could not be listed.
async fn assignments(
    az: &AzureCtx,
    sp: Option<&ServicePrincipal>,
) -> Result<Result<Vec<Assignment>, String>, Error> {
    let Some(sp) = sp else {
        return Ok(Ok(Vec::new()));
    };
    match az.arm.assignments_of(&az.subscription, &sp.id).await {
        Ok(a) => Ok(Ok(a)),
        Err(e @ AzureError::Arm { status: 403, .. }) => Ok(Err(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// The Graph and role steps for an application that exists.
async fn azure_steps(
    az: &AzureCtx,
    app: &AppRow,
    want: &Wanted,
    args: &UnbindArgs,
    warnings: &mut Vec<String>,
) -> Result<(Vec<Step>, Option<String>), Error> {
    let (creds, sp) = tokio::join!(
        az.graph.credentials(&app.object_id),
        az.graph.service_principal_by_app_id(&app.app_id),
    );
    let creds: Vec<AppCredential> = creds?.into_iter().map(app_credential).collect();
    let sp = sp?;
    let listed = assignments(az, sp.as_ref()).await?;
    let mut steps = app_plan::credential_unbind_steps(&app.display_name, &creds, want);
    let deleted: Vec<&str> = steps
        .iter()
        .filter_map(|s| match &s.op {
            Some(Op::App(AppOp::DeleteCredential { id })) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let others: Vec<&Credential> = creds
        .iter()
        .filter(|c| !deleted.contains(&c.id.as_str()))
        .map(|c| &c.credential)
        .collect();
    let all: &[Assignment] = match &listed {
        Ok(a) => a,
        Err(e) if args.delete_app => {
            return Err(InputError::new("--delete-app", &app.display_name, "an application whose role assignments can be listed")
                .with_hint(format!("listing the service principal's role assignments failed ({e}): without them it cannot be told whether anything still uses it; ask for Reader on the subscription, or leave out --delete-app"))
                .into());
        }
        Err(e) => {
            warnings.push(format!(
                "could not list the service principal's role assignments ({e}): none removed"
            ));
            &[]
        }
    };
    let (bind_made, own): (Vec<&Assignment>, Vec<&Assignment>) =
        all.iter().partition(|a| a.made_by_bind());
    let owner = format!("application {}", app.display_name);
    steps.extend(unbind::role_steps(
        &owner,
        &bind_made,
        &others,
        args.delete_app,
        warnings,
    ));
    if args.delete_app {
        let own: Vec<String> = own.iter().map(|a| role_target(a)).collect();
        let sp_id = sp.as_ref().map(|s| s.id.as_str());
        steps.extend(app_plan::delete_app_steps(app, sp_id, &others, &own)?);
    }
    Ok((steps, sp.map(|s| s.id)))
}

/// The Graph writes of `steps` that `phase` selects, in order.
async fn graph_writes(
    az: &AzureCtx,
    app: Option<&AppRow>,
    steps: &[Step],
    phase: fn(&AppOp) -> bool,
) -> Result<(), Error> {
    for s in steps.iter().filter(|s| s.action.writes()) {
        let Some(Op::App(op)) = &s.op else { continue };
        if !phase(op) {
            continue;
        }
        let object_id = app.map(|a| a.object_id.as_str()).unwrap_or_default();
        match op {
            AppOp::DeleteCredential { id } => {
                az.graph.delete_credential(object_id, id).await?;
            }
            AppOp::DeleteServicePrincipal { id } => {
                az.graph.delete_service_principal(id).await?;
            }
            AppOp::DeleteApplication { id } => {
                az.graph.delete_application(id).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

pub(super) async fn run(
    ctx: &Ctx,
    args: &UnbindArgs,
    r: &AppRef,
    start: Start,
) -> Result<UnbindReport, Error> {
    let Start {
        c,
        az,
        annotations,
        workload_steps,
    } = start;
    let ns = ctx.kube.namespace.clone();
    let (app, issuer) = tokio::join!(
        find_app(&az.graph, r),
        find_unbind_issuer(ctx, &az, &c, annotations.is_some()),
    );
    let (app, issuer) = (app?, issuer?);
    let want = Wanted {
        issuer: issuer.value.clone(),
        subject: names::subject(&ns, &c.sa),
        audience: keys::AUDIENCE.into(),
    };
    let mut warnings = Vec::new();
    let (mut steps, sp) = match &app {
        Some(a) => azure_steps(&az, a, &want, args, &mut warnings).await?,
        None if args.delete_app => return Err(app_not_found(r)),
        None => {
            warnings.push(format!(
                "no application {} in the tenant: no federated credential removed",
                args.app.as_deref().unwrap_or_default()
            ));
            (Vec::new(), None)
        }
    };
    // The annotations go only when they name this application (by client id).
    let client_id = match (&app, r) {
        (Some(a), _) => Some(a.app_id.as_str()),
        (None, AppRef::Guid(g)) => Some(g.as_str()),
        (None, AppRef::Name(_)) => None,
    };
    steps.push(match client_id {
        Some(id) => plan::service_account_unbind_step(&ns, &c.sa, annotations.as_ref(), Some(id)),
        None => Step::noop(
            StepKind::ServiceAccount,
            Action::Skipped,
            format!("serviceaccount {ns}/{}", c.sa),
            "the application's client id is unknown: left as is".into(),
        ),
    });
    steps.extend(workload_steps);
    if !args.dry_run {
        let app_ref = app.as_ref();
        graph_writes(&az, app_ref, &steps, |op| {
            matches!(op, AppOp::DeleteCredential { .. })
        })
        .await?;
        unbind::apply(ctx, &az, &ns, &c.sa, None, &steps).await?;
        // The principal and the application last, so a failure before leaves them for a re-run.
        graph_writes(&az, app_ref, &steps, |op| {
            matches!(
                op,
                AppOp::DeleteServicePrincipal { .. } | AppOp::DeleteApplication { .. }
            )
        })
        .await?;
    }
    let application = app.as_ref().map(|a| AppSummary {
        service_principal_id: sp,
        ..AppSummary::from(a)
    });
    Ok(UnbindReport {
        dry_run: args.dry_run,
        namespace: ns,
        service_account: c.sa,
        issuer,
        identity: None,
        application,
        steps,
        warnings,
    })
}
