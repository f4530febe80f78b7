//! Azure's part when the client id is an Entra application (app registration), read through
//! Microsoft Graph: the application and its service principal (Entra refuses an app without
//! one, AADSTS700016, or with a disabled one, AADSTS7000112), its federated credentials (the
//! same exact match as a managed identity's, on the application object), and the 20-per-app
//! limit. Each fix is a command that works as printed.

use super::{azure::credential_verdict, gap_verdict, recreate};
use crate::{
    doctor::model::{AppFacts, Facts, GraphFacts, Verdict},
    wi::{credential::Wanted, keys},
};

/// The Graph facts, when the client id is no managed identity and Graph was read.
pub fn graph(f: &Facts) -> Option<&GraphFacts> {
    let az = f.azure.as_ref().ok()?;
    if az.identity.is_some() {
        return None;
    }
    az.graph.as_ref().ok()
}

pub fn application(f: &Facts) -> Option<&AppFacts> {
    graph(f)?.application.as_ref()
}

/// `azure-identity` for a client id that no managed identity in the subscription has.
/// `None`: Graph knows nothing about it either (the caller keeps its own verdict).
pub fn identity(f: &Facts, cid: &str) -> Option<Verdict> {
    let az = f.azure.as_ref().ok()?;
    // Graph not read (or refused): the caller's verdict says what was not checked.
    let g = az.graph.as_ref().ok()?;
    let sa = f.sa_name.as_deref().unwrap_or("SA");
    if let Some((name, app_id)) = &g.sp_object_id_of {
        return Some(Verdict::fail(
            format!(
                "{cid} is the object id of service principal {name}, not a client id (Entra answers AADSTS700016)"
            ),
            format!(
                "kubectl annotate sa {sa} -n {} {}={app_id} --overwrite; then {}",
                f.namespace,
                keys::CLIENT_ID_ANNOTATION,
                recreate(f)
            ),
        ));
    }
    let app = g.application.as_ref()?;
    let what = format!("application {} (client id {cid})", app.display_name);
    Some(match &app.service_principal {
        None => Verdict::fail(
            format!(
                "{what} has no service principal in the tenant: Entra refuses its tokens (AADSTS700016)"
            ),
            format!("az ad sp create --id {}", app.app_id),
        ),
        Some(sp) if !sp.enabled => Verdict::fail(
            format!(
                "{what}: its service principal {} is disabled: Entra refuses its tokens (AADSTS7000112)",
                sp.object_id
            ),
            format!(
                "az ad sp update --id {} --set accountEnabled=true",
                sp.object_id
            ),
        ),
        Some(sp) => Verdict::pass(format!(
            "{what}, object id {}; service principal {} enabled",
            app.object_id, sp.object_id
        )),
    })
}

/// The body `az ad app federated-credential create --parameters` takes.
fn parameters(name: &str, want: &Wanted) -> String {
    serde_json::json!({
        "name": name,
        "issuer": want.issuer,
        "subject": want.subject,
        "audiences": [want.audience],
    })
    .to_string()
}

/// A credential name valid for Graph and unlikely to clash: `<namespace>-<sa>`.
fn new_name(f: &Facts) -> String {
    format!("{}-{}", f.namespace, f.sa_name.as_deref().unwrap_or("sa"))
}

/// `azure-credential` on the application object.
pub fn credential(f: &Facts, app: &AppFacts, want: &Wanted) -> Verdict {
    let creds = match &app.credentials {
        Ok(c) => c,
        Err(g) => return gap_verdict(g, "the application's federated credentials"),
    };
    let create = format!(
        "az ad app federated-credential create --id {} --parameters '{}'",
        app.app_id,
        parameters(&new_name(f), want)
    );
    let update = |name: &str| {
        format!(
            "az ad app federated-credential update --id {} --federated-credential-id {name} --parameters '{}'",
            app.app_id,
            parameters(name, want)
        )
    };
    let missing = |n: usize| {
        let detail = format!(
            "none of the {n} credential(s) of application {} has issuer {}, subject {} and audience {}",
            app.display_name, want.issuer, want.subject, want.audience
        );
        let elsewhere = graph(f).map(|g| &g.credential_on[..]).unwrap_or_default();
        match elsewhere.first() {
            Some((name, other)) => Verdict::fail(
                format!(
                    "{detail}; that credential is on application {name} ({other}), which the service account does not name"
                ),
                format!("add it to the application the service account names: {create}"),
            ),
            None => Verdict::fail(detail, create.clone()),
        }
    };
    credential_verdict(
        creds,
        want,
        update,
        &format!("add one for this: {create}"),
        missing,
    )
}

