//! Reading the app container: its AZURE_* variables and the token they point at, in one exec.
//! A container without a shell (a distroless image) cannot be read that way; its variables
//! then come from its spec (`valueFrom` resolved through the API) and the token is minted
//! through TokenRequest exactly as the kubelet mints the projected one, so every token check
//! still runs, on an equivalent token, and says so.

use std::{collections::BTreeMap, sync::atomic::Ordering};

use futures::future::join_all;
use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;

use super::{Counters, discover, gap, running, service_account_of};
use crate::{
    azure::entra,
    ctx::Ctx,
    doctor::model::{AppEnv, Exchange, Fact, Gap, TokenFacts, TokenSource},
    k8s::{exec::ExecOutput, objects::PodTokenRequest},
    wi::{
        claims::Jwt,
        identity_binding::{ENV_CA_DATA, ENV_CA_FILE},
        jwks::{self, Jwks},
        keys,
        mutation::{self, ValueRef},
        token_proxy,
    },
};

/// One shell in the container prints the injected variables, a separator, then the token
/// file those variables name (the path is never assumed), then the CA an identity-binding
/// pod's SDK pins (its CA file, else its CA data). CA data is PEM over several lines, so the
/// variable line only says it is set; its PEM is in the CA section.
pub const READ_SCRIPT: &str = r#"for v in AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_AUTHORITY_HOST AZURE_FEDERATED_TOKEN_FILE AZURE_KUBERNETES_TOKEN_PROXY AZURE_KUBERNETES_SNI_NAME AZURE_KUBERNETES_CA_FILE; do eval "x=\${$v-}"; printf '%s=%s\n' "$v" "$x"; done; if [ -n "${AZURE_KUBERNETES_CA_DATA-}" ]; then echo 'AZURE_KUBERNETES_CA_DATA=(PEM data)'; fi; echo '--azwi--'; if [ -n "${AZURE_FEDERATED_TOKEN_FILE-}" ]; then cat -- "$AZURE_FEDERATED_TOKEN_FILE"; fi; echo; echo '--azwi-ca--'; if [ -n "${AZURE_KUBERNETES_CA_FILE-}" ]; then cat -- "$AZURE_KUBERNETES_CA_FILE" 2>&1; elif [ -n "${AZURE_KUBERNETES_CA_DATA-}" ]; then printf '%s\n' "$AZURE_KUBERNETES_CA_DATA"; fi"#;

/// The container's view: the AZURE_* variables, the token file's content (or why not) and,
/// when the variables name one, the proxy's CA (or why not).
pub struct ContainerRead {
    pub env: BTreeMap<String, String>,
    pub token: Result<String, String>,
    pub ca: Option<Result<String, String>>,
}

/// The line READ_SCRIPT prints between the variables and the token.
const SEPARATOR: &str = "--azwi--\n";
/// The line it prints between the token and the CA.
const CA_SEPARATOR: &str = "--azwi-ca--\n";

/// The CA section: a PEM, or the shell's words when the file could not be read.
fn parse_ca(env: &BTreeMap<String, String>, section: &str) -> Option<Result<String, String>> {
    let named = [ENV_CA_FILE, ENV_CA_DATA]
        .into_iter()
        .any(|k| env.contains_key(k));
    if !named {
        return None;
    }
    let text = section.trim();
    Some(if text.contains("-----BEGIN CERTIFICATE-----") {
        Ok(format!("{text}\n"))
    } else if text.is_empty() {
        Err("the CA file is empty".into())
    } else {
        Err(text.to_string())
    })
}

pub fn parse_read(stdout: &str, stderr: &str) -> ContainerRead {
    let (head, rest) = stdout.split_once(SEPARATOR).unwrap_or((stdout, ""));
    let (body, ca) = rest.split_once(CA_SEPARATOR).unwrap_or((rest, ""));
    let env: BTreeMap<String, String> = head
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let token = if body.trim().is_empty() {
        Err(if stderr.trim().is_empty() {
            "the file is empty".to_string()
        } else {
            stderr.trim().to_string()
        })
    } else {
        Ok(body.trim().to_string())
    };
    let ca = parse_ca(&env, ca);
    ContainerRead { env, token, ca }
}

