//! The kubelet half: per pod, project volumes into the pod root, wire kwok's Exec, refresh tokens.
use std::{
    collections::BTreeMap,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use k8s_openapi::{
    ByteString,
    api::{
        authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec},
        core::v1::{ConfigMap, Container, EnvVar, Pod, Secret, ServiceAccount, VolumeMount},
    },
};
use kube::{
    Api, ResourceExt,
    api::{
        ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
    },
};
use serde_json::json;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::{Ctx, PREPARED_ANNOTATION, exec_probe};

type BoxErr = Box<dyn std::error::Error + Send + Sync>;

pub fn pod_dir(ctx: &Ctx, ns: &str, name: &str) -> PathBuf {
    ctx.dir.join("pods").join(ns).join(name)
}

/// A container's exec directory (its Exec workDir): `<pod dir>/c/<container>`, holding the
/// marker files the exec shim reads (see exec-shim.sh).
fn container_dir(pod_dir: &Path, container: &str) -> PathBuf {
    pod_dir.join("c").join(container)
}

/// Images built FROM a distroless base carry no shell and no coreutils, so a runtime cannot
/// exec `sh` or `cat` in them: any image whose repository path has a segment starting with
/// "distroless" (gcr.io/distroless/static, mcr.microsoft.com/cbl-mariner/distroless/minimal,
/// registry.k8s.io/build-image/distroless-iptables), and the workload-identity webhook's
/// proxy and proxy-init images, built FROM those (v1.6.0 docker/proxy.Dockerfile,
/// docker/proxy-init.Dockerfile).
pub fn shell_less(image: &str) -> bool {
    let repo = image.split('@').next().unwrap_or(image);
    let repo = match repo.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => repo,
    };
    repo.split('/').any(|seg| seg.starts_with("distroless"))
        || repo.ends_with("/workload-identity/proxy")
        || repo.ends_with("/workload-identity/proxy-init")
}

fn exec_api(ctx: &Ctx, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("kwok.x-k8s.io", "v1alpha1", "Exec"),
        "execs",
    );
    Api::namespaced_with(ctx.client.clone(), ns, &ar)
}

/// One projected serviceAccountToken source, written to every place a container mounts it.
struct TokenSource {
    volume: String,
    audience: Option<String>,
    expiration: i64,
    mode: u32,
    targets: Vec<PathBuf>,
}

/// Where `path` inside a volume lands in the pod root for this mount (honours subPath).
fn target(root: &Path, m: &VolumeMount, path: &str) -> Option<PathBuf> {
    let base = root.join(m.mount_path.trim_start_matches('/'));
    match m.sub_path.as_deref().filter(|s| !s.is_empty()) {
        None => Some(base.join(path)),
        Some(sp) if sp == path => Some(base),
        Some(sp) => path
            .strip_prefix(&format!("{sp}/"))
            .map(|rest| base.join(rest)),
    }
}

fn all_containers(p: &Pod) -> Vec<&Container> {
    let spec = p.spec.as_ref().expect("pod spec");
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .collect()
}

fn field(p: &Pod, path: &str) -> Option<String> {
    let spec = p.spec.as_ref();
    match path {
        "metadata.name" => Some(p.name_any()),
        "metadata.namespace" => p.namespace(),
        "metadata.uid" => p.uid(),
        "spec.serviceAccountName" => Some(
            spec.and_then(|s| s.service_account_name.clone())
                .unwrap_or_else(|| "default".into()),
        ),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()),
        "status.hostIP" => Some("127.0.0.1".into()),
        "status.podIP" => p.status.as_ref().and_then(|s| s.pod_ip.clone()),
        _ => {
            if let Some(k) = path
                .strip_prefix("metadata.labels['")
                .and_then(|r| r.strip_suffix("']"))
            {
                return p.labels().get(k).cloned();
            }
            if let Some(k) = path
                .strip_prefix("metadata.annotations['")
                .and_then(|r| r.strip_suffix("']"))
            {
                return p.annotations().get(k).cloned();
            }
            None
        }
    }
}

async fn write_file(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path.parent().expect("file has a parent");
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default()
    ));
    tokio::fs::write(&tmp, data).await?;
    tokio::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).await?;
    tokio::fs::rename(&tmp, path).await
}

