//! An application-backed binding as data (issue 14): which application `--app` names, and the
//! steps between what Microsoft Graph holds and what the binding needs. Graph differs from a
//! managed identity's ARM credentials in ways that shape these rules: a credential is created
//! by POST (no upsert by name), a second credential with the same issuer and subject is refused
//! (400), and an application holds at most 20 (identity-bindings §8). So the plan reconciles
//! first: an exact credential under any name is adopted, never duplicated.

use serde_json::json;

use super::{
    azwi,
    credential::{Credential, Wanted},
    keys, names,
    plan::{self, Action, CredentialRefusal, Op, Step, StepKind},
};
use crate::error::InputError;

/// A Microsoft Graph write, with its own data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppOp {
    CreateApplication {
        display_name: String,
    },
    CreateServicePrincipal,
    CreateCredential,
    /// The audiences of this binding's credential put right (PATCH), by its id.
    UpdateCredential {
        id: String,
    },
    DeleteCredential {
        id: String,
    },
    DeleteServicePrincipal {
        id: String,
    },
    DeleteApplication {
        id: String,
    },
}

/// How `--app` names the application: a GUID is its client (app) id or its object id, anything
/// else its display name (which Graph does not keep unique).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppRef {
    Guid(String),
    Name(String),
}

impl AppRef {
    pub fn parse(value: &str) -> Result<AppRef, InputError> {
        if names::is_guid(value) {
            return Ok(AppRef::Guid(value.to_ascii_lowercase()));
        }
        if value.trim().is_empty() || value.len() > 256 || value.chars().any(char::is_control) {
            return Err(InputError::new(
                "application",
                value,
                "a display name (1-256 characters), client (app) id or object id",
            ));
        }
        Ok(AppRef::Name(value.to_string()))
    }
}

/// An application as Graph lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRow {
    pub object_id: String,
    pub app_id: String,
    pub display_name: String,
}

impl AppRow {
    pub fn describe(&self) -> String {
        format!(
            "{} (client id {}, object id {})",
            self.display_name, self.app_id, self.object_id
        )
    }
}

/// The one application `r` names among those found, `None` when there is none. Several of
/// one display name are refused and listed: picking one (as `azwi serviceaccount create` takes
/// the first) could federate a stranger's application.
pub fn pick(r: &AppRef, mut found: Vec<AppRow>) -> Result<Option<AppRow>, InputError> {
    found.dedup_by(|a, b| a.object_id.eq_ignore_ascii_case(&b.object_id));
    match (r, found.len()) {
        (_, 0) => Ok(None),
        (AppRef::Name(n), 2..) => Err(InputError::new(
            "application",
            n,
            "a display name exactly one application has",
        )
        .with_hint(format!(
            "{} applications have it: {}; pass --app with the client id of the one to use",
            found.len(),
            found
                .iter()
                .map(AppRow::describe)
                .collect::<Vec<_>>()
                .join("; ")
        ))),
        _ => Ok(found.into_iter().next()),
    }
}

/// A federated credential on an application, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCredential {
    pub id: String,
    pub credential: Credential,
    pub description: Option<String>,
}

/// What this binding's credential is called when it was made by upstream's CLI.
fn provenance(c: &AppCredential, ns: &str, sa: &str) -> &'static str {
    let made_by_azwi = azwi::made_it(
        ns,
        sa,
        &c.credential.issuer,
        &c.credential.name,
        c.description.as_deref(),
    );
    if made_by_azwi {
        " (made by azwi serviceaccount create)"
    } else {
        ""
    }
}

/// The binding a credential step is for.
pub struct Binding<'a> {
    pub app: &'a str,
    pub namespace: &'a str,
    pub service_account: &'a str,
    pub want: &'a Wanted,
}

