//! Big lists at the speed of the API server: protobuf where the server offers it (JSON where it
//! answers JSON: aggregated APIs, old servers, proxies), only the fields the caller reads decoded
//! (`pb`), and the next page in flight while the current one is decoded. A page is dropped once
//! `keep` has taken what it needs, so memory follows what is kept, not the objects.

use std::fmt::Debug;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::{Client, api::ListParams, client::Body, core::Status};
use prost::Message;
use serde::{Deserialize, de::DeserializeOwned};

use super::{Kube, KubeError, pb};

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// The encoding a list is asked for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// Protobuf first, JSON accepted: the server picks, the answer's content type decides.
    Protobuf,
    /// JSON only (the fallback path, forced; tests compare it with the other).
    Json,
}

/// A resource whose lists can be read either way.
pub trait Listable:
    kube::Resource<DynamicType = ()> + DeserializeOwned + Debug + Send + 'static
{
    /// The plural, for errors and progress.
    const RESOURCE: &'static str;
    fn from_protobuf(raw: Bytes) -> Result<Vec<Self>, prost::DecodeError>;
}

impl Listable for Pod {
    const RESOURCE: &'static str = "pods";
    fn from_protobuf(raw: Bytes) -> Result<Vec<Self>, prost::DecodeError> {
        Ok(pb::PodList::decode(raw)?
            .items
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

impl Listable for ServiceAccount {
    const RESOURCE: &'static str = "serviceaccounts";
    fn from_protobuf(raw: Bytes) -> Result<Vec<Self>, prost::DecodeError> {
        Ok(pb::ServiceAccountList::decode(raw)?
            .items
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

/// What a list kept, and how it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub pages: u32,
    /// Pages the server answered in protobuf (the others: JSON).
    pub protobuf_pages: u32,
}

/// One page as it came: its encoding and its bytes (protobuf: the object inside the envelope,
/// unwrapped once).
enum Page {
    Protobuf(Bytes),
    Json(Bytes),
}

#[derive(Deserialize)]
struct JsonHead {
    #[serde(default)]
    metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta,
}

#[derive(Deserialize)]
struct JsonItems<K> {
    #[serde(default = "Vec::new")]
    items: Vec<K>,
}

fn decode_err(e: impl Into<pb::WireError>) -> kube::Error {
    kube::Error::Service(Box::new(e.into()))
}

impl Page {
    /// The continue token, read before the items (protobuf: the items are skipped by length).
    fn continue_token(&self) -> Result<Option<String>, kube::Error> {
        let token = match self {
            Page::Protobuf(raw) => pb::ListHead::decode(raw.clone())
                .map_err(decode_err)?
                .metadata
                .and_then(|m| m.continue_),
            Page::Json(body) => {
                serde_json::from_slice::<JsonHead>(body)
                    .map_err(kube::Error::SerdeError)?
                    .metadata
                    .continue_
            }
        };
        Ok(token.filter(|t| !t.is_empty()))
    }

    fn items<K: Listable>(&self) -> Result<Vec<K>, kube::Error> {
        match self {
            Page::Protobuf(raw) => K::from_protobuf(raw.clone()).map_err(decode_err),
            Page::Json(body) => serde_json::from_slice::<JsonItems<K>>(body)
                .map(|l| l.items)
                .map_err(kube::Error::SerdeError),
        }
    }
}

/// One GET, its body read whole; an error status becomes the server's `Status`, whichever
/// encoding it came in.
async fn fetch(client: Client, req: http::Request<Vec<u8>>) -> Result<Page, kube::Error> {
    let res = client.send(req.map(Body::from)).await?;
    let status = res.status();
    let protobuf = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROTOBUF));
    let body = res.into_body().collect().await?.to_bytes();
    if status.is_success() {
        return Ok(if protobuf {
            Page::Protobuf(pb::unwrap(&body).map_err(decode_err)?)
        } else {
            Page::Json(body)
        });
    }
    let parsed = if protobuf {
        pb::unwrap(&body)
            .ok()
            .and_then(|raw| pb::Status::decode(raw).ok())
            .map(|s| {
                Status::failure(
                    s.message.as_deref().unwrap_or_default(),
                    s.reason.as_deref().unwrap_or_default(),
                )
            })
    } else {
        serde_json::from_slice::<Status>(&body).ok()
    };
    let st = parsed.unwrap_or_else(|| {
        Status::failure(
            String::from_utf8_lossy(&body).trim(),
            "Failed to parse error data",
        )
    });
    Err(kube::Error::Api(st.with_code(status.as_u16()).boxed()))
}

impl Kube {
    /// Every page of a list of `K` (in `ns`, or all namespaces), `keep` applied to each object
    /// as its page is decoded, `on_page` called per page. The request for page n+1 is sent as soon as page n's continue token is
    /// read, so the server works while this decodes.
    pub async fn list_each<K: Listable, T>(
        &self,
        ns: Option<&str>,
        params: &ListParams,
        wire: Wire,
        mut keep: impl FnMut(&K) -> T,
        on_page: impl Fn(),
    ) -> Result<Listing<T>, KubeError> {
        let err = |e| KubeError::api("list", K::RESOURCE, ns, None, e);
        let path = K::url_path(&(), ns);
        let send = |token: Option<String>| {
            let mut lp = params.clone();
            if let Some(t) = &token {
                lp = lp.continue_token(t);
            }
            let req = kube::core::Request::new(&path).list(&lp);
            let client = self.client.clone();
            tokio::spawn(async move {
                let mut req = req.map_err(kube::Error::BuildRequest)?;
                if wire == Wire::Protobuf {
                    req.headers_mut().insert(
                        ACCEPT,
                        http::HeaderValue::from_static(
                            "application/vnd.kubernetes.protobuf, application/json",
                        ),
                    );
                }
                fetch(client, req).await
            })
        };
        let mut out = Listing {
            items: Vec::new(),
            pages: 0,
            protobuf_pages: 0,
        };
        let mut pending = Some(send(None));
        while let Some(task) = pending.take() {
            let page = task
                .await
                .map_err(|e| err(kube::Error::Service(Box::new(e))))?
                .map_err(err)?;
            out.pages += 1;
            out.protobuf_pages += u32::from(matches!(page, Page::Protobuf(_)));
            if let Some(token) = page.continue_token().map_err(err)? {
                pending = Some(send(Some(token)));
            }
            let items: Vec<K> = page.items().map_err(err)?;
            drop(page);
            out.items.extend(items.iter().map(&mut keep));
            on_page();
        }
        Ok(out)
    }
}
