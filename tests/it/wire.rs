//! The big lists read in protobuf (only the fields inspect reads decoded) and in JSON (the
//! fallback, full objects) give the same facts, on the same cluster, over several pages: pods
//! mutated by either webhook layout, labelled and not, a pod with no serviceAccountName,
//! ServiceAccounts with and without the annotations inspect reads.

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::runtime::wait::await_condition;
use kube::{
    Api,
    api::{ListParams, PostParams},
};
use serde_json::json;
use std::time::Duration;

use kubectl_azwi::{
    inspect::{PodFacts, SaFacts},
    k8s::{self, Wire},
    wi::keys,
};

use crate::support::{self, Ground, fixtures};

async fn arrange(client: &kube::Client, webhook: &str) -> String {
    let ns = support::namespace(client, "wire", &[("azwi.test/webhook", webhook)]).await;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    // The controller's `default` ServiceAccount: the bare pod below needs it, and the lists
    // must not see it appear between them.
    let has_default = await_condition(sas.clone(), "default", |s: Option<&ServiceAccount>| {
        s.is_some()
    });
    tokio::time::timeout(Duration::from_secs(30), has_default)
        .await
        .expect("default ServiceAccount within 30s")
        .unwrap();
    let annotated: [(&str, &[(&str, &str)]); 4] = [
        (
            "bound",
            &[
                (
                    keys::CLIENT_ID_ANNOTATION,
                    "0b1c2d3e-0000-4000-8000-000000000001",
                ),
                (
                    keys::TENANT_ID_ANNOTATION,
                    "72f988bf-86f1-41af-91ab-2d7cd011db47",
                ),
                (keys::TOKEN_EXPIRATION_ANNOTATION, "3600"),
            ],
        ),
        ("blank", &[(keys::CLIENT_ID_ANNOTATION, " ")]),
        ("other", &[("example.com/owner", "team-a")]),
        ("plain", &[]),
    ];
    for (name, ann) in annotated {
        sas.create(
            &PostParams::default(),
            &fixtures::service_account(name, ann),
        )
        .await
        .unwrap();
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    for (name, sa, labelled) in [
        ("a-injected", "bound", true),
        ("b-unlabelled", "bound", false),
        ("c-labelled-plain", "plain", true),
        ("d-other", "other", false),
    ] {
        let labels = if labelled {
            vec![fixtures::use_label(), ("app", "x")]
        } else {
            vec![("app", "x")]
        };
        pods.create(&PostParams::default(), &fixtures::pod(name, sa, &labels))
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e}"));
    }
    // No serviceAccountName: the API server defaults it.
    let bare: Pod = serde_json::from_value(json!({
        "metadata": {"name": "e-bare"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &bare).await.unwrap();
    ns
}

async fn facts(
    kube: &k8s::Kube,
    ns: &str,
    wire: Wire,
    page: u32,
) -> (Vec<SaFacts>, Vec<PodFacts>, u32, u32) {
    let lp = ListParams::default().limit(page);
    let sas = kube
        .list_each::<ServiceAccount, _>(Some(ns), &lp, wire, SaFacts::from_sa, || {})
        .await
        .unwrap();
    let pods = kube
        .list_each::<Pod, _>(Some(ns), &lp, wire, PodFacts::from_pod, || {})
        .await
        .unwrap();
    (
        sas.items,
        pods.items,
        sas.pages + pods.pages,
        sas.protobuf_pages + pods.protobuf_pages,
    )
}

#[tokio::test]
async fn protobuf_and_json_lists_give_the_same_facts() {
    let g = Ground::get();
    let client = g.client().await;
    let kube = k8s::connect(Some(g.kubeconfig()), None, None)
        .await
        .unwrap();
    let mut covered = Vec::new();
    for webhook in ["v1.6.0", "v1.5.1", "none"] {
        let ns = arrange(&client, webhook).await;
        // What the typed client reads (full objects, JSON): the reference.
        let all_sas = Api::<ServiceAccount>::namespaced(client.clone(), &ns)
            .list(&ListParams::default())
            .await
            .unwrap();
        let all_pods = Api::<Pod>::namespaced(client.clone(), &ns)
            .list(&ListParams::default())
            .await
            .unwrap();
        let want_sas: Vec<SaFacts> = all_sas.items.iter().map(SaFacts::from_sa).collect();
        let want_pods: Vec<PodFacts> = all_pods.iter().map(PodFacts::from_pod).collect();
        covered.extend(want_pods.iter().map(|p| (p.labelled, p.injected)));
        assert!(want_pods.iter().any(|p| p.service_account == "default"));
        assert!(want_sas.iter().any(|s| s.tenant_id.is_some()));
        assert!(want_sas.iter().any(|s| s.token_expiration.is_some()));
        assert!(want_sas.iter().any(|s| s.client_id.is_some()));

        // Pages of 2: the continue tokens, and the request sent before the page is decoded.
        let (pb_sas, pb_pods, pb_pages, pb_served) = facts(&kube, &ns, Wire::Protobuf, 2).await;
        let (js_sas, js_pods, js_pages, js_served) = facts(&kube, &ns, Wire::Json, 2).await;
        // 5 SAs (with `default`) and 5 pods: 3 pages each.
        assert_eq!((pb_pages, js_pages), (6, 6), "{webhook}");
        assert_eq!(
            (pb_served, js_served),
            (6, 0),
            "{webhook}: protobuf asked, protobuf served"
        );
        assert_eq!(pb_sas, want_sas, "{webhook}: service accounts, protobuf");
        assert_eq!(js_sas, want_sas, "{webhook}: service accounts, JSON");
        assert_eq!(pb_pods, want_pods, "{webhook}: pods, protobuf");
        assert_eq!(js_pods, want_pods, "{webhook}: pods, JSON");
    }
    // The fixtures cover what the pod facts distinguish (injected by either webhook, labelled
    // but not injected, neither), so the equalities above mean something.
    for case in [(true, true), (true, false), (false, false)] {
        assert!(covered.contains(&case), "{case:?} in {covered:?}");
    }
}

/// A list the server refuses (a selector it cannot parse): the Status it sends, decoded from
/// protobuf, carries the same code, reason and message as the JSON one.
#[tokio::test]
async fn a_refused_list_reads_the_same_either_way() {
    let g = Ground::get();
    let kube = k8s::connect(Some(g.kubeconfig()), None, None)
        .await
        .unwrap();
    let mut seen = Vec::new();
    for wire in [Wire::Protobuf, Wire::Json] {
        let lp = ListParams::default().labels("a in (");
        let e = kube
            .list_each::<Pod, _>(None, &lp, wire, |_| (), || {})
            .await
            .unwrap_err();
        let source = std::error::Error::source(&e);
        let kube_err = source
            .and_then(|s| s.downcast_ref::<Box<kube::Error>>().map(|b| &**b))
            .or_else(|| source.and_then(|s| s.downcast_ref::<kube::Error>()));
        let status = match kube_err {
            Some(kube::Error::Api(s)) => (s.code, s.reason.clone(), s.message.clone()),
            other => panic!("{wire:?}: not the server's refusal: {other:?}"),
        };
        seen.push(status);
    }
    assert_eq!(seen[0].0, 400, "{seen:?}");
    assert_eq!(seen[0].1, "BadRequest", "{seen:?}");
    assert!(
        seen[0].2.contains("unable to parse requirement"),
        "{seen:?}"
    );
    assert_eq!(seen[0], seen[1]);
}
