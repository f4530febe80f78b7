//! `kubectl azwi can-i` on the real ground: a workload's ServiceAccount names a managed
//! identity, role and deny assignments are made in the emulator as an administrator would, and
//! each verdict is the one Microsoft's documented evaluation rules give (cited per test, from
//! MicrosoftDocs/azure-docs articles/role-based-access-control/: overview.md "How Azure RBAC
//! determines if a user has access to a resource", role-definitions.md, deny-assignments.md,
//! conditions-overview.md).

use k8s_openapi::api::{apps::v1::Deployment, core::v1::Pod};
use kube::{Api, api::PostParams};
use serde_json::{Value, json};

use kubectl_azwi::{azure::authz::assignment_name, wi::keys};

mod views;

use crate::support::{
    self, Ground,
    azure::{Sub, https, run_plugin},
    fixtures,
};

const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const BLOB_READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
const BLOB_CONTRIBUTOR: &str = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
const BLOB_READ: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";

/// A namespace whose ServiceAccount `wi` names a fresh managed identity, a pod and a
/// deployment running as it; nothing granted yet.
struct World {
    sub: Sub,
    ns: String,
    client_id: String,
    principal_id: String,
}

impl World {
    async fn new(prefix: &str) -> World {
        let client = Ground::get().client().await;
        let ns = support::namespace(&client, prefix, &[]).await;
        let sub = Sub::new().await;
        sub.resource_group("rg").await;
        let id = sub.identity("rg", "app-id").await;
        let client_id = id["properties"]["clientId"].as_str().unwrap().to_string();
        let principal_id = id["properties"]["principalId"]
            .as_str()
            .unwrap()
            .to_string();
        Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(client.clone(), &ns)
            .create(
                &PostParams::default(),
                &fixtures::service_account("wi", &[(keys::CLIENT_ID_ANNOTATION, &client_id)]),
            )
            .await
            .unwrap();
        Api::<Pod>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &fixtures::pod("app", "wi", &[]))
            .await
            .unwrap();
        let deploy: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "replicas": 0,
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"serviceAccountName": "wi", "containers": [{"name": "c", "image": "busybox"}]}}},
        }))
        .unwrap();
        Api::<Deployment>::namespaced(client, &ns)
            .create(&PostParams::default(), &deploy)
            .await
            .unwrap();
        World {
            sub,
            ns,
            client_id,
            principal_id,
        }
    }

    fn rg(&self) -> String {
        format!("/subscriptions/{}/resourceGroups/rg", self.sub.id)
    }

    fn account(&self, name: &str) -> String {
        format!(
            "{}/providers/Microsoft.Storage/storageAccounts/{name}",
            self.rg()
        )
    }

    /// A role assignment made at ARM as the subscription's owner (as `az role assignment create`).
    async fn assign(
        &self,
        role: &str,
        scope: &str,
        principal: &str,
        condition: Option<&str>,
    ) -> String {
        let mut props = json!({
            "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{role}", self.sub.id),
            "principalId": principal,
            "principalType": "ServicePrincipal",
        });
        if let Some(c) = condition {
            props["condition"] = json!(c);
            props["conditionVersion"] = json!("2.0");
        }
        let path = format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
            assignment_name(scope, role, principal)
        );
        let (status, body) = self
            .sub
            .arm("PUT", &path, Some(json!({"properties": props})))
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// Tenant-wide control API calls (management groups, groups, deny assignments).
    async fn control(&self, path: &str, body: Value) -> Value {
        https()
            .post(self.sub.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut all = vec!["can-i"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-n", &self.ns]);
        run_plugin(&all, &self.sub.env())
    }

    /// `can-i ARGS -o json`: (exit code, report).
    fn ask(&self, args: &[&str]) -> (i32, Value) {
        let mut all = args.to_vec();
        all.extend_from_slice(&["-o", "json"]);
        let (code, out, err) = self.run(&all);
        let v = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{e}\nstdout: {out}\nstderr: {err}"));
        (code, v)
    }
}

/// Splits a printed command the way a POSIX shell would (bare words and single quotes).
fn shell_split(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in cmd.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

#[tokio::test]
async fn yes_by_direct_assignment_by_short_or_full_name_for_each_target_kind() {
    // overview.md steps 4-6: a role assignment at the scope whose role's dataActions hold the
    // action grants it. Storage Blob Data Reader's dataActions list blobs/read (built-in roles).
    let w = World::new("cani-direct").await;
    let acct = w.account("data");
    let id = w.assign(BLOB_READER, &acct, &w.principal_id, None).await;
    for (action, target) in [
        ("blob-read", "pod/app"),
        (BLOB_READ, "sa/wi"),
        ("blob-read", "deploy/web"),
    ] {
        let (code, r) = w.ask(&[action, target, "--scope", &acct]);
        assert_eq!(
            (code, r["allowed"].as_str()),
            (0, Some("yes")),
            "{action} {target}: {r:#}"
        );
        let g = &r["decision"]["granted"][0];
        assert_eq!(g["role"], "Storage Blob Data Reader");
        assert_eq!(
            g["assignmentId"].as_str().unwrap().to_ascii_lowercase(),
            id.to_ascii_lowercase()
        );
        assert_eq!(g["inherited"], false);
        assert_eq!(r["principal"]["objectId"], w.principal_id);
        assert_eq!(r["action"]["plane"], "data");
        assert!(r.get("fix").is_none());
    }
    // The cost of a typical answer: 2 Kubernetes reads (pod, ServiceAccount); ARM: the identity
    // list, three assignment lists, one role definition; 3 waves.
    let (_, r) = w.ask(&["blob-read", "pod/app", "--scope", &acct]);
    assert_eq!(r["stats"]["kubeCalls"], 2, "{:#}", r["stats"]);
    assert_eq!(r["stats"]["armCalls"], 5, "{:#}", r["stats"]);
    assert_eq!(r["stats"]["waves"], 3, "{:#}", r["stats"]);
    let (code, out, _) = w.run(&["blob-read", "pod/app", "--scope", &acct]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().next(),
        Some("yes"),
        "the verdict first, as kubectl auth can-i: {out}"
    );
    assert!(out.contains(&id), "names the granting assignment: {out}");
}

#[tokio::test]
async fn yes_by_inheritance_from_resource_group_and_management_group() {
    // overview.md "Scope": permissions granted at a parent scope are inherited by child scopes;
    // management groups sit above subscriptions.
    let w = World::new("cani-inherit").await;
    w.assign(BLOB_READER, &w.rg(), &w.principal_id, None).await;
    let container = format!("{}/blobServices/default/containers/c", w.account("data"));
    let (code, r) = w.ask(&["blob-read", "sa/wi", "--scope", &container]);
    assert_eq!((code, r["allowed"].as_str()), (0, Some("yes")), "{r:#}");
    assert_eq!(r["decision"]["granted"][0]["inherited"], true);
    assert_eq!(r["decision"]["granted"][0]["scope"], w.rg());

    let mg = w
        .control(
            "/_emulator/managementGroups",
            json!({"tenantId": w.sub.tenant, "subscriptions": [w.sub.id]}),
        )
        .await;
    let mg_scope = mg["id"].as_str().unwrap();
    w.control(
        "/_emulator/roleAssignments",
        json!({"scope": mg_scope, "principalId": w.principal_id, "role": "Reader"}),
    )
    .await;
    let (code, r) = w.ask(&[
        "Microsoft.Resources/subscriptions/resourceGroups/read",
        "sa/wi",
        "--scope",
        &w.rg(),
    ]);
    assert_eq!((code, r["allowed"].as_str()), (0, Some("yes")), "{r:#}");
    assert_eq!(r["decision"]["granted"][0]["scope"], mg_scope);
    assert_eq!(r["decision"]["granted"][0]["role"], "Reader");
}

#[tokio::test]
async fn yes_through_a_group() {
    // overview.md step 2: the role assignments of the principal and of the groups it is a
    // member of apply; ARM lists both for assignedTo('{objectId}') (role-assignments-list-rest.md).
    let w = World::new("cani-group").await;
    let g = w
        .sub
        .control("POST", "principals", Some(json!({"kind": "Group"})))
        .await;
    let group = g["objectId"].as_str().unwrap().to_string();
    w.control(
        &format!("/_emulator/groups/{group}/members"),
        json!({"members": [w.principal_id]}),
    )
    .await;
    let path = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
        w.rg(),
        assignment_name(&w.rg(), BLOB_READER, &group)
    );
    let body = json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{BLOB_READER}", w.sub.id),
        "principalId": group, "principalType": "Group"}});
    let (status, b) = w.sub.arm("PUT", &path, Some(body)).await;
    assert_eq!(status, 201, "{b}");
    let (code, r) = w.ask(&["blob-read", "pod/app", "--scope", &w.account("data")]);
    assert_eq!((code, r["allowed"].as_str()), (0, Some("yes")), "{r:#}");
    assert_eq!(r["decision"]["granted"][0]["group"], group.as_str());
    let (_, out, _) = w.run(&["blob-read", "pod/app", "--scope", &w.account("data")]);
    assert!(out.contains(&format!("through group {group}")), "{out}");
}

