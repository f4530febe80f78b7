//! Wave 1: what depends only on the input: the target, the webhooks and the namespace they
//! act on, FailedCreate events, the API server's issuer, the ServiceAccounts, Azure's login.

use super::*;

pub(super) enum TargetObj {
    Pod(Box<Fact<Pod>>),
    Workload(Box<Fact<DynamicObject>>),
    Sa,
}

/// What the target named, for wave 2: a workload's object and its pod selector.
#[derive(Default)]
pub(super) struct Named {
    pub(super) workload: Option<DynamicObject>,
    pub(super) pod_selector: Option<String>,
}

pub(super) type AzureLogin = Option<Result<crate::ctx::AzureCtx, AzureError>>;

/// Wave 1: everything that depends only on the input. A target that does not exist ends
/// here, as an error.
pub(super) async fn gather(
    ctx: &Ctx,
    ask: &Ask<'_>,
    f: &mut Facts,
    n: &Counters,
) -> Result<(Named, AzureLogin), Error> {
    let k = &ctx.kube;
    let ns = f.namespace.clone();
    let target_get = async {
        let t = ask.target?;
        n.kube();
        Some(match t.kind {
            Kind::Pod => TargetObj::Pod(Box::new(opt(k.pod(&ns, &t.name).await))),
            Kind::ServiceAccount => TargetObj::Sa,
            kind => TargetObj::Workload(Box::new(opt(k.workload(&ns, kind, &t.name).await))),
        })
    };
    let azure = async {
        ask.target?;
        Some(ctx.azure().await)
    };
    let sas = async {
        ask.target?;
        n.kube();
        Some(k.service_accounts(&ns).await)
    };
    let (target_obj, configs, labels, events, discovery, sas, az) = tokio::join!(
        target_get,
        counted(n, k.webhook_configurations()),
        counted(n, k.namespace_labels(&ns)),
        counted(n, k.failed_create_events(&ns, EVENTS_LIMIT)),
        counted(n, k.discovery()),
        sas,
        azure,
    );
    f.webhooks = configs.map(|c| webhook::installs(&c)).map_err(|e| gap(&e));
    f.namespace_labels = opt(labels);
    f.create_failures = events
        .map(|e| webhook::create_failures(&e, f.now))
        .map_err(|e| gap(&e));
    f.cluster_issuer = match discovery {
        Ok(d) => d["issuer"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Gap::unreachable("the API server's discovery document has no issuer")),
        Err(e) => Err(gap(&e)),
    };
    let named = absorb_target(f, ask.target, target_obj)?;
    absorb_service_accounts(f, sas);
    if let Some(t) = ask.target.filter(|t| t.kind == Kind::ServiceAccount)
        && f.service_account == Err(Gap::NotFound)
    {
        return Err(not_found(t, &ns));
    }
    Ok((named, az))
}

/// What the target names: a pod, a workload's template, or a service account.
fn absorb_target(
    f: &mut Facts,
    target: Option<&Target>,
    obj: Option<TargetObj>,
) -> Result<Named, Error> {
    let mut named = Named::default();
    match (target, obj) {
        (Some(t), Some(TargetObj::Pod(p))) => {
            if *p == Err(Gap::NotFound) {
                return Err(not_found(t, &f.namespace));
            }
            f.sa_name = p.as_ref().as_ref().ok().map(service_account_of);
            f.pod = *p;
        }
        (Some(t), Some(TargetObj::Workload(w))) => match *w {
            Ok(obj) => {
                let template = template_of(t.kind, &obj);
                f.sa_name = Some(service_account_of(&template));
                f.workload = Ok(Workload {
                    target: t.clone(),
                    labels: obj.metadata.labels.clone().unwrap_or_default(),
                    template: template.clone(),
                });
                f.template = Some(template);
                f.workload_objects = vec![(t.kind.api_kind().to_string(), t.name.clone())];
                f.pod = Err(Gap::not_asked(format!("{t} has no pod selector")));
                named.pod_selector = selector(&obj);
                named.workload = Some(obj);
            }
            Err(Gap::NotFound) => return Err(not_found(t, &f.namespace)),
            Err(g) => f.workload = Err(g),
        },
        (Some(t), Some(TargetObj::Sa)) => f.sa_name = Some(t.name.clone()),
        _ => {}
    }
    Ok(named)
}

fn absorb_service_accounts(
    f: &mut Facts,
    sas: Option<Result<Vec<k8s_openapi::api::core::v1::ServiceAccount>, KubeError>>,
) {
    match sas {
        Some(Ok(list)) => {
            if let Some(name) = &f.sa_name {
                f.service_account = list
                    .iter()
                    .find(|s| s.metadata.name.as_deref() == Some(name))
                    .cloned()
                    .ok_or(Gap::NotFound);
            }
            f.service_accounts = Ok(list);
        }
        Some(Err(e)) => {
            f.service_accounts = Err(gap(&e));
            f.service_account = Err(gap(&e));
        }
        None => {}
    }
}
