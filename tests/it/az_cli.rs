//! The real Azure CLI (azure-cli 2.91.0 from PyPI, installed by tests/python/setup.sh into
//! `${AZWI_AZ_VENV:-~/.cache/kubectl-azwi-ground/az-venv}`) as a second client of the emulator:
//! the walkthrough's commands, each answered as real Azure answers them.
//!
//! How az reaches the emulator, as it would reach a private cloud:
//! - `az cloud register --endpoint-resource-manager URL` discovers the rest through the
//!   emulator's `GET /metadata/endpoints` (no `--skip-endpoint-discovery`).
//! - `core.instance_discovery=false` (`AZURE_CORE_INSTANCE_DISCOVERY`): MSAL would otherwise
//!   ask login.microsoftonline.com whether the sign-in host is Microsoft's, which it is not; the
//!   azure-cli documents this setting for clouds with their own sign-in host (Azure Stack).
//! - Graph: az derives Graph's URL from Graph's token audience, `https://graph.microsoft.com/`.
//!   `HTTPS_PROXY` is the emulator, which answers `CONNECT graph.microsoft.com:443` itself and
//!   refuses every other host; `NO_PROXY` keeps the emulator's own address direct.
//! - TLS: `REQUESTS_CA_BUNDLE` is the ground's CA, nothing is unverified.
//! - State: a throwaway `AZURE_CONFIG_DIR` per test, never `~/.azure`.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine;
use serde_json::{Value, json};

use crate::support::{self, Ground, azure::Sub};

/// `$AZWI_AZ_VENV/bin/az` or setup.sh's default.
fn az_bin() -> PathBuf {
    support::venv_program("AZWI_AZ_VENV", "az-venv", "az")
}

