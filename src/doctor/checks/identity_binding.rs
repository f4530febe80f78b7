//! The AKS identity-binding path (docs: identity-bindings §4-§7): the pod's annotation, the
//! proxy settings the webhook injects, the token's audience, the RBAC grant the token proxy
//! asks for, the ARM binding and AKS's credential on the identity. Each hint is a command that
//! repairs what it names: `bind --identity-binding` puts back every piece it owns.

use serde_json::Value;

use super::{client_id, gap_verdict};
use crate::{
    doctor::{
        identity_binding::{IbFacts, asked},
        model::{Facts, Gap, Verdict},
    },
    wi::{
        identity_binding::{
            self as ib, ANNOTATION, AUDIENCE, ENV_CA_DATA, ENV_CA_FILE, ENV_SNI_NAME,
            ENV_TOKEN_PROXY, MANAGED_CREDENTIAL,
        },
        names,
        target::Owner,
    },
};

fn facts(f: &Facts) -> Result<&IbFacts, Verdict> {
    f.identity_binding
        .as_ref()
        .map_err(|g| gap_verdict(g, "the identity-binding facts"))
}

/// The workload whose template the pods come from, as `--workload` takes it.
fn workload(f: &Facts) -> Option<String> {
    if f.workload.is_ok() {
        return f.target.as_ref().map(ToString::to_string);
    }
    match &f.owner {
        Some(Owner::Rollout { target }) => Some(target.to_string()),
        _ => None,
    }
}

/// The classic path's bind, for where identity bindings cannot serve.
fn classic_command(f: &Facts) -> String {
    let sa = f.sa_name.as_deref().unwrap_or("default");
    let cid = client_id(f).unwrap_or_else(|| "CLIENT-ID".into());
    format!(
        "`kubectl azwi bind {sa} -n {} --identity {cid}`",
        f.namespace
    )
}

/// The command that puts every piece of the binding in place (idempotent).
fn bind_command(f: &Facts) -> String {
    let sa = f.sa_name.as_deref().unwrap_or("default");
    let cid = client_id(f).unwrap_or_else(|| "CLIENT-ID".into());
    let mut cmd = format!(
        "kubectl azwi bind {sa} -n {} --identity {cid} --identity-binding",
        f.namespace
    );
    if let Ok(Ok(c)) = f.identity_binding.as_ref().map(|i| i.cluster.as_ref()) {
        cmd.push_str(&format!(
            " --cluster {} --cluster-resource-group {}",
            c.name, c.resource_group
        ));
    }
    if let Some(w) = workload(f) {
        cmd.push_str(&format!(" --workload {w}"));
    }
    format!("`{cmd}`")
}

pub fn ib_annotation(f: &Facts) -> Verdict {
    if let Err(v) = facts(f) {
        return v;
    }
    if asked(f) {
        return Verdict::pass(format!("{ANNOTATION}: \"true\""));
    }
    let restart = if workload(f).is_some() {
        ""
    } else {
        "; then delete and create the pod again (the webhook changes pods only when they are created)"
    };
    Verdict::fail(
        format!(
            "the identity has an identity binding (AKS's credential {MANAGED_CREDENTIAL}) but the pod lacks {ANNOTATION}: \"true\": it gets the classic token and no proxy settings"
        ),
        format!(
            "add the annotation to the pod template: {}{restart}",
            bind_command(f)
        ),
    )
}

fn webhook_fix(f: &Facts) -> String {
    let restart = match workload(f) {
        Some(w) => format!("`kubectl rollout restart {w} -n {}`", f.namespace),
        None => "delete and create the pod again".into(),
    };
    format!(
        "pods get them only at creation: {restart}; if new pods still lack them, the webhook runs without --custom-token-endpoint-annotation-suffix=identity-binding and --custom-token-endpoint-audience={AUDIENCE} (azure-workload-identity >= v1.6.0, Helm values customTokenEndpoint.*)"
    )
}

