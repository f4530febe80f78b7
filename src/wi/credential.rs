//! Matching a token's (iss, sub, aud) against federated identity credentials, exactly as Entra
//! does, and finding the nearest miss to explain when none matches.

use serde::{Deserialize, Serialize};

use super::issuer;

/// A federated identity credential as the rules need it (API-version independent).
///
/// `subject` is empty for a flexible credential: one that matches tokens by
/// `claimsMatchingExpression` (e.g. `claims['sub'] matches 'repo:o/r:*'` for GitHub Actions)
/// instead of an exact subject. Either one or the other is set, never both (Azure/azure-rest-api-specs,
/// msi preview/2025-01-31-preview/ManagedIdentity.json, `FederatedIdentityCredentialProperties`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
}

/// The (iss, sub, aud) a token presents, or that a binding needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wanted {
    pub issuer: String,
    pub subject: String,
    pub audience: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "verdict")]
pub enum Match {
    /// A credential matches all three exactly.
    Exact { name: String },
    /// The closest credential, and each field that differs, explained.
    NearMiss {
        name: String,
        differences: Vec<String>,
    },
    /// No credential shares the issuer or the subject.
    Missing,
}

impl Credential {
    /// Matches by an expression, not by subject. Kubernetes tokens are never matched by one here:
    /// Entra documents flexible credentials for GitHub, GitLab and Terraform Cloud issuers only.
    pub fn is_flexible(&self) -> bool {
        self.subject.is_empty()
    }

    /// One line for a listing: `name (issuer, subject)`, or what stands in for the subject.
    pub fn describe(&self) -> String {
        if self.is_flexible() {
            format!(
                "{} ({}, no subject: a flexible credential matching by claimsMatchingExpression)",
                self.name, self.issuer
            )
        } else {
            format!("{} ({}, {})", self.name, self.issuer, self.subject)
        }
    }

    fn mismatches(&self, want: &Wanted) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(d) = issuer::difference(&want.issuer, &self.issuer) {
            out.push(format!("issuer {d}"));
        }
        if self.subject != want.subject {
            out.push(format!(
                "subject is '{}', the token's is '{}'",
                self.subject, want.subject
            ));
        }
        if !self.audiences.contains(&want.audience) {
            out.push(format!(
                "audiences are {:?}, the token's is '{}'",
                self.audiences, want.audience
            ));
        }
        out
    }
}

/// An identity holding this many credentials is close to Azure's limit of
/// [`MAX_FEDERATED_CREDENTIALS`](super::keys::MAX_FEDERATED_CREDENTIALS): two more bindings at most.
pub fn near_limit(count: usize) -> bool {
    count + 2 >= super::keys::MAX_FEDERATED_CREDENTIALS
}

/// Finds the credential Entra would accept for `want`, or the nearest one.
pub fn find(credentials: &[Credential], want: &Wanted) -> Match {
    let mut best: Option<(&Credential, Vec<String>)> = None;
    // A flexible credential has no subject to compare: it is neither a match nor a near miss.
    for c in credentials.iter().filter(|c| !c.is_flexible()) {
        let diffs = c.mismatches(want);
        if diffs.is_empty() {
            return Match::Exact {
                name: c.name.clone(),
            };
        }
        // Only a credential that shares the issuer (modulo slash/case) or the subject is "near".
        let near = c.subject == want.subject
            || c.issuer
                .trim_end_matches('/')
                .eq_ignore_ascii_case(want.issuer.trim_end_matches('/'));
        // Fewest differences wins; on a tie, the one for this subject (a slash or audience
        // typo on the right credential is likelier than a credential for another account).
        let rank = |c: &Credential, d: &Vec<String>| (d.len(), c.subject != want.subject);
        if near
            && best
                .as_ref()
                .is_none_or(|(b, d)| rank(c, &diffs) < rank(b, d))
        {
            best = Some((c, diffs));
        }
    }
    match best {
        Some((c, differences)) => Match::NearMiss {
            name: c.name.clone(),
            differences,
        },
        None => Match::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cred(name: &str, iss: &str, sub: &str, aud: &str) -> Credential {
        Credential {
            name: name.into(),
            issuer: iss.into(),
            subject: sub.into(),
            audiences: vec![aud.into()],
        }
    }
    fn want() -> Wanted {
        Wanted {
            issuer: "https://i/t/u/".into(),
            subject: "system:serviceaccount:ns:sa".into(),
            audience: "api://AzureADTokenExchange".into(),
        }
    }

    #[test]
    fn exact_match_wins_over_order() {
        let creds = [
            cred(
                "near",
                "https://i/t/u",
                "system:serviceaccount:ns:sa",
                "api://AzureADTokenExchange",
            ),
            cred(
                "exact",
                "https://i/t/u/",
                "system:serviceaccount:ns:sa",
                "api://AzureADTokenExchange",
            ),
        ];
        assert_eq!(
            find(&creds, &want()),
            Match::Exact {
                name: "exact".into()
            }
        );
    }

    #[test]
    fn trailing_slash_is_a_near_miss() {
        let creds = [cred(
            "c",
            "https://i/t/u",
            "system:serviceaccount:ns:sa",
            "api://AzureADTokenExchange",
        )];
        let Match::NearMiss { name, differences } = find(&creds, &want()) else {
            panic!()
        };
        assert_eq!(name, "c");
        assert_eq!(differences.len(), 1);
        assert!(differences[0].contains("trailing '/'"), "{differences:?}");
    }

    #[test]
    fn wrong_subject_and_audience_are_named() {
        let creds = [
            cred(
                "other-sa",
                "https://i/t/u/",
                "system:serviceaccount:ns:other",
                "api://AzureADTokenExchange",
            ),
            cred(
                "aud",
                "https://i/t/u/",
                "system:serviceaccount:ns:sa",
                "api://other",
            ),
        ];
        let Match::NearMiss { differences, .. } = find(&creds[..1], &want()) else {
            panic!()
        };
        assert!(differences[0].starts_with("subject is 'system:serviceaccount:ns:other'"));
        let Match::NearMiss { name, differences } = find(&creds, &want()) else {
            panic!()
        };
        assert_eq!(name, "aud", "on a tie, the credential for this subject");
        assert_eq!(differences.len(), 1);
    }

    #[test]
    fn flexible_credential_is_never_a_match_or_near_miss() {
        // As ARM lists a flexible credential: issuer and audience, no subject. Even one on the
        // cluster's own issuer is not the "nearest" credential of a service account.
        let flexible = cred(
            "gh-flex",
            "https://i/t/u/",
            "",
            "api://AzureADTokenExchange",
        );
        assert!(flexible.is_flexible());
        assert!(flexible.describe().contains("claimsMatchingExpression"));
        assert_eq!(
            find(std::slice::from_ref(&flexible), &want()),
            Match::Missing
        );
        let exact = cred(
            "exact",
            "https://i/t/u/",
            "system:serviceaccount:ns:sa",
            "api://AzureADTokenExchange",
        );
        assert_eq!(
            find(&[flexible, exact], &want()),
            Match::Exact {
                name: "exact".into()
            }
        );
    }

    #[test]
    fn unrelated_credentials_are_missing() {
        let creds = [cred(
            "gh",
            "https://token.actions.githubusercontent.com",
            "repo:o/r:ref:refs/heads/main",
            "api://AzureADTokenExchange",
        )];
        assert_eq!(find(&creds, &want()), Match::Missing);
        assert_eq!(find(&[], &want()), Match::Missing);
    }
}
