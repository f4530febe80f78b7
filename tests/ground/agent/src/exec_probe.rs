//! Proof that kwok serves a pod's current `Exec` before the pod may turn Running.
//!
//! kwok learns `Exec` objects through its own informer, so an `Exec` the agent has just applied
//! may not be known to kwok yet (on a fresh ground its CRD informer can lag by seconds). An exec
//! in that window runs without the container's env, and a test reading
//! `AZURE_FEDERATED_TOKEN_FILE` right after the pod turned Running sees none. A kubelet starts
//! containers only once their runtime is set up; the agent does the same by execing a probe
//! through the API server and kwok, which must echo back the marker of the `Exec` just applied.
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::{Api, api::AttachParams};
use tokio::{io::AsyncReadExt, time::Instant};
use tracing::debug;

/// The env var carrying the marker; the exec shim answers the probe with it and hides it from
/// every other command.
pub const MARKER_ENV: &str = "AZWI_GROUND_EXEC";
/// The command (a name linked to the exec shim, like `sh`) that prints the marker.
pub const PROBE: &str = "ground-exec-probe";

type BoxErr = Box<dyn std::error::Error + Send + Sync>;

/// A marker unique to one `prepare` of one pod: its uid and the time of the attempt.
pub fn marker(uid: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{uid}:{nanos}")
}

/// Waits (bounded) until an exec in `container` runs with `marker` in its environment.
pub async fn prove(api: &Api<Pod>, pod: &str, container: &str, marker: &str) -> Result<(), BoxErr> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut delay = Duration::from_millis(50);
    loop {
        let seen = once(api, pod, container).await;
        match &seen {
            Ok(out) if out.trim() == marker => return Ok(()),
            Ok(out) => {
                debug!(pod, container, seen = %out.trim(), "exec probe: Exec not current yet")
            }
            Err(e) => debug!(pod, container, error = %e, "exec probe failed"),
        }
        if Instant::now() >= deadline {
            let last = match seen {
                Ok(out) => format!("the probe saw marker {:?}", out.trim()),
                Err(e) => e.to_string(),
            };
            return Err(
                format!("kwok does not serve the pod's current Exec after 30s: {last}").into(),
            );
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}

async fn once(api: &Api<Pod>, pod: &str, container: &str) -> Result<String, BoxErr> {
    let ap = AttachParams::default()
        .container(container)
        .stdout(true)
        .stderr(false);
    let mut proc = api.exec(pod, [PROBE], &ap).await?;
    let mut out = String::new();
    if let Some(mut s) = proc.stdout() {
        s.read_to_string(&mut out).await?;
    }
    proc.join().await?;
    Ok(out)
}
