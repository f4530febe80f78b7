//! Microsoft.ContainerService `managedClusters/{c}/identityBindings/{name}` (stable 2026-04-01
//! and later): PUT (long-running on create), GET, LIST by cluster, DELETE (long-running), as in
//! data/azure-api/aks-identity-bindings/IdentityBindings_*.json. When a binding settles, AKS
//! writes (or reuses) the one credential `aks-identity-binding` on the user-assigned identity
//! (ManagedFIC_aks-identity-binding.json); deleting a binding leaves it there (no garbage
//! collection: MicrosoftDocs/azure-aks-docs articles/aks/identity-bindings-concepts.md).

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::lro::{self, Effect};
use super::{ArmError, ArmResult, Req, json, sub_mut};
use crate::store::{Cluster, Fic, Identity, ProvisioningState, Subscription, World};

pub const BINDING_TYPE: &str = "Microsoft.ContainerService/managedClusters/identityBindings";
pub const MANAGED_FIC: &str = "aks-identity-binding";
/// Per-identity issuer `https://ib.oic.prod-aks.azure.com/<tenant>/<client id>`, no trailing
/// slash (IdentityBindings_Get.json; the az CLI live test checks the `/{tenant}/{client}` end).
pub const IB_ISSUER_HOST: &str = "https://ib.oic.prod-aks.azure.com";
/// The subject and audience AKS gives its credential appear only in screenshots; the vendored
/// ManagedFIC_aks-identity-binding.json keeps this placeholder, and so does the emulator, so a
/// client can only treat them as opaque.
pub const MANAGED_FIC_CLAIM: &str = "UNCONFIRMED-value-set-by-AKS";
const RESOURCE_ID_TARGET: &str = "properties.managedIdentity.resourceId";

pub struct IdentityBinding {
    pub name: String,
    /// As PUT (create-only).
    pub resource_id: String,
    pub object_id: String,
    pub client_id: String,
    pub tenant_id: String,
    pub state: ProvisioningState,
    pub etag: String,
    /// `systemData` (by, byType, at) of the create and of the last change.
    pub created: [String; 3],
    pub modified: [String; 3],
}

pub fn issuer_url(tenant: &str, client_id: &str) -> String {
    format!("{IB_ISSUER_HOST}/{tenant}/{client_id}")
}

/// The shape of IdentityBindings_Get.json (`resourceGroups` in camel case, as there).
pub fn binding_json(sub: &str, c: &Cluster, b: &IdentityBinding) -> Value {
    let [cb, cbt, ca] = &b.created;
    let [mb, mbt, ma] = &b.modified;
    json!({
        "id": format!(
            "/subscriptions/{sub}/resourceGroups/{}/providers/{}/{}/identityBindings/{}",
            c.rg, super::aks::CLUSTER_TYPE, c.name, b.name
        ),
        "name": b.name,
        "type": BINDING_TYPE,
        "systemData": {
            "createdBy": cb, "createdByType": cbt, "createdAt": ca,
            "lastModifiedBy": mb, "lastModifiedByType": mbt, "lastModifiedAt": ma,
        },
        "properties": {
            "managedIdentity": {
                "resourceId": b.resource_id,
                "objectId": b.object_id,
                "clientId": b.client_id,
                "tenantId": b.tenant_id,
            },
            "oidcIssuer": {"oidcIssuerUrl": issuer_url(&b.tenant_id, &b.client_id)},
            "provisioningState": b.state.as_str(),
        },
        "eTag": b.etag,
    })
}

/// ARM's ErrorResponse with a target (ErrorResponse_Example.json). Codes for identity bindings
/// are UNCONFIRMED; these are ARM's common ones.
fn bad_input(code: &str, message: String) -> ArmError {
    ArmError::bad_request(code, message).with_target(RESOURCE_ID_TARGET)
}

/// The cluster the request addresses (404 as ARM gives for a missing resource group/cluster).
fn cluster_key(s: &Subscription, rg: &str, cluster: &str) -> Result<String, ArmError> {
    if !s.rgs.contains_key(&rg.to_ascii_lowercase()) {
        return Err(ArmError::resource_group_not_found(rg));
    }
    let k = super::msi::key(rg, cluster);
    if !s.clusters.contains_key(&k) {
        return Err(ArmError::resource_not_found(
            super::aks::CLUSTER_TYPE,
            cluster,
            rg,
        ));
    }
    Ok(k)
}