/// Runs for the life of a pod on the node; aborted when the pod goes away.
pub async fn kubelet(ctx: Arc<Ctx>, p: Pod) {
    let id = format!("{}/{}", p.namespace().unwrap_or_default(), p.name_any());
    let mut backoff = Duration::from_millis(500);
    loop {
        match prepare(&ctx, &p).await {
            Ok(tokens) => {
                info!(pod = %id, tokens = tokens.len(), "pod prepared");
                if let Err(e) = refresh_loop(&ctx, &p, tokens).await {
                    warn!(pod = %id, error = %e, "token refresh failed, re-preparing");
                }
            }
            Err(e) => warn!(pod = %id, error = %e, "preparing pod failed, retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(15));
    }
}

/// Per container, what the runtime knows of its image and security context, as marker files
/// in its exec dir for the exec shim: `no-shell`, `read-only`.
async fn mark_containers(dir: &Path, containers: &[&Container]) -> std::io::Result<()> {
    for c in containers {
        let cdir = container_dir(dir, &c.name);
        tokio::fs::create_dir_all(&cdir).await?;
        if shell_less(c.image.as_deref().unwrap_or_default()) {
            tokio::fs::write(cdir.join("no-shell"), b"").await?;
        }
        let read_only = c
            .security_context
            .as_ref()
            .and_then(|s| s.read_only_root_filesystem)
            .unwrap_or(false);
        if read_only {
            tokio::fs::write(cdir.join("read-only"), b"").await?;
        }
    }
    Ok(())
}

async fn prepare(ctx: &Ctx, p: &Pod) -> Result<Vec<(TokenSource, Instant)>, BoxErr> {
    let ns = p.namespace().unwrap_or_default();
    let name = p.name_any();
    let dir = pod_dir(ctx, &ns, &name);
    let root = dir.join("root");
    let _ = tokio::fs::remove_dir_all(&root).await;
    let _ = tokio::fs::remove_dir_all(dir.join("c")).await;
    tokio::fs::create_dir_all(root.join("var/run/secrets")).await?;
    tokio::fs::create_dir_all(root.join("bin")).await?;
    // The pod's own /tmp (bound over /tmp by the exec shim) and its HOME: what a process in
    // the pod writes stays in the pod.
    for d in ["tmp", "root"] {
        tokio::fs::create_dir_all(root.join(d)).await?;
    }
    tokio::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).await?;
    let spec = p.spec.as_ref().ok_or("pod without spec")?;
    let containers = all_containers(p);
    mark_containers(&dir, &containers).await?;

    // Tools a real image would carry: the in-pod az stand-in for azure-cli images.
    if let Some(pb) = &ctx.pod_bin {
        let az = pb.join("az");
        if az.exists()
            && containers
                .iter()
                .any(|c| c.image.as_deref().unwrap_or("").contains("azure-cli"))
        {
            tokio::fs::symlink(&az, root.join("bin/az")).await?;
        }
    }

    // Projected volumes.
    let mut tokens: Vec<TokenSource> = Vec::new();
    let volumes = spec.volumes.clone().unwrap_or_default();
    for c in &containers {
        for m in c.volume_mounts.iter().flatten() {
            let Some(v) = volumes.iter().find(|v| v.name == m.name) else {
                continue;
            };
            let Some(proj) = &v.projected else { continue };
            let default_mode = proj.default_mode.unwrap_or(0o644) as u32;
            for (i, src) in proj.sources.iter().flatten().enumerate() {
                if let Some(t) = &src.service_account_token {
                    let Some(tp) = target(&root, m, &t.path) else {
                        continue;
                    };
                    let vkey = format!("{}#{i}", v.name);
                    match tokens.iter_mut().find(|x| x.volume == vkey) {
                        Some(x) => x.targets.push(tp),
                        None => tokens.push(TokenSource {
                            volume: vkey,
                            audience: t.audience.clone().filter(|a| !a.is_empty()),
                            expiration: t.expiration_seconds.unwrap_or(3600),
                            mode: default_mode,
                            targets: vec![tp],
                        }),
                    }
                }
                if let Some(cm) = &src.config_map {
                    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ns);
                    let data = match api.get_opt(&cm.name).await? {
                        Some(c) => c.data.unwrap_or_default(),
                        None if cm.optional == Some(true) => continue,
                        None => return Err(format!("configMap {ns}/{} not found", cm.name).into()),
                    };
                    for (k, path, mode) in items(&data, cm.items.as_deref()) {
                        if let Some(tp) = target(&root, m, &path) {
                            write_file(&tp, data[&k].as_bytes(), mode.unwrap_or(default_mode))
                                .await?;
                        }
                    }
                }
                if let Some(sec) = &src.secret {
                    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
                    let data: BTreeMap<String, ByteString> = match api.get_opt(&sec.name).await? {
                        Some(s) => s.data.unwrap_or_default(),
                        None if sec.optional == Some(true) => continue,
                        None => return Err(format!("secret {ns}/{} not found", sec.name).into()),
                    };
                    for (k, path, mode) in items(&data, sec.items.as_deref()) {
                        if let Some(tp) = target(&root, m, &path) {
                            write_file(&tp, &data[&k].0, mode.unwrap_or(default_mode)).await?;
                        }
                    }
                }
                if let Some(dapi) = &src.downward_api {
                    for item in dapi.items.iter().flatten() {
                        let Some(fr) = &item.field_ref else { continue };
                        let Some(val) = field(p, &fr.field_path) else {
                            continue;
                        };
                        if let Some(tp) = target(&root, m, &item.path) {
                            let mode = item.mode.map(|m| m as u32).unwrap_or(default_mode);
                            write_file(&tp, val.as_bytes(), mode).await?;
                        }
                    }
                }
            }
        }
    }
    let mut scheduled = Vec::new();
    for t in tokens {
        let next = mint(ctx, p, &t).await?;
        scheduled.push((t, next));
    }

    // kubectl exec wiring, marked so the probe below can tell this version of it from none.
    let uid = p.uid().unwrap_or_default();
    let marker = exec_probe::marker(&uid);
    let mut execs = Vec::new();
    for c in &containers {
        let mut envs = container_env(ctx, p, c).await?;
        envs.push(json!({ "name": exec_probe::MARKER_ENV, "value": marker }));
        execs.push(json!({
            "containers": [c.name],
            "local": {
                "workDir": container_dir(&dir, &c.name).to_string_lossy(),
                "envs": envs,
            },
        }));
    }
    let exec = json!({
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Exec",
        "metadata": {
            "name": name, "namespace": ns,
            "labels": { "app.kubernetes.io/managed-by": "ground-agent" },
            "ownerReferences": [{ "apiVersion": "v1", "kind": "Pod", "name": name, "uid": uid }],
        },
        "spec": { "execs": execs },
    });
    exec_api(ctx, &ns)
        .patch(
            &name,
            &PatchParams::apply("ground-agent").force(),
            &Patch::Apply(exec),
        )
        .await?;

    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    if let Some(c) = spec.containers.first() {
        exec_probe::prove(&api, &name, &c.name, &marker).await?;
    }

    // Volumes and exec are in place: let kwok start the pod.
    if !p.annotations().contains_key(PREPARED_ANNOTATION) {
        let patch = json!({ "metadata": { "annotations": { PREPARED_ANNOTATION: "true" } } });
        api.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
    }
    Ok(scheduled)
}

