//! ABAC conditions on role assignments. "A condition filters down permissions granted as a
//! part of the role definition and role assignment" (conditions-overview.md): ARM checks it
//! per request, on attributes (tags, container names, the role being assigned) only the request
//! carries. So a grant under a condition is never a plain yes, with one exception that is plain
//! boolean logic: a condition built as `(!(ActionMatches{'op'})) OR (...)` is true for every
//! request that is not `op` (conditions-format.md), so it restricts only the actions it names.

use super::action::glob;

/// Splits `s` at top-level occurrences of the boolean operator (`AND`/`&&` or `OR`/`||`),
/// outside parentheses, braces, brackets and quotes.
fn split_top(s: &str, and: bool) -> Vec<&str> {
    let (word, sym) = if and { ("and", "&&") } else { ("or", "||") };
    let b = s.as_bytes();
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start, mut i) = (0i32, false, 0usize, 0usize);
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            quoted = !quoted;
        } else if !quoted {
            match c {
                b'(' | b'{' | b'[' => depth += 1,
                b')' | b'}' | b']' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                let rest = &s[i..];
                let boundary = |at: usize| {
                    b.get(at)
                        .is_none_or(|x| x.is_ascii_whitespace() || *x == b'(' || *x == b'!')
                };
                let before = i == 0 || b[i - 1].is_ascii_whitespace() || b[i - 1] == b')';
                let hit = if rest.starts_with(sym) {
                    Some(sym.len())
                } else if before
                    && rest.len() >= word.len()
                    && rest[..word.len()].eq_ignore_ascii_case(word)
                    && boundary(i + word.len())
                {
                    Some(word.len())
                } else {
                    None
                };
                if let Some(n) = hit {
                    parts.push(s[start..i].trim());
                    i += n;
                    start = i;
                    continue;
                }
            }
        }
        i += 1;
    }
    parts.push(s[start..].trim());
    parts
}

/// Drops parentheses that wrap the whole expression.
fn strip(mut s: &str) -> &str {
    loop {
        s = s.trim();
        if !(s.starts_with('(') && s.ends_with(')')) {
            return s;
        }
        // Only when the first '(' closes at the very end: "(a) OR (b)" stays.
        let mut depth = 0;
        for (i, c) in s.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 && i != s.len() - 1 {
                        return s;
                    }
                }
                _ => {}
            }
        }
        s = &s[1..s.len() - 1];
    }
}

/// `!x` or `NOT x` -> `x`.
fn negated(s: &str) -> Option<&str> {
    if let Some(r) = s.strip_prefix('!') {
        return Some(r);
    }
    let lower = s.get(..4)?.to_ascii_lowercase();
    (lower == "not " || lower == "not(").then(|| &s[3..])
}

/// `ActionMatches{'a', 'b'}` -> the quoted patterns.
fn action_matches(s: &str) -> Option<Vec<&str>> {
    let name = "actionmatches";
    if s.len() < name.len() || !s[..name.len()].eq_ignore_ascii_case(name) {
        return None;
    }
    let inner = s[name.len()..]
        .trim()
        .strip_prefix('{')?
        .strip_suffix('}')?;
    Some(
        inner
            .split(',')
            .map(|p| p.trim().trim_matches('\''))
            .collect(),
    )
}

fn surely_true(expr: &str, action: &str) -> bool {
    let expr = strip(expr);
    let terms = split_top(expr, false);
    if terms.len() > 1 {
        return terms.iter().any(|t| surely_true(t, action));
    }
    let conj = split_top(expr, true);
    if conj.len() > 1 {
        return conj.iter().all(|c| surely_true(c, action));
    }
    negated(expr).is_some_and(|inner| surely_false(inner, action))
}

fn surely_false(expr: &str, action: &str) -> bool {
    let expr = strip(expr);
    let terms = split_top(expr, false);
    if terms.len() > 1 {
        return terms.iter().all(|t| surely_false(t, action));
    }
    let conj = split_top(expr, true);
    if conj.len() > 1 {
        return conj.iter().any(|c| surely_false(c, action));
    }
    if let Some(inner) = negated(expr) {
        return surely_true(inner, action);
    }
    action_matches(expr).is_some_and(|pats| !pats.iter().any(|p| glob(p, action)))
}

/// Whether a condition may deny `action`: false only when it is provably true for it.
pub fn restricts(condition: &str, action: &str) -> bool {
    !surely_true(condition, action)
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
    const WRITE: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write";
    const DELETE: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete";

    /// "Read blobs with a blob index tag" (MicrosoftDocs storage-auth-abac-examples.md).
    const TAG_READ: &str = "(\n (\n  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND NOT SubOperationMatches{'Blob.List'})\n )\n OR\n (\n  @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>] StringEquals 'Cascade'\n )\n)";
    /// "Read, write, or delete blobs in named containers" (same page).
    const NAMED_CONTAINER: &str = "(\n (\n  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})\n  AND\n  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})\n  AND\n  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'})\n )\n OR\n (\n  @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'blobs-example-container'\n )\n)";
    /// Delegation condition (delegate-role-assignments-overview.md, on a Role Based Access
    /// Control Administrator assignment).
    const DELEGATION: &str = "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'User'})) AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912} AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'User'}))";

    #[test]
    fn conditions_restrict_only_the_actions_they_name() {
        for (cond, action, want) in [
            (TAG_READ, READ, true),
            (TAG_READ, WRITE, false),
            (NAMED_CONTAINER, READ, true),
            (NAMED_CONTAINER, DELETE, true),
            (
                NAMED_CONTAINER,
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
                false,
            ),
            (
                DELEGATION,
                "Microsoft.Authorization/roleAssignments/write",
                true,
            ),
            (
                DELEGATION,
                "Microsoft.Authorization/roleAssignments/delete",
                true,
            ),
            (
                DELEGATION,
                "Microsoft.Authorization/roleAssignments/read",
                false,
            ),
            (
                DELEGATION,
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                false,
            ),
            // Not of the documented form: assumed to restrict.
            (
                "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'x'",
                WRITE,
                true,
            ),
            (
                "ActionMatches{'x/y'} OR @Request[a] StringEquals 'b'",
                WRITE,
                true,
            ),
            (
                "(!(ActionMatches{'x/y'}) && SomethingElse) || @Request[a] StringEquals 'b'",
                WRITE,
                true,
            ),
            (
                "!(ActionMatches{'x/y'}) || @Request[a] StringEquals 'b'",
                WRITE,
                false,
            ),
        ] {
            assert_eq!(restricts(cond, action), want, "{action} under {cond}");
        }
    }

    #[test]
    fn splitting_respects_nesting_and_quotes() {
        assert_eq!(split_top("(a OR b) AND c", true), vec!["(a OR b)", "c"]);
        assert_eq!(split_top("x StringEquals 'A OR B'", false).len(), 1);
        assert_eq!(
            split_top("ORDER AND ANDROID", true),
            vec!["ORDER", "ANDROID"]
        );
        assert_eq!(strip("((a) OR (b))"), "(a) OR (b)");
        assert_eq!(strip("(a) OR (b)"), "(a) OR (b)");
    }
}