pub fn list(req: &Req<'_>, sub: &str, rg: &str, cluster: &str) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    let c = &s.clusters[&cluster_key(s, rg, cluster)?];
    let value: Vec<Value> = c
        .identity_bindings
        .values()
        .map(|b| binding_json(&s.id, c, b))
        .collect();
    json(StatusCode::OK, json!({"value": value}))
}

fn binding_not_found(rg: &str, cluster: &str, name: &str) -> ArmError {
    ArmError::resource_not_found(
        &format!("{}/{cluster}/identityBindings", super::aks::CLUSTER_TYPE),
        name,
        rg,
    )
}

pub fn get(req: &Req<'_>, sub: &str, rg: &str, cluster: &str, name: &str) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    let c = &s.clusters[&cluster_key(s, rg, cluster)?];
    let b = c
        .identity_bindings
        .get(&name.to_ascii_lowercase())
        .ok_or_else(|| binding_not_found(rg, cluster, name))?;
    json(StatusCode::OK, binding_json(&s.id, c, b))
}

/// `identityBindingName` in the 2026-04-01 spec: `^[a-z][a-z0-9]{0,63}$`, maxLength 63.
/// Whether ARM enforces it is UNCONFIRMED; enforcing it keeps clients on conforming names.
fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    n.len() <= 63
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

fn identity_mut<'w>(w: &'w mut World, resource_id: &str) -> Option<&'w mut Identity> {
    // The same path parser as ARM's front door: an identity id is an identity's route.
    let Some(super::Route::Identity { sub, rg, name }) = super::parse_route(resource_id) else {
        return None;
    };
    w.subs
        .get_mut(&sub.to_ascii_lowercase())?
        .identities
        .get_mut(&super::msi::key(&rg, &name))
}

fn limit_message(resource_id: &str) -> String {
    format!(
        "Too many Federated Identity Credentials. The managed identity '{resource_id}' already has the maximum of {} and none named '{MANAGED_FIC}', which identity bindings need.",
        super::msi::MAX_FICS
    )
}

/// Whether AKS's credential fits on the identity: it is there already, or there is room.
fn has_room(i: &Identity) -> bool {
    i.fics
        .iter()
        .any(|f| f.name.eq_ignore_ascii_case(MANAGED_FIC))
        || i.fics.len() < super::msi::MAX_FICS
}

/// Writes AKS's credential on the identity, or puts its values back on the existing one.
fn ensure_managed_fic(i: &mut Identity) -> bool {
    let issuer = issuer_url(&i.tenant_id, &i.client_id);
    let audiences = vec![MANAGED_FIC_CLAIM.to_string()];
    if let Some(f) = i
        .fics
        .iter_mut()
        .find(|f| f.name.eq_ignore_ascii_case(MANAGED_FIC))
    {
        if f.issuer != issuer || f.subject != MANAGED_FIC_CLAIM || f.audiences != audiences {
            (f.issuer, f.subject, f.audiences) = (issuer, MANAGED_FIC_CLAIM.into(), audiences);
            f.claims = None;
            f.changed = std::time::Instant::now();
        }
        return true;
    }
    if i.fics.len() >= super::msi::MAX_FICS {
        return false;
    }
    i.fics.push(Fic {
        name: MANAGED_FIC.into(),
        issuer,
        subject: MANAGED_FIC_CLAIM.into(),
        audiences,
        claims: None,
        changed: std::time::Instant::now(),
    });
    true
}

