//! The check table. Each check is a pure function of `Facts`; the order here is the order
//! they print. Ids are stable: they are the JSON `id` and the README anchor.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};

use super::model::{Category, Check, Exchange, Facts, Gap, Verdict};
use crate::wi::{
    aadsts,
    credential::{self, Match, Wanted},
    issuer, keys,
    mutation::{self, Injection, Layout},
    names,
    target::Kind,
    webhook,
};

pub const CHECKS: &[Check] = &[
    Check {
        id: "issuer-discovery",
        category: Category::Cluster,
        title: "the OIDC issuer serves discovery and keys over https",
        run: issuer_discovery,
    },
    Check {
        id: "webhook-installed",
        category: Category::Cluster,
        title: "one workload-identity webhook serves the namespace",
        run: webhook_installed,
    },
    Check {
        id: "webhook-calls",
        category: Category::Cluster,
        title: "no recent 'failed calling webhook' events",
        run: webhook_calls,
    },
    Check {
        id: "sa-exists",
        category: Category::ServiceAccount,
        title: "the service account exists",
        run: sa_exists,
    },
    Check {
        id: "sa-client-id",
        category: Category::ServiceAccount,
        title: "client-id annotation names a client id",
        run: sa_client_id,
    },
    Check {
        id: "sa-tenant-id",
        category: Category::ServiceAccount,
        title: "tenant-id annotation is valid",
        run: sa_tenant_id,
    },
    Check {
        id: "sa-token-expiration",
        category: Category::ServiceAccount,
        title: "token expiration is within 1h..24h",
        run: sa_token_expiration,
    },
    Check {
        id: "pod-label",
        category: Category::Pod,
        title: "the pod template carries azure.workload.identity/use: \"true\"",
        run: pod_label,
    },
    Check {
        id: "pod-service-account",
        category: Category::Pod,
        title: "the pod runs as the bound service account",
        run: pod_service_account,
    },
    Check {
        id: "pod-mutated",
        category: Category::Pod,
        title: "the webhook mutated the pod",
        run: pod_mutated,
    },
    Check {
        id: "pod-current",
        category: Category::Pod,
        title: "the pod was created after the service account was bound",
        run: pod_current,
    },
    Check {
        id: "container-env",
        category: Category::Pod,
        title: "each container has the four AZURE_* variables",
        run: container_env,
    },
    Check {
        id: "container-client-id",
        category: Category::Pod,
        title: "AZURE_CLIENT_ID matches the service account",
        run: container_client_id,
    },
    Check {
        id: "token-volume",
        category: Category::Pod,
        title: "the projected token volume has Entra's audience and is mounted",
        run: token_volume,
    },
    Check {
        id: "token-file",
        category: Category::Token,
        title: "the token file is readable in the container",
        run: token_file,
    },
    Check {
        id: "token-claims",
        category: Category::Token,
        title: "the token's iss, sub, aud and lifetime are right",
        run: token_claims,
    },
    Check {
        id: "token-signature",
        category: Category::Token,
        title: "the token verifies against the issuer's JWKS",
        run: token_signature,
    },
    Check {
        id: "azure-identity",
        category: Category::Azure,
        title: "the client id is a user-assigned identity",
        run: azure_identity,
    },
    Check {
        id: "azure-credential",
        category: Category::Azure,
        title: "a federated credential matches the token exactly",
        run: azure_credential,
    },
    Check {
        id: "azure-credential-count",
        category: Category::Azure,
        title: "the identity has room for federated credentials",
        run: azure_credential_count,
    },
    // --can ACTION --scope SCOPE (src/doctor/can.rs).
    Check {
        id: "azure-can",
        category: Category::Access,
        title: "the identity may perform --can ACTION at --scope",
        run: super::can::check,
    },
    Check {
        id: "token-exchange",
        category: Category::Exchange,
        title: "Entra exchanges the pod's token",
        run: token_exchange,
    },
];

// ---------- helpers over Facts ----------

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

/// A key that was meant to be the client-id annotation: same words, other spelling.
pub fn misspelled_client_id(key: &str) -> bool {
    let norm: String = key
        .to_ascii_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    key != keys::CLIENT_ID_ANNOTATION
        && (norm == "azureworkloadidentityclientid"
            || norm == "azureworkloadidentityioclientid"
            || norm == "workloadidentityclientid"
            || norm == "azureworkloadidentityclientidannotation")
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

fn pod_sa(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.service_account_name.as_deref())
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
}

fn pod_name(f: &Facts) -> String {
    f.pod
        .as_ref()
        .ok()
        .and_then(|p| p.metadata.name.clone())
        .unwrap_or_default()
}

/// How to recreate what the target runs: a rollout for workloads, delete+apply for a bare pod.
fn recreate(f: &Facts) -> String {
    match &f.target {
        Some(t) if t.kind.has_pod_template() && t.kind != Kind::CronJob && t.kind != Kind::Job => {
            format!("kubectl rollout restart {t} -n {}", f.namespace)
        }
        _ => format!(
            "recreate the pod (kubectl get pod {0} -n {1} -o yaml > pod.yaml; kubectl delete pod {0} -n {1}; kubectl apply -f pod.yaml), or restart its owner (kubectl rollout restart deploy/NAME)",
            pod_name(f),
            f.namespace
        ),
    }
}

/// When the client-id annotation was last written, from the SA's managedFields.
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

