//! Wave 2: what wave 1 named: the pods of a workload or ServiceAccount, the pod's owner and
//! its template, the issuer's documents, and Azure's identity, credentials and roles.

use super::{wave1::Named, *};

/// What wave 2 reads about the owner: a pod's ReplicaSet or Job (for its own owner and its
/// template), or a Deployment's ReplicaSets (the objects its events are recorded on).
enum OwnerRead {
    Controller(Box<Fact<DynamicObject>>),
    ReplicaSets(Fact<Vec<DynamicObject>>),
}

/// Wave 2: what wave 1 named: the pods of a workload or service account, the pod's owner,
/// the issuer's documents, Azure. Returns the cluster's JWKS and the ARM calls made.
pub(super) async fn gather(
    ctx: &Ctx,
    ask: &Ask<'_>,
    f: &mut Facts,
    named: Named,
    az: Option<Result<&crate::ctx::AzureCtx, &AzureError>>,
    http: Option<&reqwest::Client>,
    n: &Counters,
) -> (Option<Jwks>, u64) {
    let k = &ctx.kube;
    let ns = &f.namespace;
    let client_id = crate::doctor::checks::client_id(f);
    let pods_of_sa = ask.target.is_some_and(|t| t.kind == Kind::ServiceAccount);
    let pods = async {
        if pods_of_sa {
            n.kube();
            let sa = f.sa_name.clone().unwrap_or_default();
            return Some(k.pods_of_service_account(ns, &sa).await);
        }
        let sel = named.pod_selector.as_deref()?;
        n.kube();
        Some(k.pods(ns, Some(sel)).await)
    };
    let owner_read = read_owner(k, ns, ask.target, &f.pod, &named, n);
    let issuer_docs = async {
        match (&f.cluster_issuer, http) {
            (Ok(iss), Some(h)) => Some(discover(h, iss, n).await),
            _ => None,
        }
    };
    let (pods, owner_read, docs, azure) = tokio::join!(
        pods,
        owner_read,
        issuer_docs,
        azure_facts(az, client_id, binding(f), ask.can)
    );
    let mut arm_calls = 0;
    let mut can = match ask.can {
        Some(_) => Err(Gap::unreachable(
            "Azure was not reached (see the azure checks)",
        )),
        None => Err(Gap::not_asked("--can not given")),
    };
    f.azure = match ask.target {
        None => Err(Gap::not_asked("no target")),
        Some(_) => azure.map(|(a, calls, c)| {
            arm_calls = calls;
            can = c;
            a
        }),
    };
    f.can = can;
    let mut jwks = None;
    if let Some((d, j)) = docs {
        f.discovery = d;
        jwks = j;
    }
    match pods {
        Some(Ok(list)) => {
            f.pod = newest(list).ok_or(Gap::NotFound);
            if pods_of_sa && f.pod == Err(Gap::NotFound) {
                f.pod = Err(Gap::not_asked("no pod runs as this service account"));
            }
        }
        Some(Err(e)) => f.pod = Err(gap(&e)),
        None => {}
    }
    resolve_owner(f, ask.target, named.workload.as_ref(), owner_read);
    (jwks, arm_calls)
}

/// A pod's ReplicaSet or Job (its own owner, its template), or a Deployment's ReplicaSets.
async fn read_owner(
    k: &crate::k8s::Kube,
    ns: &str,
    target: Option<&Target>,
    pod: &Fact<Pod>,
    named: &Named,
    n: &Counters,
) -> Option<OwnerRead> {
    match (target.map(|t| t.kind), pod, &named.workload) {
        (Some(Kind::Pod), Ok(pod), _) => {
            let refs = pod.metadata.owner_references.as_deref().unwrap_or_default();
            let (kind, name) = match target::controller(refs)? {
                ("ReplicaSet", name) => (Kind::ReplicaSet, name),
                ("Job", name) => (Kind::Job, name),
                _ => return None,
            };
            n.kube();
            let obj = opt(k.workload(ns, kind, name).await);
            Some(OwnerRead::Controller(Box::new(obj)))
        }
        (Some(Kind::Deployment), _, Some(_)) => {
            let sel = named.pod_selector.as_deref()?;
            n.kube();
            Some(OwnerRead::ReplicaSets(
                k.workloads(ns, Kind::ReplicaSet, sel)
                    .await
                    .map_err(|e| gap(&e)),
            ))
        }
        _ => None,
    }
}

