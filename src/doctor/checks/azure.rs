//! Azure's part: the identity the client id names, the federated credential Entra will match,
//! and (with `--exchange`) Entra's own answer.

use super::{app, audience, client_id, gap_verdict};
use crate::{
    doctor::model::{Exchange, Facts, Gap, TokenSource, Verdict},
    wi::{
        aadsts,
        credential::{self, Credential, Match, Wanted},
        keys, names,
    },
};

pub fn azure_identity(f: &Facts) -> Verdict {
    let az = match &f.azure {
        Ok(a) => a,
        Err(g) => return gap_verdict(g, "Azure"),
    };
    let Some(cid) = client_id(f) else {
        return Verdict::skip("no client-id annotation (see sa-client-id)");
    };
    if let Some(i) = &az.identity {
        return Verdict::pass(format!("{} ({})", i.name, i.id));
    }
    if let Some(name) = &az.principal_mixup {
        return Verdict::fail(
            format!("{cid} is the principal (object) id of identity {name}, not its client id"),
            format!(
                "annotate the service account with the client id: az identity show -n {name} -g RG --query clientId -o tsv"
            ),
        );
    }
    if let Some(v) = app::identity(f, &cid) {
        return v;
    }
    let not_here = format!(
        "{cid} is not a user-assigned identity in subscription {} ({} listed)",
        az.subscription, az.identities_seen
    );
    // An Entra application (app registration), or an identity in another subscription:
    // ARM cannot show its credentials; Entra, when asked, says whether it accepts the pod.
    if let Ok(Exchange::Ok { .. }) = &f.exchange {
        return Verdict::pass(format!(
            "{not_here}, but Entra accepts the pod's token for it (an application, or an identity in another subscription)"
        ));
    }
    Verdict::warn(
        format!(
            "{not_here}: if it is an Entra application (app registration) or an identity in another subscription, its federated credentials were not checked"
        ),
        format!(
            "an application's credentials: az ad app federated-credential list --id {cid}; an identity elsewhere: pass --subscription; either way, --exchange lets Entra check the binding"
        ),
    )
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
        audience: audience(f),
    })
}

/// A credential that is this binding's own, wrongly typed: same subject, and an issuer that
/// differs only in trailing slashes or letter case. Any other near miss is some other
/// binding's (another service account, another cluster), which must be left as it is.
fn own_typo(c: &Credential, want: &Wanted) -> bool {
    let core = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
    c.subject == want.subject && core(&c.issuer) == core(&want.issuer)
}