/// The hint for a full application (20 credentials).
pub fn full_hint(app: &AppFacts) -> String {
    format!(
        "delete unused credentials (az ad app federated-credential list --id {0}; az ad app federated-credential delete --id {0} --federated-credential-id NAME), or use another application",
        app.app_id
    )
}

#[cfg(test)]
mod tests {
    use crate::doctor::{
        Status,
        checks::testing::*,
        model::{AppFacts, Facts, GraphFacts, SpFacts},
    };

    const SP: &str = "33333333-3333-3333-3333-333333333333";

    /// `bound()` with the client id an application's, as Graph lists it.
    fn app_bound(sp: Option<bool>, creds: Vec<crate::wi::credential::Credential>) -> Facts {
        let mut f = bound();
        let az = f.azure.as_mut().unwrap();
        az.identity = None;
        az.graph = Ok(GraphFacts {
            application: Some(AppFacts {
                display_name: "payments".into(),
                object_id: "44444444-4444-4444-4444-444444444444".into(),
                app_id: CID.into(),
                service_principal: sp.map(|enabled| SpFacts {
                    object_id: SP.into(),
                    enabled,
                }),
                credentials: Ok(creds),
            }),
            ..GraphFacts::default()
        });
        f
    }

    fn own() -> Vec<crate::wi::credential::Credential> {
        vec![cred(ISS, "system:serviceaccount:ns:wi")]
    }

    /// Item: a working app binding passes every Azure check (it used to be only a warning).
    #[test]
    fn a_working_application_binding_passes() {
        let f = app_bound(Some(true), own());
        for id in [
            "azure-identity",
            "azure-credential",
            "azure-credential-count",
        ] {
            assert_eq!(
                verdict(&f, id).status,
                Status::Pass,
                "{id}: {:?}",
                verdict(&f, id)
            );
        }
        assert!(failing(&f).is_empty(), "{:?}", failing(&f));
    }

    #[test]
    fn service_principal_missing_or_disabled() {
        let f = app_bound(None, own());
        fails(&f, "azure-identity", &format!("az ad sp create --id {CID}"));
        assert!(
            verdict(&f, "azure-identity")
                .detail
                .contains("AADSTS700016")
        );
        let f = app_bound(Some(false), own());
        fails(
            &f,
            "azure-identity",
            &format!("az ad sp update --id {SP} --set accountEnabled=true"),
        );
    }

    #[test]
    fn client_id_of_the_service_principal() {
        let mut f = bound();
        let az = f.azure.as_mut().unwrap();
        az.identity = None;
        az.graph = Ok(GraphFacts {
            sp_object_id_of: Some((
                "payments".into(),
                "55555555-5555-5555-5555-555555555555".into(),
            )),
            ..GraphFacts::default()
        });
        fails(
            &f,
            "azure-identity",
            "azure.workload.identity/client-id=55555555-5555-5555-5555-555555555555 --overwrite",
        );
    }

    #[test]
    fn credential_missing_or_on_another_application() {
        let mut f = app_bound(Some(true), vec![]);
        let want = format!(
            "az ad app federated-credential create --id {CID} --parameters '{{\"audiences\":[\"api://AzureADTokenExchange\"],\"issuer\":\"{ISS}\",\"name\":\"ns-wi\",\"subject\":\"system:serviceaccount:ns:wi\"}}'"
        );
        fails(&f, "azure-credential", &want);
        if let Ok(g) = &mut f.azure.as_mut().unwrap().graph {
            g.credential_on = vec![(
                "other".into(),
                "66666666-6666-6666-6666-666666666666".into(),
            )];
        }
        let v = verdict(&f, "azure-credential");
        assert!(v.detail.contains("on application other (66666666"), "{v:?}");
        assert!(v.hint.unwrap().contains(&want));
        // A near miss of another binding's is never rewritten; this binding's own typo is.
        let f = app_bound(
            Some(true),
            vec![cred(
                ISS.trim_end_matches('/'),
                "system:serviceaccount:ns:wi",
            )],
        );
        fails(
            &f,
            "azure-credential",
            "az ad app federated-credential update --id",
        );
        let f = app_bound(
            Some(true),
            vec![cred(ISS, "system:serviceaccount:other:wi")],
        );
        fails(&f, "azure-credential", "belongs to another service account");
    }

    #[test]
    fn twenty_credentials_per_application() {
        let creds = (0..20)
            .map(|i| cred(ISS, &format!("system:serviceaccount:ns:s{i}")))
            .collect();
        let f = app_bound(Some(true), creds);
        fails(
            &f,
            "azure-credential-count",
            &format!("az ad app federated-credential list --id {CID}"),
        );
    }
}
