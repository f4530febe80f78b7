//! `can-i`'s answer: the verdict word first (as `kubectl auth can-i` prints it), then why,
//! the nearest miss, and the command that would grant it. `-o json|yaml` carry the same report.

use std::io::Write;

use crate::{
    cli::OutputFormat,
    cmd::can_i::Report,
    wi::rbac::{explain, scope::short},
};

/// The format to render, checked before any call: table (default, wide the same), json, yaml.
pub fn format(f: Option<OutputFormat>) -> Result<Option<OutputFormat>, crate::Error> {
    super::report_format(f)
}

pub fn render(
    r: &Report,
    format: Option<OutputFormat>,
    out: &mut dyn Write,
) -> Result<(), crate::Error> {
    if let Some(f) = format {
        return super::structured(r, f, out);
    }
    text(r, out)?;
    Ok(())
}

fn text(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{}", r.allowed.word())?;
    let p = &r.principal;
    let who = match (&p.identity, &p.object_id) {
        (Some(name), Some(oid)) => format!("managed identity {name} (object id {oid})"),
        (None, Some(oid)) => format!("principal {oid}"),
        _ => "no Azure identity".to_string(),
    };
    writeln!(
        out,
        "  identity:   {who}, from serviceaccount {}/{}",
        p.namespace, p.service_account
    )?;
    let short_name = r.action.short.map(|s| format!(", {s}")).unwrap_or_default();
    writeln!(
        out,
        "  action:     {} ({}{short_name})",
        r.action.name,
        r.action.plane.describe()
    )?;
    writeln!(out, "  scope:      {}", r.scope)?;
    writeln!(out, "  why:        {}", r.reason)?;
    let d = &r.decision;
    // The first grant is the one `why` names; others (roles add up) follow with their own.
    for (n, g) in d.granted.iter().chain(&d.conditional).enumerate() {
        if n == 0 {
            writeln!(out, "  assignment: {}", g.assignment_id)?;
        } else {
            writeln!(
                out,
                "  also:       {} ({})",
                explain::grant(g),
                g.assignment_id
            )?;
        }
        if let Some(c) = &g.condition {
            writeln!(out, "  condition:  {c}")?;
        }
    }
    if let Some(x) = d.denied.first() {
        writeln!(out, "  denied by:  {} ({})", x.id, short(&x.scope))?;
    }
    if let Some(n) = &r.nearest {
        writeln!(out, "  nearest:    {n}")?;
    }
    if let Some(f) = &r.fix {
        writeln!(out, "  to grant:   {}", f.az)?;
        if let Some(b) = &f.bind {
            writeln!(out, "          or: {b}")?;
        }
    }
    for n in &r.notes {
        writeln!(out, "  note:       {n}")?;
    }
    Ok(())
}
