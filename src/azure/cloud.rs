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
        let (arm, authority, audience) = match args.cloud {
            CloudName::Public => (
                "https://management.azure.com/",
                "https://login.microsoftonline.com/",
                "https://management.azure.com",
            ),
            CloudName::China => (
                "https://management.chinacloudapi.cn/",
                "https://login.chinacloudapi.cn/",
                "https://management.chinacloudapi.cn",
            ),
            CloudName::UsGov => (
                "https://management.usgovcloudapi.net/",
                "https://login.microsoftonline.us/",
                "https://management.usgovcloudapi.net",
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
        }
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
