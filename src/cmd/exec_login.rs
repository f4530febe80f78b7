//! `kubectl azwi exec-login pod/NAME`: prove the pod can get an Azure token. With `az` in the
//! container, `az login` runs in the pod itself (variables expanded there); otherwise the
//! plugin reads the token through exec and exchanges it against the pod's own authority.
//! The result is who the pod is to Azure, from the access token's claims; never the token
//! unless `--show-token`.

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    Error,
    azure::{AzureError, entra},
    cli::ExecLoginArgs,
    ctx::Ctx,
    doctor::gather,
    error::InputError,
    wi::{
        aadsts,
        claims::Jwt,
        keys,
        target::{Kind, Target},
    },
};

pub enum ExecLogin {
    Login(Box<LoginReport>),
    /// `--emit-init-container`: YAML to apply, not a login.
    InitContainer(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Via {
    /// `az login` ran inside the container.
    AzInPod,
    /// The plugin exchanged the pod's token.
    Plugin,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginReport {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub via: Via,
    pub authority: Option<String>,
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<Who>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// Only with --show-token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

/// Who the pod is to Azure, from the access token's claims.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Who {
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub object_id: Option<String>,
    pub audience: Vec<String>,
    pub expires: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub code: Option<String>,
    pub message: String,
    pub meaning: Option<String>,
    pub fix: Option<String>,
}

impl LoginReport {
    /// The error `main` prints (exit 1) when the login failed: code, meaning, fix.
    pub fn error(&self) -> Option<Error> {
        let f = self.failure.as_ref()?;
        Some(
            AzureError::Arm {
                operation: format!("logging in as pod {}/{}", self.namespace, self.pod),
                resource: self.authority.clone().unwrap_or_default(),
                status: 400,
                code: f.code.clone().unwrap_or_else(|| "LoginFailed".into()),
                message: match (&f.meaning, &f.fix) {
                    (Some(m), Some(fix)) => format!("{m}; fix: {fix}"),
                    _ => f.message.clone(),
                },
            }
            .into(),
        )
    }
}

pub fn who(access_token: &str) -> Option<Who> {
    let c = Jwt::decode(access_token).ok()?.claims;
    let s = |k: &str| c.other.get(k).and_then(Value::as_str).map(str::to_string);
    Some(Who {
        tenant: s("tid"),
        client_id: s("appid").or_else(|| s("azp")),
        object_id: s("oid"),
        audience: c.aud.clone(),
        expires: c.exp,
    })
}

pub fn failure(text: &str) -> Failure {
    let code = aadsts::code_in(text);
    let explained = code.and_then(aadsts::explain);
    // The line naming the code is az's (and Entra's) own sentence.
    let message = text
        .lines()
        .find(|l| l.contains("AADSTS"))
        .or_else(|| text.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or_default()
        .trim()
        .trim_start_matches("ERROR: ")
        .to_string();
    Failure {
        code: code.map(|c| format!("AADSTS{c}")),
        message,
        meaning: explained.map(|(m, _)| m.to_string()),
        fix: explained.map(|(_, f)| f.to_string()),
    }
}

/// `az login` with the federated token, then the token for the scope; all expanded in the pod.
const AZ_SCRIPT: &str = r#"az login --service-principal -u "$AZURE_CLIENT_ID" -t "$AZURE_TENANT_ID" --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --allow-no-subscriptions -o json >/dev/null && echo '--azwi--' && az account get-access-token --scope "$1" -o json"#;

async fn find_pod(ctx: &Ctx, target: &Target) -> Result<Pod, Error> {
    let k = &ctx.kube;
    let ns = &k.namespace;
    let not_found = || -> Error {
        InputError::new(
            "pod",
            &target.to_string(),
            format!("a pod in namespace {ns}"),
        )
        .with_hint(format!("kubectl get pods -n {ns}"))
        .into()
    };
    match target.kind {
        Kind::Pod => k.pod(ns, &target.name).await?.ok_or_else(not_found),
        Kind::ServiceAccount => Err(InputError::new(
            "target",
            &target.to_string(),
            "pod/NAME or a workload (deploy/NAME ...)",
        )
        .into()),
        kind => {
            let obj = k
                .workload(ns, kind, &target.name)
                .await?
                .ok_or_else(not_found)?;
            let sel = obj
                .data
                .pointer("/spec/selector/matchLabels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .ok_or_else(not_found)?;
            k.pods(ns, Some(&sel))
                .await?
                .into_iter()
                .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
                .max_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0))
                .ok_or_else(not_found)
        }
    }
}

pub async fn run(ctx: &Ctx, args: &ExecLoginArgs) -> Result<ExecLogin, Error> {
    if let Some(w) = &args.emit_init_container {
        let t = Target::parse_workload(w)?;
        return Ok(ExecLogin::InitContainer(init_container(ctx, &t).await?));
    }
    let target = Target::parse(&args.target)?;
    let pod = find_pod(ctx, &target).await?;
    let k = &ctx.kube;
    let ns = k.namespace.clone();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let container = gather::pick_container(&pod, args.container.as_deref()).ok_or_else(|| {
        InputError::new("container", "", "a container of the pod").with_hint("pass -c NAME")
    })?;

    let (probe, read) = tokio::join!(
        k.exec(&ns, &name, &container, &["sh", "-c", "command -v az"]),
        k.exec(&ns, &name, &container, &["sh", "-c", gather::READ_SCRIPT]),
    );
    let read = read?;
    let read = gather::parse_read(&read.stdout, &read.stderr);
    let has_az = probe
        .as_ref()
        .is_ok_and(|p| p.success() && !p.stdout.trim().is_empty());
    let authority = read.env.get(keys::ENV_AUTHORITY_HOST).cloned();
    let mut report = LoginReport {
        namespace: ns.clone(),
        pod: name.clone(),
        container: container.clone(),
        via: if has_az { Via::AzInPod } else { Via::Plugin },
        authority: authority.clone(),
        success: false,
        who: None,
        failure: None,
        access_token: None,
    };
    if !read.env.contains_key(keys::ENV_TOKEN_FILE) {
        report.failure = Some(Failure {
            code: None,
            message: format!("container {container} has no {}", keys::ENV_TOKEN_FILE),
            meaning: Some("the webhook did not mutate this container".into()),
            fix: Some(format!(
                "run `kubectl azwi doctor pod/{name} -n {ns}` to find the broken link"
            )),
        });
        return Ok(ExecLogin::Login(Box::new(report)));
    }

    let token = if has_az {
        let out = k
            .exec(
                &ns,
                &name,
                &container,
                &["sh", "-c", AZ_SCRIPT, "sh", &args.scope],
            )
            .await?;
        let json = out.stdout.split_once("--azwi--").map(|(_, j)| j.trim());
        match (out.success(), json) {
            (true, Some(j)) => serde_json::from_str::<Value>(j)
                .ok()
                .and_then(|v| v["accessToken"].as_str().map(str::to_string))
                .ok_or_else(|| {
                    failure(&format!(
                        "az account get-access-token printed no accessToken: {}",
                        out.stderr
                    ))
                }),
            _ => Err(failure(&format!("{}\n{}", out.stderr, out.stdout))),
        }
    } else {
        match &read.token {
            Err(why) => Err(failure(&format!("cannot read the token file: {why}"))),
            Ok(t) => {
                let env = |k: &str| read.env.get(k).cloned().unwrap_or_default();
                let http = entra::http().map_err(|e| AzureError::Transport {
                    operation: "building the HTTP client".into(),
                    resource: e,
                    source: Box::new(azure_core::Error::new(
                        azure_core::error::ErrorKind::Other,
                        "tls",
                    )),
                })?;
                let authority = authority
                    .clone()
                    .unwrap_or_else(|| ctx.cloud.authority.clone());
                entra::exchange(
                    &http,
                    &authority,
                    &env(keys::ENV_TENANT_ID),
                    &env(keys::ENV_CLIENT_ID),
                    t,
                    &args.scope,
                )
                .await
                .map(|at| at.expose().to_string())
                .map_err(|e| failure(&e.to_string()))
            }
        }
    };
    match token {
        Ok(t) => {
            report.success = true;
            report.who = who(&t);
            if args.show_token {
                report.access_token = Some(t);
            }
        }
        Err(f) => report.failure = Some(f),
    }
    Ok(ExecLogin::Login(Box::new(report)))
}

/// The init-container pattern for a workload: an `azure-cli` init container logs in with the
/// federated token into a shared config dir (emptyDir) that the app containers' az reads.
async fn init_container(ctx: &Ctx, t: &Target) -> Result<String, Error> {
    let ns = &ctx.kube.namespace;
    let obj = ctx
        .kube
        .workload(ns, t.kind, &t.name)
        .await?
        .ok_or_else(|| {
            InputError::new(
                "workload",
                &t.to_string(),
                format!("a {} in namespace {ns}", t.kind.short()),
            )
        })?;
    let ptr = if t.kind == Kind::CronJob {
        "/spec/jobTemplate/spec/template/spec"
    } else {
        "/spec/template/spec"
    };
    let spec = obj.data.pointer(ptr).cloned().unwrap_or(Value::Null);
    let sa = spec["serviceAccountName"]
        .as_str()
        .unwrap_or("default")
        .to_string();
    let containers: Vec<String> = spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect();
    Ok(init_container_yaml(t, ns, &sa, &containers))
}

pub fn init_container_yaml(t: &Target, ns: &str, sa: &str, containers: &[String]) -> String {
    let config = json!({"name": "AZURE_CONFIG_DIR", "value": "/var/run/azure-cli"});
    let mount = json!({"name": "azure-cli-config", "mountPath": "/var/run/azure-cli"});
    let pod_spec = json!({
        "serviceAccountName": sa,
        "initContainers": [{
            "name": "azure-login",
            "image": "mcr.microsoft.com/azure-cli:latest",
            "command": ["sh", "-c", AZ_LOGIN_ONLY],
            "env": [config],
            "volumeMounts": [mount],
        }],
        "containers": containers.iter().map(|c| json!({"name": c, "env": [config], "volumeMounts": [mount]})).collect::<Vec<_>>(),
        "volumes": [{"name": "azure-cli-config", "emptyDir": {"medium": "Memory"}}],
    });
    let template = json!({"metadata": {"labels": {keys::USE_LABEL: "true"}}, "spec": pod_spec});
    let patch = if t.kind == Kind::CronJob {
        json!({"spec": {"jobTemplate": {"spec": {"template": template}}}})
    } else {
        json!({"spec": {"template": template}})
    };
    let body = serde_yaml::to_string(&patch).unwrap_or_default();
    format!(
        "# Init-container login for {t} in namespace {ns}: azure-login runs `az login` with the\n\
         # federated token and leaves the login in a shared in-memory emptyDir (AZURE_CONFIG_DIR)\n\
         # that az in the app containers reads. az re-reads the token file when it refreshes.\n\
         # Apply with: kubectl patch {t} -n {ns} --patch-file init-login.yaml\n{body}"
    )
}

const AZ_LOGIN_ONLY: &str = r#"az login --service-principal -u "$AZURE_CLIENT_ID" -t "$AZURE_TENANT_ID" --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --allow-no-subscriptions"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wi::claims::encode_unsigned;

    #[test]
    fn who_comes_from_the_claims() {
        let t = encode_unsigned(
            &json!({"alg": "RS256"}),
            &json!({"tid": "t", "appid": "c", "oid": "o", "aud": "https://management.azure.com/", "exp": 5}),
        );
        let w = who(&t).unwrap();
        assert_eq!(
            (
                w.tenant.as_deref(),
                w.client_id.as_deref(),
                w.object_id.as_deref(),
                w.expires
            ),
            (Some("t"), Some("c"), Some("o"), Some(5))
        );
    }

    #[test]
    fn az_errors_are_decoded() {
        let f = failure(
            "ERROR: AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:ns:x'.\nTrace ID: 1",
        );
        assert_eq!(f.code.as_deref(), Some("AADSTS700213"));
        assert!(f.message.starts_with("AADSTS700213: No matching"));
        assert!(f.fix.unwrap().contains("serviceAccountName"));
        let f = failure("sh: az: not found");
        assert_eq!(f.code, None);
    }

    #[test]
    fn init_container_yaml_shares_the_login() {
        let y = init_container_yaml(
            &Target::parse("deploy/web").unwrap(),
            "ns",
            "wi",
            &["app".into()],
        );
        let v: Value = serde_yaml::from_str(&y).unwrap();
        let spec = &v["spec"]["template"]["spec"];
        assert_eq!(spec["serviceAccountName"], "wi");
        assert_eq!(
            v["spec"]["template"]["metadata"]["labels"][keys::USE_LABEL],
            "true"
        );
        assert!(
            spec["initContainers"][0]["command"][2]
                .as_str()
                .unwrap()
                .contains("--federated-token")
        );
        assert_eq!(
            spec["containers"][0]["volumeMounts"][0]["name"],
            "azure-cli-config"
        );
        assert!(spec["volumes"][0]["emptyDir"].is_object());
    }
}
