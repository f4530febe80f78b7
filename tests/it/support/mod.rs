//! The test ground as tests see it: started once per test binary (or given by
//! `AZWI_GROUND_DIR`), one namespace per test, helpers to wait and exec without sleeps.
#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
    time::Duration,
};

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::{
    Api, Client, Config,
    api::{AttachParams, PostParams},
    config::{KubeConfigOptions, Kubeconfig},
    runtime::wait::{await_condition, conditions},
};

pub mod azure;
pub mod fixtures;

pub const ADMIN: &str = "azwi-ground";
pub const LIMITED: &str = "azwi-ground-limited";

pub struct Ground {
    pub dir: PathBuf,
    env: BTreeMap<String, String>,
}

static GROUND: OnceLock<Result<Ground, String>> = OnceLock::new();

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A program of one of tests/python/setup.sh's venvs: `$VAR/bin/PROGRAM`, else the venv
/// `DIR` under the cache (XDG_CACHE_HOME or ~/.cache)/kubectl-azwi-ground; missing = a
/// failure that names the fix.
pub fn venv_program(var: &str, dir: &str, program: &str) -> PathBuf {
    let venv = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .expect("HOME or XDG_CACHE_HOME");
        cache.join("kubectl-azwi-ground").join(dir)
    });
    let path = venv.join("bin").join(program);
    assert!(
        path.is_file(),
        "{program} not found at {}: run tests/python/setup.sh",
        path.display()
    );
    path
}

impl Ground {
    /// The shared ground. A ground that cannot start fails the test with the reason.
    pub fn get() -> &'static Ground {
        match GROUND.get_or_init(Ground::start) {
            Ok(g) => g,
            Err(why) => panic!("test ground unavailable: {why}"),
        }
    }

    fn start() -> Result<Ground, String> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let dir = match std::env::var_os("AZWI_GROUND_DIR") {
            Some(d) => PathBuf::from(d),
            None => {
                // Torn down by up.sh's reaper when this test process exits.
                let out = Command::new("bash")
                    .arg(repo().join("tests/ground/up.sh"))
                    .args(["--owner-pid", &std::process::id().to_string()])
                    .output()
                    .map_err(|e| format!("cannot run tests/ground/up.sh: {e}"))?;
                if !out.status.success() {
                    return Err(format!(
                        "tests/ground/up.sh failed (build it first with tests/ground/build.sh):\n{}",
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
                let stdout = String::from_utf8_lossy(&out.stdout);
                PathBuf::from(stdout.lines().last().unwrap_or_default().trim())
            }
        };
        let text = std::fs::read_to_string(dir.join("env")).map_err(|e| {
            format!(
                "{}: {e} (is AZWI_GROUND_DIR a running ground?)",
                dir.join("env").display()
            )
        })?;
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Ok(Ground { dir, env })
    }

    pub fn var(&self, key: &str) -> &str {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing from {}/env", self.dir.display()))
    }

    pub fn kubeconfig(&self) -> &Path {
        Path::new(self.var("KUBECONFIG"))
    }

    pub fn issuer(&self) -> &str {
        self.var("AZWI_GROUND_ISSUER")
    }

    pub async fn client(&self) -> Client {
        self.client_for(ADMIN).await
    }

    pub async fn client_for(&self, context: &str) -> Client {
        let kc = Kubeconfig::read_from(self.kubeconfig()).expect("ground kubeconfig");
        let opts = KubeConfigOptions {
            context: Some(context.into()),
            ..Default::default()
        };
        let config = Config::from_custom_kubeconfig(kc, &opts)
            .await
            .expect("ground kube config");
        Client::try_from(config).expect("kube client")
    }

    /// The ground's own kubectl (the pinned build), pointed at the ground.
    pub fn kubectl(&self) -> Command {
        let mut c = Command::new(self.var("AZWI_GROUND_KUBECTL"));
        c.env("KUBECONFIG", self.kubeconfig());
        c
    }

    /// The plugin binary under test, pointed at the ground and the Azure emulator.
    pub fn plugin(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kubectl-azwi"));
        c.env("KUBECONFIG", self.kubeconfig())
            .env("SSL_CERT_FILE", self.var("AZWI_GROUND_CA"))
            .env_remove("AZURE_SUBSCRIPTION_ID")
            .env_remove("AZURE_CLIENT_ID")
            .env_remove("AZURE_CLIENT_SECRET")
            .env_remove("AZURE_TENANT_ID")
            .env_remove("AZURE_FEDERATED_TOKEN_FILE")
            // A UTF-8 locale, whatever the runner's: the tables show ✔ ‼ × (tests/it/output.rs
            // sets LC_ALL=C for the ASCII fallback).
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_CTYPE");
        c
    }
}

/// A fresh namespace for one test, with optional labels (e.g. webhook routing).
pub async fn namespace(client: &Client, prefix: &str, labels: &[(&str, &str)]) -> String {
    let name = format!("{prefix}-{:08x}", rand::random::<u32>());
    let ns: Namespace = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": labels.iter().cloned().collect::<BTreeMap<_, _>>()}
    }))
    .unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
    name
}

/// Waits (watch, not sleep) until the pod is Running.
pub async fn wait_running(pods: &Api<Pod>, name: &str) -> Pod {
    let cond = await_condition(pods.clone(), name, conditions::is_pod_running());
    match tokio::time::timeout(Duration::from_secs(60), cond).await {
        Ok(Ok(Some(pod))) => pod,
        other => {
            let now = pods
                .get_opt(name)
                .await
                .ok()
                .flatten()
                .and_then(|p| p.status);
            panic!("pod {name} not Running within 60s: {other:?}; status: {now:?}")
        }
    }
}

/// Runs `argv` in a container through the API server's exec; returns stdout.
pub async fn exec(pods: &Api<Pod>, pod: &str, container: &str, argv: &[&str]) -> String {
    use tokio::io::AsyncReadExt;
    let ap = AttachParams::default()
        .container(container)
        .stderr(true)
        .stdout(true);
    let mut proc = pods
        .exec(pod, argv.iter().copied(), &ap)
        .await
        .expect("exec");
    let mut out = String::new();
    let mut err = String::new();
    proc.stdout()
        .unwrap()
        .read_to_string(&mut out)
        .await
        .unwrap();
    proc.stderr()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    let status = proc.take_status().unwrap().await;
    proc.join().await.unwrap();
    let ok = status.as_ref().and_then(|s| s.status.as_deref()) == Some("Success");
    assert!(
        ok,
        "exec {argv:?} in {pod}/{container} failed: {status:?}\nstderr: {err}"
    );
    out
}

/// A directory of symlinks `name -> target` put first on PATH, as an install would;
/// returns (that directory, the PATH value).
pub fn path_with(tag: &str, links: &[(&str, &str)]) -> (PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("azwi-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, target) in links {
        let link = dir.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target, &link).unwrap();
    }
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (dir, path)
}
