//! The token's part: the file the SDK reads, what it says, and who signed it. When the
//! container has no shell, an equivalent token minted through TokenRequest stands in, and
//! every verdict says so.

use super::{audience, gap_verdict, injection, pod::token_volume};
use crate::{
    doctor::model::{Facts, Gap, Status, TokenFacts, TokenSource, Verdict},
    wi::{issuer, keys, names},
};

/// How the token was come by, as a verdict's prefix.
fn minted(t: &TokenFacts) -> &'static str {
    match t.source {
        TokenSource::File => "",
        TokenSource::Minted { .. } => "minted token: ",
    }
}

/// A container without a shell: its file cannot be read; the minted token stands in.
fn no_shell(f: &Facts, c: &str, sentence: &str) -> Verdict {
    match &f.token {
        Ok(TokenFacts {
            source:
                TokenSource::Minted {
                    audience,
                    expiration_seconds,
                },
            ..
        }) => Verdict::skip(format!(
            "container {c} has no shell ({sentence}): its file cannot be read there, so the checks below use a token minted as the kubelet mints it (TokenRequest for service account {}, audience {audience}, {expiration_seconds}s, bound to pod {})",
            f.sa_name.as_deref().unwrap_or("default"),
            f.pod
                .as_ref()
                .ok()
                .and_then(|p| p.metadata.name.as_deref())
                .unwrap_or_default()
        )),
        Err(g @ Gap::Forbidden { .. }) => Verdict::warn(
            format!(
                "container {c} has no shell ({sentence}), and {}",
                g.describe("an equivalent token")
            ),
            format!(
                "minting one needs 'create' on serviceaccounts/token: kubectl auth can-i create serviceaccounts/token -n {}",
                f.namespace
            ),
        ),
        _ => Verdict::skip(format!("container {c} has no shell ({sentence})")),
    }
}

pub fn token_file(f: &Facts) -> Verdict {
    if injection(f).is_some_and(|i| !i.mutated()) {
        return Verdict::skip("not mutated: see pod-mutated");
    }
    if let Ok(app) = &f.app
        && let Some(sentence) = &app.no_shell
    {
        return no_shell(f, &app.container, sentence);
    }
    let t = match &f.token {
        Ok(t) => t,
        Err(g @ Gap::Forbidden { .. }) => {
            return Verdict::warn(
                g.describe("the token file"),
                format!(
                    "exec needs 'create' on pods/exec: kubectl auth can-i create pods/exec -n {}",
                    f.namespace
                ),
            );
        }
        Err(Gap::Unreachable { reason }) if reason.contains("not running") => {
            return Verdict::pending(reason.clone());
        }
        Err(Gap::Unreachable { reason }) => {
            return Verdict::fail(
                format!("exec into the container failed: {reason}"),
                "check the container is running (kubectl get pod -o wide; kubectl describe pod)",
            );
        }
        Err(g) => return gap_verdict(g, "the token file"),
    };
    let Some(file) = &t.file else {
        return Verdict::skip(format!(
            "container {} has no {} in its environment: see container-env",
            t.container,
            keys::ENV_TOKEN_FILE
        ));
    };
    match &t.jwt {
        Ok(j) => Verdict::pass(format!(
            "{file} in {} holds a JWT (alg {}, kid {})",
            t.container,
            j.alg().unwrap_or("?"),
            j.kid().unwrap_or("-")
        )),
        // A path the webhook did not set is token-volume's finding.
        Err(_) if token_volume(f).status == Status::Fail => {
            Verdict::skip(format!("{file} in {}: see token-volume", t.container))
        }
        Err(why) => Verdict::fail(
            format!("{file} in {}: {why}", t.container),
            "the kubelet writes the projected token there: check the volume mount (token-volume) and the pod's events (kubectl describe pod)",
        ),
    }
}

pub fn token_claims(f: &Facts) -> Verdict {
    let Ok(t) = &f.token else {
        return Verdict::skip("no token read (see token-file)");
    };
    let Ok(jwt) = &t.jwt else {
        return Verdict::skip("no token read (see token-file)");
    };
    let c = &jwt.claims;
    let mut problems = Vec::new();
    match (&c.iss, &f.cluster_issuer) {
        (None, _) => problems.push("no iss".to_string()),
        (Some(iss), Ok(cluster)) => {
            if let Some(d) = issuer::difference(cluster, iss) {
                problems.push(format!("iss {d}"));
            }
        }
        _ => {}
    }
    if let Some(sa) = &f.sa_name {
        let want = names::subject(&f.namespace, sa);
        if c.sub.as_deref() != Some(want.as_str()) {
            problems.push(format!("sub is {:?}, expected '{want}'", c.sub));
        }
    }
    // The audience the webhook projected (its --audience), Entra's by default.
    let aud = audience(f);
    if !c.aud.contains(&aud) {
        problems.push(format!(
            "aud is {:?}, the token volume asks for {aud}",
            c.aud
        ));
    }
    let mut expired = false;
    match c.exp {
        Some(exp) if exp <= f.now => {
            expired = true;
            problems.push(format!("expired {}s ago", f.now - exp));
        }
        None => problems.push("no exp".into()),
        _ => {}
    }
    if let Some(nbf) = c.nbf
        && nbf > f.now + 300
    {
        problems.push(format!(
            "not valid for another {}s (nbf; clock skew?)",
            nbf - f.now
        ));
    }
    let how = minted(t);
    if problems.is_empty() {
        return Verdict::pass(format!(
            "{how}iss {}, sub {}, aud {aud}, expires in {}s",
            c.iss.as_deref().unwrap_or_default(),
            c.sub.as_deref().unwrap_or_default(),
            c.exp.unwrap_or_default() - f.now
        ));
    }
    let hint = if expired {
        "the kubelet refreshes the file at 80% of its lifetime: a stale file means the kubelet is not rotating it (node problem) or the app copied it; read AZURE_FEDERATED_TOKEN_FILE before each exchange"
    } else {
        "the federated credential must match the token's iss and sub exactly: recreate the pod with the webhook's volume, and bind the service account it runs as"
    };
    Verdict::fail(format!("{how}{}", problems.join("; ")), hint)
}

