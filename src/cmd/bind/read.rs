//! Bind's read step: the input checked before any call, then every fact the plan needs, read
//! in concurrent waves. Whatever makes the binding impossible (a missing permission, a
//! workload that cannot be labelled, an issuer Entra cannot use) stops here, before any write.

use k8s_openapi::api::core::v1::ServiceAccount;
use serde_json::Value;

use super::{IdentitySummary, IssuerReport, issuer};
use crate::{
    Error,
    azure::{authz::RoleDefinition, msi::Identity},
    cli::BindArgs,
    ctx::{AzureCtx, Ctx},
    error::InputError,
    k8s::Kube,
    wi::{
        credential::Credential,
        identity::{self, IdentityRef, ResourceId},
        issuer as issuer_rules, keys, names,
        target::{Kind, Target},
        webhook,
        workload::{self, Rollout, TemplateChange},
    },
};

/// Inputs checked before any call.
pub(super) struct Checked {
    pub ns: String,
    pub sa: String,
    /// `None` with `--app` (src/cmd/bind/app.rs).
    pub identity: Option<IdentityRef>,
    pub resource_group: Option<String>,
    pub workloads: Vec<Target>,
    pub issuer: Option<String>,
    pub expiration: Option<i64>,
}

pub(super) fn check(ctx: &Ctx, args: &BindArgs) -> Result<Checked, InputError> {
    let sa = names::object_name("service account name", &args.service_account)?;
    let identity = args
        .identity
        .as_deref()
        .map(IdentityRef::parse)
        .transpose()?;
    let resource_group = args
        .resource_group
        .as_deref()
        .map(identity::resource_group)
        .transpose()?;
    if args.create_identity {
        if !matches!(identity, Some(IdentityRef::Name { .. })) {
            return Err(InputError::new(
                "identity",
                args.identity.as_deref().unwrap_or_default(),
                "a name with --create-identity (a client id or resource id names an identity that exists)",
            ));
        }
        if resource_group.is_none() {
            return Err(InputError::new(
                "resource group",
                "",
                "-g/--resource-group with --create-identity (where to create it)",
            ));
        }
    }
    let workloads = args
        .workload
        .iter()
        .map(|w| Target::parse_workload(w))
        .collect::<Result<_, _>>()?;
    let issuer = args
        .issuer
        .as_deref()
        .map(issuer_rules::parse)
        .transpose()?;
    if let Some(i) = issuer.as_deref().filter(|i| issuer_rules::is_in_cluster(i)) {
        return Err(issuer::in_cluster_refusal(i, "--issuer", None));
    }
    let expiration = match args.token_expiration {
        None => None,
        Some(d) => {
            let s = d.as_secs() as i64;
            if !(keys::MIN_TOKEN_EXPIRATION..=keys::MAX_TOKEN_EXPIRATION).contains(&s) {
                return Err(InputError::new(
                    "token expiration",
                    &format!("{s}s"),
                    "between 1h and 24h (the webhook rejects pods outside that range)",
                ));
            }
            Some(s)
        }
    };
    if let Some(n) = &args.credential_name
        && !names::is_credential_name(n)
    {
        return Err(InputError::new(
            "credential name",
            n,
            "3-120 letters, digits, '-' or '_', starting alphanumeric",
        ));
    }
    Ok(Checked {
        ns: ctx.kube.namespace.clone(),
        sa,
        identity,
        resource_group,
        workloads,
        issuer,
        expiration,
    })
}

/// Whether pods in the namespace would be mutated, as far as the cluster says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Injection {
    Unchecked(String),
    NotInstalled,
    NotServing,
    Served,
    Double(Vec<String>),
}

