//! doctor's report as a checklist, like `linkerd check`: a header per category, one line per
//! check with its mark and detail, and the hint under a failure or warning.

use std::io::{IsTerminal, Write};

use super::style::{self, Style};
use crate::doctor::{Report, Status};

/// Symbols on a terminal whose locale shows them (coloured unless NO_COLOR or --no-color);
/// plain brackets when piped, for grep, and where the locale is not UTF-8.
pub fn style() -> Style {
    let tty = std::io::stdout().is_terminal();
    Style {
        colour: style::colour_allowed(tty),
        unicode: tty && style::unicode(),
    }
}

fn mark(s: Status, style: Style) -> String {
    if !style.unicode {
        return match s {
            Status::Pass => "[ok]  ",
            Status::Warn => "[warn]",
            Status::Fail => "[FAIL]",
            Status::Skip => "[skip]",
            Status::Pending => "[wait]",
        }
        .into();
    }
    let (symbol, sgr) = match s {
        Status::Pass => ("✔", "32"),
        Status::Warn => ("‼", "33"),
        Status::Fail => ("×", "31"),
        Status::Skip => ("-", "2"),
        Status::Pending => ("…", "36"),
    };
    if style.colour {
        format!("\x1b[{sgr}m{symbol}\x1b[0m")
    } else {
        symbol.into()
    }
}

pub fn render(report: &Report, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    let what = report.target.as_deref().unwrap_or("cluster");
    writeln!(out, "kubectl azwi doctor {what} -n {}", report.namespace)?;
    for cat in &report.categories {
        writeln!(out)?;
        writeln!(out, "{}", cat.title)?;
        writeln!(out, "{}", "-".repeat(cat.title.chars().count()))?;
        for c in &cat.checks {
            writeln!(out, "{} {}: {}", mark(c.status, style), c.title, c.detail)?;
            if let Some(h) = &c.hint
                && matches!(c.status, Status::Fail | Status::Warn)
            {
                writeln!(out, "    hint: {h}")?;
                writeln!(out, "    see: README.md#check-{}", c.id)?;
            }
        }
    }
    writeln!(out)?;
    let count = |s| report.all().filter(|c| c.status == s).count();
    let (fail, warn) = (count(Status::Fail), count(Status::Warn));
    let summary = if fail > 0 {
        format!(
            "Status check results are {} ({fail} failed, {warn} warnings)",
            mark(Status::Fail, style).trim()
        )
    } else {
        format!(
            "Status check results are {} ({warn} warnings)",
            mark(Status::Pass, style).trim()
        )
    };
    writeln!(out, "{summary}")?;
    Ok(())
}

/// exec-login's outcome: who the pod is to Azure, or the decoded failure.
pub fn login(r: &crate::cmd::exec_login::LoginReport, out: &mut dyn Write) -> std::io::Result<()> {
    use crate::cmd::exec_login::Via;
    let via = match r.via {
        Via::AzInPod => "az login inside the container",
        Via::Plugin => "the plugin, with the token read from the container",
        Via::TokenProxy => {
            "the plugin, with the token and CA read from the container, through the AKS token proxy as the Azure SDKs send it"
        }
    };
    writeln!(
        out,
        "pod {}/{} (container {}), via {via}",
        r.namespace, r.pod, r.container
    )?;
    if let Some(a) = &r.authority {
        writeln!(out, "authority: {a}")?;
    }
    if let Some(p) = &r.proxy {
        writeln!(
            out,
            "token proxy: {} (connected to {}, TLS name {}, trusting {})",
            p.url, p.connect, p.tls_name, p.trust
        )?;
    }
    for n in &r.notes {
        writeln!(out, "note: {n}")?;
    }
    if let Some(w) = &r.who {
        writeln!(out, "logged in to Azure as:")?;
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        writeln!(out, "  tenant:    {}", opt(&w.tenant))?;
        writeln!(out, "  client id: {}", opt(&w.client_id))?;
        writeln!(out, "  object id: {}", opt(&w.object_id))?;
        writeln!(out, "  audience:  {}", w.audience.join(", "))?;
        if let Some(e) = w.expires {
            writeln!(out, "  expires:   {e} (unix time)")?;
        }
    }
    if let Some(t) = &r.access_token {
        writeln!(out, "access token: {t}")?;
    }
    if let Some(f) = &r.failure {
        writeln!(out, "login FAILED: {}", f.message)?;
        if let Some(c) = &f.code {
            writeln!(out, "  code:    {c}")?;
        }
        if let Some(m) = &f.meaning {
            writeln!(out, "  meaning: {m}")?;
        }
        if let Some(x) = &f.fix {
            writeln!(out, "  fix:     {x}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::{
        Category,
        model::{CategoryResult, CheckResult},
    };

    #[test]
    fn plain_checklist() {
        let report = Report {
            target: Some("pod/app".into()),
            namespace: "ns".into(),
            success: false,
            categories: vec![CategoryResult {
                category: Category::Pod,
                title: "pod",
                checks: vec![
                    CheckResult {
                        id: "pod-label",
                        title: "label",
                        status: Status::Fail,
                        detail: "lacks it".into(),
                        hint: Some("add it".into()),
                    },
                    CheckResult {
                        id: "pod-mutated",
                        title: "mutated",
                        status: Status::Pass,
                        detail: "yes".into(),
                        hint: None,
                    },
                ],
            }],
            stats: Default::default(),
        };
        let mut buf = Vec::new();
        render(&report, Style::PLAIN, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.contains(
                "[FAIL] label: lacks it\n    hint: add it\n    see: README.md#check-pod-label"
            ),
            "{text}"
        );
        assert!(text.contains("[ok]   mutated: yes"));
        assert!(text.contains("1 failed"));
        assert!(!text.contains('\x1b'));
        let symbols = |colour| {
            let mut buf = Vec::new();
            let style = Style {
                colour,
                unicode: true,
            };
            render(&report, style, &mut buf).unwrap();
            String::from_utf8(buf).unwrap()
        };
        assert!(symbols(false).contains("× label: lacks it"));
        assert!(
            !symbols(false).contains('\x1b'),
            "--no-color keeps the symbols"
        );
        assert!(symbols(true).contains("\x1b[31m×\x1b[0m label"));
    }
}
