//! What doctor knows (`Facts`, filled by gather) and what it concludes (`Verdict`, `Report`).
//! Everything here is data: checks are pure functions from `Facts` to a `Verdict`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use serde::Serialize;

use crate::wi::{
    claims::Jwt,
    credential::Credential,
    mutation::ValueRef,
    target::{Owner, Target},
    webhook::{CreateFailure, Install},
};

/// Why a fact is missing. A missing fact is itself something to report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "gap")]
pub enum Gap {
    NotFound,
    Forbidden {
        verb: String,
        resource: String,
    },
    Unreachable {
        reason: String,
    },
    /// Not asked for this target or these flags (why).
    NotAsked {
        why: String,
    },
}

impl Gap {
    pub fn not_asked(why: impl Into<String>) -> Gap {
        Gap::NotAsked { why: why.into() }
    }
    pub fn unreachable(reason: impl Into<String>) -> Gap {
        Gap::Unreachable {
            reason: reason.into(),
        }
    }
    /// The sentence a verdict shows for this gap.
    pub fn describe(&self, what: &str) -> String {
        match self {
            Gap::NotFound => format!("{what}: not found"),
            Gap::Forbidden { verb, resource } => {
                format!("cannot read {what}: your user lacks '{verb}' on {resource}")
            }
            Gap::Unreachable { reason } => format!("cannot read {what}: {reason}"),
            Gap::NotAsked { why } => why.clone(),
        }
    }
}

pub type Fact<T> = Result<T, Gap>;

/// The issuer's discovery document, fetched anonymously as Entra fetches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub url: String,
    pub issuer: String,
    pub jwks_uri: String,
    /// Keys in the JWKS, or why it could not be fetched.
    pub jwks: Result<usize, String>,
}

/// The pod template of a workload target (deploy/sts/...).
#[derive(Debug, Clone)]
pub struct Workload {
    pub target: Target,
    /// Labels on the workload object itself (where people put the use label by mistake).
    pub labels: BTreeMap<String, String>,
    /// The template, as a pod (metadata + spec), for the same checks a pod gets.
    pub template: Pod,
}

/// The app container's AZURE_* variables as its processes see them.
#[derive(Debug, Clone)]
pub struct AppEnv {
    pub container: String,
    /// The non-empty AZURE_* variables.
    pub env: BTreeMap<String, String>,
    /// Set when the container could not be read (no shell: the runtime's sentence): `env` is
    /// then the spec's, with `valueFrom` resolved through the API.
    pub no_shell: Option<String>,
}

/// Where the token the checks decode came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `AZURE_FEDERATED_TOKEN_FILE`, read in the container.
    File,
    /// Minted through TokenRequest as the kubelet mints the projected token (the pod's service
    /// account, the volume's audience and lifetime, bound to the pod), because the container
    /// cannot be read.
    Minted {
        audience: String,
        expiration_seconds: i64,
    },
}

/// The token's header and claims (never the token itself).
#[derive(Debug, Clone)]
pub struct TokenFacts {
    pub container: String,
    pub source: TokenSource,
    /// `AZURE_FEDERATED_TOKEN_FILE` as the container's environment has it.
    pub file: Option<String>,
    /// The token decoded, or why not (unreadable, not a JWT).
    pub jwt: Result<Jwt, String>,
    /// kid of the verifying key, or why the signature does not verify.
    pub signature: Fact<Result<String, String>>,
}

#[derive(Debug, Clone)]
pub struct AzureFacts {
    pub subscription: String,
    /// The user-assigned identity whose client id the SA names, if any in the subscription.
    pub identity: Option<IdentityFacts>,
    /// Identities listed (for the "resolves" detail).
    pub identities_seen: usize,
    /// The principal id of an identity whose principal id equals the annotation (a mix-up).
    pub principal_mixup: Option<String>,
    /// What Microsoft Graph says the client id is, when no managed identity here has it.
    pub graph: Fact<GraphFacts>,
}

