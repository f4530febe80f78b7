//! Endpoints of the public and sovereign clouds, overridable like a custom cloud.

use serde::Serialize;

use crate::{
    cli::{AzureArgs, CloudName},
    error::InputError,
};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cloud {
    /// ARM base URL, with a trailing slash.
    pub arm: String,
    /// Entra authority host, with a trailing slash (as the webhook injects it).
    pub authority: String,
    /// Token scope for ARM.
    pub arm_scope: String,
    /// Microsoft Graph base URL (without the version), with a trailing slash.
    pub graph: String,
    /// Token scope for Graph: always the cloud's own Graph host (a token for another cloud's
    /// Graph is refused), per Azure/azure-workload-identity `getGraphScope`.
    pub graph_scope: String,
}

fn https(what: &'static str, value: &str) -> Result<String, InputError> {
    match value.strip_prefix("https://") {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => {
            Ok(format!("{}/", value.trim_end_matches('/')))
        }
        _ => Err(InputError::new(what, value, "an https URL")),
    }
}

impl Cloud {
    pub fn from_args(args: &AzureArgs) -> Result<Cloud, InputError> {
        // Graph hosts per cloud: Learn graph/deployments (public, US Gov L4, China).
        let (arm, authority, audience, graph) = match args.cloud {
            CloudName::Public => (
                "https://management.azure.com/",
                "https://login.microsoftonline.com/",
                "https://management.azure.com",
                "https://graph.microsoft.com",
            ),
            CloudName::China => (
                "https://management.chinacloudapi.cn/",
                "https://login.chinacloudapi.cn/",
                "https://management.chinacloudapi.cn",
                "https://microsoftgraph.chinacloudapi.cn",
            ),
            CloudName::UsGov => (
                "https://management.usgovcloudapi.net/",
                "https://login.microsoftonline.us/",
                "https://management.usgovcloudapi.net",
                "https://graph.microsoft.us",
            ),
        };
        Ok(Cloud {
            arm: match &args.arm_endpoint {
                Some(url) => https("ARM endpoint", url)?,
                None => arm.to_string(),
            },
            authority: match &args.authority_host {
                Some(url) => https("authority host", url)?,
                None => authority.to_string(),
            },
            // A custom ARM endpoint keeps the cloud's token audience, as `az cloud register` does.
            arm_scope: format!("{audience}/.default"),
            graph: match &args.graph_endpoint {
                Some(url) => https("Graph endpoint", url)?,
                None => format!("{graph}/"),
            },
            graph_scope: format!("{graph}/.default"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(cloud: CloudName, arm: Option<&str>, auth: Option<&str>) -> AzureArgs {
        AzureArgs {
            subscription: None,
            cloud,
            arm_endpoint: arm.map(Into::into),
            authority_host: auth.map(Into::into),
            graph_endpoint: None,
        }
    }

    /// Graph host and `.default` scope per cloud, as data/azure-api/graph-federated-credentials
    /// README.md tabulates them; an endpoint override keeps the cloud's scope.
    #[test]
    fn graph_follows_the_cloud() {
        for (cloud, host) in [
            (CloudName::Public, "https://graph.microsoft.com"),
            (CloudName::UsGov, "https://graph.microsoft.us"),
            (CloudName::China, "https://microsoftgraph.chinacloudapi.cn"),
        ] {
            let c = Cloud::from_args(&args(cloud, None, None)).unwrap();
            assert_eq!(c.graph, format!("{host}/"));
            assert_eq!(c.graph_scope, format!("{host}/.default"));
        }
        let mut a = args(CloudName::UsGov, None, None);
        a.graph_endpoint = Some("https://127.0.0.1:9443".into());
        let c = Cloud::from_args(&a).unwrap();
        assert_eq!(c.graph, "https://127.0.0.1:9443/");
        assert_eq!(c.graph_scope, "https://graph.microsoft.us/.default");
    }

    #[test]
    fn sovereign_clouds_and_overrides() {
        let c = Cloud::from_args(&args(CloudName::China, None, None)).unwrap();
        assert_eq!(c.authority, "https://login.chinacloudapi.cn/");
        assert_eq!(c.arm_scope, "https://management.chinacloudapi.cn/.default");
        let c = Cloud::from_args(&args(
            CloudName::Public,
            Some("https://127.0.0.1:8443"),
            Some("https://127.0.0.1:8443/"),
        ))
        .unwrap();
        assert_eq!(c.arm, "https://127.0.0.1:8443/");
        assert_eq!(c.authority, "https://127.0.0.1:8443/");
        assert_eq!(c.arm_scope, "https://management.azure.com/.default");
        let e = Cloud::from_args(&args(CloudName::Public, Some("http://x"), None)).unwrap_err();
        assert_eq!(e.what, "ARM endpoint");
    }
}