/// Why the read script never ran, when it did not: the exec was accepted but the runtime (or
/// kwok, or a kubelet without the container) answered with a failure and no output. Its
/// variables are then unknown, not absent: reading empty output as "no AZURE_* variables"
/// would send the user to fix a pod spec that is fine.
pub fn script_did_not_run(out: &ExecOutput) -> Option<String> {
    if out.stdout.contains(SEPARATOR) || out.missing_executable().is_some() {
        return None;
    }
    let said = [
        out.message.as_deref().unwrap_or_default(),
        out.stderr.trim(),
    ]
    .into_iter()
    .filter(|t| !t.is_empty())
    .collect::<Vec<_>>()
    .join("; ");
    Some(if said.is_empty() {
        "the exec ended without output or status".to_string()
    } else {
        said
    })
}

/// Where the token's signature is checked: the cluster's JWKS, fetched in wave 2.
pub struct Keys<'a> {
    pub cluster_issuer: Option<&'a str>,
    pub jwks: Option<&'a Jwks>,
    pub http: Option<&'a reqwest::Client>,
}

/// What `--exchange` sends, as the pod's SDK would: its variables, its token and, on the
/// identity-binding path, the CA it pins. Held only until that call; never kept in `Facts`.
pub struct ExchangeInput {
    pub env: BTreeMap<String, String>,
    pub token: String,
    pub ca: Option<Result<String, String>>,
}

/// What reading the app container found.
pub struct Read {
    pub app: Fact<AppEnv>,
    pub refs: BTreeMap<ValueRef, Fact<String>>,
    pub token: Fact<TokenFacts>,
    pub exchange: Option<ExchangeInput>,
}

/// The ConfigMap and Secret keys the served containers' AZURE_* variables come from.
fn wanted_refs(pod: &Pod) -> Vec<ValueRef> {
    let mut refs: Vec<ValueRef> = mutation::observe(pod)
        .served()
        .flat_map(|c| c.refs.iter().map(|(_, r)| r.clone()))
        .filter(|r| !matches!(r, ValueRef::Field { .. }))
        .collect();
    refs.sort();
    refs.dedup();
    refs
}

async fn resolve_refs(ctx: &Ctx, pod: &Pod, n: &Counters) -> BTreeMap<ValueRef, Fact<String>> {
    let k = &ctx.kube;
    let ns = &k.namespace;
    let refs = wanted_refs(pod);
    let values = join_all(refs.iter().map(|r| async move {
        n.kube();
        let got = match r {
            ValueRef::ConfigMap { name, key } => k.config_map_key(ns, name, key).await,
            ValueRef::Secret { name, key } => k.secret_key(ns, name, key).await,
            ValueRef::Field { .. } => Ok(None),
        };
        super::opt(got)
    }))
    .await;
    refs.into_iter().zip(values).collect()
}

/// A downward-API field a variable may be set from.
fn field(pod: &Pod, path: &str) -> Option<String> {
    match path {
        "metadata.name" => pod.metadata.name.clone(),
        "metadata.namespace" => pod.metadata.namespace.clone(),
        "metadata.uid" => pod.metadata.uid.clone(),
        "spec.serviceAccountName" => Some(service_account_of(pod)),
        _ => None,
    }
}

/// The AZURE_* variables of `container` as its spec sets them, sources resolved.
pub fn spec_env(
    pod: &Pod,
    container: &str,
    refs: &BTreeMap<ValueRef, Fact<String>>,
) -> BTreeMap<String, String> {
    let inj = mutation::observe(pod);
    let Some(c) = inj.container(container) else {
        return BTreeMap::new();
    };
    keys::INJECTED_ENV
        .iter()
        .filter_map(|k| {
            let v = match c.value_ref(k) {
                Some(ValueRef::Field { path }) => field(pod, path),
                Some(r) => refs.get(r).and_then(|v| v.as_ref().ok()).cloned(),
                None => c.env_value(k).map(str::to_string),
            }?;
            (!v.is_empty()).then(|| (k.to_string(), v))
        })
        .collect()
}

