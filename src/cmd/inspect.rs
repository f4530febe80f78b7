//! `kubectl azwi inspect`: every binding, SA -> identity -> credential -> pods.
//!
//! Cost is fixed per cluster, whatever its size: one paged list of ServiceAccounts, one of
//! pods, the discovery document, the webhook configurations and the webhook's ConfigMap where
//! its install lives; never a GET per object. Azure:
//! one identity list for the subscription, then the credentials of each identity a
//! ServiceAccount names, concurrently. Clusters of a fleet are inspected concurrently.

use std::{collections::BTreeMap, path::Path};

use futures::future::join_all;
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::{
    api::ListParams,
    config::{Kubeconfig, KubeconfigError},
};

use crate::{
    Error,
    azure::{Cloud, credential::AzureEnv},
    cli::{GlobalArgs, InspectArgs, OutputFormat},
    ctx::{AzureCtx, Ctx},
    error::InputError,
    inspect::{
        self, AzureFacts, AzureSummary, ClusterFacts, ClusterSummary, Filter, IdentityFacts,
        InspectReport, PodFacts, Requests, SaFacts,
    },
    k8s::{self, Kube, KubeError, Wire},
    output::progress::Progress,
    wi::{
        names,
        rbac::Held,
        target::{Kind, Target},
        webhook,
    },
};

/// Page size of the two lists. 5,000 pods (about 17 MB of protobuf at production size) served
/// as fast as one unpaginated response from the watch cache and much faster than pages of 500
/// (46 round trips at 20,000 pods), while keeping what the server builds and this process holds
/// per response bounded (two pages at most: the one decoded and the next in flight), and the
/// list a consistent snapshot (continue tokens), which `resourceVersion=0` does not promise.
/// Measured in bench/inspect.sh (README).
const PAGE: u32 = 5_000;

/// What to read: one namespace or all, one ServiceAccount or every binding.
#[derive(Debug, Clone)]
struct Scope {
    all_namespaces: bool,
    only: Option<String>,
}

fn check(global: &GlobalArgs, args: &InspectArgs) -> Result<Scope, InputError> {
    let only = match &args.target {
        None => None,
        Some(t) => {
            let t = Target::parse(t)?;
            if t.kind != Kind::ServiceAccount {
                return Err(InputError::new(
                    "target",
                    &t.to_string(),
                    "sa/NAME (inspect shows ServiceAccounts; for a pod use `kubectl azwi doctor pod/NAME`)",
                ));
            }
            Some(t.name)
        }
    };
    if only.is_some() && args.all_namespaces {
        return Err(InputError::new(
            "flags",
            "sa/NAME -A",
            "sa/NAME with one namespace (-n), or -A without a ServiceAccount",
        ));
    }
    if args.all_contexts && !global.context.is_empty() {
        return Err(InputError::new(
            "flags",
            "--all-contexts --context",
            "either --all-contexts or --context a,b",
        ));
    }
    if let Some(ns) = &global.namespace {
        names::namespace(ns)?;
    }
    Ok(Scope {
        all_namespaces: args.all_namespaces,
        only,
    })
}

/// The contexts to inspect: `--all-contexts`, the `--context` list, or the current one.
fn contexts(global: &GlobalArgs, all: bool) -> Result<Vec<Option<String>>, KubeError> {
    if !all {
        return Ok(if global.context.is_empty() {
            vec![None]
        } else {
            global.context.iter().cloned().map(Some).collect()
        });
    }
    let boxed = |e: KubeconfigError| KubeError::Config(Box::new(e));
    let kc = match &global.kubeconfig {
        Some(p) => Kubeconfig::read_from(p).map_err(boxed)?,
        None => Kubeconfig::read().map_err(boxed)?,
    };
    Ok(kc.contexts.into_iter().map(|c| Some(c.name)).collect())
}

