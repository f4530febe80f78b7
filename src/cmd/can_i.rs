//! `kubectl azwi can-i ACTION --scope SCOPE KIND/NAME`: the workload's Azure identity, what ARM
//! holds for it around the scope, ARM's rules applied (src/wi/rbac), and what would grant it.
//!
//! Waves: the target object (then its ServiceAccount) beside the Azure login and the
//! subscription's identity list; then three lists at once (assignments at and above the scope,
//! the principal's other assignments, deny assignments); then each role definition once. A "no"
//! for an action the short-name table does not know lists the role definitions once more to
//! name the narrowest built-in role.

use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::{
    Error,
    azure::{AzureError, rbac::Cost},
    cli::CanIArgs,
    ctx::Ctx,
    error::{InputError, Unanswered},
    wi::{
        keys,
        names::Guid,
        rbac::{self, Action, Allowed, Decision, explain, scope::Scope},
        target::{Kind, Target},
    },
};

/// The question, validated before any call.
#[derive(Debug, Clone)]
pub struct Ask {
    pub action: Action,
    pub scope: Scope,
    pub target: Target,
    pub principal_id: Option<Guid>,
}

pub fn check(args: &CanIArgs) -> Result<Ask, InputError> {
    let target = Target::parse(&args.target)?;
    Ok(Ask {
        action: Action::parse(&args.action, args.data_action)?,
        scope: Scope::parse(&args.scope)?,
        target,
        principal_id: args
            .principal_id
            .as_deref()
            .map(|p| Guid::parse("principal id", p))
            .transpose()?,
    })
}

/// Whose access was checked.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    pub namespace: String,
    pub service_account: String,
    pub client_id: Option<String>,
    /// The object id role assignments name.
    pub object_id: Option<String>,
    /// `managedIdentity` (found by client id in the subscription) or `given` (--principal-id).
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

/// The narrowest grant that would answer yes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fix {
    pub role: String,
    pub scope: String,
    pub az: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub kube_calls: u64,
    pub arm_calls: u64,
    /// Rounds of concurrent calls: cluster + identity, assignment lists, role definitions
    /// (+ the role list that names a fix).
    pub waves: u32,
    pub ms: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub allowed: Allowed,
    pub action: Action,
    pub scope: String,
    pub target: String,
    pub principal: Principal,
    /// One sentence: why.
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nearest: Option<String>,
    pub decision: Decision,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    pub notes: Vec<String>,
    pub stats: Stats,
}

fn template_service_account(kind: Kind, obj: &Value) -> String {
    let ptr = if kind == Kind::CronJob {
        "/spec/jobTemplate/spec/template/spec/serviceAccountName"
    } else {
        "/spec/template/spec/serviceAccountName"
    };
    obj.pointer(ptr)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_string()
}

fn missing(what: String, hint: &str) -> Error {
    Unanswered {
        what,
        hint: hint.into(),
    }
    .into()
}

/// The target's ServiceAccount and its client-id annotation (two reads for a pod or workload).
async fn service_account(
    ctx: &Ctx,
    t: &Target,
    kube_calls: &mut u64,
) -> Result<(String, Option<String>), Error> {
    let (k, ns) = (&ctx.kube, ctx.kube.namespace.as_str());
    let not_found = || {
        missing(
            format!("{t} not found in namespace {ns}"),
            "check the name and -n/--namespace (`kubectl get pods,deploy,sa -n NS`)",
        )
    };
    *kube_calls += 1;
    let sa = match t.kind {
        Kind::ServiceAccount => t.name.clone(),
        Kind::Pod => {
            let pod = k.pod(ns, &t.name).await?.ok_or_else(not_found)?;
            pod.spec
                .and_then(|s| s.service_account_name)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "default".into())
        }
        kind => {
            let obj = k.workload(ns, kind, &t.name).await?.ok_or_else(not_found)?;
            template_service_account(kind, &obj.data)
        }
    };
    if t.kind != Kind::ServiceAccount {
        *kube_calls += 1;
    }
    let obj = k.service_account(ns, &sa).await?.ok_or_else(|| {
        missing(
            format!("serviceaccount {sa} (used by {t}) not found in namespace {ns}"),
            "create and bind it: kubectl azwi bind SA --identity ...",
        )
    })?;
    let client_id = obj
        .metadata
        .annotations
        .and_then(|a| a.get(keys::CLIENT_ID_ANNOTATION).cloned())
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    Ok((sa, client_id))
}

