//! The only I/O of doctor: fills `Facts` in two waves of concurrent calls, then reads the app
//! container (one exec; when it has no shell, its spec and a TokenRequest instead) and, with
//! `--exchange`, makes one call to Entra. A failed call is recorded as a `Gap`, never returned
//! as an error: what could not be read is itself a finding. Only what makes the question
//! meaningless is an error: a target that does not exist, a `-c` the pod lacks.

mod app;
mod container;
pub mod proxy;

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use kube::api::DynamicObject;
use serde_json::Value;

pub use container::{ContainerRead, READ_SCRIPT, parse_read};

use super::model::{AzureFacts, Discovery, Fact, Facts, Gap, IdentityFacts, Stats, Workload};
use crate::{
    Error,
    azure::{AzureError, entra},
    ctx::Ctx,
    k8s::KubeError,
    wi::{
        jwks::Jwks,
        mutation,
        target::{self, Kind, Owner, Target},
        webhook,
    },
};

/// What doctor was asked to look at.
pub struct Ask<'a> {
    pub target: Option<&'a Target>,
    pub container: Option<&'a str>,
    pub exchange: bool,
    /// `--can ACTION --scope SCOPE` (src/doctor/can.rs).
    pub can: Option<&'a super::can::CanAsk>,
}

/// FailedCreate events read at most: a controller folds repeats into one event's count.
const EVENTS_LIMIT: u32 = 500;

#[derive(Default)]
struct Counters {
    kube: AtomicU64,
    http: AtomicU64,
    execs: AtomicU64,
}

impl Counters {
    fn kube(&self) {
        self.kube.fetch_add(1, Ordering::Relaxed);
    }
    fn http(&self) {
        self.http.fetch_add(1, Ordering::Relaxed);
    }
}