/// What the container gave before its token is checked: it needs only the pod, so it can be
/// read beside wave 2; `finish` checks the token once wave 2 brought the cluster's keys.
pub enum Fetched {
    /// The container could not be read; nothing to check.
    Failed(Box<Read>),
    Got(Box<Got>),
}

/// A container read: its variables, the token (or why none) and where it came from.
pub struct Got {
    app: AppEnv,
    refs: BTreeMap<ValueRef, Fact<String>>,
    token: Result<Result<String, String>, Gap>,
    source: TokenSource,
    ca: Option<Result<String, String>>,
}

/// The exec (or, without a shell, the spec, the ConfigMap of the CA and a minted token) and
/// the ConfigMap/Secret values the container's variables come from, at once.
pub async fn fetch(ctx: &Ctx, pod: &Pod, container: &str, n: &Counters) -> Fetched {
    let k = &ctx.kube;
    let ns = &k.namespace;
    let name = pod.metadata.name.clone().unwrap_or_default();
    let exec = async {
        if !running(pod) {
            return None;
        }
        n.execs.fetch_add(1, Ordering::Relaxed);
        Some(
            k.exec(ns, &name, container, &["sh", "-c", READ_SCRIPT])
                .await,
        )
    };
    let (refs, exec) = tokio::join!(resolve_refs(ctx, pod, n), exec);
    let failed = |g: Gap| {
        Fetched::Failed(Box::new(Read {
            app: Err(g.clone()),
            refs: refs.clone(),
            token: Err(g),
            exchange: None,
        }))
    };
    let out = match exec {
        None => {
            let phase = pod.status.as_ref().and_then(|s| s.phase.clone());
            return failed(Gap::unreachable(format!(
                "pod {name} is not running ({})",
                phase.as_deref().unwrap_or("no phase")
            )));
        }
        Some(Err(e)) => return failed(gap(&e)),
        Some(Ok(out)) => out,
    };
    if let Some(why) = script_did_not_run(&out) {
        return failed(Gap::unreachable(why));
    }
    let (app, token, source, ca) = match out.missing_executable() {
        None => {
            let r = parse_read(&out.stdout, &out.stderr);
            let app = AppEnv {
                container: container.to_string(),
                env: r.env,
                no_shell: None,
            };
            (app, Ok(r.token), TokenSource::File, r.ca)
        }
        Some(sentence) => {
            let mut env = spec_env(pod, container, &refs);
            env.extend(token_proxy::spec_env(pod, container));
            let (ca, minted) =
                tokio::join!(spec_ca(ctx, pod, container, &env, n), mint(ctx, pod, n));
            let app = AppEnv {
                container: container.to_string(),
                env,
                no_shell: Some(sentence),
            };
            match minted {
                Ok((t, source)) => (app, Ok(Ok(t)), source, ca),
                Err(g) => (app, Err(g), TokenSource::File, ca),
            }
        }
    };
    Fetched::Got(Box::new(Got {
        app,
        refs,
        token,
        source,
        ca,
    }))
}

/// The token's claims and signature checked against the keys wave 2 brought.
pub async fn finish(fetched: Fetched, keys: &Keys<'_>, n: &Counters) -> Read {
    let got = match fetched {
        Fetched::Failed(read) => return *read,
        Fetched::Got(got) => *got,
    };
    let app = got.app;
    let token = match got.token {
        Err(g) => Err(g),
        Ok(t) => Ok(decode(t, keys, n).await),
    };
    let exchange = match &token {
        Ok((_, Some(t))) => Some(ExchangeInput {
            env: app.env.clone(),
            token: t.clone(),
            ca: got.ca,
        }),
        _ => None,
    };
    let container = app.container.clone();
    Read {
        token: token.map(|(d, _)| TokenFacts {
            container,
            source: got.source,
            file: app.env.get(keys::ENV_TOKEN_FILE).cloned(),
            jwt: d.0,
            signature: d.1,
        }),
        app: Ok(app),
        refs: got.refs,
        exchange,
    }
}

