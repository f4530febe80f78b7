//! The Kubernetes reads and writes the commands need, each mapped to `KubeError` once.

use std::collections::BTreeMap;

use k8s_openapi::api::{
    admissionregistration::v1::MutatingWebhookConfiguration,
    authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec},
    authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec},
    core::v1::{ConfigMap, Event, Namespace, Pod, Secret, ServiceAccount},
};
use kube::{
    Api,
    api::{
        ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
    },
};
use serde_json::Value;

use super::{Kube, KubeError};
use crate::wi::{
    keys,
    target::{Kind, Target},
};

pub(super) fn api_err(
    verb: &'static str,
    resource: &'static str,
    ns: Option<&str>,
    name: Option<&str>,
) -> impl FnOnce(kube::Error) -> KubeError {
    let (ns, name) = (ns.map(str::to_string), name.map(str::to_string));
    move |e| KubeError::api(verb, resource, ns.as_deref(), name.as_deref(), e)
}

pub fn workload_resource(kind: Kind) -> (ApiResource, &'static str) {
    let (g, v, k, plural) = match kind {
        Kind::Deployment => ("apps", "v1", "Deployment", "deployments"),
        Kind::StatefulSet => ("apps", "v1", "StatefulSet", "statefulsets"),
        Kind::DaemonSet => ("apps", "v1", "DaemonSet", "daemonsets"),
        Kind::ReplicaSet => ("apps", "v1", "ReplicaSet", "replicasets"),
        Kind::Job => ("batch", "v1", "Job", "jobs"),
        Kind::CronJob => ("batch", "v1", "CronJob", "cronjobs"),
        Kind::Pod => ("", "v1", "Pod", "pods"),
        Kind::ServiceAccount => ("", "v1", "ServiceAccount", "serviceaccounts"),
    };
    (
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(g, v, k), plural),
        plural,
    )
}

/// A command's target that does not exist, named as kubectl names it.
pub fn target_not_found(t: &Target, ns: &str) -> KubeError {
    KubeError::NotFound {
        kind: t.kind.short(),
        resource: workload_resource(t.kind).1,
        name: t.name.clone(),
        namespace: ns.to_string(),
    }
}

impl Kube {
    pub async fn service_account(
        &self,
        ns: &str,
        name: &str,
    ) -> Result<Option<ServiceAccount>, KubeError> {
        Api::<ServiceAccount>::namespaced(self.client.clone(), ns)
            .get_opt(name)
            .await
            .map_err(api_err("get", "serviceaccounts", Some(ns), Some(name)))
    }

    pub async fn create_service_account(
        &self,
        ns: &str,
        body: &Value,
    ) -> Result<ServiceAccount, KubeError> {
        let sa: ServiceAccount =
            serde_json::from_value(body.clone()).expect("service account body");
        let pp = PostParams {
            field_manager: Some(keys::FIELD_MANAGER.into()),
            ..Default::default()
        };
        Api::<ServiceAccount>::namespaced(self.client.clone(), ns)
            .create(&pp, &sa)
            .await
            .map_err(api_err(
                "create",
                "serviceaccounts",
                Some(ns),
                sa.metadata.name.as_deref(),
            ))
    }

    /// JSON merge patch: touches only the keys in `patch` (the plugin's own).
    pub async fn patch_service_account(
        &self,
        ns: &str,
        name: &str,
        patch: &Value,
    ) -> Result<ServiceAccount, KubeError> {
        Api::<ServiceAccount>::namespaced(self.client.clone(), ns)
            .patch(
                name,
                &PatchParams::apply(keys::FIELD_MANAGER),
                &Patch::Merge(patch),
            )
            .await
            .map_err(api_err("patch", "serviceaccounts", Some(ns), Some(name)))
    }

    pub async fn workload(
        &self,
        ns: &str,
        kind: Kind,
        name: &str,
    ) -> Result<Option<DynamicObject>, KubeError> {
        let (ar, plural) = workload_resource(kind);
        Api::<DynamicObject>::namespaced_with(self.client.clone(), ns, &ar)
            .get_opt(name)
            .await
            .map_err(api_err("get", plural, Some(ns), Some(name)))
    }

    /// The workloads of `kind` matching a label selector (e.g. a Deployment's ReplicaSets).
    pub async fn workloads(
        &self,
        ns: &str,
        kind: Kind,
        selector: &str,
    ) -> Result<Vec<DynamicObject>, KubeError> {
        let (ar, plural) = workload_resource(kind);
        Api::<DynamicObject>::namespaced_with(self.client.clone(), ns, &ar)
            .list(&ListParams::default().labels(selector))
            .await
            .map(|l| l.items)
            .map_err(api_err("list", plural, Some(ns), None))
    }

