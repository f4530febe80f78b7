//! The graph as a Mermaid flowchart, which GitHub and Azure DevOps render inside markdown:
//! the same boxes and colours as the DOT form.

use std::{collections::BTreeMap, fmt::Write};

use super::{Graph, IdentityBox, Tone, colours};

/// A quoted Mermaid label: characters Mermaid or its HTML labels would read as syntax become
/// entity codes; line breaks become `<br/>`.
fn q(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '\n' => out.push_str("<br/>"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn class(t: Tone) -> &'static str {
    match t {
        Tone::Ok => "ok",
        Tone::Warn => "warn",
        Tone::Bad => "bad",
        Tone::Unknown => "unknown",
    }
}

fn identity(out: &mut String, i: &IdentityBox, classes: &mut BTreeMap<Tone, Vec<String>>) {
    let _ = writeln!(out, "  subgraph {}_box[{}]", i.id, q(&i.label()));
    let _ = writeln!(out, "    {}([{}])", i.id, q(&i.name));
    classes.entry(i.tone).or_default().push(i.id.clone());
    for c in &i.credentials {
        let _ = writeln!(out, "    {}[{}]", c.id, q(&c.label()));
        classes.entry(c.tone).or_default().push(c.id.clone());
    }
    let _ = writeln!(out, "  end");
}

/// The whole graph as a Mermaid flowchart, ending in a newline.
pub fn render(g: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    let mut classes: BTreeMap<Tone, Vec<String>> = BTreeMap::new();
    for c in &g.clusters {
        let _ = writeln!(out, "  subgraph {}[{}]", c.id, q(&c.label()));
        for ns in &c.namespaces {
            let label = q(&format!("namespace {}", ns.name));
            let _ = writeln!(out, "    subgraph {}[{label}]", ns.id);
            for sa in &ns.service_accounts {
                let _ = writeln!(out, "      {}[{}]", sa.id, q(&sa.label()));
                classes.entry(sa.tone).or_default().push(sa.id.clone());
            }
            let _ = writeln!(out, "    end");
        }
        let _ = writeln!(out, "  end");
    }
    for i in &g.identities {
        identity(&mut out, i, &mut classes);
    }
    // Links are numbered in the order written: the graph's edges first, styled by index.
    for e in &g.edges {
        let arrow = if e.tone == Tone::Ok { "-->" } else { "-.->" };
        let _ = writeln!(out, "  {} {arrow}|{}| {}", e.from, q(&e.label), e.to);
    }
    for i in &g.identities {
        for c in &i.credentials {
            let _ = writeln!(out, "  {} -.- {}", c.id, i.id);
        }
    }
    for t in [Tone::Ok, Tone::Warn, Tone::Bad, Tone::Unknown] {
        let (line, fill) = colours(t);
        let _ = writeln!(
            out,
            "  classDef {} fill:{fill},stroke:{line},color:#111827",
            class(t)
        );
    }
    for (t, ids) in &classes {
        let _ = writeln!(out, "  class {} {}", ids.join(","), class(*t));
    }
    for (n, e) in g.edges.iter().enumerate() {
        let (line, _) = colours(e.tone);
        let _ = writeln!(out, "  linkStyle {n} stroke:{line},color:{line}");
    }
    for i in g.identities.iter().filter(|i| i.near_limit) {
        let (line, _) = colours(Tone::Warn);
        let _ = writeln!(out, "  style {}_box stroke:{line},stroke-width:3px", i.id);
    }
    out
}
