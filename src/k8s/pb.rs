//! The few fields of Kubernetes' protobuf encoding that the big lists need, as prost messages:
//! decoding skips every other field by its length prefix instead of building it (managedFields,
//! containers and status are most of a pod's bytes). Field numbers are those of k8s.io/api
//! core/v1 and k8s.io/apimachinery meta/v1 and runtime `generated.proto` (v0.35); the wire
//! format is described in Kubernetes' "Kubernetes Protobuf encoding" design (magic `k8s\0`,
//! then a `runtime.Unknown` whose `raw` is the object).
//!
//! What is decoded is what `inspect`'s facts read (`SaFacts::from_sa`, `PodFacts::from_pod`):
//! a field those start reading must be added here too; `tests/it/wire.rs` compares both paths.

use std::collections::BTreeMap;

use bytes::Bytes;
use k8s_openapi::{
    api::core::v1 as core,
    apimachinery::pkg::apis::meta::v1::{ListMeta as KListMeta, ObjectMeta as KObjectMeta},
};
use prost::Message;

/// The 4 bytes every protobuf body starts with.
pub const MAGIC: &[u8] = b"k8s\0";

/// `runtime.Unknown`: the envelope around the encoded object.
#[derive(Clone, PartialEq, Message)]
pub struct Unknown {
    #[prost(bytes = "bytes", optional, tag = "2")]
    pub raw: Option<Bytes>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ListMeta {
    #[prost(string, optional, tag = "2")]
    pub resource_version: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub continue_: Option<String>,
    #[prost(int64, optional, tag = "4")]
    pub remaining_item_count: Option<i64>,
}

impl From<ListMeta> for KListMeta {
    fn from(m: ListMeta) -> Self {
        KListMeta {
            resource_version: m.resource_version,
            continue_: m.continue_,
            remaining_item_count: m.remaining_item_count,
            ..Default::default()
        }
    }
}

/// Any list's metadata alone: its items are skipped, not decoded (read before them to send
/// the next page's request early).
#[derive(Clone, PartialEq, Message)]
pub struct ListHead {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ListMeta>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ObjectMeta {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub namespace: Option<String>,
    #[prost(btree_map = "string, string", tag = "11")]
    pub labels: BTreeMap<String, String>,
    #[prost(btree_map = "string, string", tag = "12")]
    pub annotations: BTreeMap<String, String>,
}

/// An absent map and an empty one are the same object; JSON leaves both out.
fn some_map(m: BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    (!m.is_empty()).then_some(m)
}

impl From<ObjectMeta> for KObjectMeta {
    fn from(m: ObjectMeta) -> Self {
        KObjectMeta {
            name: m.name,
            namespace: m.namespace,
            labels: some_map(m.labels),
            annotations: some_map(m.annotations),
            ..Default::default()
        }
    }
}

/// A pod without its annotations (never read by the list's users, sometimes kilobytes).
#[derive(Clone, PartialEq, Message)]
pub struct PodMeta {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub namespace: Option<String>,
    #[prost(btree_map = "string, string", tag = "11")]
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ServiceAccount {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ObjectMeta>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ServiceAccountList {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ListMeta>,
    #[prost(message, repeated, tag = "2")]
    pub items: Vec<ServiceAccount>,
}

impl From<ServiceAccount> for core::ServiceAccount {
    fn from(s: ServiceAccount) -> Self {
        core::ServiceAccount {
            metadata: s.metadata.map(Into::into).unwrap_or_default(),
            ..Default::default()
        }
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct Pod {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<PodMeta>,
    #[prost(message, optional, tag = "2")]
    pub spec: Option<PodSpec>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PodList {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ListMeta>,
    #[prost(message, repeated, tag = "2")]
    pub items: Vec<Pod>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PodSpec {
    #[prost(message, repeated, tag = "1")]
    pub volumes: Vec<Volume>,
    #[prost(string, optional, tag = "8")]
    pub service_account_name: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Volume {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// `VolumeSource`, inlined in JSON, a message of its own in protobuf.
    #[prost(message, optional, tag = "2")]
    pub source: Option<VolumeSource>,
}

#[derive(Clone, PartialEq, Message)]
pub struct VolumeSource {
    #[prost(message, optional, tag = "26")]
    pub projected: Option<ProjectedVolumeSource>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProjectedVolumeSource {
    #[prost(message, repeated, tag = "1")]
    pub sources: Vec<VolumeProjection>,
}

#[derive(Clone, PartialEq, Message)]
pub struct VolumeProjection {
    #[prost(message, optional, tag = "4")]
    pub service_account_token: Option<ServiceAccountTokenProjection>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ServiceAccountTokenProjection {
    #[prost(string, optional, tag = "1")]
    pub audience: Option<String>,
    #[prost(int64, optional, tag = "2")]
    pub expiration_seconds: Option<i64>,
    #[prost(string, optional, tag = "3")]
    pub path: Option<String>,
}

impl From<Volume> for core::Volume {
    fn from(v: Volume) -> Self {
        let projected = v
            .source
            .and_then(|s| s.projected)
            .map(|p| core::ProjectedVolumeSource {
                sources: Some(
                    p.sources
                        .into_iter()
                        .map(|s| core::VolumeProjection {
                            service_account_token: s.service_account_token.map(|t| {
                                core::ServiceAccountTokenProjection {
                                    audience: t.audience,
                                    expiration_seconds: t.expiration_seconds,
                                    path: t.path.unwrap_or_default(),
                                }
                            }),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            });
        core::Volume {
            name: v.name.unwrap_or_default(),
            projected,
            ..Default::default()
        }
    }
}

impl From<Pod> for core::Pod {
    fn from(p: Pod) -> Self {
        let meta = p.metadata.unwrap_or_default();
        core::Pod {
            metadata: KObjectMeta {
                name: meta.name,
                namespace: meta.namespace,
                labels: some_map(meta.labels),
                ..Default::default()
            },
            spec: p.spec.map(|s| core::PodSpec {
                volumes: Some(s.volumes.into_iter().map(Into::into).collect()),
                service_account_name: s.service_account_name,
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// `meta/v1.Status`: what an error response carries.
#[derive(Clone, PartialEq, Message)]
pub struct Status {
    #[prost(string, optional, tag = "3")]
    pub message: Option<String>,
    #[prost(string, optional, tag = "4")]
    pub reason: Option<String>,
    #[prost(int32, optional, tag = "6")]
    pub code: Option<i32>,
}

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("a protobuf body without Kubernetes' magic prefix")]
    NoMagic,
    #[error("decoding protobuf")]
    Decode(#[from] prost::DecodeError),
}

/// The object inside a protobuf body: `raw` of the envelope after the magic.
pub fn unwrap(body: &Bytes) -> Result<Bytes, WireError> {
    if !body.starts_with(MAGIC) {
        return Err(WireError::NoMagic);
    }
    let envelope = Unknown::decode(body.slice(MAGIC.len()..))?;
    Ok(envelope.raw.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list encoded here with the messages above (the same field numbers as the upstream
    /// schema) plus fields they do not know: those are skipped, the known ones come through.
    #[test]
    fn skips_what_it_does_not_know() {
        let pod = Pod {
            metadata: Some(PodMeta {
                name: Some("p".into()),
                namespace: Some("ns".into()),
                labels: BTreeMap::from([("azure.workload.identity/use".into(), "true".into())]),
            }),
            spec: Some(PodSpec {
                volumes: vec![Volume {
                    name: Some("v".into()),
                    source: Some(VolumeSource {
                        projected: Some(ProjectedVolumeSource {
                            sources: vec![VolumeProjection {
                                service_account_token: Some(ServiceAccountTokenProjection {
                                    audience: Some("api://AzureADTokenExchange".into()),
                                    expiration_seconds: Some(3600),
                                    path: Some("token".into()),
                                }),
                            }],
                        }),
                    }),
                }],
                service_account_name: Some("sa".into()),
            }),
        };
        let mut item = pod.encode_to_vec();
        // status (field 3, length-delimited) and an unknown varint field 99: skipped.
        item.extend([0x1a, 2, 0x0a, 0]);
        prost::encoding::encode_key(99, prost::encoding::WireType::Varint, &mut item);
        prost::encoding::encode_varint(7, &mut item);
        let list = PodList {
            metadata: Some(ListMeta {
                continue_: Some("next".into()),
                ..Default::default()
            }),
            items: vec![],
        };
        let mut raw = list.encode_to_vec();
        prost::encoding::encode_key(2, prost::encoding::WireType::LengthDelimited, &mut raw);
        prost::encoding::encode_varint(item.len() as u64, &mut raw);
        raw.extend(&item);
        let mut body = MAGIC.to_vec();
        Unknown {
            raw: Some(Bytes::from(raw)),
        }
        .encode(&mut body)
        .unwrap();
        let raw = unwrap(&Bytes::from(body)).unwrap();
        let head = ListHead::decode(raw.clone()).unwrap();
        assert_eq!(head.metadata.unwrap().continue_.as_deref(), Some("next"));
        let list = PodList::decode(raw).unwrap();
        assert_eq!(list.items, vec![pod.clone()]);
        let k: core::Pod = pod.into();
        assert_eq!(
            k.spec.unwrap().volumes.unwrap()[0]
                .projected
                .as_ref()
                .unwrap()
                .sources
                .as_ref()
                .unwrap()[0]
                .service_account_token
                .as_ref()
                .unwrap()
                .expiration_seconds,
            Some(3600)
        );
    }
}