/// The end of a binding operation (lro::settle): the state it leaves, AKS's credential on
/// success; the error when the credential no longer fits.
pub fn finish(
    w: &mut World,
    sub: &str,
    cluster: &str,
    name: &str,
    delete: bool,
    failed: bool,
) -> Option<Value> {
    let s = w.subs.get_mut(sub)?;
    let bindings = &mut s.clusters.get_mut(cluster)?.identity_bindings;
    if failed {
        bindings.get_mut(name)?.state = ProvisioningState::Failed;
        return None;
    }
    if delete {
        bindings.remove(name);
        return None;
    }
    let resource_id = bindings.get(name)?.resource_id.clone();
    let written = identity_mut(w, &resource_id).is_some_and(ensure_managed_fic);
    let b = w
        .subs
        .get_mut(sub)?
        .clusters
        .get_mut(cluster)?
        .identity_bindings
        .get_mut(name)?;
    if written {
        b.state = ProvisioningState::Succeeded;
        None
    } else {
        b.state = ProvisioningState::Failed;
        Some(json!({"code": "BadRequest", "message": limit_message(&resource_id)}))
    }
}

fn in_progress(name: &str) -> ArmError {
    ArmError::new(
        StatusCode::CONFLICT,
        "OperationNotAllowed",
        format!(
            "Operation is not allowed because there's an in progress operation on identity binding '{name}'."
        ),
    )
}

fn requested_identity(req: &Req<'_>) -> Result<String, ArmError> {
    let body = req.json_body()?;
    body.get("properties")
        .and_then(|p| p.get("managedIdentity"))
        .and_then(|m| m.get("resourceId"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            bad_input(
                "InvalidParameter",
                format!("The value of parameter '{RESOURCE_ID_TARGET}' is required."),
            )
        })
}

const LINKED_ACTION: &str =
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write";

/// AKS writes the credential on the caller's behalf, so the caller needs that write on the
/// identity too (identity-bindings-concepts.md lists both permissions). ARM refuses a missing right on
/// a linked scope with `LinkedAuthorizationFailed`; that AKS uses it here is UNCONFIRMED.
fn linked_authorization(req: &Req<'_>, w: &World, resource_id: &str) -> Result<(), ArmError> {
    if super::rbac::permits(w, &req.caller.oid, LINKED_ACTION, resource_id) {
        return Ok(());
    }
    Err(ArmError::new(
        StatusCode::FORBIDDEN,
        "LinkedAuthorizationFailed",
        format!(
            "The client '{}' with object id '{}' has permission to perform action 'Microsoft.ContainerService/managedClusters/identityBindings/write' on scope '{}'; however, it does not have permission to perform action(s) '{LINKED_ACTION}' on the linked scope(s) '{resource_id}' (respectively) or the linked scope(s) are invalid.",
            req.caller.client, req.caller.oid, req.path
        ),
    ))
}

/// Who `systemData` names: the application id for an app token.
fn stamp(req: &Req<'_>) -> [String; 3] {
    let c = req.caller;
    let kind = if c.client != c.oid {
        "Application"
    } else {
        "User"
    };
    [c.client.clone(), kind.into(), lro::aks_now()]
}

