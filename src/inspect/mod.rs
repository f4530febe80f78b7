//! `inspect`'s model, pure: compact facts read off ServiceAccounts and pods (one page at a time,
//! so 20,000 pods never sit in memory as full objects), the identities and credentials Azure
//! holds, and the rows they make. No client, no clock: the command gathers, this decides.

use serde::Serialize;

mod app;
pub mod export;
mod facts;
pub mod identity_binding;
mod rows;

pub use facts::*;
pub use rows::*;

/// One cluster in the report: what was read and what it cost.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSummary {
    pub context: Option<String>,
    pub issuer: Option<String>,
    pub service_accounts: usize,
    pub pods: usize,
    pub requests: Requests,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureSummary {
    pub checked: bool,
    pub subscription: Option<String>,
    pub identities: usize,
    pub requests: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectReport {
    pub clusters: Vec<ClusterSummary>,
    pub azure: AzureSummary,
    pub items: Vec<Row>,
    /// AKS identity bindings, binding first (each also shows in its ServiceAccounts' rows).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identity_bindings: Vec<identity_binding::IbRow>,
    pub notes: Vec<String>,
}

impl InspectReport {
    /// Several clusters: rows need a CONTEXT column to be told apart.
    pub fn fleet(&self) -> bool {
        self.clusters.len() > 1
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::api::core::v1::ServiceAccount;

    use super::*;
    use crate::wi::{credential::Credential, keys, mutation, names, webhook};

    pub const ISS: &str = "https://issuer.example/t/u/";
    pub const CID: &str = "11111111-1111-1111-1111-111111111111";

    pub fn sa(ns: &str, name: &str, client_id: Option<&str>) -> SaFacts {
        SaFacts {
            namespace: ns.into(),
            name: name.into(),
            client_id: client_id.map(str::to_string),
            tenant_id: None,
            token_expiration: None,
        }
    }
    pub fn pod(ns: &str, sa: &str, labelled: bool, injected: bool) -> PodFacts {
        PodFacts {
            namespace: ns.into(),
            service_account: sa.into(),
            labelled,
            injected,
            identity_binding: false,
        }
    }
    pub fn cred(name: &str, issuer: &str, subject: &str) -> Credential {
        Credential {
            name: name.into(),
            issuer: issuer.into(),
            subject: subject.into(),
            audiences: vec![keys::AUDIENCE.into()],
        }
    }
    pub fn azure(creds: Vec<Credential>) -> AzureFacts {
        AzureFacts {
            subscription: "sub".into(),
            identities: vec![IdentityFacts {
                // As ARM returns it: lower-case `resourcegroups`.
                id: "/subscriptions/00000000-0000-4000-8000-000000000001/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app".into(),
                name: "id-app".into(),
                resource_group: "rg".into(),
                client_id: CID.into(),
                tenant_id: "tenant".into(),
                credentials: Some(creds),
                ..Default::default()
            }],
            roles: BTreeMap::new(),
        }
    }
    /// A report of these rows; `checked`: Azure was asked (one identity found).
    pub fn report(items: Vec<Row>, checked: bool) -> InspectReport {
        InspectReport {
            clusters: vec![],
            azure: AzureSummary {
                checked,
                subscription: checked.then(|| "sub".into()),
                identities: usize::from(checked),
                requests: 0,
            },
            items,
            identity_bindings: vec![],
            notes: vec![],
        }
    }
    pub fn cluster(sas: Vec<SaFacts>, pods: Vec<PodFacts>) -> ClusterFacts {
        ClusterFacts {
            context: Some("c1".into()),
            issuer: Some(ISS.into()),
            webhook_tenant: Some("tenant".into()),
            namespace_tenants: BTreeMap::new(),
            service_accounts: sas,
            pods,
            requests: Requests::default(),
            server: String::new(),
            identity_binding: Default::default(),
        }
    }

    #[test]
    fn pod_facts_read_label_injection_and_default_sa() {
        let mut p = mutation::fixtures::mutated_pod(mutation::Layout::Reserved);
        p.metadata.namespace = Some("ns".into());
        p.metadata.labels = Some([(keys::USE_LABEL.to_string(), "true".to_string())].into());
        let f = PodFacts::from_pod(&p);
        assert_eq!(f, pod("ns", "default", true, true));
        p.metadata.labels = Some([(keys::USE_LABEL.to_string(), "True".to_string())].into());
        p.spec.as_mut().unwrap().volumes = None;
        p.spec.as_mut().unwrap().service_account_name = Some("app".into());
        assert_eq!(PodFacts::from_pod(&p), pod("ns", "app", false, false));
    }

    #[test]
    fn sa_facts_ignore_an_empty_client_id() {
        let mut s = ServiceAccount::default();
        s.metadata.name = Some("a".into());
        s.metadata.annotations =
            Some([(keys::CLIENT_ID_ANNOTATION.to_string(), " ".to_string())].into());
        assert_eq!(SaFacts::from_sa(&s).client_id, None);
    }

    #[test]
    fn verdicts_table() {
        let subject = names::subject("ns", "app");
        let cases: Vec<(&str, Vec<Credential>, &str)> = vec![
            ("exact", vec![cred("fic", ISS, &subject)], "✔"),
            (
                "no slash",
                vec![cred("fic", ISS.trim_end_matches('/'), &subject)],
                "‼",
            ),
            (
                "other audience",
                vec![Credential {
                    audiences: vec!["api://other".into()],
                    ..cred("fic", ISS, &subject)
                }],
                "‼",
            ),
            ("none", vec![], "×"),
            (
                "flexible on the cluster's issuer",
                vec![cred("gh-flex", ISS, "")],
                "×",
            ),
            (
                "exact beside a flexible one",
                vec![cred("gh-flex", ISS, ""), cred("fic", ISS, &subject)],
                "✔",
            ),
            (
                "unrelated",
                vec![cred(
                    "gh",
                    "https://token.actions.githubusercontent.com",
                    "repo:x",
                )],
                "×",
            ),
        ];
        for (what, creds, symbol) in cases {
            let c = cluster(
                vec![sa("ns", "app", Some(CID))],
                vec![pod("ns", "app", true, true)],
            );
            let rows = rows(&c, Some(&azure(creds)), Filter::Bindings);
            assert_eq!(rows.len(), 1, "{what}");
            assert_eq!(rows[0].credential.symbol(), symbol, "{what}");
            assert_eq!(
                rows[0].ok(),
                symbol == "✔",
                "{what}: {:?}",
                rows[0].problems
            );
            assert_eq!(rows[0].identity.as_ref().unwrap().name, "id-app");
        }
    }

    #[test]
    fn own_subject_near_miss_beats_a_neighbours_credential() {
        let c = cluster(vec![sa("ns", "near", Some(CID))], vec![]);
        let az = azure(vec![
            cred("neighbour", ISS, &names::subject("ns", "good")),
            cred(
                "own",
                ISS.trim_end_matches('/'),
                &names::subject("ns", "near"),
            ),
        ]);
        let r = &rows(&c, Some(&az), Filter::Bindings)[0];
        assert_eq!(r.credential.name(), Some("own"));
    }

    #[test]
    fn trailing_slash_is_named() {
        let c = cluster(vec![sa("ns", "app", Some(CID))], vec![]);
        let az = azure(vec![cred(
            "fic",
            ISS.trim_end_matches('/'),
            &names::subject("ns", "app"),
        )]);
        let r = &rows(&c, Some(&az), Filter::Bindings)[0];
        assert!(r.problems[0].contains("trailing '/'"), "{:?}", r.problems);
    }

    #[test]
    fn unbound_labelled_uninjected_and_missing_sas_are_problems() {
        let c = cluster(
            vec![
                sa("ns", "bound", Some(CID)),
                sa("ns", "plain", None),
                sa("ns", "quiet", None),
            ],
            vec![
                pod("ns", "bound", false, false),
                pod("ns", "plain", true, true),
                pod("ns", "ghost", true, false),
                pod("ns", "quiet", false, false),
            ],
        );
        let rows = rows(&c, None, Filter::Bindings);
        let names: Vec<_> = rows.iter().map(|r| r.service_account.as_str()).collect();
        assert_eq!(names, ["bound", "ghost", "plain"], "quiet is no binding");
        assert!(rows[0].problems[0].contains("lack the label"));
        assert_eq!(
            rows[0].credential,
            CredentialState::NotChecked {
                reason: "cluster-only view".into()
            }
        );
        assert!(!rows[1].exists);
        assert!(rows[1].problems[0].contains("does not exist"));
        assert!(rows[1].problems[1].contains("not injected"));
        assert!(rows[2].problems[0].contains("no azure.workload.identity/client-id"));
        assert_eq!(
            rows[2].pods,
            PodCounts {
                labelled: 1,
                injected: 1,
                total: 1,
                identity_binding: 0,
            }
        );
    }

    #[test]
    fn only_shows_the_named_sa_even_unbound() {
        let c = cluster(
            vec![sa("ns", "quiet", None), sa("ns", "app", Some(CID))],
            vec![],
        );
        let r = rows(&c, None, Filter::Only("quiet"));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].service_account, "quiet");
        assert!(r[0].ok());
    }

    #[test]
    fn the_tenant_is_the_one_of_the_install_serving_the_namespace() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
        let install = |name: &str, ns: &str, selector: Option<(&str, &str)>| webhook::Install {
            configuration: name.into(),
            endpoint: format!("service {ns}/azure-wi-webhook-webhook-service"),
            service_namespace: Some(ns.into()),
            flavour: webhook::Flavour::Other,
            failure_policy: "Fail".into(),
            has_ca_bundle: true,
            namespace_selector: selector.map(|(k, v)| LabelSelector {
                match_labels: Some([(k.to_string(), v.to_string())].into()),
                ..Default::default()
            }),
        };
        let installs = [
            (
                install("addon", "kube-system", Some(("team", "a"))),
                Some("tenant-a".into()),
            ),
            (
                install("helm", webhook::HELM_NAMESPACE, Some(("team", "b"))),
                Some("tenant-b".into()),
            ),
        ];
        let namespaces: BTreeMap<String, BTreeMap<String, String>> = [
            ("ns-a", Some(("team", "a"))),
            ("ns-b", Some(("team", "b"))),
            ("ns-none", None),
        ]
        .into_iter()
        .map(|(n, l)| {
            (
                n.to_string(),
                l.map(|(k, v)| [(k.to_string(), v.to_string())].into())
                    .unwrap_or_default(),
            )
        })
        .collect();
        let by_ns = tenants_by_namespace(&installs, &namespaces);
        assert_eq!(by_ns["ns-a"].as_deref(), Some("tenant-a"));
        assert_eq!(by_ns["ns-b"].as_deref(), Some("tenant-b"));
        assert_eq!(by_ns["ns-none"], None, "no install serves it");
        let mut c = cluster(vec![], vec![]);
        c.namespace_tenants = by_ns;
        assert_eq!(c.tenant_for("ns-a"), Some("tenant-a"));
        assert_eq!(
            c.tenant_for("elsewhere"),
            Some("tenant"),
            "the cluster-wide one"
        );
    }

    #[test]
    fn unknown_client_id_and_tenant_mismatch() {
        let mut c = cluster(
            vec![
                sa("ns", "app", Some(CID)),
                sa("ns", "x", Some("22222222-2222-2222-2222-222222222222")),
            ],
            vec![],
        );
        c.webhook_tenant = Some("other".into());
        let az = azure(vec![cred("fic", ISS, &names::subject("ns", "app"))]);
        let r = rows(&c, Some(&az), Filter::Bindings);
        assert!(
            r[0].problems[0].contains("in tenant tenant"),
            "{:?}",
            r[0].problems
        );
        assert!(r[1].problems[0].contains("matches no user-assigned identity"));
        assert_eq!(
            client_ids([&c]),
            vec![
                CID.to_string(),
                "22222222-2222-2222-2222-222222222222".to_string()
            ]
        );
    }
}
