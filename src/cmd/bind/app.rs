//! `bind --app`: the binding on an Entra application (app registration) instead of a managed
//! identity, through Microsoft Graph. Same three steps as the identity mode: read (the cluster
//! facts of `read`, then the application, its service principal and credentials), plan (pure
//! rules in `wi::app_plan`) and apply (Graph and roles first, the cluster last).

use std::time::Duration;

use k8s_openapi::api::core::v1::ServiceAccount;
use serde::Serialize;
use serde_json::json;

use super::{
    BindReport, IdentitySummary,
    apply::{self, Role},
    issuer,
    plan::{role_steps, service_account_step, workload_steps},
    read::{self, Checked, ClusterFacts, RoleFact, SaUser, WorkloadFacts},
};
use crate::{
    Error,
    azure::{
        AzureError,
        graph::{Application, Fic, Graph, ServicePrincipal},
    },
    cli::BindArgs,
    ctx::{AzureCtx, Ctx},
    error::InputError,
    wi::{
        app_plan::{self, AppCredential, AppOp, AppRef, AppRow, Binding},
        credential::Wanted,
        keys, names,
        plan::{Action, CredentialRefusal, Op, Step, StepKind},
    },
};

/// The application behind an app-backed binding, as the report shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSummary {
    pub display_name: String,
    pub app_id: Option<String>,
    pub object_id: Option<String>,
    pub service_principal_id: Option<String>,
}

impl From<&AppRow> for AppSummary {
    fn from(a: &AppRow) -> AppSummary {
        AppSummary {
            display_name: a.display_name.clone(),
            app_id: Some(a.app_id.clone()),
            object_id: Some(a.object_id.clone()),
            service_principal_id: None,
        }
    }
}

fn row(a: Application) -> AppRow {
    AppRow {
        object_id: a.id,
        app_id: a.app_id,
        display_name: a.display_name,
    }
}

/// The application `r` names: by client id or object id (both tried), or by display name when
/// exactly one application has it.
pub(crate) async fn find_app(graph: &Graph, r: &AppRef) -> Result<Option<AppRow>, Error> {
    let found: Vec<AppRow> = match r {
        AppRef::Guid(id) => {
            let (by_app_id, by_object_id) =
                tokio::join!(graph.application_by_app_id(id), graph.application(id));
            [by_app_id?, by_object_id?]
                .into_iter()
                .flatten()
                .map(row)
                .collect()
        }
        AppRef::Name(n) => graph
            .applications_named(n)
            .await?
            .into_iter()
            .map(row)
            .collect(),
    };
    Ok(app_plan::pick(r, found)?)
}

/// The refusal for a name that finds no application, with the way to create it.
pub(crate) fn not_found(r: &AppRef) -> Error {
    let (value, hint) = match r {
        AppRef::Guid(id) => (
            id.as_str(),
            format!(
                "no application has this client id or object id in the tenant: check it (`az ad app show --id {id}`)"
            ),
        ),
        AppRef::Name(n) => (
            n.as_str(),
            format!(
                "add --create-app to create it with its service principal, or check the name (`az ad app list --display-name '{n}' -o table`)"
            ),
        ),
    };
    InputError::new("application", value, "an Entra application in the tenant")
        .with_hint(hint)
        .into()
}

/// Everything the plan needs, read.
struct Facts {
    sa: Option<ServiceAccount>,
    cluster: ClusterFacts,
    workloads: Vec<WorkloadFacts>,
    issuer: super::IssuerReport,
    app: Option<AppRow>,
    sp: Option<ServicePrincipal>,
    credentials: Vec<AppCredential>,
    roles: Vec<RoleFact>,
}

pub(crate) fn app_credential(f: Fic) -> AppCredential {
    AppCredential {
        credential: f.credential(),
        id: f.id,
        description: f.description,
    }
}

async fn gather(
    ctx: &Ctx,
    args: &BindArgs,
    c: &Checked,
    r: &AppRef,
) -> Result<(AzureCtx, Facts, Vec<SaUser>), Error> {
    let (az, sa, cluster, workloads) = read::wave_one(ctx, c).await?;
    let query = read::issuer_query(args, c, sa.is_some());
    let (app, issuer, sa_users) = tokio::join!(
        find_app(&az.graph, r),
        issuer::find_issuer(ctx, Some(&az), query),
        async {
            match &sa {
                Some(_) => read::sa_users(&ctx.kube, &c.ns, &c.sa).await,
                None => Vec::new(),
            }
        },
    );
    let (app, issuer) = (app?, issuer?);
    if app.is_none() && !args.create_app {
        return Err(not_found(r));
    }
    let sp = async {
        match &app {
            Some(a) => az.graph.service_principal_by_app_id(&a.app_id).await,
            None => Ok(None),
        }
    };
    let creds = async {
        match &app {
            Some(a) => az.graph.credentials(&a.object_id).await,
            None => Ok(Vec::new()),
        }
    };
    let (sp, creds, served) = tokio::join!(sp, creds, issuer::check_served(&issuer));
    served?;
    let sp = sp?;
    let roles = read::role_facts(&az, args, sp.as_ref().map(|s| s.id.as_str())).await?;
    let facts = Facts {
        sa,
        cluster,
        workloads,
        issuer,
        app,
        sp,
        credentials: creds?.into_iter().map(app_credential).collect(),
        roles,
    };
    Ok((az, facts, sa_users))
}

