//! `kubectl azwi inspect` on the real ground and the Azure emulator: a correct binding, a near
//! miss (issuer without its trailing slash), an unbound labelled pod and an uninjected pod, in
//! every output format, and a two-context fleet.

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::{Api, api::PostParams};
use serde_json::{Value, json};

use kubectl_azwi::wi::{keys, names};

use crate::support::{
    self, Ground,
    azure::{Sub, run_plugin},
    fixtures,
};

pub(crate) struct Arranged {
    pub ns: String,
    pub sub: Sub,
    pub client_id: String,
    pub identity_id: String,
}

/// good: identity + exact credential + annotated SA + labelled injected pod.
/// near: same identity, credential issuer without the trailing slash, one unlabelled pod.
/// plain: no annotation, but a labelled pod uses it.
pub(crate) async fn arrange(prefix: &str) -> Arranged {
    let g = Ground::get();
    let client = g.client().await;
    let sub = Sub::new().await;
    sub.resource_group("rg-inspect").await;
    let identity = sub.identity("rg-inspect", "id-inspect").await;
    let client_id = identity["properties"]["clientId"]
        .as_str()
        .unwrap()
        .to_string();
    let identity_id = identity["id"].as_str().unwrap().to_string();
    let ns = support::namespace(&client, prefix, &[]).await;
    let issuer = g.issuer();
    for (fic, sa, iss) in [
        ("good-fic", "good", issuer.to_string()),
        ("near-fic", "near", issuer.trim_end_matches('/').to_string()),
    ] {
        let (status, body) = sub
            .arm(
                "PUT",
                &format!("{identity_id}/federatedIdentityCredentials/{fic}?api-version=2023-01-31"),
                Some(json!({"properties": {"issuer": iss, "subject": names::subject(&ns, sa), "audiences": [keys::AUDIENCE]}})),
            )
            .await;
        assert!(status < 300, "PUT {fic}: {status} {body}");
    }
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    for (name, bound) in [("good", true), ("near", true), ("plain", false)] {
        let ann: &[(&str, &str)] = if bound {
            &[(keys::CLIENT_ID_ANNOTATION, &client_id)]
        } else {
            &[]
        };
        sas.create(
            &PostParams::default(),
            &fixtures::service_account(name, ann),
        )
        .await
        .unwrap();
    }
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    for (name, sa, labelled) in [
        ("good-pod", "good", true),
        ("near-pod", "near", false),
        ("unbound-pod", "plain", true),
    ] {
        let labels = if labelled {
            vec![fixtures::use_label()]
        } else {
            vec![]
        };
        pods.create(&PostParams::default(), &fixtures::pod(name, sa, &labels))
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e}"));
    }
    Arranged {
        ns,
        sub,
        client_id,
        identity_id,
    }
}

fn ok(args: &[&str], env: &[(String, String)]) -> (String, String) {
    let (code, out, err) = run_plugin(args, env);
    assert_eq!(code, 0, "inspect {args:?} failed:\n{out}\n{err}");
    (out, err)
}

fn line<'a>(table: &'a str, sa: &str) -> Vec<&'a str> {
    table
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|w| w.get(1).is_some_and(|w| *w == sa))
        .unwrap_or_else(|| panic!("no row for {sa} in\n{table}"))
}

