//! ground-agent: the kubelet stand-in of the kubectl-azwi test ground.
//!
//! `ground-agent run --dir DIR --node NODE [--pod-bin DIR]` watches every pod and
//! - acts as the scheduler: binds unscheduled pods to the kwok node (pods/binding);
//! - acts as the kubelet's volume manager for pods on that node: mints every projected
//!   `serviceAccountToken` source through the TokenRequest API (bound to the pod), writes it into
//!   the pod's root `DIR/pods/<ns>/<pod>/root/<mountPath>/<path>` and refreshes it at 80% of its
//!   TTL; also writes the trivial configMap/downwardAPI parts of projected volumes;
//! - wires `kubectl exec`: one kwok `Exec` object per pod, one entry per container, carrying that
//!   container's env and the pod dir as workDir (the exec shim enters the pod's filesystem view);
//! - proves kwok serves that Exec (a probe exec must see its marker, see exec_probe.rs);
//! - marks the pod prepared (annotation) so kwok's pod stage turns it Running only once its
//!   volumes and exec wiring exist, like a kubelet starts containers after mounting volumes;
//! - ends a deleted pod as the kubelet's status manager does: DELETE with grace period 0 and a
//!   UID precondition, so a pod created again under the same name is never the one removed
//!   (kwok's `delete: true` stage deletes by name only, and did remove such a successor).
//!
//! `ground-agent forward LISTEN CONNECT` is a byte pipe (tcp:HOST:PORT or unix:PATH on either
//! side) used to reach webhooks that run in their own network namespace.
mod exec_probe;
mod forward;
mod pod;

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
    sync::Arc,
};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Binding, ObjectReference, Pod};
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, PostParams, Preconditions},
    runtime::{WatchStreamExt, watcher},
};
use tracing::{error, info, warn};

pub const PREPARED_ANNOTATION: &str = "ground.azwi.test/prepared";

pub struct Ctx {
    pub client: Client,
    pub dir: PathBuf,
    pub node: String,
    pub pod_bin: Option<PathBuf>,
    pub api_host: String,
    pub api_port: String,
}

fn usage() -> ! {
    eprintln!(
        "usage: ground-agent run --dir DIR --node NODE [--pod-bin DIR]\n       ground-agent forward LISTEN CONNECT   (tcp:HOST:PORT | unix:PATH)"
    );
    std::process::exit(2)
}

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GROUND_AGENT_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    rustls::crypto::aws_lc_rs::default_provider()
        .install_default()
        .expect("install aws-lc-rs crypto provider");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let res = match args.first().map(String::as_str) {
        Some("forward") if args.len() == 3 => rt.block_on(forward::run(&args[1], &args[2])),
        Some("run") => {
            let mut dir = None;
            let mut node = None;
            let mut pod_bin = None;
            let mut it = args[1..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--dir" => dir = it.next().map(PathBuf::from),
                    "--node" => node = it.next().cloned(),
                    "--pod-bin" => pod_bin = it.next().map(PathBuf::from),
                    _ => usage(),
                }
            }
            let (Some(dir), Some(node)) = (dir, node) else {
                usage()
            };
            rt.block_on(run(dir, node, pod_bin))
        }
        _ => usage(),
    };
    if let Err(e) = res {
        error!(error = %e, "ground-agent failed");
        std::process::exit(1);
    }
}

struct Tracked {
    uid: String,
    task: tokio::task::JoinHandle<()>,
}

async fn run(
    dir: PathBuf,
    node: String,
    pod_bin: Option<PathBuf>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let config = kube::Config::infer().await?;
    let api_host = config.cluster_url.host().unwrap_or("127.0.0.1").to_string();
    let api_port = config.cluster_url.port_u16().unwrap_or(443).to_string();
    let client = Client::try_from(config)?;
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        dir,
        node,
        pod_bin,
        api_host,
        api_port,
    });
    info!(node = %ctx.node, dir = %ctx.dir.display(), "ground-agent started (scheduler + kubelet stand-in)");

    let pods: Api<Pod> = Api::all(client);
    let mut events = watcher(pods, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut tracked: HashMap<String, Tracked> = HashMap::new();
    let mut bound: HashSet<String> = HashSet::new();
    let mut relist: HashSet<String> = HashSet::new();
    let mut synced = false;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;

    loop {
        let ev = tokio::select! {
            ev = events.next() => match ev { Some(ev) => ev, None => break },
            _ = term.recv() => { info!("SIGTERM: stopping"); break }
            _ = tokio::signal::ctrl_c() => { info!("SIGINT: stopping"); break }
        };
        match ev {
            Ok(watcher::Event::Init) => relist.clear(),
            Ok(watcher::Event::InitApply(p)) => {
                relist.insert(key(&p));
                on_apply(&ctx, &mut tracked, &mut bound, p);
            }
            Ok(watcher::Event::InitDone) => {
                if !synced {
                    synced = true;
                    info!(pods = relist.len(), "initial pod list synced");
                }
                let gone: Vec<String> = tracked
                    .keys()
                    .filter(|k| !relist.contains(*k))
                    .cloned()
                    .collect();
                for k in gone {
                    let (ns, name) = k.split_once('/').unwrap();
                    forget(&ctx, &mut tracked, ns, name).await;
                }
            }
            Ok(watcher::Event::Apply(p)) => on_apply(&ctx, &mut tracked, &mut bound, p),
            Ok(watcher::Event::Delete(p)) => {
                let uid = p.uid().unwrap_or_default();
                bound.remove(&uid);
                // A successor under the same name may be tracked already: leave it alone.
                if tracked.get(&key(&p)).is_some_and(|t| t.uid == uid) {
                    let ns = p.namespace().unwrap_or_default();
                    forget(&ctx, &mut tracked, &ns, &p.name_any()).await;
                }
            }
            Err(e) => warn!(error = %e, "pod watch error (retrying with backoff)"),
        }
    }
    for (_, t) in tracked.drain() {
        t.task.abort();
    }
    Ok(())
}

