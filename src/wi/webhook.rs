//! Which workload-identity webhook installs exist, and which of them would mutate a pod in a
//! given namespace: one is right, none means no injection, two means a double install. And
//! what the API server recorded when it could not create a controller's pods.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::{admissionregistration::v1::MutatingWebhookConfiguration, core::v1::Event},
    apimachinery::pkg::apis::meta::v1::LabelSelector,
};
use serde::Serialize;

use super::keys;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Install {
    pub configuration: String,
    /// Service namespace (in-cluster install) or URL (out of cluster).
    pub endpoint: String,
    /// Where the webhook's pods run: its service's namespace (`kube-system` for the AKS
    /// add-on); None for a webhook reached by URL.
    pub service_namespace: Option<String>,
    /// `kube-system` service: the AKS add-on; `azure-workload-identity-system`: Helm.
    pub flavour: Flavour,
    pub failure_policy: String,
    pub has_ca_bundle: bool,
    #[serde(skip)]
    pub namespace_selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Flavour {
    AksAddOn,
    Helm,
    Url,
    Other,
}

/// Name of the ConfigMap that gives the webhook its settings (`AZURE_TENANT_ID`, ...): the
/// Helm chart and the AKS add-on install it beside the webhook's Deployment.
pub const CONFIG_MAP: &str = "azure-wi-webhook-config";
/// Where the Helm chart installs the webhook.
pub const HELM_NAMESPACE: &str = "azure-workload-identity-system";

/// The namespaces to read the webhook's ConfigMap from, in order: each install's own (the
/// MutatingWebhookConfiguration's `clientConfig.service.namespace`); for an install reached by
/// URL (or when none could be listed), the two places the chart and the add-on use.
pub fn config_namespaces(installs: &[&Install]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |ns: &str| {
        if !out.iter().any(|o| o == ns) {
            out.push(ns.to_string());
        }
    };
    for i in installs {
        if let Some(ns) = i.service_namespace.as_deref() {
            add(ns);
        }
    }
    if installs.is_empty()
        || installs
            .iter()
            .any(|i| i.service_namespace.as_deref().is_none())
    {
        add(HELM_NAMESPACE);
        add("kube-system");
    }
    out
}

/// Every webhook entry that is the workload-identity one.
pub fn installs(configs: &[MutatingWebhookConfiguration]) -> Vec<Install> {
    let mut out = Vec::new();
    for c in configs {
        for w in c
            .webhooks
            .iter()
            .flatten()
            .filter(|w| w.name == keys::WEBHOOK_NAME)
        {
            let cc = &w.client_config;
            let (endpoint, flavour) = match (&cc.service, &cc.url) {
                (Some(s), _) => (
                    format!("service {}/{}", s.namespace, s.name),
                    match s.namespace.as_str() {
                        "kube-system" => Flavour::AksAddOn,
                        "azure-workload-identity-system" => Flavour::Helm,
                        _ => Flavour::Other,
                    },
                ),
                (None, Some(u)) => (u.clone(), Flavour::Url),
                (None, None) => (String::new(), Flavour::Other),
            };
            out.push(Install {
                configuration: c.metadata.name.clone().unwrap_or_default(),
                endpoint,
                service_namespace: cc.service.as_ref().map(|s| s.namespace.clone()),
                flavour,
                failure_policy: w.failure_policy.clone().unwrap_or_else(|| "Fail".into()),
                has_ca_bundle: cc.ca_bundle.as_ref().is_some_and(|b| !b.0.is_empty())
                    || cc.url.is_some() && cc.ca_bundle.is_some(),
                namespace_selector: w.namespace_selector.clone(),
            });
        }
    }
    out
}

impl Install {
    /// Where to look at the webhook itself, as a person would: its pods, or its URL.
    pub fn whereabouts(&self) -> String {
        match &self.service_namespace {
            Some(ns) => format!("kubectl get pods -n {ns}"),
            None => format!("the webhook at {}", self.endpoint),
        }
    }
}

/// Why the API server refused a pod a controller tried to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "cause")]
pub enum Refusal {
    /// The workload-identity webhook answered and denied the pod (its reason follows).
    Denied { reason: String },
    /// The API server could not call the workload-identity webhook (failurePolicy Fail).
    CallFailed { reason: String },
    /// The pod's service account does not exist (the API server's ServiceAccount admission).
    NoServiceAccount { name: String },
    /// Anything else (quota, another webhook, ...).
    Other,
}

impl Refusal {
    /// Whether the workload-identity webhook is the one that refused.
    pub fn is_webhook(&self) -> bool {
        matches!(self, Refusal::Denied { .. } | Refusal::CallFailed { .. })
    }
}

/// A `FailedCreate` event: a controller's pod the API server refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFailure {
    /// The object the event is about: `ReplicaSet`, `StatefulSet`, `DaemonSet`, `Job`.
    pub kind: String,
    pub name: String,
    pub message: String,
    pub refusal: Refusal,
    /// Unix seconds of the last occurrence, and how many there were.
    pub last: i64,
    pub count: i32,
}