#[tokio::test]
async fn table_wide_json_yaml_show_every_link() {
    let a = arrange("inspect").await;
    let env = a.sub.env();
    let ns = a.ns.as_str();
    let writes_before = a.sub.writes().await;

    let (table, _) = ok(&["inspect", "-n", ns], &env);
    let head: Vec<_> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        head,
        [
            "NAMESPACE",
            "SERVICEACCOUNT",
            "CLIENT-ID",
            "IDENTITY",
            "CREDENTIAL",
            "PODS"
        ]
    );
    assert_eq!(
        line(&table, "good"),
        [
            ns,
            "good",
            &a.client_id,
            "id-inspect/rg-inspect",
            "✔",
            "1/1/1"
        ]
    );
    let near = line(&table, "near");
    assert_eq!(near[2], "(!)", "a row with problems is marked: {table}");
    assert_eq!(
        &near[3..],
        [a.client_id.as_str(), "id-inspect/rg-inspect", "‼", "0/0/1"]
    );
    let plain = line(&table, "plain");
    assert_eq!(plain[2], "(!)");
    assert_eq!(&plain[3..6], ["-", "-", "-"], "{table}");
    assert!(
        table.contains(&format!(
            "{ns}/near: federated credential near-fic does not match: issuer"
        )),
        "{table}"
    );
    assert!(table.contains("lacks the trailing '/'"), "{table}");
    assert!(table.contains(&format!("{ns}/plain: 1 labelled pod(s) use it, but it has no azure.workload.identity/client-id annotation")), "{table}");
    assert!(
        table.contains(&format!("{ns}/near: 1 pod(s) lack the label")),
        "{table}"
    );
    assert!(!table.contains('\u{1b}'), "piped output is plain");

    let (wide, _) = ok(&["inspect", "-n", ns, "-o", "wide"], &env);
    let wide_head: Vec<_> = wide.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        &wide_head[6..],
        [
            "TENANT",
            "ISSUER",
            "TOKEN-EXPIRATION",
            "CREDENTIAL-NAME",
            "ROLES"
        ]
    );
    let good = line(&wide, "good");
    let tenant = Ground::get().var("AZWI_GROUND_TENANT");
    assert_eq!(
        &good[6..],
        [tenant, Ground::get().issuer(), "-", "good-fic", "-"],
        "{wide}"
    );

    let (json_text, _) = ok(&["inspect", "-n", ns, "-o", "json"], &env);
    let v: Value = serde_json::from_str(&json_text).unwrap();
    let items = v["items"].as_array().unwrap();
    let names: Vec<_> = items
        .iter()
        .map(|i| i["serviceAccount"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["good", "near", "plain"]);
    assert_eq!(items[0]["credential"]["status"], "exact");
    assert_eq!(items[0]["credential"]["issuer"], Ground::get().issuer());
    assert_eq!(items[0]["identity"]["id"], a.identity_id.as_str());
    assert_eq!(
        items[0]["pods"],
        json!({"labelled": 1, "injected": 1, "total": 1})
    );
    assert_eq!(items[0]["problems"], json!([]));
    assert_eq!(items[1]["credential"]["status"], "nearMiss");
    assert_eq!(items[1]["credential"]["name"], "near-fic");
    assert_eq!(items[2]["clientId"], Value::Null);
    assert_eq!(items[2]["credential"]["status"], "notChecked");
    // The cost rule: two one-page lists per cluster; ARM: one identity list + one credential list.
    let c = &v["clusters"][0];
    assert_eq!(c["requests"]["serviceAccountPages"], 1);
    assert_eq!(c["requests"]["podPages"], 1);
    assert_eq!(c["issuer"], Ground::get().issuer());
    assert_eq!(v["azure"]["requests"], 2, "{}", v["azure"]);
    assert_eq!(v["azure"]["identities"], 1);

    let (yaml_text, _) = ok(&["inspect", "-n", ns, "-o", "yaml"], &env);
    let y: Value = serde_yaml::from_str(&yaml_text).unwrap();
    assert_eq!(
        y["items"], v["items"],
        "yaml and json carry the same report"
    );

    let (one, _) = ok(&["inspect", "sa/near", "-n", ns, "-o", "json"], &env);
    let one: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    assert_eq!(one["items"][0]["serviceAccount"], "near");
    assert_eq!(
        a.sub.writes().await,
        writes_before,
        "inspect writes nothing"
    );
}