/// Why the pod's AZURE_CLIENT_ID predates the annotation, if it does: the webhook copied an
/// older annotation (or none) at admission. Distinct from a value the user set in the spec.
fn stale(f: &Facts) -> Option<String> {
    let want = client_id(f)?;
    let pod = f.pod.as_ref().ok()?;
    let inj = mutation::observe(pod);
    if !inj.mutated() {
        return None;
    }
    let have = inj
        .containers
        .iter()
        .find(|c| !c.skipped)?
        .env_value(keys::ENV_CLIENT_ID)
        .unwrap_or_default()
        .to_string();
    if have == want {
        return None;
    }
    let sa = f.service_account.as_ref().ok()?;
    let older = match (
        created(pod),
        annotation_time(sa, keys::CLIENT_ID_ANNOTATION),
    ) {
        (Some(c), Some(a)) => c < a,
        _ => false,
    };
    // The webhook injects the annotation as it was; an empty value means there was none.
    (have.is_empty() || older).then(|| {
        format!(
            "the pod carries AZURE_CLIENT_ID='{have}' from when it was admitted; the service account now names '{want}'"
        )
    })
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

// ---------- cluster ----------

fn issuer_discovery(f: &Facts) -> Verdict {
    let iss = match &f.cluster_issuer {
        Ok(i) => i,
        Err(g) => return gap_verdict(g, "the API server's issuer"),
    };
    if !iss.starts_with("https://") {
        return Verdict::fail(
            format!("the service-account issuer '{iss}' is not an https URL"),
            "Entra fetches discovery over https only: set kube-apiserver --service-account-issuer to an https URL that serves it (AKS: az aks update --enable-oidc-issuer)",
        );
    }
    let d = match &f.discovery {
        Ok(d) => d,
        Err(g) => {
            return Verdict::fail(
                g.describe(&format!(
                    "{}/.well-known/openid-configuration",
                    iss.trim_end_matches('/')
                )),
                "Entra must fetch the discovery document and JWKS anonymously over https: publish them at the issuer URL (AKS: --enable-oidc-issuer; self-managed: serve the API server's /.well-known/openid-configuration and /openid/v1/jwks publicly)",
            );
        }
    };
    if let Some(diff) = issuer::difference(iss, &d.issuer) {
        return Verdict::fail(
            format!("discovery at {} declares issuer {diff}", d.url),
            "the discovery document's issuer must equal the tokens' iss exactly: fix --service-account-issuer or the published document",
        );
    }
    match &d.jwks {
        Ok(0) => Verdict::fail(
            format!("the JWKS at {} has no keys", d.jwks_uri),
            "publish the API server's service-account public keys at jwks_uri",
        ),
        Ok(n) => Verdict::pass(format!("{iss} serves discovery and a JWKS with {n} key(s)")),
        Err(why) => Verdict::fail(
            format!("cannot fetch the JWKS at {}: {why}", d.jwks_uri),
            "jwks_uri must be reachable anonymously over https",
        ),
    }
}

fn webhook_installed(f: &Facts) -> Verdict {
    let installs = match &f.webhooks {
        Ok(i) => i,
        Err(g) => return gap_verdict(g, "the webhook configurations"),
    };
    let labels = match &f.namespace_labels {
        Ok(l) => l.clone(),
        Err(Gap::NotFound) => {
            return Verdict::fail(
                format!("namespace {} does not exist", f.namespace),
                "check -n/--namespace",
            );
        }
        Err(_) => BTreeMap::new(),
    };
    let ns = &f.namespace;
    let serving = webhook::serving(installs, ns, &labels);
    match serving.len() {
        0 if installs.is_empty() => Verdict::fail(
            "no Azure Workload Identity webhook is installed",
            "install it: AKS `az aks update -n CLUSTER -g RG --enable-oidc-issuer --enable-workload-identity`; elsewhere the Helm chart azure-workload-identity/workload-identity-webhook",
        ),
        0 => Verdict::fail(
            format!(
                "{} webhook install(s) exist but none serves namespace {ns}: its labels are excluded by the namespaceSelector",
                installs.len()
            ),
            format!(
                "pods in {ns} are never mutated: run them in a namespace the webhook serves, or change the namespace labels (kubectl get ns {ns} --show-labels) / the webhook's namespaceSelector"
            ),
        ),
        1 => Verdict::pass(format!(
            "{} ({}) serves {ns}",
            serving[0].configuration, serving[0].endpoint
        )),
        n => Verdict::fail(
            format!(
                "{n} webhook installs serve {ns}: {}",
                serving
                    .iter()
                    .map(|i| format!("{} ({})", i.configuration, i.endpoint))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "a double install (AKS add-on and Helm?) mutates pods twice: uninstall one (helm uninstall workload-identity-webhook -n azure-workload-identity-system)",
        ),
    }
}

fn webhook_calls(f: &Facts) -> Verdict {
    match &f.webhook_failures {
        Err(g) => gap_verdict(g, "events"),
        Ok(msgs) if msgs.is_empty() => Verdict::pass(format!(
            "none in namespace {} in the last hour",
            f.namespace
        )),
        Ok(msgs) => Verdict::fail(
            format!("{} event(s), latest: {}", msgs.len(), msgs[0]),
            "the API server cannot reach the webhook: check its pods and service (kubectl get pods -n azure-workload-identity-system), network policies and the caBundle; pods are rejected (failurePolicy Fail) or admitted unmutated (Ignore)",
        ),
    }
}

// ---------- service account ----------

fn sa_exists(f: &Facts) -> Verdict {
    let Some(name) = &f.sa_name else {
        return Verdict::skip("no service account to check for this target");
    };
    match &f.service_account {
        Ok(_) => Verdict::pass(format!("{}/{name}", f.namespace)),
        Err(Gap::NotFound) => Verdict::fail(
            format!("service account {}/{name} does not exist", f.namespace),
            format!(
                "create and bind it: kubectl azwi bind {name} -n {} --identity IDENTITY -g RG (or fix serviceAccountName)",
                f.namespace
            ),
        ),
        Err(g) => gap_verdict(g, "the service account"),
    }
}

/// Another SA in the namespace is bound while the pod's is not: the pod picked the wrong one.
fn bound_elsewhere(f: &Facts) -> Vec<String> {
    let own = f.sa_name.as_deref().unwrap_or_default();
    f.service_accounts
        .as_ref()
        .map(|all| {
            all.iter()
                .filter(|sa| sa.metadata.name.as_deref() != Some(own))
                .filter(|sa| annotations(sa).contains_key(keys::CLIENT_ID_ANNOTATION))
                .filter_map(|sa| sa.metadata.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn sa_client_id(f: &Facts) -> Verdict {
    let sa = match &f.service_account {
        Ok(sa) => sa,
        Err(_) => return Verdict::skip("no service account (see sa-exists)"),
    };
    let name = f.sa_name.as_deref().unwrap_or_default();
    let ann = annotations(sa);
    let annotate = |v: &str| {
        format!(
            "kubectl annotate sa {name} -n {} {}={v} --overwrite",
            f.namespace,
            keys::CLIENT_ID_ANNOTATION
        )
    };
    if let Some(v) = ann.get(keys::CLIENT_ID_ANNOTATION) {
        if v.is_empty() {
            return Verdict::fail(
                "the client-id annotation is empty",
                annotate("<client id of the identity>"),
            );
        }
        if !names::is_guid(v) {
            return Verdict::fail(
                format!("client-id '{v}' is not a GUID"),
                format!(
                    "use the identity's client (application) id, not its name or resource id: az identity show -n NAME -g RG --query clientId -o tsv; then {}",
                    annotate("<that id>")
                ),
            );
        }
        return Verdict::pass(v.clone());
    }
    if let Some((k, v)) = ann.iter().find(|(k, _)| misspelled_client_id(k)) {
        return Verdict::fail(
            format!(
                "annotation '{k}' is misspelled: the webhook reads '{}'",
                keys::CLIENT_ID_ANNOTATION
            ),
            format!(
                "{} && kubectl annotate sa {name} -n {} {k}-",
                annotate(v),
                f.namespace
            ),
        );
    }
    let labels = sa.metadata.labels.clone().unwrap_or_default();
    if let Some(v) = labels.get(keys::CLIENT_ID_ANNOTATION) {
        return Verdict::fail(
            "the client id is set as a label, not an annotation",
            format!(
                "{} && kubectl label sa {name} -n {} {}-",
                annotate(v),
                f.namespace,
                keys::CLIENT_ID_ANNOTATION
            ),
        );
    }
    let elsewhere = bound_elsewhere(f);
    if !elsewhere.is_empty() {
        return Verdict::skip(format!(
            "not bound, but {} is: see pod-service-account",
            elsewhere.join(", ")
        ));
    }
    Verdict::fail(
        format!(
            "service account {name} has no {} annotation",
            keys::CLIENT_ID_ANNOTATION
        ),
        format!(
            "bind it: kubectl azwi bind {name} -n {} --identity IDENTITY -g RG",
            f.namespace
        ),
    )
}

fn sa_tenant_id(f: &Facts) -> Verdict {
    let Ok(sa) = &f.service_account else {
        return Verdict::skip("no service account (see sa-exists)");
    };
    match annotations(sa).get(keys::TENANT_ID_ANNOTATION) {
        None => Verdict::pass("not set: the webhook's tenant applies"),
        Some(v) if v.is_empty() => Verdict::fail(
            "the tenant-id annotation is empty: the webhook injects an empty AZURE_TENANT_ID",
            format!(
                "remove it: kubectl annotate sa {} -n {} {}-",
                f.sa_name.as_deref().unwrap_or_default(),
                f.namespace,
                keys::TENANT_ID_ANNOTATION
            ),
        ),
        Some(v) if !names::is_guid(v) => Verdict::fail(
            format!("tenant-id '{v}' is not a GUID"),
            "use the tenant id of the identity (az account show --query tenantId -o tsv)",
        ),
        Some(v) => Verdict::pass(v.clone()),
    }
}

fn expiration_problem(v: &str) -> Option<String> {
    match v.parse::<i64>() {
        Ok(s) if (keys::MIN_TOKEN_EXPIRATION..=keys::MAX_TOKEN_EXPIRATION).contains(&s) => None,
        Ok(s) => Some(format!("{s} is outside 3600..86400 seconds")),
        Err(_) => Some(format!("'{v}' is not a number of seconds")),
    }
}

fn sa_token_expiration(f: &Facts) -> Verdict {
    let Ok(sa) = &f.service_account else {
        return Verdict::skip("no service account (see sa-exists)");
    };
    let pod_value = spec_pod(f).and_then(|p| {
        p.metadata
            .annotations
            .as_ref()?
            .get(keys::TOKEN_EXPIRATION_ANNOTATION)
            .cloned()
    });
    let sa_value = annotations(sa)
        .get(keys::TOKEN_EXPIRATION_ANNOTATION)
        .cloned();
    for (whose, v) in [
        ("pod", pod_value.clone()),
        ("service account", sa_value.clone()),
    ] {
        if let Some(v) = v
            && let Some(p) = expiration_problem(&v)
        {
            return Verdict::fail(
                format!("the {whose}'s {} {p}", keys::TOKEN_EXPIRATION_ANNOTATION),
                "the webhook rejects pods outside 1h..24h: set 3600..86400 (e.g. kubectl azwi bind SA --token-expiration 1h)",
            );
        }
    }
    match pod_value.or(sa_value) {
        Some(v) => Verdict::pass(format!("{v}s")),
        None => Verdict::pass(format!("default {}s", keys::DEFAULT_TOKEN_EXPIRATION)),
    }
}

// ---------- pod ----------

fn no_pod(f: &Facts) -> Verdict {
    match &f.pod {
        Err(Gap::NotAsked { why }) => Verdict::skip(why.clone()),
        Err(Gap::NotFound) => Verdict::skip("no running pod to check"),
        Err(g) => gap_verdict(g, "the pod"),
        Ok(_) => Verdict::skip("no pod"),
    }
}

fn pod_label(f: &Facts) -> Verdict {
    let Some(pod) = spec_pod(f) else {
        return no_pod(f);
    };
    let whose = if f.workload.is_ok() {
        "the pod template"
    } else {
        "the pod"
    };
    let fix = match &f.target {
        Some(t) if t.kind.has_pod_template() => format!(
            "kubectl patch {t} -n {} --type merge -p '{{\"spec\":{{\"template\":{{\"metadata\":{{\"labels\":{{\"{}\":\"true\"}}}}}}}}}}' (or kubectl azwi bind SA --workload {t})",
            f.namespace,
            keys::USE_LABEL
        ),
        _ => format!(
            "add labels: {{{}: \"true\"}} to the pod's metadata (in its owner's template) and recreate it: a pod cannot gain injection after creation",
            keys::USE_LABEL
        ),
    };
    match label(pod) {
        Some("true") => Verdict::pass(format!("{whose} has {}=true", keys::USE_LABEL)),
        Some(v) => Verdict::fail(
            format!(
                "{whose} has {}='{v}': the webhook matches exactly 'true'",
                keys::USE_LABEL
            ),
            fix,
        ),
        None => match &f.workload {
            Ok(w) if w.labels.contains_key(keys::USE_LABEL) => Verdict::fail(
                format!(
                    "the label is on the {} object itself, not on its pod template: pods do not get it",
                    w.target.kind.short()
                ),
                fix,
            ),
            _ => Verdict::fail(format!("{whose} lacks the label {}", keys::USE_LABEL), fix),
        },
    }
}

fn pod_service_account(f: &Facts) -> Verdict {
    let Some(pod) = spec_pod(f) else {
        return no_pod(f);
    };
    let sa = pod_sa(pod);
    if client_id(f).is_some() {
        return Verdict::pass(format!("runs as {sa}, which is bound"));
    }
    let elsewhere = bound_elsewhere(f);
    if elsewhere.is_empty() {
        return Verdict::pass(format!("runs as {sa} (see sa-client-id)"));
    }
    Verdict::fail(
        format!(
            "runs as '{sa}', which is not bound; bound here: {}",
            elsewhere.join(", ")
        ),
        format!(
            "set spec.serviceAccountName: {} (in the pod template) and recreate the pod, or bind {sa}",
            elsewhere[0]
        ),
    )
}

fn pod_mutated(f: &Facts) -> Verdict {
    let Ok(pod) = &f.pod else {
        return no_pod(f);
    };
    let inj = mutation::observe(pod);
    if inj.mutated() {
        let v = inj.volume.as_ref().expect("mutated");
        return Verdict::pass(format!(
            "token volume {} ({})",
            v.name,
            layout_name(v.layout)
        ));
    }
    if label(pod) != Some("true") {
        return Verdict::skip("not labelled: see pod-label");
    }
    if let (Ok(installs), Ok(labels)) = (&f.webhooks, &f.namespace_labels)
        && webhook::serving(installs, &f.namespace, labels).is_empty()
    {
        return Verdict::skip("no webhook serves the namespace: see webhook-installed");
    }
    Verdict::fail(
        "the pod is labelled but was not mutated: it was admitted before the webhook served it (or while the webhook was unreachable with failurePolicy Ignore)",
        recreate(f),
    )
}

fn layout_name(l: Layout) -> &'static str {
    match l {
        Layout::Reserved => "webhook >= v1.6 layout, /var/run/secrets/azure/wi",
        Layout::Legacy => "webhook <= v1.5 layout, /var/run/secrets/azure/tokens",
    }
}

fn pod_current(f: &Facts) -> Verdict {
    if f.pod.is_err() {
        return no_pod(f);
    }
    if !injection(f).is_some_and(|i| i.mutated()) {
        return Verdict::skip("not mutated: see pod-mutated");
    }
    match stale(f) {
        Some(why) => Verdict::fail(
            format!("{why}: the pod was created before the service account was (re)bound"),
            recreate(f),
        ),
        None => Verdict::pass("AZURE_CLIENT_ID was injected from the current annotation"),
    }
}

fn container_env(f: &Facts) -> Verdict {
    let Some(inj) = injection(f) else {
        return no_pod(f);
    };
    if !inj.mutated() {
        return Verdict::skip("not mutated: see pod-mutated");
    }
    let skipped: Vec<_> = inj
        .containers
        .iter()
        .filter(|c| c.skipped)
        .map(|c| c.name.clone())
        .collect();
    // A pod admitted before the annotation lacks only AZURE_CLIENT_ID: pod-current says so.
    let stale = stale(f).is_some();
    let missing: Vec<String> = inj
        .containers
        .iter()
        .filter(|c| !c.skipped)
        .filter_map(|c| {
            let m: Vec<_> = c
                .missing_env()
                .into_iter()
                .filter(|k| !(stale && *k == keys::ENV_CLIENT_ID))
                .collect();
            (!m.is_empty()).then(|| format!("{} lacks {}", c.name, m.join(", ")))
        })
        .collect();
    if !missing.is_empty() {
        return Verdict::fail(
            missing.join("; "),
            "the webhook injects into every container not in skip-containers at admission: recreate the pod (containers added later by another webhook get nothing)",
        );
    }
    let n = inj.containers.len() - skipped.len();
    let mut detail = format!("{n} container(s) incl. init");
    if !skipped.is_empty() {
        detail.push_str(&format!("; skipped by annotation: {}", skipped.join(", ")));
    }
    if f.container.as_ref().is_some_and(|c| skipped.contains(c)) {
        return Verdict::fail(
            format!(
                "container {} is in {}",
                f.container.as_deref().unwrap_or_default(),
                keys::SKIP_CONTAINERS_ANNOTATION
            ),
            "remove it from the skip-containers annotation and recreate the pod",
        );
    }
    Verdict::pass(detail)
}

fn container_client_id(f: &Facts) -> Verdict {
    let Some(want) = client_id(f) else {
        return Verdict::skip("no client-id annotation (see sa-client-id)");
    };
    // A workload's template shows what the user wrote; the pod shows it after the webhook.
    let template_set: Vec<String> = f
        .workload
        .as_ref()
        .ok()
        .map(|w| mutation::observe(&w.template))
        .into_iter()
        .flat_map(|i| i.containers)
        .filter_map(|c| {
            let v = c.env_value(keys::ENV_CLIENT_ID)?.to_string();
            (v != want).then(|| format!("{} sets AZURE_CLIENT_ID='{v}'", c.name))
        })
        .collect();
    let from_pod: Vec<String> = if stale(f).is_some() {
        vec![]
    } else {
        injection(f)
            .filter(|i| i.mutated())
            .into_iter()
            .flat_map(|i| i.containers)
            .filter(|c| !c.skipped)
            .filter_map(|c| {
                let v = c.env_value(keys::ENV_CLIENT_ID)?.to_string();
                (v != want).then(|| format!("{} sets AZURE_CLIENT_ID='{v}'", c.name))
            })
            .collect()
    };
    let mut wrong = template_set;
    for w in from_pod {
        if !wrong.contains(&w) {
            wrong.push(w);
        }
    }
    if wrong.is_empty() {
        if f.pod.is_err() && f.workload.is_err() {
            return no_pod(f);
        }
        return Verdict::pass(format!("every container uses {want}"));
    }
    Verdict::fail(
        format!("{}; the service account names '{want}'", wrong.join("; ")),
        "the webhook keeps an AZURE_CLIENT_ID set in the container spec: remove it from the spec (or set it to the annotation's value) and recreate the pod",
    )
}

fn token_volume(f: &Facts) -> Verdict {
    let Some(inj) = injection(f) else {
        return no_pod(f);
    };
    let Some(v) = &inj.volume else {
        return Verdict::skip("not mutated: see pod-mutated");
    };
    if v.audience.as_deref() != Some(keys::AUDIENCE) {
        return Verdict::fail(
            format!(
                "volume {} has audience {:?}, Entra expects {}",
                v.name,
                v.audience,
                keys::AUDIENCE
            ),
            "do not hand-edit the webhook's volume: recreate the pod and let the webhook add it",
        );
    }
    let mut problems = Vec::new();
    for c in inj.containers.iter().filter(|c| !c.skipped) {
        let Some(mount) = &c.mount_path else {
            problems.push(format!("{} does not mount {}", c.name, v.name));
            continue;
        };
        let want = format!("{}/{}", mount.trim_end_matches('/'), v.path);
        if c.token_file() != Some(want.as_str()) {
            problems.push(format!(
                "{}: AZURE_FEDERATED_TOKEN_FILE={} but the token is at {want}",
                c.name,
                c.token_file().unwrap_or("<unset>")
            ));
        }
    }
    if !problems.is_empty() {
        return Verdict::fail(
            problems.join("; "),
            "recreate the pod so the webhook mounts the token where AZURE_FEDERATED_TOKEN_FILE points",
        );
    }
    Verdict::pass(format!(
        "{} at {} ({}, {}s)",
        v.name,
        mutation::expected_token_file(v.layout, &v.path),
        layout_name(v.layout),
        v.expiration_seconds
            .unwrap_or(keys::DEFAULT_TOKEN_EXPIRATION)
    ))
}

// ---------- token ----------

fn token_file(f: &Facts) -> Verdict {
    let t = match &f.token {
        Ok(t) => t,
        Err(g @ Gap::Forbidden { .. }) => {
            return Verdict::warn(
                g.describe("the token file"),
                format!(
                    "exec needs 'create' on pods/exec: kubectl auth can-i create pods/exec -n {}",
                    f.namespace
                ),
            );
        }
        Err(Gap::Unreachable { reason }) if reason.contains("not running") => {
            return Verdict::pending(reason.clone());
        }
        Err(Gap::Unreachable { reason }) => {
            return Verdict::fail(
                format!("exec into the container failed: {reason}"),
                "check the container is running and has a shell (sh, env, cat)",
            );
        }
        Err(g) => return gap_verdict(g, "the token file"),
    };
    let Some(file) = &t.file else {
        return Verdict::fail(
            format!(
                "container {} has no {} in its environment",
                t.container,
                keys::ENV_TOKEN_FILE
            ),
            "the pod was not mutated for this container: see pod-mutated and container-env",
        );
    };
    match &t.jwt {
        Ok(j) => Verdict::pass(format!(
            "{file} in {} holds a JWT (alg {}, kid {})",
            t.container,
            j.alg().unwrap_or("?"),
            j.kid().unwrap_or("-")
        )),
        Err(why) => Verdict::fail(
            format!("{file} in {}: {why}", t.container),
            "the kubelet writes the projected token there: check the volume mount (token-volume) and the pod's events",
        ),
    }
}

fn token_claims(f: &Facts) -> Verdict {
    let Ok(t) = &f.token else {
        return Verdict::skip("no token read (see token-file)");
    };
    let Ok(jwt) = &t.jwt else {
        return Verdict::skip("no token read (see token-file)");
    };
    let c = &jwt.claims;
    let mut problems = Vec::new();
    match (&c.iss, &f.cluster_issuer) {
        (None, _) => problems.push("no iss".to_string()),
        (Some(iss), Ok(cluster)) => {
            if let Some(d) = issuer::difference(cluster, iss) {
                problems.push(format!("iss {d}"));
            }
        }
        _ => {}
    }
    if let Some(sa) = &f.sa_name {
        let want = names::subject(&f.namespace, sa);
        if c.sub.as_deref() != Some(want.as_str()) {
            problems.push(format!("sub is {:?}, expected '{want}'", c.sub));
        }
    }
    if !c.aud.iter().any(|a| a == keys::AUDIENCE) {
        problems.push(format!(
            "aud is {:?}, Entra expects {}",
            c.aud,
            keys::AUDIENCE
        ));
    }
    let mut expired = false;
    match c.exp {
        Some(exp) if exp <= f.now => {
            expired = true;
            problems.push(format!("expired {}s ago", f.now - exp));
        }
        None => problems.push("no exp".into()),
        _ => {}
    }
    if let Some(nbf) = c.nbf
        && nbf > f.now + 300
    {
        problems.push(format!(
            "not valid for another {}s (nbf; clock skew?)",
            nbf - f.now
        ));
    }
    if problems.is_empty() {
        return Verdict::pass(format!(
            "iss {}, sub {}, expires in {}s",
            c.iss.as_deref().unwrap_or_default(),
            c.sub.as_deref().unwrap_or_default(),
            c.exp.unwrap_or_default() - f.now
        ));
    }
    let hint = if expired {
        "the kubelet refreshes the file at 80% of its lifetime: a stale file means the kubelet is not rotating it (node problem) or the app copied it; read AZURE_FEDERATED_TOKEN_FILE before each exchange"
    } else {
        "the federated credential must match the token's iss and sub exactly: recreate the pod with the webhook's volume, and bind the service account it runs as"
    };
    Verdict::fail(problems.join("; "), hint)
}

fn token_signature(f: &Facts) -> Verdict {
    let Ok(t) = &f.token else {
        return Verdict::skip("no token read (see token-file)");
    };
    match &t.signature {
        Ok(Ok(kid)) => Verdict::pass(format!("signed by key '{kid}' of the issuer's JWKS")),
        Ok(Err(why)) => Verdict::fail(
            why.clone(),
            "Entra checks the token against the keys at the issuer's jwks_uri: publish the API server's current service-account public key there (after a key rotation, keep the old key until its tokens expire)",
        ),
        Err(g) => gap_verdict(g, "the issuer's JWKS"),
    }
}

// ---------- azure ----------

fn azure_identity(f: &Facts) -> Verdict {
    let az = match &f.azure {
        Ok(a) => a,
        Err(g) => return gap_verdict(g, "Azure"),
    };
    let Some(cid) = client_id(f) else {
        return Verdict::skip("no client-id annotation (see sa-client-id)");
    };
    match &az.identity {
        Some(i) => Verdict::pass(format!("{} ({})", i.name, i.id)),
        None => match &az.principal_mixup {
            Some(name) => Verdict::fail(
                format!("{cid} is the principal (object) id of identity {name}, not its client id"),
                format!(
                    "annotate the service account with the client id: az identity show -n {name} -g RG --query clientId -o tsv"
                ),
            ),
            None => Verdict::fail(
                format!(
                    "no user-assigned identity with client id {cid} among {} in subscription {}",
                    az.identities_seen, az.subscription
                ),
                format!(
                    "check the annotation and --subscription: az identity list --query \"[?clientId=='{cid}']\" -o table"
                ),
            ),
        },
    }
}

/// What the token presents (or, without a token, what the cluster's tokens would).
fn wanted(f: &Facts) -> Option<Wanted> {
    let token_iss = f
        .token
        .as_ref()
        .ok()
        .and_then(|t| t.jwt.as_ref().ok())
        .and_then(|j| j.claims.iss.clone());
    let issuer = token_iss.or_else(|| f.cluster_issuer.as_ref().ok().cloned())?;
    Some(Wanted {
        issuer,
        subject: names::subject(&f.namespace, f.sa_name.as_deref()?),
        audience: keys::AUDIENCE.into(),
    })
}

fn azure_credential(f: &Facts) -> Verdict {
    let Ok(az) = &f.azure else {
        return Verdict::skip("Azure not checked (see azure-identity)");
    };
    let Some(id) = &az.identity else {
        return Verdict::skip("no identity (see azure-identity)");
    };
    let creds = match &id.credentials {
        Ok(c) => c,
        Err(g) => return gap_verdict(g, "the federated credentials"),
    };
    let Some(want) = wanted(f) else {
        return Verdict::skip("neither the token nor the cluster gave an issuer");
    };
    let rg = crate::wi::identity::ResourceId::parse(&id.id)
        .map(|r| r.resource_group)
        .unwrap_or_else(|| "RG".into());
    match credential::find(creds, &want) {
        Match::Exact { name } => {
            Verdict::pass(format!("{name}: {} / {}", want.issuer, want.subject))
        }
        Match::NearMiss { name, differences } => Verdict::fail(
            format!("nearest credential '{name}': {}", differences.join("; ")),
            format!(
                "az identity federated-credential update --name {name} --identity-name {} -g {rg} --issuer {} --subject {} --audiences {}",
                id.name, want.issuer, want.subject, want.audience
            ),
        ),
        Match::Missing => Verdict::fail(
            format!(
                "none of {} credential(s) has issuer {} and subject {}",
                creds.len(),
                want.issuer,
                want.subject
            ),
            format!(
                "kubectl azwi bind {} -n {} --identity {} (or az identity federated-credential create --identity-name {} -g {rg} --name NAME --issuer {} --subject {} --audiences {})",
                f.sa_name.as_deref().unwrap_or("SA"),
                f.namespace,
                id.client_id,
                id.name,
                want.issuer,
                want.subject,
                want.audience
            ),
        ),
    }
}

fn azure_credential_count(f: &Facts) -> Verdict {
    let Some(id) = f.azure.as_ref().ok().and_then(|a| a.identity.as_ref()) else {
        return Verdict::skip("no identity (see azure-identity)");
    };
    let Ok(creds) = &id.credentials else {
        return Verdict::skip("credentials not read");
    };
    let n = creds.len();
    let max = keys::MAX_FEDERATED_CREDENTIALS;
    let matched =
        wanted(f).is_some_and(|w| matches!(credential::find(creds, &w), Match::Exact { .. }));
    if n >= max && !matched {
        Verdict::fail(
            format!("{n} of {max} federated credentials: no room for this binding"),
            "delete unused credentials (az identity federated-credential list/delete), or use another identity",
        )
    } else if n + 2 >= max {
        Verdict::warn(
            format!("{n} of {max} federated credentials"),
            "near the limit of 20 per identity: plan another identity for new clusters or namespaces",
        )
    } else {
        Verdict::pass(format!("{n} of {max}"))
    }
}

fn token_exchange(f: &Facts) -> Verdict {
    match &f.exchange {
        Err(Gap::NotAsked { why }) => Verdict::skip(why.clone()),
        Err(g) => gap_verdict(g, "the token exchange"),
        Ok(Exchange::Ok { tenant, expires }) => Verdict::pass(format!(
            "Entra issued an access token in tenant {tenant}{}",
            expires
                .map(|e| format!(", valid for {}s", e - f.now))
                .unwrap_or_default()
        )),
        Ok(Exchange::Refused { code, description }) => {
            let (meaning, fix) = code.and_then(aadsts::explain).unwrap_or((
                "Entra refused the token",
                "see the AADSTS code at https://login.microsoftonline.com/error",
            ));
            Verdict::fail(format!("{description} ({meaning})"), fix)
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{EnvVar, PodSpec};
    use serde_json::json;

    use super::*;
    use crate::doctor::{
        Status,
        model::{AzureFacts, Discovery, IdentityFacts, TokenFacts, Workload},
        run,
    };
    use crate::wi::{
        claims::Jwt, credential::Credential, mutation::fixtures::mutated_pod, target::Target,
        webhook::Install,
    };

    const CID: &str = "11111111-1111-1111-1111-111111111111";
    const ISS: &str = "https://oidc.example/t/u/";
    const NOW: i64 = 1_800_000_000;

    fn sa(name: &str, ann: &[(&str, &str)]) -> ServiceAccount {
        serde_json::from_value(json!({"metadata": {"name": name, "annotations": ann.iter().cloned().collect::<BTreeMap<_, _>>()}})).unwrap()
    }

    fn jwt(iss: &str, sub: &str, exp: i64) -> Jwt {
        Jwt {
            header: serde_json::from_value(json!({"alg": "RS256", "kid": "k1"})).unwrap(),
            claims: serde_json::from_value(json!({"iss": iss, "sub": sub, "aud": [keys::AUDIENCE], "exp": exp, "nbf": NOW - 10, "iat": NOW - 10})).unwrap(),
        }
    }

    fn install() -> Install {
        Install {
            configuration: keys::WEBHOOK_CONFIGURATION.into(),
            endpoint: "service azure-workload-identity-system/x".into(),
            flavour: webhook::Flavour::Helm,
            failure_policy: "Fail".into(),
            has_ca_bundle: true,
            namespace_selector: None,
        }
    }

    fn cred(iss: &str, sub: &str) -> Credential {
        Credential {
            name: "fic".into(),
            issuer: iss.into(),
            subject: sub.into(),
            audiences: vec![keys::AUDIENCE.into()],
        }
    }

    /// A correctly bound pod: every check passes.
    fn good() -> Facts {
        let mut f = Facts::empty("ns", NOW);
        f.target = Some(Target::parse("pod/app").unwrap());
        f.cluster_issuer = Ok(ISS.into());
        f.discovery = Ok(Discovery {
            url: format!("{ISS}.well-known/openid-configuration"),
            issuer: ISS.into(),
            jwks_uri: format!("{ISS}openid/v1/jwks"),
            jwks: Ok(1),
        });
        f.webhooks = Ok(vec![install()]);
        f.namespace_labels = Ok(BTreeMap::new());
        f.webhook_failures = Ok(vec![]);
        let mut pod = mutated_pod(Layout::Reserved);
        pod.metadata.name = Some("app".into());
        pod.metadata.labels = Some([(keys::USE_LABEL.to_string(), "true".to_string())].into());
        pod.spec.as_mut().unwrap().service_account_name = Some("wi".into());
        f.pod = Ok(pod);
        f.sa_name = Some("wi".into());
        f.service_account = Ok(sa("wi", &[(keys::CLIENT_ID_ANNOTATION, CID)]));
        f.service_accounts = Ok(vec![
            sa("default", &[]),
            sa("wi", &[(keys::CLIENT_ID_ANNOTATION, CID)]),
        ]);
        f.container = Some("app".into());
        f.token = Ok(TokenFacts {
            container: "app".into(),
            file: Some("/var/run/secrets/azure/wi/token/azure-identity-token".into()),
            jwt: Ok(jwt(ISS, "system:serviceaccount:ns:wi", NOW + 3000)),
            signature: Ok(Ok("k1".into())),
        });
        f.azure = Ok(AzureFacts {
            subscription: "s".into(),
            identity: Some(IdentityFacts {
                name: "id".into(),
                id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id".into(),
                client_id: CID.into(),
                credentials: Ok(vec![cred(ISS, "system:serviceaccount:ns:wi")]),
            }),
            identities_seen: 1,
            principal_mixup: None,
        });
        f.exchange = Ok(Exchange::Ok {
            tenant: "t".into(),
            expires: Some(NOW + 3600),
        });
        f
    }

    fn verdict(f: &Facts, id: &str) -> Verdict {
        (CHECKS.iter().find(|c| c.id == id).unwrap().run)(f)
    }

    fn fails(f: &Facts, id: &str, hint_has: &str) {
        let v = verdict(f, id);
        assert_eq!(v.status, Status::Fail, "{id}: {v:?}");
        assert!(
            v.hint.as_deref().unwrap_or_default().contains(hint_has),
            "{id} hint: {:?}",
            v.hint
        );
        let report = run(f, CHECKS, Default::default());
        assert!(!report.success);
    }

    fn pod_mut(f: &mut Facts) -> &mut Pod {
        f.pod.as_mut().unwrap()
    }

    fn set_env(pod: &mut Pod, name: &str, value: &str) {
        for c in &mut pod.spec.as_mut().unwrap().containers {
            let env = c.env.get_or_insert_with(Vec::new);
            env.retain(|e| e.name != name);
            env.push(EnvVar {
                name: name.into(),
                value: Some(value.into()),
                ..Default::default()
            });
        }
    }

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
        let mut f = good();
        set_env(pod_mut(&mut f), keys::ENV_CLIENT_ID, CID);
        let r = run(&f, CHECKS, Default::default());
        let bad: Vec<_> = r.all().filter(|c| c.status != Status::Pass).collect();
        assert!(bad.is_empty(), "{bad:#?}");
        assert!(r.success);
    }

    fn bound() -> Facts {
        let mut f = good();
        set_env(pod_mut(&mut f), keys::ENV_CLIENT_ID, CID);
        f
    }

    #[test]
    fn no_target_runs_cluster_checks_only() {
        let mut f = bound();
        f.target = None;
        let r = run(&f, CHECKS, Default::default());
        assert!(r.categories.iter().all(|c| c.category == Category::Cluster));
        assert_eq!(r.all().count(), 3);
    }

    #[test]
    fn issuer_problems() {
        let mut f = bound();
        f.cluster_issuer = Ok("http://x/".into());
        fails(&f, "issuer-discovery", "https");
        let mut f = bound();
        f.discovery = Err(Gap::unreachable("404 Not Found"));
        fails(&f, "issuer-discovery", "anonymously over https");
        let mut f = bound();
        f.discovery.as_mut().unwrap().issuer = ISS.trim_end_matches('/').into();
        let v = verdict(&f, "issuer-discovery");
        assert!(v.detail.contains("trailing '/'"), "{v:?}");
        let mut f = bound();
        f.discovery.as_mut().unwrap().jwks = Err("502".into());
        fails(&f, "issuer-discovery", "jwks_uri");
    }

    #[test]
    fn webhook_problems() {
        let mut f = bound();
        f.webhooks = Ok(vec![]);
        fails(&f, "webhook-installed", "enable-workload-identity");
        let mut f = bound();
        f.webhooks = Ok(vec![install(), install()]);
        fails(&f, "webhook-installed", "double install");
        let mut f = bound();
        let mut i = install();
        i.namespace_selector =
            Some(serde_json::from_value(json!({"matchLabels": {"x": "y"}})).unwrap());
        f.webhooks = Ok(vec![i]);
        fails(&f, "webhook-installed", "namespaceSelector");
        // The pod then is not the culprit: pod-mutated defers to webhook-installed.
        let p = pod_mut(&mut f);
        p.spec.as_mut().unwrap().volumes = None;
        assert_eq!(verdict(&f, "pod-mutated").status, Status::Skip);
        let mut f = bound();
        f.webhook_failures = Ok(vec!["Internal error occurred: failed calling webhook \"mutation.azure-workload-identity.io\"".into()]);
        fails(&f, "webhook-calls", "caBundle");
        let mut f = bound();
        f.webhooks = Err(Gap::Forbidden {
            verb: "list".into(),
            resource: "mutatingwebhookconfigurations".into(),
        });
        assert_eq!(verdict(&f, "webhook-installed").status, Status::Warn);
    }

    #[test]
    fn service_account_problems() {
        let mut f = bound();
        f.service_account = Err(Gap::NotFound);
        fails(&f, "sa-exists", "kubectl azwi bind wi");
        for key in [
            "azure.workload.identity/client_id",
            "azure.workload.identity/clientId",
            "azure.workload.identity.io/client-id",
        ] {
            let mut f = bound();
            f.service_account = Ok(sa("wi", &[(key, CID)]));
            f.service_accounts = Ok(vec![]);
            let v = verdict(&f, "sa-client-id");
            assert_eq!(v.status, Status::Fail, "{key}");
            assert!(v.detail.contains("misspelled"), "{key}: {v:?}");
            assert!(v.hint.unwrap().contains(&format!("{key}-")));
        }
        let mut f = bound();
        f.service_account = Ok(sa("wi", &[(keys::CLIENT_ID_ANNOTATION, "my-identity")]));
        fails(&f, "sa-client-id", "clientId -o tsv");
        let mut f = bound();
        f.service_account = Ok(sa(
            "wi",
            &[
                (keys::CLIENT_ID_ANNOTATION, CID),
                (keys::TENANT_ID_ANNOTATION, ""),
            ],
        ));
        fails(&f, "sa-tenant-id", "remove it");
        for bad in ["600", "90000", "1h"] {
            let mut f = bound();
            f.service_account = Ok(sa(
                "wi",
                &[
                    (keys::CLIENT_ID_ANNOTATION, CID),
                    (keys::TOKEN_EXPIRATION_ANNOTATION, bad),
                ],
            ));
            fails(&f, "sa-token-expiration", "3600..86400");
        }
    }

    #[test]
    fn label_problems() {
        let mut f = bound();
        pod_mut(&mut f).metadata.labels = None;
        fails(&f, "pod-label", "recreate");
        let mut f = bound();
        pod_mut(&mut f).metadata.labels =
            Some([(keys::USE_LABEL.to_string(), "True".to_string())].into());
        let v = verdict(&f, "pod-label");
        assert!(v.detail.contains("'True'"), "{v:?}");
        // Label on the Deployment object, not its template.
        let mut f = bound();
        f.target = Some(Target::parse("deploy/web").unwrap());
        let mut template = f.pod.clone().unwrap();
        template.metadata.labels = Some([("app".to_string(), "web".to_string())].into());
        f.workload = Ok(Workload {
            target: Target::parse("deploy/web").unwrap(),
            labels: [(keys::USE_LABEL.to_string(), "true".to_string())].into(),
            template,
        });
        let v = verdict(&f, "pod-label");
        assert_eq!(v.status, Status::Fail);
        assert!(v.detail.contains("not on its pod template"), "{v:?}");
        assert!(v.hint.unwrap().contains("kubectl patch deploy/web"));
    }

    #[test]
    fn wrong_service_account() {
        let mut f = bound();
        pod_mut(&mut f).spec.as_mut().unwrap().service_account_name = Some("default".into());
        f.sa_name = Some("default".into());
        f.service_account = Ok(sa("default", &[]));
        fails(&f, "pod-service-account", "serviceAccountName: wi");
        assert_eq!(
            verdict(&f, "sa-client-id").status,
            Status::Skip,
            "one root cause, one failure"
        );
    }

    #[test]
    fn stale_pod_and_user_set_client_id() {
        // Admitted before the annotation: the webhook injected an empty client id.
        let mut f = bound();
        set_env(pod_mut(&mut f), keys::ENV_CLIENT_ID, "");
        fails(&f, "pod-current", "recreate the pod");
        // v1.6 injects no AZURE_CLIENT_ID at all without the annotation.
        let mut f = bound();
        for c in &mut pod_mut(&mut f).spec.as_mut().unwrap().containers {
            c.env
                .as_mut()
                .unwrap()
                .retain(|e| e.name != keys::ENV_CLIENT_ID);
        }
        fails(&f, "pod-current", "recreate the pod");
        assert_eq!(verdict(&f, "container-env").status, Status::Pass);
        assert_eq!(
            verdict(&f, "container-client-id").status,
            Status::Pass,
            "not blamed on the user"
        );
        // Admitted after: a differing value was set in the spec.
        let mut f = bound();
        set_env(
            pod_mut(&mut f),
            keys::ENV_CLIENT_ID,
            "22222222-2222-2222-2222-222222222222",
        );
        assert_eq!(verdict(&f, "pod-current").status, Status::Pass);
        fails(&f, "container-client-id", "remove it from the spec");
        // Older than the annotation's managedFields time: stale even with a non-empty id.
        let mut f = bound();
        set_env(
            pod_mut(&mut f),
            keys::ENV_CLIENT_ID,
            "22222222-2222-2222-2222-222222222222",
        );
        pod_mut(&mut f).metadata.creation_timestamp =
            Some(serde_json::from_value(json!("2026-01-01T00:00:00Z")).unwrap());
        let mut s = sa("wi", &[(keys::CLIENT_ID_ANNOTATION, CID)]);
        s.metadata.managed_fields = Some(vec![serde_json::from_value(json!({
            "manager": "kubectl-annotate", "operation": "Update", "time": "2026-01-02T00:00:00Z", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:annotations": {"f:azure.workload.identity/client-id": {}}}}
        })).unwrap()]);
        f.service_account = Ok(s);
        fails(&f, "pod-current", "recreate");
    }

    #[test]
    fn unmutated_and_env_problems() {
        let mut f = bound();
        pod_mut(&mut f).spec.as_mut().unwrap().volumes = None;
        fails(&f, "pod-mutated", "recreate the pod");
        let mut f = bound();
        let c = &mut pod_mut(&mut f).spec.as_mut().unwrap().containers[0];
        c.env
            .as_mut()
            .unwrap()
            .retain(|e| e.name != keys::ENV_AUTHORITY_HOST);
        fails(&f, "container-env", "skip-containers");
        let mut f = bound();
        pod_mut(&mut f).metadata.annotations = Some(
            [(
                keys::SKIP_CONTAINERS_ANNOTATION.to_string(),
                "app".to_string(),
            )]
            .into(),
        );
        fails(&f, "container-env", "skip-containers annotation");
        let mut f = bound();
        let spec = pod_mut(&mut f).spec.as_mut().unwrap();
        spec.volumes.as_mut().unwrap()[0]
            .projected
            .as_mut()
            .unwrap()
            .sources
            .as_mut()
            .unwrap()[0]
            .service_account_token
            .as_mut()
            .unwrap()
            .audience = Some("api://other".into());
        fails(&f, "token-volume", "recreate");
        // Legacy layout passes and is named.
        let mut f = bound();
        let mut p = mutated_pod(Layout::Legacy);
        p.metadata = f.pod.as_ref().unwrap().metadata.clone();
        p.spec.as_mut().unwrap().service_account_name = Some("wi".into());
        set_env(&mut p, keys::ENV_CLIENT_ID, CID);
        f.pod = Ok(p);
        let v = verdict(&f, "token-volume");
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert!(v.detail.contains("<= v1.5"));
        let _ = PodSpec::default();
    }

    #[test]
    fn token_problems() {
        let mut f = bound();
        f.token.as_mut().unwrap().jwt = Ok(jwt(ISS, "system:serviceaccount:ns:wi", NOW - 60));
        let v = verdict(&f, "token-claims");
        assert_eq!(v.status, Status::Fail);
        assert!(v.detail.contains("expired 60s ago"), "{v:?}");
        assert!(v.hint.unwrap().contains("80%"));
        let mut f = bound();
        f.token.as_mut().unwrap().jwt = Ok(jwt(ISS, "system:serviceaccount:ns:other", NOW + 60));
        assert!(verdict(&f, "token-claims").detail.contains("sub is"));
        let mut f = bound();
        f.token.as_mut().unwrap().signature = Ok(Err(
            "the signature does not verify against the issuer's key 'k1'".into(),
        ));
        fails(&f, "token-signature", "jwks_uri");
        let mut f = bound();
        f.token = Err(Gap::Forbidden {
            verb: "create".into(),
            resource: "pods/exec".into(),
        });
        let v = verdict(&f, "token-file");
        assert_eq!(v.status, Status::Warn);
        assert!(v.hint.unwrap().contains("pods/exec"));
        let mut f = bound();
        f.token = Err(Gap::unreachable("pod app is not running (Pending)"));
        assert_eq!(verdict(&f, "token-file").status, Status::Pending);
        let mut f = bound();
        f.token.as_mut().unwrap().jwt = Err("cat: can't open: Permission denied".into());
        fails(&f, "token-file", "volume mount");
    }

    #[test]
    fn azure_problems() {
        let mut f = bound();
        f.azure = Err(Gap::not_asked(
            "not logged in to Azure: Azure checks skipped",
        ));
        let v = verdict(&f, "azure-identity");
        assert_eq!(v.status, Status::Skip);
        assert!(v.detail.contains("not logged in"));
        let mut f = bound();
        f.azure.as_mut().unwrap().identity = None;
        fails(&f, "azure-identity", "az identity list");
        let mut f = bound();
        let set = |f: &mut Facts, c: Vec<Credential>| {
            f.azure
                .as_mut()
                .unwrap()
                .identity
                .as_mut()
                .unwrap()
                .credentials = Ok(c)
        };
        set(
            &mut f,
            vec![cred(
                ISS.trim_end_matches('/'),
                "system:serviceaccount:ns:wi",
            )],
        );
        let v = verdict(&f, "azure-credential");
        assert_eq!(v.status, Status::Fail);
        assert!(v.detail.contains("trailing '/'"), "{v:?}");
        assert!(v.hint.unwrap().contains(&format!("--issuer {ISS}")));
        set(&mut f, vec![cred(ISS, "system:serviceaccount:ns:other")]);
        assert!(
            verdict(&f, "azure-credential")
                .detail
                .contains("subject is")
        );
        set(&mut f, vec![]);
        fails(&f, "azure-credential", "kubectl azwi bind wi");
        set(
            &mut f,
            (0..20)
                .map(|i| cred(ISS, &format!("system:serviceaccount:ns:s{i}")))
                .collect(),
        );
        fails(&f, "azure-credential-count", "delete unused");
    }

    #[test]
    fn exchange_codes_are_explained() {
        let mut f = bound();
        f.exchange = Ok(Exchange::Refused {
            code: Some(700213),
            description: "AADSTS700213: No matching federated identity record".into(),
        });
        fails(&f, "token-exchange", "serviceAccountName");
        let mut f = bound();
        f.exchange = Err(Gap::not_asked("pass --exchange"));
        assert_eq!(verdict(&f, "token-exchange").status, Status::Skip);
    }

    #[test]
    fn misspellings() {
        for k in [
            "azure.workload.identity/client_id",
            "azure.workload.identity/clientId",
            "Azure.Workload.Identity/Client-ID",
        ] {
            assert!(misspelled_client_id(k), "{k}");
        }
        assert!(!misspelled_client_id(keys::CLIENT_ID_ANNOTATION));
        assert!(!misspelled_client_id("azure.workload.identity/tenant-id"));
    }
}
