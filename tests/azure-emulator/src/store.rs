//! In-memory state. Everything a test can observe is keyed by subscription (or by an issuer
//! path / client id the test created), so parallel tests never see each other's data.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::jwt::RsaSigner;

pub type Shared = Arc<AppState>;

pub struct AppState {
    pub world: Mutex<World>,
    /// Signs the access tokens this emulator issues (and publishes them at discovery/v2.0/keys).
    pub signer: RsaSigner,
    /// Outbound https client (issuer discovery, JWKS), trusting our CA and the configured one.
    pub http: reqwest::Client,
    /// `https://127.0.0.1:PORT`, used to build absolute links.
    pub base_url: String,
}

impl AppState {
    /// The lock is never held across an await point, so a poisoned lock only follows a panic in
    /// a handler; the state is still usable for the other tests.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The claims of an access token this emulator signed (ARM's and Graph's front doors).
    pub fn own_token_claims(&self, token: &str) -> Option<Value> {
        let decoded = crate::jwt::decode(token).ok()?;
        decoded.verify(&self.signer.jwks()).ok()?;
        Some(decoded.claims)
    }
}

#[derive(Default)]
pub struct World {
    pub tenants: HashSet<String>,
    /// Keyed by lower-case subscription id.
    pub subs: HashMap<String, Subscription>,
    /// App registrations (service principals with a secret), keyed by client id.
    pub apps: HashMap<String, App>,
    /// Directory objects that role assignments may name, keyed by object id.
    pub principals: HashMap<String, Principal>,
    /// OIDC issuer hosts, keyed by path (`/<tenant>/<uuid>/`).
    pub issuers: BTreeMap<String, IssuerHost>,
    /// Identities (lower-case resource id) with a federated-credential write in flight.
    pub fic_writes_in_flight: HashSet<String>,
    /// Token requests per client id (lower case), whatever their answer.
    pub token_requests: HashMap<String, u64>,
    /// Mutating Microsoft Graph requests per calling client id (lower case), answered or
    /// refused, like ARM's write counter: a test of idempotence asserts a re-run sends none
    /// (per caller, so tests running side by side in one tenant do not count each other's).
    pub graph_writes: HashMap<String, u64>,
    /// Management groups, keyed by lower-case name (see arm/rbac.rs).
    pub management_groups: BTreeMap<String, ManagementGroup>,
    /// Entra group object id -> the object ids of its direct members (lower-case).
    pub group_members: HashMap<String, BTreeSet<String>>,
}

pub struct Subscription {
    pub id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub rgs: BTreeMap<String, ResourceGroup>,
    /// Keyed by `<rg lower>/<name lower>`.
    pub identities: BTreeMap<String, Identity>,
    /// Keyed by lower-case role assignment id.
    pub role_assignments: BTreeMap<String, RoleAssignment>,
    /// Keyed by `<rg lower>/<name lower>`.
    pub clusters: BTreeMap<String, Cluster>,
    pub faults: Vec<Fault>,
    pub writes: BTreeMap<String, u64>,
    pub settings: Settings,
    /// Custom role definitions created at this subscription, keyed by lower-case GUID.
    pub custom_roles: BTreeMap<String, crate::arm::roles::Role>,
    /// Deny assignments at this subscription or below, keyed by lower-case id.
    pub deny_assignments: BTreeMap<String, DenyAssignment>,
    /// The management group this subscription sits in (lower-case name).
    pub management_group: Option<String>,
    /// Long-running operations by id, polled at their Location / Azure-AsyncOperation.
    pub operations: HashMap<String, crate::arm::lro::Operation>,
    /// Errors the next identity-binding operations end with (control API), oldest first.
    pub binding_failures: std::collections::VecDeque<Value>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// A new FIC is not usable for the token exchange for this long (AADSTS70021 meanwhile).
    pub fic_propagation_seconds: f64,
    /// A new identity's principal is not assignable for this long (PrincipalNotFound meanwhile).
    pub principal_propagation_seconds: f64,
    /// Artificial latency inside every FIC write, to provoke the concurrent-write 409.
    pub fic_write_latency_ms: u64,
    /// Page size of identity lists (nextLink when exceeded).
    pub page_size: usize,
    /// How far Entra's clock runs ahead of this machine's, so a fresh token can be seen as
    /// expired (AADSTS700024) without waiting out its lifetime.
    pub clock_offset_seconds: i64,
    /// Which AADSTS code a token that matches no federated credential gets.
    pub fic_mismatch_codes: MismatchCodes,
    /// How long a long-running operation (resource group delete) stays in progress.
    pub async_operation_seconds: f64,
    /// `Retry-After` on 202s. ARM sends 15 for a resource group delete; shorter here so that
    /// clients that honour it (az does) keep the tests quick.
    pub retry_after_seconds: u64,
}

