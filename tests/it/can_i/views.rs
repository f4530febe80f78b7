//! can-i where things are missing or mistyped, and its verdict in doctor and inspect.

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::{Api, api::PostParams};
use serde_json::{Value, json};

use kubectl_azwi::wi::keys;

use super::{BLOB_READER, READER, World, shell_split};
use crate::support::{Ground, azure::run_plugin, fixtures};

#[tokio::test]
async fn what_cannot_be_checked_is_said() {
    let w = World::new("cani-unres").await;
    // A ServiceAccount without a client id: its pods have no Azure identity at all.
    Api::<ServiceAccount>::namespaced(Ground::get().client().await, &w.ns)
        .create(
            &PostParams::default(),
            &fixtures::service_account("plain", &[]),
        )
        .await
        .unwrap();
    let (code, r) = w.ask(&["blob-read", "sa/plain", "--scope", &w.rg()]);
    assert_eq!((code, r["allowed"].as_str()), (1, Some("no")));
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("no azure.workload.identity/client-id"),
        "{r:#}"
    );

    // An app registration's client id: not a managed identity, Graph is not read.
    let app = w
        .sub
        .control(
            "POST",
            "principals",
            Some(json!({"role": "Reader", "scope": w.rg()})),
        )
        .await;
    let (app_client, app_oid) = (
        app["clientId"].as_str().unwrap(),
        app["objectId"].as_str().unwrap(),
    );
    Api::<ServiceAccount>::namespaced(Ground::get().client().await, &w.ns)
        .create(
            &PostParams::default(),
            &fixtures::service_account("app", &[(keys::CLIENT_ID_ANNOTATION, app_client)]),
        )
        .await
        .unwrap();
    let action = "Microsoft.Resources/subscriptions/resourceGroups/read";
    let (code, _, err) = w.run(&[action, "sa/app", "--scope", &w.rg()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("matches no user-assigned identity") && err.contains("--principal-id"),
        "{err}"
    );
    let (code, r) = w.ask(&[
        action,
        "sa/app",
        "--scope",
        &w.rg(),
        "--principal-id",
        app_oid,
    ]);
    assert_eq!((code, r["allowed"].as_str()), (0, Some("yes")), "{r:#}");

    // The principal id annotated instead of the client id is named.
    Api::<ServiceAccount>::namespaced(Ground::get().client().await, &w.ns)
        .create(
            &PostParams::default(),
            &fixtures::service_account("mixed", &[(keys::CLIENT_ID_ANNOTATION, &w.principal_id)]),
        )
        .await
        .unwrap();
    let (code, _, err) = w.run(&["blob-read", "sa/mixed", "--scope", &w.rg()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("principal (object) id of identity app-id") && err.contains(&w.client_id),
        "{err}"
    );
}

#[tokio::test]
async fn bad_input_exits_2_before_any_call() {
    let w = World::new("cani-bad").await;
    let before = w.sub.writes().await;
    for (args, says) in [
        (
            vec!["Microsoft.Storage/*", "pod/app", "--scope", "/"],
            "wildcards",
        ),
        (vec!["blobread", "pod/app", "--scope", "/"], "blob-read"),
        (
            vec!["blob-read", "app", "--scope", "/"],
            "did you mean pod/app?",
        ),
        (
            vec!["blob-read", "pod/app", "--scope", "/subscriptions/nope"],
            "GUID",
        ),
        (
            vec![
                "blob-read",
                "pod/app",
                "--scope",
                "https://management.azure.com/subscriptions/x",
            ],
            "not a URL",
        ),
        (
            vec![
                "blob-read",
                "pod/app",
                "--scope",
                "/",
                "--principal-id",
                "x",
            ],
            "principal id",
        ),
        (
            vec!["blob-read", "pod/app", "--scope", "/", "-o", "terraform"],
            "output format",
        ),
    ] {
        let (code, out, err) = w.run(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(out.is_empty());
    }
    assert_eq!(w.sub.writes().await, before, "nothing written");
}

#[tokio::test]
async fn doctor_can_adds_the_verdict_as_a_check() {
    let w = World::new("cani-doctor").await;
    let acct = w.account("data");
    let doctor = |w: &World| {
        let (code, out, err) = run_plugin(
            &[
                "doctor",
                "sa/wi",
                "-n",
                &w.ns,
                "--can",
                "blob-read",
                "--scope",
                &acct,
                "-o",
                "json",
            ],
            &w.sub.env(),
        );
        let report: Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
        let check = report["categories"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["checks"].as_array().unwrap())
            .find(|c| c["id"] == "azure-can")
            .cloned()
            .unwrap_or_else(|| panic!("no azure-can check: {report:#}"));
        (code, check)
    };
    w.assign(READER, &w.rg(), &w.principal_id, None).await;
    let (code, c) = doctor(&w);
    assert_eq!(c["status"], "fail", "{c:#}");
    assert_eq!(code, 3);
    let hint = c["hint"].as_str().unwrap();
    assert!(hint.contains("--role 'Storage Blob Data Reader'"), "{hint}");
    // Follow the hint's bind command literally, then doctor again.
    let bind = shell_split(&hint[hint.find("kubectl azwi bind").expect("a bind command")..]);
    let args: Vec<&str> = bind[2..].iter().map(String::as_str).collect();
    let (code, out, err) = run_plugin(&args, &w.sub.env());
    assert_eq!(code, 0, "{out}\n{err}");
    let (_, c) = doctor(&w);
    assert_eq!(c["status"], "pass", "{c:#}");
}

#[tokio::test]
async fn inspect_wide_lists_the_identity_roles() {
    let w = World::new("cani-inspect").await;
    w.assign(BLOB_READER, &w.account("data"), &w.principal_id, None)
        .await;
    w.assign(READER, &w.rg(), &w.principal_id, None).await;
    let (code, out, err) = run_plugin(&["inspect", "-n", &w.ns, "-o", "wide"], &w.sub.env());
    assert_eq!(code, 0, "{err}");
    let header = out.lines().next().unwrap();
    assert!(header.ends_with("ROLES"), "{out}");
    let row = out
        .lines()
        .find(|l| l.contains(" wi "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        row.contains("Reader@rg:rg")
            && row.contains("Storage Blob Data Reader@storageAccounts/data"),
        "{out}"
    );
    // The other formats keep their cost: no role reads.
    let (_, out, _) = run_plugin(&["inspect", "-n", &w.ns, "-o", "json"], &w.sub.env());
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["items"][0].get("roles").is_none(), "{v:#}");
    assert_eq!(v["azure"]["requests"], 2, "{}", v["azure"]);
}
