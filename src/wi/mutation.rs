//! What the webhook did to a pod: the injected env per container and the projected token
//! volume, in either layout (<= v1.5 or v1.6+), which variables the user wrote instead, and
//! which container the user's code runs in. Read from the pod spec only.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Container, EnvVar, Pod, Volume};
use serde::Serialize;
use serde_json::Value;

use super::keys;
use crate::error::InputError;

/// The containers the webhook adds for `inject-proxy-sidecar` (v1.6.0 pkg/webhook/consts.go):
/// a native sidecar (an init container with restartPolicy Always) from Kubernetes 1.32, a
/// regular container in front of the others before that, and an init container.
pub const PROXY_SIDECAR: &str = "azwi-proxy";
pub const PROXY_INIT: &str = "azwi-proxy-init";
/// kubectl's own default container for exec and logs.
pub const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Layout {
    /// Webhook <= v1.5: volume `azure-identity-token` at /var/run/secrets/azure/tokens.
    Legacy,
    /// Webhook >= v1.6: volume `azure-workload-identity-reserved-<hash>` at /var/run/secrets/azure/wi.
    Reserved,
}

pub const LEGACY_VOLUME: &str = "azure-identity-token";
pub const RESERVED_VOLUME_PREFIX: &str = "azure-workload-identity-reserved-";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenVolume {
    pub name: String,
    pub layout: Layout,
    pub audience: Option<String>,
    pub expiration_seconds: Option<i64>,
    pub path: String,
}

/// Where a variable's value comes from when the spec names a source instead of a value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase", tag = "from")]
pub enum ValueRef {
    ConfigMap {
        name: String,
        key: String,
    },
    Secret {
        name: String,
        key: String,
    },
    /// A downward-API field (`metadata.name` ...) or a resource field.
    Field {
        path: String,
    },
}

impl std::fmt::Display for ValueRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueRef::ConfigMap { name, key } => write!(f, "configmap {name} key {key}"),
            ValueRef::Secret { name, key } => write!(f, "secret {name} key {key}"),
            ValueRef::Field { path } => write!(f, "field {path}"),
        }
    }
}

/// Who wrote one of the injected variables into a container's spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Origin {
    /// Written by whoever created the pod (or its template): the webhook keeps it as it is.
    User,
    /// Added by the webhook at admission.
    Webhook,
    /// The pod carries no managedFields to tell.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerInjection {
    pub name: String,
    pub init: bool,
    /// An init container with restartPolicy Always: a native sidecar, running beside the app.
    pub sidecar: bool,
    /// The four variables, each with its value when set as a plain value.
    pub env: Vec<(String, Option<String>)>,
    /// Those of the four set with `valueFrom`, and from where.
    pub refs: Vec<(String, ValueRef)>,
    /// Those of the four the pod's managedFields record a client writing. The API server
    /// records managed fields before mutating admission, so what the webhook adds is never
    /// in them (observed on the test ground, kube-apiserver 1.35).
    pub user_set: Vec<String>,
    /// Where the token volume is mounted in this container, if it is.
    pub mount_path: Option<String>,
    /// Listed in the skip-containers annotation.
    pub skipped: bool,
}

impl ContainerInjection {
    pub fn env_value(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
    }

