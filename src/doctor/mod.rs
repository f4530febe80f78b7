//! `kubectl azwi doctor`: gather facts (gather/, the only I/O), run the check table
//! (checks/, pure, one file per category), and return a `Report` that output/checklist.rs
//! renders.

pub mod can;
pub mod checks;
pub mod gather;
pub mod identity_binding;
pub mod model;

pub use model::{Category, Check, Facts, Report, Status, Verdict};

use model::{CategoryResult, CheckResult, Stats};

/// Which checks apply to a target: with no target only the cluster is checked; access
/// checks only when asked for (`--can`).
pub fn applies(check: &Check, facts: &Facts) -> bool {
    let asked = !matches!(facts.can, Err(model::Gap::NotAsked { .. }));
    // The identity-binding rows only where the pod takes that path (or its identity has one).
    let ib = !check.id.starts_with("ib-") || facts.identity_binding.is_ok();
    (facts.target.is_some() || check.category == Category::Cluster)
        && (check.category != Category::Access || asked)
        && ib
}

/// Runs every applicable check of `table` on `facts`, grouped by category in table order.
pub fn run(facts: &Facts, table: &[Check], stats: Stats) -> Report {
    let mut categories: Vec<CategoryResult> = Vec::new();
    for check in table.iter().filter(|c| applies(c, facts)) {
        let v = (check.run)(facts);
        let result = CheckResult {
            id: check.id,
            title: check.title,
            status: v.status,
            detail: v.detail,
            hint: v.hint,
        };
        match categories.iter_mut().find(|c| c.category == check.category) {
            Some(c) => c.checks.push(result),
            None => categories.push(CategoryResult {
                category: check.category,
                title: check.category.title(),
                checks: vec![result],
            }),
        }
    }
    let mut report = Report {
        target: facts.target.as_ref().map(|t| t.to_string()),
        namespace: facts.namespace.clone(),
        success: true,
        categories,
        stats,
    };
    report.success = !report.failed();
    report
}