fn items<V>(
    data: &BTreeMap<String, V>,
    items: Option<&[k8s_openapi::api::core::v1::KeyToPath]>,
) -> Vec<(String, String, Option<u32>)> {
    match items {
        Some(items) => items
            .iter()
            .filter(|i| data.contains_key(&i.key))
            .map(|i| (i.key.clone(), i.path.clone(), i.mode.map(|m| m as u32)))
            .collect(),
        None => data.keys().map(|k| (k.clone(), k.clone(), None)).collect(),
    }
}

/// Mints one token through the TokenRequest API (bound to the pod), writes it everywhere it is
/// mounted, and returns when it is due for refresh (80% of its TTL, at most 24 h, like kubelet).
async fn mint(ctx: &Ctx, p: &Pod, t: &TokenSource) -> Result<Instant, BoxErr> {
    let ns = p.namespace().unwrap_or_default();
    let sa = p
        .spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .unwrap_or_else(|| "default".into());
    let api: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), &ns);
    let tr = TokenRequest {
        spec: TokenRequestSpec {
            audiences: t.audience.iter().cloned().collect(),
            expiration_seconds: Some(t.expiration),
            bound_object_ref: Some(BoundObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(p.name_any()),
                uid: p.uid(),
            }),
        },
        ..Default::default()
    };
    let started = Instant::now();
    let res = api
        .create_token_request(&sa, &PostParams::default(), &tr)
        .await?;
    let token = res.status.ok_or("TokenRequest without status")?.token;
    for f in &t.targets {
        write_file(f, token.as_bytes(), t.mode).await?;
    }
    let ttl = t.expiration.clamp(1, 86400) as u64;
    debug!(pod = %p.name_any(), volume = %t.volume, audience = ?t.audience, ttl, "token written");
    Ok(started + Duration::from_millis(ttl * 800))
}

async fn refresh_loop(
    ctx: &Ctx,
    p: &Pod,
    mut tokens: Vec<(TokenSource, Instant)>,
) -> Result<(), BoxErr> {
    if tokens.is_empty() {
        std::future::pending::<()>().await;
    }
    loop {
        let next = tokens.iter().map(|(_, at)| *at).min().expect("non-empty");
        tokio::time::sleep_until(next).await;
        for (t, at) in tokens.iter_mut() {
            if *at <= Instant::now() {
                *at = mint(ctx, p, t).await?;
                info!(pod = %p.name_any(), volume = %t.volume, "token refreshed");
            }
        }
    }
}