impl Injection {
    /// The warning for the report, with the fix for the AKS cluster when it is known.
    pub fn warning(&self, ns: &str, aks: Option<&issuer::AksCluster>) -> Option<String> {
        Some(match self {
            Injection::Served => return None,
            Injection::Unchecked(e) => {
                format!("could not list the webhook configurations ({e}): injection not checked")
            }
            Injection::NotInstalled => format!(
                "no Azure Workload Identity webhook is installed: pods will not get the token or AZURE_* variables; install it: {}",
                match aks {
                    Some(c) => format!("`az aks update -g {} -n {} --enable-workload-identity`", c.resource_group, c.name),
                    None => "AKS: `az aks update -g RESOURCE_GROUP -n CLUSTER --enable-workload-identity`; elsewhere the Helm chart (azure-workload-identity docs, \"Mutating Admission Webhook\")".into(),
                }
            ),
            Injection::NotServing => format!(
                "no workload-identity webhook serves namespace {ns} (its namespaceSelector excludes it): pods here will not be mutated"
            ),
            Injection::Double(names) => format!(
                "{} workload-identity webhooks serve namespace {ns} ({}): a double install (add-on and Helm?): remove one",
                names.len(),
                names.join(", ")
            ),
        })
    }
}

/// What the cluster says about injection: the installs serving the namespace, and the webhook's tenant.
pub(crate) struct ClusterFacts {
    pub injection: Injection,
    pub webhook_tenant: Option<String>,
}