/// The CA of a container without a shell, from where the webhook projects it: its CA data, or
/// the ConfigMap key behind its CA file.
async fn spec_ca(
    ctx: &Ctx,
    pod: &Pod,
    container: &str,
    env: &BTreeMap<String, String>,
    n: &Counters,
) -> Option<Result<String, String>> {
    if env.contains_key(ENV_CA_DATA) {
        return Some(Ok(env[ENV_CA_DATA].clone()));
    }
    let file = env.get(ENV_CA_FILE)?;
    let (name, key) = match token_proxy::ca_config_map(pod, container, file) {
        Ok(cm) => cm,
        Err(why) => return Some(Err(why)),
    };
    n.kube();
    let got = ctx
        .kube
        .config_map_key(&ctx.kube.namespace, &name, &key)
        .await;
    Some(match super::opt(got) {
        Ok(pem) if !pem.trim().is_empty() => Ok(pem),
        Ok(_) => Err(format!("configmap {name} key {key} is empty")),
        Err(g) => Err(g.describe(&format!("configmap {name} key {key}"))),
    })
}

/// The token's claims and signature verdict, and the token itself when it is one.
type Decoded = (
    (Result<Jwt, String>, Fact<Result<String, String>>),
    Option<String>,
);

async fn decode(token: Result<String, String>, keys: &Keys<'_>, n: &Counters) -> Decoded {
    let t = match token {
        Ok(t) => t,
        Err(why) => return ((Err(why), Err(Gap::not_asked("no token"))), None),
    };
    let jwt = match Jwt::decode(&t) {
        Ok(j) => j,
        Err(e) => return ((Err(e.to_string()), Err(Gap::not_asked("no token"))), None),
    };
    // The token's own issuer is what Entra fetches keys from.
    let iss = jwt.claims.iss.clone().unwrap_or_default();
    let set = match (
        keys.jwks,
        keys.cluster_issuer == Some(iss.as_str()),
        keys.http,
    ) {
        (Some(j), true, _) => Ok(j.clone()),
        (_, false, Some(h)) => match discover(h, &iss, n).await {
            (_, Some(j)) => Ok(j),
            (Err(g), None) => Err(g),
            (Ok(d), None) => Err(Gap::unreachable(d.jwks.err().unwrap_or_default())),
        },
        _ => Err(Gap::unreachable("the issuer's JWKS was not fetched")),
    };
    let signature = set.map(|k| jwks::verify(&t, &k).map_err(|e| e.to_string()));
    ((Ok(jwt), signature), Some(t))
}

/// A token like the one the kubelet projects into the pod: its service account, the webhook
/// volume's audience and lifetime, bound to the pod.
async fn mint(ctx: &Ctx, pod: &Pod, n: &Counters) -> Result<(String, TokenSource), Gap> {
    let volume = mutation::observe(pod).volume.ok_or_else(|| {
        Gap::not_asked("the pod has no projected token volume: no token to mint (see pod-mutated)")
    })?;
    let audience = volume
        .audience
        .clone()
        .unwrap_or_else(|| keys::AUDIENCE.to_string());
    let expiration_seconds = volume
        .expiration_seconds
        .unwrap_or(keys::DEFAULT_TOKEN_EXPIRATION);
    let sa = service_account_of(pod);
    n.kube();
    let token = ctx
        .kube
        .pod_token(&PodTokenRequest {
            namespace: &ctx.kube.namespace,
            service_account: &sa,
            audience: &audience,
            expiration_seconds,
            pod: pod.metadata.name.as_deref().unwrap_or_default(),
            pod_uid: pod.metadata.uid.as_deref(),
        })
        .await
        .map_err(|e| gap(&e))?;
    Ok((
        token.expose().to_string(),
        TokenSource::Minted {
            audience,
            expiration_seconds,
        },
    ))
}

