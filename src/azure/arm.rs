//! A small typed ARM client on azure_core 1.x's pipeline: bearer auth, bounded retries
//! (429 honouring Retry-After and 5xx in the pipeline; ARM's "concurrent write" 409 here),
//! timeouts that keep a CLI responsive, and a call counter for the benchmarks.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use azure_core::{
    credentials::TokenCredential,
    http::{
        ClientOptions, Context, ExponentialRetryOptions, Method, Pipeline, PipelineSendOptions,
        Request, RetryOptions, Transport, Url,
        policies::{Policy, auth::BearerTokenAuthorizationPolicy},
    },
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use tracing::debug;

use super::{AzureError, Cloud, credential::Source, error::ArmErrorBody};
use crate::output::progress::Progress;

/// ARM's code for overlapping writes to one identity's federated credentials.
pub const CONCURRENT_FIC_WRITES: &str =
    "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity";

#[derive(Clone)]
pub struct Arm {
    pipeline: Arc<Pipeline>,
    /// Who the bearer tokens come from: a failure to get one is reported as a login problem.
    login: Source,
    base: Url,
    calls: Arc<AtomicU64>,
    /// Backoff unit for the 409 retry; shortened in tests.
    conflict_backoff: Duration,
    /// Microsoft Graph instead of ARM: no api-version, errors reported as Graph's.
    graph: bool,
}

/// The headers ARM's long-running operations answer with (`Retry-After` in seconds).
#[derive(Debug, Clone, Default)]
pub struct LroHeaders {
    pub async_operation: Option<String>,
    /// `Location`: what a DELETE is polled by when it names no `Azure-AsyncOperation`.
    pub location: Option<String>,
    pub retry_after: Option<u64>,
}

/// A response that succeeded, unparsed, with its long-running-operation headers.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub lro: LroHeaders,
    pub body: Vec<u8>,
}

/// A response that succeeded: its status and parsed body.
#[derive(Debug)]
pub struct Reply<T> {
    pub status: u16,
    pub body: T,
}

/// The credential's own words, without the pipeline's wrapping ("non-transport error occurred
/// which will not be retried"): the innermost error of the chain.
fn login_refusal(e: &azure_core::Error) -> azure_core::Error {
    let mut inner: &dyn std::error::Error = e;
    while let Some(s) = inner.source() {
        inner = s;
    }
    azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, inner.to_string())
}

impl Arm {
    pub fn new(
        cloud: &Cloud,
        credential: Arc<dyn TokenCredential>,
        login: Source,
    ) -> Result<Arm, AzureError> {
        Self::build(&cloud.arm, &cloud.arm_scope, credential, login, false)
    }

    /// The same pipeline for Microsoft Graph (`src/azure/graph.rs` types the calls): the
    /// cloud's Graph endpoint and token scope.
    pub fn graph(
        cloud: &Cloud,
        credential: Arc<dyn TokenCredential>,
        login: Source,
    ) -> Result<Arm, AzureError> {
        Self::build(&cloud.graph, &cloud.graph_scope, credential, login, true)
    }

    fn build(
        base: &str,
        scope: &str,
        credential: Arc<dyn TokenCredential>,
        login: Source,
        graph: bool,
    ) -> Result<Arm, AzureError> {
        let http = super::http::shared().map_err(|e| AzureError::Transport {
            operation: "building the HTTP client".into(),
            resource: String::new(),
            source: Box::new(azure_core::Error::new(
                azure_core::error::ErrorKind::Other,
                e,
            )),
        })?;
        let options = ClientOptions {
            transport: Some(Transport::new(Arc::new(http))),
            // The SDK default retried for 81 s against a dead host: bound it.
            retry: RetryOptions::exponential(ExponentialRetryOptions {
                initial_delay: azure_core::time::Duration::milliseconds(500),
                max_retries: 4,
                max_total_elapsed: azure_core::time::Duration::seconds(45),
                max_delay: azure_core::time::Duration::seconds(15),
            }),
            ..Default::default()
        };
        let auth: Arc<dyn Policy> = Arc::new(BearerTokenAuthorizationPolicy::new(
            credential,
            [scope.to_string()],
        ));
        let pipeline = Pipeline::new(
            Some(env!("CARGO_PKG_NAME")),
            Some(env!("CARGO_PKG_VERSION")),
            options,
            Vec::new(),
            vec![auth],
            None,
        );
        let base = Url::parse(base).map_err(|e| AzureError::Transport {
            operation: "parsing the endpoint".into(),
            resource: base.to_string(),
            source: Box::new(e.into()),
        })?;
        Ok(Arm {
            pipeline: Arc::new(pipeline),
            login,
            base,
            calls: Arc::default(),
            conflict_backoff: Duration::from_secs(1),
            graph,
        })
    }