async fn cluster_facts(k: &Kube, ns: &str) -> Result<ClusterFacts, Error> {
    let (configs, labels) = tokio::join!(k.webhook_configurations(), k.namespace_labels(ns));
    let labels = labels?.unwrap_or_default();
    let (installs, unchecked) = match configs {
        Ok(c) => (webhook::installs(&c), None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let serving = webhook::serving(&installs, ns, &labels);
    let injection = match (unchecked, serving.len()) {
        (Some(e), _) => Injection::Unchecked(e),
        (None, 0) if installs.is_empty() => Injection::NotInstalled,
        (None, 0) => Injection::NotServing,
        (None, 1) => Injection::Served,
        (None, _) => Injection::Double(serving.iter().map(|i| i.configuration.clone()).collect()),
    };
    // The webhook's tenant is in its ConfigMap, beside the install that serves this namespace.
    let (webhook_tenant, _) = k
        .webhook_tenant(&webhook::config_namespaces(&serving))
        .await;
    Ok(ClusterFacts {
        injection,
        webhook_tenant,
    })
}

/// A `--workload` as read: the object, and how its pods will take the change.
pub(super) struct WorkloadFacts {
    pub target: Target,
    pub obj: Value,
    pub rollout: Rollout,
}

/// A workload whose pods run as the ServiceAccount (a bare pod is its own owner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SaUser {
    pub owner: Target,
    pub labelled: bool,
}

pub(super) struct RoleFact {
    pub scope: String,
    pub definition: RoleDefinition,
    pub assigned: bool,
}

/// Everything the plan needs, read.
pub(super) struct Facts {
    pub sa: Option<ServiceAccount>,
    pub cluster: ClusterFacts,
    pub workloads: Vec<WorkloadFacts>,
    pub identity: Result<Identity, ResourceId>,
    pub issuer: IssuerReport,
    pub credentials: Vec<Credential>,
    pub roles: Vec<RoleFact>,
    pub sa_users: Vec<SaUser>,
}

pub(crate) fn forbidden(verb: &str, resource: &str, ns: &str) -> Error {
    InputError::new("Kubernetes permission", &format!("{verb} {resource}"), format!("'{verb}' on {resource} in namespace {ns}"))
        .with_hint(format!("your Kubernetes user may not {verb} {resource} here (`kubectl auth can-i {verb} {resource} -n {ns}`): ask for a Role that grants it; nothing was written"))
        .into()
}

/// The controller at the top of a pod's chain: its Deployment (through the ReplicaSet), or the
/// StatefulSet, DaemonSet, Job... that owns it directly.
async fn top_owner(k: &Kube, ns: &str, obj: &Value) -> Result<Option<Target>, Error> {
    let Some(owner) = workload::controller_of(obj) else {
        return Ok(None);
    };
    if !matches!(owner.kind, Kind::ReplicaSet | Kind::Job) {
        return Ok(Some(owner));
    }
    let parent = k.workload(ns, owner.kind, &owner.name).await?;
    Ok(parent
        .and_then(|p| serde_json::to_value(p).ok())
        .and_then(|p| workload::controller_of(&p))
        .or(Some(owner)))
}

/// How `target`'s pods take a change to its template, or why they cannot (with what to do).
pub(crate) async fn validate_workload(
    k: &Kube,
    ns: &str,
    change: TemplateChange<'_>,
    target: &Target,
    obj: &Value,
) -> Result<Rollout, Error> {
    // A pod's owner is a second read; a ReplicaSet's or Job's is on the object itself.
    let owner = match target.kind {
        Kind::Pod => top_owner(k, ns, obj).await?,
        _ => workload::controller_of(obj),
    };
    Ok(workload::rollout(target, obj, owner.as_ref(), change)?)
}

/// The `--workload` objects, each validated: a kind whose pods cannot take the binding is
/// refused with what to do instead, before anything is written.
async fn workload_facts(
    k: &Kube,
    ns: &str,
    sa: &str,
    objs: Vec<(Target, Option<Value>)>,
) -> Result<Vec<WorkloadFacts>, Error> {
    let mut out = Vec::new();
    for (target, obj) in objs {
        let obj = obj.ok_or_else(|| {
            InputError::new(
                "workload",
                &target.to_string(),
                format!("a {} that exists in namespace {ns}", target.kind.short()),
            )
            .with_hint(format!(
                "list them with `kubectl get {} -n {ns}`",
                target.kind.short()
            ))
        })?;
        let change = TemplateChange::Bind {
            service_account: sa,
        };
        let rollout = validate_workload(k, ns, change, &target, &obj).await?;
        out.push(WorkloadFacts {
            target,
            obj,
            rollout,
        });
    }
    Ok(out)
}

/// The workloads whose pods run as `sa`, named by their top owner (for the next steps).
/// Deployment pods are named through their ReplicaSet: the Deployment controller names a
/// ReplicaSet `<deployment>-<pod-template-hash>` and labels its pods with that hash.
pub(super) async fn sa_users(k: &Kube, ns: &str, sa: &str) -> Vec<SaUser> {
    let Ok(pods) = k.pods_of_service_account(ns, sa).await else {
        return Vec::new();
    };
    let mut out: Vec<SaUser> = Vec::new();
    for p in pods {
        let labels = p.metadata.labels.clone().unwrap_or_default();
        let v = serde_json::to_value(&p).unwrap_or_default();
        let owner = match workload::controller_of(&v) {
            Some(rs) if rs.kind == Kind::ReplicaSet => labels
                .get("pod-template-hash")
                .and_then(|h| rs.name.strip_suffix(&format!("-{h}")))
                .and_then(|d| Target::parse(&format!("deploy/{d}")).ok())
                .unwrap_or(rs),
            Some(o) => o,
            None => Target {
                kind: Kind::Pod,
                name: p.metadata.name.clone().unwrap_or_default(),
            },
        };
        let labelled = labels.get(keys::USE_LABEL).map(String::as_str) == Some("true");
        let user = SaUser { owner, labelled };
        if !out.contains(&user) {
            out.push(user);
        }
    }
    out
}

/// Finds the identity the user named; `Err(id)` only for a name that does not exist yet.
/// A name without `-g` is looked up in the whole subscription.
pub(crate) async fn resolve_identity(
    az: &AzureCtx,
    r: &IdentityRef,
    rg: Option<&str>,
) -> Result<Result<Identity, ResourceId>, Error> {
    match (r, rg) {
        (IdentityRef::ResourceId { id }, _) => match az.arm.identity(&id.path()).await? {
            Some(i) => Ok(Ok(i)),
            None => Err(not_found(az, &id.name, &id.resource_group).await),
        },
        (IdentityRef::Name { name }, Some(rg)) => {
            let id = ResourceId {
                subscription: az.subscription.clone(),
                resource_group: rg.to_string(),
                name: name.clone(),
            };
            Ok(az.arm.identity(&id.path()).await?.ok_or(id))
        }
        (IdentityRef::Name { name }, None) => {
            let all = az.arm.identities(&az.subscription, None).await?;
            let found: Vec<&Identity> = all
                .iter()
                .filter(|i| i.name.eq_ignore_ascii_case(name))
                .collect();
            match found.as_slice() {
                [one] => Ok(Ok((*one).clone())),
                [] => Err(InputError::new("identity", name, format!("a user-assigned identity in subscription {}", az.subscription))
                    .with_hint("to create it, add -g RESOURCE_GROUP --create-identity --location LOCATION; or check --subscription (`az identity list -o table`)")
                    .into()),
                several => Err(InputError::new("identity", name, "one identity of that name (several resource groups have one)")
                    .with_hint(format!("add -g with one of: {}", several.iter().map(|i| i.resource_group().unwrap_or_default()).collect::<Vec<_>>().join(", ")))
                    .into()),
            }
        }
        (IdentityRef::ClientId { client_id }, _) => {
            let all = az.arm.identities(&az.subscription, rg).await?;
            if let Some(i) = all.iter().find(|i| {
                i.properties
                    .client_id
                    .eq_ignore_ascii_case(client_id.as_str())
            }) {
                return Ok(Ok(i.clone()));
            }
            if let Some(i) = all.iter().find(|i| {
                i.properties
                    .principal_id
                    .eq_ignore_ascii_case(client_id.as_str())
            }) {
                return Err(InputError::new("client id", client_id.as_str(), "the identity's client (application) id")
                    .with_hint(format!("{client_id} is the principal (object) id of identity '{}'; its client id is {}", i.name, i.properties.client_id))
                    .into());
            }
            Err(InputError::new("client id", client_id.as_str(), format!("the client id of a user-assigned identity in subscription {}", az.subscription))
                .with_hint("list them with `az identity list --query [].{name:name,clientId:clientId} -o table`")
                .into())
        }
    }
}

/// The identity does not exist: say how to create it, in its resource group's own location.
pub(super) async fn not_found(az: &AzureCtx, name: &str, rg: &str) -> Error {
    let path = format!("/subscriptions/{}/resourcegroups/{rg}", az.subscription);
    let location = az
        .arm
        .get_opt::<Value>("get resource group", &path, "2021-04-01")
        .await
        .ok()
        .flatten()
        .and_then(|g| g["location"].as_str().map(str::to_string));
    let create = match location {
        Some(l) => format!("re-run with --create-identity --location {l} to create it"),
        None => "re-run with --create-identity --location LOCATION to create it".into(),
    };
    InputError::new(
        "identity",
        name,
        format!("a user-assigned identity in resource group {rg}"),
    )
    .with_hint(format!(
        "{create}, or check -g and --subscription (`az identity list -g {rg} -o table`)"
    ))
    .into()
}

pub(crate) fn summary(i: &Identity) -> IdentitySummary {
    IdentitySummary {
        name: i.name.clone(),
        resource_group: i.resource_group().unwrap_or_default(),
        id: i.id.clone(),
        client_id: Some(i.properties.client_id.clone()),
        principal_id: Some(i.properties.principal_id.clone()),
        tenant_id: Some(i.properties.tenant_id.clone()),
    }
}

/// Wave 1: what depends only on the input. Stops on a missing permission or a bad workload.
pub(super) async fn wave_one(
    ctx: &Ctx,
    c: &Checked,
) -> Result<
    (
        AzureCtx,
        Option<ServiceAccount>,
        ClusterFacts,
        Vec<WorkloadFacts>,
    ),
    Error,
> {
    let k = &ctx.kube;
    let ns = c.ns.as_str();
    let workload_gets =
        futures::future::join_all(c.workloads.iter().map(|w| k.workload(ns, w.kind, &w.name)));
    let (az, sa, cluster, objs, can_sa) = tokio::join!(
        ctx.azure(),
        k.service_account(ns, &c.sa),
        cluster_facts(k, ns),
        workload_gets,
        k.can_i("patch", "", "serviceaccounts", ns),
    );
    let az = az?;
    let sa = sa?;
    let cluster = cluster?;
    if !can_sa? || (sa.is_none() && !k.can_i("create", "", "serviceaccounts", ns).await?) {
        let verb = if sa.is_none() { "create" } else { "patch" };
        return Err(forbidden(verb, "serviceaccounts", ns));
    }
    let objs = c
        .workloads
        .iter()
        .cloned()
        .zip(objs)
        .map(|(t, o)| Ok((t, o?.map(|o| serde_json::to_value(o).unwrap_or_default()))))
        .collect::<Result<Vec<_>, Error>>()?;
    let workloads = workload_facts(k, ns, &c.sa, objs).await?;
    // One access review per workload, all at once.
    let reviews = futures::future::join_all(workloads.iter().map(|w| async move {
        let (ar, plural) = crate::k8s::objects::workload_resource(w.target.kind);
        (plural, k.can_i("patch", &ar.group, plural, ns).await)
    }))
    .await;
    for (plural, allowed) in reviews {
        if !allowed? {
            return Err(forbidden("patch", plural, ns));
        }
    }
    Ok((az, sa, cluster, workloads))
}

/// Each `--role` at `--scope`: its definition, and whether the principal has it already.
pub(super) async fn role_facts(
    az: &AzureCtx,
    args: &BindArgs,
    principal: Option<&str>,
) -> Result<Vec<RoleFact>, Error> {
    let lookups = args
        .scope
        .iter()
        .flat_map(|scope| args.role.iter().map(move |role| (scope, role)))
        .map(|(scope, role)| async move {
            let definition = az.arm.role_definition(scope, role).await?.ok_or_else(|| {
                InputError::new("role", role, format!("a role definition at scope {scope}"))
                    .with_hint(
                        "list roles with `az role definition list --query [].roleName -o tsv`",
                    )
            })?;
            let assigned = match principal {
                Some(p) => az
                    .arm
                    .find_assignment(scope, &definition.id, p)
                    .await?
                    .is_some(),
                None => false,
            };
            Ok::<_, Error>(RoleFact {
                scope: scope.clone(),
                definition,
                assigned,
            })
        });
    futures::future::try_join_all(lookups).await
}

/// Where bind looks for the issuer (the flag, the AKS cluster, the cluster itself).
pub(super) fn issuer_query<'a>(
    args: &'a BindArgs,
    c: &'a Checked,
    sa_exists: bool,
) -> issuer::IssuerQuery<'a> {
    issuer::IssuerQuery {
        flag: c.issuer.as_deref(),
        cluster: args.cluster.as_deref(),
        cluster_rg: args
            .cluster_resource_group
            .as_deref()
            .or(c.resource_group.as_deref()),
        ns: &c.ns,
        sa: &c.sa,
        sa_exists,
        for_entra: true,
    }
}