/// `--exchange`: the pod's own exchange (its client id, tenant and authority, its token);
/// on the identity-binding path through the AKS token proxy, as its SDK would send it
/// (proxy.rs). The token is dropped here; only the outcome is kept.
pub async fn exchange(
    ctx: &Ctx,
    asked: bool,
    input: Option<ExchangeInput>,
    http: Option<&reqwest::Client>,
    n: &Counters,
) -> Fact<Exchange> {
    if !asked {
        return Err(Gap::not_asked(
            "pass --exchange to exchange the pod's token at Entra",
        ));
    }
    let (Some(input), Some(http)) = (input, http) else {
        return Err(Gap::not_asked("no token was read (see token-file)"));
    };
    n.http();
    if let Some(proxied) = super::proxy::exchange(ctx, &input).await {
        return Ok(proxied);
    }
    let env = &input.env;
    let get = |k: &str| env.get(k).cloned().unwrap_or_default();
    let tenant = get(keys::ENV_TENANT_ID);
    let result = entra::exchange(
        http,
        &authority_of(ctx, env),
        &tenant,
        &get(keys::ENV_CLIENT_ID),
        &input.token,
        &ctx.cloud.arm_scope,
    )
    .await;
    Ok(match result {
        Ok(at) => {
            let (tenant, expires) = tenant_and_expiry(&at, tenant);
            Exchange::Ok { tenant, expires }
        }
        Err(e) => Exchange::Refused {
            code: e.aadsts(),
            description: match &e {
                entra::EntraError::Refused { description, .. } => description.clone(),
                e => e.to_string(),
            },
        },
    })
}

/// The authority the pod's SDK asks: its AZURE_AUTHORITY_HOST, else the cloud's.
pub fn authority_of(ctx: &Ctx, env: &BTreeMap<String, String>) -> String {
    env.get(keys::ENV_AUTHORITY_HOST)
        .cloned()
        .unwrap_or_else(|| ctx.cloud.authority.clone())
}

