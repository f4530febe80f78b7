//! doctor on pods bound to an Entra application (app registration) instead of a managed
//! identity: a working binding passes every check and exchanges; each broken app setup is
//! named, its hint followed literally (through the real az CLI where it is an az command), and
//! doctor passes again.

use serde_json::{Value, json};

use kubectl_azwi::wi::keys;

use super::{Bench, check, detail, fails_on, manifest};
use crate::{az_cli, support::Ground};

/// A bench whose plugin reads the directory (Application.Read.All, as the README asks for
/// doctor) and subscription (Reader); the applications are arranged by a second principal
/// with Application.ReadWrite.All.
pub(crate) struct AppBench {
    pub b: Bench,
    pub admin: (String, String),
    pub reader: (String, String),
}

pub(crate) struct App {
    pub object_id: String,
    pub app_id: String,
}

impl AppBench {
    pub async fn new(prefix: &str) -> AppBench {
        let b = Bench::new(prefix, &[]).await;
        let admin = b
            .sub
            .graph_principal("Reader", &["Application.ReadWrite.All"])
            .await;
        let reader = b
            .sub
            .graph_principal("Reader", &["Application.Read.All"])
            .await;
        AppBench { b, admin, reader }
    }

    pub async fn graph(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (st, v) = self.b.sub.graph(&self.admin, method, path, body).await;
        assert!(st < 300, "{method} {path}: {st} {v}");
        v
    }

    /// An application, optionally with its service principal.
    pub async fn app(&self, name: &str, with_sp: bool) -> App {
        let a = self
            .graph(
                "POST",
                "/v1.0/applications",
                Some(json!({"displayName": name})),
            )
            .await;
        let app = App {
            object_id: a["id"].as_str().unwrap().into(),
            app_id: a["appId"].as_str().unwrap().into(),
        };
        if with_sp {
            self.sp(&app).await;
        }
        app
    }

    pub async fn sp(&self, app: &App) -> String {
        let sp = self
            .graph(
                "POST",
                "/v1.0/servicePrincipals",
                Some(json!({"appId": app.app_id})),
            )
            .await;
        sp["id"].as_str().unwrap().into()
    }

    /// The credential for service account `wi` of the bench's namespace on the ground issuer.
    async fn credential(&self, app: &App) {
        let body = json!({"name": format!("{}-wi", self.b.ns), "issuer": Ground::get().issuer(),
            "subject": self.b.subject("wi"), "audiences": [keys::AUDIENCE]});
        self.graph(
            "POST",
            &format!(
                "/v1.0/applications/{}/federatedIdentityCredentials",
                app.object_id
            ),
            Some(body),
        )
        .await;
    }

    /// SA `wi` annotated with `client_id`, and a labelled pod `app` running as it.
    async fn bind(&self, client_id: &str) {
        self.b
            .sa("wi", &[(keys::CLIENT_ID_ANNOTATION, client_id)])
            .await;
        self.b.create_pod(&pod()).await;
    }

    pub fn doctor(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["doctor"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-n", &self.b.ns, "-o", "json"]);
        let env = self.b.sub.env_as(&self.reader.0, &self.reader.1);
        let (code, out, err) = crate::support::azure::run_plugin(&all, &env);
        let report: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("doctor -o json: {e}\nstdout: {out}\nstderr: {err}"));
        (code, report)
    }

    /// doctor --exchange passes every check (one run, the binding as it is now).
    pub fn passes(&self) -> Value {
        self.passes_on("pod/app")
    }

    /// doctor TARGET --exchange passes every check.
    pub fn passes_on(&self, target: &str) -> Value {
        let (code, r) = self.doctor(&[target, "--exchange"]);
        let not_ok: Vec<&Value> = r["categories"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["checks"].as_array().unwrap())
            .filter(|c| c["status"] != "pass" && c["status"] != "skip")
            .collect();
        assert!(not_ok.is_empty(), "{not_ok:#?}");
        assert_eq!(code, 0, "{r:#}");
        r
    }

