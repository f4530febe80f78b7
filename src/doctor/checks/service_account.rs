//! The service account's part: the annotations the webhook reads at admission.

use super::{annotations, gap_verdict, injection, recreate, spec_pod};
use crate::{
    doctor::model::{Facts, Gap, Verdict},
    wi::{keys, names},
};

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

pub fn sa_exists(f: &Facts) -> Verdict {
    let Some(name) = &f.sa_name else {
        return Verdict::skip("no service account to check for this target");
    };
    match &f.service_account {
        Ok(_) => Verdict::pass(format!("{}/{name}", f.namespace)),
        Err(Gap::NotFound) => {
            let elsewhere = bound_elsewhere(f);
            let fix = match elsewhere.first() {
                Some(bound) => format!("set serviceAccountName: {bound} (bound here)"),
                None => "fix serviceAccountName".to_string(),
            };
            Verdict::fail(
                format!("service account {}/{name} does not exist", f.namespace),
                format!(
                    "create and bind it: kubectl azwi bind {name} -n {} --identity IDENTITY -g RG (or {fix})",
                    f.namespace
                ),
            )
        }
        Err(g) => gap_verdict(g, "the service account"),
    }
}

/// Another SA in the namespace is bound while the pod's is not: the pod picked the wrong one.
pub fn bound_elsewhere(f: &Facts) -> Vec<String> {
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

pub fn sa_client_id(f: &Facts) -> Verdict {
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
    // The pod was already admitted without a client id: binding alone does not reach it.
    let then = match injection(f) {
        Some(i) if i.mutated() => format!("; then {}", recreate(f)),
        _ => String::new(),
    };
    if let Some((k, v)) = ann.iter().find(|(k, _)| misspelled_client_id(k)) {
        return Verdict::fail(
            format!(
                "annotation '{k}' is misspelled: the webhook reads '{}'",
                keys::CLIENT_ID_ANNOTATION
            ),
            format!(
                "{} && kubectl annotate sa {name} -n {} {k}-{then}",
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
                "{} && kubectl label sa {name} -n {} {}-{then}",
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
            "bind it: kubectl azwi bind {name} -n {} --identity IDENTITY -g RG{then}",
            f.namespace
        ),
    )
}

/// The tenant the identity lives in, when Azure was read.
fn identity_tenant(f: &Facts) -> Option<(&str, &str)> {
    let id = f.azure.as_ref().ok()?.identity.as_ref()?;
    Some((id.name.as_str(), id.tenant_id.as_str())).filter(|(_, t)| !t.is_empty())
}

/// The webhook injects the tenant-id annotation whenever the key exists (v1.6.0 getTenantID),
/// else its own tenant; Entra looks the client id up in that tenant only (AADSTS700016).
pub fn sa_tenant_id(f: &Facts) -> Verdict {
    let Ok(sa) = &f.service_account else {
        return Verdict::skip("no service account (see sa-exists)");
    };
    let sa_name = f.sa_name.as_deref().unwrap_or_default();
    let set = |tenant: &str| {
        format!(
            "kubectl annotate sa {sa_name} -n {} {}={tenant} --overwrite; then {}",
            f.namespace,
            keys::TENANT_ID_ANNOTATION,
            recreate(f)
        )
    };
    let identity = identity_tenant(f);
    match annotations(sa).get(keys::TENANT_ID_ANNOTATION) {
        None => {
            let pods_tenant = f
                .app
                .as_ref()
                .ok()
                .and_then(|a| a.env.get(keys::ENV_TENANT_ID));
            match (identity, pods_tenant) {
                (Some((name, want)), Some(have)) if !have.eq_ignore_ascii_case(want) => {
                    Verdict::fail(
                        format!(
                            "pods get the webhook's tenant {have}; identity {name} is in tenant {want}: Entra looks the client id up in {have} only (AADSTS700016)"
                        ),
                        set(want),
                    )
                }
                _ => Verdict::pass("not set: the webhook's tenant applies"),
            }
        }
        Some(v) if v.is_empty() => Verdict::fail(
            "the tenant-id annotation is empty: the webhook then injects no AZURE_TENANT_ID at all (the key wins over its own tenant, and an empty value is not injected)",
            format!(
                "remove it: kubectl annotate sa {sa_name} -n {} {}-; then {}",
                f.namespace,
                keys::TENANT_ID_ANNOTATION,
                recreate(f)
            ),
        ),
        Some(v) if !names::is_guid(v) => Verdict::fail(
            format!("tenant-id '{v}' is not a GUID"),
            match identity {
                Some((_, want)) => set(want),
                None => "use the tenant id of the identity (az identity show -n NAME -g RG --query tenantId -o tsv)".into(),
            },
        ),
        Some(v) => match identity {
            Some((name, want)) if !v.eq_ignore_ascii_case(want) => Verdict::fail(
                format!(
                    "the tenant-id annotation names {v}, but identity {name} is in tenant {want}: Entra answers AADSTS700016 (no such application in {v})"
                ),
                set(want),
            ),
            Some(_) => Verdict::pass(format!("{v}, the identity's tenant")),
            None => Verdict::pass(v.clone()),
        },
    }
}

fn expiration_problem(v: &str) -> Option<String> {
    match v.parse::<i64>() {
        Ok(s) if (keys::MIN_TOKEN_EXPIRATION..=keys::MAX_TOKEN_EXPIRATION).contains(&s) => None,
        Ok(s) => Some(format!("{s} is outside 3600..86400 seconds")),
        Err(_) => Some(format!("'{v}' is not a number of seconds")),
    }
}

/// The webhook's precedence (v1.6.0 getServiceAccountTokenExpiration): a non-empty pod
/// annotation wins; the service account's applies only when the pod has none; else 3600.
/// Only the value it uses can make it reject the pod.
pub fn sa_token_expiration(f: &Facts) -> Verdict {
    let Ok(sa) = &f.service_account else {
        return Verdict::skip("no service account (see sa-exists)");
    };
    let key = keys::TOKEN_EXPIRATION_ANNOTATION;
    let pod_value = spec_pod(f)
        .and_then(|p| p.metadata.annotations.as_ref()?.get(key).cloned())
        .filter(|v| !v.is_empty());
    let sa_value = annotations(sa).get(key).cloned().filter(|v| !v.is_empty());
    let sa_name = f.sa_name.as_deref().unwrap_or_default();
    let (whose, value, fix) = match (&pod_value, &sa_value) {
        (Some(v), _) => (
            "pod's",
            v,
            "set it to 3600..86400 in the pod template's annotations (or remove it there to use the service account's)".to_string(),
        ),
        (None, Some(v)) => (
            "service account's",
            v,
            format!(
                "kubectl annotate sa {sa_name} -n {} {key}=3600 --overwrite (any of 3600..86400)",
                f.namespace
            ),
        ),
        (None, None) => {
            return Verdict::pass(format!("default {}s", keys::DEFAULT_TOKEN_EXPIRATION));
        }
    };
    let ignored = match (&pod_value, &sa_value) {
        (Some(_), Some(s)) => format!(" (the service account's '{s}' is not used)"),
        _ => String::new(),
    };
    match expiration_problem(value) {
        Some(p) => Verdict::fail(
            format!("the {whose} {key} {p}{ignored}: the webhook rejects the pod"),
            fix,
        ),
        None => Verdict::pass(format!("{value}s from the {whose} annotation{ignored}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::{Status, checks::testing::*};

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

    /// Item 19: v1.6.0 getServiceAccountTokenExpiration reads the pod's annotation when it is
    /// non-empty and the service account's only otherwise.
    #[test]
    fn token_expiration_follows_the_webhooks_precedence() {
        let key = keys::TOKEN_EXPIRATION_ANNOTATION;
        let with = |pod: Option<&str>, sa_v: Option<&str>| {
            let mut f = bound();
            let mut ann = vec![(keys::CLIENT_ID_ANNOTATION, CID)];
            ann.extend(sa_v.map(|v| (key, v)));
            f.service_account = Ok(sa("wi", &ann));
            if let Some(v) = pod {
                pod_mut(&mut f).metadata.annotations =
                    Some([(key.to_string(), v.to_string())].into());
            }
            verdict(&f, "sa-token-expiration")
        };
        // A valid pod value wins over an invalid service account value.
        let v = with(Some("7200"), Some("600"));
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert!(v.detail.contains("7200s from the pod's"), "{v:?}");
        assert!(v.detail.contains("'600' is not used"), "{v:?}");
        // An empty pod annotation is no annotation: the service account's applies.
        let v = with(Some(""), Some("7200"));
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert!(v.detail.contains("service account's"), "{v:?}");
        let v = with(Some(""), Some("600"));
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(v.hint.unwrap().contains("kubectl annotate sa wi -n ns"));
        // An invalid pod value fails whatever the service account says.
        let v = with(Some("100000"), Some("7200"));
        assert_eq!(v.status, Status::Fail);
        assert!(v.detail.contains("pod's"), "{v:?}");
        assert_eq!(with(None, None).detail, "default 3600s");
    }

    /// Item 14: ARM says which tenant the identity is in; an annotation naming another one
    /// sends the exchange to the wrong tenant (AADSTS700016).
    #[test]
    fn tenant_annotation_must_be_the_identitys() {
        let other = "33333333-3333-4333-8333-333333333333";
        let mut f = bound();
        f.service_account = Ok(sa(
            "wi",
            &[
                (keys::CLIENT_ID_ANNOTATION, CID),
                (keys::TENANT_ID_ANNOTATION, other),
            ],
        ));
        let v = verdict(&f, "sa-tenant-id");
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(
            v.detail.contains(other) && v.detail.contains(TENANT),
            "{v:?}"
        );
        let hint = v.hint.unwrap();
        assert!(
            hint.starts_with(&format!(
                "kubectl annotate sa wi -n ns {}={TENANT} --overwrite; then kubectl delete pod app -n ns",
                keys::TENANT_ID_ANNOTATION
            )),
            "{hint}"
        );
        // No annotation, but the pods got the webhook's tenant, not the identity's.
        let mut f = bound();
        f.app
            .as_mut()
            .unwrap()
            .env
            .insert(keys::ENV_TENANT_ID.into(), other.into());
        let v = verdict(&f, "sa-tenant-id");
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(v.detail.contains("webhook's tenant"), "{v:?}");
        // The identity's tenant: fine.
        let mut f = bound();
        f.service_account = Ok(sa(
            "wi",
            &[
                (keys::CLIENT_ID_ANNOTATION, CID),
                (keys::TENANT_ID_ANNOTATION, TENANT),
            ],
        ));
        assert_eq!(verdict(&f, "sa-tenant-id").status, Status::Pass);
    }

    /// Item 22: a missing annotation is one failure; no other check says "recreate the pod".
    #[test]
    fn a_missing_annotation_is_one_failure() {
        let mut f = bound();
        f.service_account = Ok(sa("wi", &[]));
        f.service_accounts = Ok(vec![sa("wi", &[])]);
        // v1.6 injects no AZURE_CLIENT_ID when the annotation is missing (an empty value is
        // not injected: addEnvironmentVariables).
        for c in &mut pod_mut(&mut f).spec.as_mut().unwrap().containers {
            c.env
                .as_mut()
                .unwrap()
                .retain(|e| e.name != keys::ENV_CLIENT_ID);
        }
        f.azure.as_mut().unwrap().identity = None;
        assert_eq!(failing(&f), vec!["sa-client-id"]);
        let v = verdict(&f, "sa-client-id");
        assert!(
            v.hint
                .as_deref()
                .unwrap()
                .contains("kubectl azwi bind wi -n ns"),
            "{v:?}"
        );
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
