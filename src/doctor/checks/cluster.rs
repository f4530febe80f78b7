//! The cluster's part: the issuer Entra fetches, and the webhook that injects the identity.

use std::collections::BTreeMap;

use super::gap_verdict;
use crate::{
    doctor::model::{Facts, Gap, Verdict},
    wi::{
        issuer,
        webhook::{self, Flavour, Install, Refusal},
    },
};

pub fn issuer_discovery(f: &Facts) -> Verdict {
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

/// How to remove one install, in the words of how it was installed.
fn uninstall(i: &Install) -> String {
    match (i.flavour, &i.service_namespace) {
        (Flavour::AksAddOn, _) => {
            "the AKS add-on in kube-system (az aks update -g RG -n CLUSTER --disable-workload-identity)"
                .to_string()
        }
        (_, Some(ns)) => format!(
            "the Helm release in {ns} (helm uninstall workload-identity-webhook -n {ns})"
        ),
        (_, None) => format!(
            "MutatingWebhookConfiguration {} (reaching {})",
            i.configuration, i.endpoint
        ),
    }
}

pub fn webhook_installed(f: &Facts) -> Verdict {
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
            format!(
                "a double install mutates pods twice: keep one, remove {}",
                serving
                    .iter()
                    .map(|i| uninstall(i))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ),
    }
}

/// The installs that serve the namespace (all of them when none does), where a person
/// looks at them.
fn whereabouts(f: &Facts) -> String {
    let Ok(installs) = &f.webhooks else {
        return "the webhook's pods".into();
    };
    let labels = f.namespace_labels.clone().unwrap_or_default();
    let serving = webhook::serving(installs, &f.namespace, &labels);
    let shown: Vec<&Install> = if serving.is_empty() {
        installs.iter().collect()
    } else {
        serving
    };
    let mut places: Vec<String> = shown.iter().map(|i| i.whereabouts()).collect();
    places.dedup();
    places.join(", ")
}