    /// How many HTTP requests this client has made (retries included).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub(crate) fn url(&self, path: &str, api_version: &str) -> Url {
        let mut url = self
            .base
            .join(path.trim_start_matches('/'))
            .unwrap_or_else(|_| self.base.clone());
        if !self.graph && !url.query_pairs().any(|(k, _)| k == "api-version") {
            url.query_pairs_mut()
                .append_pair("api-version", api_version);
        }
        url
    }

    async fn send(
        &self,
        op: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<(u16, Vec<u8>), AzureError> {
        self.send_full(op, method, url, body)
            .await
            .map(|r| (r.status, r.body))
    }

    /// As `send`, keeping the headers a long-running operation is polled by.
    pub(crate) async fn send_full(
        &self,
        op: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Raw, AzureError> {
        let resource = url.path().to_string();
        let mut attempt = 0u32;
        let mut progress = None;
        loop {
            let mut req = Request::new(url.clone(), method);
            req.insert_header("accept", "application/json");
            if let Some(b) = body {
                req.insert_header("content-type", "application/json");
                req.set_body(serde_json::to_vec(b).expect("JSON body"));
            }
            self.calls.fetch_add(1, Ordering::Relaxed);
            let resp = self
                .pipeline
                .send(
                    &Context::default(),
                    &mut req,
                    Some(PipelineSendOptions {
                        skip_checks: true,
                        ..Default::default()
                    }),
                )
                .await
                .map_err(|source| {
                    // The bearer policy's token request failed: a login problem, whatever the
                    // code (AADSTS7000215, an expired `az login`), never a network one.
                    if *source.kind() == azure_core::error::ErrorKind::Credential {
                        AzureError::Credential {
                            login: self.login,
                            source: Box::new(login_refusal(&source)),
                        }
                    } else {
                        AzureError::Transport {
                            operation: op.to_string(),
                            resource: resource.clone(),
                            source: Box::new(source),
                        }
                    }
                })?;
            let status = u16::from(resp.status());
            let header = |name: &'static str| {
                resp.headers()
                    .get_optional_str(&azure_core::http::headers::HeaderName::from_static(name))
                    .map(str::to_string)
            };
            let lro = LroHeaders {
                async_operation: header("azure-asyncoperation"),
                location: header("location"),
                retry_after: header("retry-after").and_then(|s| s.trim().parse().ok()),
            };
            let bytes = resp.into_body().to_vec();
            debug!(%method, path = %resource, status, graph = self.graph, "Azure");
            if (200..300).contains(&status) {
                return Ok(Raw {
                    status,
                    lro,
                    body: bytes,
                });
            }
            let (code, message) = match serde_json::from_slice::<ArmErrorBody>(&bytes) {
                Ok(b) => (b.error.code, b.error.message),
                Err(_) => (
                    String::new(),
                    String::from_utf8_lossy(&bytes).chars().take(300).collect(),
                ),
            };
            if status == 409 && code == CONCURRENT_FIC_WRITES && attempt < 5 {
                attempt += 1;
                let p = progress.get_or_insert_with(|| {
                    Progress::start(format!("waiting to {op}: the identity is busy"))
                });
                p.detail(format!("409 concurrent writes, retry {attempt} of 5"));
                p.sleep(self.conflict_backoff * 2u32.pow(attempt - 1)).await;
                continue;
            }
            if self.graph {
                return Err(AzureError::Graph {
                    operation: op.to_string(),
                    resource,
                    status,
                    code,
                    message,
                });
            }
            return Err(AzureError::Arm {
                operation: op.to_string(),
                resource,
                status,
                code,
                message,
            });
        }
    }

    pub(crate) fn parse<T: DeserializeOwned>(
        op: &str,
        url: &Url,
        bytes: &[u8],
    ) -> Result<T, AzureError> {
        let bytes = if bytes.is_empty() {
            b"null" as &[u8]
        } else {
            bytes
        };
        serde_json::from_slice(bytes).map_err(|source| AzureError::Body {
            operation: op.into(),
            resource: url.path().into(),
            source,
        })
    }

    /// GET; 404 is `None`.
    pub async fn get_opt<T: DeserializeOwned>(
        &self,
        op: &str,
        path: &str,
        api_version: &str,
    ) -> Result<Option<T>, AzureError> {
        let url = self.url(path, api_version);
        match self.send(op, Method::Get, url.clone(), None).await {
            Ok((_, bytes)) => Ok(Some(Self::parse(op, &url, &bytes)?)),
            Err(e)
                if e.status() == Some(404)
                    && e.code() != Some("ResourceGroupNotFound")
                    && e.code() != Some("SubscriptionNotFound") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    pub async fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        op: &str,
        path: &str,
        api_version: &str,
        body: &B,
    ) -> Result<Reply<T>, AzureError> {
        let url = self.url(path, api_version);
        let body = serde_json::to_value(body).expect("serializable body");
        let (status, bytes) = self.send(op, Method::Put, url.clone(), Some(&body)).await?;
        Ok(Reply {
            status,
            body: Self::parse(op, &url, &bytes)?,
        })
    }

    /// POST or PATCH (Graph's writes); 204's empty body parses as `null`.
    pub async fn write<B: Serialize, T: DeserializeOwned>(
        &self,
        op: &str,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<Reply<T>, AzureError> {
        let url = self.url(path, "");
        let body = serde_json::to_value(body).expect("serializable body");
        let (status, bytes) = self.send(op, method, url.clone(), Some(&body)).await?;
        Ok(Reply {
            status,
            body: Self::parse(op, &url, &bytes)?,
        })
    }

    /// DELETE; `true` when something was deleted (200/202), `false` when it was already gone (204/404).
    pub async fn delete(
        &self,
        op: &str,
        path: &str,
        api_version: &str,
    ) -> Result<bool, AzureError> {
        match self
            .send(op, Method::Delete, self.url(path, api_version), None)
            .await
        {
            Ok((status, _)) => Ok(status != 204),
            Err(e) if e.status() == Some(404) && e.code() != Some("ResourceGroupNotFound") => {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// GET of a list, following `nextLink` to the end.
    pub async fn list<T: DeserializeOwned>(
        &self,
        op: &str,
        path: &str,
        api_version: &str,
    ) -> Result<Vec<T>, AzureError> {
        #[derive(serde::Deserialize)]
        struct Page<T> {
            #[serde(default = "Vec::new")]
            value: Vec<T>,
            #[serde(rename = "nextLink", alias = "@odata.nextLink", default)]
            next_link: Option<String>,
        }
        let mut url = self.url(path, api_version);
        let mut out = Vec::new();
        loop {
            let (_, bytes) = self.send(op, Method::Get, url.clone(), None).await?;
            let page: Page<T> = Self::parse(op, &url, &bytes)?;
            out.extend(page.value);
            match page.next_link.filter(|l| !l.is_empty()) {
                Some(next) => {
                    url = Url::parse(&next).map_err(|e| AzureError::Transport {
                        operation: op.into(),
                        resource: next.clone(),
                        source: Box::new(e.into()),
                    })?
                }
                None => return Ok(out),
            }
        }
    }
}
