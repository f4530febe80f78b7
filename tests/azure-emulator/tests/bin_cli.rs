//! The `azure-emulator` binary prints its ready line, writes its CA and serves with it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn binary_prints_ready_line_and_serves() {
    let dir = std::env::temp_dir().join(format!("azure-emulator-bin-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_azure-emulator"))
        .args(["--listen", "127.0.0.1:0", "--write-ca"])
        .arg(&ca)
        .args([
            "--issuer-path",
            "/t/u/",
            "--issuer-jwks-upstream",
            "https://127.0.0.1:1/openid/v1/jwks",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let re =
        regex::Regex::new(r"^azure-emulator listening on (https://127\.0\.0\.1:\d+)\n$").unwrap();
    let url = re
        .captures(&line)
        .unwrap_or_else(|| panic!("ready line: {line:?}"))[1]
        .to_string();

    let cfg =
        azure_emulator::tls::client_config(&[&std::fs::read_to_string(&ca).unwrap()]).unwrap();
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(cfg)
        .build()
        .unwrap();
    let health: serde_json::Value = http
        .get(format!("{url}/_emulator/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["ok"], true);
    let disc: serde_json::Value = http
        .get(format!("{url}/t/u/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disc["issuer"], format!("{url}/t/u/"));
    // The upstream is unreachable: the issuer host says so instead of inventing keys.
    let st = http
        .get(format!("{url}/t/u/openid/v1/jwks"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(st.as_u16(), 502);

    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