#[tokio::test]
async fn no_azure_is_the_cluster_view_with_a_note() {
    let a = arrange("inspect-noaz").await;
    let ns = a.ns.as_str();
    for env in [a.sub.env(), vec![]] {
        let args: &[&str] = if env.is_empty() {
            &["inspect", "-n", ns, "-o", "json"]
        } else {
            &["inspect", "-n", ns, "-o", "json", "--no-azure"]
        };
        let (out, err) = ok(args, &env);
        assert!(err.contains("cluster-only view"), "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["azure"]["checked"], false);
        assert_eq!(v["items"][0]["credential"]["status"], "notChecked");
        assert_eq!(v["items"][0]["identity"], Value::Null);
        assert_eq!(v["items"][0]["pods"]["injected"], 1);
    }
}

/// The Terraform export, parsed as HCL, for the current azurerm major and the previous one.
#[tokio::test]
async fn exports_terraform_and_bicep() {
    let a = arrange("inspect-export").await;
    let env = a.sub.env();
    let ns = a.ns.as_str();
    let (tf, _) = ok(&["inspect", "-n", ns, "-o", "terraform"], &env);
    assert_eq!(tf.matches('{').count(), tf.matches('}').count(), "{tf}");
    assert_eq!(
        tf.matches("resource \"azurerm_federated_identity_credential\"")
            .count(),
        1,
        "{tf}"
    );
    let ident = format!("fic_{}_good", ns.replace('-', "_"));
    assert!(
        tf.contains(&format!(
            "resource \"azurerm_federated_identity_credential\" \"{ident}\" {{"
        )),
        "{tf}"
    );
    // ARM answers `resourcegroups`; azurerm parses ids case-sensitively against `resourceGroups`
    // (hashicorp/go-azure-helpers, commonids/user_assigned_identity.go).
    assert!(
        a.identity_id.contains("/resourcegroups/"),
        "{}",
        a.identity_id
    );
    let canonical = a
        .identity_id
        .replace("/resourcegroups/", "/resourceGroups/");
    assert!(!tf.contains("/resourcegroups/"), "{tf}");
    // azurerm 5.x: `user_assigned_identity_id`; `parent_id` and `resource_group_name` are gone
    // (hashicorp/terraform-provider-azurerm v5.0.0, federated_identity_credential_resource.go).
    for attr in [
        "name                      = \"good-fic\"".to_string(),
        format!("user_assigned_identity_id = \"{canonical}\""),
        format!("issuer                    = \"{}\"", Ground::get().issuer()),
        format!("subject                   = \"system:serviceaccount:{ns}:good\""),
        "audience                  = [\"api://AzureADTokenExchange\"]".to_string(),
        format!("to = azurerm_federated_identity_credential.{ident}"),
        format!("id = \"{canonical}/federatedIdentityCredentials/good-fic\""),
    ] {
        assert!(tf.contains(&attr), "{attr} in\n{tf}");
    }
    assert!(
        !tf.contains("parent_id") && !tf.contains("resource_group_name"),
        "{tf}"
    );
    assert!(
        tf.contains("near: credential near-fic is a near miss"),
        "{tf}"
    );
    // The previous major, behind the flag: 4.x's `parent_id` and `resource_group_name`.
    let (tf4, _) = ok(
        &[
            "inspect",
            "-n",
            ns,
            "-o",
            "terraform",
            "--azurerm-major",
            "4",
        ],
        &env,
    );
    for attr in [
        "resource_group_name = \"rg-inspect\"".to_string(),
        format!("parent_id           = \"{canonical}\""),
    ] {
        assert!(tf4.contains(&attr), "{attr} in\n{tf4}");
    }
    assert!(!tf4.contains("user_assigned_identity_id"), "{tf4}");
    // Both exports parse as HCL 2 (the syntax Terraform reads), and the parsed resource holds
    // the values, not just text that looks like them.
    for (text, id_attr, id_value) in [
        (&tf, "user_assigned_identity_id", canonical.as_str()),
        (&tf4, "parent_id", canonical.as_str()),
    ] {
        let body: hcl::Body =
            hcl::from_str(text).unwrap_or_else(|e| panic!("not HCL: {e}\n{text}"));
        let fic = body
            .blocks()
            .find(|b| {
                b.identifier() == "resource"
                    && b.labels().iter().map(|l| l.as_str()).collect::<Vec<_>>()
                        == ["azurerm_federated_identity_credential", ident.as_str()]
            })
            .unwrap_or_else(|| panic!("no resource block {ident} in\n{text}"));
        let attr = |k: &str| {
            fic.body()
                .attributes()
                .find(|a| a.key() == k)
                .map(|a| a.expr().clone())
                .unwrap_or_else(|| panic!("no {k} in {ident}:\n{text}"))
        };
        assert_eq!(attr(id_attr), hcl::Expression::from(id_value), "{text}");
        assert_eq!(
            attr("subject"),
            hcl::Expression::from(format!("system:serviceaccount:{ns}:good")),
            "{text}"
        );
        assert_eq!(
            attr("audience"),
            hcl::Expression::Array(vec![hcl::Expression::from("api://AzureADTokenExchange")]),
            "{text}"
        );
        assert!(
            body.blocks().any(|b| b.identifier() == "import"),
            "an import block adopts the existing credential:\n{text}"
        );
    }

    let (bicep, _) = ok(&["inspect", "-n", ns, "-o", "bicep"], &env);
    assert_eq!(
        bicep.matches('{').count(),
        bicep.matches('}').count(),
        "{bicep}"
    );
    assert!(bicep.contains("resource identity_id_inspect 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {\n  name: 'id-inspect'\n}"), "{bicep}");
    assert!(bicep.contains(&format!("resource {ident} 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {{\n  parent: identity_id_inspect\n  name: 'good-fic'\n")), "{bicep}");
    assert!(
        bicep.contains(&format!("    issuer: '{}'", Ground::get().issuer())),
        "{bicep}"
    );
    assert!(
        bicep.contains("      'api://AzureADTokenExchange'"),
        "{bicep}"
    );
}

/// The AKS add-on runs the webhook in kube-system, its ConfigMap (with the tenant) beside it:
/// inspect reads the tenant where the MutatingWebhookConfiguration's service says the install
/// lives, not only where the Helm chart puts it.
#[tokio::test]
async fn the_webhook_tenant_is_read_where_the_add_on_lives() {
    use k8s_openapi::api::{
        admissionregistration::v1::MutatingWebhookConfiguration, core::v1::ConfigMap,
    };
    use kube::api::DeleteParams;
    let g = Ground::get();
    let client = g.client().await;
    let tag = format!("{:08x}", rand::random::<u32>());
    // The identity is in the add-on's tenant, not the ground webhook's.
    let tenant = format!("{tag}-0000-4000-8000-{:012x}", rand::random::<u32>());
    let sub = Sub::in_tenant(&tenant).await;
    sub.resource_group("rg").await;
    let identity = sub.identity("rg", "id-addon").await;
    let client_id = identity["properties"]["clientId"].as_str().unwrap();
    // A namespace only the add-on serves (the ground's own webhooks skip `none`).
    let ns = support::namespace(
        &client,
        "inspect-addon",
        &[("azwi.test/webhook", "none"), ("azwi.test/addon", &tag)],
    )
    .await;
    let ca = std::fs::read(g.var("AZWI_GROUND_CA")).unwrap();
    let mwc: MutatingWebhookConfiguration = serde_json::from_value(json!({
        "metadata": {"name": format!("aks-webhook-admission-controller-{tag}")},
        "webhooks": [{
            "name": "mutation.azure-workload-identity.io",
            "admissionReviewVersions": ["v1"],
            "clientConfig": {"service": {"namespace": "kube-system", "name": "azure-wi-webhook-webhook-service", "path": "/mutate-v1-pod"}, "caBundle": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &ca)},
            "failurePolicy": "Ignore",
            "sideEffects": "None",
            "namespaceSelector": {"matchLabels": {"azwi.test/addon": tag}},
            "objectSelector": {"matchLabels": {keys::USE_LABEL: "true"}},
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}]
        }]
    }))
    .unwrap();
    let mwcs: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    mwcs.create(&PostParams::default(), &mwc).await.unwrap();
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "azure-wi-webhook-config"},
        "data": {"AZURE_ENVIRONMENT": "AzurePublicCloud", "AZURE_TENANT_ID": tenant}
    }))
    .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-system");
    cms.create(&PostParams::default(), &cm).await.unwrap();

    let (status, body) = sub
        .arm(
            "PUT",
            &format!("{}/federatedIdentityCredentials/addon?api-version=2023-01-31", identity["id"].as_str().unwrap()),
            Some(json!({"properties": {"issuer": g.issuer(), "subject": names::subject(&ns, "app"), "audiences": [keys::AUDIENCE]}})),
        )
        .await;
    assert!(status < 300, "{body}");
    Api::<ServiceAccount>::namespaced(client.clone(), &ns)
        .create(
            &PostParams::default(),
            &fixtures::service_account("app", &[(keys::CLIENT_ID_ANNOTATION, client_id)]),
        )
        .await
        .unwrap();
    let (code, out, err) = run_plugin(&["inspect", "-n", &ns, "-o", "json"], &sub.env());
    let _ = mwcs
        .delete(
            &mwc.metadata.name.clone().unwrap(),
            &DeleteParams::default(),
        )
        .await;
    let _ = cms
        .delete("azure-wi-webhook-config", &DeleteParams::default())
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let row = &v["items"][0];
    assert_eq!(row["tenantId"], tenant.as_str(), "{row}");
    assert_eq!(row["problems"], json!([]), "{row}");
}