#[tokio::test]
async fn no_with_the_nearest_miss_and_a_fix_that_works() {
    // overview.md "Scope": a role at a sibling resource is not inherited. The fix is a role
    // assignment at the asked scope; followed literally, can-i then answers yes.
    let w = World::new("cani-miss").await;
    let other = w.account("other");
    w.assign(BLOB_READER, &other, &w.principal_id, None).await;
    let acct = w.account("data");
    let (code, r) = w.ask(&["blob-read", "pod/app", "--scope", &acct]);
    assert_eq!((code, r["allowed"].as_str()), (1, Some("no")), "{r:#}");
    let miss = &r["decision"]["misses"][0];
    assert_eq!(
        (miss["kind"].as_str(), miss["scope"].as_str()),
        (Some("otherScope"), Some(other.as_str()))
    );
    assert!(r["reason"].as_str().unwrap().contains(&other), "{r:#}");
    assert_eq!(r["fix"]["role"], "Storage Blob Data Reader");
    assert_eq!(
        r["fix"]["az"],
        format!(
            "az role assignment create --assignee-object-id {} --assignee-principal-type ServicePrincipal --role 'Storage Blob Data Reader' --scope {acct}",
            w.principal_id
        )
    );
    let (code, out, _) = w.run(&["blob-read", "pod/app", "--scope", &acct]);
    assert_eq!(code, 1);
    assert_eq!(out.lines().next(), Some("no"));

    // Follow the bind fix literally.
    let bind = shell_split(r["fix"]["bind"].as_str().unwrap());
    assert_eq!(&bind[..3], ["kubectl", "azwi", "bind"]);
    let args: Vec<&str> = bind[2..].iter().map(String::as_str).collect();
    let (code, out, err) = run_plugin(&args, &w.sub.env());
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, r) = w.ask(&["blob-read", "pod/app", "--scope", &acct]);
    assert_eq!(
        (code, r["allowed"].as_str()),
        (0, Some("yes")),
        "after the fix: {r:#}"
    );
    assert_eq!(
        r["decision"]["granted"][0]["scope"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase(),
        acct.to_ascii_lowercase()
    );
}