/// The tenant that issued an access token (its `tid`, else the one asked) and its expiry.
pub fn tenant_and_expiry(at: &entra::AccessToken, asked: String) -> (String, Option<i64>) {
    let claims = Jwt::decode(at.expose()).ok().map(|j| j.claims);
    let tenant = claims
        .as_ref()
        .and_then(|c| c.other.get("tid"))
        .and_then(Value::as_str)
        .map_or(asked, str::to_string);
    (tenant, claims.and_then(|c| c.exp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exec_out(stdout: &str, stderr: &str, message: Option<&str>) -> ExecOutput {
        ExecOutput {
            stdout: stdout.into(),
            stderr: stderr.into(),
            exit_code: message.map_or(Some(0), |_| None),
            message: message.map(str::to_string),
        }
    }

    #[test]
    fn an_exec_that_never_ran_the_script_is_not_an_empty_environment() {
        // kwok v0.8.0 pkg/kwok/server/debugging_exec.go getExecTarget answers this way while it
        // has no Exec for the pod; the API server relays it as a Failure status, no output.
        let kwok = "no exec found for container \"app\" in pod \"ns/app\"";
        let why = script_did_not_run(&exec_out("", "", Some(kwok))).unwrap();
        assert_eq!(why, kwok);
        let why = script_did_not_run(&exec_out(
            "",
            "OCI runtime exec failed: container not running\n",
            Some("command terminated with non-zero exit code"),
        ))
        .unwrap();
        assert!(why.contains("container not running"), "{why}");
        assert!(script_did_not_run(&exec_out("", "", None)).is_some());
    }

    #[test]
    fn a_script_that_ran_is_read_whatever_its_exit_code() {
        // The variables were printed; `cat` of a missing token file failed afterwards.
        let out = exec_out(
            "AZURE_FEDERATED_TOKEN_FILE=/x\n--azwi--\n",
            "cat: /x: No such file or directory\n",
            Some(
                "command terminated with non-zero exit code: error executing command [sh -c ...], exit code 1",
            ),
        );
        assert_eq!(script_did_not_run(&out), None);
        // A distroless container is read another way (its spec), not reported as unreachable.
        let distroless = exec_out(
            "",
            "",
            Some(
                "OCI runtime exec failed: exec failed: unable to start container process: exec: \"sh\": executable file not found in $PATH: unknown",
            ),
        );
        assert_eq!(script_did_not_run(&distroless), None);
    }

    #[test]
    fn parses_the_container_read() {
        let out = "AZURE_CLIENT_ID=c\nAZURE_TENANT_ID=t\nAZURE_AUTHORITY_HOST=\nAZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/wi/token/azure-identity-token\n--azwi--\neyJ.a.b\n";
        let r = parse_read(out, "");
        assert_eq!(r.env.get("AZURE_CLIENT_ID").map(String::as_str), Some("c"));
        assert!(
            !r.env.contains_key("AZURE_AUTHORITY_HOST"),
            "empty is unset"
        );
        assert_eq!(r.token.as_deref(), Ok("eyJ.a.b"));
        let r = parse_read(
            "AZURE_FEDERATED_TOKEN_FILE=/x\n--azwi--\n",
            "cat: /x: Permission denied\n",
        );
        assert_eq!(r.token, Err("cat: /x: Permission denied".into()));
    }

    /// An identity-binding pod (upstream v1.6.0's env): the proxy variables and the CA file
    /// the SDK pins; a CA file that cannot be read says why; no CA variable, no CA.
    #[test]
    fn parses_the_proxy_settings_and_the_ca() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        let out = format!(
            "AZURE_CLIENT_ID=c\nAZURE_KUBERNETES_TOKEN_PROXY=https://kubernetes.default.svc\nAZURE_KUBERNETES_SNI_NAME=0a1b\nAZURE_KUBERNETES_CA_FILE=/ca.crt\n--azwi--\neyJ.a.b\n--azwi-ca--\n{pem}\n"
        );
        let r = parse_read(&out, "");
        assert_eq!(r.token.as_deref(), Ok("eyJ.a.b"));
        assert_eq!(r.env[ENV_CA_FILE], "/ca.crt");
        assert_eq!(r.ca, Some(Ok(format!("{pem}\n"))));
        let r = parse_read(
            "AZURE_KUBERNETES_CA_FILE=/ca.crt\n--azwi--\neyJ.a.b\n--azwi-ca--\ncat: /ca.crt: No such file or directory\n",
            "",
        );
        assert_eq!(
            r.token.as_deref(),
            Ok("eyJ.a.b"),
            "the CA's error is not the token's"
        );
        assert_eq!(
            r.ca,
            Some(Err("cat: /ca.crt: No such file or directory".into()))
        );
        let r = parse_read("AZURE_CLIENT_ID=c\n--azwi--\neyJ.a.b\n--azwi-ca--\n", "");
        assert_eq!(r.ca, None);
    }

    #[test]
    fn spec_env_resolves_sources() {
        let mut pod = mutation::fixtures::mutated_pod(mutation::Layout::Reserved);
        pod.metadata.name = Some("p".into());
        let env = pod.spec.as_mut().unwrap().containers[0]
            .env
            .as_mut()
            .unwrap();
        env[0] = serde_json::from_value(json!({"name": keys::ENV_CLIENT_ID, "valueFrom": {"secretKeyRef": {"name": "ids", "key": "client"}}})).unwrap();
        let r = ValueRef::Secret {
            name: "ids".into(),
            key: "client".into(),
        };
        assert_eq!(wanted_refs(&pod), vec![r.clone()]);
        let refs = BTreeMap::from([(r, Ok("from-secret".to_string()))]);
        let env = spec_env(&pod, "app", &refs);
        assert_eq!(env[keys::ENV_CLIENT_ID], "from-secret");
        assert_eq!(
            env[keys::ENV_TOKEN_FILE],
            "/var/run/secrets/azure/wi/token/azure-identity-token"
        );
        assert!(!spec_env(&pod, "app", &BTreeMap::new()).contains_key(keys::ENV_CLIENT_ID));
    }
}
