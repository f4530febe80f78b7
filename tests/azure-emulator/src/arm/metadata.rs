//! `GET /metadata/endpoints?api-version=...`: ARM's anonymous cloud discovery, which
//! `az cloud register --endpoint-resource-manager` (and Terraform's azurerm) read.
//!
//! Shape: the 2022-09-01 answer is one cloud object; older api-versions answer an array of
//! clouds. Field names and order follow the response model in hashicorp/go-azure-sdk
//! `sdk/internal/metadata/client.go` (`metaDataResponse20220901`), which mirrors what
//! management.azure.com returns; the azure-cli reads it in `_arm_to_cli_mapper`
//! (azure/cli/core/cloud.py). This cloud is the public cloud except for its sign-in host and
//! Resource Manager, which are this emulator; Graph stays `https://graph.microsoft.com/` (the
//! emulator answers for it through its CONNECT proxy).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ArmError;
use crate::store::Shared;

const SINGLE_OBJECT_VERSION: &str = "2022-09-01";
const ARRAY_VERSIONS: &[&str] = &["2015-01-01", "2018-01-01", "2019-05-01", "2020-06-01"];

pub fn endpoints(st: &Shared, query: Option<&str>) -> Response {
    let api = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case("api-version"))
        .map(|(_, v)| v.into_owned());
    let cloud = cloud(st);
    match api.as_deref() {
        None => ArmError::bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
        .into_response(),
        Some(SINGLE_OBJECT_VERSION) => (StatusCode::OK, axum::Json(cloud)).into_response(),
        Some(v) if ARRAY_VERSIONS.contains(&v) => {
            (StatusCode::OK, axum::Json(json!([cloud]))).into_response()
        }
        Some(v) => {
            let mut all: Vec<&str> = ARRAY_VERSIONS.to_vec();
            all.push(SINGLE_OBJECT_VERSION);
            ArmError::bad_request(
                "InvalidApiVersionParameter",
                format!(
                    "The api-version '{v}' is invalid. The supported versions are '{}'.",
                    all.join(",")
                ),
            )
            .into_response()
        }
    }
}

fn cloud(st: &Shared) -> Value {
    let base = &st.base_url;
    json!({
        "portal": "https://portal.azure.com",
        "authentication": {
            "loginEndpoint": base,
            "audiences": [
                "https://management.core.windows.net/",
                "https://management.azure.com/",
            ],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "name": "AzureCloud",
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": format!("{base}/"),
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/quickstart-templates/aliases.json",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "microsoftGraphResourceId": "https://graph.microsoft.com/",
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
    })
}