    /// Service account `wi` bound exactly as `azwi serviceaccount create` binds it (its
    /// application name, service principal tag, credential name and description, and the
    /// client-id and tenant-id annotations it writes; identity-bindings §9), no pod yet.
    pub async fn made_by_azwi(&self) -> App {
        use kubectl_azwi::wi::azwi;
        let a = self;
        let iss = Ground::get().issuer();
        let ns = a.b.ns.clone();
        let created = a
            .graph(
                "POST",
                "/v1.0/applications",
                Some(json!({"displayName": azwi::application_name(&ns, "wi", iss)})),
            )
            .await;
        let app = App {
            object_id: created["id"].as_str().unwrap().into(),
            app_id: created["appId"].as_str().unwrap().into(),
        };
        a.graph(
            "POST",
            "/v1.0/servicePrincipals",
            Some(json!({"appId": app.app_id, "tags": ["azwi version: v1.6.0, commit: unknown"]})),
        )
        .await;
        let fic = json!({"name": azwi::credential_name(&ns, "wi", iss), "issuer": iss,
        "subject": a.b.subject("wi"), "description": azwi::description(&ns, "wi"),
        "audiences": [keys::AUDIENCE]});
        a.graph(
            "POST",
            &format!(
                "/v1.0/applications/{}/federatedIdentityCredentials",
                app.object_id
            ),
            Some(fic),
        )
        .await;
        a.b.sa(
            "wi",
            &[
                (keys::CLIENT_ID_ANNOTATION, &app.app_id),
                (keys::TENANT_ID_ANNOTATION, &a.b.sub.tenant),
            ],
        )
        .await;
        app
    }

    fn az(&self, tag: &str) -> az_cli::Az {
        az_cli::logged_in(tag, &self.b.sub.tenant, &self.admin.0, &self.admin.1)
    }
}

pub(crate) fn pod() -> Value {
    manifest("app", "wi", "busybox", json!({}))
}

/// The "done when": a working application binding passes doctor, the exchange included
/// (before, a client id that is no managed identity was at best a warning).
#[tokio::test]
async fn an_application_binding_passes_every_check() {
    let a = AppBench::new("doc-app-ok").await;
    let app = a.app("payments", true).await;
    a.credential(&app).await;
    a.bind(&app.app_id).await;
    let r = a.passes();
    for id in [
        "azure-identity",
        "azure-credential",
        "azure-credential-count",
        "token-exchange",
    ] {
        assert_eq!(check(&r, id)["status"], "pass", "{id}: {r:#}");
    }
    assert!(
        detail(&r, "azure-identity").contains("application payments"),
        "{r:#}"
    );
}

/// No service principal: Entra answers AADSTS700016; `az ad sp create --id APPID` fixes it.
#[tokio::test]
async fn service_principal_missing() {
    let a = AppBench::new("doc-app-nosp").await;
    let app = a.app("payments", false).await;
    a.credential(&app).await;
    a.bind(&app.app_id).await;
    let (code, r) = a.doctor(&["pod/app", "--exchange"]);
    let fix = format!("az ad sp create --id {}", app.app_id);
    fails_on(code, &r, "azure-identity", &fix);
    assert!(
        detail(&r, "token-exchange").contains("AADSTS700016"),
        "{r:#}"
    );
    a.az("nosp").follow(&fix);
    a.passes();
}

