//! Microsoft's own pollers against the emulator's AKS long-running operations: the az venv's
//! azure-mgmt-containerservice 41.6.0 (pinned by azure-cli 2.91.0; azure-mgmt-core ARMPolling)
//! runs tests/python/aks_lro_sdk.py, which creates and deletes a cluster and identity bindings
//! and waits on each operation the way `az aks` and `az aks identity-binding` do.

mod common;

use common::Ctx;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsoft_pollers_wait_out_aks_operations() {
    let python = common::venv("AZWI_AZ_VENV", "az-venv").join("bin/python");
    assert!(
        python.is_file(),
        "az venv not found at {}: run tests/python/setup.sh",
        python.display()
    );
    let ctx = Ctx::new().await;
    let s = ctx
        .subscription(json!({"settings": {"asyncOperationSeconds": 1.0}}))
        .await;
    ctx.put_rg(&s, "rg1").await;
    let mi = ctx.put_identity(&s, "rg1", "mi-payments").await;
    let failures = format!("/_emulator/subscriptions/{}/identityBindingFailures", s.sub);
    let queued = ctx
        .control(Method::POST, &failures, json!({"count": 1}))
        .await;
    let ca = ctx.ca_file();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/aks_lro_sdk.py");
    let mut cmd = common::python(&ctx, &python, &ca, &s);
    cmd.arg(script)
        .env("AZWI_ARM_TOKEN", &s.token)
        .env("AZWI_RESOURCE_GROUP", "rg1")
        .env("AZWI_IDENTITY_ID", mi["id"].as_str().unwrap())
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy");
    let stdout = common::run_python(cmd, &ca).await;
    let seen: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap();

    assert_eq!(seen["cluster_state"], "Succeeded", "{seen}");
    assert!(
        seen["issuer"].as_str().unwrap().starts_with(ctx.emu.url()),
        "{seen}"
    );
    // The queued failure: AsyncOperation_Failed.json's error reaches the SDK's exception.
    assert_eq!(seen["failed_error"], queued["error"]["code"], "{seen}");
    assert_eq!(seen["broken_state"], "Failed", "{seen}");
    assert_eq!(seen["binding_state"], "Succeeded", "{seen}");
    let client_id = mi["properties"]["clientId"].as_str().unwrap();
    assert_eq!(
        seen["binding_issuer"],
        format!("https://ib.oic.prod-aks.azure.com/{}/{client_id}", s.tenant),
        "{seen}"
    );
    assert_eq!(seen["binding_client_id"], client_id);
    assert_eq!(seen["listed"], json!(["broken", "mipayments"]));
    assert_eq!(seen["binding_after_delete"], "404");
    assert_eq!(seen["cluster_after_delete"], "404");

    // Server side: AKS's credential outlives the binding; the writes the SDK made.
    let fic = common::fic_path(&s.sub, "rg1", "mi-payments", "aks-identity-binding");
    let (st, b, _) = ctx.arm(Some(&s.token), Method::GET, &fic, None).await;
    assert_eq!(st, 200, "{b}");
    let writes = ctx.writes(&s).await;
    let ops = &writes["byOperation"];
    assert_eq!(ops["ManagedClusters_CreateOrUpdate"], 1, "{writes}");
    assert_eq!(ops["IdentityBindings_CreateOrUpdate"], 2, "{writes}");
    assert_eq!(ops["IdentityBindings_Delete"], 1, "{writes}");
    assert_eq!(ops["ManagedClusters_Delete"], 1, "{writes}");
}
