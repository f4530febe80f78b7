//! The bindings that work today, as code: Terraform `azurerm_federated_identity_credential`
//! resources, or Bicep resources under `existing` identities. Only exact matches are exported
//! (a near miss is what the user should fix, not freeze); names are deterministic so a re-run
//! gives the same file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{CredentialState, InspectReport, Row};
use crate::{cli::AzurermMajor, wi::identity::ResourceId};

/// One exportable credential: its identity and the credential exactly as it exists.
struct Binding<'a> {
    row: &'a Row,
    identity_name: &'a str,
    resource_group: &'a str,
    identity_id: &'a str,
    name: &'a str,
    issuer: &'a str,
    subject: &'a str,
    audiences: &'a [String],
}

fn bindings(report: &InspectReport) -> Vec<Binding<'_>> {
    report
        .items
        .iter()
        .filter_map(|row| {
            let id = row.identity.as_ref()?;
            let CredentialState::Exact {
                name,
                issuer,
                subject,
                audiences,
            } = &row.credential
            else {
                return None;
            };
            Some(Binding {
                row,
                identity_name: &id.name,
                resource_group: &id.resource_group,
                identity_id: &id.id,
                name,
                issuer,
                subject,
                audiences,
            })
        })
        .collect()
}

fn skipped(report: &InspectReport) -> Vec<String> {
    report
        .items
        .iter()
        .filter(|r| r.client_id.is_some() && !matches!(r.credential, CredentialState::Exact { .. }))
        .map(|r| {
            format!(
                "{}{}/{}: {}",
                r.context
                    .as_deref()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default(),
                r.namespace,
                r.service_account,
                match &r.credential {
                    CredentialState::NearMiss { name, .. } =>
                        format!("credential {name} is a near miss"),
                    CredentialState::Missing => "no credential".into(),
                    CredentialState::NotChecked { reason } => reason.clone(),
                    CredentialState::IdentityBinding { binding, .. } => format!(
                        "identity binding {binding} (AKS owns its credential: not exported)"
                    ),
                    CredentialState::Exact { .. } => unreachable!("filtered"),
                }
            )
        })
        .collect()
}

/// A valid identifier in both languages: letters, digits and `_`, starting with a letter.
pub fn identifier(prefix: &str, parts: &[&str]) -> String {
    let mut s = String::from(prefix);
    for p in parts {
        s.push('_');
        s.extend(p.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        }));
    }
    s
}

/// Makes identifiers unique, deterministically: the first keeps its name, later ones get `_2`...
fn unique(taken: &mut BTreeSet<String>, base: String) -> String {
    if taken.insert(base.clone()) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|c| taken.insert(c.clone()))
        .expect("unbounded")
}

fn hcl(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("${", "$${")
        .replace("%{", "%%{");
    format!("\"{escaped}\"")
}

fn bicep(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('\'', "\\'")
        .replace("${", "\\${");
    format!("'{escaped}'")
}

fn header(out: &mut String, comment: &str, report: &InspectReport, count: usize) {
    let _ = writeln!(
        out,
        "{comment} Exported by kubectl azwi inspect: {count} federated identity credential(s) that match exactly."
    );
    for s in skipped(report) {
        let _ = writeln!(out, "{comment} not exported: {s}");
    }
}

/// `key = value` lines aligned on `=`, as `terraform fmt` writes them.
fn attributes(out: &mut String, attrs: &[(&str, String)]) {
    let width = attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in attrs {
        let _ = writeln!(out, "  {k:<width$} = {v}");
    }
}

/// The identity's id as azurerm parses it: `/resourceGroups/` (ARM answers `resourcegroups`).
fn canonical_identity_id(b: &Binding<'_>) -> String {
    ResourceId::parse(b.identity_id)
        .map(|r| r.canonical())
        .unwrap_or_else(|| b.identity_id.to_string())
}

