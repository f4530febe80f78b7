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
        keys, mutation,
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
    /// What the login did differently from the plan, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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
    // The identity-binding token sent straight to Entra: the SDK lacks the proxy opt-in.
    let no_proxy = code.and_then(|c| crate::wi::identity_binding::sdk_without_proxy(c, text, None));
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
        fix: no_proxy.or_else(|| explained.map(|(_, f)| f.to_string())),
    }
}

/// `az login` with the federated token, then the token for the scope; all expanded in the
/// pod, in a fresh AZURE_CONFIG_DIR removed on exit (az would otherwise write the app's own
/// `~/.azure`). When no directory can be made (a read-only filesystem), it says so after
/// `NO_CONFIG_DIR` and does nothing else.
const AZ_SCRIPT: &str = r#"d=$(mktemp -d 2>&1) || { echo '--azwi-no-config-dir--'; echo "$d"; exit 1; }; trap 'rm -rf "$d"' EXIT; export AZURE_CONFIG_DIR="$d"; az login --service-principal -u "$AZURE_CLIENT_ID" -t "$AZURE_TENANT_ID" --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --allow-no-subscriptions -o none && echo '--azwi--' && az account get-access-token --scope "$1" -o json"#;

const NO_CONFIG_DIR: &str = "--azwi-no-config-dir--";

/// What running az in the pod gave: a token, az's failure, or why az could not run at all.
enum AzOutcome {
    Token(Result<String, Failure>),
    NoConfigDir(String),
}

fn az_outcome(out: &crate::k8s::exec::ExecOutput) -> AzOutcome {
    if let Some((_, why)) = out.stdout.split_once(NO_CONFIG_DIR) {
        return AzOutcome::NoConfigDir(why.trim().to_string());
    }
    let json = out.stdout.split_once("--azwi--").map(|(_, j)| j.trim());
    AzOutcome::Token(match json {
        Some(j) if !j.is_empty() => serde_json::from_str::<Value>(j)
            .ok()
            .and_then(|v| v["accessToken"].as_str().map(str::to_string))
            .ok_or_else(|| {
                failure(&format!(
                    "az account get-access-token printed no accessToken: {}",
                    out.stderr
                ))
            }),
        _ => Err(failure(&format!("{}\n{}", out.stderr, out.stdout))),
    })
}

async fn find_pod(ctx: &Ctx, target: &Target) -> Result<Pod, Error> {
    let k = &ctx.kube;
    let ns = &k.namespace;
    let not_found = || -> Error { crate::k8s::objects::target_not_found(target, ns).into() };
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
                .ok_or_else(|| {
                    InputError::new(
                        "target",
                        &target.to_string(),
                        "a workload with a running pod",
                    )
                    .with_hint(format!("kubectl get pods -n {ns} -l {sel}"))
                    .into()
                })
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
    let container = mutation::pick_container(&pod, None, args.container.as_deref())?;
    // The token for the cloud the plugin is pointed at, unless asked for another.
    let scope = args
        .scope
        .clone()
        .unwrap_or_else(|| ctx.cloud.arm_scope.clone());

    let (probe, read) = tokio::join!(
        k.exec(&ns, &name, &container, &["sh", "-c", "command -v az"]),
        k.exec(&ns, &name, &container, &["sh", "-c", gather::READ_SCRIPT]),
    );
    let read = read?;
    let mut report = LoginReport {
        namespace: ns.clone(),
        pod: name.clone(),
        container: container.clone(),
        via: Via::Plugin,
        authority: None,
        success: false,
        notes: vec![],
        who: None,
        failure: None,
        access_token: None,
    };
    if let Some(sentence) = read.missing_executable() {
        report.failure = Some(Failure {
            code: None,
            message: format!("container {container} has no shell ({sentence})"),
            meaning: Some(
                "exec-login reads the token and runs az inside the container, which needs a shell"
                    .into(),
            ),
            fix: Some(format!(
                "kubectl azwi doctor pod/{name} -n {ns} --exchange proves the same token path with a token minted as the kubelet mints it"
            )),
        });
        return Ok(ExecLogin::Login(Box::new(report)));
    }
    let read = gather::parse_read(&read.stdout, &read.stderr);
    let has_az = probe
        .as_ref()
        .is_ok_and(|p| p.success() && !p.stdout.trim().is_empty());
    let authority = read.env.get(keys::ENV_AUTHORITY_HOST).cloned();
    report.authority = authority.clone();
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

    let mut token = None;
    if has_az {
        token = az_in_pod(ctx, &mut report, &scope).await?;
    }
    let token = match token {
        Some(t) => t,
        None => plugin_exchange(ctx, &read, authority.as_deref(), &scope).await?,
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

/// `az login` in the container, in a throwaway config dir; None when that dir cannot be made
/// (the report then says why, and the plugin exchanges instead).
async fn az_in_pod(
    ctx: &Ctx,
    report: &mut LoginReport,
    scope: &str,
) -> Result<Option<Result<String, Failure>>, Error> {
    let (ns, name, container) = (&report.namespace, &report.pod, &report.container);
    let out = ctx
        .kube
        .exec(ns, name, container, &["sh", "-c", AZ_SCRIPT, "sh", scope])
        .await?;
    Ok(match az_outcome(&out) {
        AzOutcome::Token(t) => {
            report.via = Via::AzInPod;
            Some(t)
        }
        AzOutcome::NoConfigDir(why) => {
            report.notes.push(format!(
                "az in container {container} was not used: it needs a throwaway AZURE_CONFIG_DIR (the app's own login is never touched) and `mktemp -d` failed: {why}; a read-only root filesystem needs a writable emptyDir at /tmp (or TMPDIR) for that. The plugin exchanged the token instead."
            ));
            None
        }
    })
}

/// The pod's token, read through exec, exchanged by the plugin at the pod's own authority.
async fn plugin_exchange(
    ctx: &Ctx,
    read: &gather::ContainerRead,
    authority: Option<&str>,
    scope: &str,
) -> Result<Result<String, Failure>, Error> {
    let t = match &read.token {
        Err(why) => return Ok(Err(failure(&format!("cannot read the token file: {why}")))),
        Ok(t) => t,
    };
    let env = |k: &str| read.env.get(k).cloned().unwrap_or_default();
    let http = entra::http().map_err(|e| AzureError::Transport {
        operation: "building the HTTP client".into(),
        resource: e,
        source: Box::new(azure_core::Error::new(
            azure_core::error::ErrorKind::Other,
            "tls",
        )),
    })?;
    let authority = authority.map_or_else(|| ctx.cloud.authority.clone(), str::to_string);
    Ok(entra::exchange(
        &http,
        &authority,
        &env(keys::ENV_TENANT_ID),
        &env(keys::ENV_CLIENT_ID),
        t,
        scope,
    )
    .await
    .map(|at| at.expose().to_string())
    .map_err(|e| failure(&e.to_string())))
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