/// The credential step: an exact credential under any name is adopted (unchanged), this
/// binding's issuer and subject with another audience is put right, a name another binding uses
/// is refused, and a 21st credential is refused before Graph would refuse it.
pub fn credential_step(
    b: &Binding<'_>,
    existing: &[AppCredential],
    name: &str,
) -> Result<Step, CredentialRefusal> {
    let want = b.want;
    let target = format!("federated credential on application {}", b.app);
    let own = existing
        .iter()
        .find(|c| c.credential.issuer == want.issuer && c.credential.subject == want.subject);
    if let Some(c) = own {
        let from = provenance(c, b.namespace, b.service_account);
        let target = format!("{target}: {}", c.credential.name);
        if c.credential.audiences == [want.audience.clone()] {
            let adopted = if c.credential.name.eq_ignore_ascii_case(name) {
                String::new()
            } else {
                format!("adopted{from}: ")
            };
            return Ok(Step::noop(
                StepKind::FederatedCredential,
                Action::Unchanged,
                target,
                format!("{adopted}issuer, subject and audience already match"),
            ));
        }
        return Ok(Step {
            kind: StepKind::FederatedCredential,
            action: Action::Update,
            target,
            detail: format!(
                "audiences {:?} -> [\"{}\"]{from}",
                c.credential.audiences, want.audience
            ),
            body: Some(json!({"audiences": [want.audience]})),
            op: Some(Op::App(AppOp::UpdateCredential { id: c.id.clone() })),
        });
    }
    // Graph names are unique per application, whatever their case.
    if let Some(c) = existing
        .iter()
        .find(|c| c.credential.name.eq_ignore_ascii_case(name))
    {
        return Err(CredentialRefusal::NameTaken(c.credential.clone()));
    }
    if existing.len() >= keys::MAX_FEDERATED_CREDENTIALS {
        return Err(CredentialRefusal::Full(
            existing.iter().map(|c| c.credential.describe()).collect(),
        ));
    }
    Ok(Step {
        kind: StepKind::FederatedCredential,
        action: Action::Create,
        target: format!("{target}: {name}"),
        detail: format!("issuer {} subject {}", want.issuer, want.subject),
        body: Some(json!({
            "name": name,
            "issuer": want.issuer,
            "subject": want.subject,
            "audiences": [want.audience],
            "description": format!("kubectl-azwi binding for {}/{}", b.namespace, b.service_account),
        })),
        op: Some(Op::App(AppOp::CreateCredential)),
    })
}

/// Unbind's credential steps: every credential with exactly this issuer and subject goes.
pub fn credential_unbind_steps(app: &str, existing: &[AppCredential], want: &Wanted) -> Vec<Step> {
    plan::credential_delete_steps(
        &format!("application {app}"),
        existing,
        want,
        |c| &c.credential,
        |c| Op::App(AppOp::DeleteCredential { id: c.id.clone() }),
    )
}

