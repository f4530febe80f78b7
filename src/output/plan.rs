//! Human rendering of bind/unbind reports: one line per step, then warnings and next steps.
//! A dry run also prints each body exactly as it would be sent.

use std::io::{self, Write};

use crate::{
    cmd::{bind::BindReport, unbind::UnbindReport},
    wi::plan::Step,
};

pub fn render_steps(steps: &[Step], dry_run: bool, out: &mut dyn Write) -> io::Result<()> {
    for s in steps {
        let word = if dry_run {
            s.action.planned()
        } else {
            s.action.done()
        };
        writeln!(out, "  {word:<13} {}  ({})", s.target, s.detail)?;
        if dry_run && let Some(body) = &s.body {
            let text = serde_yaml::to_string(body).map_err(io::Error::other)?;
            for line in text.lines() {
                writeln!(out, "                  {line}")?;
            }
        }
    }
    Ok(())
}

pub fn render_notes(warnings: &[String], next: &[String], out: &mut dyn Write) -> io::Result<()> {
    for w in warnings {
        writeln!(out, "warning: {w}")?;
    }
    if !next.is_empty() {
        writeln!(out, "next:")?;
        for n in next {
            writeln!(out, "  - {n}")?;
        }
    }
    Ok(())
}

pub fn bind(r: &BindReport, out: &mut dyn Write) -> io::Result<()> {
    if r.dry_run {
        writeln!(out, "dry run: nothing was written")?;
    }
    writeln!(
        out,
        "issuer:   {}  (from {})",
        r.issuer.value, r.issuer.source
    )?;
    for n in &r.issuer.notes {
        writeln!(out, "          {n}")?;
    }
    match &r.application {
        Some(a) => writeln!(
            out,
            "application: {}  client id {}  service principal {}  tenant {}",
            a.display_name,
            a.app_id.as_deref().unwrap_or("(new)"),
            a.service_principal_id.as_deref().unwrap_or("(new)"),
            r.identity.tenant_id.as_deref().unwrap_or("(new)")
        )?,
        None => writeln!(
            out,
            "identity: {} in {}  client id {}  tenant {}",
            r.identity.name,
            r.identity.resource_group,
            r.identity.client_id.as_deref().unwrap_or("(new)"),
            r.identity.tenant_id.as_deref().unwrap_or("(new)")
        )?,
    }
    writeln!(
        out,
        "subject:  system:serviceaccount:{}:{}",
        r.namespace, r.service_account
    )?;
    render_steps(&r.steps, r.dry_run, out)?;
    render_notes(&r.warnings, &r.next, out)
}

pub fn unbind(r: &UnbindReport, out: &mut dyn Write) -> io::Result<()> {
    if r.dry_run {
        writeln!(out, "dry run: nothing was written")?;
    }
    writeln!(
        out,
        "issuer:   {}  (from {})",
        r.issuer.value, r.issuer.source
    )?;
    if let Some(a) = &r.application {
        writeln!(
            out,
            "application: {}  client id {}",
            a.display_name,
            a.app_id.as_deref().unwrap_or("")
        )?;
    }
    if let Some(i) = &r.identity {
        writeln!(
            out,
            "identity: {} in {}  client id {}",
            i.name,
            i.resource_group,
            i.client_id.as_deref().unwrap_or("")
        )?;
    }
    render_steps(&r.steps, r.dry_run, out)?;
    render_notes(&r.warnings, &[], out)
}