/// A client id that is no managed identity in the subscription, looked up in the directory.
#[derive(Debug, Clone, Default)]
pub struct GraphFacts {
    /// The application (app registration) whose client id it is.
    pub application: Option<AppFacts>,
    /// The client id is the object id of this application's service principal (a mix-up):
    /// (display name, the application's client id).
    pub sp_object_id_of: Option<(String, String)>,
    /// Other applications that hold a credential for this binding's issuer and subject:
    /// (display name, client id). Read only when the named application has none.
    pub credential_on: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct AppFacts {
    pub display_name: String,
    pub object_id: String,
    pub app_id: String,
    /// Its service principal in the tenant; none = Entra refuses it (AADSTS700016).
    pub service_principal: Option<SpFacts>,
    pub credentials: Fact<Vec<Credential>>,
}

#[derive(Debug, Clone)]
pub struct SpFacts {
    pub object_id: String,
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub struct IdentityFacts {
    pub name: String,
    pub id: String,
    pub client_id: String,
    /// The tenant ARM says the identity lives in.
    pub tenant_id: String,
    /// Its service principal's object id (recognised where a client id belongs).
    pub principal_id: String,
    pub credentials: Fact<Vec<Credential>>,
}

/// The token endpoint's answer to the pod's own token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exchange {
    Ok {
        tenant: String,
        expires: Option<i64>,
    },
    Refused {
        code: Option<u32>,
        description: String,
    },
    /// The identity-binding path: the pod's token sent through the AKS token proxy the way
    /// its SDK sends it (src/wi/token_proxy.rs). `route` is None when the SDK would refuse
    /// the pod's settings before any request.
    Proxied {
        route: Option<crate::wi::token_proxy::Route>,
        answer: ProxyAnswer,
    },
}

/// What the token proxy answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyAnswer {
    Token {
        tenant: String,
        expires: Option<i64>,
    },
    /// An HTTP refusal: the proxy's own (no AADSTS code) or Entra's, passed through.
    Refused {
        status: u16,
        description: String,
        aadsts: Option<u32>,
    },
    /// No HTTP answer: settings the SDK refuses, a host that does not resolve, a TLS
    /// handshake the pinned CA or the SNI name fails.
    Failed { reason: String },
}

/// Everything doctor checks, gathered before any check runs.
#[derive(Debug, Clone)]
pub struct Facts {
    /// Unix seconds: expiry checks stay pure.
    pub now: i64,
    pub namespace: String,
    pub target: Option<Target>,
    /// The issuer the API server declares (its own discovery document).
    pub cluster_issuer: Fact<String>,
    /// `{issuer}.well-known/openid-configuration`, fetched anonymously over https.
    pub discovery: Fact<Discovery>,
    pub webhooks: Fact<Vec<Install>>,
    pub namespace_labels: Fact<BTreeMap<String, String>>,
    /// Pods controllers could not create in the last hour (`FailedCreate` events), newest first.
    pub create_failures: Fact<Vec<CreateFailure>>,
    /// The objects a workload target's controllers record those events on: (kind, name).
    pub workload_objects: Vec<(String, String)>,
    pub workload: Fact<Workload>,
    /// What recreates the pod (or the workload's pods), through the ownerReferences.
    pub owner: Option<Owner>,
    /// The pod template the pod was made from (its owner's), when it was read: what the user
    /// wrote, before any webhook.
    pub template: Option<Pod>,
    /// The pod checked: the target pod, or the newest running pod of a workload or SA.
    pub pod: Fact<Pod>,
    /// The service account name the checks are about, and the object.
    pub sa_name: Option<String>,
    pub service_account: Fact<ServiceAccount>,
    /// Every SA in the namespace (to name the bound one when a pod runs as another).
    pub service_accounts: Fact<Vec<ServiceAccount>>,
    /// The container `-c` named, else the one the user's code runs in.
    pub container: Option<String>,
    pub app: Fact<AppEnv>,
    /// The values of the ConfigMap and Secret keys AZURE_* variables are set from.
    pub refs: BTreeMap<ValueRef, Fact<String>>,
    pub token: Fact<TokenFacts>,
    pub azure: Fact<AzureFacts>,
    pub exchange: Fact<Exchange>,
    /// `--can ACTION --scope SCOPE`: the identity's access there (src/doctor/can.rs).
    pub can: Fact<super::can::CanFacts>,
    /// The AKS identity-binding path, when the pod asks for it (src/doctor/identity_binding.rs).
    pub identity_binding: Fact<super::identity_binding::IbFacts>,
}

impl Facts {
    /// The user-assigned identity the client id resolved to, when Azure was read and has one.
    pub fn identity(&self) -> Option<&IdentityFacts> {
        self.azure.as_ref().ok().and_then(|a| a.identity.as_ref())
    }