pub fn azure_credential(f: &Facts) -> Verdict {
    if f.identity_binding.is_ok() && crate::doctor::identity_binding::asked(f) {
        return Verdict::skip(
            "identity-binding path: AKS's credential serves it (see ib-managed-credential)",
        );
    }
    let Ok(az) = &f.azure else {
        return Verdict::skip("Azure not checked (see azure-identity)");
    };
    let Some(id) = &az.identity else {
        return match (app::application(f), wanted(f)) {
            (Some(a), Some(want)) => app::credential(f, a, &want),
            (Some(_), None) => Verdict::skip("neither the token nor the cluster gave an issuer"),
            (None, _) => Verdict::skip("no identity (see azure-identity)"),
        };
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
    let sa = f.sa_name.as_deref().unwrap_or("SA");
    let bind = format!(
        "kubectl azwi bind {sa} -n {} --identity {}",
        f.namespace, id.client_id
    );
    credential_verdict(
        creds,
        &want,
        |name| {
            format!(
                "az identity federated-credential update --name {name} --identity-name {} -g {rg} --issuer {} --subject {} --audiences {}",
                id.name, want.issuer, want.subject, want.audience
            )
        },
        &format!("add a credential for this one: {bind}"),
        |n| {
            Verdict::fail(
                format!(
                    "none of {n} credential(s) has issuer {}, subject {} and audience {}",
                    want.issuer, want.subject, want.audience
                ),
                format!(
                    "{bind} (or az identity federated-credential create --identity-name {} -g {rg} --name NAME --issuer {} --subject {} --audiences {})",
                    id.name, want.issuer, want.subject, want.audience
                ),
            )
        },
    )
}

/// The verdict on a binding's credentials, whichever object holds them (an identity, an
/// application): `update(name)` fixes this binding's own typo; `add` is the fix when the near
/// miss is another binding's (never rewritten); `missing(count)` when nothing comes close.
pub(super) fn credential_verdict(
    creds: &[Credential],
    want: &Wanted,
    update: impl Fn(&str) -> String,
    add: &str,
    missing: impl FnOnce(usize) -> Verdict,
) -> Verdict {
    match credential::find(creds, want) {
        Match::Exact { name } => {
            Verdict::pass(format!("{name}: {} / {}", want.issuer, want.subject))
        }
        Match::NearMiss { name, differences } => {
            let own = creds
                .iter()
                .find(|c| c.name == name)
                .is_some_and(|c| own_typo(c, want));
            let detail = format!("nearest credential '{name}': {}", differences.join("; "));
            if own {
                return Verdict::fail(detail, update(&name));
            }
            Verdict::fail(
                detail,
                format!(
                    "'{name}' belongs to another service account or cluster: leave it, and {add}"
                ),
            )
        }
        Match::Missing => missing(creds.len()),
    }
}

pub fn azure_credential_count(f: &Facts) -> Verdict {
    let identity = f.identity();
    let (creds, full_hint) = match (identity, app::application(f)) {
        (Some(id), _) => (
            &id.credentials,
            "delete unused credentials (az identity federated-credential list/delete), or use another identity".to_string(),
        ),
        (None, Some(a)) => (&a.credentials, app::full_hint(a)),
        (None, None) => return Verdict::skip("no identity (see azure-identity)"),
    };
    let Ok(creds) = creds else {
        return Verdict::skip("credentials not read");
    };
    let n = creds.len();
    let max = keys::MAX_FEDERATED_CREDENTIALS;
    let matched =
        wanted(f).is_some_and(|w| matches!(credential::find(creds, &w), Match::Exact { .. }));
    if n >= max && !matched {
        Verdict::fail(
            format!("{n} of {max} federated credentials: no room for this binding"),
            full_hint,
        )
    } else if credential::near_limit(n) {
        Verdict::warn(
            format!("{n} of {max} federated credentials"),
            "near the limit of 20 per identity or application: plan another one for new clusters or namespaces",
        )
    } else {
        Verdict::pass(format!("{n} of {max}"))
    }
}

pub fn token_exchange(f: &Facts) -> Verdict {
    if f.identity_binding.is_ok() && crate::doctor::identity_binding::asked(f) {
        return Verdict::skip(
            "identity-binding path: its token is exchanged through the AKS token proxy, which doctor does not call yet (a direct exchange is refused by design)",
        );
    }
    let how = match f.token.as_ref().map(|t| &t.source) {
        Ok(TokenSource::Minted { .. }) => " (a minted token: the container has no shell)",
        _ => "",
    };
    match &f.exchange {
        Err(Gap::NotAsked { why }) => Verdict::skip(why.clone()),
        Err(g) => gap_verdict(g, "the token exchange"),
        Ok(Exchange::Ok { tenant, expires }) => Verdict::pass(format!(
            "Entra issued an access token in tenant {tenant}{}{how}",
            expires
                .map(|e| format!(", valid for {}s", e - f.now))
                .unwrap_or_default()
        )),
        Ok(Exchange::Refused { code, description }) => {
            let (meaning, fix) = code.and_then(aadsts::explain).unwrap_or((
                "Entra refused the token",
                "see the AADSTS code at https://login.microsoftonline.com/error",
            ));
            Verdict::fail(format!("{description} ({meaning}){how}"), fix)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::doctor::{
        Status,
        checks::testing::*,
        model::{Exchange, Gap},
    };

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
        set_credentials(
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
        set_credentials(&mut f, vec![]);
        fails(&f, "azure-credential", "kubectl azwi bind wi");
        set_credentials(
            &mut f,
            (0..20)
                .map(|i| cred(ISS, &format!("system:serviceaccount:ns:s{i}")))
                .collect(),
        );
        fails(&f, "azure-credential-count", "delete unused");
    }

    /// Item 17: a near miss for another subject or another issuer is another binding's
    /// credential (an identity shared by namespaces or clusters): never proposed for a rewrite.
    #[test]
    fn another_bindings_credential_is_never_rewritten() {
        for (iss, sub) in [
            (ISS, "system:serviceaccount:other-ns:wi"),
            (
                "https://oidc.example/t/other-cluster/",
                "system:serviceaccount:ns:wi",
            ),
        ] {
            let mut f = bound();
            set_credentials(&mut f, vec![cred(iss, sub)]);
            let v = verdict(&f, "azure-credential");
            assert_eq!(v.status, Status::Fail, "{v:?}");
            let hint = v.hint.unwrap();
            assert!(!hint.contains("federated-credential update"), "{hint}");
            assert!(
                hint.contains(&format!("kubectl azwi bind wi -n ns --identity {CID}")),
                "{hint}"
            );
        }
    }

    /// Item 21: a client id that is no managed identity here may be an Entra application:
    /// a warning naming what was not checked, not a failure.
    #[test]
    fn an_application_client_id_is_a_warning() {
        let mut f = bound();
        f.azure.as_mut().unwrap().identity = None;
        f.exchange = Err(Gap::not_asked("pass --exchange"));
        let v = verdict(&f, "azure-identity");
        assert_eq!(v.status, Status::Warn, "{v:?}");
        assert!(
            v.detail.contains("federated credentials were not checked"),
            "{v:?}"
        );
        assert!(
            v.hint
                .unwrap()
                .contains("az ad app federated-credential list --id")
        );
        assert!(failing(&f).is_empty(), "{:?}", failing(&f));
        // Entra accepting the pod settles it.
        f.exchange = Ok(Exchange::Ok {
            tenant: TENANT.into(),
            expires: None,
        });
        assert_eq!(verdict(&f, "azure-identity").status, Status::Pass);
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
}
