//! `kubectl azwi unbind`: removes what bind made — the matching federated credential, the
//! annotations bind owns and, with `--workload`, the label — and nothing else. Idempotent.

use serde::Serialize;

use super::bind::{
    IdentitySummary, IssuerQuery, IssuerReport, find_issuer, forbidden, resolve_identity, summary,
};
use crate::{
    Error,
    cli::UnbindArgs,
    ctx::Ctx,
    error::InputError,
    wi::{
        credential::Wanted,
        identity::{self, IdentityRef},
        issuer, keys, names,
        plan::{self, Action, Step, StepKind},
        target::Target,
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
    pub steps: Vec<Step>,
    pub warnings: Vec<String>,
}

pub async fn run(ctx: &Ctx, args: &UnbindArgs) -> Result<UnbindReport, Error> {
    let k = &ctx.kube;
    let ns = k.namespace.clone();
    let sa_name = names::object_name("service account name", &args.service_account)?;
    let given = args
        .identity
        .as_deref()
        .map(IdentityRef::parse)
        .transpose()?;
    let rg = args
        .resource_group
        .as_deref()
        .map(identity::resource_group)
        .transpose()?;
    let workloads: Vec<Target> = args
        .workload
        .iter()
        .map(|w| Target::parse_workload(w))
        .collect::<Result<_, _>>()?;
    let issuer_flag = args.issuer.as_deref().map(issuer::parse).transpose()?;
    if matches!(given, Some(IdentityRef::Name { .. })) && rg.is_none() {
        return Err(InputError::new(
            "identity",
            args.identity.as_deref().unwrap_or_default(),
            "a client id or resource id, or a name with -g",
        )
        .into());
    }

    let workload_gets =
        futures::future::join_all(workloads.iter().map(|w| k.workload(&ns, w.kind, &w.name)));
    let (az, sa, objs, can_patch) = tokio::join!(
        ctx.azure(),
        k.service_account(&ns, &sa_name),
        workload_gets,
        k.can_i("patch", "", "serviceaccounts", &ns)
    );
    let az = az?;
    let sa = sa?;
    let objs: Vec<_> = objs.into_iter().collect::<Result<_, _>>()?;
    if sa.is_some() && !can_patch? {
        return Err(forbidden("patch", "serviceaccounts", &ns));
    }
    let annotations = sa
        .as_ref()
        .map(|s| s.metadata.annotations.clone().unwrap_or_default());
    // Without --identity, the identity is the one the ServiceAccount names.
    let identity_ref = match given {
        Some(r) => Some(r),
        None => annotations
            .as_ref()
            .and_then(|a| a.get(keys::CLIENT_ID_ANNOTATION))
            .map(|c| IdentityRef::parse(c))
            .transpose()?,
    };
    let (identity, issuer) = tokio::join!(
        async {
            match &identity_ref {
                Some(r) => resolve_identity(&az, r, rg.as_deref()).await.map(Some),
                None => Ok(None),
            }
        },
        find_issuer(
            ctx,
            Some(&az),
            IssuerQuery {
                flag: issuer_flag.as_deref(),
                cluster: None,
                cluster_rg: None,
                ns: &ns,
                sa: &sa_name,
                sa_exists: sa.is_some()
            }
        )
    );
    let identity = identity?.and_then(|r| r.ok());
    let issuer = issuer?;
    let mut warnings = Vec::new();
    let mut steps = Vec::new();
    let want = Wanted {
        issuer: issuer.value.clone(),
        subject: names::subject(&ns, &sa_name),
        audience: keys::AUDIENCE.into(),
    };
    match &identity {
        Some(i) => {
            let creds = az.arm.credentials(&i.id).await?;
            steps.extend(plan::credential_unbind_steps(&i.name, &creds, &want));
            if args.delete_identity {
                steps.push(Step { kind: StepKind::Identity, action: Action::Delete, target: format!("identity {}", i.name), detail: format!("in resource group {}", i.resource_group().unwrap_or_default()), body: None });
            }
        }
        None => warnings.push("no identity found (none given, and the ServiceAccount names none that exists): no federated credential removed".into()),
    }
    let client_id = identity.as_ref().map(|i| i.properties.client_id.clone());
    steps.push(plan::service_account_unbind_step(
        &ns,
        &sa_name,
        annotations.as_ref(),
        client_id.as_deref(),
    ));
    for (w, obj) in workloads.iter().zip(&objs) {
        let Some(obj) = obj else {
            steps.push(Step {
                kind: StepKind::Workload,
                action: Action::Unchanged,
                target: w.to_string(),
                detail: "not found".into(),
                body: None,
            });
            continue;
        };
        let obj = serde_json::to_value(obj).unwrap_or_default();
        let template = plan::template_path(w.kind)
            .iter()
            .try_fold(&obj, |v, key| v.get(*key));
        steps.push(plan::workload_step(
            w.kind,
            &w.to_string(),
            template,
            &sa_name,
            false,
        ));
    }
    if !args.dry_run {
        for s in steps.iter().filter(|s| s.action.writes()) {
            match s.kind {
                StepKind::FederatedCredential => {
                    let i = identity.as_ref().expect("planned with an identity");
                    let name = s.target.rsplit(": ").next().unwrap_or_default();
                    az.arm.delete_credential(&i.id, name).await?;
                }
                StepKind::ServiceAccount => {
                    k.patch_service_account(&ns, &sa_name, s.body.as_ref().expect("patch"))
                        .await?;
                }
                StepKind::Workload => {
                    let t = Target::parse(&s.target).expect("planned target");
                    k.patch_workload(&ns, t.kind, &t.name, s.body.as_ref().expect("patch"))
                        .await?;
                }
                StepKind::Identity | StepKind::RoleAssignment => {}
            }
        }
        // Last, so a failure above leaves the identity for a re-run.
        if let (true, Some(i)) = (args.delete_identity, &identity) {
            az.arm.delete_identity(&i.id).await?;
        }
    }
    Ok(UnbindReport {
        dry_run: args.dry_run,
        namespace: ns,
        service_account: sa_name,
        issuer,
        identity: identity.as_ref().map(summary),
        steps,
        warnings,
    })
}