async fn gather_cluster(
    kube: &Kube,
    scope: &Scope,
    progress: &Progress,
) -> Result<ClusterFacts, KubeError> {
    let ns = (!scope.all_namespaces).then_some(kube.namespace.as_str());
    let page = ListParams::default().limit(PAGE);
    let (sa_params, pod_params) = match &scope.only {
        Some(name) => (
            page.clone().fields(&format!("metadata.name={name}")),
            page.fields(&format!("spec.serviceAccountName={name}")),
        ),
        None => (page.clone(), page),
    };
    let counter = |what: &'static str| move || progress.add(what, 1);
    let (sas, pods, discovery, tenants) = tokio::join!(
        kube.list_each::<ServiceAccount, _>(
            ns,
            &sa_params,
            Wire::Protobuf,
            SaFacts::from_sa,
            counter("pages of serviceaccounts"),
        ),
        kube.list_each::<Pod, _>(
            ns,
            &pod_params,
            Wire::Protobuf,
            PodFacts::from_pod,
            counter("pages of pods"),
        ),
        kube.discovery(),
        webhook_tenants(kube, ns),
    );
    let (sas, pods) = (sas?, pods?);
    let (service_accounts, sa_pages) = (sas.items, sas.pages);
    let (pods, pod_pages) = (pods.items, pods.pages);
    // Issuer and tenant only enrich the rows: without them a row says "not checked".
    let issuer = discovery
        .ok()
        .and_then(|d| d["issuer"].as_str().map(str::to_string));
    let (webhook_tenant, namespace_tenants, tenant_requests) = tenants;
    Ok(ClusterFacts {
        context: kube.context.clone(),
        issuer,
        webhook_tenant,
        namespace_tenants,
        service_accounts,
        pods,
        requests: Requests {
            service_account_pages: sa_pages,
            pod_pages,
            other: 1 + tenant_requests,
        },
    })
}

/// The webhook's tenant: read from its ConfigMap where each install lives (the AKS add-on's
/// in kube-system), and per namespace only when installs with different tenants serve different
/// namespaces. Returns (the cluster-wide tenant, the per-namespace ones, requests made).
async fn webhook_tenants(
    kube: &Kube,
    only_ns: Option<&str>,
) -> (Option<String>, BTreeMap<String, Option<String>>, u32) {
    let installs = kube
        .webhook_configurations()
        .await
        .map(|c| webhook::installs(&c))
        .unwrap_or_default();
    let mut requests = 1;
    let mut tenants: Vec<(webhook::Install, Option<String>)> = Vec::new();
    let mut read: BTreeMap<Vec<String>, Option<String>> = BTreeMap::new();
    for i in &installs {
        let places = webhook::config_namespaces(&[i]);
        if !read.contains_key(&places) {
            let (tenant, reads) = kube.webhook_tenant(&places).await;
            requests += reads;
            read.insert(places.clone(), tenant);
        }
        tenants.push((i.clone(), read[&places].clone()));
    }
    let mut distinct: Vec<&Option<String>> = tenants.iter().map(|(_, t)| t).collect();
    distinct.sort();
    distinct.dedup();
    match distinct.as_slice() {
        [] => {
            let (tenant, reads) = kube.webhook_tenant(&webhook::config_namespaces(&[])).await;
            (tenant, BTreeMap::new(), requests + reads)
        }
        [one] => ((*one).clone(), BTreeMap::new(), requests),
        _ => {
            requests += 1;
            let namespaces = match only_ns {
                Some(ns) => kube
                    .namespace_labels(ns)
                    .await
                    .ok()
                    .flatten()
                    .map(|l| BTreeMap::from([(ns.to_string(), l)]))
                    .unwrap_or_default(),
                None => kube.all_namespace_labels().await.unwrap_or_default(),
            };
            (
                None,
                inspect::tenants_by_namespace(&tenants, &namespaces),
                requests,
            )
        }
    }
}

/// Logs in and lists identities; `Err` is the note explaining the cluster-only view.
async fn azure_login(ctx: &Ctx) -> Result<(AzureCtx, Vec<crate::azure::msi::Identity>), String> {
    let az = ctx.azure().await.map_err(|e| {
        format!("no Azure login ({e}): cluster-only view; identities and credentials not checked")
    })?;
    let ids = az
        .arm
        .identities(&az.subscription, None)
        .await
        .map_err(|e| format!("{e}: cluster-only view; identities and credentials not checked"))?;
    Ok((az, ids))
}