    pub fn missing_env(&self) -> Vec<&'static str> {
        keys::INJECTED_ENV
            .iter()
            .copied()
            .filter(|k| !self.env.iter().any(|(n, _)| n == k))
            .collect()
    }

    /// The token file this container would read: `AZURE_FEDERATED_TOKEN_FILE` as set in its spec.
    pub fn token_file(&self) -> Option<&str> {
        self.env_value(keys::ENV_TOKEN_FILE)
    }

    pub fn value_ref(&self, key: &str) -> Option<&ValueRef> {
        self.refs.iter().find(|(k, _)| k == key).map(|(_, r)| r)
    }

    /// Who wrote `key` into this container's spec, when it is there at all. The webhook only
    /// ever writes plain values, so a `valueFrom` is always the user's.
    pub fn origin(&self, key: &str, tracked: bool) -> Option<Origin> {
        if !self.env.iter().any(|(k, _)| k == key) {
            return None;
        }
        Some(
            if self.value_ref(key).is_some() || self.user_set.iter().any(|k| k == key) {
                Origin::User
            } else if tracked {
                Origin::Webhook
            } else {
                Origin::Unknown
            },
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Injection {
    pub volume: Option<TokenVolume>,
    pub containers: Vec<ContainerInjection>,
    /// The pod has managedFields, so `user_set` is complete.
    pub tracked: bool,
}

impl Injection {
    /// Whether the webhook mutated the pod at all.
    pub fn mutated(&self) -> bool {
        self.volume.is_some()
    }

    pub fn container(&self, name: &str) -> Option<&ContainerInjection> {
        self.containers.iter().find(|c| c.name == name)
    }

    /// Who wrote `key` into container `name`.
    pub fn origin(&self, name: &str, key: &str) -> Option<Origin> {
        self.container(name)?.origin(key, self.tracked)
    }

    /// The containers the webhook serves: every one not in skip-containers.
    pub fn served(&self) -> impl Iterator<Item = &ContainerInjection> {
        self.containers.iter().filter(|c| !c.skipped)
    }
}

/// The webhook's token volume: a projected serviceAccountToken source for its audience.
pub fn token_volume(volumes: &[Volume]) -> Option<TokenVolume> {
    volumes.iter().find_map(|v| {
        let layout = if v.name == LEGACY_VOLUME {
            Layout::Legacy
        } else if v.name.starts_with(RESERVED_VOLUME_PREFIX) {
            Layout::Reserved
        } else {
            return None;
        };
        let sat = v
            .projected
            .as_ref()?
            .sources
            .as_ref()?
            .iter()
            .find_map(|s| s.service_account_token.as_ref())?;
        Some(TokenVolume {
            name: v.name.clone(),
            layout,
            audience: sat.audience.clone(),
            expiration_seconds: sat.expiration_seconds,
            path: sat.path.clone(),
        })
    })
}

pub fn skip_list(pod: &Pod) -> Vec<String> {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(keys::SKIP_CONTAINERS_ANNOTATION))
        .map(|s| {
            s.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn value_ref(e: &EnvVar) -> Option<ValueRef> {
    let from = e.value_from.as_ref()?;
    if let Some(r) = &from.config_map_key_ref {
        return Some(ValueRef::ConfigMap {
            name: r.name.clone(),
            key: r.key.clone(),
        });
    }
    if let Some(r) = &from.secret_key_ref {
        return Some(ValueRef::Secret {
            name: r.name.clone(),
            key: r.key.clone(),
        });
    }
    let path = from
        .field_ref
        .as_ref()
        .map(|f| f.field_path.clone())
        .or_else(|| from.resource_field_ref.as_ref().map(|r| r.resource.clone()))?;
    Some(ValueRef::Field { path })
}

/// `(container, variable)` pairs a client wrote, from the pod's managedFields
/// (`f:spec.f:containers.k:{"name":"app"}.f:env.k:{"name":"AZURE_CLIENT_ID"}`).
fn owned_env(pod: &Pod) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for m in pod.metadata.managed_fields.iter().flatten() {
        let Some(spec) = m.fields_v1.as_ref().and_then(|f| f.0.get("f:spec")) else {
            continue;
        };
        for list in ["f:containers", "f:initContainers"] {
            for (ck, cv) in spec
                .get(list)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let Some(name) = key_name(ck) else { continue };
                for ek in cv
                    .get("f:env")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if let Some(var) = key_name(ek.0) {
                        out.insert((name.clone(), var));
                    }
                }
            }
        }
    }
    out
}

/// The name in a managedFields list key `k:{"name":"x"}`.
fn key_name(k: &str) -> Option<String> {
    let v: Value = serde_json::from_str(k.strip_prefix("k:")?).ok()?;
    v.get("name")?.as_str().map(str::to_string)
}

fn container(
    c: &Container,
    init: bool,
    volume: Option<&TokenVolume>,
    skip: &[String],
    owned: &BTreeSet<(String, String)>,
) -> ContainerInjection {
    let find = |k: &str| c.env.iter().flatten().find(|e| e.name == k);
    let env = keys::INJECTED_ENV
        .iter()
        .filter_map(|k| find(k).map(|e| (k.to_string(), e.value.clone())))
        .collect();
    let refs = keys::INJECTED_ENV
        .iter()
        .filter_map(|k| Some((k.to_string(), value_ref(find(k)?)?)))
        .collect();
    let user_set = keys::INJECTED_ENV
        .iter()
        .filter(|k| owned.contains(&(c.name.clone(), k.to_string())))
        .map(|k| k.to_string())
        .collect();
    let mount_path = volume.and_then(|v| {
        c.volume_mounts
            .as_ref()?
            .iter()
            .find(|m| m.name == v.name)
            .map(|m| m.mount_path.clone())
    });
    ContainerInjection {
        name: c.name.clone(),
        init,
        sidecar: init && c.restart_policy.as_deref() == Some("Always"),
        env,
        refs,
        user_set,
        mount_path,
        skipped: skip.contains(&c.name),
    }
}

/// Reads the webhook's work off a pod.
pub fn observe(pod: &Pod) -> Injection {
    let tracked = pod
        .metadata
        .managed_fields
        .as_ref()
        .is_some_and(|m| !m.is_empty());
    let Some(spec) = &pod.spec else {
        return Injection {
            volume: None,
            containers: vec![],
            tracked,
        };
    };
    let volume = token_volume(spec.volumes.as_deref().unwrap_or_default());
    let skip = skip_list(pod);
    let owned = owned_env(pod);
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| container(c, true, volume.as_ref(), &skip, &owned));
    let main = spec
        .containers
        .iter()
        .map(|c| container(c, false, volume.as_ref(), &skip, &owned));
    Injection {
        containers: init.chain(main).collect(),
        volume,
        tracked,
    }
}