/// Terraform: `azurerm_federated_identity_credential` (hashicorp/terraform-provider-azurerm,
/// internal/services/managedidentity/federated_identity_credential_resource.go), in the schema of
/// the provider's major version. Each resource comes with an `import` block, since the
/// credential exists already (the provider refuses to create one that exists). Credentials of
/// one identity are chained with `depends_on`: ARM refuses concurrent writes to one identity.
pub fn terraform(report: &InspectReport, major: AzurermMajor) -> String {
    let bs = bindings(report);
    let mut out = String::new();
    header(&mut out, "#", report, bs.len());
    let _ = writeln!(
        out,
        "# For the azurerm provider {}.x (Terraform >= 1.5 for the import blocks).",
        match major {
            AzurermMajor::V5 => 5,
            AzurermMajor::V4 => 4,
        }
    );
    let mut taken = BTreeSet::new();
    let mut last_of_identity: BTreeMap<&str, String> = BTreeMap::new();
    for b in &bs {
        let id = unique(
            &mut taken,
            identifier("fic", &[&b.row.namespace, &b.row.service_account]),
        );
        let identity_id = canonical_identity_id(b);
        let _ = writeln!(out);
        if let Some(c) = &b.row.context {
            let _ = writeln!(
                out,
                "# context {c}: {}/{}",
                b.row.namespace, b.row.service_account
            );
        }
        let _ = writeln!(out, "import {{");
        attributes(
            &mut out,
            &[
                ("to", format!("azurerm_federated_identity_credential.{id}")),
                (
                    "id",
                    hcl(&format!(
                        "{identity_id}/federatedIdentityCredentials/{}",
                        b.name
                    )),
                ),
            ],
        );
        let _ = writeln!(out, "}}");
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "resource \"azurerm_federated_identity_credential\" \"{id}\" {{"
        );
        let auds: Vec<_> = b.audiences.iter().map(|a| hcl(a)).collect();
        let mut attrs = vec![("name", hcl(b.name))];
        match major {
            AzurermMajor::V5 => attrs.push(("user_assigned_identity_id", hcl(&identity_id))),
            AzurermMajor::V4 => {
                attrs.push(("resource_group_name", hcl(b.resource_group)));
                attrs.push(("parent_id", hcl(&identity_id)));
            }
        }
        attrs.push(("audience", format!("[{}]", auds.join(", "))));
        attrs.push(("issuer", hcl(b.issuer)));
        attrs.push(("subject", hcl(b.subject)));
        if let Some(prev) = last_of_identity.insert(b.identity_id, id.clone()) {
            attrs.push((
                "depends_on",
                format!("[azurerm_federated_identity_credential.{prev}]"),
            ));
        }
        attributes(&mut out, &attrs);
        let _ = writeln!(out, "}}");
    }
    out
}