/// `--delete-app`: the service principal and the application go, refused (naming each) while
/// another credential or a role assignment bind did not make still uses them.
pub fn delete_app_steps(
    app: &AppRow,
    service_principal: Option<&str>,
    others: &[&Credential],
    other_roles: &[String],
) -> Result<Vec<Step>, InputError> {
    let still: Vec<String> = others
        .iter()
        .map(|c| format!("federated credential {}", c.describe()))
        .chain(other_roles.iter().cloned())
        .collect();
    if !still.is_empty() {
        return Err(InputError::new(
            "--delete-app",
            &app.display_name,
            "an application nothing else uses",
        )
        .with_hint(format!(
            "application {} still serves: {}; deleting it breaks them: remove them first (unbind their service accounts, `az role assignment delete --ids ...`), or leave out --delete-app",
            app.describe(),
            still.join("; ")
        )));
    }
    let mut steps = Vec::new();
    if let Some(sp) = service_principal {
        steps.push(Step {
            kind: StepKind::ServicePrincipal,
            action: Action::Delete,
            target: format!("service principal {sp}"),
            detail: format!("of application {}", app.display_name),
            body: None,
            op: Some(Op::App(AppOp::DeleteServicePrincipal { id: sp.into() })),
        });
    }
    steps.push(Step {
        kind: StepKind::Application,
        action: Action::Delete,
        target: format!("application {}", app.display_name),
        detail: format!("client id {}, object id {}", app.app_id, app.object_id),
        body: None,
        op: Some(Op::App(AppOp::DeleteApplication {
            id: app.object_id.clone(),
        })),
    });
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://eastus2.oic.prod-aks.azure.com/t/u/";

    fn row(n: &str, app: &str, obj: &str) -> AppRow {
        AppRow {
            object_id: obj.into(),
            app_id: app.into(),
            display_name: n.into(),
        }
    }

    fn cred(id: &str, name: &str, iss: &str, sub: &str, aud: &str) -> AppCredential {
        AppCredential {
            id: id.into(),
            credential: Credential {
                name: name.into(),
                issuer: iss.into(),
                subject: sub.into(),
                audiences: vec![aud.into()],
            },
            description: None,
        }
    }

    fn want() -> Wanted {
        Wanted {
            issuer: ISS.into(),
            subject: "system:serviceaccount:ns:sa".into(),
            audience: keys::AUDIENCE.into(),
        }
    }

    fn step(existing: &[AppCredential], name: &str) -> Result<Step, CredentialRefusal> {
        let w = want();
        let b = Binding {
            app: "payments",
            namespace: "ns",
            service_account: "sa",
            want: &w,
        };
        credential_step(&b, existing, name)
    }

    #[test]
    fn app_refs() {
        let g = "11111111-2222-3333-4444-555555555555";
        assert_eq!(
            AppRef::parse(&g.to_uppercase()).unwrap(),
            AppRef::Guid(g.into())
        );
        assert_eq!(
            AppRef::parse("my app").unwrap(),
            AppRef::Name("my app".into())
        );
        assert!(AppRef::parse(" ").is_err());
        assert!(AppRef::parse(&"x".repeat(257)).is_err());
    }

    /// One display name, several applications: refused, each listed with its client id.
    #[test]
    fn an_ambiguous_display_name_is_refused_and_listed() {
        let r = AppRef::Name("payments".into());
        let a = row("payments", "a1", "o1");
        let b = row("payments", "a2", "o2");
        assert_eq!(pick(&r, vec![a.clone()]).unwrap(), Some(a.clone()));
        assert_eq!(pick(&r, vec![]).unwrap(), None);
        let e = pick(&r, vec![a.clone(), b]).unwrap_err();
        let hint = e.hint.unwrap();
        assert!(
            hint.contains("client id a1") && hint.contains("client id a2"),
            "{hint}"
        );
        // By GUID the same application found by client id and by object id is one.
        let g = AppRef::Guid("o1".into());
        assert_eq!(pick(&g, vec![a.clone(), a.clone()]).unwrap(), Some(a));
    }

    #[test]
    fn an_exact_credential_under_another_name_is_adopted() {
        let sub = "system:serviceaccount:ns:sa";
        let theirs = cred("f1", "theirs", ISS, sub, keys::AUDIENCE);
        let s = step(std::slice::from_ref(&theirs), "azwi-ns-sa-x").unwrap();
        assert_eq!(s.action, Action::Unchanged);
        assert!(s.target.ends_with(": theirs") && s.detail.starts_with("adopted"));
        // Made by azwi serviceaccount create: said so.
        let name = azwi::credential_name("ns", "sa", ISS);
        let made = cred("f2", &name, ISS, sub, keys::AUDIENCE);
        let s = step(&[made], "azwi-ns-sa-x").unwrap();
        assert!(
            s.detail
                .starts_with("adopted (made by azwi serviceaccount create)"),
            "{}",
            s.detail
        );
        // Its own name: plain unchanged.
        assert_eq!(
            step(&[theirs], "THEIRS").unwrap().detail,
            "issuer, subject and audience already match"
        );
    }

    #[test]
    fn another_audience_is_put_right_in_place() {
        let c = cred("f1", "c", ISS, "system:serviceaccount:ns:sa", "api://other");
        let s = step(&[c], "new").unwrap();
        assert_eq!(s.action, Action::Update);
        assert_eq!(
            s.op,
            Some(Op::App(AppOp::UpdateCredential { id: "f1".into() }))
        );
        assert_eq!(s.body.unwrap(), json!({"audiences": [keys::AUDIENCE]}));
    }

    #[test]
    fn create_name_taken_and_full() {
        let s = step(&[], "azwi-ns-sa-1").unwrap();
        assert_eq!(s.action, Action::Create);
        let body = s.body.unwrap();
        assert_eq!(body["name"], "azwi-ns-sa-1");
        assert_eq!(body["audiences"], json!([keys::AUDIENCE]));
        // A trailing-slash near miss is another issuer: created, not adopted.
        let near = cred(
            "f",
            "near",
            ISS.trim_end_matches('/'),
            "system:serviceaccount:ns:sa",
            keys::AUDIENCE,
        );
        assert_eq!(
            step(std::slice::from_ref(&near), "x").unwrap().action,
            Action::Create
        );
        assert_eq!(
            step(std::slice::from_ref(&near), "NEAR"),
            Err(CredentialRefusal::NameTaken(near.credential))
        );
        let full: Vec<AppCredential> = (0..20)
            .map(|i| {
                cred(
                    &i.to_string(),
                    &format!("c{i}"),
                    "https://o/",
                    &format!("s{i}"),
                    keys::AUDIENCE,
                )
            })
            .collect();
        let Err(CredentialRefusal::Full(listed)) = step(&full, "x") else {
            panic!("full")
        };
        assert_eq!(listed.len(), 20);
        // The 20 already include this binding's own: adopted even when full.
        let mut with_own = full[..19].to_vec();
        with_own.push(cred(
            "own",
            "own",
            ISS,
            "system:serviceaccount:ns:sa",
            keys::AUDIENCE,
        ));
        assert_eq!(step(&with_own, "x").unwrap().action, Action::Unchanged);
    }

    #[test]
    fn delete_app_is_refused_while_something_else_uses_it() {
        let app = row("payments", "a1", "o1");
        let other = cred("f", "ci", "https://gh/", "repo:o/r", keys::AUDIENCE).credential;
        let e = delete_app_steps(&app, Some("sp1"), &[&other], &[]).unwrap_err();
        assert!(
            e.hint
                .as_ref()
                .unwrap()
                .contains("ci (https://gh/, repo:o/r)")
        );
        let e =
            delete_app_steps(&app, Some("sp1"), &[], &["role assignment r1".into()]).unwrap_err();
        assert!(e.hint.unwrap().contains("role assignment r1"));
        let steps = delete_app_steps(&app, Some("sp1"), &[], &[]).unwrap();
        assert_eq!(
            steps.iter().map(|s| s.kind).collect::<Vec<_>>(),
            [StepKind::ServicePrincipal, StepKind::Application]
        );
        assert_eq!(
            steps[1].op,
            Some(Op::App(AppOp::DeleteApplication { id: "o1".into() }))
        );
    }

    #[test]
    fn unbind_deletes_exact_matches_by_id() {
        let sub = "system:serviceaccount:ns:sa";
        let existing = [
            cred("f1", "a", ISS, sub, keys::AUDIENCE),
            cred("f2", "b", "https://other/", sub, keys::AUDIENCE),
        ];
        let steps = credential_unbind_steps("payments", &existing, &want());
        assert_eq!(steps.len(), 1);
        assert_eq!(
            steps[0].op,
            Some(Op::App(AppOp::DeleteCredential { id: "f1".into() }))
        );
        assert_eq!(
            credential_unbind_steps("payments", &[], &want())[0].action,
            Action::Unchanged
        );
    }
}