/// Entra answers the same mismatch with a per-field code (700211 issuer, 700212 audience,
/// 700213 subject: Azure/azure-workload-identity#1200, Azure/login#482) or with the generic
/// AADSTS70021 "No matching federated identity record found for presented assertion"
/// (Azure/azure-workload-identity#616, #340): both are in public reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MismatchCodes {
    #[default]
    Specific,
    Generic,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            fic_propagation_seconds: 0.0,
            principal_propagation_seconds: 0.0,
            fic_write_latency_ms: 0,
            page_size: 100,
            clock_offset_seconds: 0,
            fic_mismatch_codes: MismatchCodes::Specific,
            async_operation_seconds: 0.0,
            retry_after_seconds: 1,
        }
    }
}

impl Subscription {
    pub fn new(id: String, tenant_id: String, display_name: String) -> Self {
        Self {
            id,
            tenant_id,
            display_name,
            rgs: BTreeMap::new(),
            identities: BTreeMap::new(),
            role_assignments: BTreeMap::new(),
            clusters: BTreeMap::new(),
            faults: Vec::new(),
            writes: BTreeMap::new(),
            settings: Settings::default(),
            custom_roles: BTreeMap::new(),
            deny_assignments: BTreeMap::new(),
            management_group: None,
            operations: HashMap::new(),
            binding_failures: Default::default(),
        }
    }
}

pub struct ResourceGroup {
    pub name: String,
    pub location: String,
    pub tags: Option<Map<String, Value>>,
}

pub struct Identity {
    pub rg: String,
    pub name: String,
    pub location: String,
    pub tags: Option<Map<String, Value>>,
    pub isolation_scope: String,
    pub tenant_id: String,
    pub principal_id: String,
    pub client_id: String,
    /// In creation order, as the service lists them.
    pub fics: Vec<Fic>,
}

#[derive(Clone)]
pub struct Fic {
    pub name: String,
    pub issuer: String,
    /// Empty for a flexible credential (one with `claims` instead).
    pub subject: String,
    pub audiences: Vec<String>,
    /// A flexible credential's `claimsMatchingExpression` (`{"value", "languageVersion"}`).
    pub claims: Option<Value>,
    /// When issuer/subject/audience last changed (propagation is measured from here).
    pub changed: Instant,
}

#[derive(Clone)]
pub struct RoleAssignment {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub role_definition_guid: String,
    pub principal_id: String,
    pub principal_type: String,
    pub created_on: String,
    pub created_by: String,
    /// RoleAssignmentProperties.description (Authorization 2022-04-01).
    pub description: Option<String>,
    /// ABAC condition and its version (`2.0`), as PUT.
    pub condition: Option<String>,
    pub condition_version: Option<String>,
}

/// A management group: a parent (none = directly under the tenant root group), and the
/// role and deny assignments made at its scope.
pub struct ManagementGroup {
    pub name: String,
    pub tenant_id: String,
    pub display_name: String,
    pub parent: Option<String>,
    pub role_assignments: BTreeMap<String, RoleAssignment>,
    pub deny_assignments: BTreeMap<String, DenyAssignment>,
}

/// A deny assignment as ARM returns it (Azure creates them; the control API stands in).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DenyAssignment {
    pub id: String,
    pub name: String,
    pub properties: DenyProperties,
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DenyProperties {
    pub deny_assignment_name: String,
    pub description: String,
    pub permissions: Vec<crate::arm::roles::Permission>,
    pub scope: String,
    pub do_not_apply_to_child_scopes: bool,
    pub principals: Vec<PrincipalRef>,
    pub exclude_principals: Vec<PrincipalRef>,
    pub is_system_protected: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_version: Option<String>,
}

