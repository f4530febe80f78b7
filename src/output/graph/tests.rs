use super::*;
use crate::inspect::{Filter, rows, tests::*};
use crate::wi::{credential::Credential, names};

const OTHER: &str = "22222222-2222-2222-2222-222222222222";

/// Two clusters with one identity: c1's `ns/app` matches exactly, c2's `web/app` (another
/// issuer, its credential written without the trailing '/') is a near miss; c2's `lost` names a client
/// id no identity has; c1's `plain` has labelled pods and no annotation. The identity holds
/// 19 credentials, one short of the limit of 20.
pub(crate) fn fleet() -> InspectReport {
    let iss2 = "https://issuer.example/t/c2/";
    let mut creds = vec![
        cred("app-c1", ISS, &names::subject("ns", "app")),
        cred(
            "app-c2",
            iss2.trim_end_matches('/'),
            &names::subject("ns", "app"),
        ),
    ];
    creds.extend((0..17).map(|n| {
        cred(
            &format!("other-{n:02}"),
            ISS,
            &format!("system:serviceaccount:x:{n}"),
        )
    }));
    let az = azure(creds);
    let c1 = cluster(
        vec![sa("ns", "app", Some(CID)), sa("ns", "plain", None)],
        vec![pod("ns", "app", true, true), pod("ns", "plain", true, true)],
    );
    let mut c2 = cluster(
        vec![sa("web", "app", Some(CID)), sa("web", "lost", Some(OTHER))],
        vec![
            pod("web", "app", true, true),
            pod("web", "app", true, false),
        ],
    );
    c2.context = Some("c2".into());
    c2.issuer = Some(iss2.into());
    let mut items = rows(&c2, Some(&az), Filter::Bindings);
    items.extend(rows(&c1, Some(&az), Filter::Bindings));
    items.sort_by(|a, b| {
        (&a.context, &a.namespace, &a.service_account).cmp(&(
            &b.context,
            &b.namespace,
            &b.service_account,
        ))
    });
    report(items, true)
}

#[test]
fn a_shared_identity_is_one_box_with_each_clusters_edge() {
    let g = build(&fleet());
    let ctxs: Vec<_> = g.clusters.iter().map(|c| c.context.as_str()).collect();
    assert_eq!(ctxs, ["c1", "c2"]);
    let sas: Vec<_> = g.clusters[1].namespaces[0]
        .service_accounts
        .iter()
        .map(|s| (s.name.as_str(), s.tone))
        .collect();
    assert_eq!(sas, [("app", Tone::Bad), ("lost", Tone::Bad)]);
    let plain = &g.clusters[0].namespaces[0].service_accounts[1];
    assert_eq!(
        (plain.name.as_str(), plain.note),
        ("plain", Some("no client-id annotation"))
    );
    let managed: Vec<_> = g
        .identities
        .iter()
        .filter(|i| i.kind == IdentityKind::ManagedIdentity)
        .collect();
    assert_eq!(managed.len(), 1, "shown once for the fleet: {g:#?}");
    let id = managed[0];
    assert_eq!(id.credential_count, Some(19));
    assert!(id.near_limit);
    assert_eq!(id.tone, Tone::Warn);
    assert_eq!(
        credential_line(id).unwrap(),
        "19 of 20 credentials: near the limit"
    );
    let creds: Vec<_> = id
        .credentials
        .iter()
        .map(|c| (c.name.as_str(), c.tone))
        .collect();
    assert_eq!(
        creds,
        [("app-c1", Tone::Ok), ("app-c2", Tone::Warn)],
        "only the ones drawn"
    );
    let unresolved: Vec<_> = g
        .identities
        .iter()
        .filter(|i| i.kind == IdentityKind::Unresolved)
        .collect();
    assert_eq!(unresolved.len(), 1);
    assert_eq!(unresolved[0].name, OTHER);
    assert_eq!(unresolved[0].tone, Tone::Bad);
    let edge = |sa_ctx: &str, sa: &str| {
        let ns = if sa_ctx == "c1" { "ns" } else { "web" };
        let from = node_id("sa", &[sa_ctx, ns, sa]);
        g.edges
            .iter()
            .find(|e| e.from == from)
            .unwrap_or_else(|| panic!("{sa_ctx}/{sa}: {g:#?}"))
    };
    assert_eq!(edge("c1", "app").label, "pods 1/1/1");
    assert_eq!(edge("c1", "app").to, id.credentials[0].id);
    let near = edge("c2", "app");
    assert_eq!(
        (near.tone, near.label.as_str()),
        (Tone::Warn, "pods 2/1/2, near miss")
    );
    assert!(
        near.note.as_deref().unwrap().contains("trailing '/'"),
        "{near:?}"
    );
    assert_eq!(edge("c2", "lost").to, unresolved[0].id);
    assert_eq!(g.edges.len(), 3, "plain has no identity to point at");
}

#[test]
fn cluster_only_view_points_at_client_ids_in_grey() {
    let c = cluster(vec![sa("ns", "app", Some(CID))], vec![]);
    let report = report(rows(&c, None, Filter::Bindings), false);
    let g = build(&report);
    assert_eq!(g.identities[0].kind, IdentityKind::Unresolved);
    assert_eq!(g.identities[0].tone, Tone::Unknown);
    assert_eq!(g.identities[0].detail, "not checked: cluster-only view");
    assert_eq!(g.edges[0].tone, Tone::Unknown);
}