/// Who recreates the pod, from what the target and wave 2 read; also the pod template the
/// pod came from and, for a Deployment, its ReplicaSets (where its pods' events go).
fn resolve_owner(
    f: &mut Facts,
    target: Option<&Target>,
    workload: Option<&DynamicObject>,
    read: Option<OwnerRead>,
) {
    let Some(t) = target else { return };
    match (t.kind, read) {
        (Kind::Pod, read) => {
            let Ok(pod) = &f.pod else { return };
            let refs = pod.metadata.owner_references.as_deref().unwrap_or_default();
            let ctrl = target::controller(refs);
            let controller_obj = match &read {
                Some(OwnerRead::Controller(obj)) => obj.as_ref().as_ref().ok(),
                _ => None,
            };
            let (parent, selector) = match controller_obj {
                Some(obj) => {
                    let kind = if ctrl.is_some_and(|c| c.0 == "Job") {
                        Kind::Job
                    } else {
                        Kind::ReplicaSet
                    };
                    f.template = Some(template_of(kind, obj));
                    (controller_of(obj), selector(obj))
                }
                None => (None, None),
            };
            let parent = parent.as_ref().map(|(k, n)| (k.as_str(), n.as_str()));
            f.owner = Some(Owner::from_controller(ctrl, parent, selector));
        }
        (Kind::ServiceAccount, _) => {
            f.owner = f.pod.as_ref().ok().map(|p| {
                let refs = p.metadata.owner_references.as_deref().unwrap_or_default();
                Owner::from_controller(target::controller(refs), None, None)
            });
        }
        (_, read) => {
            let ctrl = workload.and_then(controller_of);
            f.owner = Some(Owner::of_target(
                t,
                ctrl.as_ref().map(|(k, n)| (k.as_str(), n.as_str())),
                workload.and_then(selector),
            ));
            if let (Some(OwnerRead::ReplicaSets(Ok(sets))), Some(w)) = (read, workload) {
                let uid = w.metadata.uid.as_deref();
                let current = revision(w);
                f.workload_objects.extend(
                    sets.iter()
                        .filter(|rs| {
                            rs.metadata
                                .owner_references
                                .iter()
                                .flatten()
                                .any(|o| Some(o.uid.as_str()) == uid)
                        })
                        // Only the current template's ReplicaSet: during a rollout the one
                        // being replaced keeps retrying (and failing) until the new pods are
                        // ready, and its refusals say nothing about the fixed template.
                        .filter(|rs| current.is_none() || revision(rs) == current)
                        .filter_map(|rs| rs.metadata.name.clone())
                        .map(|name| ("ReplicaSet".to_string(), name)),
                );
            }
        }
    }
}

/// The rollout revision the Deployment controller stamps on a Deployment and on the
/// ReplicaSet of its current template.
fn revision(o: &DynamicObject) -> Option<&str> {
    o.metadata
        .annotations
        .as_ref()?
        .get("deployment.kubernetes.io/revision")
        .map(String::as_str)
}

/// The binding's (issuer, subject) as the cluster's tokens carry them, if known yet.
fn binding(f: &Facts) -> Option<(String, String)> {
    let iss = f.cluster_issuer.as_ref().ok()?;
    let sa = f.sa_name.as_deref()?;
    Some((iss.clone(), crate::wi::names::subject(&f.namespace, sa)))
}