/// The managed identity with this client id: its object id and name.
fn find_identity(
    ids: &[crate::azure::msi::Identity],
    client_id: &str,
    subscription: &str,
) -> Result<(String, String), Error> {
    if let Some(i) = ids
        .iter()
        .find(|i| i.properties.client_id.eq_ignore_ascii_case(client_id))
    {
        return Ok((i.properties.principal_id.clone(), i.name.clone()));
    }
    if let Some(i) = ids
        .iter()
        .find(|i| i.properties.principal_id.eq_ignore_ascii_case(client_id))
    {
        return Err(missing(
            format!(
                "the client-id annotation {client_id} is the principal (object) id of identity {}, not its client id",
                i.name
            ),
            &format!(
                "annotate the ServiceAccount with {} (kubectl azwi bind SA --identity {})",
                i.properties.client_id, i.name
            ),
        ));
    }
    Err(missing(
        format!(
            "client id {client_id} matches no user-assigned identity in subscription {subscription}"
        ),
        "for an app registration, pass its service principal's object id: --principal-id $(az ad sp show --id CLIENT-ID --query id -o tsv) (kubectl azwi cannot read Microsoft Graph yet); for an identity in another subscription, pass --subscription",
    ))
}

/// Who the ServiceAccount is to Azure: the given principal id, or the managed identity its
/// client id names (`None`: the ServiceAccount names no identity at all).
fn principal(
    ask: &Ask,
    ns: &str,
    (sa, client_id): (String, Option<String>),
    ids: &[crate::azure::msi::Identity],
    subscription: &str,
) -> Result<Principal, Error> {
    let mut p = Principal {
        namespace: ns.to_string(),
        service_account: sa,
        client_id,
        object_id: None,
        kind: "managedIdentity",
        identity: None,
    };
    match (&ask.principal_id, &p.client_id) {
        (Some(id), _) => {
            p.kind = "given";
            p.object_id = Some(id.to_string());
        }
        (None, Some(c)) => {
            let (oid, name) = find_identity(ids, c, subscription)?;
            p.identity = Some(name);
            p.object_id = Some(oid);
        }
        (None, None) => {}
    }
    Ok(p)
}

/// What the verdict alone does not say: roles not read, conditional denials, where denials
/// come from.
fn notes(d: &Decision) -> Vec<String> {
    let mut notes: Vec<String> = d
        .unread_roles
        .iter()
        .map(|r| {
            format!("role definition {r} could not be read: its assignments were not evaluated")
        })
        .collect();
    if let Some(x) = d.denied.iter().find(|x| x.conditional) {
        notes.push(format!(
            "{} (the condition is evaluated per request)",
            explain::denial(x)
        ));
    }
    if d.allowed == Allowed::No && d.denied.iter().any(|x| !x.conditional) {
        notes.push("deny assignments are made by Azure itself (managed applications, deployment stacks, Blueprints): lift or exclude the principal where it was made".into());
    }
    notes
}

