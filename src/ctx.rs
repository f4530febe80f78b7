//! What every command starts from: the parsed global flags, the environment read once, and
//! clients built on demand (Azure only when a command needs it).

use std::sync::Arc;

use crate::{
    Error,
    azure::{
        Arm, AzureError, Cloud,
        credential::{self, AzureEnv, Login, Source},
    },
    cli::GlobalArgs,
    k8s::{self, Kube},
};

pub struct Ctx {
    pub kube: Kube,
    pub cloud: Cloud,
    pub env: AzureEnv,
    pub subscription_flag: Option<String>,
}

pub struct AzureCtx {
    pub arm: Arm,
    /// Microsoft Graph on the same login (app registrations).
    pub graph: crate::azure::graph::Graph,
    pub subscription: String,
    pub source: Source,
    pub credential: Arc<dyn azure_core::credentials::TokenCredential>,
}

impl Ctx {
    pub async fn new(global: &GlobalArgs) -> Result<Ctx, Error> {
        let cloud = Cloud::from_args(&global.azure)?;
        if let Some(ns) = &global.namespace {
            crate::wi::names::namespace(ns)?;
        }
        if let Some(s) = &global.azure.subscription {
            crate::wi::names::Guid::parse("subscription id", s)?;
        }
        if global.context.len() > 1 {
            return Err(crate::error::InputError::new(
                "--context",
                &global.context.join(","),
                "one context for this command (only inspect takes several)",
            )
            .into());
        }
        let kube = k8s::connect(
            global.kubeconfig.as_deref(),
            global.context.first().map(String::as_str),
            global.namespace.as_deref(),
        )
        .await?;
        Ok(Ctx {
            kube,
            cloud,
            env: AzureEnv::from_process(),
            subscription_flag: global.azure.subscription.clone(),
        })
    }

    /// Logs in to Azure and picks the subscription; fails with the fix when neither is possible.
    pub async fn azure(&self) -> Result<AzureCtx, AzureError> {
        let Login { credential, source } = credential::login(&self.cloud, &self.env)?;
        let subscription = credential::subscription(self.subscription_flag.as_deref()).await?;
        tracing::info!(source = source.describe(), %subscription, "Azure login");
        // Every call of the run shares one login: a refused token request is not repeated.
        let credential: Arc<dyn azure_core::credentials::TokenCredential> =
            Arc::new(credential::OneLogin::new(credential));
        let arm = Arm::new(&self.cloud, credential.clone(), source)?;
        let graph =
            crate::azure::graph::Graph::new(Arm::graph(&self.cloud, credential.clone(), source)?);
        Ok(AzureCtx {
            arm,
            graph,
            subscription,
            source,
            credential,
        })
    }
}
