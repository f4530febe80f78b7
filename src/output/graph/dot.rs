//! The graph in Graphviz's DOT language (`dot -Tsvg`): clusters and namespaces as nested
//! boxes, each identity as a box holding its credentials, verdicts as colours.

use std::fmt::Write;

use super::{ClusterBox, Graph, IdentityBox, Tone, colours};

/// A DOT double-quoted string: `\` and `"` escaped, line breaks as DOT's centred `\n`.
fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn node_style(t: Tone) -> String {
    let (line, fill) = colours(t);
    let dashed = if t == Tone::Unknown { ",dashed" } else { "" };
    format!(
        "color={}, fillcolor={}, style={}",
        q(line),
        q(fill),
        q(&format!("rounded,filled{dashed}"))
    )
}

/// One node line: `"id" [label="...", ATTRS];`.
fn node(out: &mut String, indent: &str, id: &str, label: &str, attrs: &str) {
    let _ = writeln!(out, "{indent}{} [label={}, {attrs}];", q(id), q(label));
}

fn cluster(out: &mut String, c: &ClusterBox) {
    let _ = writeln!(out, "  subgraph {} {{", q(&format!("cluster_{}", c.id)));
    let _ = writeln!(
        out,
        "    label={}; style=\"rounded\"; color=\"#326ce5\";",
        q(&c.label())
    );
    for ns in &c.namespaces {
        let _ = writeln!(out, "    subgraph {} {{", q(&format!("cluster_{}", ns.id)));
        let _ = writeln!(
            out,
            "      label={}; style=\"rounded,dashed\"; color=\"#64748b\";",
            q(&format!("namespace {}", ns.name))
        );
        for sa in &ns.service_accounts {
            node(out, "      ", &sa.id, &sa.label(), &node_style(sa.tone));
        }
        let _ = writeln!(out, "    }}");
    }
    let _ = writeln!(out, "  }}");
}

fn identity(out: &mut String, i: &IdentityBox) {
    let (line, _) = colours(i.tone);
    let _ = writeln!(out, "  subgraph {} {{", q(&format!("cluster_{}", i.id)));
    let width = if i.near_limit { 2 } else { 1 };
    let _ = writeln!(
        out,
        "    label={}; style=\"rounded\"; color={}; penwidth={width};",
        q(&i.label()),
        q(line)
    );
    // The identity itself: the end of an edge whose ServiceAccount no credential matches.
    let attrs = format!("shape=ellipse, {}", node_style(i.tone));
    node(out, "    ", &i.id, &i.name, &attrs);
    for c in &i.credentials {
        let attrs = format!("shape=note, {}", node_style(c.tone));
        node(out, "    ", &c.id, &c.label(), &attrs);
        let _ = writeln!(
            out,
            "    {} -> {} [arrowhead=none, style=dotted, color=\"#94a3b8\"];",
            q(&c.id),
            q(&i.id)
        );
    }
    let _ = writeln!(out, "  }}");
}

/// The whole graph as DOT text, ending in a newline.
pub fn render(g: &Graph) -> String {
    let mut out = String::from("digraph azwi {\n");
    out.push_str(
        "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=11, nodesep=0.25, ranksep=0.9];\n",
    );
    out.push_str("  node [fontname=\"Helvetica\", fontsize=10, shape=box];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for c in &g.clusters {
        cluster(&mut out, c);
    }
    for i in &g.identities {
        identity(&mut out, i);
    }
    for e in &g.edges {
        let (line, _) = colours(e.tone);
        let style = match e.tone {
            Tone::Ok => "solid",
            _ => "dashed",
        };
        let tooltip = e
            .note
            .as_ref()
            .map(|n| format!(", tooltip={}", q(n)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} -> {} [label={}, color={}, fontcolor={}, style={style}{tooltip}];",
            q(&e.from),
            q(&e.to),
            q(&e.label),
            q(line),
            q(line)
        );
    }
    out.push_str("}\n");
    out
}
