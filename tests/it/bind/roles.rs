//! Roles: each `--role` is written as itself (issue 11 item 1), bind marks what it assigns so
//! unbind removes exactly that (item 5), and `--delete-identity` never deletes an identity that
//! still serves something else (item 5).

use serde_json::{Value, json};

use super::{actions, json_out, setup};
use kubectl_azwi::wi::keys;

/// Built-in role GUIDs (Microsoft Learn, "Azure built-in roles").
const BLOB_READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
const KV_SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";

fn role_guids(assignments: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = assignments
        .iter()
        .map(|a| {
            let id = a["properties"]["roleDefinitionId"].as_str().unwrap();
            id.rsplit('/').next().unwrap().to_ascii_lowercase()
        })
        .collect();
    v.sort();
    v
}

/// `--role A --role B` with A assigned already: B must be written (with B's roleDefinitionId),
/// and the report must say A unchanged, B created.
#[tokio::test]
async fn second_role_is_written_when_the_first_is_assigned_already() {
    let s = setup("roles").await;
    let principal = s.identity["properties"]["principalId"].as_str().unwrap();
    let scope = format!("/subscriptions/{}/resourceGroups/rg", s.sub.id);
    s.sub.assign(BLOB_READER, &scope, principal).await;

    let args = [
        "--role",
        "Storage Blob Data Reader",
        "--role",
        "Key Vault Secrets User",
        "--scope",
        &scope,
        "-o",
        "json",
    ];
    let (code, out, err) = s.bind(&args);
    let report = json_out(code, &out, &err);
    let roles: Vec<(&str, &str)> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "roleAssignment")
        .map(|s| (s["target"].as_str().unwrap(), s["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            (
                format!("role 'Storage Blob Data Reader' on {scope}").as_str(),
                "unchanged"
            ),
            (
                format!("role 'Key Vault Secrets User' on {scope}").as_str(),
                "create"
            ),
        ],
        "{report}"
    );
    let created = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"] == "create" && s["kind"] == "roleAssignment")
        .unwrap();
    assert!(
        created["body"]["properties"]["roleDefinitionId"]
            .as_str()
            .unwrap()
            .ends_with(KV_SECRETS_USER),
        "the report shows the body really sent: {created}"
    );
    let mut want = vec![BLOB_READER.to_string(), KV_SECRETS_USER.to_string()];
    want.sort();
    assert_eq!(role_guids(&s.sub.assignments_of(principal).await), want);

    // A re-run finds both and writes nothing.
    let writes = s.sub.writes().await;
    let (code, out, err) = s.bind(&args);
    let again = json_out(code, &out, &err);
    assert!(
        actions(&again).iter().all(|(_, a)| a == "unchanged"),
        "{again}"
    );
    assert_eq!(s.sub.writes().await, writes);
}

/// Bind marks its assignments in `description` (RoleAssignmentProperties, Authorization
/// 2022-04-01); unbind removes those and never the user's own.
#[tokio::test]
async fn unbind_removes_the_role_bind_made_and_keeps_the_users_own() {
    let s = setup("unroles").await;
    let principal = s.identity["properties"]["principalId"].as_str().unwrap();
    let scope = format!("/subscriptions/{}/resourceGroups/rg", s.sub.id);
    let own = s.sub.assign(KV_SECRETS_USER, &scope, principal).await;
    let (code, out, err) = s.bind(&["--role", "Storage Blob Data Reader", "--scope", &scope]);
    assert_eq!(code, 0, "{out}{err}");
    let made: Vec<Value> = s
        .sub
        .assignments_of(principal)
        .await
        .into_iter()
        .filter(|a| a["name"] != own.as_str())
        .collect();
    assert_eq!(role_guids(&made), [BLOB_READER]);
    let description = made[0]["properties"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        description.starts_with("kubectl-azwi bind")
            && description.contains(&format!(
                "system:serviceaccount:{}:workload-identity-sa",
                s.ns
            )),
        "bind marks its own: {description:?}"
    );

    let (code, out, err) = s.unbind(&["-o", "json"]);
    let report = json_out(code, &out, &err);
    assert!(
        actions(&report).contains(&("roleAssignment".into(), "delete".into())),
        "{report}"
    );
    let left = s.sub.assignments_of(principal).await;
    assert_eq!(role_guids(&left), [KV_SECRETS_USER], "the user's own stays");
    assert_eq!(left[0]["name"], own.as_str());
}

/// `--delete-identity` refuses, listing them, while the identity holds a credential or a role
/// assignment for anything else; following the hint (`--force`) deletes it.
#[tokio::test]
async fn delete_identity_refuses_while_the_identity_serves_something_else() {
    let s = setup("delid").await;
    let principal = s.identity["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let scope = format!("/subscriptions/{}/resourceGroups/rg", s.sub.id);
    // Another binding on the same identity: a CI pipeline's credential, and the user's own role.
    let (status, body) = s
        .sub
        .arm(
            "PUT",
            &format!("{}/federatedIdentityCredentials/ci-deploy?api-version=2023-01-31", s.id()),
            Some(json!({"properties": {"issuer": "https://token.actions.githubusercontent.com", "subject": "repo:contoso/app:ref:refs/heads/main", "audiences": [keys::AUDIENCE]}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let own = s.sub.assign(KV_SECRETS_USER, &scope, &principal).await;
    let (code, out, err) = s.bind(&[]);
    assert_eq!(code, 0, "{out}{err}");

    let writes = s.sub.writes().await;
    let (code, _, err) = s.unbind(&["--delete-identity"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ci-deploy (https://token.actions.githubusercontent.com, repo:contoso/app:ref:refs/heads/main)"), "{err}");
    assert!(
        err.contains(&own),
        "the user's role assignment is listed: {err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(s.sub.writes().await, writes, "nothing written");
    assert_eq!(s.sub.credentials(s.id()).await.len(), 2);
    assert!(
        s.sa()
            .await
            .unwrap()
            .metadata
            .annotations
            .unwrap()
            .contains_key(keys::CLIENT_ID_ANNOTATION),
        "the cluster is untouched too"
    );

    // The hint, followed: --force deletes it.
    let (code, out, err) = s.unbind(&["--delete-identity", "--force", "-o", "json"]);
    let report = json_out(code, &out, &err);
    assert!(
        actions(&report).contains(&("identity".into(), "delete".into())),
        "{report}"
    );
    let (status, _) = s
        .sub
        .arm("GET", &format!("{}?api-version=2023-01-31", s.id()), None)
        .await;
    assert_eq!(status, 404, "the identity is gone");
    assert!(
        report["warnings"].to_string().contains(&own),
        "the user's own assignment was left, and said so: {report}"
    );
    assert_eq!(
        s.sub.assignments_of(&principal).await.len(),
        1,
        "never the user's own"
    );
}