/// Two contexts for the same ground, `fleet-a` and `fleet-b`: a second kubeconfig names them,
/// merged via KUBECONFIG, so no credential is copied to disk. Returns the plugin's environment
/// and that file (for the caller to remove).
pub(crate) fn fleet_env(a: &Arranged) -> (Vec<(String, String)>, std::path::PathBuf) {
    let extra = std::env::temp_dir().join(format!("azwi-fleet-{:08x}.yaml", rand::random::<u32>()));
    std::fs::write(
        &extra,
        "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts:\n\
         - name: fleet-a\n  context: {cluster: azwi-ground, user: azwi-ground-admin}\n\
         - name: fleet-b\n  context: {cluster: azwi-ground, user: azwi-ground-admin}\n",
    )
    .unwrap();
    let sep = if cfg!(windows) { ";" } else { ":" };
    let mut env = a.sub.env();
    env.push((
        "KUBECONFIG".into(),
        format!(
            "{}{sep}{}",
            Ground::get().kubeconfig().display(),
            extra.display()
        ),
    ));
    (env, extra)
}

#[tokio::test]
async fn fleet_of_two_contexts() {
    let a = arrange("inspect-fleet").await;
    let ns = a.ns.as_str();
    let (env, extra) = fleet_env(&a);
    let (table, _) = ok(&["inspect", "--context", "fleet-a,fleet-b", "-n", ns], &env);
    let (json_text, _) = ok(
        &[
            "inspect",
            "--context",
            "fleet-a,fleet-b",
            "-n",
            ns,
            "-o",
            "json",
        ],
        &env,
    );
    let (all, _) = ok(&["inspect", "--all-contexts", "-n", ns, "-o", "json"], &env);
    let _ = std::fs::remove_file(&extra);

    assert_eq!(
        table.lines().next().unwrap().split_whitespace().next(),
        Some("CONTEXT"),
        "{table}"
    );
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .filter(|w: &Vec<&str>| w.len() > 2 && w[1] == ns && w[2] == "good")
        .collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert_eq!(rows[0][0], "fleet-a");
    assert_eq!(rows[1][0], "fleet-b");
    assert_eq!(rows[0][5], "✔");
    assert!(
        table.contains(&format!(
            "fleet-b: {ns}/near: federated credential near-fic"
        )),
        "{table}"
    );

    let v: Value = serde_json::from_str(&json_text).unwrap();
    let contexts: Vec<_> = v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["context"].as_str().unwrap())
        .collect();
    assert_eq!(contexts, ["fleet-a", "fleet-b"]);
    assert_eq!(v["items"].as_array().unwrap().len(), 6);
    // Azure is asked once for the fleet: the identity list and one credential list.
    assert_eq!(v["azure"]["requests"], 2);

    let v: Value = serde_json::from_str(&all).unwrap();
    let mut contexts: Vec<_> = v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["context"].as_str().unwrap())
        .collect();
    contexts.sort();
    assert_eq!(
        contexts,
        ["azwi-ground", "azwi-ground-limited", "fleet-a", "fleet-b"]
    );
}

