//! A failure to get a token is a login problem with the login fix, never "is the ARM endpoint
//! reachable?", and a refused token request is not repeated by the concurrent calls of a wave
//! (issue 11 item 7).

use super::setup;
use crate::support;

/// A wrong client secret: Entra answers AADSTS7000215 (as reported in Azure/sap-automation#418:
/// "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request
/// is the client secret value, not the client secret ID").
#[tokio::test]
async fn a_wrong_client_secret_is_a_login_problem_asked_once() {
    let s = setup("badsecret").await;
    let env = s.sub.env_as(&s.sub.client_id, "not-the-secret");
    let before = s.sub.token_requests(&s.sub.client_id).await;
    let writes = s.sub.writes().await;
    let (code, out, err) = s.bind_with(&[], &env);
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    assert!(
        err.starts_with(
            "error: getting an Azure token from the AZURE_CLIENT_SECRET environment credential"
        ),
        "{err}"
    );
    assert!(
        err.contains("AADSTS7000215"),
        "Entra's code is shown: {err}"
    );
    let hint = err
        .lines()
        .find(|l| l.trim_start().starts_with("hint:"))
        .unwrap_or_default();
    assert!(hint.contains("AZURE_CLIENT_SECRET"), "{hint}");
    assert!(!err.contains("reachable"), "not a network problem: {err}");
    assert_eq!(
        s.sub.token_requests(&s.sub.client_id).await - before,
        1,
        "one refused request for the whole run"
    );
    assert_eq!(s.sub.writes().await, writes);
    assert!(s.sa().await.is_none());
}

/// An expired `az login`: `az account get-access-token` fails with AADSTS700082 (its output as
/// reported in Azure/azure-cli#23105). A stand-in `az` on PATH prints exactly that and counts
/// its calls.
#[tokio::test]
async fn an_expired_az_login_is_a_login_problem_asked_once() {
    let s = setup("azexpired").await;
    let dir = std::env::temp_dir().join(format!("azwi-az-{:08x}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    let calls = dir.join("calls");
    let script = dir.join("az-expired");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\necho 'ERROR: Get Token request returned http error: 400 and server response: {{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2021-10-05T11:50:24.4394320Z and was inactive for 90.00:00:00.\",\"error_codes\":[700082]}}' >&2\necho \"Please run 'az login' to setup account.\" >&2\nexit 1\n",
            calls.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (_, path) = support::path_with(
        &format!("azexp-{:08x}", rand::random::<u32>()),
        &[("az", script.to_str().unwrap())],
    );
    // The az CLI login: no AZURE_CLIENT_* variables, the subscription given.
    let mut env: Vec<(String, String)> = s
        .sub
        .env()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("AZURE_CLIENT") && k != "AZURE_TENANT_ID")
        .collect();
    env.push(("PATH".into(), path));
    let (code, out, err) = s.bind_with(&[], &env);
    let asked = std::fs::read_to_string(&calls).unwrap_or_default();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    assert!(
        err.starts_with("error: getting an Azure token from the Azure CLI (az login)"),
        "{err}"
    );
    assert!(err.contains("AADSTS700082"), "{err}");
    assert!(
        err.contains("hint: your az login has expired: run `az login`"),
        "{err}"
    );
    assert!(!err.contains("reachable"), "{err}");
    assert_eq!(
        asked
            .lines()
            .filter(|l| l.contains("get-access-token"))
            .count(),
        1,
        "az asked once: {asked}"
    );
    assert!(s.sa().await.is_none());
}