pub(super) async fn gather(
    ctx: &Ctx,
    args: &BindArgs,
    c: &Checked,
) -> Result<(AzureCtx, Facts), Error> {
    let (az, sa, cluster, workloads) = wave_one(ctx, c).await?;
    let ns = c.ns.as_str();

    // Wave 2: what depends on wave 1 (the login, whether the SA exists), concurrently.
    let (identity, issuer, sa_users) = tokio::join!(
        resolve_identity(
            &az,
            c.identity.as_ref().expect("an identity without --app"),
            c.resource_group.as_deref()
        ),
        issuer::find_issuer(ctx, Some(&az), issuer_query(args, c, sa.is_some())),
        async {
            match &sa {
                Some(_) => sa_users(&ctx.kube, ns, &c.sa).await,
                None => Vec::new(),
            }
        },
    );
    let identity = identity?;
    let issuer = issuer?;
    if let Err(id) = &identity
        && !args.create_identity
    {
        return Err(not_found(&az, &id.name, &id.resource_group).await);
    }

    // Wave 3: the identity's credentials, the roles, and the issuer as Entra would fetch it.
    let principal = identity
        .as_ref()
        .ok()
        .map(|i| i.properties.principal_id.clone());
    let credentials = async {
        match &identity {
            Ok(i) => az.arm.credentials(&i.id).await.map_err(Error::from),
            Err(_) => Ok(Vec::new()),
        }
    };
    let (credentials, roles, served) = tokio::join!(
        credentials,
        role_facts(&az, args, principal.as_deref()),
        issuer::check_served(&issuer),
    );
    served?;
    let facts = Facts {
        sa,
        cluster,
        workloads,
        identity,
        issuer,
        credentials: credentials?,
        roles: roles?,
        sa_users,
    };
    Ok((az, facts))
}