const NEW_APP_ID: &str = "<client id of the new application>";

/// The application and service principal steps, and the identity they amount to.
fn app_steps(
    name: &str,
    f: &Facts,
    warnings: &mut Vec<String>,
) -> (IdentitySummary, AppSummary, Vec<Step>) {
    let mut steps = Vec::new();
    let summary = match &f.app {
        Some(a) => {
            steps.push(Step::noop(
                StepKind::Application,
                Action::Unchanged,
                format!("application {}", a.display_name),
                format!("client id {}, object id {}", a.app_id, a.object_id),
            ));
            AppSummary::from(a)
        }
        None => {
            steps.push(Step {
                kind: StepKind::Application,
                action: Action::Create,
                target: format!("application {name}"),
                detail: "app registration (single tenant)".into(),
                body: Some(json!({"displayName": name})),
                op: Some(Op::App(AppOp::CreateApplication {
                    display_name: name.into(),
                })),
            });
            AppSummary {
                display_name: name.into(),
                app_id: None,
                object_id: None,
                service_principal_id: None,
            }
        }
    };
    let app_id = summary.app_id.clone();
    match &f.sp {
        Some(sp) => {
            steps.push(Step::noop(
                StepKind::ServicePrincipal,
                Action::Unchanged,
                format!("service principal {}", sp.id),
                format!("of client id {}", sp.app_id),
            ));
            if !sp.account_enabled {
                warnings.push(format!("service principal {} is disabled: Entra refuses its tokens (AADSTS7000112); enable it: `az ad sp update --id {} --set accountEnabled=true`", sp.id, sp.id));
            }
        }
        None => steps.push(Step {
            kind: StepKind::ServicePrincipal,
            action: Action::Create,
            target: "service principal".into(),
            detail: "without one Entra knows no such application in the tenant (AADSTS700016)"
                .into(),
            body: Some(sp_body(app_id.as_deref().unwrap_or(NEW_APP_ID))),
            op: Some(Op::App(AppOp::CreateServicePrincipal)),
        }),
    }
    let identity = IdentitySummary {
        name: summary.display_name.clone(),
        resource_group: String::new(),
        id: summary.object_id.clone().unwrap_or_default(),
        client_id: app_id,
        principal_id: f.sp.as_ref().map(|s| s.id.clone()),
        tenant_id: f
            .sp
            .as_ref()
            .and_then(|s| s.app_owner_organization_id.clone()),
    };
    let summary = AppSummary {
        service_principal_id: identity.principal_id.clone(),
        ..summary
    };
    (identity, summary, steps)
}

fn sp_body(app_id: &str) -> serde_json::Value {
    json!({"appId": app_id, "tags": ["kubectl-azwi"]})
}

/// A credential bind must not write, as one line with the fix.
fn refusal(app: &AppSummary, name: &str, r: CredentialRefusal) -> Error {
    let id = app.app_id.as_deref().unwrap_or_default();
    match r {
        CredentialRefusal::Full(listed) => InputError::new(
            "application",
            &app.display_name,
            format!("an application with room for a federated credential (it holds Graph's maximum of {})", keys::MAX_FEDERATED_CREDENTIALS),
        )
        .with_hint(format!("delete one you no longer need (`az ad app federated-credential delete --id {id} --federated-credential-id NAME`), or use another application; it holds: {}", listed.join("; "))),
        CredentialRefusal::NameTaken(c) => InputError::new(
            "credential name",
            name,
            format!("a name no other binding on application {} uses", app.display_name),
        )
        .with_hint(format!("{} is another binding's (Graph would answer 409 Request_MultipleObjectsWithSameKeyValue): pass --credential-name with a name of your own", c.describe())),
    }
    .into()
}

fn plan(c: &Checked, args: &BindArgs, r: &AppRef, f: &Facts) -> Result<BindReport, Error> {
    let ns = c.ns.as_str();
    let subject = names::subject(ns, &c.sa);
    let want = Wanted {
        issuer: f.issuer.value.clone(),
        subject: subject.clone(),
        audience: keys::AUDIENCE.into(),
    };
    let default_name = names::credential_name(&f.issuer.value, ns, &c.sa);
    let cred_name = args.credential_name.as_deref().unwrap_or(&default_name);
    let asked = match r {
        AppRef::Name(n) => n.as_str(),
        AppRef::Guid(g) => g.as_str(),
    };
    let mut warnings = Vec::new();
    let (identity, summary, mut steps) = app_steps(asked, f, &mut warnings);
    let binding = Binding {
        app: &summary.display_name,
        namespace: ns,
        service_account: &c.sa,
        want: &want,
    };
    let cred = app_plan::credential_step(&binding, &f.credentials, cred_name)
        .map_err(|e| refusal(&summary, cred_name, e))?;
    steps.push(cred);
    steps.extend(role_steps(&identity, &f.roles, &subject));
    steps.push(service_account_step(
        c,
        f.sa.as_ref(),
        &f.cluster,
        &identity,
    ));
    steps.extend(workload_steps(c, &f.workloads));
    warnings.extend(f.cluster.injection.warning(ns, f.issuer.aks.as_ref()));
    Ok(BindReport {
        dry_run: args.dry_run,
        namespace: ns.to_string(),
        service_account: c.sa.clone(),
        issuer: f.issuer.clone(),
        identity,
        application: Some(summary),
        steps,
        warnings,
        next: Vec::new(),
    })
}