/// Every container of the pod, init containers first, as `-c` may name them.
pub fn container_names(pod: &Pod) -> Vec<String> {
    let Some(spec) = &pod.spec else {
        return vec![];
    };
    spec.init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .map(|c| c.name.clone())
        .collect()
}

/// The container the user's code runs in: kubectl's `default-container` annotation, else the
/// first regular container no webhook added (the proxy sidecar, or, when the owner's pod
/// template is known, any container it lacks), else the first container.
pub fn app_container(pod: &Pod, template: Option<&Pod>) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let names = container_names(pod);
    let annotated = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEFAULT_CONTAINER_ANNOTATION))
        .filter(|d| names.contains(d));
    if let Some(d) = annotated {
        return Some(d.clone());
    }
    let in_template = |name: &str| {
        template
            .and_then(|t| t.spec.as_ref())
            .is_none_or(|t| t.containers.iter().any(|c| c.name == name))
    };
    spec.containers
        .iter()
        .find(|c| c.name != PROXY_SIDECAR && in_template(&c.name))
        .or(spec.containers.first())
        .map(|c| c.name.clone())
}

/// Whether the app container can be told without the owner's pod template, which only helps
/// skip containers a webhook added: not needed when `-c` names one, kubectl's
/// default-container annotation does, the pod has a single container, or it has no
/// ReplicaSet or Job to read a template from. doctor then reads the container at once.
pub fn container_known_without_template(pod: &Pod, asked: Option<&str>) -> bool {
    let annotated = pod
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(DEFAULT_CONTAINER_ANNOTATION));
    let single = pod.spec.as_ref().is_some_and(|s| s.containers.len() == 1);
    let refs = pod.metadata.owner_references.as_deref().unwrap_or_default();
    let templated = matches!(
        super::target::controller(refs),
        Some(("ReplicaSet" | "Job", _))
    );
    asked.is_some() || annotated || single || !templated
}

