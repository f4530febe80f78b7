//! exec-login on the identity-binding path: the pod's token sent through the AKS token proxy
//! with the pod's SNI name and CA, as the Azure SDKs send it; a refusal named (RBAC asked
//! which of a 403's causes it is) with the command that repairs it.

use k8s_openapi::api::core::v1::Pod;

use super::{Failure, LoginReport, Via, failure};
use crate::{
    ctx::Ctx,
    doctor::{gather, model::ProxyAnswer},
    wi::{
        aadsts, identity_binding as ib, keys,
        token_proxy::{self, Forbidden, Refusal},
    },
};

/// The identity-binding path: the pod's token through the AKS token proxy, with the pod's SNI
/// name and CA, as its SDK sends it (src/doctor/gather/proxy.rs). None when the pod has no
/// proxy settings.
pub(super) async fn login(
    ctx: &Ctx,
    report: &mut LoginReport,
    pod: &Pod,
    read: &gather::ContainerRead,
    scope: &str,
) -> Option<Result<String, Failure>> {
    let token = match &read.token {
        Ok(t) => t,
        Err(why) => {
            token_proxy::settings(&read.env).ok()??;
            return Some(Err(failure(&format!("cannot read the token file: {why}"))));
        }
    };
    let p = gather::proxy::send(ctx, &read.env, token, read.ca.as_ref(), scope).await?;
    report.via = Via::TokenProxy;
    report.proxy = p.route;
    let refused = match p.result {
        Ok(at) => return Some(Ok(at.expose().to_string())),
        Err(a) => a,
    };
    let ns = &report.namespace;
    let doctor = format!(
        "`kubectl azwi doctor pod/{} -n {ns} --exchange` names the broken link",
        report.pod
    );
    let (status, description, aadsts) = match refused {
        ProxyAnswer::Refused {
            status,
            description,
            aadsts,
        } => (status, description, aadsts),
        other => {
            let reason = match other {
                ProxyAnswer::Failed { reason } => reason,
                _ => "the proxy gave no token".into(),
            };
            return Some(Err(Failure {
                code: None,
                message: reason,
                meaning: Some("no answer from the AKS token proxy".into()),
                fix: Some(doctor),
            }));
        }
    };
    let sa = gather::service_account_of(pod);
    let cid = read
        .env
        .get(keys::ENV_CLIENT_ID)
        .cloned()
        .unwrap_or_default();
    let mut refusal = token_proxy::classify(status, &description, aadsts);
    if let Refusal::Forbidden(said) = &refusal {
        // RBAC tells a 403's two causes apart; the proxy's words are not documented.
        let may = ctx
            .kube
            .service_account_may(ns, &sa, ib::API_GROUP, &cid, ib::VERB)
            .await;
        refusal = Refusal::Forbidden(match (may, said) {
            (Ok(false), _) => Forbidden::NotGranted,
            (Ok(true), Forbidden::NotGranted) => Forbidden::Unknown,
            (_, said) => said.clone(),
        });
    }
    let bind = format!("`kubectl azwi bind {sa} -n {ns} --identity {cid} --identity-binding`");
    Some(Err(Failure {
        code: aadsts.map(|c| format!("AADSTS{c}")),
        message: format!("the token proxy answered {status}: {description}"),
        meaning: Some(token_proxy::cause(&refusal)),
        fix: Some(proxy_fix(&refusal, &bind, &doctor)),
    }))
}

/// The fix for a refusal of the proxy: the bind that puts the grant, the binding or AKS's
/// credential back (idempotent), else doctor.
fn proxy_fix(r: &Refusal, bind: &str, doctor: &str) -> String {
    match r {
        Refusal::Forbidden(Forbidden::NotGranted) => format!("grant it: {bind}"),
        Refusal::Forbidden(Forbidden::Binding(_)) => {
            format!("put the identity binding again: {bind}")
        }
        Refusal::Entra(70021 | 70025 | 700211 | 700213) => format!(
            "AKS's credential {} on the identity is missing or changed; put the binding again: {bind}",
            ib::MANAGED_CREDENTIAL
        ),
        Refusal::Entra(code) => {
            aadsts::explain(*code).map_or_else(|| doctor.to_string(), |(_, fix)| fix.to_string())
        }
        _ => doctor.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fix for each refusal of the token proxy: the bind that restores the grant, the
    /// binding or AKS's credential; doctor where the plugin cannot tell.
    #[test]
    fn proxy_refusals_get_the_command_that_repairs_them() {
        let bind = "`kubectl azwi bind wi -n ns --identity c --identity-binding`";
        let doctor = "`kubectl azwi doctor pod/p -n ns --exchange`";
        let fix = |r: Refusal| proxy_fix(&r, bind, doctor);
        assert!(fix(Refusal::Forbidden(Forbidden::NotGranted)).ends_with(bind));
        assert!(
            fix(Refusal::Forbidden(Forbidden::Binding(Some(
                "Failed".into()
            ))))
            .ends_with(bind)
        );
        assert!(fix(Refusal::Entra(70025)).contains(ib::MANAGED_CREDENTIAL));
        assert_eq!(fix(Refusal::TokenNotAccepted), doctor);
        assert_eq!(fix(Refusal::Forbidden(Forbidden::Unknown)), doctor);
    }
}
