//! The README's tour (scripts/tour) runs green against the test ground: bind, the walkthrough's
//! quick-start pod, doctor all ✔, exec-login, and a broken variant doctor catches.

use std::process::Command;

use crate::support::{self, Ground, azure::Sub};

#[tokio::test]
async fn the_walkthrough_tour_passes() {
    let g = Ground::get();
    let sub = Sub::new().await;
    sub.resource_group("myResourceGroup").await;
    let ns = support::namespace(&g.client().await, "tour", &[]).await;

    // kubectl and the plugin (both binaries) on PATH, as `scripts/sandbox up` installs them.
    let (_, path) = support::path_with(
        "tour",
        &[
            ("kubectl-azwi", env!("CARGO_BIN_EXE_kubectl-azwi")),
            ("kubectl", g.var("AZWI_GROUND_KUBECTL")),
        ],
    );
    let out = Command::new("bash")
        .arg(support::repo().join("scripts/tour"))
        .arg(&ns)
        .envs(sub.env())
        .env("KUBECONFIG", g.kubeconfig())
        .env("SSL_CERT_FILE", g.var("AZWI_GROUND_CA"))
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "tour failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for want in [
        "$ kubectl azwi bind workload-identity-sa",
        "created       federated credential",
        "$ kubectl azwi doctor pod/quick-start",
        "$ kubectl azwi exec-login pod/quick-start",
        "expected to fail (exit 3)",
        "tour complete",
    ] {
        assert!(
            stdout.contains(want),
            "tour output lacks '{want}':\n{stdout}"
        );
    }
}
