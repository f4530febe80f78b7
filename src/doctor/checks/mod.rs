//! The check table. Each check is a pure function of `Facts`; the order here is the order
//! they print. Ids are stable: they are the JSON `id` and the README anchor. The functions
//! live by category (cluster.rs, service_account.rs, pod.rs, token.rs, azure.rs); what
//! several of them need is here.

mod app;
mod azure;
mod cluster;
mod identity_binding;
mod pod;
mod service_account;
mod token;

#[cfg(test)]
mod testing;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};

use super::model::{Category, Check, Facts, Gap, Verdict};
use crate::wi::{
    keys,
    mutation::{self, Injection, Origin},
    target::Owner,
};

pub use service_account::misspelled_client_id;

pub const CHECKS: &[Check] = &[
    Check {
        id: "issuer-discovery",
        category: Category::Cluster,
        title: "the OIDC issuer serves discovery and keys over https",
        run: cluster::issuer_discovery,
    },
    Check {
        id: "webhook-installed",
        category: Category::Cluster,
        title: "one workload-identity webhook serves the namespace",
        run: cluster::webhook_installed,
    },
    Check {
        id: "webhook-calls",
        category: Category::Cluster,
        title: "the API server reaches the webhook (its events of the last hour)",
        run: cluster::webhook_calls,
    },
    Check {
        id: "sa-exists",
        category: Category::ServiceAccount,
        title: "the service account exists",
        run: service_account::sa_exists,
    },
    Check {
        id: "sa-client-id",
        category: Category::ServiceAccount,
        title: "client-id annotation names a client id",
        run: service_account::sa_client_id,
    },
    Check {
        id: "sa-tenant-id",
        category: Category::ServiceAccount,
        title: "pods get the identity's tenant",
        run: service_account::sa_tenant_id,
    },
    Check {
        id: "sa-token-expiration",
        category: Category::ServiceAccount,
        title: "the token expiration the webhook uses is within 1h..24h",
        run: service_account::sa_token_expiration,
    },
    Check {
        id: "pod-admitted",
        category: Category::Pod,
        title: "the webhook admits the workload's pods",
        run: pod::pod_admitted,
    },
    Check {
        id: "pod-label",
        category: Category::Pod,
        title: "the pod template carries azure.workload.identity/use: \"true\"",
        run: pod::pod_label,
    },
    Check {
        id: "pod-service-account",
        category: Category::Pod,
        title: "the pod runs as the bound service account",
        run: pod::pod_service_account,
    },
    Check {
        id: "pod-mutated",
        category: Category::Pod,
        title: "the webhook mutated the pod",
        run: pod::pod_mutated,
    },
    Check {
        id: "pod-current",
        category: Category::Pod,
        title: "the pod was created after the service account was bound",
        run: pod::pod_current,
    },
    Check {
        id: "container-env",
        category: Category::Pod,
        title: "each container the webhook serves has the four AZURE_* variables",
        run: pod::container_env,
    },
    Check {
        id: "container-client-id",
        category: Category::Pod,
        title: "AZURE_CLIENT_ID, as the containers have it, matches the service account",
        run: pod::container_client_id,
    },
    Check {
        id: "token-volume",
        category: Category::Pod,
        title: "the projected token volume is mounted where AZURE_FEDERATED_TOKEN_FILE points",
        run: pod::token_volume,
    },
    Check {
        id: "token-file",
        category: Category::Token,
        title: "the token file is readable in the container",
        run: token::token_file,
    },
    Check {
        id: "token-claims",
        category: Category::Token,
        title: "the token's iss, sub, aud and lifetime are right",
        run: token::token_claims,
    },
    Check {
        id: "token-signature",
        category: Category::Token,
        title: "the token verifies against the issuer's JWKS",
        run: token::token_signature,
    },
    Check {
        id: "azure-identity",
        category: Category::Azure,
        title: "the client id is a user-assigned identity, or an application with an enabled service principal",
        run: azure::azure_identity,
    },
    Check {
        id: "azure-credential",
        category: Category::Azure,
        title: "a federated credential matches the token exactly",
        run: azure::azure_credential,
    },
    Check {
        id: "azure-credential-count",
        category: Category::Azure,
        title: "the identity has room for federated credentials",
        run: azure::azure_credential_count,
    },
    // The AKS identity-binding path: shown only when the pod takes it (src/doctor/mod.rs).
    Check {
        id: "ib-annotation",
        category: Category::Pod,
        title: "the pod asks for the identity binding (azure.workload.identity/use-identity-binding)",
        run: identity_binding::ib_annotation,
    },
    Check {
        id: "ib-env",
        category: Category::Pod,
        title: "the app has AZURE_KUBERNETES_TOKEN_PROXY, _SNI_NAME and _CA_FILE (not also _CA_DATA)",
        run: identity_binding::ib_env,
    },
    Check {
        id: "ib-token-audience",
        category: Category::Token,
        title: "the token's audience is api://AKSIdentityBinding",
        run: identity_binding::ib_token_audience,
    },
    Check {
        id: "ib-rbac",
        category: Category::ServiceAccount,
        title: "RBAC lets the service account use-managed-identity on the client id",
        run: identity_binding::ib_rbac,
    },
    Check {
        id: "ib-arm-binding",
        category: Category::Azure,
        title: "the cluster's identity binding of the identity Succeeded",
        run: identity_binding::ib_arm_binding,
    },
    Check {
        id: "ib-managed-credential",
        category: Category::Azure,
        title: "AKS's credential aks-identity-binding is on the identity",
        run: identity_binding::ib_managed_credential,
    },
    Check {
        id: "ib-mixed",
        category: Category::Azure,
        title: "one path per service account (no classic credential beside the binding)",
        run: identity_binding::ib_mixed,
    },
    // --can ACTION --scope SCOPE (src/doctor/can.rs).
    Check {
        id: "azure-can",
        category: Category::Access,
        title: "the identity may perform --can ACTION at --scope",
        run: crate::doctor::can::check,
    },
    Check {
        id: "token-exchange",
        category: Category::Exchange,
        title: "Entra exchanges the pod's token",
        run: azure::token_exchange,
    },
];