pub fn ib_env(f: &Facts) -> Verdict {
    if let Err(v) = facts(f) {
        return v;
    }
    if !asked(f) {
        return Verdict::skip(
            "the pod does not ask for the identity-binding path (see ib-annotation)",
        );
    }
    let app = match &f.app {
        Ok(a) => a,
        Err(g) => return gap_verdict(g, "the app container's environment"),
    };
    let has = |k: &str| app.env.contains_key(k);
    let missing: Vec<&str> = [ENV_TOKEN_PROXY, ENV_SNI_NAME, ENV_CA_FILE]
        .into_iter()
        .filter(|k| !has(k))
        .collect();
    if !missing.is_empty() {
        return Verdict::fail(
            format!("container {} lacks {}", app.container, missing.join(", ")),
            webhook_fix(f),
        );
    }
    if has(ENV_CA_DATA) {
        return Verdict::fail(
            format!(
                "container {} has both {ENV_CA_FILE} and {ENV_CA_DATA}: the Azure SDKs refuse to start with both",
                app.container
            ),
            "configure the webhook's CA with a ConfigMap (AZURE_KUBERNETES_CA_CONFIGMAP_NAME, e.g. kube-root-ca.crt) instead of CA data (customTokenEndpoint.azureKubernetesCaData), then restart the pods",
        );
    }
    Verdict::pass(format!(
        "{ENV_TOKEN_PROXY}={}, {ENV_SNI_NAME}={}, {ENV_CA_FILE}={}",
        app.env[ENV_TOKEN_PROXY], app.env[ENV_SNI_NAME], app.env[ENV_CA_FILE]
    ))
}

pub fn ib_token_audience(f: &Facts) -> Verdict {
    if let Err(v) = facts(f) {
        return v;
    }
    if !asked(f) {
        return Verdict::skip(
            "the pod does not ask for the identity-binding path (see ib-annotation)",
        );
    }
    let jwt = match f.token.as_ref().map(|t| &t.jwt) {
        Ok(Ok(j)) => j,
        Ok(Err(why)) => return Verdict::skip(format!("no token to read: {why}")),
        Err(g) => return gap_verdict(g, "the token"),
    };
    if jwt.claims.aud.iter().any(|a| a == AUDIENCE) {
        return Verdict::pass(format!("aud {AUDIENCE}"));
    }
    Verdict::fail(
        format!(
            "the token's aud is {} (the proxy takes {AUDIENCE})",
            jwt.claims.aud.join(", ")
        ),
        webhook_fix(f),
    )
}

fn str_at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or_default()
}

/// Why the grant is missing, read from the RBAC objects: a role naming the principal id, a
/// RoleBinding (namespaced) where a ClusterRoleBinding is needed, or nothing at all.
fn why_not_granted(i: &IbFacts, f: &Facts, cid: &str) -> String {
    let sa = f.sa_name.as_deref().unwrap_or("default");
    let roles = i.roles.as_deref().unwrap_or_default();
    let principal = f.identity().map(|id| id.principal_id.as_str());
    if let Some(p) = principal
        && let Some(r) = roles.iter().find(|r| {
            ib::named_resources(r)
                .iter()
                .any(|x| x.eq_ignore_ascii_case(p))
        })
    {
        return format!(
            "{} {} names {p}, the identity's principal (object) id: the resource must be the client id {cid}",
            str_at(r, "/kind"),
            str_at(r, "/metadata/name")
        );
    }
    let granting: Vec<(&str, &str)> = roles
        .iter()
        .filter(|r| ib::grants(r, cid))
        .map(|r| (str_at(r, "/kind"), str_at(r, "/metadata/name")))
        .collect();
    let bindings = i.role_bindings.as_deref().unwrap_or_default();
    let namespaced = bindings.iter().find(|b| {
        str_at(b, "/kind") == "RoleBinding"
            && granting
                .iter()
                .any(|(k, n)| *k == str_at(b, "/roleRef/kind") && *n == str_at(b, "/roleRef/name"))
            && ib::names_service_account(b.get("subjects"), &f.namespace, sa)
    });
    if let Some(b) = namespaced {
        return format!(
            "RoleBinding {}/{} grants it only inside namespace {}: the token proxy asks cluster-wide, which only a ClusterRoleBinding answers",
            str_at(b, "/metadata/namespace"),
            str_at(b, "/metadata/name"),
            str_at(b, "/metadata/namespace")
        );
    }
    match granting.first() {
        Some((k, n)) => format!(
            "{k} {n} grants it, but no ClusterRoleBinding gives it to {}",
            names::subject(&f.namespace, sa)
        ),
        None => format!(
            "no ClusterRole grants {} on {}/{cid}",
            ib::VERB,
            ib::API_GROUP
        ),
    }
}

pub fn ib_rbac(f: &Facts) -> Verdict {
    let i = match facts(f) {
        Ok(i) => i,
        Err(v) => return v,
    };
    let Some(cid) = client_id(f) else {
        return Verdict::skip("no client-id annotation (see sa-client-id)");
    };
    let sa = f.sa_name.as_deref().unwrap_or("default");
    let who = names::subject(&f.namespace, sa);
    match &i.grant {
        Err(g) => gap_verdict(g, "the SubjectAccessReview"),
        Ok(true) => Verdict::pass(format!(
            "{who} may {} {}/{cid} (SubjectAccessReview)",
            ib::VERB,
            ib::API_GROUP
        )),
        Ok(false) => Verdict::fail(
            format!(
                "{who} may not {} the identity: {}",
                ib::VERB,
                why_not_granted(i, f, &cid)
            ),
            format!(
                "grant it with a ClusterRole and ClusterRoleBinding: {}",
                bind_command(f)
            ),
        ),
    }
}