pub fn put(req: &Req<'_>, sub: &str, rg: &str, cluster: &str, name: &str) -> ArmResult {
    if !valid_name(name) {
        return Err(ArmError::bad_request(
            "InvalidResourceName",
            format!(
                "Identity binding name '{name}' is invalid. It must match '^[a-z][a-z0-9]{{0,63}}$' and be at most 63 characters long."
            ),
        ));
    }
    let resource_id = requested_identity(req)?;
    let mut w = req.st.world();
    let w = &mut *w;
    let k = cluster_key(sub_mut(w, sub)?, rg, cluster)?;
    linked_authorization(req, w, &resource_id)?;
    let ident = identity_mut(w, &resource_id).ok_or_else(|| {
        bad_input(
            "InvalidParameter",
            format!("The user-assigned managed identity '{resource_id}' was not found."),
        )
    })?;
    if !has_room(ident) {
        return Err(bad_input("BadRequest", limit_message(&resource_id)));
    }
    let (object_id, client_id, tenant_id) = (
        ident.principal_id.clone(),
        ident.client_id.clone(),
        ident.tenant_id.clone(),
    );
    let s = sub_mut(w, sub)?;
    let region = s.clusters[&k]
        .location
        .to_ascii_lowercase()
        .replace(' ', "");
    let bk = name.to_ascii_lowercase();
    let existing = s.clusters[&k]
        .identity_bindings
        .get(&bk)
        .map(|b| (b.state, b.resource_id.clone()));
    let status = match existing {
        Some((_, ref was)) if !was.eq_ignore_ascii_case(&resource_id) => {
            return Err(bad_input(
                "PropertyChangeNotAllowed",
                format!("Changing property '{RESOURCE_ID_TARGET}' is not allowed."),
            ));
        }
        Some((
            ProvisioningState::Creating | ProvisioningState::Updating | ProvisioningState::Deleting,
            _,
        )) => {
            return Err(in_progress(name));
        }
        // An identical re-PUT answers 200 at once (IdentityBindings_CreateOrUpdate.json's 200),
        // after putting AKS's credential back if someone removed it.
        Some((ProvisioningState::Succeeded, _)) => {
            // Room was checked above, under the same lock: this cannot fail.
            if let Some(i) = identity_mut(w, &resource_id) {
                ensure_managed_fic(i);
            }
            let s = sub_mut(w, sub)?;
            let c = &s.clusters[&k];
            return json(
                StatusCode::OK,
                binding_json(&s.id, c, &c.identity_bindings[&bk]),
            );
        }
        // A re-PUT of a Failed binding runs the operation again.
        Some((ProvisioningState::Failed, _)) => StatusCode::OK,
        None => StatusCode::CREATED,
    };
    let op = lro::start(
        req.st,
        s,
        &region,
        Effect::Binding {
            cluster: k.clone(),
            name: bk.clone(),
            delete: false,
        },
    );
    let c = s.clusters.get_mut(&k).ok_or_else(|| in_progress(name))?;
    let now = stamp(req);
    let etag = format!("\"{}\"", crate::store::guid());
    match c.identity_bindings.get_mut(&bk) {
        Some(b) => {
            (b.state, b.etag, b.modified) = (ProvisioningState::Updating, etag, now);
        }
        None => {
            c.identity_bindings.insert(
                bk.clone(),
                IdentityBinding {
                    name: name.to_string(),
                    resource_id,
                    object_id,
                    client_id,
                    tenant_id,
                    state: ProvisioningState::Creating,
                    etag,
                    created: now.clone(),
                    modified: now,
                },
            );
        }
    }
    let body = binding_json(&s.id, c, &c.identity_bindings[&bk]);
    lro::accepted(req, status, Some(body), s, &op, true)
}

/// 202 + polling; 204 when there is no such binding. AKS's credential stays on the identity.
pub fn delete(req: &Req<'_>, sub: &str, rg: &str, cluster: &str, name: &str) -> ArmResult {
    let mut w = req.st.world();
    let s = sub_mut(&mut w, sub)?;
    let k = cluster_key(s, rg, cluster)?;
    let bk = name.to_ascii_lowercase();
    let c = s.clusters.get_mut(&k).ok_or_else(|| in_progress(name))?;
    let region = c.location.to_ascii_lowercase().replace(' ', "");
    let Some(b) = c.identity_bindings.get_mut(&bk) else {
        return super::empty(StatusCode::NO_CONTENT);
    };
    if matches!(
        b.state,
        ProvisioningState::Creating | ProvisioningState::Updating | ProvisioningState::Deleting
    ) {
        return Err(in_progress(name));
    }
    b.state = ProvisioningState::Deleting;
    let op = lro::start(
        req.st,
        s,
        &region,
        Effect::Binding {
            cluster: k,
            name: bk,
            delete: true,
        },
    );
    lro::accepted(req, StatusCode::ACCEPTED, None, s, &op, true)
}

/// Dispatch by method (no PATCH on identity bindings).
pub fn route(
    req: &Req<'_>,
    method: &str,
    sub: &str,
    rg: &str,
    cluster: &str,
    name: Option<&str>,
) -> ArmResult {
    match (method, name) {
        ("GET", None) => list(req, sub, rg, cluster),
        ("GET", Some(n)) => get(req, sub, rg, cluster, n),
        ("PUT", Some(n)) => put(req, sub, rg, cluster, n),
        ("DELETE", Some(n)) => delete(req, sub, rg, cluster, n),
        _ => Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!(
                "The requested method '{method}' is not allowed for '{}'.",
                req.path
            ),
        )),
    }
}