// ---------- helpers over Facts, shared by the categories ----------

fn annotations(sa: &ServiceAccount) -> BTreeMap<String, String> {
    sa.metadata.annotations.clone().unwrap_or_default()
}

/// The SA's client-id annotation, under its exact key.
pub fn client_id(f: &Facts) -> Option<String> {
    f.service_account
        .as_ref()
        .ok()
        .and_then(|sa| annotations(sa).get(keys::CLIENT_ID_ANNOTATION).cloned())
}

/// The pod spec checked for labels and service account: a workload's template, else the pod.
fn spec_pod(f: &Facts) -> Option<&Pod> {
    match (&f.workload, &f.pod) {
        (Ok(w), _) => Some(&w.template),
        (_, Ok(p)) => Some(p),
        _ => None,
    }
}

fn label(pod: &Pod) -> Option<&str> {
    pod.metadata
        .labels
        .as_ref()?
        .get(keys::USE_LABEL)
        .map(String::as_str)
}

fn pod_name(f: &Facts) -> Option<&str> {
    f.pod.as_ref().ok().and_then(|p| p.metadata.name.as_deref())
}

/// How to get the pod created again, as a command with real names (see `Owner::recreate`).
fn recreate(f: &Facts) -> String {
    f.owner
        .as_ref()
        .unwrap_or(&Owner::Bare)
        .recreate(&f.namespace, pod_name(f))
}

/// When the client-id annotation was last written, from the SA's managedFields: the newest
/// time of a manager that owns the key.
pub fn annotation_time(sa: &ServiceAccount, key: &str) -> Option<i64> {
    let field = format!("f:{key}");
    sa.metadata
        .managed_fields
        .iter()
        .flatten()
        .filter(|m| {
            m.fields_v1
                .as_ref()
                .and_then(|f| f.0.get("f:metadata")?.get("f:annotations")?.get(&field))
                .is_some()
        })
        .filter_map(|m| m.time.as_ref().map(|t| t.0.as_second()))
        .max()
}

fn created(pod: &Pod) -> Option<i64> {
    pod.metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
}

/// The running pod's injection, when there is a running pod.
fn injection(f: &Facts) -> Option<Injection> {
    f.pod.as_ref().ok().map(mutation::observe)
}