pub fn ib_arm_binding(f: &Facts) -> Verdict {
    let i = match facts(f) {
        Ok(i) => i,
        Err(v) => return v,
    };
    let c = match &i.cluster {
        Ok(c) => c,
        Err(Gap::NotAsked { why }) => {
            return Verdict::fail(
                why.clone(),
                format!(
                    "identity bindings need an AKS cluster: remove the annotation and bind with a federated credential instead: {}",
                    classic_command(f)
                ),
            );
        }
        Err(g) => return gap_verdict(g, "the cluster's identity bindings"),
    };
    if let Some(why) = &c.refusal {
        return Verdict::fail(
            format!("cluster {} is not {why}", c.name),
            format!(
                "remove the annotation and bind with a federated credential instead: {}",
                classic_command(f)
            ),
        );
    }
    match c.binding.as_ref().map(|(n, s)| (n.as_str(), s.as_str())) {
        Some((n, "Succeeded")) => Verdict::pass(format!(
            "identity binding {n} on cluster {}: Succeeded",
            c.name
        )),
        Some((n, s @ ("Creating" | "Updating"))) => {
            Verdict::pending(format!("identity binding {n} is {s}"))
        }
        Some((n, s)) => Verdict::fail(
            format!("identity binding {n} on cluster {} is {s}", c.name),
            format!("put it again: {}", bind_command(f)),
        ),
        None => Verdict::fail(
            format!("cluster {} has no identity binding of the identity", c.name),
            format!("create it: {}", bind_command(f)),
        ),
    }
}

pub fn ib_managed_credential(f: &Facts) -> Verdict {
    if let Err(v) = facts(f) {
        return v;
    }
    let Some(id) = f.identity() else {
        return Verdict::skip("no user-assigned identity (see azure-identity)");
    };
    let creds = match &id.credentials {
        Ok(c) => c,
        Err(g) => return gap_verdict(g, "the identity's credentials"),
    };
    match creds
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(MANAGED_CREDENTIAL))
    {
        Some(c) if c.issuer.starts_with(ib::ISSUER_PREFIX) => Verdict::pass(format!(
            "{MANAGED_CREDENTIAL} on {} (issuer {})",
            id.name, c.issuer
        )),
        Some(c) => Verdict::fail(
            format!(
                "{MANAGED_CREDENTIAL} on {} has issuer {}, not AKS's",
                id.name, c.issuer
            ),
            format!(
                "AKS owns it: put the binding again so AKS rewrites it: {}",
                bind_command(f)
            ),
        ),
        None => Verdict::fail(
            format!(
                "identity {} has no {MANAGED_CREDENTIAL} credential: every binding of the identity, in every cluster, stops working without it",
                id.name
            ),
            format!(
                "put the binding again so AKS writes it: {}",
                bind_command(f)
            ),
        ),
    }
}

/// A classic federated credential for this service account beside the identity binding.
pub fn ib_mixed(f: &Facts) -> Verdict {
    if let Err(v) = facts(f) {
        return v;
    }
    let Some(id) = f.identity() else {
        return Verdict::skip("no user-assigned identity (see azure-identity)");
    };
    let subject = names::subject(&f.namespace, f.sa_name.as_deref().unwrap_or("default"));
    let classic = id
        .credentials
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|c| c.subject == subject);
    let Some(c) = classic else {
        return Verdict::pass(
            "the service account has no classic federated credential beside the binding",
        );
    };
    let segments: Vec<&str> = id.id.split('/').collect();
    let rg = segments
        .windows(2)
        .find(|w| w[0].eq_ignore_ascii_case("resourcegroups"))
        .map_or("RESOURCE_GROUP", |w| w[1]);
    Verdict::warn(
        format!(
            "{subject} has both the identity binding and federated credential {} (issuer {}): pods with the annotation use the proxy, pods without it the credential",
            c.name, c.issuer
        ),
        format!(
            "keep one path; to keep the identity binding: `az identity federated-credential delete --identity-name {} -g {rg} -n {} --yes`",
            id.name, c.name
        ),
    )
}

#[cfg(test)]
#[path = "identity_binding_tests.rs"]
mod tests;
