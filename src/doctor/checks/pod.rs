//! The pod's part: admitted, labelled, running as the bound account, mutated, and each served
//! container holding the variables the SDK reads, with the values it will really use.

use super::{
    app_container, client_id, created, gap_verdict, injection, label, no_pod, recreate,
    service_account::{bound_elsewhere, sa_exists, sa_token_expiration},
    spec_pod, stale,
};
use crate::{
    doctor::model::{Facts, Gap, Status, Verdict},
    wi::{
        keys,
        mutation::{self, ContainerInjection, Layout, Origin},
        target::{Kind, Owner},
        webhook::{self, Refusal},
    },
};

/// Whether the API server refuses the workload's pods, from its controllers' events.
pub fn pod_admitted(f: &Facts) -> Verdict {
    let Ok(w) = &f.workload else {
        return match &f.pod {
            Ok(_) => Verdict::pass("the pod exists: it was admitted"),
            Err(_) => no_pod(f),
        };
    };
    let failures = match &f.create_failures {
        Ok(x) => x,
        Err(g) => return gap_verdict(g, "the workload's events"),
    };
    let newest_pod = f.pod.as_ref().ok().and_then(created);
    let Some(latest) = failures.iter().find(|x| {
        f.workload_objects
            .iter()
            .any(|(k, n)| *k == x.kind && *n == x.name)
    }) else {
        return Verdict::pass(match &f.pod {
            Ok(_) => "its pods are created".to_string(),
            Err(_) => format!("no refused pod of {} in the last hour", w.target),
        });
    };
    // A pod created after the last refusal: whatever it was has been fixed.
    if newest_pod.is_some_and(|c| c >= latest.last) {
        return Verdict::pass("its newest pod was created after the last refusal");
    }
    let refused = format!(
        "{} {} cannot create pods ({}x in the last hour): {}",
        latest.kind, latest.name, latest.count, latest.message
    );
    let t = &w.target;
    match &latest.refusal {
        Refusal::Denied { reason } if reason.starts_with("token expiration") => {
            if sa_token_expiration(f).status == Status::Fail {
                Verdict::skip(format!("{refused} (see sa-token-expiration)"))
            } else {
                Verdict::fail(
                    refused,
                    "set azure.workload.identity/service-account-token-expiration to 3600..86400 where the webhook reads it (the pod template's annotation, else the service account's)",
                )
            }
        }
        Refusal::Denied { reason } if reason.contains("hostNetwork") => Verdict::fail(
            refused,
            format!(
                "the proxy sidecar cannot run in the host's network: remove the {} annotation from the pod template (kubectl patch {t} -n {} --type json -p '[{{\"op\":\"remove\",\"path\":\"{}\"}}]'), or hostNetwork",
                keys::INJECT_PROXY_ANNOTATION,
                f.namespace,
                template_annotation_path(t.kind, keys::INJECT_PROXY_ANNOTATION)
            ),
        ),
        Refusal::Denied { .. } => Verdict::fail(
            refused,
            "fix the pod template so the webhook accepts its pods; the controller retries on its own",
        ),
        Refusal::CallFailed { .. } => Verdict::skip(format!("{refused} (see webhook-calls)")),
        Refusal::NoServiceAccount { .. } if sa_exists(f).status == Status::Fail => {
            Verdict::skip(format!("{refused} (see sa-exists)"))
        }
        Refusal::NoServiceAccount { name } => Verdict::fail(
            refused,
            format!(
                "create service account {name} in {}, or fix serviceAccountName",
                f.namespace
            ),
        ),
        Refusal::Other => Verdict::warn(
            refused,
            format!(
                "not the workload-identity webhook: kubectl describe {} {} -n {}",
                latest.kind.to_ascii_lowercase(),
                latest.name,
                f.namespace
            ),
        ),
    }
}

/// The JSON pointer to a pod-template annotation (`/` in the key escaped as `~1`).
fn template_annotation_path(kind: Kind, key: &str) -> String {
    let base = if kind == Kind::CronJob {
        "/spec/jobTemplate/spec/template"
    } else {
        "/spec/template"
    };
    format!(
        "{base}/metadata/annotations/{}",
        key.replace('~', "~0").replace('/', "~1")
    )
}

/// A merge patch of the owner's pod template, when it has one that can change.
fn patch_template(f: &Facts, template: &str) -> Option<String> {
    let target = match (&f.workload, &f.owner) {
        (Ok(w), _) => w.target.clone(),
        (_, Some(Owner::Rollout { target })) => target.clone(),
        _ => return None,
    };
    let body = if target.kind == Kind::CronJob {
        format!("{{\"spec\":{{\"jobTemplate\":{{\"spec\":{{\"template\":{template}}}}}}}}}")
    } else {
        format!("{{\"spec\":{{\"template\":{template}}}}}")
    };
    Some(format!(
        "kubectl patch {target} -n {} --type merge -p '{body}'",
        f.namespace
    ))
}