pub async fn run(ctx: &Ctx, ask: &Ask) -> Result<Report, Error> {
    let started = Instant::now();
    let mut kube_calls = 0;
    let cluster = service_account(ctx, &ask.target, &mut kube_calls);
    let azure = async {
        let az = ctx.azure().await?;
        let ids = match &ask.principal_id {
            Some(_) => Vec::new(),
            None => az.arm.identities(&az.subscription, None).await?,
        };
        Ok::<_, AzureError>((az, ids))
    };
    let (cluster, azure) = tokio::join!(cluster, azure);
    let (az, ids) = azure?;
    let principal = principal(ask, &ctx.kube.namespace, cluster?, &ids, &az.subscription)?;
    let Some(object_id) = principal.object_id.clone() else {
        let reason = format!(
            "serviceaccount {} has no {} annotation: its pods get no Azure identity",
            principal.service_account,
            keys::CLIENT_ID_ANNOTATION
        );
        let cost = (kube_calls, az.arm.calls());
        return Ok(unbound(ask, principal, reason, cost, started));
    };
    let (view, cost) = az.arm.rbac_view(&ask.scope, &object_id).await?;
    let decision = rbac::evaluate(&ask.scope.id, &ask.action, &view);
    let mut waves = 1 + cost.waves;
    let fix = match fix_role(ask, &decision, &az.arm).await? {
        Some((role, listed)) => {
            waves += u32::from(listed);
            Some(fix(ask, &principal, &object_id, &role))
        }
        None => None,
    };
    Ok(Report {
        allowed: decision.allowed,
        action: ask.action.clone(),
        scope: ask.scope.id.clone(),
        target: ask.target.to_string(),
        principal,
        reason: explain::summary(&decision, &ask.action),
        nearest: explain::nearest(&decision),
        fix,
        notes: notes(&decision),
        stats: Stats {
            kube_calls,
            arm_calls: az.arm.calls(),
            waves,
            ms: started.elapsed().as_millis() as u64,
        },
        decision,
    })
}

/// A ServiceAccount with no identity: it can do nothing in Azure.
fn unbound(
    ask: &Ask,
    principal: Principal,
    reason: String,
    (kube, arm): (u64, u64),
    started: Instant,
) -> Report {
    Report {
        allowed: Allowed::No,
        action: ask.action.clone(),
        scope: ask.scope.id.clone(),
        target: ask.target.to_string(),
        fix: None,
        notes: vec![format!(
            "bind it first: kubectl azwi bind {} -n {} --identity IDENTITY",
            principal.service_account, principal.namespace
        )],
        principal,
        reason,
        nearest: None,
        decision: Decision {
            allowed: Allowed::No,
            granted: vec![],
            conditional: vec![],
            denied: vec![],
            misses: vec![],
            unread_roles: vec![],
        },
        stats: Stats {
            kube_calls: kube,
            arm_calls: arm,
            waves: 1,
            ms: started.elapsed().as_millis() as u64,
        },
    }
}

/// The role a fix would assign, and whether the role list had to be read to find it. None when
/// the answer is yes or conditional, or a deny assignment blocks it (a role would not help).
async fn fix_role(
    ask: &Ask,
    d: &Decision,
    arm: &crate::azure::Arm,
) -> Result<Option<(String, bool)>, AzureError> {
    if d.allowed != Allowed::No || d.denied.iter().any(|x| !x.conditional) {
        return Ok(None);
    }
    if let Some(r) = ask.action.suggested_role {
        return Ok(Some((r.to_string(), false)));
    }
    let list_at = ask
        .scope
        .subscription()
        .map(|s| format!("/subscriptions/{s}"))
        .unwrap_or_else(|| ask.scope.id.clone());
    let roles = arm.role_definitions(&list_at).await?;
    Ok(rbac::narrowest(&ask.action, &roles).map(|r| (r.name.clone(), true)))
}

fn fix(ask: &Ask, p: &Principal, object_id: &str, role: &str) -> Fix {
    let bind = match (&p.client_id, p.kind) {
        (Some(c), "managedIdentity") => Some(rbac::bind_grant(
            &p.service_account,
            &p.namespace,
            c,
            role,
            &ask.scope.id,
        )),
        _ => None,
    };
    Fix {
        role: role.to_string(),
        scope: ask.scope.id.clone(),
        az: rbac::az_grant(object_id, role, &ask.scope.id),
        bind,
    }
}

/// Doctor's `--can` view: the decision for an already resolved principal, and its cost.
pub async fn decide(
    arm: &crate::azure::Arm,
    action: &Action,
    scope: &Scope,
    principal: &str,
) -> Result<(Decision, Cost), AzureError> {
    let (view, cost) = arm.rbac_view(scope, principal).await?;
    Ok((rbac::evaluate(&scope.id, action, &view), cost))
}