/// The roles each identity holds in the subscription (its own and its groups'), by client id;
/// read only for `-o wide`, whose ROLES column shows them (the other formats keep their cost).
/// The applications (app registrations) among `client_ids`, with their service principal's
/// state and their credentials, concurrently; what Graph refuses becomes a note.
async fn applications(
    az: &AzureCtx,
    client_ids: &[String],
    notes: &mut Vec<String>,
) -> Vec<IdentityFacts> {
    let mut out = Vec::new();
    for (cid, r) in client_ids
        .iter()
        .zip(join_all(client_ids.iter().map(|c| application_of(az, c))).await)
    {
        match r {
            Ok(Some(i)) => out.push(i),
            Ok(None) => {}
            Err(e) => notes.push(format!("client id {cid}: Microsoft Graph: {e}")),
        }
    }
    out
}

/// One client id as an application: `None` when no application has it.
async fn application_of(
    az: &AzureCtx,
    cid: &str,
) -> Result<Option<IdentityFacts>, crate::azure::AzureError> {
    let Some(app) = az.graph.application_by_app_id(cid).await? else {
        return Ok(None);
    };
    let (sp, creds) = tokio::join!(
        az.graph.service_principal_by_app_id(&app.app_id),
        az.graph.credentials(&app.id),
    );
    let creds = creds?;
    Ok(Some(IdentityFacts {
        id: app.id.clone(),
        name: app.display_name.clone(),
        client_id: app.app_id.clone(),
        credentials: Some(creds.iter().map(|f| f.credential()).collect()),
        kind: inspect::IdentityKind::Application {
            service_principal: sp?.map(|s| s.account_enabled),
        },
        descriptions: creds
            .into_iter()
            .filter_map(|f| Some((f.name, f.description?)))
            .collect(),
        ..Default::default()
    }))
}

async fn roles_of(
    az: &AzureCtx,
    identities: &[&crate::azure::msi::Identity],
    output: Option<OutputFormat>,
    notes: &mut Vec<String>,
) -> BTreeMap<String, Vec<Held>> {
    let mut out = BTreeMap::new();
    if output != Some(OutputFormat::Wide) {
        return out;
    }
    let principals: Vec<String> = identities
        .iter()
        .map(|i| i.properties.principal_id.clone())
        .collect();
    match az
        .arm
        .roles_held(&format!("/subscriptions/{}", az.subscription), &principals)
        .await
    {
        Ok(mut held) => {
            for i in identities {
                if let Some(h) = held.remove(&i.properties.principal_id.to_ascii_lowercase()) {
                    out.insert(i.properties.client_id.to_ascii_lowercase(), h);
                }
            }
        }
        Err(e) => notes.push(format!("role assignments not listed: {e}")),
    }
    out
}