    pub async fn patch_workload(
        &self,
        ns: &str,
        kind: Kind,
        name: &str,
        patch: &Value,
    ) -> Result<(), KubeError> {
        let (ar, plural) = workload_resource(kind);
        Api::<DynamicObject>::namespaced_with(self.client.clone(), ns, &ar)
            .patch(
                name,
                &PatchParams::apply(keys::FIELD_MANAGER),
                &Patch::Merge(patch),
            )
            .await
            .map(|_| ())
            .map_err(api_err("patch", plural, Some(ns), Some(name)))
    }

    pub async fn webhook_configurations(
        &self,
    ) -> Result<Vec<MutatingWebhookConfiguration>, KubeError> {
        Api::<MutatingWebhookConfiguration>::all(self.client.clone())
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .map_err(api_err("list", "mutatingwebhookconfigurations", None, None))
    }

    pub async fn namespace_labels(
        &self,
        ns: &str,
    ) -> Result<Option<BTreeMap<String, String>>, KubeError> {
        Api::<Namespace>::all(self.client.clone())
            .get_opt(ns)
            .await
            .map(|n| n.map(|n| n.metadata.labels.unwrap_or_default()))
            .map_err(api_err("get", "namespaces", None, Some(ns)))
    }

    /// Every namespace's labels (for webhook namespaceSelectors).
    pub async fn all_namespace_labels(
        &self,
    ) -> Result<BTreeMap<String, BTreeMap<String, String>>, KubeError> {
        Api::<Namespace>::all(self.client.clone())
            .list(&ListParams::default())
            .await
            .map(|l| {
                l.items
                    .into_iter()
                    .map(|n| {
                        (
                            n.metadata.name.unwrap_or_default(),
                            n.metadata.labels.unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .map_err(api_err("list", "namespaces", None, None))
    }

    pub async fn config_map(&self, ns: &str, name: &str) -> Result<Option<ConfigMap>, KubeError> {
        Api::<ConfigMap>::namespaced(self.client.clone(), ns)
            .get_opt(name)
            .await
            .map_err(api_err("get", "configmaps", Some(ns), Some(name)))
    }

    /// The webhook's tenant: `AZURE_TENANT_ID` of its ConfigMap in the first of `namespaces`
    /// that has one (`wi::webhook::config_namespaces` orders them), and the reads it took.
    /// Unreadable is unknown.
    pub async fn webhook_tenant(&self, namespaces: &[String]) -> (Option<String>, u32) {
        let mut reads = 0;
        for ns in namespaces {
            reads += 1;
            if let Ok(Some(cm)) = self.config_map(ns, crate::wi::webhook::CONFIG_MAP).await {
                return (
                    cm.data.and_then(|d| d.get("AZURE_TENANT_ID").cloned()),
                    reads,
                );
            }
        }
        (None, reads)
    }

    /// The issuer that tokens of this cluster carry, from a TokenRequest with Entra's audience.
    pub async fn token_issuer(&self, ns: &str, sa: &str) -> Result<Option<String>, KubeError> {
        let req = TokenRequest {
            spec: TokenRequestSpec {
                audiences: vec![keys::AUDIENCE.into()],
                expiration_seconds: Some(600),
                ..Default::default()
            },
            ..Default::default()
        };
        let resp = Api::<ServiceAccount>::namespaced(self.client.clone(), ns)
            .create_token_request(sa, &PostParams::default(), &req)
            .await
            .map_err(api_err(
                "create",
                "serviceaccounts/token",
                Some(ns),
                Some(sa),
            ))?;
        // Only the issuer is kept; the token itself is dropped here.
        Ok(resp
            .status
            .and_then(|s| crate::wi::claims::Jwt::decode(&s.token).ok())
            .and_then(|j| j.claims.iss))
    }

    /// The API server's own OIDC discovery document.
    pub async fn discovery(&self) -> Result<Value, KubeError> {
        let req = http::Request::get("/.well-known/openid-configuration")
            .body(Vec::new())
            .expect("request");
        let text = self.client.request_text(req).await.map_err(api_err(
            "get",
            "/.well-known/openid-configuration",
            None,
            None,
        ))?;
        serde_json::from_str(&text).map_err(|e| {
            KubeError::api(
                "get",
                "/.well-known/openid-configuration",
                None,
                None,
                kube::Error::SerdeError(e),
            )
        })
    }

    /// `kubectl auth can-i VERB RESOURCE -n NS`, asked before any write so a missing
    /// permission stops the command with nothing written.
    pub async fn can_i(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        ns: &str,
    ) -> Result<bool, KubeError> {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(verb.into()),
                    group: Some(group.into()),
                    resource: Some(resource.into()),
                    namespace: Some(ns.into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let out = Api::<SelfSubjectAccessReview>::all(self.client.clone())
            .create(&PostParams::default(), &review)
            .await
            .map_err(api_err("create", "selfsubjectaccessreviews", None, None))?;
        Ok(out.status.map(|s| s.allowed).unwrap_or(false))
    }

    pub async fn pod(&self, ns: &str, name: &str) -> Result<Option<Pod>, KubeError> {
        Api::<Pod>::namespaced(self.client.clone(), ns)
            .get_opt(name)
            .await
            .map_err(|e| KubeError::api("get", "pods", Some(ns), Some(name), e))
    }

    pub async fn pods(&self, ns: &str, selector: Option<&str>) -> Result<Vec<Pod>, KubeError> {
        let mut lp = ListParams::default();
        if let Some(s) = selector {
            lp = lp.labels(s);
        }
        Api::<Pod>::namespaced(self.client.clone(), ns)
            .list(&lp)
            .await
            .map(|l| l.items)
            .map_err(|e| KubeError::api("list", "pods", Some(ns), None, e))
    }

    /// The pods running as service account `sa`, selected by the server
    /// (`spec.serviceAccountName`, which admission always sets).
    pub async fn pods_of_service_account(&self, ns: &str, sa: &str) -> Result<Vec<Pod>, KubeError> {
        Api::<Pod>::namespaced(self.client.clone(), ns)
            .list(&ListParams::default().fields(&format!("spec.serviceAccountName={sa}")))
            .await
            .map(|l| l.items)
            .map_err(|e| KubeError::api("list", "pods", Some(ns), None, e))
    }

    pub async fn service_accounts(&self, ns: &str) -> Result<Vec<ServiceAccount>, KubeError> {
        Api::<ServiceAccount>::namespaced(self.client.clone(), ns)
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .map_err(|e| KubeError::api("list", "serviceaccounts", Some(ns), None, e))
    }

    /// Events recording that a controller could not create a pod (`reason=FailedCreate`): where
    /// the API server's refusals of a workload's pods (admission webhooks included) end up.
    /// Filtered by the server; at most `limit`.
    pub async fn failed_create_events(
        &self,
        ns: &str,
        limit: u32,
    ) -> Result<Vec<Event>, KubeError> {
        let lp = ListParams::default()
            .fields("reason=FailedCreate")
            .limit(limit);
        Api::<Event>::namespaced(self.client.clone(), ns)
            .list(&lp)
            .await
            .map(|l| l.items)
            .map_err(|e| KubeError::api("list", "events", Some(ns), None, e))
    }

    /// One value of a ConfigMap (`data`, then `binaryData` as UTF-8), or None when the map
    /// or the key is missing.
    pub async fn config_map_key(
        &self,
        ns: &str,
        name: &str,
        key: &str,
    ) -> Result<Option<String>, KubeError> {
        Ok(self.config_map(ns, name).await?.and_then(|c| {
            c.data.and_then(|mut d| d.remove(key)).or_else(|| {
                c.binary_data
                    .and_then(|mut b| b.remove(key))
                    .map(|b| String::from_utf8_lossy(&b.0).into_owned())
            })
        }))
    }

    /// One value of a Secret, decoded; the rest of the Secret is dropped here.
    pub async fn secret_key(
        &self,
        ns: &str,
        name: &str,
        key: &str,
    ) -> Result<Option<String>, KubeError> {
        Api::<Secret>::namespaced(self.client.clone(), ns)
            .get_opt(name)
            .await
            .map(|s| {
                s.and_then(|s| s.data)
                    .and_then(|mut d| d.remove(key))
                    .map(|b| String::from_utf8_lossy(&b.0).into_owned())
            })
            .map_err(api_err("get", "secrets", Some(ns), Some(name)))
    }

    /// A token for `sa` minted as the kubelet mints a pod's projected token: the volume's
    /// audience and lifetime, bound to the pod (it dies with it). Kept in memory only.
    pub async fn pod_token(&self, req: &PodTokenRequest<'_>) -> Result<MintedToken, KubeError> {
        let tr = TokenRequest {
            spec: TokenRequestSpec {
                audiences: vec![req.audience.to_string()],
                expiration_seconds: Some(req.expiration_seconds),
                bound_object_ref: Some(BoundObjectReference {
                    api_version: Some("v1".into()),
                    kind: Some("Pod".into()),
                    name: Some(req.pod.to_string()),
                    uid: req.pod_uid.map(str::to_string),
                }),
            },
            ..Default::default()
        };
        let resp = Api::<ServiceAccount>::namespaced(self.client.clone(), req.namespace)
            .create_token_request(req.service_account, &PostParams::default(), &tr)
            .await
            .map_err(api_err(
                "create",
                "serviceaccounts/token",
                Some(req.namespace),
                Some(req.service_account),
            ))?;
        Ok(MintedToken(
            resp.status.map(|s| s.token).unwrap_or_default(),
        ))
    }
}

/// What `Kube::pod_token` mints.
pub struct PodTokenRequest<'a> {
    pub namespace: &'a str,
    pub service_account: &'a str,
    pub audience: &'a str,
    pub expiration_seconds: i64,
    pub pod: &'a str,
    pub pod_uid: Option<&'a str>,
}

/// A service-account token. No Debug or Display: it is a credential.
pub struct MintedToken(String);

impl MintedToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}
