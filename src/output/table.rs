//! Tables in kubectl's shape (upper-case headers, no borders, columns three spaces apart).
//! Colour only on a terminal without `NO_COLOR` or `--no-color`; piped output is plain text for
//! grep and awk; the marks fall back to ASCII where the locale is not UTF-8.

use std::io::Write;

use comfy_table::{Cell, Color, Table, presets::NOTHING};

use super::style::Style;
use crate::{
    cli::OutputFormat,
    inspect::{CredentialState, InspectReport, Row, export},
};

/// Renders rows of cells as a kubectl-style table; trailing blanks trimmed.
pub fn render(header: &[&str], rows: Vec<Vec<Cell>>, colour: bool) -> String {
    let mut t = Table::new();
    t.load_style(NOTHING);
    if colour {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t.set_header(header.iter().map(|h| Cell::new(*h)));
    for r in rows {
        t.add_row(r);
    }
    for c in t.column_iter_mut() {
        c.set_padding((0, 3));
    }
    let mut s = String::new();
    for line in t.to_string().lines() {
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

fn dash(v: Option<&str>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or("-").to_string()
}

fn credential_cell(c: &CredentialState, style: Style) -> Cell {
    let text = match c {
        CredentialState::NotChecked { .. } => "-",
        other if style.unicode => other.symbol(),
        other => other.ascii(),
    };
    let cell = Cell::new(text);
    if !style.colour {
        return cell;
    }
    match c {
        CredentialState::Exact { .. } => cell.fg(Color::Green),
        CredentialState::IdentityBinding { state, .. } if state == "Succeeded" => {
            cell.fg(Color::Green)
        }
        CredentialState::IdentityBinding { .. } => cell.fg(Color::Red),
        CredentialState::NearMiss { .. } => cell.fg(Color::Yellow),
        CredentialState::Missing => cell.fg(Color::Red),
        CredentialState::NotChecked { .. } => cell,
    }
}

fn cells(r: &Row, fleet: bool, wide: bool, style: Style) -> Vec<Cell> {
    let colour = style.colour;
    let mut v = Vec::new();
    if fleet {
        v.push(Cell::new(dash(r.context.as_deref())));
    }
    let sa = if r.ok() {
        Cell::new(&r.service_account)
    } else if colour {
        Cell::new(format!("{} (!)", r.service_account)).fg(Color::Red)
    } else {
        Cell::new(format!("{} (!)", r.service_account))
    };
    v.push(Cell::new(&r.namespace));
    v.push(sa);
    v.push(Cell::new(dash(r.client_id.as_deref())));
    v.push(Cell::new(
        r.identity
            .as_ref()
            .map(|i| match i.kind {
                "application" => format!("{} (app)", i.name),
                _ => format!("{}/{}", i.name, i.resource_group),
            })
            .unwrap_or_else(|| "-".into()),
    ));
    v.push(credential_cell(&r.credential, style));
    v.push(Cell::new(format!(
        "{}/{}/{}",
        r.pods.labelled, r.pods.injected, r.pods.total
    )));
    if wide {
        v.push(Cell::new(dash(r.tenant_id.as_deref())));
        v.push(Cell::new(dash(r.issuer.as_deref())));
        v.push(Cell::new(dash(r.token_expiration.as_deref())));
        v.push(Cell::new(dash(r.credential.name())));
        let roles: Vec<String> = r.roles.iter().map(|h| h.short()).collect();
        v.push(Cell::new(dash(Some(&roles.join(", ")))));
    }
    v
}

/// The inspect table: one line per ServiceAccount, then each row's problems, numbered.
pub fn inspect_table(report: &InspectReport, wide: bool, style: Style) -> String {
    let fleet = report.fleet();
    let mut header = Vec::new();
    if fleet {
        header.push("CONTEXT");
    }
    header.extend([
        "NAMESPACE",
        "SERVICEACCOUNT",
        "CLIENT-ID",
        "IDENTITY",
        "CREDENTIAL",
        "PODS",
    ]);
    if wide {
        header.extend([
            "TENANT",
            "ISSUER",
            "TOKEN-EXPIRATION",
            "CREDENTIAL-NAME",
            "ROLES",
        ]);
    }
    if report.items.is_empty() {
        return "No workload-identity bindings found.\n".into();
    }
    let rows = report
        .items
        .iter()
        .map(|r| cells(r, fleet, wide, style))
        .collect();
    let mut s = render(&header, rows, style.colour);
    let problems: Vec<_> = report.items.iter().filter(|r| !r.ok()).collect();
    if !problems.is_empty() {
        s.push_str("\nProblems:\n");
        for r in problems {
            let who = match &r.context {
                Some(c) if fleet => format!("{c}: {}/{}", r.namespace, r.service_account),
                _ => format!("{}/{}", r.namespace, r.service_account),
            };
            for p in &r.problems {
                s.push_str(&format!("  {who}: {p}\n"));
            }
        }
    }
    // Flexible credentials are shown once per identity: they are no binding of a ServiceAccount.
    let mut shown = std::collections::BTreeSet::new();
    for i in report.items.iter().filter_map(|r| r.identity.as_ref()) {
        if !i.flexible_credentials.is_empty() && shown.insert(&i.id) {
            s.push_str(&format!(
                "\nIdentity {} also holds: {}\n",
                i.name,
                i.flexible_credentials.join("; ")
            ));
        }
    }
    s.push_str(if style.unicode {
        "\nPODS = labelled/injected/total; CREDENTIAL: ✔ exact match, ‼ near miss, × missing, - not checked\n"
    } else {
        "\nPODS = labelled/injected/total; CREDENTIAL: ok exact match, !! near miss, x missing, - not checked\n"
    });
    s
}

/// Renders an inspect report in any format; notes go to stderr so stdout stays the result.
pub fn inspect(
    report: &InspectReport,
    format: Option<OutputFormat>,
    azurerm: crate::cli::AzurermMajor,
    out: &mut dyn Write,
) -> Result<(), crate::Error> {
    let mut err = std::io::stderr();
    for n in &report.notes {
        let _ = writeln!(err, "note: {n}");
    }
    match format {
        None | Some(OutputFormat::Table) => {
            out.write_all(inspect_table(report, false, Style::stdout()).as_bytes())?
        }
        Some(OutputFormat::Wide) => {
            out.write_all(inspect_table(report, true, Style::stdout()).as_bytes())?
        }
        Some(OutputFormat::Terraform) => {
            out.write_all(export::terraform(report, azurerm).as_bytes())?
        }
        Some(OutputFormat::Bicep) => out.write_all(export::bicep_file(report).as_bytes())?,
        Some(OutputFormat::Dot) => {
            out.write_all(super::graph::dot::render(&super::graph::build(report)).as_bytes())?
        }
        Some(OutputFormat::Mermaid) => {
            out.write_all(super::graph::mermaid::render(&super::graph::build(report)).as_bytes())?
        }
        Some(f) => super::structured(report, f, out)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::{Filter, rows, tests::*};
    use crate::wi::names;

    #[test]
    fn plain_table_is_kubectl_shaped() {
        let c = cluster(
            vec![sa("ns", "app", Some(CID)), sa("ns", "plain", None)],
            vec![
                pod("ns", "app", true, true),
                pod("ns", "plain", true, false),
            ],
        );
        let az = azure(vec![cred("fic", ISS, &names::subject("ns", "app"))]);
        let report = report(rows(&c, Some(&az), Filter::Bindings), true);
        let unicode = Style {
            colour: false,
            unicode: true,
        };
        let t = inspect_table(&report, false, unicode);
        let lines: Vec<_> = t.lines().collect();
        assert_eq!(
            lines[0],
            "NAMESPACE   SERVICEACCOUNT   CLIENT-ID                              IDENTITY    CREDENTIAL   PODS"
        );
        assert!(lines[1].starts_with("ns          app              11111111-"));
        assert!(lines[1].ends_with("id-app/rg   ✔            1/1/1"), "{t}");
        assert!(lines[2].starts_with("ns          plain (!)"));
        assert!(t.contains("ns/plain: 1 labelled pod(s) use it"));
        assert!(!t.contains('\u{1b}'), "no escape codes when plain");
        let ascii = inspect_table(&report, false, Style::PLAIN);
        assert!(
            ascii
                .lines()
                .nth(1)
                .unwrap()
                .ends_with("id-app/rg   ok           1/1/1"),
            "{ascii}"
        );
        assert!(ascii.is_ascii(), "{ascii}");
        let coloured = inspect_table(
            &report,
            false,
            Style {
                colour: true,
                unicode: true,
            },
        );
        assert!(
            coloured.contains("\u{1b}["),
            "colour when asked: {coloured}"
        );
        let w = inspect_table(&report, true, unicode);
        assert!(w.lines().next().unwrap().ends_with(
            "TENANT   ISSUER                        TOKEN-EXPIRATION   CREDENTIAL-NAME   ROLES"
        ));
    }
}
