use std::path::Path;

use kube::{
    Client, Config,
    config::{KubeConfigOptions, Kubeconfig},
};

use super::KubeError;

/// A connected client and the namespace commands default to.
#[derive(Clone)]
pub struct Kube {
    pub client: Client,
    pub namespace: String,
    pub context: Option<String>,
    /// The API server URL, to recognise an AKS cluster by its FQDN.
    pub server: String,
}

/// Builds the client the way kubectl would for `--kubeconfig`/`--context`/`-n`.
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    namespace: Option<&str>,
) -> Result<Kube, KubeError> {
    let boxed = |e: kube::config::KubeconfigError| KubeError::Config(Box::new(e));
    let kc = match kubeconfig {
        Some(path) => Kubeconfig::read_from(path).map_err(boxed)?,
        None => Kubeconfig::read().map_err(boxed)?,
    };
    let context_name = context
        .map(str::to_string)
        .or_else(|| kc.current_context.clone());
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..Default::default()
    };
    let config = Config::from_custom_kubeconfig(kc, &options)
        .await
        .map_err(boxed)?;
    let namespace = namespace
        .map(str::to_string)
        .unwrap_or_else(|| config.default_namespace.clone());
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|e| KubeError::Client(Box::new(e)))?;
    Ok(Kube {
        client,
        namespace,
        context: context_name,
        server,
    })
}