#[tokio::test]
async fn no_when_only_a_control_plane_role_is_held_for_a_data_action() {
    // role-definitions.md "Control and data actions": Contributor's '*' covers actions, not
    // dataActions, so it cannot read blob data.
    let w = World::new("cani-plane").await;
    w.assign(CONTRIBUTOR, &w.rg(), &w.principal_id, None).await;
    let acct = w.account("data");
    let (code, r) = w.ask(&["blob-read", "pod/app", "--scope", &acct]);
    assert_eq!((code, r["allowed"].as_str()), (1, Some("no")), "{r:#}");
    let m = &r["decision"]["misses"][0];
    assert_eq!(
        (
            m["kind"].as_str(),
            m["role"].as_str(),
            m["pattern"].as_str()
        ),
        (Some("controlPlaneOnly"), Some("Contributor"), Some("*"))
    );
    assert!(
        r["reason"].as_str().unwrap().contains("dataActions"),
        "{r:#}"
    );
    assert_eq!(r["fix"]["role"], "Storage Blob Data Reader");
    // The control-plane action the same role does grant.
    let (code, r) = w.ask(&[
        "Microsoft.Storage/storageAccounts/write",
        "pod/app",
        "--scope",
        &acct,
    ]);
    assert_eq!((code, r["allowed"].as_str()), (0, Some("yes")), "{r:#}");
}