/// `{"id","type"}` as the Authorization common types define `Principal`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PrincipalRef {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Default)]
pub struct Cluster {
    pub rg: String,
    pub name: String,
    pub location: String,
    pub fqdn: String,
    pub issuer_url: Option<String>,
    pub workload_identity: bool,
    pub kubernetes_version: String,
    /// The Kubernetes API server the cluster's kubeconfigs point at (control API).
    pub api_server: Option<ApiServer>,
    /// `properties.dnsPrefix` of an ARM PUT (the name otherwise).
    pub dns_prefix: Option<String>,
    /// `properties.apiServerAccessProfile` as far as it is modelled (API server VNet integration).
    pub api_server_access: Option<ApiServerAccess>,
    pub tags: Map<String, Value>,
    pub state: ProvisioningState,
    /// Keyed by lower-case binding name.
    pub identity_bindings: BTreeMap<String, crate::arm::identity_bindings::IdentityBinding>,
}

/// `provisioningState` of AKS resources (managedClusters, identityBindings).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum ProvisioningState {
    #[default]
    Succeeded,
    Creating,
    Updating,
    Deleting,
    Failed,
}

impl ProvisioningState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "Succeeded",
            Self::Creating => "Creating",
            Self::Updating => "Updating",
            Self::Deleting => "Deleting",
            Self::Failed => "Failed",
        }
    }
}

/// `ManagedClusterAPIServerAccessProfile`'s VNet-integration part: `enableVnetIntegration` and
/// the delegated `subnetId` (the 2026-04-01 model in PyPI azure-mgmt-containerservice 41.6.0,
/// `models/_models.py`: `ManagedClusterProperties.api_server_access_profile`, REST name
/// `apiServerAccessProfile`). Identity bindings do not support such clusters
/// (identity-bindings-concepts.md, Limitations).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiServerAccess {
    pub enable_vnet_integration: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
}

/// Where and how a kubeconfig from listClusterUserCredential reaches the API server.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiServer {
    pub server: String,
    /// base64 PEM, as in a kubeconfig's `certificate-authority-data`.
    pub certificate_authority_data: String,
    pub client_certificate_data: String,
    pub client_key_data: String,
}

pub struct App {
    pub client_id: String,
    /// None for an application registered through Graph (it has only federated credentials).
    pub secret: Option<String>,
    /// The service principal's object id (what role assignments name).
    pub object_id: String,
    /// The application object's own id (Graph `/applications/{id}`), not the client id.
    pub app_object_id: String,
    pub display_name: String,
    pub tenant_id: String,
    /// Microsoft Graph application permissions granted to it (the `roles` of its Graph tokens).
    pub graph_roles: Vec<String>,
    /// The service principal in its tenant: none until one is created for a Graph-registered
    /// app; Entra refuses tokens for an app without one, or with a disabled one.
    pub sp: Option<ServicePrincipal>,
    /// Federated identity credentials on the application object, in creation order.
    pub fics: Vec<AppFic>,
    /// Object ids of the service principals that own the application (the creator, when a
    /// service principal created it: what `Application.ReadWrite.OwnedBy` is limited to).
    pub owners: Vec<String>,
    /// The alternate key `uniqueName`, set on creation only.
    pub unique_name: Option<String>,
    pub created: String,
    /// The subscription the control API made this principal for: whose test settings (a clock
    /// set ahead, mismatch codes) its token requests see. None for Graph-registered apps.
    pub home_subscription: Option<String>,
}

pub struct ServicePrincipal {
    pub account_enabled: bool,
    pub tags: Vec<String>,
}

/// A federated credential on an application: Graph gives it an id and an optional description,
/// which managed identities' credentials (ARM) do not have.
#[derive(Clone)]
pub struct AppFic {
    pub id: String,
    pub description: Option<String>,
    pub fic: Fic,
}

pub struct Principal {
    pub tenant_id: String,
    pub kind: String,
    pub display_name: Option<String>,
    /// Role assignments naming this principal fail with PrincipalNotFound before this instant.
    pub visible_at: Instant,
}

#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub id: u64,
    pub method: Option<String>,
    pub path_contains: String,
    pub remaining: u32,
    pub fired: u32,
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub delay_ms: Option<u64>,
}

pub struct IssuerHost {
    pub jwks: JwksSource,
    pub mode: IssuerMode,
    /// Served instead of the real keys in `WrongKey` mode.
    pub wrong_key: Arc<RsaSigner>,
    pub cache: Option<(Instant, Value)>,
}

pub enum JwksSource {
    Upstream(String),
    Static(Value),
}

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssuerMode {
    Normal,
    WrongKey,
    NotFound,
}

pub const JWKS_CACHE: Duration = Duration::from_secs(5);

/// Fresh GUID in the lower-case hyphenated form Azure uses.
pub fn guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}