/// Bicep: the identities as `existing` parents and their credentials as children. A Bicep file
/// deploys to one resource group, so each group gets its own section to save as its own file.
pub fn bicep_file(report: &InspectReport) -> String {
    let bs = bindings(report);
    let mut out = String::new();
    header(&mut out, "//", report, bs.len());
    let mut by_rg: BTreeMap<&str, Vec<&Binding<'_>>> = BTreeMap::new();
    for b in &bs {
        by_rg.entry(b.resource_group).or_default().push(b);
    }
    let several = by_rg.len() > 1;
    for (rg, group) in by_rg {
        let mut taken = BTreeSet::new();
        let _ = writeln!(out);
        if several {
            let _ = writeln!(
                out,
                "// ==== resource group {rg}: save this section as its own file; az deployment group create -g {rg} -f FILE"
            );
        } else {
            let _ = writeln!(out, "// az deployment group create -g {rg} -f FILE");
        }
        let mut parents: BTreeMap<&str, String> = BTreeMap::new();
        for b in &group {
            if !parents.contains_key(b.identity_id) {
                let sym = unique(&mut taken, identifier("identity", &[b.identity_name]));
                let _ = writeln!(out);
                let _ = writeln!(
                    out,
                    "resource {sym} 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {{"
                );
                let _ = writeln!(out, "  name: {}", bicep(b.identity_name));
                let _ = writeln!(out, "}}");
                parents.insert(b.identity_id, sym);
            }
        }
        let mut last_of_identity: BTreeMap<&str, String> = BTreeMap::new();
        for b in group {
            let sym = unique(
                &mut taken,
                identifier("fic", &[&b.row.namespace, &b.row.service_account]),
            );
            let _ = writeln!(out);
            if let Some(c) = &b.row.context {
                let _ = writeln!(
                    out,
                    "// context {c}: {}/{}",
                    b.row.namespace, b.row.service_account
                );
            }
            let _ = writeln!(
                out,
                "resource {sym} 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {{"
            );
            let _ = writeln!(out, "  parent: {}", parents[b.identity_id]);
            let _ = writeln!(out, "  name: {}", bicep(b.name));
            let _ = writeln!(out, "  properties: {{");
            let _ = writeln!(out, "    issuer: {}", bicep(b.issuer));
            let _ = writeln!(out, "    subject: {}", bicep(b.subject));
            let _ = writeln!(out, "    audiences: [");
            for a in b.audiences {
                let _ = writeln!(out, "      {}", bicep(a));
            }
            let _ = writeln!(out, "    ]");
            let _ = writeln!(out, "  }}");
            // ARM refuses concurrent credential writes to one identity: deploy them in turn.
            if let Some(prev) = last_of_identity.insert(b.identity_id, sym.clone()) {
                let _ = writeln!(out, "  dependsOn: [");
                let _ = writeln!(out, "    {prev}");
                let _ = writeln!(out, "  ]");
            }
            let _ = writeln!(out, "}}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::{AzureSummary, Filter, rows, tests::*};
    use crate::wi::names;

    fn report() -> InspectReport {
        let c = cluster(
            vec![
                sa("ns-a", "app.v1", Some(CID)),
                sa("ns-a", "app-v1", Some(CID)),
                sa("ns-b", "broken", Some(CID)),
            ],
            vec![],
        );
        let az = azure(vec![
            cred("fic-1", ISS, &names::subject("ns-a", "app.v1")),
            cred("fic-2", ISS, &names::subject("ns-a", "app-v1")),
            cred(
                "fic-3",
                ISS.trim_end_matches('/'),
                &names::subject("ns-b", "broken"),
            ),
        ]);
        InspectReport {
            clusters: vec![],
            azure: AzureSummary {
                checked: true,
                subscription: Some("sub".into()),
                identities: 1,
                requests: 0,
            },
            items: rows(&c, Some(&az), Filter::Bindings),
            identity_bindings: vec![],
            notes: vec![],
        }
    }

    #[test]
    fn identifiers_are_valid_and_unique() {
        assert_eq!(identifier("fic", &["ns-a", "app.v1"]), "fic_ns_a_app_v1");
        let tf = terraform(&report(), AzurermMajor::V5);
        assert!(tf.contains("\"fic_ns_a_app_v1\""));
        assert!(tf.contains("\"fic_ns_a_app_v1_2\""));
        assert_eq!(
            tf.matches("resource \"azurerm_federated_identity_credential\"")
                .count(),
            2
        );
        assert!(
            tf.contains("# not exported: c1: ns-b/broken: credential fic-"),
            "{tf}"
        );
        assert!(tf.contains("is a near miss"));
        assert!(tf.contains(
            "depends_on                = [azurerm_federated_identity_credential.fic_ns_a_app_v1]"
        ), "{tf}");
        assert_eq!(tf.matches('{').count(), tf.matches('}').count());
        assert_eq!(terraform(&report(), AzurermMajor::V5), tf, "deterministic");
    }

    #[test]
    fn terraform_ids_are_canonical_and_the_schema_follows_the_major() {
        // ARM returns `resourcegroups`; azurerm parses ids case-sensitively and wants `resourceGroups`.
        let v5 = terraform(&report(), AzurermMajor::V5);
        let canonical = "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app";
        assert!(!v5.contains("/resourcegroups/"), "{v5}");
        assert!(
            v5.contains(&format!("  user_assigned_identity_id = \"{canonical}\"")),
            "{v5}"
        );
        assert!(
            v5.contains(&format!(
                "  id = \"{canonical}/federatedIdentityCredentials/fic-1\""
            )),
            "{v5}"
        );
        assert!(
            !v5.contains("parent_id") && !v5.contains("resource_group_name"),
            "removed in 5.0"
        );
        let v4 = terraform(&report(), AzurermMajor::V4);
        assert!(
            v4.contains(&format!("  parent_id           = \"{canonical}\"")),
            "{v4}"
        );
        assert!(v4.contains("  resource_group_name = \"rg\""), "{v4}");
        assert!(!v4.contains("user_assigned_identity_id"), "{v4}");
    }

    #[test]
    fn bicep_has_existing_parent_and_children() {
        let b = bicep_file(&report());
        assert_eq!(b.matches("existing = {").count(), 1);
        assert_eq!(
            b.matches("federatedIdentityCredentials@2023-01-31' = {")
                .count(),
            2
        );
        assert!(b.contains("parent: identity_id_app"));
        assert!(b.contains("issuer: 'https://issuer.example/t/u/'"));
        assert!(b.contains("dependsOn: [\n    fic_ns_a_app_v1\n  ]"));
        assert_eq!(b.matches('{').count(), b.matches('}').count());
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(hcl("a\"b${x}"), "\"a\\\"b$${x}\"");
        assert_eq!(bicep("it's ${x}"), "'it\\'s \\${x}'");
    }
}
