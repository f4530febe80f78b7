//! `kubectl azwi bind`: the walkthrough in one idempotent command. Everything is read and
//! validated first (two concurrent waves), the plan is pure (`wi::plan`), and only then is it
//! written, Azure first, so a refused permission leaves the cluster untouched.

use std::{collections::BTreeMap, time::Duration};

use serde::Serialize;
use serde_json::Value;

use crate::{
    Error,
    azure::{
        authz::{self, AssignmentBody, AssignmentProperties},
        msi::{CredentialBody, Identity},
    },
    cli::BindArgs,
    ctx::{AzureCtx, Ctx},
    error::InputError,
    wi::{
        credential::Wanted,
        identity::{self, IdentityRef, ResourceId},
        issuer, keys, names,
        plan::{self, Action, Step, StepKind},
        target::Target,
        webhook,
    },
};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BindReport {
    pub dry_run: bool,
    pub namespace: String,
    pub service_account: String,
    pub issuer: IssuerReport,
    pub identity: IdentitySummary,
    pub steps: Vec<Step>,
    pub warnings: Vec<String>,
    pub next: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuerReport {
    pub value: String,
    pub source: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySummary {
    pub name: String,
    pub resource_group: String,
    pub id: String,
    pub client_id: Option<String>,
    pub principal_id: Option<String>,
    pub tenant_id: Option<String>,
}

/// Inputs checked before any call.
pub(crate) struct Checked {
    pub ns: String,
    pub sa: String,
    pub identity: IdentityRef,
    pub resource_group: Option<String>,
    pub workloads: Vec<Target>,
    pub issuer: Option<String>,
    pub expiration: Option<i64>,
}

fn check(ctx: &Ctx, args: &BindArgs) -> Result<Checked, InputError> {
    let sa = names::object_name("service account name", &args.service_account)?;
    let identity = IdentityRef::parse(&args.identity)?;
    let resource_group = args
        .resource_group
        .as_deref()
        .map(identity::resource_group)
        .transpose()?;
    if matches!(identity, IdentityRef::Name { .. }) && resource_group.is_none() {
        return Err(InputError::new(
            "identity",
            &args.identity,
            "a client id or resource id, or a name together with -g/--resource-group",
        )
        .with_hint(format!(
            "add -g <resource group> to find or create '{}'",
            args.identity
        )));
    }
    if args.create_identity && !matches!(identity, IdentityRef::Name { .. }) {
        return Err(InputError::new(
            "identity",
            &args.identity,
            "a name with --create-identity (a client id or resource id names an identity that exists)",
        ));
    }
    let workloads = args
        .workload
        .iter()
        .map(|w| Target::parse_workload(w))
        .collect::<Result<_, _>>()?;
    let issuer = args.issuer.as_deref().map(issuer::parse).transpose()?;
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

/// What the cluster says about injection: the installs serving the namespace, and the webhook's tenant.
pub(crate) struct ClusterFacts {
    pub warnings: Vec<String>,
    pub webhook_tenant: Option<String>,
}

pub(crate) async fn cluster_facts(ctx: &Ctx, ns: &str) -> Result<ClusterFacts, Error> {
    let k = &ctx.kube;
    let (configs, labels) = tokio::join!(k.webhook_configurations(), k.namespace_labels(ns));
    let mut warnings = Vec::new();
    let installs = match configs {
        Ok(c) => webhook::installs(&c),
        Err(e) => {
            warnings.push(format!(
                "could not list the webhook configurations ({e}): injection not checked"
            ));
            Vec::new()
        }
    };
    let labels = labels?.unwrap_or_default();
    let serving = webhook::serving(&installs, ns, &labels);
    match serving.len() {
        0 if installs.is_empty() => warnings.push("no Azure Workload Identity webhook is installed: pods will not get the token or AZURE_* variables (AKS: `az aks update --enable-workload-identity`; elsewhere: the Helm chart)".into()),
        0 => warnings.push(format!("no workload-identity webhook serves namespace {ns} (its namespaceSelector excludes it): pods here will not be mutated")),
        1 => {}
        n => warnings.push(format!(
            "{n} workload-identity webhooks serve namespace {ns} ({}): a double install (add-on and Helm?) — remove one",
            serving.iter().map(|i| i.configuration.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
    // The Helm chart and the add-on give the webhook its tenant through this ConfigMap.
    let mut webhook_tenant = None;
    for ns in ["azure-workload-identity-system", "kube-system"] {
        if let Ok(Some(cm)) = k.config_map(ns, "azure-wi-webhook-config").await {
            webhook_tenant = cm.data.and_then(|d| d.get("AZURE_TENANT_ID").cloned());
            break;
        }
    }
    Ok(ClusterFacts {
        warnings,
        webhook_tenant,
    })
}

/// Finds the issuer tokens of this cluster carry, and checks the other sources agree.
/// Where to look for the issuer.
pub(crate) struct IssuerQuery<'a> {
    pub flag: Option<&'a str>,
    pub cluster: Option<&'a str>,
    pub cluster_rg: Option<&'a str>,
    pub ns: &'a str,
    pub sa: &'a str,
    pub sa_exists: bool,
}

pub(crate) async fn find_issuer(
    ctx: &Ctx,
    az: Option<&AzureCtx>,
    q: IssuerQuery<'_>,
) -> Result<IssuerReport, Error> {
    let IssuerQuery {
        flag: args_issuer,
        cluster,
        cluster_rg,
        ns,
        sa,
        sa_exists,
    } = q;
    let k = &ctx.kube;
    // What the cluster itself puts in tokens: a TokenRequest when the SA exists, else discovery.
    let (from_cluster, cluster_source) = if sa_exists {
        match k.token_issuer(ns, sa).await {
            Ok(Some(iss)) => (Some(iss), format!("a token requested for {ns}/{sa}")),
            _ => (None, String::new()),
        }
    } else {
        (None, String::new())
    };
    let (from_cluster, cluster_source) = match from_cluster {
        Some(i) => (Some(i), cluster_source),
        None => match k.discovery().await {
            Ok(d) => (
                d["issuer"].as_str().map(str::to_string),
                "the API server's /.well-known/openid-configuration".to_string(),
            ),
            Err(_) => (None, String::new()),
        },
    };
    let from_aks = match (cluster, az) {
        (Some(c), Some(az)) => Some(aks_issuer(az, c, cluster_rg).await?),
        (None, Some(az)) => aks_issuer_by_server(az, &k.server).await,
        _ => None,
    };
    let mut candidates: Vec<(String, String)> = Vec::new();
    if let Some(i) = args_issuer {
        candidates.push((i.to_string(), "--issuer".into()));
    }
    if let Some((i, src)) = from_aks {
        candidates.push((i, src));
    }
    if let Some(i) = &from_cluster {
        candidates.push((i.clone(), cluster_source));
    }
    let Some((value, source)) = candidates.first().cloned() else {
        return Err(InputError::new("issuer", "", "an https URL").with_hint("could not read the cluster's issuer: pass --issuer (AKS: `az aks show -n NAME -g RG --query oidcIssuerProfile.issuerUrl -o tsv`) or --cluster").into());
    };
    for (other, other_source) in &candidates[1..] {
        if let Some(d) = issuer::difference(other, &value) {
            return Err(InputError::new("issuer", &value, format!("the issuer tokens of this cluster carry, which {other_source} says is '{other}'"))
                .with_hint(format!("{source} and {other_source} disagree: {d}; pass --issuer with the value the cluster's tokens carry"))
                .into());
        }
    }
    let issuer = issuer::parse(&value)?;
    let notes = candidates[1..]
        .iter()
        .map(|(_, s)| format!("agrees with {s}"))
        .collect();
    Ok(IssuerReport {
        value: issuer,
        source,
        notes,
    })
}

async fn aks_issuer(
    az: &AzureCtx,
    cluster: &str,
    rg: Option<&str>,
) -> Result<(String, String), Error> {
    let id = if cluster.starts_with('/') {
        cluster.to_string()
    } else {
        let rg = rg.ok_or_else(|| {
            InputError::new(
                "cluster",
                cluster,
                "a resource id, or a name with --cluster-resource-group (or -g)",
            )
        })?;
        format!(
            "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{cluster}",
            az.subscription
        )
    };
    let mc: Option<Value> = az.arm.get_opt("get AKS cluster", &id, "2025-10-01").await?;
    let mc = mc.ok_or_else(|| {
        InputError::new("cluster", cluster, "an AKS cluster that exists").with_hint(
            "check --cluster, --cluster-resource-group and --subscription (`az aks list -o table`)",
        )
    })?;
    let url = mc
        .pointer("/properties/oidcIssuerProfile/issuerURL")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    match url {
        Some(u) => Ok((
            u.to_string(),
            format!("AKS cluster {cluster} (oidcIssuerProfile.issuerURL)"),
        )),
        None => Err(InputError::new(
            "cluster",
            cluster,
            "an AKS cluster with the OIDC issuer enabled",
        )
        .with_hint(format!(
            "az aks update -n {cluster} -g <rg> --enable-oidc-issuer --enable-workload-identity"
        ))
        .into()),
    }
}

/// The AKS cluster whose API server FQDN is the kube context's server, if any; a failure to
/// list clusters (no permission, not AKS) just means this source is not used.
async fn aks_issuer_by_server(az: &AzureCtx, server: &str) -> Option<(String, String)> {
    let host = server
        .trim_start_matches("https://")
        .split([':', '/'])
        .next()?
        .to_ascii_lowercase();
    let path = format!(
        "/subscriptions/{}/providers/Microsoft.ContainerService/managedClusters",
        az.subscription
    );
    let clusters: Vec<Value> = az
        .arm
        .list("list AKS clusters", &path, "2025-10-01")
        .await
        .ok()?;
    let mc = clusters.iter().find(|c| {
        ["/properties/fqdn", "/properties/privateFQDN"]
            .iter()
            .any(|p| {
                c.pointer(p)
                    .and_then(Value::as_str)
                    .is_some_and(|f| f.eq_ignore_ascii_case(&host))
            })
    })?;
    let url = mc
        .pointer("/properties/oidcIssuerProfile/issuerURL")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())?;
    let name = mc["name"].as_str().unwrap_or_default();
    Some((
        url.to_string(),
        format!("AKS cluster {name}, matched by the kube context's server {host}"),
    ))
}

/// Finds the identity the user named; `None` only for a name that does not exist yet.
pub(crate) async fn resolve_identity(
    az: &AzureCtx,
    r: &IdentityRef,
    rg: Option<&str>,
) -> Result<Result<Identity, ResourceId>, Error> {
    match r {
        IdentityRef::ResourceId { id } => match az.arm.identity(&id.path()).await? {
            Some(i) => Ok(Ok(i)),
            None => Err(not_found(&id.name, &id.resource_group)),
        },
        IdentityRef::Name { name } => {
            let id = ResourceId {
                subscription: az.subscription.clone(),
                resource_group: rg.unwrap_or_default().to_string(),
                name: name.clone(),
            };
            Ok(az.arm.identity(&id.path()).await?.ok_or(id))
        }
        IdentityRef::ClientId { client_id } => {
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

fn not_found(name: &str, rg: &str) -> Error {
    InputError::new("identity", name, format!("a user-assigned identity in resource group {rg}"))
        .with_hint(format!("create it with --create-identity --location <region>, or check -g and --subscription (`az identity list -g {rg} -o table`)"))
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

pub async fn run(ctx: &Ctx, args: &BindArgs) -> Result<BindReport, Error> {
    let c = check(ctx, args)?;
    let k = &ctx.kube;
    let ns = c.ns.as_str();

    // Wave 1: everything that depends only on the input, concurrently.
    let workload_gets =
        futures::future::join_all(c.workloads.iter().map(|w| k.workload(ns, w.kind, &w.name)));
    let (az, sa, facts, workloads, can_sa) = tokio::join!(
        ctx.azure(),
        k.service_account(ns, &c.sa),
        cluster_facts(ctx, ns),
        workload_gets,
        k.can_i("patch", "", "serviceaccounts", ns),
    );
    let az = az?;
    let sa = sa?;
    let facts = facts?;
    let workloads: Vec<_> = workloads.into_iter().collect::<Result<_, _>>()?;
    if !can_sa? || (sa.is_none() && !k.can_i("create", "", "serviceaccounts", ns).await?) {
        let verb = if sa.is_none() { "create" } else { "patch" };
        return Err(forbidden(verb, "serviceaccounts", ns));
    }
    for (w, obj) in c.workloads.iter().zip(&workloads) {
        if obj.is_none() {
            return Err(InputError::new(
                "workload",
                &w.to_string(),
                format!("a {} that exists in namespace {ns}", w.kind.short()),
            )
            .into());
        }
    }
    // One access review per workload, all at once.
    let reviews = futures::future::join_all(c.workloads.iter().map(|w| async move {
        let (ar, plural) = crate::k8s::objects::workload_resource(w.kind);
        (plural, k.can_i("patch", &ar.group, plural, ns).await)
    }))
    .await;
    for (plural, allowed) in reviews {
        if !allowed? {
            return Err(forbidden("patch", plural, ns));
        }
    }

    // Wave 2: what depends on wave 1 (the identity, the SA), concurrently.
    let (identity, issuer) = tokio::join!(
        resolve_identity(&az, &c.identity, c.resource_group.as_deref()),
        find_issuer(
            ctx,
            Some(&az),
            IssuerQuery {
                flag: c.issuer.as_deref(),
                cluster: args.cluster.as_deref(),
                cluster_rg: args
                    .cluster_resource_group
                    .as_deref()
                    .or(c.resource_group.as_deref()),
                ns,
                sa: &c.sa,
                sa_exists: sa.is_some(),
            }
        ),
    );
    let identity = identity?;
    let issuer = issuer?;
    let subject = names::subject(ns, &c.sa);
    let want = Wanted {
        issuer: issuer.value.clone(),
        subject: subject.clone(),
        audience: keys::AUDIENCE.into(),
    };
    let cred_name = args
        .credential_name
        .clone()
        .unwrap_or_else(|| names::credential_name(&issuer.value, ns, &c.sa));

    // The identity's credentials and each role (definition, then an existing assignment) are
    // independent reads: one concurrent wave.
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
    let role_lookups = futures::future::try_join_all(
        args.scope
            .iter()
            .flat_map(|scope| args.role.iter().map(move |role| (scope, role)))
            .map(|(scope, role)| {
                let (az, principal) = (&az, principal.as_deref());
                async move {
                    let def = az.arm.role_definition(scope, role).await?.ok_or_else(|| {
                        InputError::new("role", role, format!("a role definition at scope {scope}"))
                            .with_hint("list roles with `az role definition list --query [].roleName -o tsv`")
                    })?;
                    let existing = match principal {
                        Some(p) => az.arm.find_assignment(scope, &def.id, p).await?,
                        None => None,
                    };
                    Ok::<_, Error>((scope.clone(), def, existing.is_some()))
                }
            }),
    );
    let (existing, role_facts) = tokio::try_join!(credentials, role_lookups)?;

    let mut steps = Vec::new();
    let summary_ = match &identity {
        Ok(i) => summary(i),
        Err(id) if args.create_identity => {
            let location = args.location.clone().unwrap_or_default();
            steps.push(Step {
                kind: StepKind::Identity,
                action: Action::Create,
                target: format!("identity {}", id.name),
                detail: format!("in resource group {} ({location})", id.resource_group),
                body: Some(serde_json::json!({ "location": location })),
            });
            IdentitySummary {
                name: id.name.clone(),
                resource_group: id.resource_group.clone(),
                id: id.path(),
                client_id: None,
                principal_id: None,
                tenant_id: None,
            }
        }
        Err(id) => return Err(not_found(&id.name, &id.resource_group)),
    };
    if identity.is_ok() {
        steps.push(Step {
            kind: StepKind::Identity,
            action: Action::Unchanged,
            target: format!("identity {}", summary_.name),
            detail: format!("client id {}", summary_.client_id.as_deref().unwrap_or("")),
            body: None,
        });
    }
    let cred_step = plan::credential_step(&summary_.name, &existing, &want, &cred_name).map_err(|listed| {
        InputError::new("identity", &summary_.name, format!("an identity with room for a federated credential (it holds the maximum of {})", keys::MAX_FEDERATED_CREDENTIALS))
            .with_hint(format!("delete one you no longer need (`az identity federated-credential delete`), or use another identity; it holds: {}", listed.join("; ")))
    })?;
    steps.push(cred_step);

    // Role assignments are planned once the principal is known (a new identity: at apply time).
    let mut roles = Vec::new();
    for (scope, def, exists) in role_facts {
        let action = if exists {
            Action::Unchanged
        } else {
            Action::Create
        };
        steps.push(Step {
            kind: StepKind::RoleAssignment,
            action,
            target: format!("role '{}' on {scope}", def.properties.role_name),
            detail: format!(
                "for principal {}",
                summary_.principal_id.as_deref().unwrap_or("<new identity>")
            ),
            body: summary_
                .principal_id
                .as_ref()
                .filter(|_| action == Action::Create)
                .map(|p| serde_json::to_value(assignment_body(&def.id, p)).unwrap()),
        });
        roles.push((scope, def.id));
    }

    let tenant_ann = tenant_annotation(
        summary_.tenant_id.as_deref(),
        facts.webhook_tenant.as_deref(),
    );
    let sa_annotations = sa
        .as_ref()
        .map(|s| s.metadata.annotations.clone().unwrap_or_default());
    let client_id_for_plan = summary_
        .client_id
        .clone()
        .unwrap_or_else(|| "<client id of the new identity>".into());
    steps.push(plan::service_account_step(
        ns,
        &c.sa,
        sa_annotations.as_ref(),
        &plan::owned_annotations(&client_id_for_plan, tenant_ann.as_deref(), c.expiration),
    ));
    for (w, obj) in c.workloads.iter().zip(&workloads) {
        let obj = serde_json::to_value(obj.as_ref().expect("checked above")).unwrap_or_default();
        let template = plan::template_path(w.kind)
            .iter()
            .try_fold(&obj, |v, k| v.get(*k));
        steps.push(plan::workload_step(
            w.kind,
            &w.to_string(),
            template,
            &c.sa,
            true,
        ));
    }

    let mut report = BindReport {
        dry_run: args.dry_run,
        namespace: ns.to_string(),
        service_account: c.sa.clone(),
        issuer,
        identity: summary_,
        steps,
        warnings: facts.warnings,
        next: Vec::new(),
    };
    if !args.dry_run {
        apply(
            ctx,
            &az,
            &mut report,
            &roles,
            facts.webhook_tenant.as_deref(),
            c.expiration,
            sa_annotations.as_ref(),
        )
        .await?;
    }
    report.next = next_steps(&report);
    Ok(report)
}

/// The tenant annotation is needed only when the identity's tenant is not the webhook's
/// (or the webhook's is unknown: then being explicit is the safe side).
fn tenant_annotation(
    identity_tenant: Option<&str>,
    webhook_tenant: Option<&str>,
) -> Option<String> {
    match (identity_tenant, webhook_tenant) {
        (Some(t), Some(w)) if t.eq_ignore_ascii_case(w) => None,
        (t, _) => t.map(str::to_string),
    }
}

fn assignment_body(role_definition_id: &str, principal_id: &str) -> AssignmentBody {
    AssignmentBody {
        properties: AssignmentProperties {
            role_definition_id: role_definition_id.to_string(),
            principal_id: principal_id.to_string(),
            principal_type: Some("ServicePrincipal".into()),
        },
    }
}

pub(crate) fn forbidden(verb: &str, resource: &str, ns: &str) -> Error {
    InputError::new("Kubernetes permission", &format!("{verb} {resource}"), format!("'{verb}' on {resource} in namespace {ns}"))
        .with_hint(format!("your Kubernetes user may not {verb} {resource} here (`kubectl auth can-i {verb} {resource} -n {ns}`): ask for a Role that grants it; nothing was written"))
        .into()
}

/// Executes the plan's writes in order: identity, credential, roles (Azure), then the cluster.
async fn apply(
    ctx: &Ctx,
    az: &AzureCtx,
    report: &mut BindReport,
    roles: &[(String, String)],
    webhook_tenant: Option<&str>,
    expiration: Option<i64>,
    sa_annotations: Option<&BTreeMap<String, String>>,
) -> Result<(), Error> {
    let k = &ctx.kube;
    let ns = report.namespace.clone();
    let mut identity_created = false;
    for i in 0..report.steps.len() {
        let step = report.steps[i].clone();
        if !step.action.writes() {
            continue;
        }
        match step.kind {
            StepKind::Identity => {
                let location = step
                    .body
                    .as_ref()
                    .and_then(|b| b["location"].as_str())
                    .unwrap_or_default()
                    .to_string();
                let created = az
                    .arm
                    .create_identity(&report.identity.id, &location)
                    .await?;
                report.identity = summary(&created);
                identity_created = true;
            }
            StepKind::FederatedCredential => {
                let body: CredentialBody =
                    serde_json::from_value(step.body.clone().expect("credential body"))
                        .expect("credential body");
                let name = step
                    .target
                    .rsplit(": ")
                    .next()
                    .unwrap_or_default()
                    .to_string();
                az.arm
                    .put_credential(&report.identity.id, &name, &body)
                    .await?;
            }
            StepKind::RoleAssignment => {}
            StepKind::ServiceAccount => {}
            StepKind::Workload => {}
        }
    }
    // Roles need the principal id, which a new identity only has now.
    if let Some(principal) = report.identity.principal_id.clone() {
        let role_steps: Vec<usize> = report
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == StepKind::RoleAssignment && s.action.writes())
            .map(|(i, _)| i)
            .collect();
        for (idx, (scope, def)) in role_steps.into_iter().zip(roles) {
            let name = authz::assignment_name(scope, def, &principal);
            let body = assignment_body(def, &principal);
            // A brand-new principal takes a while to replicate to Authorization: wait for it.
            let patience = if identity_created {
                Duration::from_secs(120)
            } else {
                Duration::from_secs(30)
            };
            az.arm.put_assignment(scope, &name, &body, patience).await?;
            report.steps[idx].body = Some(serde_json::to_value(&body).unwrap());
            report.steps[idx].detail = format!("for principal {principal} (assignment {name})");
        }
    }
    // The cluster, now that Azure holds the credential.
    let client_id = report.identity.client_id.clone().unwrap_or_default();
    for step in report.steps.iter_mut().filter(|s| s.action.writes()) {
        match step.kind {
            StepKind::ServiceAccount => {
                // Recomputed: a new identity's client id is only known now.
                let tenant =
                    tenant_annotation(report.identity.tenant_id.as_deref(), webhook_tenant);
                let wanted = plan::owned_annotations(&client_id, tenant.as_deref(), expiration);
                let fresh = plan::service_account_step(
                    &ns,
                    &report.service_account,
                    sa_annotations,
                    &wanted,
                );
                match fresh.action {
                    Action::Create => {
                        k.create_service_account(&ns, fresh.body.as_ref().expect("body"))
                            .await?;
                    }
                    Action::Update => {
                        k.patch_service_account(
                            &ns,
                            &report.service_account,
                            fresh.body.as_ref().expect("body"),
                        )
                        .await?;
                    }
                    _ => {}
                }
                *step = fresh;
            }
            StepKind::Workload => {
                let target = Target::parse(&step.target).expect("planned target");
                k.patch_workload(
                    &ns,
                    target.kind,
                    &target.name,
                    step.body.as_ref().expect("patch"),
                )
                .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn next_steps(r: &BindReport) -> Vec<String> {
    let mut next = Vec::new();
    let changed = |kind| r.steps.iter().any(|s| s.kind == kind && s.action.writes());
    if changed(StepKind::FederatedCredential) {
        next.push("a new federated credential can take a minute or two to propagate: a token exchange may fail with AADSTS70021 meanwhile".into());
    }
    if changed(StepKind::Workload) {
        next.push(format!(
            "the patched workloads roll their pods; watch with `kubectl rollout status -n {}`",
            r.namespace
        ));
    }
    if r.steps
        .iter()
        .any(|s| s.kind == StepKind::ServiceAccount && s.action == Action::Update)
    {
        next.push(format!(
            "pods already running as {}/{} keep their old settings: the webhook only mutates new pods (recreate them, e.g. `kubectl rollout restart`)",
            r.namespace, r.service_account
        ));
    }
    if !changed(StepKind::Workload) {
        next.push(format!("label the pods' template with {}: \"true\" and set serviceAccountName: {} (or re-run with --workload deploy/NAME)", keys::USE_LABEL, r.service_account));
    }
    next.push(format!(
        "check a pod with `kubectl azwi doctor pod/NAME -n {}`",
        r.namespace
    ));
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_annotation_only_when_needed() {
        assert_eq!(tenant_annotation(Some("T"), Some("t")), None);
        assert_eq!(
            tenant_annotation(Some("a"), Some("b")).as_deref(),
            Some("a")
        );
        assert_eq!(tenant_annotation(Some("a"), None).as_deref(), Some("a"));
        assert_eq!(tenant_annotation(None, None), None);
    }
}
