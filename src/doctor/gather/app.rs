//! The directory side of a client id that is no managed identity in the subscription: the
//! application (app registration) it names, that application's service principal and
//! credentials, or what else the id is (a service principal's object id). Read through
//! Microsoft Graph; a refusal is a gap, never an error.

use super::chain;
use crate::{
    azure::{
        AzureError,
        graph::{Fic, Graph},
    },
    doctor::model::{AppFacts, Fact, Gap, GraphFacts, SpFacts},
    wi::credential::Credential,
};

/// The Graph permission a read needs (Learn: application-get, federatedidentitycredential-list).
const READ_PERMISSION: &str = "Microsoft Graph applications (Application.Read.All)";

fn graph_gap(e: &AzureError) -> Gap {
    match e.status() {
        Some(401 | 403) => Gap::Forbidden {
            verb: "read".into(),
            resource: READ_PERMISSION.into(),
        },
        _ => Gap::unreachable(chain(e)),
    }
}

/// `want` = the binding's (issuer, subject), to look for its credential on other applications
/// when the named one lacks it.
pub async fn graph_facts(
    graph: &Graph,
    client_id: &str,
    want: Option<(String, String)>,
) -> Fact<GraphFacts> {
    let (app, sp_by_object_id) = tokio::join!(
        graph.application_by_app_id(client_id),
        graph.service_principal(client_id),
    );
    let Some(app) = app.map_err(|e| graph_gap(&e))? else {
        // Not a client id: the object id of some service principal (the classic mix-up)?
        let sp_object_id_of = sp_by_object_id
            .ok()
            .flatten()
            .map(|sp| (sp.display_name, sp.app_id));
        return Ok(GraphFacts {
            sp_object_id_of,
            ..GraphFacts::default()
        });
    };
    let (sp, creds) = tokio::join!(
        graph.service_principal_by_app_id(&app.app_id),
        graph.credentials(&app.id),
    );
    let service_principal = sp.map_err(|e| graph_gap(&e))?.map(|sp| SpFacts {
        object_id: sp.id,
        enabled: sp.account_enabled,
    });
    let credentials: Fact<Vec<Credential>> = creds
        .map(|v| v.iter().map(Fic::credential).collect())
        .map_err(|e| graph_gap(&e));
    let has_own = |creds: &[Credential], (iss, sub): &(String, String)| {
        creds.iter().any(|c| &c.issuer == iss && &c.subject == sub)
    };
    let credential_on = match (&credentials, &want) {
        (Ok(c), Some(w)) if !has_own(c, w) => elsewhere(graph, &app.app_id, w).await,
        _ => Vec::new(),
    };
    Ok(GraphFacts {
        application: Some(AppFacts {
            display_name: app.display_name,
            object_id: app.id,
            app_id: app.app_id,
            service_principal,
            credentials,
        }),
        sp_object_id_of: None,
        credential_on,
    })
}

/// Applications other than `app_id` with a credential for exactly this issuer and subject.
/// Best effort: a tenant this caller cannot list yields nothing, not a gap.
async fn elsewhere(
    graph: &Graph,
    app_id: &str,
    (iss, sub): &(String, String),
) -> Vec<(String, String)> {
    let Ok(apps) = graph.applications_with_credentials().await else {
        return Vec::new();
    };
    apps.into_iter()
        .filter(|a| !a.app_id.eq_ignore_ascii_case(app_id))
        .filter(|a| {
            a.federated_identity_credentials
                .iter()
                .flatten()
                .any(|f| &f.issuer == iss && &f.subject == sub)
        })
        .map(|a| (a.display_name, a.app_id))
        .collect()
}
