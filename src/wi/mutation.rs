//! What the webhook did to a pod: the injected env per container and the projected token
//! volume, in either layout (<= v1.5 or v1.6+). Read from the pod spec only.

use k8s_openapi::api::core::v1::{Container, Pod, Volume};
use serde::Serialize;

use super::keys;

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerInjection {
    pub name: String,
    pub init: bool,
    /// The four variables, each with its value when set as a plain value.
    pub env: Vec<(String, Option<String>)>,
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Injection {
    pub volume: Option<TokenVolume>,
    pub containers: Vec<ContainerInjection>,
}

impl Injection {
    /// Whether the webhook mutated the pod at all.
    pub fn mutated(&self) -> bool {
        self.volume.is_some()
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

fn container(
    c: &Container,
    init: bool,
    volume: Option<&TokenVolume>,
    skip: &[String],
) -> ContainerInjection {
    let env = keys::INJECTED_ENV
        .iter()
        .filter_map(|k| {
            c.env
                .as_ref()?
                .iter()
                .find(|e| e.name == *k)
                .map(|e| (k.to_string(), e.value.clone()))
        })
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
        env,
        mount_path,
        skipped: skip.contains(&c.name),
    }
}

/// Reads the webhook's work off a pod.
pub fn observe(pod: &Pod) -> Injection {
    let Some(spec) = &pod.spec else {
        return Injection {
            volume: None,
            containers: vec![],
        };
    };
    let volume = token_volume(spec.volumes.as_deref().unwrap_or_default());
    let skip = skip_list(pod);
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| container(c, true, volume.as_ref(), &skip));
    let main = spec
        .containers
        .iter()
        .map(|c| container(c, false, volume.as_ref(), &skip));
    Injection {
        containers: init.chain(main).collect(),
        volume,
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
}