/// Graph is eventually consistent: an application created a moment ago may not be found yet
/// by the next write (404, or 400 "does not reference a valid application object"). Retried
/// only after bind created it, for at most ~30 s.
async fn fresh_retry<T, F, Fut>(fresh: bool, what: &str, mut call: F) -> Result<T, AzureError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AzureError>>,
{
    let mut wait = Duration::from_secs(1);
    let mut waited = Duration::ZERO;
    loop {
        match call().await {
            Err(e) if fresh && waited < Duration::from_secs(30) && not_replicated(&e) => {
                tracing::info!(%e, "{what}: the new application has not replicated yet");
                tokio::time::sleep(wait).await;
                waited += wait;
                wait = (wait * 2).min(Duration::from_secs(8));
            }
            other => return other,
        }
    }
}

fn not_replicated(e: &AzureError) -> bool {
    match e {
        AzureError::Graph {
            status, message, ..
        } => *status == 404 || (*status == 400 && message.contains("valid application object")),
        _ => false,
    }
}

/// Graph and Authorization writes, in plan order: application, service principal, credential,
/// roles (a new service principal's object id is known only once it exists).
async fn azure(az: &AzureCtx, report: &mut BindReport) -> Result<(), Error> {
    let subject = names::subject(&report.namespace, &report.service_account);
    let (mut app_created, mut sp_created) = (false, false);
    for i in 0..report.steps.len() {
        if !report.steps[i].action.writes() {
            continue;
        }
        let object_id = report.identity.id.clone();
        let app_id = report.identity.client_id.clone().unwrap_or_default();
        match report.steps[i].op.clone() {
            Some(Op::App(AppOp::CreateApplication { display_name })) => {
                let a = az.graph.create_application(&display_name).await?;
                report.steps[i].detail = format!("client id {}, object id {}", a.app_id, a.id);
                report.identity.client_id = Some(a.app_id.clone());
                report.identity.id = a.id.clone();
                report.application = Some(AppSummary::from(&row(a)));
                app_created = true;
            }
            Some(Op::App(AppOp::CreateServicePrincipal)) => {
                let sp = fresh_retry(app_created, "create service principal", || {
                    az.graph.create_service_principal(&app_id)
                })
                .await?;
                let step = &mut report.steps[i];
                step.target = format!("service principal {}", sp.id);
                step.body = Some(sp_body(&app_id));
                report.identity.principal_id = Some(sp.id.clone());
                report.identity.tenant_id = sp.app_owner_organization_id.clone();
                if let Some(a) = report.application.as_mut() {
                    a.service_principal_id = Some(sp.id);
                }
                sp_created = true;
            }
            Some(Op::App(AppOp::CreateCredential)) => {
                let fic: Fic = serde_json::from_value(report.steps[i].body.clone().expect("body"))
                    .expect("credential body");
                fresh_retry(app_created, "create federated credential", || {
                    az.graph.create_credential(&object_id, &fic)
                })
                .await?;
            }
            Some(Op::App(AppOp::UpdateCredential { id })) => {
                let body = report.steps[i].body.clone().expect("body");
                az.graph.update_credential(&object_id, &id, &body).await?;
            }
            Some(Op::AssignRole {
                scope,
                role_definition_id,
            }) => {
                let principal = report.identity.principal_id.clone().expect("SP by now");
                let role = Role {
                    scope: &scope,
                    definition: &role_definition_id,
                    subject: &subject,
                };
                apply::assign_role(az, &role, &principal, sp_created, &mut report.steps[i]).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

pub(super) async fn run(ctx: &Ctx, args: &BindArgs) -> Result<(BindReport, Vec<SaUser>), Error> {
    let c = read::check(ctx, args)?;
    let r = AppRef::parse(args.app.as_deref().expect("--app"))?;
    if let (AppRef::Guid(g), true) = (&r, args.create_app) {
        return Err(InputError::new(
            "application",
            g,
            "a display name with --create-app (a client or object id names an application that exists)",
        )
        .with_hint("pass the display name to create, or leave out --create-app to bind the application with this id")
        .into());
    }
    let (az, f, sa_users) = gather(ctx, args, &c, &r).await?;
    let mut report = plan(&c, args, &r, &f)?;
    if !args.dry_run {
        azure(&az, &mut report).await?;
        apply::cluster(ctx, &mut report, &c, f.sa.as_ref(), &f.cluster).await?;
    }
    Ok((report, sa_users))
}
