//! Cluster-scoped RBAC objects (ClusterRole, ClusterRoleBinding) and namespaced RoleBindings as
//! JSON, for the identity-binding grant; and a SubjectAccessReview asked on a ServiceAccount's
//! behalf (what the AKS token proxy decides).

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::{
    Api,
    api::{
        ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
    },
};
use serde_json::Value;

use super::{Kube, KubeError, objects::api_err};
use crate::wi::keys;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RbacKind {
    ClusterRole,
    ClusterRoleBinding,
    RoleBinding,
    Role,
}

impl RbacKind {
    fn resource(self) -> (ApiResource, &'static str) {
        let (k, plural) = match self {
            RbacKind::ClusterRole => ("ClusterRole", "clusterroles"),
            RbacKind::ClusterRoleBinding => ("ClusterRoleBinding", "clusterrolebindings"),
            RbacKind::RoleBinding => ("RoleBinding", "rolebindings"),
            RbacKind::Role => ("Role", "roles"),
        };
        let gvk = GroupVersionKind::gvk("rbac.authorization.k8s.io", "v1", k);
        (ApiResource::from_gvk_with_plural(&gvk, plural), plural)
    }

    pub fn plural(self) -> &'static str {
        self.resource().1
    }
}

fn to_value(o: DynamicObject) -> Value {
    serde_json::to_value(o).unwrap_or_default()
}

impl Kube {
    /// Cluster-wide: the cluster-scoped kinds, and the namespaced ones in every namespace.
    fn rbac_api(&self, kind: RbacKind) -> Api<DynamicObject> {
        Api::all_with(self.client.clone(), &kind.resource().0)
    }

    pub async fn rbac_object(
        &self,
        kind: RbacKind,
        name: &str,
    ) -> Result<Option<Value>, KubeError> {
        self.rbac_api(kind)
            .get_opt(name)
            .await
            .map(|o| o.map(to_value))
            .map_err(api_err("get", kind.plural(), None, Some(name)))
    }

    /// Every object of `kind` (all namespaces for the namespaced kinds).
    pub async fn rbac_objects(&self, kind: RbacKind) -> Result<Vec<Value>, KubeError> {
        self.rbac_api(kind)
            .list(&ListParams::default())
            .await
            .map(|l| l.items.into_iter().map(to_value).collect())
            .map_err(api_err("list", kind.plural(), None, None))
    }

    pub async fn create_rbac_object(&self, kind: RbacKind, body: &Value) -> Result<(), KubeError> {
        let obj: DynamicObject = serde_json::from_value(body.clone()).expect("RBAC object");
        let pp = PostParams {
            field_manager: Some(keys::FIELD_MANAGER.into()),
            ..Default::default()
        };
        self.rbac_api(kind)
            .create(&pp, &obj)
            .await
            .map(|_| ())
            .map_err(api_err(
                "create",
                kind.plural(),
                None,
                obj.metadata.name.as_deref(),
            ))
    }

    /// JSON merge patch of the plugin's own fields (the body carries the resourceVersion read).
    pub async fn patch_rbac_object(
        &self,
        kind: RbacKind,
        name: &str,
        patch: &Value,
    ) -> Result<(), KubeError> {
        self.rbac_api(kind)
            .patch(
                name,
                &PatchParams::apply(keys::FIELD_MANAGER),
                &Patch::Merge(patch),
            )
            .await
            .map(|_| ())
            .map_err(api_err("patch", kind.plural(), None, Some(name)))
    }

    /// May this ServiceAccount `verb` `resource` in `group` (cluster-wide)? As the API server
    /// answers for it, with the groups its tokens carry.
    pub async fn service_account_may(
        &self,
        ns: &str,
        sa: &str,
        group: &str,
        resource: &str,
        verb: &str,
    ) -> Result<bool, KubeError> {
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(crate::wi::names::subject(ns, sa)),
                groups: Some(vec![
                    "system:serviceaccounts".into(),
                    format!("system:serviceaccounts:{ns}"),
                    "system:authenticated".into(),
                ]),
                resource_attributes: Some(ResourceAttributes {
                    group: Some(group.into()),
                    resource: Some(resource.into()),
                    verb: Some(verb.into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let out = Api::<SubjectAccessReview>::all(self.client.clone())
            .create(&PostParams::default(), &review)
            .await
            .map_err(api_err("create", "subjectaccessreviews", None, None))?;
        Ok(out.status.map(|s| s.allowed).unwrap_or(false))
    }
}