#[tokio::test]
async fn no_because_of_not_actions() {
    // role-definitions.md "NotActions": Contributor = '*' minus Microsoft.Authorization/*/Write,
    // so it may not assign roles; a role that grants it (RBAC Administrator) is the fix.
    let w = World::new("cani-notactions").await;
    w.assign(
        CONTRIBUTOR,
        &format!("/subscriptions/{}", w.sub.id),
        &w.principal_id,
        None,
    )
    .await;
    let (code, r) = w.ask(&["role-assign", "deploy/web", "--scope", &w.rg()]);
    assert_eq!((code, r["allowed"].as_str()), (1, Some("no")), "{r:#}");
    let m = &r["decision"]["misses"][0];
    assert_eq!(
        (m["kind"].as_str(), m["notAction"].as_str()),
        (Some("notActions"), Some("Microsoft.Authorization/*/Write"))
    );
    assert_eq!(r["fix"]["role"], "Role Based Access Control Administrator");
}

#[tokio::test]
async fn no_because_of_a_deny_assignment() {
    // deny-assignments.md / overview.md step 3: a deny assignment blocks the action even though
    // a role assignment grants it; a role would not help, so no grant is offered.
    let w = World::new("cani-deny").await;
    w.assign(BLOB_CONTRIBUTOR, &w.rg(), &w.principal_id, None)
        .await;
    let acct = w.account("data");
    w.control("/_emulator/denyAssignments", json!({"name": "no-blob-writes", "properties": {
        "denyAssignmentName": "no blob writes",
        "scope": acct,
        "principals": [{"id": "00000000-0000-0000-0000-000000000000", "type": "SystemDefined"}],
        "permissions": [{"dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"]}],
    }}))
    .await;
    let (code, r) = w.ask(&["blob-write", "pod/app", "--scope", &acct]);
    assert_eq!((code, r["allowed"].as_str()), (1, Some("no")), "{r:#}");
    assert_eq!(r["decision"]["denied"][0]["name"], "no blob writes");
    assert_eq!(
        r["decision"]["granted"][0]["role"], "Storage Blob Data Contributor",
        "the grant it overrides"
    );
    assert!(r.get("fix").is_none(), "{r:#}");
    // Reading is not denied.
    let (code, _) = w.ask(&["blob-read", "pod/app", "--scope", &acct]);
    assert_eq!(code, 0);
}

#[tokio::test]
async fn conditional_assignment_is_never_a_plain_yes() {
    // conditions-overview.md: a condition filters down what the assignment grants, decided per
    // request. The tag condition of storage-auth-abac-examples.md restricts blobs/read only.
    let w = World::new("cani-cond").await;
    let acct = w.account("data");
    let cond = "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND NOT SubOperationMatches{'Blob.List'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>] StringEquals 'Cascade'))";
    w.assign(BLOB_CONTRIBUTOR, &acct, &w.principal_id, Some(cond))
        .await;
    let (code, r) = w.ask(&["blob-read", "pod/app", "--scope", &acct]);
    assert_eq!(
        (code, r["allowed"].as_str()),
        (1, Some("conditional")),
        "{r:#}"
    );
    assert_eq!(r["decision"]["conditional"][0]["condition"], cond);
    let (_, out, _) = w.run(&["blob-read", "pod/app", "--scope", &acct]);
    assert_eq!(out.lines().next(), Some("conditional"));
    // blobs/write is outside what the condition names: granted outright.
    let (code, r) = w.ask(&["blob-write", "pod/app", "--scope", &acct]);
    assert_eq!((code, r["allowed"].as_str()), (0, Some("yes")), "{r:#}");
}