/// The container's environment as kwok's local exec will see it (appended after kwok's own).
async fn container_env(
    ctx: &Ctx,
    p: &Pod,
    c: &Container,
) -> Result<Vec<serde_json::Value>, BoxErr> {
    let ns = p.namespace().unwrap_or_default();
    let root = pod_dir(ctx, &ns, &p.name_any()).join("root");
    let own: Vec<&EnvVar> = c.env.iter().flatten().collect();
    let has = |n: &str| own.iter().any(|e| e.name == n);
    let mut env: Vec<(String, String)> = vec![
        ("HOSTNAME".into(), p.name_any()),
        ("KUBERNETES_SERVICE_HOST".into(), ctx.api_host.clone()),
        ("KUBERNETES_SERVICE_PORT".into(), ctx.api_port.clone()),
    ];
    if !has("HOME") {
        // The pod's own home (a host path: the ground lives under the host's /root).
        env.push(("HOME".into(), root.join("root").display().to_string()));
    }
    if !has("PATH") {
        env.push((
            "PATH".into(),
            format!(
                "{}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                root.display()
            ),
        ));
    }
    for from in c.env_from.iter().flatten() {
        let prefix = from.prefix.clone().unwrap_or_default();
        if let Some(r) = &from.config_map_ref {
            let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ns);
            if let Some(cm) = api.get_opt(&r.name).await? {
                for (k, v) in cm.data.unwrap_or_default() {
                    env.push((format!("{prefix}{k}"), v));
                }
            }
        }
        if let Some(r) = &from.secret_ref {
            let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
            if let Some(s) = api.get_opt(&r.name).await? {
                for (k, v) in s.data.unwrap_or_default() {
                    env.push((format!("{prefix}{k}"), String::from_utf8_lossy(&v.0).into()));
                }
            }
        }
    }
    for e in own {
        let val = match (&e.value, &e.value_from) {
            (Some(v), _) => Some(v.clone()),
            (None, Some(vf)) => {
                if let Some(fr) = &vf.field_ref {
                    field(p, &fr.field_path)
                } else if let Some(r) = &vf.config_map_key_ref {
                    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ns);
                    api.get_opt(&r.name)
                        .await?
                        .and_then(|c| c.data)
                        .and_then(|d| d.get(&r.key).cloned())
                } else if let Some(r) = &vf.secret_key_ref {
                    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
                    api.get_opt(&r.name)
                        .await?
                        .and_then(|s| s.data)
                        .and_then(|d| d.get(&r.key).map(|b| String::from_utf8_lossy(&b.0).into()))
                } else {
                    None
                }
            }
            (None, None) => Some(String::new()),
        };
        if let Some(v) = val {
            env.push((e.name.clone(), v));
        }
    }
    Ok(env
        .into_iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect())
}

/// Pod gone: drop its root and its Exec object (the owner reference would too, eventually).
pub async fn cleanup(ctx: &Ctx, ns: &str, name: &str) {
    let dir = pod_dir(ctx, ns, name);
    if let Err(e) = tokio::fs::remove_dir_all(&dir).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        warn!(dir = %dir.display(), error = %e, "removing pod dir failed");
    }
    match exec_api(ctx, ns)
        .delete(name, &DeleteParams::default())
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(e) => warn!(pod = %format!("{ns}/{name}"), error = %e, "deleting Exec failed"),
    }
    info!(pod = %format!("{ns}/{name}"), "pod cleaned up");
}

#[cfg(test)]
mod tests {
    use super::shell_less;

    #[test]
    fn distroless_images_have_no_shell() {
        for image in [
            "gcr.io/distroless/static:nonroot",
            "gcr.io/distroless/static-debian12@sha256:0123",
            "mcr.microsoft.com/cbl-mariner/distroless/minimal:2.0-nonroot",
            "registry.k8s.io/build-image/distroless-iptables:v0.9.3",
            "mcr.microsoft.com/oss/azure/workload-identity/proxy:v1.6.0",
            "mcr.microsoft.com/oss/azure/workload-identity/proxy-init:v1.6.0",
        ] {
            assert!(shell_less(image), "{image}");
        }
        for image in [
            "busybox",
            "mcr.microsoft.com/azure-cli:2.67.0",
            "ghcr.io/azure/azure-workload-identity/msal-go",
            "localhost:5000/app:1",
            "example.com/not-distroless-app:1",
        ] {
            assert!(!shell_less(image), "{image}");
        }
    }
}