/// Reads an event message the way the API server words it: `admission webhook "NAME" denied
/// the request: REASON` and `failed calling webhook "NAME": REASON` (k8s.io/apiserver
/// admission/plugin/webhook/errors), `error looking up service account NS/NAME` (the
/// ServiceAccount admission plugin).
pub fn refusal(message: &str) -> Refusal {
    let after = |marker: &str| {
        message.find(marker).map(|i| {
            message[i + marker.len()..]
                .trim_start_matches(':')
                .trim()
                .to_string()
        })
    };
    if let Some(reason) = after(&format!(
        "admission webhook \"{}\" denied the request",
        keys::WEBHOOK_NAME
    )) {
        return Refusal::Denied { reason };
    }
    if let Some(reason) = after(&format!(
        "failed calling webhook \"{}\"",
        keys::WEBHOOK_NAME
    )) {
        return Refusal::CallFailed { reason };
    }
    if let Some(rest) = after("error looking up service account ") {
        let name = rest
            .split([':', ' '])
            .next()
            .and_then(|nsname| nsname.split('/').nth(1))
            .unwrap_or_default()
            .to_string();
        return Refusal::NoServiceAccount { name };
    }
    Refusal::Other
}

/// The `FailedCreate` events of the last hour, newest first.
pub fn create_failures(events: &[Event], now: i64) -> Vec<CreateFailure> {
    let mut out: Vec<CreateFailure> = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("FailedCreate"))
        .filter_map(|e| {
            let last = e
                .last_timestamp
                .as_ref()
                .map(|t| t.0.as_second())
                .or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
                .or_else(|| e.first_timestamp.as_ref().map(|t| t.0.as_second()))?;
            let message = e.message.clone().unwrap_or_default();
            (now - last < 3600).then(|| CreateFailure {
                kind: e.involved_object.kind.clone().unwrap_or_default(),
                name: e.involved_object.name.clone().unwrap_or_default(),
                refusal: refusal(&message),
                message,
                last,
                count: e.count.unwrap_or(1),
            })
        })
        .collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.last));
    out
}

/// The installs whose namespaceSelector selects a namespace with these labels.
pub fn serving<'a>(
    installs: &'a [Install],
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Vec<&'a Install> {
    let mut labels = labels.clone();
    // The API server sets this label on every namespace; selectors may use it.
    labels
        .entry("kubernetes.io/metadata.name".into())
        .or_insert_with(|| namespace.into());
    installs
        .iter()
        .filter(|i| {
            i.namespace_selector
                .as_ref()
                .is_none_or(|s| selects(s, &labels))
        })
        .collect()
}

