//! The pod's token exchange on the identity-binding path: the pod's variables say where its
//! SDK sends the token request (AZURE_KUBERNETES_TOKEN_PROXY, _SNI_NAME, _CA_FILE/_CA_DATA),
//! and the plugin sends it there the same way, with the pod's token and the CA read from the
//! pod. Shared by `doctor --exchange` and `exec-login`.

use std::collections::BTreeMap;

use super::container::{ExchangeInput, authority_of, tenant_and_expiry};
use crate::{
    azure::{
        entra::{AccessToken, EntraError},
        token_proxy::{self, Trust},
    },
    ctx::Ctx,
    doctor::model::{Exchange, ProxyAnswer},
    wi::{
        keys,
        token_proxy::{self as rules, CaSource, Route},
    },
};

/// Where the request went (None: the SDK would refuse the settings) and how it ended: the
/// access token, or the refusal (never `ProxyAnswer::Token`).
pub struct Proxied {
    pub route: Option<Route>,
    pub result: Result<AccessToken, ProxyAnswer>,
}

/// The pod's SDK's token request through the proxy; None when the pod has no proxy settings
/// (the ordinary Entra path).
pub async fn send(
    ctx: &Ctx,
    env: &BTreeMap<String, String>,
    token: &str,
    ca: Option<&Result<String, String>>,
    scope: &str,
) -> Option<Proxied> {
    let failed = |route: Option<Route>, reason: String| Proxied {
        route,
        result: Err(ProxyAnswer::Failed { reason }),
    };
    let settings = match rules::settings(env) {
        Ok(None) => return None,
        Ok(Some(s)) => s,
        Err(why) => return Some(failed(None, why)),
    };
    let get = |k: &str| env.get(k).cloned().unwrap_or_default();
    let authority = authority_of(ctx, env);
    let route = rules::route(
        &settings,
        &authority,
        &get(keys::ENV_TENANT_ID),
        &ctx.kube.server,
    );
    // The SDKs fail before any request when the CA they were told to pin cannot be read.
    let trust = match (&settings.ca, ca) {
        (CaSource::System, _) => Trust::System,
        (_, Some(Ok(pem))) => Trust::Pem(pem),
        (_, Some(Err(why))) => {
            let reason = format!("the SDK cannot read the pod's CA: {why}");
            return Some(failed(Some(route), reason));
        }
        (_, None) => return Some(failed(Some(route), "the pod's CA was not read".into())),
    };
    let client_id = get(keys::ENV_CLIENT_ID);
    let result = token_proxy::exchange(&route, trust, &client_id, token, scope)
        .await
        .map_err(|e| match e {
            EntraError::Refused {
                status,
                description,
                aadsts,
                ..
            } => ProxyAnswer::Refused {
                status,
                description,
                aadsts,
            },
            e @ EntraError::Transport { .. } => ProxyAnswer::Failed {
                reason: e.to_string(),
            },
        });
    Some(Proxied {
        route: Some(route),
        result,
    })
}

/// `doctor --exchange` on this path: the outcome, the token dropped.
pub async fn exchange(ctx: &Ctx, input: &ExchangeInput) -> Option<Exchange> {
    let p = send(
        ctx,
        &input.env,
        &input.token,
        input.ca.as_ref(),
        &ctx.cloud.arm_scope,
    )
    .await?;
    let tenant = input
        .env
        .get(keys::ENV_TENANT_ID)
        .cloned()
        .unwrap_or_default();
    let answer = match p.result {
        Ok(at) => {
            let (tenant, expires) = tenant_and_expiry(&at, tenant);
            ProxyAnswer::Token { tenant, expires }
        }
        Err(a) => a,
    };
    Some(Exchange::Proxied {
        route: p.route,
        answer,
    })
}