fn key(p: &Pod) -> String {
    format!("{}/{}", p.namespace().unwrap_or_default(), p.name_any())
}

fn on_apply(
    ctx: &Arc<Ctx>,
    tracked: &mut HashMap<String, Tracked>,
    bound: &mut HashSet<String>,
    p: Pod,
) {
    let uid = p.uid().unwrap_or_default();
    let spec = p.spec.clone().unwrap_or_default();
    match spec.node_name.as_deref() {
        None | Some("") => {
            if p.metadata.deletion_timestamp.is_none() && bound.insert(uid) {
                tokio::spawn(scheduler_bind(ctx.clone(), p));
            }
        }
        Some(n) if n == ctx.node => {
            bound.remove(&uid);
            if p.metadata.deletion_timestamp.is_some() {
                tokio::spawn(finish_deletion(ctx.clone(), p.clone()));
            }
            let k = key(&p);
            if tracked.get(&k).is_some_and(|t| t.uid == uid) {
                return;
            }
            if let Some(old) = tracked.remove(&k) {
                old.task.abort();
            }
            let task = tokio::spawn(pod::kubelet(ctx.clone(), p));
            tracked.insert(k, Tracked { uid, task });
        }
        Some(_) => {}
    }
}

async fn forget(ctx: &Arc<Ctx>, tracked: &mut HashMap<String, Tracked>, ns: &str, name: &str) {
    let Some(t) = tracked.remove(&format!("{ns}/{name}")) else {
        return;
    };
    t.task.abort();
    pod::cleanup(ctx, ns, name).await;
}

/// The kubelet's last word on a pod marked for deletion: remove the object now, but only this
/// very pod (UID precondition). Several updates of one terminating pod each ask again; the
/// later ones find it gone (404) or replaced (409), which is the point.
async fn finish_deletion(ctx: Arc<Ctx>, p: Pod) {
    let ns = p.namespace().unwrap_or_default();
    let name = p.name_any();
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions {
            uid: p.uid(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    match api.delete(&name, &params).await {
        Ok(_) => info!(pod = %format!("{ns}/{name}"), "deleted (grace period 0, uid precondition)"),
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
        Err(e) => {
            warn!(pod = %format!("{ns}/{name}"), error = %e, "deleting terminating pod failed")
        }
    }
}

/// The scheduler role: bind an unscheduled pod to the single kwok node.
async fn scheduler_bind(ctx: Arc<Ctx>, p: Pod) {
    let ns = p.namespace().unwrap_or_default();
    let name = p.name_any();
    let sched = p.spec.as_ref().and_then(|s| s.scheduler_name.clone());
    if sched.as_deref().is_some_and(|s| s != "default-scheduler") {
        info!(target: "scheduler", pod = %format!("{ns}/{name}"), scheduler = ?sched, "not ours to schedule");
        return;
    }
    let binding = Binding {
        metadata: kube::api::ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(ns.clone()),
            ..Default::default()
        },
        target: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Node".into()),
            name: Some(ctx.node.clone()),
            ..Default::default()
        },
    };
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let mut delay = std::time::Duration::from_millis(200);
    for attempt in 1..=8 {
        match api
            .create_subresource::<_, serde_json::Value>(
                "binding",
                &name,
                &PostParams::default(),
                &binding,
            )
            .await
        {
            Ok(_) => {
                info!(target: "scheduler", pod = %format!("{ns}/{name}"), node = %ctx.node, "bound");
                return;
            }
            // 409: already bound (by us earlier); 404: pod gone. Nothing left to do.
            Err(kube::Error::Api(s)) if s.code == 409 || s.code == 404 => {
                info!(target: "scheduler", pod = %format!("{ns}/{name}"), code = s.code, reason = %s.message, "not bound");
                return;
            }
            Err(e) => {
                warn!(target: "scheduler", pod = %format!("{ns}/{name}"), attempt, error = %e, "bind failed, retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(10));
            }
        }
    }
    error!(target: "scheduler", pod = %format!("{ns}/{name}"), "giving up binding");
}