    /// Facts with nothing gathered yet: each slot says so. Tests fill in what they need.
    pub fn empty(namespace: &str, now: i64) -> Facts {
        let na = || Gap::not_asked("not gathered");
        Facts {
            now,
            namespace: namespace.into(),
            target: None,
            cluster_issuer: Err(na()),
            discovery: Err(na()),
            webhooks: Err(na()),
            namespace_labels: Err(na()),
            create_failures: Err(na()),
            workload_objects: vec![],
            workload: Err(na()),
            owner: None,
            template: None,
            pod: Err(na()),
            sa_name: None,
            service_account: Err(na()),
            service_accounts: Err(na()),
            container: None,
            app: Err(na()),
            refs: BTreeMap::new(),
            token: Err(na()),
            azure: Err(na()),
            exchange: Err(na()),
            can: Err(na()),
            identity_binding: Err(na()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Category {
    Cluster,
    ServiceAccount,
    Pod,
    Token,
    Azure,
    /// Permissions asked for with `--can`: shown only then.
    Access,
    Exchange,
}

impl Category {
    pub fn title(self) -> &'static str {
        match self {
            Category::Cluster => "cluster",
            Category::ServiceAccount => "service account",
            Category::Pod => "pod",
            Category::Token => "token",
            Category::Azure => "azure",
            Category::Access => "azure access",
            Category::Exchange => "token exchange",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
    /// Not yet decidable (pod not running yet): `--wait` re-runs.
    Pending,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub detail: String,
    pub hint: Option<String>,
}

impl Verdict {
    pub fn pass(detail: impl Into<String>) -> Verdict {
        Verdict {
            status: Status::Pass,
            detail: detail.into(),
            hint: None,
        }
    }
    pub fn warn(detail: impl Into<String>, hint: impl Into<String>) -> Verdict {
        Verdict {
            status: Status::Warn,
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }
    pub fn fail(detail: impl Into<String>, hint: impl Into<String>) -> Verdict {
        Verdict {
            status: Status::Fail,
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }
    pub fn skip(why: impl Into<String>) -> Verdict {
        Verdict {
            status: Status::Skip,
            detail: why.into(),
            hint: None,
        }
    }
    pub fn pending(why: impl Into<String>) -> Verdict {
        Verdict {
            status: Status::Pending,
            detail: why.into(),
            hint: None,
        }
    }
}

/// One row of the check table.
pub struct Check {
    /// Stable kebab-case: the JSON `id` and the README anchor.
    pub id: &'static str,
    pub category: Category,
    pub title: &'static str,
    pub run: fn(&Facts) -> Verdict,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub id: &'static str,
    pub title: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryResult {
    pub category: Category,
    pub title: &'static str,
    pub checks: Vec<CheckResult>,
}

/// How much gather cost: the numbers `bench/doctor.sh` reports.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub kube_calls: u64,
    pub arm_calls: u64,
    /// Anonymous https fetches (issuer discovery, JWKS) and token exchanges.
    pub http_calls: u64,
    pub execs: u64,
    /// Rounds of concurrent calls: two before the exec, and the identity-binding path's after
    /// it (src/doctor/identity_binding.rs).
    pub waves: u32,
    pub gather_ms: u64,
    /// Where the time went (the last round's).
    pub phases: Phases,
    /// Gathers run (more than one with `--wait`).
    pub rounds: u32,
}

/// Milliseconds: `wave1Ms` and `containerMs` are since gather began (the end of wave 1; the
/// end of the container read and its token's checks); `wave2Ms` and `execMs` are the lengths
/// of wave 2 and of the container read (its exec), which run at once when wave 1 already
/// says which container is the app's.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Phases {
    pub wave1_ms: u64,
    pub wave2_ms: u64,
    pub exec_ms: u64,
    pub container_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub namespace: String,
    pub success: bool,
    pub categories: Vec<CategoryResult>,
    pub stats: Stats,
}

impl Report {
    pub fn failed(&self) -> bool {
        self.all().any(|c| c.status == Status::Fail)
    }
    pub fn pending(&self) -> bool {
        self.all().any(|c| c.status == Status::Pending)
    }
    pub fn all(&self) -> impl Iterator<Item = &CheckResult> {
        self.categories.iter().flat_map(|c| c.checks.iter())
    }
    pub fn get(&self, id: &str) -> Option<&CheckResult> {
        self.all().find(|c| c.id == id)
    }
}