/// Events about the workload-identity webhook only: its failed calls and its denials.
pub fn webhook_calls(f: &Facts) -> Verdict {
    let failures = match &f.create_failures {
        Err(g) => return gap_verdict(g, "events"),
        Ok(x) => x,
    };
    let about: Vec<_> = failures.iter().filter(|x| x.refusal.is_webhook()).collect();
    let ns = &f.namespace;
    let Some(latest) = about.first() else {
        return Verdict::pass(format!(
            "no pod creation in namespace {ns} refused by or failed at the webhook in the last hour"
        ));
    };
    let calls: Vec<_> = about
        .iter()
        .filter(|x| matches!(x.refusal, Refusal::CallFailed { .. }))
        .collect();
    let counted = format!(
        "{} event(s) about the webhook in the last hour: {} failed call(s), {} denial(s)",
        about.len(),
        calls.len(),
        about.len() - calls.len()
    );
    if let Some(c) = calls.first() {
        return Verdict::fail(
            format!(
                "{counted}; latest failed call ({} {}): {}",
                c.kind, c.name, c.message
            ),
            format!(
                "the API server cannot reach the webhook: check its pods and service ({}), network policies and the caBundle; pods are rejected (failurePolicy Fail) or admitted unmutated (Ignore)",
                whereabouts(f)
            ),
        );
    }
    // Denials: the webhook answers; it refused pods whose spec it cannot serve.
    let own = |kind: &str, name: &str| {
        f.workload_objects
            .iter()
            .any(|(k, n)| k == kind && n == name)
    };
    if about.iter().all(|x| own(&x.kind, &x.name)) {
        return Verdict::pass(format!("the webhook answers; {counted} (see pod-admitted)"));
    }
    let other = about
        .iter()
        .find(|x| !own(&x.kind, &x.name))
        .unwrap_or(latest);
    let short = match other.kind.as_str() {
        "ReplicaSet" => "rs",
        "StatefulSet" => "sts",
        "DaemonSet" => "ds",
        "Job" => "job",
        _ => "pod",
    };
    Verdict::warn(
        format!(
            "the webhook answers; {counted}; latest ({} {}): {}",
            other.kind, other.name, other.message
        ),
        format!(
            "the webhook refuses pods of {} {}: kubectl azwi doctor {short}/{} -n {ns}",
            other.kind, other.name, other.name
        ),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::doctor::{
        Status,
        checks::testing::*,
        model::{Facts, Gap},
    };
    use crate::wi::{keys, webhook::create_failures};

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
        f.webhooks = Err(Gap::Forbidden {
            verb: "list".into(),
            resource: "mutatingwebhookconfigurations".into(),
        });
        assert_eq!(verdict(&f, "webhook-installed").status, Status::Warn);
    }

    fn events(f: &mut Facts, list: &[(&str, &str)]) {
        let ev: Vec<_> = list
            .iter()
            .map(|(rs, msg)| {
                serde_json::from_value(json!({"metadata": {"name": rs}, "reason": "FailedCreate",
                    "involvedObject": {"kind": "ReplicaSet", "name": rs}, "message": msg,
                    "lastTimestamp": "2027-01-15T07:59:00Z"}))
                .unwrap()
            })
            .collect();
        f.create_failures = Ok(create_failures(&ev, NOW));
    }

    const CALL_FAILED: &str = "Error creating: Internal error occurred: failed calling webhook \"mutation.azure-workload-identity.io\": failed to call webhook: Post \"https://azure-wi-webhook-webhook-service.kube-system.svc:443/mutate-v1-pod?timeout=10s\": context deadline exceeded";
    const DENIED: &str = "Error creating: admission webhook \"mutation.azure-workload-identity.io\" denied the request: token expiration 600 not valid. Expected value to be between 3600 and 86400";

    /// Item 18: only the workload-identity webhook's events count, and the hint names the
    /// namespace its install really runs in (the AKS add-on's service is in kube-system).
    #[test]
    fn webhook_calls_count_only_the_webhook_and_name_where_it_runs() {
        let mut f = bound();
        events(
            &mut f,
            &[
                (
                    "web-1",
                    "Error creating: Internal error occurred: failed calling webhook \"sidecar-injector.istio.io\": connection refused",
                ),
                (
                    "web-2",
                    "Error creating: pods \"web-2-\" is forbidden: exceeded quota: compute",
                ),
            ],
        );
        let v = verdict(&f, "webhook-calls");
        assert_eq!(v.status, Status::Pass, "other webhooks are not ours: {v:?}");
        let mut f = bound();
        let mut aks = install();
        aks.service_namespace = Some("kube-system".into());
        aks.flavour = crate::wi::webhook::Flavour::AksAddOn;
        f.webhooks = Ok(vec![aks]);
        events(&mut f, &[("web-1", CALL_FAILED), ("web-2", DENIED)]);
        let v = verdict(&f, "webhook-calls");
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(v.detail.contains("1 failed call(s), 1 denial(s)"), "{v:?}");
        let hint = v.hint.unwrap();
        assert!(hint.contains("kubectl get pods -n kube-system"), "{hint}");
        assert!(!hint.contains("azure-workload-identity-system"), "{hint}");
        // Denials alone: the webhook answers; another workload's are named to doctor it.
        let mut f = bound();
        events(&mut f, &[("web-2", DENIED)]);
        let v = verdict(&f, "webhook-calls");
        assert_eq!(v.status, Status::Warn, "{v:?}");
        assert!(
            v.hint
                .unwrap()
                .contains("kubectl azwi doctor rs/web-2 -n ns")
        );
        f.workload_objects = vec![("ReplicaSet".into(), "web-2".into())];
        assert_eq!(verdict(&f, "webhook-calls").status, Status::Pass);
        let _ = keys::WEBHOOK_NAME;
    }

    #[test]
    fn double_install_names_both_places() {
        let mut f = bound();
        let mut aks = install();
        aks.service_namespace = Some("kube-system".into());
        aks.flavour = crate::wi::webhook::Flavour::AksAddOn;
        f.webhooks = Ok(vec![aks, install()]);
        let v = verdict(&f, "webhook-installed");
        let hint = v.hint.unwrap();
        assert!(hint.contains("--disable-workload-identity"), "{hint}");
        assert!(
            hint.contains(
                "helm uninstall workload-identity-webhook -n azure-workload-identity-system"
            ),
            "{hint}"
        );
    }
}