#[test]
fn missing_credential_points_at_the_identity_in_red() {
    let c = cluster(
        vec![sa("ns", "app", Some(CID))],
        vec![pod("ns", "app", true, true)],
    );
    let creds: Vec<Credential> = vec![];
    let report = report(rows(&c, Some(&azure(creds)), Filter::Bindings), true);
    let g = build(&report);
    assert_eq!(g.edges[0].to, g.identities[0].id);
    assert_eq!(g.edges[0].tone, Tone::Bad);
    assert_eq!(g.edges[0].label, "pods 1/1/1, no credential");
    assert!(!g.identities[0].near_limit);
    assert_eq!(
        credential_line(&g.identities[0]).unwrap(),
        "0 of 20 credentials"
    );
}

#[test]
fn ids_are_stable_and_tell_look_alikes_apart() {
    assert_eq!(
        node_id("sa", &["c1", "ns", "app"]),
        node_id("sa", &["c1", "ns", "app"])
    );
    assert_ne!(
        node_id("sa", &["c1", "a-b", "c"]),
        node_id("sa", &["c1", "a", "b-c"])
    );
    assert_ne!(
        node_id("sa", &["c1", "ns", "a-b"]),
        node_id("sa", &["c1", "ns", "a_b"])
    );
    let id = node_id("sa", &["c1", "ns", "my-app.v2"]);
    assert!(id.starts_with("sa_my_app_v2_"), "{id}");
    assert!(
        id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "{id}"
    );
}

#[test]
fn dot_text_is_deterministic_and_marks_the_verdicts() {
    let report = fleet();
    let text = dot::render(&build(&report));
    let mut shuffled = report.clone();
    shuffled.items.reverse();
    assert_eq!(
        text,
        dot::render(&build(&shuffled)),
        "row order does not change the text"
    );
    assert!(
        text.starts_with("digraph azwi {\n") && text.ends_with("}\n"),
        "{text}"
    );
    assert_eq!(
        text.matches("label=\"managed identity id-app").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("19 of 20 credentials: near the limit"),
        "{text}"
    );
    assert!(text.contains("penwidth=2"), "near the limit: a heavier box");
    let near = text.lines().find(|l| l.contains("near miss\"")).unwrap();
    assert!(
        near.contains("color=\"#c2410c\"") && near.contains("style=dashed"),
        "{near}"
    );
    assert!(near.contains("tooltip=\"issuer"), "{near}");
    let exact = text
        .lines()
        .find(|l| l.contains("label=\"pods 1/1/1\""))
        .unwrap();
    assert!(
        exact.contains("style=solid") && exact.contains("#15803d"),
        "{exact}"
    );
    assert_eq!(text.matches('{').count(), text.matches('}').count());
}

#[test]
fn dot_quotes_what_it_must() {
    assert_eq!(dot_q("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
}

fn dot_q(s: &str) -> String {
    // The quoting is private; reach it through a one-node graph.
    let g = Graph {
        clusters: vec![ClusterBox {
            id: "c".into(),
            context: s.into(),
            issuer: None,
            namespaces: vec![],
        }],
        identities: vec![],
        edges: vec![],
    };
    let text = dot::render(&g);
    let line = text.lines().find(|l| l.contains("label=")).unwrap();
    let start = line.find("label=\"cluster ").unwrap() + "label=".len();
    let end = line.find("; style=").unwrap();
    line[start..end].replacen("cluster ", "", 1)
}

#[test]
fn mermaid_text_has_subgraphs_classes_and_link_styles() {
    let report = fleet();
    let text = mermaid::render(&build(&report));
    assert!(text.starts_with("flowchart LR\n"), "{text}");
    let subgraphs = text
        .lines()
        .filter(|l| l.trim_start().starts_with("subgraph "))
        .count();
    assert_eq!(
        subgraphs,
        2 + 2 + 2,
        "clusters, namespaces, identities: {text}"
    );
    assert_eq!(text.lines().filter(|l| l.trim() == "end").count(), 6);
    assert_eq!(text.matches("managed identity id-app").count(), 1);
    assert!(text.contains("-.->|\"pods 2/1/2, near miss\"|"), "{text}");
    assert!(text.contains("-->|\"pods 1/1/1\"|"), "{text}");
    assert_eq!(text.matches("linkStyle ").count(), 3);
    assert!(text.contains("linkStyle 0 stroke:"), "{text}");
    assert!(text.contains("stroke-width:3px"), "near the limit: {text}");
    assert!(text.contains("classDef warn fill:#ffedd5,stroke:#c2410c"));
    let mut shuffled = report.clone();
    shuffled.items.reverse();
    assert_eq!(text, mermaid::render(&build(&shuffled)));
}

#[test]
fn mermaid_labels_cannot_break_out() {
    let mut report = fleet();
    report.items[0].issuer = Some("https://x/\"]<b>#".into());
    let text = mermaid::render(&build(&report));
    assert!(text.contains("https://x/#quot;]#lt;b#gt;#35;"), "{text}");
}

/// An application-backed binding (inspect's `identity.kind: application`) is drawn as an
/// application, named by its client id: it has no resource group.
#[test]
fn an_application_is_drawn_as_one() {
    let mut az = azure(vec![cred("fic", ISS, &names::subject("ns", "app"))]);
    az.identities[0].kind = crate::inspect::IdentityKind::Application {
        service_principal: Some(true),
    };
    let c = cluster(
        vec![sa("ns", "app", Some(CID))],
        vec![pod("ns", "app", true, true)],
    );
    let g = build(&report(rows(&c, Some(&az), Filter::Bindings), true));
    let app = &g.identities[0];
    assert_eq!(app.kind, IdentityKind::Application);
    assert_eq!(app.detail, format!("app id {CID}"));
    assert!(app.id.starts_with("app_"), "{}", app.id);
    assert_eq!(g.edges[0].tone, Tone::Ok);
}