/// A Kubernetes error as a fact: 404 and 403 are named, the rest keeps its cause.
pub fn gap(e: &KubeError) -> Gap {
    match (e.status(), e) {
        (Some(404), _) => Gap::NotFound,
        (Some(403), KubeError::Api { verb, resource, .. }) => Gap::Forbidden {
            verb: verb.to_string(),
            resource: resource.to_string(),
        },
        _ => Gap::unreachable(chain(e)),
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

fn azure_gap(e: &AzureError) -> Gap {
    match e {
        AzureError::NotLoggedIn => Gap::not_asked(
            "not logged in to Azure (az login, or the AZURE_* variables): Azure checks skipped",
        ),
        AzureError::NoSubscription => Gap::not_asked(
            "no Azure subscription selected (--subscription or AZURE_SUBSCRIPTION_ID): Azure checks skipped",
        ),
        e if e.status() == Some(403) => Gap::Forbidden {
            verb: "read".into(),
            resource: "Microsoft.ManagedIdentity/userAssignedIdentities".into(),
        },
        e => Gap::unreachable(chain(e)),
    }
}

fn opt<T>(r: Result<Option<T>, KubeError>) -> Fact<T> {
    match r {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(Gap::NotFound),
        Err(e) => Err(gap(&e)),
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Anonymous https GET of a JSON document, as Entra fetches an issuer's.
async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let resp = http
        .get(url)
        .timeout(crate::azure::http::SHORT)
        .send()
        .await
        .map_err(|e| chain(&e))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("GET {url}: {status}"));
    }
    resp.json().await.map_err(|e| format!("GET {url}: {e}"))
}

/// `{iss}.well-known/openid-configuration` and its JWKS.
async fn discover(
    http: &reqwest::Client,
    issuer: &str,
    n: &Counters,
) -> (Fact<Discovery>, Option<Jwks>) {
    if !issuer.starts_with("https://") {
        return (
            Err(Gap::unreachable("the issuer is not an https URL")),
            None,
        );
    }
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    n.http();
    let doc = match get_json(http, &url).await {
        Ok(d) => d,
        Err(e) => return (Err(Gap::unreachable(e)), None),
    };
    let jwks_uri = doc["jwks_uri"].as_str().unwrap_or_default().to_string();
    n.http();
    let jwks = match get_json(http, &jwks_uri).await {
        Ok(v) => serde_json::from_value::<Jwks>(v).map_err(|e| format!("not a JWKS: {e}")),
        Err(e) => Err(e),
    };
    let d = Discovery {
        url,
        issuer: doc["issuer"].as_str().unwrap_or_default().to_string(),
        jwks_uri,
        jwks: jwks.as_ref().map(|j| j.keys.len()).map_err(Clone::clone),
    };
    (Ok(d), jwks.ok())
}

/// A `matchLabels` selector as a label-selector string.
fn selector(obj: &DynamicObject) -> Option<String> {
    obj.data
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
}

/// A workload's pod template as a pod (metadata + spec).
fn template_of(kind: Kind, obj: &DynamicObject) -> Pod {
    let ptr = if kind == Kind::CronJob {
        "/spec/jobTemplate/spec/template"
    } else {
        "/spec/template"
    };
    let t: PodTemplateSpec = obj
        .data
        .pointer(ptr)
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    Pod {
        metadata: t.metadata.unwrap_or_default(),
        spec: t.spec,
        status: None,
    }
}

fn controller_of(obj: &DynamicObject) -> Option<(String, String)> {
    target::controller(obj.metadata.owner_references.as_deref().unwrap_or_default())
        .map(|(k, n)| (k.to_string(), n.to_string()))
}

fn running(p: &Pod) -> bool {
    p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
}

/// The newest running pod, else the newest pod.
fn newest(mut pods: Vec<Pod>) -> Option<Pod> {
    pods.sort_by_key(|p| {
        (
            running(p),
            p.metadata.creation_timestamp.as_ref().map(|t| t.0),
        )
    });
    pods.pop()
}

pub fn service_account_of(p: &Pod) -> String {
    p.spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".into())
}

/// Counts a Kubernetes call as it is issued.
fn counted<F>(n: &Counters, fut: F) -> F {
    n.kube();
    fut
}

enum TargetObj {
    Pod(Box<Fact<Pod>>),
    Workload(Box<Fact<DynamicObject>>),
    Sa,
}

/// The target does not exist: the question has no answer (exit 1), unlike a broken link.
fn not_found(t: &Target, ns: &str) -> Error {
    crate::k8s::objects::target_not_found(t, ns).into()
}

/// What wave 2 reads about the owner: a pod's ReplicaSet or Job (for its own owner and its
/// template), or a Deployment's ReplicaSets (the objects its events are recorded on).
enum OwnerRead {
    Controller(Box<Fact<DynamicObject>>),
    ReplicaSets(Fact<Vec<DynamicObject>>),
}

/// What the target named, for wave 2: a workload's object and its pod selector.
#[derive(Default)]
struct Named {
    workload: Option<DynamicObject>,
    pod_selector: Option<String>,
}

pub async fn facts(ctx: &Ctx, ask: &Ask<'_>) -> Result<(Facts, Stats), Error> {
    let started = Instant::now();
    let n = Counters::default();
    let mut f = Facts::empty(&ctx.kube.namespace, now());
    f.target = ask.target.cloned();
    let http = entra::http().ok();

    let (named, az) = wave1(ctx, ask, &mut f, &n).await?;
    let az_ref = az.as_ref().map(|r| r.as_ref());
    // The app container: one exec (or, without a shell, its spec and a TokenRequest). It
    // needs only the pod, so when wave 1 brought the pod and it is clear which container is
    // the app's, it runs beside wave 2 instead of after it.
    let early = match &f.pod {
        Ok(pod) if mutation::container_known_without_template(pod, ask.container) => {
            let container = mutation::pick_container(pod, None, ask.container)?;
            Some((pod.clone(), container))
        }
        _ => None,
    };
    let early_fetch = async {
        let (pod, container) = early.as_ref()?;
        Some(container::fetch(ctx, pod, container, &n).await)
    };
    let ((jwks, arm_calls), fetched) = tokio::join!(
        wave2(ctx, ask, &mut f, named, az_ref, http.as_ref(), &n),
        early_fetch
    );

    let mut exchange_input = None;
    if let Ok(pod) = f.pod.clone() {
        let (container, fetched) = match (early, fetched) {
            (Some((_, container)), Some(fetched)) => (container, fetched),
            _ => {
                let container = mutation::pick_container(&pod, f.template.as_ref(), ask.container)?;
                let fetched = container::fetch(ctx, &pod, &container, &n).await;
                (container, fetched)
            }
        };
        f.container = Some(container);
        let keys = container::Keys {
            cluster_issuer: f.cluster_issuer.as_ref().ok().map(String::as_str),
            jwks: jwks.as_ref(),
            http: http.as_ref(),
        };
        let read = container::finish(fetched, &keys, &n).await;
        f.app = read.app;
        f.refs = read.refs;
        f.token = read.token;
        exchange_input = read.exchange;
    }
    // The exchange and, only on the identity-binding path, its reads (wave 3,
    // src/doctor/identity_binding.rs) need what was read so far, not each other: at once.
    let (exchange, ib) = tokio::join!(
        container::exchange(ctx, ask.exchange, exchange_input, http.as_ref(), &n),
        super::identity_binding::gather(ctx, &f, az.as_ref().and_then(|r| r.as_ref().ok())),
    );
    f.exchange = exchange;
    let mut waves = 2;
    let mut arm_calls = arm_calls;
    if let Some(ib) = ib {
        f.identity_binding = Ok(ib.facts);
        n.kube.fetch_add(ib.kube_calls, Ordering::Relaxed);
        arm_calls += ib.arm_calls;
        waves += ib.waves;
    }

    let stats = Stats {
        kube_calls: n.kube.load(Ordering::Relaxed),
        arm_calls,
        http_calls: n.http.load(Ordering::Relaxed),
        execs: n.execs.load(Ordering::Relaxed),
        waves,
        gather_ms: started.elapsed().as_millis() as u64,
        rounds: 1,
    };
    Ok((f, stats))
}

type AzureLogin = Option<Result<crate::ctx::AzureCtx, AzureError>>;

/// Wave 1: everything that depends only on the input. A target that does not exist ends
/// here, as an error.
async fn wave1(
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

/// Wave 2: what wave 1 named: the pods of a workload or service account, the pod's owner,
/// the issuer's documents, Azure. Returns the cluster's JWKS and the ARM calls made.
async fn wave2(
    ctx: &Ctx,
    ask: &Ask<'_>,
    f: &mut Facts,
    named: Named,
    az: Option<Result<&crate::ctx::AzureCtx, &AzureError>>,
    http: Option<&reqwest::Client>,
    n: &Counters,
) -> (Option<Jwks>, u64) {
    let k = &ctx.kube;
    let ns = &f.namespace;
    let client_id = super::checks::client_id(f);
    let pods_of_sa = ask.target.is_some_and(|t| t.kind == Kind::ServiceAccount);
    let pods = async {
        if pods_of_sa {
            n.kube();
            let sa = f.sa_name.clone().unwrap_or_default();
            return Some(k.pods_of_service_account(ns, &sa).await);
        }
        let sel = named.pod_selector.as_deref()?;
        n.kube();
        Some(k.pods(ns, Some(sel)).await)
    };
    let owner_read = read_owner(k, ns, ask.target, &f.pod, &named, n);
    let issuer_docs = async {
        match (&f.cluster_issuer, http) {
            (Ok(iss), Some(h)) => Some(discover(h, iss, n).await),
            _ => None,
        }
    };
    let (pods, owner_read, docs, azure) = tokio::join!(
        pods,
        owner_read,
        issuer_docs,
        azure_facts(az, client_id, binding(f), ask.can)
    );
    let mut arm_calls = 0;
    let mut can = match ask.can {
        Some(_) => Err(Gap::unreachable(
            "Azure was not reached (see the azure checks)",
        )),
        None => Err(Gap::not_asked("--can not given")),
    };
    f.azure = match ask.target {
        None => Err(Gap::not_asked("no target")),
        Some(_) => azure.map(|(a, calls, c)| {
            arm_calls = calls;
            can = c;
            a
        }),
    };
    f.can = can;
    let mut jwks = None;
    if let Some((d, j)) = docs {
        f.discovery = d;
        jwks = j;
    }
    match pods {
        Some(Ok(list)) => {
            f.pod = newest(list).ok_or(Gap::NotFound);
            if pods_of_sa && f.pod == Err(Gap::NotFound) {
                f.pod = Err(Gap::not_asked("no pod runs as this service account"));
            }
        }
        Some(Err(e)) => f.pod = Err(gap(&e)),
        None => {}
    }
    resolve_owner(f, ask.target, named.workload.as_ref(), owner_read);
    (jwks, arm_calls)
}

/// A pod's ReplicaSet or Job (its own owner, its template), or a Deployment's ReplicaSets.
async fn read_owner(
    k: &crate::k8s::Kube,
    ns: &str,
    target: Option<&Target>,
    pod: &Fact<Pod>,
    named: &Named,
    n: &Counters,
) -> Option<OwnerRead> {
    match (target.map(|t| t.kind), pod, &named.workload) {
        (Some(Kind::Pod), Ok(pod), _) => {
            let refs = pod.metadata.owner_references.as_deref().unwrap_or_default();
            let (kind, name) = match target::controller(refs)? {
                ("ReplicaSet", name) => (Kind::ReplicaSet, name),
                ("Job", name) => (Kind::Job, name),
                _ => return None,
            };
            n.kube();
            let obj = opt(k.workload(ns, kind, name).await);
            Some(OwnerRead::Controller(Box::new(obj)))
        }
        (Some(Kind::Deployment), _, Some(_)) => {
            let sel = named.pod_selector.as_deref()?;
            n.kube();
            Some(OwnerRead::ReplicaSets(
                k.workloads(ns, Kind::ReplicaSet, sel)
                    .await
                    .map_err(|e| gap(&e)),
            ))
        }
        _ => None,
    }
}

/// Who recreates the pod, from what the target and wave 2 read; also the pod template the
/// pod came from and, for a Deployment, its ReplicaSets (where its pods' events go).
fn resolve_owner(
    f: &mut Facts,
    target: Option<&Target>,
    workload: Option<&DynamicObject>,
    read: Option<OwnerRead>,
) {
    let Some(t) = target else { return };
    match (t.kind, read) {
        (Kind::Pod, read) => {
            let Ok(pod) = &f.pod else { return };
            let refs = pod.metadata.owner_references.as_deref().unwrap_or_default();
            let ctrl = target::controller(refs);
            let controller_obj = match &read {
                Some(OwnerRead::Controller(obj)) => obj.as_ref().as_ref().ok(),
                _ => None,
            };
            let (parent, selector) = match controller_obj {
                Some(obj) => {
                    let kind = if ctrl.is_some_and(|c| c.0 == "Job") {
                        Kind::Job
                    } else {
                        Kind::ReplicaSet
                    };
                    f.template = Some(template_of(kind, obj));
                    (controller_of(obj), selector(obj))
                }
                None => (None, None),
            };
            let parent = parent.as_ref().map(|(k, n)| (k.as_str(), n.as_str()));
            f.owner = Some(Owner::from_controller(ctrl, parent, selector));
        }
        (Kind::ServiceAccount, _) => {
            f.owner = f.pod.as_ref().ok().map(|p| {
                let refs = p.metadata.owner_references.as_deref().unwrap_or_default();
                Owner::from_controller(target::controller(refs), None, None)
            });
        }
        (_, read) => {
            let ctrl = workload.and_then(controller_of);
            f.owner = Some(Owner::of_target(
                t,
                ctrl.as_ref().map(|(k, n)| (k.as_str(), n.as_str())),
                workload.and_then(selector),
            ));
            if let (Some(OwnerRead::ReplicaSets(Ok(sets))), Some(w)) = (read, workload) {
                let uid = w.metadata.uid.as_deref();
                let current = revision(w);
                f.workload_objects.extend(
                    sets.iter()
                        .filter(|rs| {
                            rs.metadata
                                .owner_references
                                .iter()
                                .flatten()
                                .any(|o| Some(o.uid.as_str()) == uid)
                        })
                        // Only the current template's ReplicaSet: during a rollout the one
                        // being replaced keeps retrying (and failing) until the new pods are
                        // ready, and its refusals say nothing about the fixed template.
                        .filter(|rs| current.is_none() || revision(rs) == current)
                        .filter_map(|rs| rs.metadata.name.clone())
                        .map(|name| ("ReplicaSet".to_string(), name)),
                );
            }
        }
    }
}

/// The rollout revision the Deployment controller stamps on a Deployment and on the
/// ReplicaSet of its current template.
fn revision(o: &DynamicObject) -> Option<&str> {
    o.metadata
        .annotations
        .as_ref()?
        .get("deployment.kubernetes.io/revision")
        .map(String::as_str)
}

/// The binding's (issuer, subject) as the cluster's tokens carry them, if known yet.
fn binding(f: &Facts) -> Option<(String, String)> {
    let iss = f.cluster_issuer.as_ref().ok()?;
    let sa = f.sa_name.as_deref()?;
    Some((iss.clone(), crate::wi::names::subject(&f.namespace, sa)))
}

/// The identity the client id names (and its credentials), or what is known instead: an
/// application registration, read through Graph.
async fn azure_facts(
    az: Option<Result<&crate::ctx::AzureCtx, &AzureError>>,
    client_id: Option<String>,
    want: Option<(String, String)>,
    can: Option<&super::can::CanAsk>,
) -> Fact<(AzureFacts, u64, Fact<super::can::CanFacts>)> {
    let az = match az {
        None => return Err(Gap::not_asked("no target: Azure not checked")),
        Some(Err(e)) => return Err(azure_gap(e)),
        Some(Ok(az)) => az,
    };
    let empty = AzureFacts {
        subscription: az.subscription.clone(),
        identity: None,
        identities_seen: 0,
        principal_mixup: None,
        graph: Err(Gap::not_asked("no client id")),
    };
    let Some(cid) = client_id else {
        let can = super::can::gather(&az.arm, can, None).await;
        return Ok((empty, az.arm.calls(), can));
    };
    let all = az
        .arm
        .identities(&az.subscription, None)
        .await
        .map_err(|e| azure_gap(&e))?;
    let found = all
        .iter()
        .find(|i| i.properties.client_id.eq_ignore_ascii_case(&cid));
    // --can's reads run beside the credential list (src/doctor/can.rs).
    let (credentials, can) = tokio::join!(
        async {
            match found {
                Some(i) => Some(az.arm.credentials(&i.id).await.map_err(|e| azure_gap(&e))),
                None => None,
            }
        },
        super::can::gather(&az.arm, can, found),
    );
    let identity = found
        .zip(credentials)
        .map(|(i, credentials)| IdentityFacts {
            name: i.name.clone(),
            id: i.id.clone(),
            client_id: i.properties.client_id.clone(),
            tenant_id: i.properties.tenant_id.clone(),
            principal_id: i.properties.principal_id.clone(),
            credentials,
        });
    let principal_mixup = all
        .iter()
        .find(|i| i.properties.principal_id.eq_ignore_ascii_case(&cid))
        .map(|i| i.name.clone());
    let graph = if identity.is_some() || principal_mixup.is_some() {
        Err(Gap::not_asked("the client id is a managed identity's"))
    } else {
        app::graph_facts(&az.graph, &cid, want).await
    };
    Ok((
        AzureFacts {
            identity,
            identities_seen: all.len(),
            principal_mixup,
            graph,
            ..empty
        },
        az.arm.calls() + az.graph.calls(),
        can,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::ObjectMeta;
    use serde_json::json;

    fn object(name: &str, uid: &str, revision: &str, owner_uid: Option<&str>) -> DynamicObject {
        let mut meta = json!({
            "name": name, "namespace": "ns", "uid": uid,
            "annotations": {"deployment.kubernetes.io/revision": revision},
        });
        if let Some(o) = owner_uid {
            meta["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "Deployment",
                "name": "web", "uid": o, "controller": true}]);
        }
        DynamicObject {
            types: None,
            metadata: serde_json::from_value::<ObjectMeta>(meta).unwrap(),
            data: json!({}),
        }
    }

    /// A Deployment mid-rollout (revision 2 fixes what revision 1's ReplicaSet is still being
    /// refused for): only the current revision's ReplicaSet is where its pods' refusals count.
    #[test]
    fn a_rollouts_old_replica_set_is_not_the_workloads() {
        let deploy = object("web", "d-1", "2", None);
        let sets = vec![
            object("web-old", "rs-1", "1", Some("d-1")),
            object("web-new", "rs-2", "2", Some("d-1")),
            object("other-new", "rs-3", "2", Some("d-9")),
        ];
        let mut f = Facts::empty("ns", 0);
        let target = Target::parse("deploy/web").unwrap();
        resolve_owner(
            &mut f,
            Some(&target),
            Some(&deploy),
            Some(OwnerRead::ReplicaSets(Ok(sets))),
        );
        assert_eq!(
            f.workload_objects,
            vec![("ReplicaSet".to_string(), "web-new".to_string())]
        );
    }
}