pub fn pod_label(f: &Facts) -> Verdict {
    let Some(pod) = spec_pod(f) else {
        return no_pod(f);
    };
    let whose = if f.workload.is_ok() {
        "the pod template"
    } else {
        "the pod"
    };
    let patch = format!(
        "{{\"metadata\":{{\"labels\":{{\"{}\":\"true\"}}}}}}",
        keys::USE_LABEL
    );
    let fix = match patch_template(f, &patch) {
        Some(p) => format!("{p} (or kubectl azwi bind SA --workload ...)"),
        None => format!(
            "add labels: {{{}: \"true\"}} to the pod's manifest: a pod cannot gain injection after creation; then {}",
            keys::USE_LABEL,
            recreate(f)
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

fn pod_sa(pod: &k8s_openapi::api::core::v1::Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.service_account_name.as_deref())
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
}

pub fn pod_service_account(f: &Facts) -> Verdict {
    let Some(pod) = spec_pod(f) else {
        return no_pod(f);
    };
    let sa = pod_sa(pod);
    if f.service_account == Err(Gap::NotFound) {
        return Verdict::skip(format!(
            "runs as {sa}, which does not exist (see sa-exists)"
        ));
    }
    if client_id(f).is_some() {
        return Verdict::pass(format!("runs as {sa}, which is bound"));
    }
    let elsewhere = bound_elsewhere(f);
    if elsewhere.is_empty() {
        return Verdict::pass(format!("runs as {sa} (see sa-client-id)"));
    }
    let patch = format!(
        "{{\"spec\":{{\"serviceAccountName\":\"{}\"}}}}",
        elsewhere[0]
    );
    let fix = patch_template(f, &patch).unwrap_or_else(|| {
        format!(
            "set spec.serviceAccountName: {} in the pod's manifest; then {}",
            elsewhere[0],
            recreate(f)
        )
    });
    Verdict::fail(
        format!(
            "runs as '{sa}', which is not bound; bound here: {}",
            elsewhere.join(", ")
        ),
        format!("{fix} (or bind {sa})"),
    )
}

pub fn pod_mutated(f: &Facts) -> Verdict {
    let Ok(pod) = &f.pod else {
        return no_pod(f);
    };
    let inj = mutation::observe(pod);
    if let Some(v) = &inj.volume {
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

pub fn pod_current(f: &Facts) -> Verdict {
    if f.pod.is_err() {
        return no_pod(f);
    }
    if !injection(f).is_some_and(|i| i.mutated()) {
        return Verdict::skip("not mutated: see pod-mutated");
    }
    if client_id(f).is_none() {
        return Verdict::skip("no client-id annotation (see sa-client-id)");
    }
    match stale(f) {
        Some(why) => Verdict::fail(
            format!("{why}: the pod was created before the service account was (re)bound"),
            recreate(f),
        ),
        None => Verdict::pass("AZURE_CLIENT_ID was injected from the current annotation"),
    }
}

/// The served containers that mount the token volume (the webhook's work reached them).
fn with_identity(inj: &mutation::Injection) -> Vec<&ContainerInjection> {
    inj.served().filter(|c| c.mount_path.is_some()).collect()
}

pub fn container_env(f: &Facts) -> Verdict {
    let Some(inj) = injection(f) else {
        return no_pod(f);
    };
    if !inj.mutated() {
        return Verdict::skip("not mutated: see pod-mutated");
    }
    let app = app_container(f).unwrap_or_default();
    let skipped: Vec<_> = inj
        .containers
        .iter()
        .filter(|c| c.skipped)
        .map(|c| c.name.as_str())
        .collect();
    if skipped.contains(&app.as_str()) {
        let others: Vec<_> = with_identity(&inj)
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        if !others.is_empty() {
            return Verdict::fail(
                format!(
                    "the app container {app} is in {} and gets no identity, while {} get(s) it",
                    keys::SKIP_CONTAINERS_ANNOTATION,
                    others.join(", ")
                ),
                format!(
                    "remove {app} from the {} annotation in the pod's manifest or template; then {} (if your code runs elsewhere, name that container with -c or the {} annotation)",
                    keys::SKIP_CONTAINERS_ANNOTATION,
                    recreate(f),
                    mutation::DEFAULT_CONTAINER_ANNOTATION
                ),
            );
        }
    }
    // What another check names is not counted again here: a client id the pod predates
    // (pod-current), none to inject (sa-client-id), an empty tenant-id annotation (sa-tenant-id).
    let no_client_id = client_id(f).is_none_or(|c| c.is_empty()) || stale(f).is_some();
    let no_tenant = f.service_account.as_ref().is_ok_and(|sa| {
        sa.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(keys::TENANT_ID_ANNOTATION))
            .is_some_and(String::is_empty)
    });
    let missing: Vec<String> = inj
        .served()
        .filter_map(|c| {
            let m: Vec<_> = c
                .missing_env()
                .into_iter()
                .filter(|k| !(no_client_id && *k == keys::ENV_CLIENT_ID))
                .filter(|k| !(no_tenant && *k == keys::ENV_TENANT_ID))
                .collect();
            (!m.is_empty()).then(|| format!("{} lacks {}", c.name, m.join(", ")))
        })
        .collect();
    if !missing.is_empty() {
        return Verdict::fail(
            missing.join("; "),
            format!(
                "the webhook injects into every container not in skip-containers when the pod is created (containers another webhook adds later get nothing): {}",
                recreate(f)
            ),
        );
    }
    let served: Vec<_> = inj.served().map(|c| c.name.as_str()).collect();
    let mut detail = format!(
        "{} container(s) served ({}); your code runs in {app}",
        served.len(),
        served.join(", ")
    );
    if !skipped.is_empty() {
        detail.push_str(&format!("; skipped by annotation: {}", skipped.join(", ")));
    }
    Verdict::pass(detail)
}

/// One container's AZURE_CLIENT_ID as its processes get it, and how it was learnt.
struct Seen {
    container: String,
    value: Result<String, String>,
    how: String,
}

/// The client id each served container really uses: read in the app container, else its
/// spec with `valueFrom` resolved. Only values the user wrote are compared here (the webhook
/// keeps them); an injected one that differs is pod-current's.
fn user_client_ids(f: &Facts) -> Vec<Seen> {
    let Some(inj) = injection(f) else {
        return vec![];
    };
    let app = f.app.as_ref().ok();
    inj.served()
        .filter(|c| c.origin(keys::ENV_CLIENT_ID, inj.tracked) == Some(Origin::User))
        .map(|c| {
            let in_pod = app.filter(|a| a.container == c.name && a.no_shell.is_none());
            let (value, how) = match (in_pod, c.value_ref(keys::ENV_CLIENT_ID)) {
                (Some(a), r) => (
                    Ok(a.env.get(keys::ENV_CLIENT_ID).cloned().unwrap_or_default()),
                    match r {
                        Some(r) => format!("from {r}, read in the container"),
                        None => "set in its spec, read in the container".into(),
                    },
                ),
                (None, Some(r)) => (
                    match f.refs.get(r) {
                        Some(Ok(v)) => Ok(v.clone()),
                        Some(Err(g)) => Err(g.describe(&r.to_string())),
                        None => Err(format!("{r} was not read")),
                    },
                    format!("from {r}"),
                ),
                (None, None) => (
                    Ok(c.env_value(keys::ENV_CLIENT_ID)
                        .unwrap_or_default()
                        .to_string()),
                    "set in its spec".into(),
                ),
            };
            Seen {
                container: c.name.clone(),
                value,
                how,
            }
        })
        .collect()
}

pub fn container_client_id(f: &Facts) -> Verdict {
    let Some(want) = client_id(f) else {
        return Verdict::skip("no client-id annotation (see sa-client-id)");
    };
    // A workload's template shows what the user wrote before any pod exists.
    let template_set: Vec<String> = match (&f.workload, &f.pod) {
        (Ok(w), Err(_)) => mutation::observe(&w.template)
            .containers
            .into_iter()
            .filter_map(|c| {
                let v = c.env_value(keys::ENV_CLIENT_ID)?.to_string();
                (v != want).then(|| format!("{} sets AZURE_CLIENT_ID='{v}' in its spec", c.name))
            })
            .collect(),
        _ => vec![],
    };
    let seen = user_client_ids(f);
    let unread: Vec<_> = seen
        .iter()
        .filter_map(|s| {
            s.value
                .as_ref()
                .err()
                .map(|e| format!("{}: {e}", s.container))
        })
        .collect();
    let mut wrong = template_set;
    wrong.extend(seen.iter().filter_map(|s| match &s.value {
        Ok(v) if *v != want => Some(format!(
            "{} uses AZURE_CLIENT_ID='{v}' ({})",
            s.container, s.how
        )),
        _ => None,
    }));
    if !wrong.is_empty() {
        let containers: Vec<_> = seen.iter().map(|s| s.container.as_str()).collect();
        return Verdict::fail(
            format!("{}; the service account names '{want}'", wrong.join("; ")),
            format!(
                "a value the spec sets wins: the webhook keeps it. Remove AZURE_CLIENT_ID from the spec of {} (or make it '{want}'); then {}",
                if containers.is_empty() {
                    "the template's containers".to_string()
                } else {
                    containers.join(", ")
                },
                recreate(f)
            ),
        );
    }
    if !unread.is_empty() {
        return Verdict::warn(
            format!("cannot tell the client id of {}", unread.join("; ")),
            "ask for 'get' on the configmaps/secrets named (kubectl auth can-i get secrets)",
        );
    }
    if f.pod.is_err() && f.workload.is_err() {
        return no_pod(f);
    }
    let app = match f.app.as_ref() {
        Ok(a) if a.no_shell.is_none() => format!(" (read in container {})", a.container),
        Ok(a) => format!(" ({} has no shell: from its spec)", a.container),
        Err(_) => String::new(),
    };
    Verdict::pass(format!("every served container uses {want}{app}"))
}

/// Each served container whose AZURE_FEDERATED_TOKEN_FILE is not where the volume is
/// mounted: (those the spec sets, the others).
fn path_problems(
    inj: &mutation::Injection,
    v: &mutation::TokenVolume,
) -> (Vec<String>, Vec<String>) {
    // Webhook <= v1.5 projected `azure-identity-token` under /var/run/secrets/azure/tokens.
    let legacy = mutation::expected_token_file(Layout::Legacy, "azure-identity-token");
    let mut user_set = Vec::new();
    let mut problems = Vec::new();
    for c in inj.served() {
        let Some(mount) = &c.mount_path else {
            problems.push(format!("{} does not mount {}", c.name, v.name));
            continue;
        };
        let want = format!("{}/{}", mount.trim_end_matches('/'), v.path);
        let have = c.token_file();
        if have == Some(want.as_str()) {
            continue;
        }
        let line = format!(
            "{}: AZURE_FEDERATED_TOKEN_FILE={} but the token is at {want}",
            c.name,
            have.unwrap_or("<unset>")
        );
        if c.origin(keys::ENV_TOKEN_FILE, inj.tracked) != Some(Origin::User) {
            problems.push(line);
        } else if have == Some(legacy.as_str()) {
            user_set.push(format!(
                "{line} (the path of webhook <= v1.5, set in the spec)"
            ));
        } else {
            user_set.push(format!("{line} (set in the spec)"));
        }
    }
    (user_set, problems)
}

/// Entra's audience unless the webhook runs with `--audience`: then the volume carries that
/// one, and the federated credential must list it (azure-credential checks).
pub fn token_volume(f: &Facts) -> Verdict {
    let Some(inj) = injection(f) else {
        return no_pod(f);
    };
    let Some(v) = &inj.volume else {
        return Verdict::skip("not mutated: see pod-mutated");
    };
    let Some(audience) = &v.audience else {
        return Verdict::fail(
            format!(
                "volume {} has no audience: the token would carry the API server's",
                v.name
            ),
            format!("do not hand-edit the webhook's volume: {}", recreate(f)),
        );
    };
    let (user_set, problems) = path_problems(&inj, v);
    if !user_set.is_empty() {
        let names: Vec<_> = user_set
            .iter()
            .filter_map(|l| l.split(':').next())
            .collect();
        return Verdict::fail(
            user_set.join("; "),
            format!(
                "remove AZURE_FEDERATED_TOKEN_FILE from the spec of {}: the webhook sets it to the token's path, but keeps a value the spec already has, so recreating the pod as it is changes nothing; after the edit, {}",
                names.join(", "),
                recreate(f)
            ),
        );
    }
    if !problems.is_empty() {
        return Verdict::fail(
            problems.join("; "),
            format!(
                "let the webhook mount the token where AZURE_FEDERATED_TOKEN_FILE points: {}",
                recreate(f)
            ),
        );
    }
    let aud = if audience == keys::AUDIENCE {
        String::new()
    } else {
        format!(", audience {audience} (the webhook's --audience: the credential must list it)")
    };
    Verdict::pass(format!(
        "{} at {} ({}, {}s{aud})",
        v.name,
        mutation::expected_token_file(v.layout, &v.path),
        layout_name(v.layout),
        v.expiration_seconds
            .unwrap_or(keys::DEFAULT_TOKEN_EXPIRATION)
    ))
}

#[cfg(test)]
#[path = "pod_tests.rs"]
mod tests;