/// AKS identity bindings beside classic rows: binding -> identity -> the ServiceAccounts its
/// RBAC grant allows -> pods, and what is off. The expectations follow the path's rules
/// (MicrosoftDocs azure-aks-docs identity-bindings.md / -concepts.md, upstream webhook v1.6.0):
/// a pod uses the binding only with `azure.workload.identity/use-identity-binding: "true"`; the
/// token proxy serves a ServiceAccount only with a ClusterRoleBinding granting
/// `use-managed-identity` on the CLIENT id, and only for a Succeeded binding whose identity
/// holds AKS's `aks-identity-binding` credential; no per-ServiceAccount credential is needed.
#[tokio::test]
async fn identity_binding_rows_show_the_grant_the_pods_and_what_is_off() {
    use kubectl_azwi::wi::identity_binding as ib;
    let g = Ground::get();
    let s = crate::bind::setup("ib-inspect").await;
    s.sub
        .control(
            "POST",
            "clusters",
            Some(json!({"resourceGroup": "rg", "name": "aks1", "fqdn": "127.0.0.1", "issuerUrl": g.issuer()})),
        )
        .await;
    let (code, out, err) = s.bind(&["--identity-binding"]);
    assert_eq!(code, 0, "{out}{err}");
    let client = g.client().await;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &s.ns);
    // Annotated with the client id, as bind would, but never granted.
    sas.create(
        &PostParams::default(),
        &fixtures::service_account("ungranted", &[(keys::CLIENT_ID_ANNOTATION, s.client_id())]),
    )
    .await
    .unwrap();
    let pods: Api<Pod> = Api::namespaced(client, &s.ns);
    for (name, sa, opted_in) in [
        ("ib-pod", "workload-identity-sa", true),
        ("classic-pod", "workload-identity-sa", false),
        ("ungranted-pod", "ungranted", true),
    ] {
        let mut p = fixtures::pod(name, sa, &[fixtures::use_label()]);
        if opted_in {
            p.metadata.annotations =
                Some([(ib::ANNOTATION.to_string(), "true".to_string())].into());
        }
        pods.create(&PostParams::default(), &p).await.unwrap();
    }
    let inspect = |s: &crate::bind::Setup| -> Value {
        let (out, _) = ok(&["inspect", "-n", &s.ns, "-o", "json"], &s.sub.env());
        serde_json::from_str(&out).unwrap()
    };
    let v = inspect(&s);
    let row = |v: &Value, sa: &str| -> Value {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["serviceAccount"] == sa)
            .unwrap_or_else(|| panic!("no row for {sa}: {v}"))
            .clone()
    };
    let binding = v["identityBindings"][0]["binding"]
        .as_str()
        .unwrap()
        .to_string();
    let rbac = ib::rbac_name(s.client_id());
    // The granted ServiceAccount: served by the binding, no per-SA credential asked for; its
    // pod without the annotation is what is off.
    let good = row(&v, "workload-identity-sa");
    assert_eq!(
        good["credential"],
        json!({"status": "identityBinding", "binding": binding, "state": "Succeeded", "grantedBy": [rbac]}),
        "{good}"
    );
    let problems: Vec<&str> = good["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "1 pod(s) lack the annotation azure.workload.identity/use-identity-binding"
        ),
        "{problems:?}"
    );
    assert_eq!(
        good["pods"],
        json!({"labelled": 2, "injected": 2, "total": 2, "identityBinding": 1})
    );
    // Annotated, pods opted in, but no grant: the proxy would refuse it.
    let ungranted = row(&v, "ungranted");
    assert_eq!(ungranted["credential"]["grantedBy"], json!([]));
    let problems = ungranted["problems"].to_string();
    assert!(
        problems.contains("no ClusterRoleBinding grants it 'use-managed-identity'"),
        "{problems}"
    );
    // Binding first: identity, the ServiceAccounts allowed or annotated, their pods.
    let ibrow = &v["identityBindings"][0];
    assert_eq!(ibrow["state"], "Succeeded");
    assert_eq!(ibrow["cluster"], "rg/aks1");
    assert_eq!(ibrow["identity"], "app-id");
    assert_eq!(ibrow["managedCredential"], true);
    let listed: Vec<(String, Value)> = ibrow["serviceAccounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap().to_string(),
                x["grantedBy"].clone(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("ungranted".to_string(), json!([])),
            ("workload-identity-sa".to_string(), json!([rbac]))
        ]
    );

    // The binding deleted and put again, its operation ending Failed; then AKS's credential
    // removed by hand: both are named.
    let path = format!(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1/identityBindings/{binding}?api-version=2026-04-01",
        s.sub.id
    );
    let (st, b) = s.sub.arm("DELETE", &path, None).await;
    assert_eq!(st, 202, "{b}");
    for _ in 0..50 {
        if s.sub.arm("GET", &path, None).await.0 == 404 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    s.sub
        .control("POST", "identityBindingFailures", Some(json!({"count": 1})))
        .await;
    let (code, _, err) = s.bind(&["--identity-binding"]);
    assert_ne!(code, 0, "{err}");
    let (st, b) = s
        .sub
        .arm(
            "DELETE",
            &format!(
                "{}/federatedIdentityCredentials/{}?api-version=2023-01-31",
                s.id(),
                ib::MANAGED_CREDENTIAL
            ),
            None,
        )
        .await;
    assert!(st < 300, "{b}");
    let v = inspect(&s);
    let good = row(&v, "workload-identity-sa");
    assert_eq!(good["credential"]["state"], "Failed", "{good}");
    let problems = good["problems"].to_string();
    assert!(
        problems.contains(&format!("identity binding {binding} is Failed")),
        "{problems}"
    );
    assert!(
        problems.contains("holds no 'aks-identity-binding' credential"),
        "{problems}"
    );
    assert_eq!(v["identityBindings"][0]["managedCredential"], false);
    // The table marks the row as broken.
    let (table, _) = ok(&["inspect", "-n", &s.ns], &s.sub.env());
    assert!(
        line(&table, "workload-identity-sa").contains(&"x")
            || line(&table, "workload-identity-sa").contains(&"×"),
        "{table}"
    );
}