/// The identity the client id names (and its credentials), or what is known instead: an
/// application registration, read through Graph.
async fn azure_facts(
    az: Option<Result<&crate::ctx::AzureCtx, &AzureError>>,
    client_id: Option<String>,
    want: Option<(String, String)>,
    can: Option<&crate::doctor::can::CanAsk>,
) -> Fact<(AzureFacts, u64, Fact<crate::doctor::can::CanFacts>)> {
    let az = match az {
        None => return Err(Gap::not_asked("no target: Azure not checked")),
        Some(Err(e)) => return Err(azure_gap(e)),
        Some(Ok(az)) => az,
    };
    let empty = AzureFacts {
        subscription: az.subscription.clone(),
        identity: None,
        identities_seen: 0,
        principal_mixup: None,
        graph: Err(Gap::not_asked("no client id")),
    };
    let Some(cid) = client_id else {
        let can = crate::doctor::can::gather(&az.arm, can, None).await;
        return Ok((empty, az.arm.calls(), can));
    };
    let all = az
        .arm
        .identities(&az.subscription, None)
        .await
        .map_err(|e| azure_gap(&e))?;
    let found = all
        .iter()
        .find(|i| i.properties.client_id.eq_ignore_ascii_case(&cid));
    // --can's reads run beside the credential list (src/doctor/can.rs).
    let (credentials, can) = tokio::join!(
        async {
            match found {
                Some(i) => Some(az.arm.credentials(&i.id).await.map_err(|e| azure_gap(&e))),
                None => None,
            }
        },
        crate::doctor::can::gather(&az.arm, can, found),
    );
    let identity = found
        .zip(credentials)
        .map(|(i, credentials)| IdentityFacts {
            name: i.name.clone(),
            id: i.id.clone(),
            client_id: i.properties.client_id.clone(),
            tenant_id: i.properties.tenant_id.clone(),
            principal_id: i.properties.principal_id.clone(),
            credentials,
        });
    let principal_mixup = all
        .iter()
        .find(|i| i.properties.principal_id.eq_ignore_ascii_case(&cid))
        .map(|i| i.name.clone());
    let graph = if identity.is_some() || principal_mixup.is_some() {
        Err(Gap::not_asked("the client id is a managed identity's"))
    } else {
        app::graph_facts(&az.graph, &cid, want).await
    };
    Ok((
        AzureFacts {
            identity,
            identities_seen: all.len(),
            principal_mixup,
            graph,
            ..empty
        },
        az.arm.calls() + az.graph.calls(),
        can,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::ObjectMeta;
    use serde_json::json;

    fn object(name: &str, uid: &str, revision: &str, owner_uid: Option<&str>) -> DynamicObject {
        let mut meta = json!({
            "name": name, "namespace": "ns", "uid": uid,
            "annotations": {"deployment.kubernetes.io/revision": revision},
        });
        if let Some(o) = owner_uid {
            meta["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "Deployment",
                "name": "web", "uid": o, "controller": true}]);
        }
        DynamicObject {
            types: None,
            metadata: serde_json::from_value::<ObjectMeta>(meta).unwrap(),
            data: json!({}),
        }
    }

    /// A Deployment mid-rollout (revision 2 fixes what revision 1's ReplicaSet is still being
    /// refused for): only the current revision's ReplicaSet is where its pods' refusals count.
    #[test]
    fn a_rollouts_old_replica_set_is_not_the_workloads() {
        let deploy = object("web", "d-1", "2", None);
        let sets = vec![
            object("web-old", "rs-1", "1", Some("d-1")),
            object("web-new", "rs-2", "2", Some("d-1")),
            object("other-new", "rs-3", "2", Some("d-9")),
        ];
        let mut f = Facts::empty("ns", 0);
        let target = Target::parse("deploy/web").unwrap();
        resolve_owner(
            &mut f,
            Some(&target),
            Some(&deploy),
            Some(OwnerRead::ReplicaSets(Ok(sets))),
        );
        assert_eq!(
            f.workload_objects,
            vec![("ReplicaSet".to_string(), "web-new".to_string())]
        );
    }
}