/// Kubernetes label-selector semantics: all matchLabels and all expressions must hold.
pub fn selects(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let exprs_ok = sel.match_expressions.iter().flatten().all(|e| {
        let have = labels.get(&e.key);
        let values = e.values.as_deref().unwrap_or_default();
        match e.operator.as_str() {
            "In" => have.is_some_and(|v| values.contains(v)),
            "NotIn" => have.is_none_or(|v| !values.contains(v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(
        name: &str,
        service_ns: Option<&str>,
        ns_selector: serde_json::Value,
    ) -> MutatingWebhookConfiguration {
        let client = match service_ns {
            Some(ns) => {
                json!({"service": {"namespace": ns, "name": "azure-wi-webhook-webhook-service", "path": "/mutate-v1-pod"}, "caBundle": "Zm9v"})
            }
            None => json!({"url": "https://127.0.0.1:9443/mutate-v1-pod", "caBundle": "Zm9v"}),
        };
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "webhooks": [{"name": keys::WEBHOOK_NAME, "clientConfig": client, "admissionReviewVersions": ["v1"], "sideEffects": "None", "namespaceSelector": ns_selector}]
        }))
        .unwrap()
    }

    #[test]
    fn flavours_and_double_installs() {
        let cfgs = [
            config("a", Some("kube-system"), json!({})),
            config("b", Some("azure-workload-identity-system"), json!({})),
        ];
        let all = installs(&cfgs);
        assert_eq!(
            all.iter().map(|i| i.flavour).collect::<Vec<_>>(),
            vec![Flavour::AksAddOn, Flavour::Helm]
        );
        assert_eq!(
            serving(&all, "default", &BTreeMap::new()).len(),
            2,
            "both would mutate: a double install"
        );
    }

    #[test]
    fn namespace_selectors_route() {
        let cfgs = [
            config(
                "new",
                None,
                json!({"matchExpressions": [{"key": "azwi.test/webhook", "operator": "NotIn", "values": ["v1.5.1", "none"]}]}),
            ),
            config(
                "old",
                None,
                json!({"matchLabels": {"azwi.test/webhook": "v1.5.1"}}),
            ),
            config(
                "aks",
                Some("kube-system"),
                json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}]}),
            ),
        ];
        let all = installs(&cfgs[..2]);
        let l = |v: &str| BTreeMap::from([("azwi.test/webhook".to_string(), v.to_string())]);
        assert_eq!(serving(&all, "x", &BTreeMap::new())[0].configuration, "new");
        assert_eq!(serving(&all, "x", &l("v1.5.1"))[0].configuration, "old");
        assert!(serving(&all, "x", &l("none")).is_empty());
        let aks = installs(&cfgs[2..]);
        assert!(
            serving(&aks, "kube-system", &BTreeMap::new()).is_empty(),
            "the add-on skips kube-system"
        );
        assert_eq!(serving(&aks, "default", &BTreeMap::new()).len(), 1);
    }

    #[test]
    fn the_config_map_is_read_where_the_install_lives() {
        let aks = installs(&[config("aks", Some("kube-system"), json!({}))]);
        assert_eq!(aks[0].service_namespace.as_deref(), Some("kube-system"));
        assert_eq!(config_namespaces(&[&aks[0]]), ["kube-system"]);
        let helm = installs(&[config("h", Some(HELM_NAMESPACE), json!({}))]);
        assert_eq!(config_namespaces(&[&helm[0]]), [HELM_NAMESPACE]);
        let url = installs(&[config("u", None, json!({}))]);
        assert_eq!(url[0].service_namespace, None);
        assert_eq!(
            config_namespaces(&[&url[0]]),
            [HELM_NAMESPACE, "kube-system"]
        );
        assert_eq!(config_namespaces(&[]), [HELM_NAMESPACE, "kube-system"]);
        assert_eq!(
            config_namespaces(&[&aks[0], &url[0]]),
            ["kube-system", HELM_NAMESPACE]
        );
    }

    #[test]
    fn unrelated_webhooks_are_ignored() {
        let mut c = config("x", None, json!({}));
        c.webhooks.as_mut().unwrap()[0].name = "other.example.com".into();
        assert!(installs(&[c]).is_empty());
    }

    #[test]
    fn installs_say_where_the_webhook_runs() {
        let aks = installs(&[config("a", Some("kube-system"), json!({}))]);
        assert_eq!(aks[0].service_namespace.as_deref(), Some("kube-system"));
        assert_eq!(aks[0].whereabouts(), "kubectl get pods -n kube-system");
        let url = installs(&[config("b", None, json!({}))]);
        assert_eq!(url[0].service_namespace, None);
        assert!(url[0].whereabouts().contains("https://127.0.0.1:9443"));
    }

    #[test]
    fn refusals_are_read_as_the_api_server_words_them() {
        // Denial text: v1.6.0 getServiceAccountTokenExpiration's error, wrapped by the API
        // server's "admission webhook %q denied the request" and the ReplicaSet controller's
        // "Error creating: ".
        let r = refusal(
            "Error creating: admission webhook \"mutation.azure-workload-identity.io\" denied the request: token expiration 600 not valid. Expected value to be between 3600 and 86400",
        );
        assert_eq!(
            r,
            Refusal::Denied {
                reason:
                    "token expiration 600 not valid. Expected value to be between 3600 and 86400"
                        .into()
            }
        );
        let r = refusal(
            "Error creating: Internal error occurred: failed calling webhook \"mutation.azure-workload-identity.io\": failed to call webhook: Post \"https://x:443/mutate-v1-pod?timeout=10s\": dial tcp: connect: connection refused",
        );
        assert!(
            matches!(r, Refusal::CallFailed { ref reason } if reason.starts_with("failed to call webhook")),
            "{r:?}"
        );
        assert!(r.is_webhook());
        let r = refusal(
            "Error creating: pods \"web-5d4f-\" is forbidden: error looking up service account ns/missing: serviceaccount \"missing\" not found",
        );
        assert_eq!(
            r,
            Refusal::NoServiceAccount {
                name: "missing".into()
            }
        );
        assert!(!r.is_webhook());
        let r = refusal(
            "Error creating: admission webhook \"other.example.com\" denied the request: no",
        );
        assert_eq!(r, Refusal::Other);
    }

    #[test]
    fn create_failures_are_recent_and_newest_first() {
        let ev = |name: &str, msg: &str, t: &str| -> Event {
            serde_json::from_value(json!({"metadata": {"name": name}, "reason": "FailedCreate",
                "involvedObject": {"kind": "ReplicaSet", "name": name}, "message": msg, "lastTimestamp": t, "count": 3}))
            .unwrap()
        };
        let now = 1_800_000_000; // 2027-01-15T08:00:00Z
        let events = [
            ev(
                "old",
                "failed calling webhook \"mutation.azure-workload-identity.io\": x",
                "2027-01-14T07:00:00Z",
            ),
            ev(
                "a",
                "admission webhook \"mutation.azure-workload-identity.io\" denied the request: y",
                "2027-01-15T07:50:00Z",
            ),
            ev(
                "b",
                "failed calling webhook \"mutation.azure-workload-identity.io\": z",
                "2027-01-15T07:59:00Z",
            ),
        ];
        let f = create_failures(&events, now);
        assert_eq!(
            f.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["b", "a"]
        );
        assert_eq!(f[0].count, 3);
        assert_eq!(f[0].kind, "ReplicaSet");
    }
}
