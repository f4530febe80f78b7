//! Runs tests/python (Microsoft's azure-identity + azure-mgmt-msi) against an in-process
//! emulator, then checks the server-side state those SDK calls left behind.

mod common;

use std::path::PathBuf;

use common::Ctx;
use reqwest::Method;
use serde_json::json;

/// `$AZWI_PY_VENV` or `${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-azwi-ground/venv` (setup.sh's).
fn venv() -> PathBuf {
    common::venv("AZWI_PY_VENV", "venv")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsoft_python_sdk_against_emulator() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = venv().join("bin/python");
    assert!(
        python.is_file(),
        "python venv not found at {}: run tests/python/setup.sh",
        venv().display()
    );

    let ctx = Ctx::new().await;
    let s = ctx.subscription(json!({})).await;
    ctx.put_rg(&s, "py-rg").await;
    let ca = ctx.ca_file();
    let mut cmd = common::python(&ctx, &python, &ca, &s);
    cmd.args([
        "-m",
        "pytest",
        "tests/python",
        "-q",
        "-p",
        "no:cacheprovider",
    ])
    .current_dir(&repo)
    .env("AZWI_EMULATOR_CA", &ca)
    .env("SSL_CERT_FILE", &ca)
    .env("AZWI_CLIENT_ID", &s.owner_client_id)
    .env("AZWI_CLIENT_SECRET", &s.owner_secret)
    .env("AZWI_RESOURCE_GROUP", "py-rg")
    .env_remove("AZURE_AUTHORITY_HOST");
    let stdout = common::run_python(cmd, &ca).await;
    assert!(stdout.contains("1 passed"), "{stdout}");

    // Server side: the identity with exactly fic-a, and the writes the SDK made.
    let dump = ctx
        .control(
            Method::GET,
            &format!("/_emulator/subscriptions/{}/identities", s.sub),
            json!({}),
        )
        .await;
    let ids = dump["identities"].as_array().unwrap();
    assert_eq!(ids.len(), 1, "{dump}");
    assert_eq!(ids[0]["name"], "py-identity");
    let fics: Vec<&str> = ids[0]["federatedIdentityCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(fics, ["fic-a"]);
    let writes = ctx
        .control(
            Method::GET,
            &format!("/_emulator/subscriptions/{}/writes", s.sub),
            json!({}),
        )
        .await;
    let ops = &writes["byOperation"];
    assert_eq!(ops["UserAssignedIdentities_CreateOrUpdate"], 1, "{writes}");
    assert_eq!(
        ops["FederatedIdentityCredentials_CreateOrUpdate"], 3,
        "{writes}"
    );
    assert_eq!(ops["FederatedIdentityCredentials_Delete"], 1, "{writes}");
}