pub fn token_signature(f: &Facts) -> Verdict {
    let Ok(t) = &f.token else {
        return Verdict::skip("no token read (see token-file)");
    };
    match &t.signature {
        Ok(Ok(kid)) => Verdict::pass(format!(
            "{}signed by key '{kid}' of the issuer's JWKS",
            minted(t)
        )),
        Ok(Err(why)) => Verdict::fail(
            format!("{}{why}", minted(t)),
            "Entra checks the token against the keys at the issuer's jwks_uri: publish the API server's current service-account public key there (after a key rotation, keep the old key until its tokens expire)",
        ),
        Err(g) => gap_verdict(g, "the issuer's JWKS"),
    }
}

#[cfg(test)]
mod tests {
    use crate::doctor::{
        Status,
        checks::testing::*,
        model::{Gap, TokenSource},
    };

    #[test]
    fn token_problems() {
        let mut f = bound();
        f.token.as_mut().unwrap().jwt = Ok(jwt(ISS, "system:serviceaccount:ns:wi", NOW - 60));
        let v = verdict(&f, "token-claims");
        assert_eq!(v.status, Status::Fail);
        assert!(v.detail.contains("expired 60s ago"), "{v:?}");
        assert!(v.hint.unwrap().contains("80%"));
        let mut f = bound();
        f.token.as_mut().unwrap().jwt = Ok(jwt(ISS, "system:serviceaccount:ns:other", NOW + 60));
        assert!(verdict(&f, "token-claims").detail.contains("sub is"));
        let mut f = bound();
        f.token.as_mut().unwrap().signature = Ok(Err(
            "the signature does not verify against the issuer's key 'k1'".into(),
        ));
        fails(&f, "token-signature", "jwks_uri");
        let mut f = bound();
        f.token = Err(Gap::Forbidden {
            verb: "create".into(),
            resource: "pods/exec".into(),
        });
        let v = verdict(&f, "token-file");
        assert_eq!(v.status, Status::Warn);
        assert!(v.hint.unwrap().contains("pods/exec"));
        let mut f = bound();
        f.token = Err(Gap::unreachable("pod app is not running (Pending)"));
        assert_eq!(verdict(&f, "token-file").status, Status::Pending);
        let mut f = bound();
        f.token.as_mut().unwrap().jwt = Err("cat: can't open: Permission denied".into());
        fails(&f, "token-file", "volume mount");
    }

    /// Item 9: a container without a shell is reported as that, never as "not mutated", and
    /// the token path is still proven with a minted token, which every verdict names.
    #[test]
    fn a_container_without_a_shell() {
        let mut f = bound();
        f.app.as_mut().unwrap().no_shell =
            Some("exec: \"sh\": executable file not found in $PATH".into());
        let t = f.token.as_mut().unwrap();
        t.source = TokenSource::Minted {
            audience: crate::wi::keys::AUDIENCE.into(),
            expiration_seconds: 3600,
        };
        let v = verdict(&f, "token-file");
        assert_eq!(v.status, Status::Skip, "{v:?}");
        assert!(v.detail.contains("has no shell (exec: \"sh\""), "{v:?}");
        assert!(
            v.detail.contains("TokenRequest for service account wi"),
            "{v:?}"
        );
        assert!(!v.detail.contains("not mutated"));
        for id in ["token-claims", "token-signature"] {
            let v = verdict(&f, id);
            assert_eq!(v.status, Status::Pass, "{v:?}");
            assert!(v.detail.starts_with("minted token: "), "{v:?}");
        }
        assert!(failing(&f).is_empty());
        // Not allowed to mint: a warning naming the permission.
        f.token = Err(Gap::Forbidden {
            verb: "create".into(),
            resource: "serviceaccounts/token".into(),
        });
        let v = verdict(&f, "token-file");
        assert_eq!(v.status, Status::Warn, "{v:?}");
        assert!(v.hint.unwrap().contains("serviceaccounts/token"));
    }
}
