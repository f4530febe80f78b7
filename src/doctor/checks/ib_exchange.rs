//! `token-exchange` on the identity-binding path: the pod's token went through the AKS token
//! proxy as its SDK sends it (src/doctor/gather/proxy.rs). A refusal is named from what RBAC
//! and ARM say (the facts of ib-rbac and ib-arm-binding) before the proxy's own words, whose
//! exact text AKS does not document (src/wi/token_proxy.rs).

use super::identity_binding::{bind_command, webhook_fix};
use crate::{
    doctor::model::{Facts, ProxyAnswer, Verdict},
    wi::{
        aadsts,
        identity_binding::MANAGED_CREDENTIAL,
        token_proxy::{self as rules, Forbidden, Refusal, Route},
    },
};

/// Where the request went, for the detail line.
fn via(route: &Route) -> String {
    let note = route
        .note
        .as_ref()
        .map(|n| format!("; {n}"))
        .unwrap_or_default();
    format!(
        "through the AKS token proxy at {} (TLS name {}, trusting {}{note})",
        route.connect, route.tls_name, route.trust
    )
}

/// A 403's cause: RBAC's answer and the binding's state first, the proxy's words after.
fn forbidden(f: &Facts, from_text: Forbidden) -> Forbidden {
    let ib = f.identity_binding.as_ref().ok();
    if ib.is_some_and(|i| i.grant == Ok(false)) {
        return Forbidden::NotGranted;
    }
    let state = ib
        .and_then(|i| i.cluster.as_ref().ok())
        .map(|c| c.binding.as_ref().map(|(_, s)| s.clone()));
    match state {
        Some(None) => Forbidden::Binding(None),
        Some(Some(s)) if s != "Succeeded" => Forbidden::Binding(Some(s)),
        _ => from_text,
    }
}

/// The audience of the token sent, when it was read: what a 401 is usually about.
fn token_audience(f: &Facts) -> String {
    match f.token.as_ref().map(|t| t.jwt.as_ref()) {
        Ok(Ok(j)) => format!("; the token's aud is {}", j.claims.aud.join(", ")),
        _ => String::new(),
    }
}

fn refused(f: &Facts, route: &str, status: u16, description: &str, aadsts: Option<u32>) -> Verdict {
    let mut said = format!("{route}; the proxy answered {status}: {description}");
    let refusal = match rules::classify(status, description, aadsts) {
        Refusal::Forbidden(t) => Refusal::Forbidden(forbidden(f, t)),
        r => r,
    };
    if refusal == Refusal::TokenNotAccepted {
        said.push_str(&token_audience(f));
    }
    let cause = rules::cause(&refusal);
    let fix = match &refusal {
        // A token of another audience: the webhook's --custom-token-endpoint-audience, or a
        // pod created before the webhook had it.
        Refusal::TokenNotAccepted => webhook_fix(f),
        Refusal::Forbidden(Forbidden::NotGranted) => format!(
            "grant it with a ClusterRole and ClusterRoleBinding: {}",
            bind_command(f)
        ),
        Refusal::Forbidden(Forbidden::Binding(_)) => {
            format!("put the identity binding again: {}", bind_command(f))
        }
        Refusal::Forbidden(Forbidden::Unknown) => format!(
            "see ib-rbac and ib-arm-binding; {} puts both in place",
            bind_command(f)
        ),
        // Entra matches the proxy's assertion against AKS's credential on the identity.
        Refusal::Entra(70021 | 70025 | 700211 | 700213) => format!(
            "AKS's credential {MANAGED_CREDENTIAL} on the identity is missing or changed; put the binding again so AKS writes it: {}",
            bind_command(f)
        ),
        Refusal::Entra(code) => aadsts::explain(*code).map_or_else(
            || "see the AADSTS code at https://login.microsoftonline.com/error".into(),
            |(meaning, fix)| format!("{meaning}: {fix}"),
        ),
        Refusal::Other => "retry; if it persists, the proxy (AKS) is failing: see the cluster's health in the Azure portal".into(),
    };
    Verdict::fail(format!("{cause} ({said})"), fix)
}

pub fn proxied(f: &Facts, route: Option<&Route>, answer: &ProxyAnswer) -> Verdict {
    let Some(route) = route else {
        let reason = match answer {
            ProxyAnswer::Failed { reason } => reason.as_str(),
            _ => "",
        };
        return Verdict::fail(
            format!("the pod's SDK would refuse its proxy settings: {reason}"),
            format!(
                "the webhook's customTokenEndpoint settings gave the pod these (see ib-env): correct them; {}",
                webhook_fix(f)
            ),
        );
    };
    let where_ = via(route);
    match answer {
        ProxyAnswer::Token { tenant, expires } => Verdict::pass(format!(
            "an access token in tenant {tenant}{}, {where_}",
            expires
                .map(|e| format!(", valid for {}s", e - f.now))
                .unwrap_or_default()
        )),
        ProxyAnswer::Refused {
            status,
            description,
            aadsts,
        } => refused(f, &where_, *status, description, *aadsts),
        ProxyAnswer::Failed { reason } => Verdict::fail(
            format!("no answer {where_}: {reason}"),
            "the pod reaches the proxy through the API server under the SNI name, trusting only the CA the webhook mounts: check that AZURE_KUBERNETES_TOKEN_PROXY, AZURE_KUBERNETES_SNI_NAME and the CA (the webhook's AZURE_KUBERNETES_CA_CONFIGMAP_NAME, e.g. kube-root-ca.crt) are this cluster's, then restart the pods",
        ),
    }
}

#[cfg(test)]
#[path = "ib_exchange_tests.rs"]
mod tests;