pub async fn run(global: &GlobalArgs, args: &InspectArgs) -> Result<InspectReport, Error> {
    let scope = check(global, args)?;
    let cloud = Cloud::from_args(&global.azure)?;
    let names = contexts(global, args.all_contexts)?;
    let fleet = names.len() > 1;
    let kubes = join_all(names.iter().map(|c| {
        k8s::connect(
            global.kubeconfig.as_deref().map(Path::new),
            c.as_deref(),
            global.namespace.as_deref(),
        )
    }))
    .await;
    let mut notes = Vec::new();
    let mut connected = Vec::new();
    let mut failed = Vec::new();
    for (name, k) in names.iter().zip(kubes) {
        match k {
            Ok(k) => connected.push(k),
            // One unreachable cluster must not hide the fleet; alone, it is the error.
            Err(e) if fleet => failed.push((name.clone(), e)),
            Err(e) => return Err(e.into()),
        }
    }
    let Some(first) = connected.first().cloned() else {
        let (_, e) = failed.into_iter().next().expect("at least one context");
        return Err(e.into());
    };
    let ctx = Ctx {
        kube: first,
        cloud,
        env: AzureEnv::from_process(),
        subscription_flag: global.azure.subscription.clone(),
    };
    let azure = async {
        if args.no_azure {
            Err("--no-azure: cluster-only view; identities and credentials not checked".to_string())
        } else {
            azure_login(&ctx).await
        }
    };
    // Big clusters take seconds to list: the pages read so far, once that is worth showing.
    let progress = Progress::start("inspect: listing");
    let (clusters, azure) = tokio::join!(
        join_all(
            connected
                .iter()
                .map(|k| gather_cluster(k, &scope, &progress))
        ),
        azure
    );
    drop(progress);

    let mut facts = Vec::new();
    let mut summaries = Vec::new();
    for (k, c) in connected.iter().zip(clusters) {
        match c {
            Ok(f) => facts.push(f),
            Err(e) if fleet => failed.push((k.context.clone(), e)),
            Err(e) => return Err(e.into()),
        }
    }
    for (ctx_name, e) in &failed {
        notes.push(format!(
            "context {}: {e}{}",
            ctx_name.as_deref().unwrap_or("(current)"),
            std::error::Error::source(e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default()
        ));
        summaries.push(ClusterSummary {
            context: ctx_name.clone(),
            issuer: None,
            service_accounts: 0,
            pods: 0,
            requests: Requests::default(),
            error: Some(e.to_string()),
        });
    }
    if facts.is_empty() {
        let (_, e) = failed.into_iter().next().expect("every cluster failed");
        return Err(e.into());
    }

    let (azure_facts, azure_summary) = match azure {
        Err(note) => {
            notes.push(note);
            (
                None,
                AzureSummary {
                    checked: false,
                    subscription: None,
                    identities: 0,
                    requests: 0,
                },
            )
        }
        Ok((az, identities)) => {
            let wanted = inspect::client_ids(&facts);
            let matched: Vec<_> = identities
                .iter()
                .filter(|i| {
                    wanted
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(&i.properties.client_id))
                })
                .collect();
            // Client ids no managed identity has: application registrations, through Graph.
            let others: Vec<String> = wanted
                .iter()
                .filter(|c| {
                    !matched
                        .iter()
                        .any(|i| i.properties.client_id.eq_ignore_ascii_case(c))
                })
                .cloned()
                .collect();
            let mut app_notes = Vec::new();
            let (creds, roles, apps) = tokio::join!(
                join_all(matched.iter().map(|i| az.arm.credentials(&i.id))),
                roles_of(&az, &matched, global.output, &mut notes),
                applications(&az, &others, &mut app_notes),
            );
            notes.extend(app_notes);
            let mut out = Vec::new();
            for (i, c) in matched.into_iter().zip(creds) {
                let credentials = match c {
                    Ok(c) => Some(c),
                    Err(e) => {
                        notes.push(format!("identity {}: {e}", i.name));
                        None
                    }
                };
                out.push(IdentityFacts {
                    id: i.id.clone(),
                    name: i.name.clone(),
                    resource_group: i.resource_group().unwrap_or_default(),
                    client_id: i.properties.client_id.clone(),
                    tenant_id: i.properties.tenant_id.clone(),
                    credentials,
                    ..Default::default()
                });
            }
            out.extend(apps);
            let summary = AzureSummary {
                checked: true,
                subscription: Some(az.subscription.clone()),
                identities: identities.len(),
                requests: az.arm.calls() + az.graph.calls(),
            };
            (
                Some(AzureFacts {
                    subscription: az.subscription,
                    identities: out,
                    roles,
                }),
                summary,
            )
        }
    };

    let filter = match &scope.only {
        Some(n) => Filter::Only(n),
        None => Filter::Bindings,
    };
    let mut items = Vec::new();
    for f in &facts {
        if f.issuer.is_none() {
            notes.push(format!(
                "context {}: the API server's /.well-known/openid-configuration could not be read: credentials not compared",
                f.context.as_deref().unwrap_or("(current)")
            ));
        }
        items.extend(inspect::rows(f, azure_facts.as_ref(), filter));
        summaries.push(ClusterSummary {
            context: f.context.clone(),
            issuer: f.issuer.clone(),
            service_accounts: f.service_accounts.len(),
            pods: f.pods.len(),
            requests: f.requests.clone(),
            error: None,
        });
    }
    summaries.sort_by(|a, b| a.context.cmp(&b.context));
    items.sort_by(|a, b| {
        (&a.context, &a.namespace, &a.service_account).cmp(&(
            &b.context,
            &b.namespace,
            &b.service_account,
        ))
    });
    Ok(InspectReport {
        clusters: summaries,
        azure: azure_summary,
        items,
        notes,
    })
}
