//! `kubectl azwi inspect -o dot|mermaid` on the real ground: a fleet of two contexts whose
//! ServiceAccounts share one identity, with an exact binding and a near miss. The DOT text is
//! rendered by the real Graphviz (`dot -Tsvg`, installed by scripts/test) and the SVG parsed.

use std::{
    io::Write,
    process::{Command, Stdio},
};

use crate::{
    inspect::{arrange, fleet_env},
    support::azure::run_plugin,
};

/// One `<g>` of Graphviz's SVG: its class (graph, cluster, node, edge), its `<title>` (the
/// node id, `a->b` for an edge) and the lines of text it shows.
#[derive(Debug)]
struct Shape {
    class: String,
    title: String,
    texts: Vec<String>,
    strokes: Vec<(String, bool)>,
}

fn shapes(svg: &str) -> Vec<Shape> {
    // Graphviz writes the SVG 1.1 DOCTYPE.
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(svg, opts)
        .unwrap_or_else(|e| panic!("SVG does not parse: {e}\n{svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class").is_some())
        .map(|g| {
            let kids = || g.descendants().filter(|d| d.is_element());
            Shape {
                class: g.attribute("class").unwrap().to_string(),
                title: kids()
                    .find(|d| d.has_tag_name("title"))
                    .and_then(|t| t.text())
                    .unwrap_or_default()
                    .to_string(),
                texts: kids()
                    .filter(|d| d.has_tag_name("text"))
                    .filter_map(|t| t.text().map(str::to_string))
                    .collect(),
                strokes: kids()
                    .filter(|d| d.has_tag_name("path"))
                    .filter_map(|p| {
                        p.attribute("stroke")
                            .map(|s| (s.to_string(), p.attribute("stroke-dasharray").is_some()))
                    })
                    .collect(),
            }
        })
        .collect()
}

fn graphviz(dot_text: &str) -> String {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Graphviz's dot (scripts/test installs it: apt-get install graphviz)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot_text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "dot rejects the graph: {err}\n{dot_text}"
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn fleet_graph_renders_with_graphviz() {
    let a = arrange("graph").await;
    let ns = a.ns.as_str();
    let (env, extra) = fleet_env(&a);
    let args = ["inspect", "--context", "fleet-a,fleet-b", "-n", ns];
    let (code, dot_text, err) = run_plugin(&[&args[..], &["-o", "dot"]].concat(), &env);
    let (mcode, mermaid, merr) = run_plugin(&[&args[..], &["-o", "mermaid"]].concat(), &env);
    let (_, again, _) = run_plugin(&[&args[..], &["-o", "dot"]].concat(), &env);
    let _ = std::fs::remove_file(&extra);
    assert_eq!(code, 0, "{dot_text}\n{err}");
    assert_eq!(dot_text, again, "the same bindings give the same text");

    let all = shapes(&graphviz(&dot_text));
    let with = |class: &str, text: &str| -> Vec<&Shape> {
        all.iter()
            .filter(|s| {
                s.class == class
                    && s.texts
                        .iter()
                        .any(|t| t == text || t.starts_with(&format!("{text} ")))
            })
            .collect()
    };
    assert_eq!(with("cluster", "cluster fleet-a").len(), 1, "{all:#?}");
    assert_eq!(with("cluster", "cluster fleet-b").len(), 1);
    assert_eq!(
        with("cluster", &format!("namespace {ns}")).len(),
        2,
        "one per cluster"
    );
    assert_eq!(
        with("cluster", "managed identity id-inspect").len(),
        1,
        "the identity both clusters use is drawn once: {all:#?}"
    );
    assert!(
        with("cluster", "3 of 20 credentials").is_empty(),
        "two credentials only"
    );
    assert_eq!(with("cluster", "2 of 20 credentials").len(), 1, "{all:#?}");
    for sa in ["good", "near", "plain"] {
        assert_eq!(with("node", sa).len(), 2, "{sa}: one per cluster");
    }
    assert_eq!(
        with("node", "(no client-id annotation)").len(),
        2,
        "plain, in each cluster"
    );
    assert_eq!(with("node", "good-fic").len(), 1);
    assert_eq!(with("node", "near-fic").len(), 1);
    let exact = with("edge", "pods 1/1/1");
    assert_eq!(exact.len(), 2, "both clusters' good -> good-fic: {all:#?}");
    assert!(
        exact
            .iter()
            .all(|e| e.strokes == [("#15803d".to_string(), false)]),
        "{exact:#?}"
    );
    let near = with("edge", "pods 0/0/1, near miss");
    assert_eq!(near.len(), 2, "{all:#?}");
    assert!(
        near.iter()
            .all(|e| e.strokes == [("#c2410c".to_string(), true)]),
        "warning colour, dashed: {near:#?}"
    );
    let fic = &with("node", "near-fic")[0].title;
    assert!(
        near.iter().all(|e| e.title.ends_with(&format!("->{fic}"))),
        "{near:#?}"
    );

    assert_eq!(mcode, 0, "{mermaid}\n{merr}");
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    assert_eq!(
        mermaid.matches("managed identity id-inspect").count(),
        1,
        "{mermaid}"
    );
    assert_eq!(
        mermaid.matches("|\"pods 0/0/1, near miss\"|").count(),
        2,
        "{mermaid}"
    );
}

#[test]
fn dot_and_mermaid_are_inspect_only() {
    let (code, out, err) = run_plugin(&["doctor", "-o", "dot"], &[]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("dot") && err.contains("table, json or yaml"),
        "{err}"
    );
}

/// The README's picture is Graphviz's SVG of the sandbox (scripts/graph-picture), committed.
#[test]
fn the_readme_shows_the_sandbox_graph() {
    let repo = crate::support::repo();
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    assert!(
        readme.contains("](docs/sandbox-graph.svg)"),
        "README links the picture"
    );
    let svg = std::fs::read_to_string(repo.join("docs/sandbox-graph.svg")).unwrap();
    let all = shapes(&svg);
    let texts = |class: &str| -> Vec<&str> {
        all.iter()
            .filter(|s| s.class == class)
            .flat_map(|s| s.texts.iter().map(String::as_str))
            .collect()
    };
    assert!(
        texts("cluster").contains(&"managed identity myIdentity"),
        "{all:#?}"
    );
    assert!(texts("cluster").contains(&"18 of 20 credentials: near the limit"));
    assert!(texts("node").contains(&"workload-identity-sa"));
    assert!(texts("edge").contains(&"pods 1/1/1, near miss"));
}