/// A disabled service principal: AADSTS7000112; re-enabling it as the hint says fixes it.
#[tokio::test]
async fn service_principal_disabled() {
    let a = AppBench::new("doc-app-off").await;
    let app = a.app("payments", false).await;
    let sp = a.sp(&app).await;
    a.credential(&app).await;
    a.graph(
        "PATCH",
        &format!("/v1.0/servicePrincipals/{sp}"),
        Some(json!({"accountEnabled": false})),
    )
    .await;
    a.bind(&app.app_id).await;
    let (code, r) = a.doctor(&["pod/app", "--exchange"]);
    let fix = format!("az ad sp update --id {sp} --set accountEnabled=true");
    fails_on(code, &r, "azure-identity", &fix);
    assert!(
        detail(&r, "token-exchange").contains("AADSTS7000112"),
        "{r:#}"
    );
    a.az("spoff").follow(&fix);
    a.passes();
}

/// The credential was made on another application than the one the service account names:
/// doctor names that application, and the credential created where the SA points fixes it.
#[tokio::test]
async fn credential_on_another_application() {
    let a = AppBench::new("doc-app-other").await;
    let app = a.app("payments", true).await;
    let other = a.app("payments-old", true).await;
    a.credential(&other).await;
    a.bind(&app.app_id).await;
    let (code, r) = a.doctor(&["pod/app"]);
    fails_on(
        code,
        &r,
        "azure-credential",
        "az ad app federated-credential create --id",
    );
    let d = detail(&r, "azure-credential");
    assert!(
        d.contains(&format!("on application payments-old ({})", other.app_id)),
        "{d}"
    );
    let hint = check(&r, "azure-credential")["hint"]
        .as_str()
        .unwrap()
        .to_string();
    let fix = &hint[hint.find("az ad app").unwrap()..];
    a.az("other").follow(fix);
    a.passes();
}

/// The service principal's object id where the client id belongs (AADSTS700016): doctor names
/// the application's client id; annotating it and recreating the pod fixes it.
#[tokio::test]
async fn client_id_is_the_service_principals_object_id() {
    let a = AppBench::new("doc-app-spid").await;
    let app = a.app("payments", false).await;
    let sp = a.sp(&app).await;
    a.credential(&app).await;
    a.bind(&sp).await;
    let (code, r) = a.doctor(&["pod/app"]);
    let annotate = format!(
        "kubectl annotate sa wi -n {} {}={} --overwrite",
        a.b.ns,
        keys::CLIENT_ID_ANNOTATION,
        app.app_id
    );
    fails_on(code, &r, "azure-identity", &annotate);
    a.b.follow(&annotate);
    a.b.recreate_pod(&pod()).await;
    a.passes();
}

/// The "done when": a binding made the way `azwi serviceaccount create` makes it (its
/// application name, service principal tag, credential name and description, and the
/// service account it writes: client-id and tenant-id annotations; identity-bindings §9) is
/// shown by inspect as an application binding made by azwi, and passes doctor.
#[tokio::test]
async fn a_binding_made_by_azwi_is_inspected_and_passes() {
    use kubectl_azwi::wi::azwi;
    let a = AppBench::new("doc-app-azwi").await;
    let iss = Ground::get().issuer();
    let ns = a.b.ns.clone();
    let app = a.made_by_azwi().await;
    a.b.create_pod(&pod()).await;

    let env = a.b.sub.env_as(&a.reader.0, &a.reader.1);
    let (code, out, err) =
        crate::support::azure::run_plugin(&["inspect", "-n", &ns, "-o", "json"], &env);
    assert_eq!(code, 0, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let row = &report["items"][0];
    assert_eq!(row["serviceAccount"], "wi", "{report:#}");
    assert_eq!(row["identity"]["kind"], "application", "{row:#}");
    assert_eq!(
        row["identity"]["name"],
        azwi::application_name(&ns, "wi", iss)
    );
    assert_eq!(row["credential"]["status"], "exact", "{row:#}");
    assert_eq!(
        row["credential"]["name"],
        azwi::credential_name(&ns, "wi", iss)
    );
    assert_eq!(row["madeBy"], "azwi serviceaccount create");
    assert!(row.to_string().contains(&app.app_id), "{row:#}");
    assert_eq!(row["problems"], json!([]), "{row:#}");
    a.passes();
}
