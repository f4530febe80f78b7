//! The only I/O of doctor: fills `Facts` in two waves of concurrent calls (wave1.rs,
//! wave2.rs) and reads the app container (one exec; when it has no shell, its spec and a
//! TokenRequest instead: container.rs), beside wave 2 when wave 1 already says which container
//! that is; with `--exchange`, makes one call to Entra. A failed call is recorded as a `Gap`, never returned
//! as an error: what could not be read is itself a finding. Only what makes the question
//! meaningless is an error: a target that does not exist, a `-c` the pod lacks.

mod app;
mod container;
pub mod proxy;
mod wave1;
mod wave2;

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use kube::api::DynamicObject;
use serde_json::Value;

pub use container::{ContainerRead, READ_SCRIPT, parse_read};

use super::model::{
    AzureFacts, Discovery, Fact, Facts, Gap, IdentityFacts, Phases, Stats, Workload,
};
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

/// The target does not exist: the question has no answer (exit 1), unlike a broken link.
fn not_found(t: &Target, ns: &str) -> Error {
    crate::k8s::objects::target_not_found(t, ns).into()
}

pub async fn facts(ctx: &Ctx, ask: &Ask<'_>) -> Result<(Facts, Stats), Error> {
    let started = Instant::now();
    let n = Counters::default();
    let mut phases = Phases::default();
    let mut f = Facts::empty(&ctx.kube.namespace, now());
    f.target = ask.target.cloned();
    let http = entra::http().ok();

    let (named, az) = wave1::gather(ctx, ask, &mut f, &n).await?;
    phases.wave1_ms = ms(started);
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
        Some(timed(container::fetch(ctx, pod, container, &n)).await)
    };
    let (((jwks, arm_calls), wave2_ms), fetched) = tokio::join!(
        timed(wave2::gather(
            ctx,
            ask,
            &mut f,
            named,
            az_ref,
            http.as_ref(),
            &n
        )),
        early_fetch
    );
    phases.wave2_ms = wave2_ms;
    let early = early.zip(fetched).map(|((_, c), fetched)| (c, fetched));
    let keys = Shared {
        jwks: jwks.as_ref(),
        http: http.as_ref(),
    };
    let exchange_input = read_container(ctx, ask, &mut f, early, &keys, &n, &mut phases).await?;
    phases.container_ms = ms(started);
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
        gather_ms: ms(started),
        phases,
        rounds: 1,
    };
    Ok((f, stats))
}

/// What the container's token is checked with: the cluster's keys from wave 2, and the client
/// that fetches another issuer's.
struct Shared<'a> {
    jwks: Option<&'a Jwks>,
    http: Option<&'a reqwest::Client>,
}

/// The app container read (already, beside wave 2, or now that wave 2 brought the template
/// that tells which container it is) and its token checked. Returns what `--exchange` sends.
async fn read_container(
    ctx: &Ctx,
    ask: &Ask<'_>,
    f: &mut Facts,
    early: Option<(String, (container::Fetched, u64))>,
    shared: &Shared<'_>,
    n: &Counters,
    phases: &mut Phases,
) -> Result<Option<container::ExchangeInput>, Error> {
    let Ok(pod) = f.pod.clone() else {
        return Ok(None);
    };
    let (container, (fetched, exec_ms)) = match early {
        Some(early) => early,
        None => {
            let container = mutation::pick_container(&pod, f.template.as_ref(), ask.container)?;
            let fetched = timed(container::fetch(ctx, &pod, &container, n)).await;
            (container, fetched)
        }
    };
    phases.exec_ms = exec_ms;
    f.container = Some(container);
    let keys = container::Keys {
        cluster_issuer: f.cluster_issuer.as_ref().ok().map(String::as_str),
        jwks: shared.jwks,
        http: shared.http,
    };
    let read = container::finish(fetched, &keys, n).await;
    f.app = read.app;
    f.refs = read.refs;
    f.token = read.token;
    Ok(read.exchange)
}

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// A step and how long it took on its own, in milliseconds.
async fn timed<F: std::future::Future>(step: F) -> (F::Output, u64) {
    let start = Instant::now();
    let out = step.await;
    (out, ms(start))
}