/// `-c NAME` checked against the pod, else the app container. A name the pod lacks is bad
/// input, listed with the names it has.
pub fn pick_container(
    pod: &Pod,
    template: Option<&Pod>,
    asked: Option<&str>,
) -> Result<String, InputError> {
    let names = container_names(pod);
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    match asked {
        Some(c) if names.iter().any(|n| n == c) => Ok(c.to_string()),
        Some(c) => Err(InputError::new(
            "container",
            c,
            format!("one of pod {pod_name}'s containers: {}", names.join(", ")),
        )),
        None => app_container(pod, template)
            .ok_or_else(|| InputError::new("pod", pod_name, "a pod with at least one container")),
    }
}

/// The token file path a container of this layout gets: mount path + projected path.
pub fn expected_token_file(layout: Layout, path: &str) -> String {
    match layout {
        Layout::Legacy => format!("/var/run/secrets/azure/tokens/{path}"),
        Layout::Reserved => format!("/var/run/secrets/azure/wi/{path}"),
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Pods as the real webhook leaves them, built in code.
    use k8s_openapi::api::core::v1::{
        Container, EnvVar, PodSpec, ProjectedVolumeSource, ServiceAccountTokenProjection, Volume,
        VolumeMount, VolumeProjection,
    };

    use super::*;

    pub fn env(name: &str, value: &str) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: Some(value.into()),
            ..Default::default()
        }
    }

    pub fn token_vol(name: &str, path: &str) -> Volume {
        Volume {
            name: name.into(),
            projected: Some(ProjectedVolumeSource {
                sources: Some(vec![VolumeProjection {
                    service_account_token: Some(ServiceAccountTokenProjection {
                        audience: Some(keys::AUDIENCE.into()),
                        expiration_seconds: Some(3600),
                        path: path.into(),
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// A pod mutated by webhook v1.6 (`Reserved`) or v1.5 (`Legacy`).
    pub fn mutated_pod(layout: Layout) -> Pod {
        let (vol, mount, file) = match layout {
            Layout::Legacy => (
                LEGACY_VOLUME.to_string(),
                "/var/run/secrets/azure/tokens",
                "azure-identity-token",
            ),
            Layout::Reserved => (
                format!("{RESERVED_VOLUME_PREFIX}0123456789abcdef0123456789abcd"),
                "/var/run/secrets/azure/wi",
                "token/azure-identity-token",
            ),
        };
        let c = Container {
            name: "app".into(),
            env: Some(vec![
                env(keys::ENV_CLIENT_ID, "11111111-1111-1111-1111-111111111111"),
                env(keys::ENV_TENANT_ID, "22222222-2222-2222-2222-222222222222"),
                env(keys::ENV_TOKEN_FILE, &format!("{mount}/{file}")),
                env(
                    keys::ENV_AUTHORITY_HOST,
                    "https://login.microsoftonline.com/",
                ),
            ]),
            volume_mounts: Some(vec![VolumeMount {
                name: vol.clone(),
                mount_path: mount.into(),
                read_only: Some(true),
                ..Default::default()
            }]),
            ..Default::default()
        };
        Pod {
            spec: Some(PodSpec {
                containers: vec![c],
                volumes: Some(vec![token_vol(&vol, file)]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{fixtures::*, *};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    #[test]
    fn reads_both_layouts() {
        for (layout, file) in [
            (
                Layout::Reserved,
                "/var/run/secrets/azure/wi/token/azure-identity-token",
            ),
            (
                Layout::Legacy,
                "/var/run/secrets/azure/tokens/azure-identity-token",
            ),
        ] {
            let inj = observe(&mutated_pod(layout));
            assert!(inj.mutated());
            let v = inj.volume.as_ref().unwrap();
            assert_eq!(v.layout, layout);
            assert_eq!(v.audience.as_deref(), Some(keys::AUDIENCE));
            let c = &inj.containers[0];
            assert!(c.missing_env().is_empty());
            assert_eq!(c.token_file(), Some(file));
            assert_eq!(expected_token_file(layout, &v.path), file);
            assert!(c.mount_path.is_some());
        }
    }

    #[test]
    fn unmutated_pod_has_nothing() {
        let mut pod = mutated_pod(Layout::Reserved);
        let spec = pod.spec.as_mut().unwrap();
        spec.volumes = None;
        spec.containers[0].env = Some(vec![env(keys::ENV_CLIENT_ID, "x")]);
        let inj = observe(&pod);
        assert!(!inj.mutated());
        assert_eq!(
            inj.containers[0].missing_env(),
            vec![
                keys::ENV_TENANT_ID,
                keys::ENV_TOKEN_FILE,
                keys::ENV_AUTHORITY_HOST
            ]
        );
        assert_eq!(inj.containers[0].env_value(keys::ENV_CLIENT_ID), Some("x"));
    }

    #[test]
    fn skip_containers_annotation() {
        let mut pod = mutated_pod(Layout::Reserved);
        pod.metadata.annotations = Some(
            [(
                keys::SKIP_CONTAINERS_ANNOTATION.to_string(),
                "app; sidecar;".to_string(),
            )]
            .into(),
        );
        assert_eq!(skip_list(&pod), vec!["app", "sidecar"]);
        assert!(observe(&pod).containers[0].skipped);
    }

    fn pod_with(containers: &[&str], inits: &[(&str, Option<&str>)]) -> Pod {
        let c = |n: &str| json!({"name": n, "image": "busybox"});
        serde_json::from_value(json!({
            "metadata": {"name": "p"},
            "spec": {
                "containers": containers.iter().map(|n| c(n)).collect::<Vec<_>>(),
                "initContainers": inits.iter().map(|(n, rp)| json!({"name": n, "restartPolicy": rp})).collect::<Vec<_>>(),
            }
        }))
        .unwrap()
    }

    use serde_json::json;

    #[test]
    fn the_app_container_is_never_the_proxy_sidecar() {
        // Kubernetes < 1.32: the webhook puts azwi-proxy in front of the app container
        // (v1.6.0 pkg/webhook/webhook.go, injectProxySidecarContainer prepends it).
        let pod = pod_with(&[PROXY_SIDECAR, "app"], &[(PROXY_INIT, None)]);
        assert_eq!(app_container(&pod, None).as_deref(), Some("app"));
        // >= 1.32: a native sidecar, and another webhook's container the template lacks.
        let pod = pod_with(
            &["istio-proxy", "app", "log"],
            &[(PROXY_SIDECAR, Some("Always")), (PROXY_INIT, None)],
        );
        let template = pod_with(&["app", "log"], &[]);
        assert_eq!(app_container(&pod, Some(&template)).as_deref(), Some("app"));
        let inj = observe(&pod);
        assert!(inj.container(PROXY_SIDECAR).unwrap().sidecar);
        assert!(!inj.container(PROXY_INIT).unwrap().sidecar);
        // kubectl's annotation wins.
        let mut pod = pod_with(&["app", "log"], &[]);
        pod.metadata.annotations =
            Some([(DEFAULT_CONTAINER_ANNOTATION.to_string(), "log".to_string())].into());
        assert_eq!(app_container(&pod, None).as_deref(), Some("log"));
    }

    /// Wherever it answers yes, the template cannot change the pick; where it does change it
    /// (another webhook's container in front of the app), the answer is no.
    #[test]
    fn the_container_is_known_without_the_template_only_where_the_template_cannot_matter() {
        let owned = |mut p: Pod, kind: &str| {
            p.metadata.owner_references = Some(vec![OwnerReference {
                kind: kind.into(),
                name: "rs".into(),
                controller: Some(true),
                ..Default::default()
            }]);
            p
        };
        let template = pod_with(&["app"], &[]);
        let injected = owned(pod_with(&["istio-proxy", "app"], &[]), "ReplicaSet");
        assert_ne!(
            app_container(&injected, None),
            app_container(&injected, Some(&template))
        );
        assert!(!container_known_without_template(&injected, None));
        assert!(container_known_without_template(&injected, Some("app")));
        let mut annotated = injected.clone();
        annotated.metadata.annotations =
            Some([(DEFAULT_CONTAINER_ANNOTATION.to_string(), "app".to_string())].into());
        let single = owned(pod_with(&["app"], &[(PROXY_INIT, None)]), "Job");
        for pod in [&annotated, &single] {
            assert!(container_known_without_template(pod, None), "{pod:?}");
            assert_eq!(
                app_container(pod, None),
                app_container(pod, Some(&template))
            );
        }
        // No ReplicaSet or Job: doctor has no template to read, now or later.
        let bare = pod_with(&["istio-proxy", "app"], &[]);
        let other_owner = owned(pod_with(&["istio-proxy", "app"], &[]), "StatefulSet");
        for pod in [&bare, &other_owner] {
            assert!(container_known_without_template(pod, None), "{pod:?}");
        }
    }

    #[test]
    fn a_container_the_pod_lacks_is_bad_input() {
        let pod = pod_with(&["app"], &[("init", None)]);
        assert_eq!(pick_container(&pod, None, Some("init")).unwrap(), "init");
        let e = pick_container(&pod, None, Some("nope")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid container 'nope': expected one of pod p's containers: init, app"
        );
    }

    #[test]
    fn user_set_variables_are_told_from_injected_ones() {
        // As the API server stores a pod created with kubectl apply: the user's AZURE_CLIENT_ID
        // is in managedFields, what the webhook appended is not.
        let mut pod = mutated_pod(Layout::Reserved);
        pod.spec.as_mut().unwrap().containers[0]
            .env
            .as_mut()
            .unwrap()
            .push(serde_json::from_value(json!({"name": "X", "value": "y"})).unwrap());
        pod.metadata.managed_fields = Some(vec![serde_json::from_value(json!({
            "manager": "kubectl-client-side-apply", "operation": "Update", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {"f:env": {
                "k:{\"name\":\"AZURE_CLIENT_ID\"}": {".": {}, "f:name": {}, "f:value": {}}}}}}}
        }))
        .unwrap()]);
        let inj = observe(&pod);
        assert_eq!(inj.origin("app", keys::ENV_CLIENT_ID), Some(Origin::User));
        assert_eq!(
            inj.origin("app", keys::ENV_TENANT_ID),
            Some(Origin::Webhook)
        );
        // valueFrom is the user's even without managedFields.
        let mut pod = mutated_pod(Layout::Reserved);
        let env = pod.spec.as_mut().unwrap().containers[0]
            .env
            .as_mut()
            .unwrap();
        env[0] = serde_json::from_value(json!({"name": keys::ENV_CLIENT_ID, "valueFrom": {"configMapKeyRef": {"name": "ids", "key": "client"}}})).unwrap();
        let inj = observe(&pod);
        assert!(!inj.tracked);
        assert_eq!(inj.origin("app", keys::ENV_CLIENT_ID), Some(Origin::User));
        assert_eq!(
            inj.origin("app", keys::ENV_TENANT_ID),
            Some(Origin::Unknown)
        );
        assert_eq!(
            inj.containers[0].value_ref(keys::ENV_CLIENT_ID),
            Some(&ValueRef::ConfigMap {
                name: "ids".into(),
                key: "client".into()
            })
        );
    }
}