/// The container the user's code runs in (`-c`, else the app container).
fn app_container(f: &Facts) -> Option<String> {
    f.container.clone().or_else(|| {
        f.pod
            .as_ref()
            .ok()
            .and_then(|p| mutation::app_container(p, f.template.as_ref()))
    })
}

/// Why the pod's AZURE_CLIENT_ID predates the annotation, if it does: the webhook injected
/// an older annotation (or, with none, nothing) at admission. A value the user wrote into the
/// spec is not stale: the webhook keeps it, whatever the annotation (container-client-id).
fn stale(f: &Facts) -> Option<String> {
    let want = client_id(f)?;
    let pod = f.pod.as_ref().ok()?;
    let inj = mutation::observe(pod);
    if !inj.mutated() {
        return None;
    }
    let app = app_container(f);
    let c = inj
        .served()
        .find(|c| Some(&c.name) == app.as_ref())
        .or_else(|| inj.served().next())?;
    let have = c.env_value(keys::ENV_CLIENT_ID).unwrap_or_default();
    match c.origin(keys::ENV_CLIENT_ID, inj.tracked) {
        Some(Origin::User) => return None,
        None => {
            return Some(format!(
                "the pod has no AZURE_CLIENT_ID: it was admitted while service account {} had no client-id annotation, which now names '{want}'",
                f.sa_name.as_deref().unwrap_or_default()
            ));
        }
        Some(Origin::Webhook) if have == want => return None,
        Some(Origin::Webhook) => {}
        // Without managedFields, a different value on a pod older than the annotation's last
        // write is the likelier story.
        Some(Origin::Unknown) => {
            let sa = f.service_account.as_ref().ok()?;
            let older = matches!(
                (created(pod), annotation_time(sa, keys::CLIENT_ID_ANNOTATION)),
                (Some(c), Some(a)) if c < a
            );
            if have == want || !older {
                return None;
            }
        }
    }
    Some(format!(
        "the pod carries AZURE_CLIENT_ID='{have}' from when it was admitted; the service account now names '{want}'"
    ))
}

/// The audience the webhook projects the token for (its `--audience`, Entra's by default).
fn audience(f: &Facts) -> String {
    injection(f)
        .and_then(|i| i.volume)
        .and_then(|v| v.audience)
        .unwrap_or_else(|| keys::AUDIENCE.to_string())
}

fn gap_verdict(g: &Gap, what: &str) -> Verdict {
    match g {
        Gap::NotAsked { why } => Verdict::skip(why.clone()),
        Gap::Forbidden { verb, resource } => Verdict::warn(
            g.describe(what),
            format!("ask for '{verb}' on {resource} (kubectl auth can-i {verb} {resource})"),
        ),
        // Nothing can be checked against a cluster or service that does not answer.
        Gap::Unreachable { .. } => Verdict::fail(
            g.describe(what),
            "check the cluster answers (`kubectl cluster-info` with the same --context), then re-run; -v shows the failing call",
        ),
        _ => Verdict::warn(g.describe(what), "re-run with -v for the failing call"),
    }
}

fn no_pod(f: &Facts) -> Verdict {
    match &f.pod {
        Err(Gap::NotAsked { why }) => Verdict::skip(why.clone()),
        Err(Gap::NotFound) => Verdict::skip("no running pod to check"),
        Err(g) => gap_verdict(g, "the pod"),
        Ok(_) => Verdict::skip("no pod"),
    }
}

#[cfg(test)]
mod tests {
    use super::{testing::*, *};
    use crate::doctor::{Category, Status, run};

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut ids: Vec<_> = CHECKS.iter().map(|c| c.id).collect();
        assert!(
            ids.iter()
                .all(|i| i.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        );
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len());
    }

    #[test]
    fn a_bound_pod_passes_everything() {
        let f = bound();
        let r = run(&f, CHECKS, Default::default());
        let bad: Vec<_> = r.all().filter(|c| c.status != Status::Pass).collect();
        assert!(bad.is_empty(), "{bad:#?}");
        assert!(r.success);
    }

    #[test]
    fn no_target_runs_cluster_checks_only() {
        let mut f = bound();
        f.target = None;
        let r = run(&f, CHECKS, Default::default());
        assert!(r.categories.iter().all(|c| c.category == Category::Cluster));
        assert_eq!(r.all().count(), 3);
    }
}