/// One az "installation": its own config dir, the emulator registered as its cloud.
pub(crate) struct Az {
    dir: PathBuf,
    bin: PathBuf,
}

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Drop for Az {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Az {
    /// A fresh config dir with the emulator registered (discovery) and selected as the cloud.
    fn new(tag: &str) -> Az {
        let dir = std::env::temp_dir().join(format!(
            "azwi-az-{tag}-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let az = Az { dir, bin: az_bin() };
        let emu = Ground::get().var("AZURE_EMULATOR_URL");
        az.ok(&[
            "cloud",
            "register",
            "-n",
            "azwi-emulator",
            "--endpoint-resource-manager",
            emu,
        ]);
        az.ok(&["cloud", "set", "-n", "azwi-emulator"]);
        az
    }

    fn run(&self, args: &[&str]) -> Out {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args);
        self.output(cmd)
    }

    /// A command line as a hint prints it (`az ad sp create --id X`), run by `sh -c` with this
    /// installation's az first on PATH; must succeed. Returns stdout.
    pub(crate) fn follow(&self, command: &str) -> String {
        let bin_dir = self.bin.parent().unwrap().display().to_string();
        let path = format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default());
        let mut cmd = Command::new("sh");
        cmd.args(["-c", command]).env("PATH", path);
        let o = self.output(cmd);
        assert!(o.ok, "`{command}` failed:\n{}\n{}", o.stdout, o.stderr);
        o.stdout
    }

    fn output(&self, mut cmd: Command) -> Out {
        let g = Ground::get();
        let emu = g.var("AZURE_EMULATOR_URL");
        let out = cmd
            .env("AZURE_CONFIG_DIR", &self.dir)
            .env("REQUESTS_CA_BUNDLE", g.var("AZWI_GROUND_CA"))
            .env(
                "HTTPS_PROXY",
                format!("http://{}", emu.trim_start_matches("https://")),
            )
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("AZURE_CORE_INSTANCE_DISCOVERY", "false")
            .env("AZURE_CORE_COLLECT_TELEMETRY", "false")
            .env("AZURE_CORE_NO_COLOR", "true")
            .env("KUBECONFIG", self.dir.join("kubeconfig-unused"))
            .env_remove("HTTP_PROXY")
            .env_remove("https_proxy")
            .env_remove("no_proxy")
            .env_remove("AZURE_CLIENT_ID")
            .env_remove("AZURE_CLIENT_SECRET")
            .env_remove("AZURE_TENANT_ID")
            .env_remove("AZURE_FEDERATED_TOKEN_FILE")
            .env_remove("AZURE_SUBSCRIPTION_ID")
            .output()
            .expect("run az");
        Out {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    /// Runs az, which must succeed; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(o.ok, "az {args:?} failed:\n{}\n{}", o.stdout, o.stderr);
        o.stdout
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend_from_slice(&["-o", "json"]);
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("az {args:?}: {e}: {out}"))
    }

    fn tsv(&self, args: &[&str]) -> String {
        let mut all = args.to_vec();
        all.extend_from_slice(&["-o", "tsv"]);
        self.ok(&all).trim().to_string()
    }

    /// Runs az, which must fail with `(CODE)` first on its error line; returns stderr.
    fn fails(&self, args: &[&str], code: &str) -> String {
        let o = self.run(args);
        assert!(!o.ok, "az {args:?} should fail: {}", o.stdout);
        assert!(
            o.stderr.contains(&format!("ERROR: ({code})")),
            "az {args:?}: want ({code}):\n{}",
            o.stderr
        );
        o.stderr
    }

    fn login_secret(&self, tenant: &str, client_id: &str, secret: &str) -> Value {
        self.json(&[
            "login",
            "--service-principal",
            "-u",
            client_id,
            "-p",
            secret,
            "--tenant",
            tenant,
        ])
    }
}

/// az logged in as a service principal (`client_id`, `secret`) of `tenant`, for following hints.
pub(crate) fn logged_in(tag: &str, tenant: &str, client_id: &str, secret: &str) -> Az {
    let az = Az::new(tag);
    az.login_secret(tenant, client_id, secret);
    az
}

/// A subscription and an Owner service principal that may read the directory through Graph
/// (Directory.Read.All, as an admin would grant it), logged in with its secret.
async fn owner_az(tag: &str) -> (Sub, Az, String) {
    let sub = Sub::new().await;
    let p = sub
        .control(
            "POST",
            "principals",
            Some(json!({"role": "Owner", "displayName": format!("az-{tag}"), "graphRoles": ["Directory.Read.All"]})),
        )
        .await;
    let az = Az::new(tag);
    let accounts = az.login_secret(
        &sub.tenant,
        p["clientId"].as_str().unwrap(),
        p["clientSecret"].as_str().unwrap(),
    );
    // az found the subscription the principal holds a role on, through ARM's list.
    assert_eq!(accounts[0]["id"], sub.id.as_str(), "{accounts}");
    assert_eq!(accounts[0]["user"]["type"], "servicePrincipal");
    let oid = p["objectId"].as_str().unwrap().to_string();
    (sub, az, oid)
}

#[tokio::test]
async fn az_discovers_the_emulator_cloud_and_logs_in_with_a_secret() {
    let (sub, az, _) = owner_az("cloud").await;
    let emu = Ground::get().var("AZURE_EMULATOR_URL");
    let cloud = az.json(&["cloud", "show", "-n", "azwi-emulator"]);
    // Only the ARM endpoint was given: the rest came from /metadata/endpoints.
    assert_eq!(cloud["endpoints"]["activeDirectory"], emu);
    assert_eq!(
        cloud["endpoints"]["activeDirectoryResourceId"],
        "https://management.core.windows.net/"
    );
    assert_eq!(
        cloud["endpoints"]["microsoftGraphResourceId"],
        "https://graph.microsoft.com/"
    );
    let account = az.json(&["account", "show"]);
    assert_eq!(account["tenantId"], sub.tenant.as_str());
    assert_eq!(account["state"], "Enabled");
    // A wrong secret is Entra's AADSTS7000215, as az prints it.
    let az2 = Az::new("badsecret");
    let o = az2.run(&[
        "login",
        "--service-principal",
        "-u",
        &sub.client_id,
        "-p",
        "not-the-secret",
        "--tenant",
        &sub.tenant,
    ]);
    assert!(!o.ok && o.stderr.contains("AADSTS7000215"), "{}", o.stderr);
}

#[tokio::test]
async fn az_walkthrough_identity_and_federated_credentials() {
    let (sub, az, _) = owner_az("msi").await;
    let issuer = Ground::get().issuer();
    let group = az.json(&["group", "create", "-n", "myResourceGroup", "-l", "eastus"]);
    assert_eq!(group["properties"]["provisioningState"], "Succeeded");
    // Again in another location: ARM's 409 InvalidResourceGroupLocation.
    az.fails(
        &["group", "create", "-n", "myResourceGroup", "-l", "westus"],
        "InvalidResourceGroupLocation",
    );

    let id = az.json(&[
        "identity",
        "create",
        "-g",
        "myResourceGroup",
        "-n",
        "myIdentity",
    ]);
    assert_eq!(
        id["type"],
        "Microsoft.ManagedIdentity/userAssignedIdentities"
    );
    let shown = az.json(&[
        "identity",
        "show",
        "-g",
        "myResourceGroup",
        "-n",
        "myIdentity",
    ]);
    assert_eq!(shown["clientId"], id["clientId"]);
    assert_eq!(
        az.tsv(&[
            "identity",
            "list",
            "-g",
            "myResourceGroup",
            "--query",
            "[].name"
        ]),
        "myIdentity"
    );

    let fic = |name: &str, subject: &str| {
        vec![
            "identity".to_string(),
            "federated-credential".into(),
            "create".into(),
            "-g".into(),
            "myResourceGroup".into(),
            "--identity-name".into(),
            "myIdentity".into(),
            "-n".into(),
            name.into(),
            "--issuer".into(),
            issuer.into(),
            "--subject".into(),
            subject.into(),
            "--audiences".into(),
            "api://AzureADTokenExchange".into(),
        ]
    };
    let created = az.json(&strs(&fic(
        "myFedIdentity",
        "system:serviceaccount:default:wi-sa",
    )));
    assert_eq!(created["issuer"], issuer);
    assert_eq!(created["audiences"], json!(["api://AzureADTokenExchange"]));
    // The same issuer + subject under another name: the service's 400.
    let err = az.fails(
        &strs(&fic("another", "system:serviceaccount:default:wi-sa")),
        "BadRequest",
    );
    assert!(
        err.contains("Issuer and subject combination already exists"),
        "{err}"
    );
    // A name outside ^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$ (too short, and a dot).
    az.fails(
        &strs(&fic("ab", "system:serviceaccount:default:x")),
        "BadRequest",
    );
    az.fails(
        &strs(&fic("my.fic", "system:serviceaccount:default:x")),
        "BadRequest",
    );
    fn fic_cmd(verb: &'static str) -> Vec<&'static str> {
        vec![
            "identity",
            "federated-credential",
            verb,
            "-g",
            "myResourceGroup",
            "--identity-name",
            "myIdentity",
        ]
    }
    let mut update = fic_cmd("update");
    update.extend([
        "-n",
        "myFedIdentity",
        "--subject",
        "system:serviceaccount:default:other",
    ]);
    assert_eq!(
        az.json(&update)["subject"],
        "system:serviceaccount:default:other"
    );
    let mut show = fic_cmd("show");
    show.extend(["-n", "myFedIdentity", "--query", "subject"]);
    assert_eq!(az.tsv(&show), "system:serviceaccount:default:other");

    // 20 credentials is the limit; the 21st is refused. 18 more through ARM directly, the 20th
    // and 21st through az.
    let id_path = id["id"].as_str().unwrap();
    for n in 2..=19 {
        let (st, b) = sub
            .arm(
                "PUT",
                &format!("{id_path}/federatedIdentityCredentials/fic-{n}?api-version=2024-11-30"),
                Some(json!({"properties": {"issuer": issuer, "subject": format!("system:serviceaccount:ns:{n}"), "audiences": ["api://AzureADTokenExchange"]}})),
            )
            .await;
        assert_eq!(st, 201, "{b}");
    }
    az.json(&strs(&fic("fic-20", "system:serviceaccount:ns:20")));
    let err = az.fails(
        &strs(&fic("fic-21", "system:serviceaccount:ns:21")),
        "BadRequest",
    );
    assert!(
        err.contains("Too many Federated Identity Credentials"),
        "{err}"
    );
    let mut list = fic_cmd("list");
    list.extend(["--query", "length(@)"]);
    assert_eq!(az.tsv(&list), "20");

    let mut delete = fic_cmd("delete");
    delete.extend(["-n", "myFedIdentity", "--yes"]);
    az.ok(&delete);
    let mut show = fic_cmd("show");
    show.extend(["-n", "myFedIdentity"]);
    az.fails(&show, "ResourceNotFound");
    // The group goes with a 202 that az polls at its Location until done.
    az.ok(&["group", "delete", "-n", "myResourceGroup", "--yes"]);
    assert_eq!(
        az.tsv(&["group", "exists", "-n", "myResourceGroup"]),
        "false"
    );
}

#[tokio::test]
async fn az_role_assignments_by_object_id_and_through_graph() {
    let (sub, az, _) = owner_az("rbac").await;
    az.ok(&["group", "create", "-n", "rg", "-l", "eastus", "-o", "none"]);
    let id = az.json(&["identity", "create", "-g", "rg", "-n", "app"]);
    let (pid, cid) = (
        id["principalId"].as_str().unwrap(),
        id["clientId"].as_str().unwrap(),
    );
    let scope = format!("/subscriptions/{}/resourceGroups/rg", sub.id);
    // Without Graph: the object id and its type given.
    let by_object_id = [
        "role",
        "assignment",
        "create",
        "--assignee-object-id",
        pid,
        "--assignee-principal-type",
        "ServicePrincipal",
        "--role",
        "Reader",
        "--scope",
        &scope,
    ];
    let ra = az.json(&by_object_id);
    assert_eq!(ra["principalId"], pid);
    assert!(
        ra["roleDefinitionId"]
            .as_str()
            .unwrap()
            .ends_with("/acdd72a7-3385-48ef-bd42-f606fba81ae7"),
        "{ra}"
    );
    // Through Graph: az resolves the client id to the service principal
    // (servicePrincipals?$filter=servicePrincipalNames/any(...)).
    let ra2 = az.json(&[
        "role",
        "assignment",
        "create",
        "--assignee",
        cid,
        "--role",
        "Storage Blob Data Reader",
        "--scope",
        &scope,
    ]);
    assert_eq!(ra2["principalId"], pid);
    assert_eq!(ra2["principalType"], "ServicePrincipal");
    // The same assignment again: ARM's 409 RoleAssignmentExists, which az takes as "already
    // there" and answers with the existing assignment (role/custom.py, "for idempotent").
    let again = az.json(&by_object_id);
    assert_eq!(again["name"], ra["name"], "{again}");
    let listed = az.json(&[
        "role",
        "assignment",
        "list",
        "--scope",
        &scope,
        "--query",
        "[].{role:roleDefinitionName, who:principalName, type:principalType}",
    ]);
    let mut roles: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    roles.sort();
    assert_eq!(roles, ["Reader", "Storage Blob Data Reader"], "{listed}");
    // az names the principal through Graph's getByIds.
    assert!(
        listed.as_array().unwrap().iter().all(|r| r["who"] == cid),
        "{listed}"
    );
    assert_eq!(
        az.tsv(&[
            "role",
            "assignment",
            "list",
            "--assignee",
            cid,
            "--all",
            "--query",
            "length(@)"
        ]),
        "2"
    );
    az.ok(&[
        "role",
        "assignment",
        "delete",
        "--assignee",
        cid,
        "--role",
        "Reader",
        "--scope",
        &scope,
    ]);
    assert_eq!(
        az.tsv(&[
            "role",
            "assignment",
            "list",
            "--scope",
            &scope,
            "--query",
            "[].roleDefinitionName"
        ]),
        "Storage Blob Data Reader"
    );

    // A principal without Graph permissions: Graph refuses az's lookup (403
    // Authorization_RequestDenied); az warns, falls back to taking the client id for an object
    // id, and ARM answers PrincipalNotFound, as it does for a real service principal.
    let (plain_id, plain_secret) = sub.principal("Owner").await;
    let plain = Az::new("nograph");
    plain.login_secret(&sub.tenant, &plain_id, &plain_secret);
    let err = plain.fails(
        &[
            "role",
            "assignment",
            "create",
            "--assignee",
            cid,
            "--role",
            "Reader",
            "--scope",
            &scope,
        ],
        "PrincipalNotFound",
    );
    assert!(
        err.contains(&format!("Failed to query {cid} by invoking Graph API"))
            && err.contains("--assignee-object-id"),
        "{err}"
    );
}

#[tokio::test]
async fn az_aks_show_and_get_credentials() {
    let g = Ground::get();
    let (sub, az, _) = owner_az("aks").await;
    let pki = g.dir.join("pki");
    let b64 = |f: &str| {
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(pki.join(f)).unwrap())
    };
    sub.control(
        "POST",
        "clusters",
        Some(json!({
            "resourceGroup": "myResourceGroup", "name": "myAKSCluster", "issuerUrl": g.issuer(),
            "kubeApiServer": {
                "server": g.var("AZWI_GROUND_APISERVER"),
                "certificateAuthorityData": b64("ca.crt"),
                "clientCertificateData": b64("admin.crt"),
                "clientKeyData": b64("admin.key"),
            },
        })),
    )
    .await;
    // The walkthrough's query, with az's camel-casing of issuerURL.
    assert_eq!(
        az.tsv(&[
            "aks",
            "show",
            "-g",
            "myResourceGroup",
            "-n",
            "myAKSCluster",
            "--query",
            "oidcIssuerProfile.issuerUrl",
        ]),
        g.issuer()
    );
    // The kubeconfig from listClusterUserCredential works against the ground's API server.
    for (extra, context) in [
        (None, "myAKSCluster"),
        (Some("--admin"), "myAKSCluster-admin"),
    ] {
        let file = az.dir.join(format!("kubeconfig-{context}"));
        let mut args = vec![
            "aks",
            "get-credentials",
            "-g",
            "myResourceGroup",
            "-n",
            "myAKSCluster",
            "--file",
        ];
        let path = file.to_string_lossy().to_string();
        args.push(&path);
        args.extend(extra);
        az.ok(&args);
        let kubectl = |a: &[&str]| {
            let out = Command::new(g.var("AZWI_GROUND_KUBECTL"))
                .arg("--kubeconfig")
                .arg(&file)
                .args(a)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        assert_eq!(kubectl(&["config", "current-context"]), context);
        assert_eq!(
            kubectl(&["get", "ns", "default", "-o", "name"]),
            "namespace/default"
        );
    }
    // A Reader may show the cluster but not list its credentials (AKS's own action).
    let (rid, rsecret) = sub.principal("Reader").await;
    let reader = Az::new("aks-reader");
    reader.login_secret(&sub.tenant, &rid, &rsecret);
    reader.ok(&[
        "aks",
        "show",
        "-g",
        "myResourceGroup",
        "-n",
        "myAKSCluster",
        "-o",
        "none",
    ]);
    let err = reader.fails(
        &[
            "aks",
            "get-credentials",
            "-g",
            "myResourceGroup",
            "-n",
            "myAKSCluster",
            "--file",
            "-",
        ],
        "AuthorizationFailed",
    );
    assert!(
        err.contains("Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"),
        "{err}"
    );
}

#[tokio::test]
async fn az_login_with_a_federated_token_from_the_api_server() {
    let g = Ground::get();
    let (sub, az, _) = owner_az("fed").await;
    az.ok(&["group", "create", "-n", "rg", "-l", "eastus", "-o", "none"]);
    let id = az.json(&["identity", "create", "-g", "rg", "-n", "workload"]);
    let (pid, cid) = (
        id["principalId"].as_str().unwrap(),
        id["clientId"].as_str().unwrap(),
    );
    az.ok(&[
        "role",
        "assignment",
        "create",
        "--assignee-object-id",
        pid,
        "--assignee-principal-type",
        "ServicePrincipal",
        "--role",
        "Reader",
        "--scope",
        &format!("/subscriptions/{}", sub.id),
        "-o",
        "none",
    ]);
    let ns = crate::support::namespace(&g.client().await, "az-fed", &[]).await;
    let kubectl = |a: &[&str]| {
        let out = g.kubectl().args(a).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    kubectl(&["create", "sa", "workload-sa", "-n", &ns]);
    kubectl(&["create", "sa", "unbound-sa", "-n", &ns]);
    az.ok(&[
        "identity",
        "federated-credential",
        "create",
        "-g",
        "rg",
        "--identity-name",
        "workload",
        "-n",
        "k8s",
        "--issuer",
        g.issuer(),
        "--subject",
        &format!("system:serviceaccount:{ns}:workload-sa"),
        "-o",
        "none",
    ]);
    // A real TokenRequest with Entra's audience, as the kubelet makes for the webhook's volume.
    let token = |sa: &str| {
        kubectl(&[
            "create",
            "token",
            sa,
            "-n",
            &ns,
            "--audience",
            "api://AzureADTokenExchange",
        ])
    };
    let wi = Az::new("fed-login");
    let login = |t: &str| {
        wi.run(&[
            "login",
            "--service-principal",
            "-u",
            cid,
            "-t",
            &sub.tenant,
            "--federated-token",
            t,
        ])
    };
    let o = login(&token("workload-sa"));
    assert!(o.ok, "{}", o.stderr);
    let accounts: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(accounts[0]["id"], sub.id.as_str());
    assert_eq!(accounts[0]["user"]["name"], cid);
    // Signed in as the identity: Reader may read, not write.
    assert_eq!(
        wi.tsv(&[
            "identity", "show", "-g", "rg", "-n", "workload", "--query", "clientId"
        ]),
        cid
    );
    let err = wi.fails(
        &["group", "create", "-n", "other", "-l", "eastus"],
        "AuthorizationFailed",
    );
    assert!(
        err.contains(&format!("The client '{cid}' with object id '{pid}'")),
        "{err}"
    );
    // Another service account's token: Entra's subject mismatch, as az prints it. (A fresh
    // config dir: MSAL would answer a second login of the same client from its token cache.)
    let other = Az::new("fed-other");
    let o = other.run(&[
        "login",
        "--service-principal",
        "-u",
        cid,
        "-t",
        &sub.tenant,
        "--federated-token",
        &token("unbound-sa"),
    ]);
    assert!(!o.ok && o.stderr.contains("AADSTS700213"), "{}", o.stderr);
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The Azure CLI's app-registration commands as a real Graph client of the emulator:
/// `az ad app create`, `az ad sp create/update/show`, `az ad app federated-credential
/// create/list/show/delete` (the calls of data/azure-api/graph-federated-credentials), the
/// duplicate name refused with Graph's text (error-409-duplicate-name.json).
#[tokio::test]
async fn az_ad_app_federated_credentials_through_graph() {
    let sub = Sub::new().await;
    let p = sub
        .control(
            "POST",
            "principals",
            Some(json!({"role": "Reader", "graphRoles": ["Application.ReadWrite.All"]})),
        )
        .await;
    let az = logged_in(
        "adapp",
        &sub.tenant,
        p["clientId"].as_str().unwrap(),
        p["clientSecret"].as_str().unwrap(),
    );
    // The ground's tenant is shared by every test: a name of this run's own.
    let name = format!("payments-checkout-{:08x}", rand::random::<u32>());
    let app = az.json(&["ad", "app", "create", "--display-name", &name]);
    let app_id = app["appId"].as_str().unwrap().to_string();
    assert_eq!(app["displayName"], name.as_str());
    // A second create of the same name patches that application (az's own behaviour).
    let again = az.json(&["ad", "app", "create", "--display-name", &name]);
    assert_eq!(again["appId"], app_id.as_str());
    let sp = az.json(&["ad", "sp", "create", "--id", &app_id]);
    assert_eq!(sp["appId"], app_id.as_str());
    assert_eq!(sp["accountEnabled"], true);

    let params = json!({"name": "payments-checkout-eastus2-aks1",
        "issuer": Ground::get().issuer(), "subject": "system:serviceaccount:payments:checkout",
        "description": "kubectl-azwi: payments/checkout", "audiences": ["api://AzureADTokenExchange"]})
    .to_string();
    let create = [
        "ad",
        "app",
        "federated-credential",
        "create",
        "--id",
        &app_id,
        "--parameters",
        &params,
    ];
    let fic = az.json(&create);
    assert_eq!(fic["subject"], "system:serviceaccount:payments:checkout");
    let again = az.run(&create);
    assert!(!again.ok, "a second create with the same name must fail");
    assert!(
        again.stderr.contains(
            "FederatedIdentityCredential with name payments-checkout-eastus2-aks1 already exists."
        ),
        "{}",
        again.stderr
    );
    let listed = az.json(&["ad", "app", "federated-credential", "list", "--id", &app_id]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let shown = az.json(&[
        "ad",
        "app",
        "federated-credential",
        "show",
        "--id",
        &app_id,
        "--federated-credential-id",
        "payments-checkout-eastus2-aks1",
    ]);
    assert_eq!(shown["issuer"], Ground::get().issuer());
    az.ok(&[
        "ad",
        "app",
        "federated-credential",
        "delete",
        "--id",
        &app_id,
        "--federated-credential-id",
        "payments-checkout-eastus2-aks1",
    ]);
    let listed = az.json(&["ad", "app", "federated-credential", "list", "--id", &app_id]);
    assert_eq!(listed, json!([]));

    let sp_id = sp["id"].as_str().unwrap();
    az.ok(&[
        "ad",
        "sp",
        "update",
        "--id",
        sp_id,
        "--set",
        "accountEnabled=false",
    ]);
    assert_eq!(
        az.tsv(&[
            "ad",
            "sp",
            "show",
            "--id",
            &app_id,
            "--query",
            "accountEnabled"
        ]),
        "false"
    );
}
