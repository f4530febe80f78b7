//! The only I/O of doctor: fills `Facts` in two waves of concurrent calls, then one exec into
//! the container (and, with `--exchange`, one call to Entra). A failed call is recorded as a
//! `Gap`, never returned as an error: what could not be read is itself a finding.

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicU64, Ordering},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use k8s_openapi::api::core::v1::{Event, Pod, PodTemplateSpec};
use serde_json::Value;

use super::model::{
    AzureFacts, Discovery, Exchange, Fact, Facts, Gap, IdentityFacts, Stats, TokenFacts, Workload,
};
use crate::{
    azure::{AzureError, entra},
    ctx::Ctx,
    k8s::KubeError,
    wi::{
        claims::Jwt,
        jwks::{self, Jwks},
        keys, mutation,
        target::{Kind, Target},
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
    let resp = http.get(url).send().await.map_err(|e| chain(&e))?;
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

fn failed_webhook_calls(events: &[Event], now: i64) -> Vec<String> {
    let mut hits: Vec<(i64, String)> = events
        .iter()
        .filter(|e| {
            e.message
                .as_deref()
                .is_some_and(|m| m.contains("failed calling webhook"))
        })
        .filter_map(|e| {
            let t = e
                .last_timestamp
                .as_ref()
                .map(|t| t.0.as_second())
                .or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
                .or_else(|| e.first_timestamp.as_ref().map(|t| t.0.as_second()))?;
            (now - t < 3600).then(|| (t, e.message.clone().unwrap_or_default()))
        })
        .collect();
    hits.sort_by_key(|h| std::cmp::Reverse(h.0));
    hits.into_iter().map(|(_, m)| m).collect()
}

/// The workload's own labels, its pod template as a pod, and its pod selector.
fn workload(target: &Target, obj: &kube::api::DynamicObject) -> (Workload, Option<String>) {
    let template_ptr = if target.kind == Kind::CronJob {
        "/spec/jobTemplate/spec/template"
    } else {
        "/spec/template"
    };
    let template: PodTemplateSpec = obj
        .data
        .pointer(template_ptr)
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let selector = obj
        .data
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        });
    (
        Workload {
            target: target.clone(),
            labels: obj.metadata.labels.clone().unwrap_or_default(),
            template: Pod {
                metadata: template.metadata.unwrap_or_default(),
                spec: template.spec,
                status: None,
            },
        },
        selector,
    )
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

fn service_account_of(p: &Pod) -> String {
    p.spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".into())
}

/// The container to read the token from: `-c`, else the first injected app container.
pub fn pick_container(pod: &Pod, asked: Option<&str>) -> Option<String> {
    if let Some(c) = asked {
        return Some(c.to_string());
    }
    let inj = mutation::observe(pod);
    inj.containers
        .iter()
        .find(|c| !c.init && !c.skipped && c.token_file().is_some())
        .or_else(|| inj.containers.iter().find(|c| !c.init))
        .map(|c| c.name.clone())
}

/// One shell in the container prints the injected variables, a separator, then the token
/// file those variables name: the path is never assumed.
pub const READ_SCRIPT: &str = r#"for v in AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_AUTHORITY_HOST AZURE_FEDERATED_TOKEN_FILE; do eval "x=\${$v-}"; printf '%s=%s\n' "$v" "$x"; done; echo '--azwi--'; if [ -n "${AZURE_FEDERATED_TOKEN_FILE-}" ]; then cat -- "$AZURE_FEDERATED_TOKEN_FILE"; fi"#;

/// The container's view: the AZURE_* variables and the token file's content (or why not).
pub struct ContainerRead {
    pub env: BTreeMap<String, String>,
    pub token: Result<String, String>,
}

pub fn parse_read(stdout: &str, stderr: &str) -> ContainerRead {
    let (head, body) = stdout.split_once("--azwi--\n").unwrap_or((stdout, ""));
    let env: BTreeMap<String, String> = head
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let token = if body.trim().is_empty() {
        Err(if stderr.trim().is_empty() {
            "the file is empty".to_string()
        } else {
            stderr.trim().to_string()
        })
    } else {
        Ok(body.trim().to_string())
    };
    ContainerRead { env, token }
}

pub async fn facts(ctx: &Ctx, ask: &Ask<'_>) -> (Facts, Stats) {
    let started = Instant::now();
    let n = Counters::default();
    let k = &ctx.kube;
    let ns = k.namespace.clone();
    let now = now();
    let mut f = Facts::empty(&ns, now);
    f.target = ask.target.cloned();
    let http = entra::http().ok();

    // Wave 1: everything that depends only on the input.
    let target_get = async {
        match ask.target {
            None => None,
            Some(t) => {
                n.kube();
                Some(match t.kind {
                    Kind::Pod => TargetObj::Pod(Box::new(opt(k.pod(&ns, &t.name).await))),
                    Kind::ServiceAccount => TargetObj::Sa,
                    kind => {
                        TargetObj::Workload(Box::new(opt(k.workload(&ns, kind, &t.name).await)))
                    }
                })
            }
        }
    };
    let azure = async {
        match ask.target {
            Some(_) => Some(ctx.azure().await),
            None => None,
        }
    };
    let (target_obj, configs, labels, events, discovery, sas, az) = tokio::join!(
        target_get,
        counted(&n, k.webhook_configurations()),
        counted(&n, k.namespace_labels(&ns)),
        counted(&n, k.events(&ns)),
        counted(&n, k.discovery()),
        async {
            match ask.target {
                Some(_) => {
                    n.kube();
                    Some(k.service_accounts(&ns).await)
                }
                None => None,
            }
        },
        azure,
    );
    f.webhooks = configs.map(|c| webhook::installs(&c)).map_err(|e| gap(&e));
    f.namespace_labels = opt(labels);
    f.webhook_failures = events
        .map(|e| failed_webhook_calls(&e, now))
        .map_err(|e| gap(&e));
    f.cluster_issuer = match discovery {
        Ok(d) => d["issuer"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Gap::unreachable("the API server's discovery document has no issuer")),
        Err(e) => Err(gap(&e)),
    };

    // What the target names: a pod, a workload's template, or a service account.
    let mut selector: Option<String> = None;
    let mut pods_of_sa = false;
    match (ask.target, target_obj) {
        (Some(_), Some(TargetObj::Pod(p))) => {
            f.sa_name = p.as_ref().as_ref().ok().map(service_account_of);
            f.pod = *p;
        }
        (Some(t), Some(TargetObj::Workload(w))) => match *w {
            Ok(obj) => {
                let (w, sel) = workload(t, &obj);
                f.sa_name = Some(service_account_of(&w.template));
                f.workload = Ok(w);
                selector = sel;
                f.pod = Err(Gap::not_asked(format!("{t} has no pod selector")));
            }
            Err(g) => f.workload = Err(g),
        },
        (Some(t), Some(TargetObj::Sa)) => {
            f.sa_name = Some(t.name.clone());
            pods_of_sa = true;
        }
        _ => {}
    }
    if let Some(Ok(list)) = &sas {
        f.service_accounts = Ok(list.clone());
        if let Some(name) = &f.sa_name {
            f.service_account = list
                .iter()
                .find(|s| s.metadata.name.as_deref() == Some(name))
                .cloned()
                .ok_or(Gap::NotFound);
        }
    } else if let Some(Err(e)) = &sas {
        f.service_accounts = Err(gap(e));
        f.service_account = Err(gap(e));
    }
    let client_id = super::checks::client_id(&f);

    // Wave 2: what wave 1 named: the pods of a workload or SA, the issuer's documents, Azure.
    let pods = async {
        if selector.is_none() && !pods_of_sa {
            return None;
        }
        n.kube();
        Some(k.pods(&ns, selector.as_deref()).await)
    };
    let issuer_docs = async {
        match (&f.cluster_issuer, &http) {
            (Ok(iss), Some(h)) => Some(discover(h, iss, &n).await),
            _ => None,
        }
    };
    let azure_facts = async {
        let az = match az {
            None => return Err(Gap::not_asked("no target: Azure not checked")),
            Some(Err(e)) => return Err(azure_gap(&e)),
            Some(Ok(az)) => az,
        };
        let Some(cid) = client_id.clone() else {
            return Ok((
                AzureFacts {
                    subscription: az.subscription.clone(),
                    identity: None,
                    identities_seen: 0,
                    principal_mixup: None,
                },
                az.arm.calls(),
                super::can::gather(&az.arm, ask.can, None).await,
            ));
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
            super::can::gather(&az.arm, ask.can, found),
        );
        let identity = found
            .zip(credentials)
            .map(|(i, credentials)| IdentityFacts {
                name: i.name.clone(),
                id: i.id.clone(),
                client_id: i.properties.client_id.clone(),
                credentials,
            });
        let principal_mixup = all
            .iter()
            .find(|i| i.properties.principal_id.eq_ignore_ascii_case(&cid))
            .map(|i| i.name.clone());
        Ok((
            AzureFacts {
                subscription: az.subscription.clone(),
                identity,
                identities_seen: all.len(),
                principal_mixup,
            },
            az.arm.calls(),
            can,
        ))
    };
    let (pods, docs, azure) = tokio::join!(pods, issuer_docs, azure_facts);
    let waves = 2;
    let mut arm_calls = 0;
    let mut can = match ask.can {
        Some(_) => Err(Gap::unreachable(
            "Azure was not reached (see the azure checks)",
        )),
        None => Err(Gap::not_asked("--can not given")),
    };
    f.azure = azure.map(|(a, calls, c)| {
        arm_calls = calls;
        can = c;
        a
    });
    f.can = can;
    if ask.target.is_none() {
        f.azure = Err(Gap::not_asked("no target"));
    }
    let mut jwks = None;
    if let Some((d, j)) = docs {
        f.discovery = d;
        jwks = j;
    }
    match pods {
        Some(Ok(list)) => {
            let list: Vec<Pod> = if pods_of_sa {
                let sa = f.sa_name.clone().unwrap_or_default();
                list.into_iter()
                    .filter(|p| service_account_of(p) == sa)
                    .collect()
            } else {
                list
            };
            f.pod = newest(list).ok_or(Gap::NotFound);
        }
        Some(Err(e)) => f.pod = Err(gap(&e)),
        None => {}
    }
    if pods_of_sa && f.pod == Err(Gap::NotFound) {
        f.pod = Err(Gap::not_asked("no pod runs as this service account"));
    }

    // One exec: the container's AZURE_* variables and the token file they name.
    let mut exchange_input = None;
    if let Ok(pod) = &f.pod {
        let name = pod.metadata.name.clone().unwrap_or_default();
        f.container = pick_container(pod, ask.container);
        f.token = if !running(pod) {
            Err(Gap::unreachable(format!(
                "pod {name} is not running ({})",
                pod.status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_else(|| "no phase".into())
            )))
        } else {
            let c = f.container.clone().unwrap_or_default();
            n.execs.fetch_add(1, Ordering::Relaxed);
            match k.exec(&ns, &name, &c, &["sh", "-c", READ_SCRIPT]).await {
                Err(e) => Err(gap(&e)),
                Ok(out) => {
                    let read = parse_read(&out.stdout, &out.stderr);
                    let jwt = match &read.token {
                        Ok(t) => Jwt::decode(t).map_err(|e| e.to_string()),
                        Err(why) => Err(why.clone()),
                    };
                    let signature = match (&read.token, &jwt) {
                        (Ok(t), Ok(j)) => {
                            // The token's own issuer is what Entra fetches keys from.
                            let iss = j.claims.iss.clone().unwrap_or_default();
                            let same = f.cluster_issuer.as_ref().is_ok_and(|c| *c == iss);
                            let keys = match (&jwks, same, &http) {
                                (Some(j), true, _) => Ok(j.clone()),
                                (_, false, Some(h)) => match discover(h, &iss, &n).await {
                                    (_, Some(j)) => Ok(j),
                                    (Err(g), None) => Err(g),
                                    (Ok(d), None) => {
                                        Err(Gap::unreachable(d.jwks.err().unwrap_or_default()))
                                    }
                                },
                                _ => Err(Gap::unreachable("the issuer's JWKS was not fetched")),
                            };
                            keys.map(|k| jwks::verify(t, &k).map_err(|e| e.to_string()))
                        }
                        _ => Err(Gap::not_asked("no token")),
                    };
                    if ask.exchange
                        && let Ok(t) = &read.token
                    {
                        exchange_input = Some((read.env.clone(), t.clone()));
                    }
                    Ok(TokenFacts {
                        container: c,
                        file: read.env.get(keys::ENV_TOKEN_FILE).cloned(),
                        jwt,
                        signature,
                    })
                }
            }
        };
    }

    f.exchange = if !ask.exchange {
        Err(Gap::not_asked(
            "pass --exchange to exchange the pod's token at Entra",
        ))
    } else {
        match (exchange_input, &http) {
            (Some((env, token)), Some(h)) => {
                n.http();
                Ok(exchange(h, &env, &token, ctx).await)
            }
            _ => Err(Gap::not_asked("no token was read (see token-file)")),
        }
    };

    let stats = Stats {
        kube_calls: n.kube.load(Ordering::Relaxed),
        arm_calls,
        http_calls: n.http.load(Ordering::Relaxed),
        execs: n.execs.load(Ordering::Relaxed),
        waves,
        gather_ms: started.elapsed().as_millis() as u64,
        rounds: 1,
    };
    (f, stats)
}

/// Counts a Kubernetes call as it is issued.
fn counted<F>(n: &Counters, fut: F) -> F {
    n.kube();
    fut
}

enum TargetObj {
    Pod(Box<Fact<Pod>>),
    Workload(Box<Fact<kube::api::DynamicObject>>),
    Sa,
}

/// The pod's own exchange: its client id, tenant and authority, its token. The token is
/// dropped here; only the outcome is kept.
async fn exchange(
    http: &reqwest::Client,
    env: &BTreeMap<String, String>,
    token: &str,
    ctx: &Ctx,
) -> Exchange {
    let get = |k: &str| env.get(k).cloned().unwrap_or_default();
    let authority = env
        .get(keys::ENV_AUTHORITY_HOST)
        .cloned()
        .unwrap_or_else(|| ctx.cloud.authority.clone());
    let tenant = get(keys::ENV_TENANT_ID);
    match entra::exchange(
        http,
        &authority,
        &tenant,
        &get(keys::ENV_CLIENT_ID),
        token,
        &ctx.cloud.arm_scope,
    )
    .await
    {
        Ok(at) => {
            let claims = Jwt::decode(at.expose()).ok().map(|j| j.claims);
            Exchange::Ok {
                tenant: claims
                    .as_ref()
                    .and_then(|c| c.other.get("tid"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or(tenant),
                expires: claims.and_then(|c| c.exp),
            }
        }
        Err(e @ entra::EntraError::Refused { .. }) => {
            let entra::EntraError::Refused { description, .. } = &e else {
                unreachable!()
            };
            Exchange::Refused {
                code: e.aadsts(),
                description: description.clone(),
            }
        }
        Err(e) => Exchange::Refused {
            code: None,
            description: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_container_read() {
        let out = "AZURE_CLIENT_ID=c\nAZURE_TENANT_ID=t\nAZURE_AUTHORITY_HOST=\nAZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/wi/token/azure-identity-token\n--azwi--\neyJ.a.b\n";
        let r = parse_read(out, "");
        assert_eq!(r.env.get("AZURE_CLIENT_ID").map(String::as_str), Some("c"));
        assert!(
            !r.env.contains_key("AZURE_AUTHORITY_HOST"),
            "empty is unset"
        );
        assert_eq!(r.token.as_deref(), Ok("eyJ.a.b"));
        let r = parse_read(
            "AZURE_FEDERATED_TOKEN_FILE=/x\n--azwi--\n",
            "cat: /x: Permission denied\n",
        );
        assert_eq!(r.token, Err("cat: /x: Permission denied".into()));
    }

    #[test]
    fn webhook_failure_events_are_recent_only() {
        let ev = |msg: &str, t: &str| -> Event {
            serde_json::from_value(serde_json::json!({"metadata": {"name": "e"}, "involvedObject": {}, "message": msg, "lastTimestamp": t})).unwrap()
        };
        let now = 1_800_000_000; // 2027-01-15T08:00:00Z
        let events = [
            ev(
                "Error creating: Internal error occurred: failed calling webhook \"mutation.azure-workload-identity.io\": x",
                "2027-01-15T07:59:00Z",
            ),
            ev(
                "Error creating: failed calling webhook \"w\": old",
                "2027-01-14T07:00:00Z",
            ),
            ev("Scaled up", "2027-01-15T07:59:00Z"),
        ];
        let hits = failed_webhook_calls(&events, now);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert!(hits[0].contains("mutation.azure-workload-identity.io"));
    }

    #[test]
    fn picks_the_injected_app_container() {
        let pod = mutation::fixtures::mutated_pod(mutation::Layout::Reserved);
        assert_eq!(pick_container(&pod, None).as_deref(), Some("app"));
        assert_eq!(pick_container(&pod, Some("x")).as_deref(), Some("x"));
    }
}
