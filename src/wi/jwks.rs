//! Verifying a JWT's RS256/ES256 signature against a JWKS, the way Entra checks an assertion
//! against the issuer's published keys.

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a JWT: expected three base64url parts")]
    Shape,
    #[error("the JWT header names no supported algorithm (RS256, ES256)")]
    Algorithm,
    #[error("no key with kid '{0}' in the issuer's JWKS")]
    NoKey(String),
    #[error("the signature does not verify against the issuer's key '{0}'")]
    BadSignature(String),
}

/// Checks `token`'s signature with the key its header names (or, without a kid, any key).
pub fn verify(token: &str, jwks: &Jwks) -> Result<String, VerifyError> {
    let (signed, sig) = token.trim().rsplit_once('.').ok_or(VerifyError::Shape)?;
    let header_b64 = signed.split('.').next().ok_or(VerifyError::Shape)?;
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header_b64)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(VerifyError::Shape)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| VerifyError::Shape)?;
    let alg = header
        .get("alg")
        .and_then(|v| v.as_str())
        .ok_or(VerifyError::Algorithm)?;
    let kid = header.get("kid").and_then(|v| v.as_str());
    let candidates: Vec<&Jwk> = jwks
        .keys
        .iter()
        .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
        .collect();
    let kid_shown = kid.unwrap_or("(none)").to_string();
    if candidates.is_empty() {
        return Err(VerifyError::NoKey(kid_shown));
    }
    for key in candidates {
        let ok = match (alg, key.kty.as_str()) {
            ("RS256", "RSA") => rsa_ok(key, signed.as_bytes(), &sig),
            ("ES256", "EC") => ec_ok(key, signed.as_bytes(), &sig),
            ("RS256" | "ES256", _) => false,
            _ => return Err(VerifyError::Algorithm),
        };
        if ok {
            return Ok(key.kid.clone().unwrap_or_default());
        }
    }
    Err(VerifyError::BadSignature(kid_shown))
}

fn b64(v: &Option<String>) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(v.as_deref()?).ok()
}

fn rsa_ok(key: &Jwk, msg: &[u8], sig: &[u8]) -> bool {
    let (Some(n), Some(e)) = (b64(&key.n), b64(&key.e)) else {
        return false;
    };
    RsaPublicKeyComponents { n: &n, e: &e }
        .verify(&signature::RSA_PKCS1_2048_8192_SHA256, msg, sig)
        .is_ok()
}

fn ec_ok(key: &Jwk, msg: &[u8], sig: &[u8]) -> bool {
    let (Some(x), Some(y)) = (b64(&key.x), b64(&key.y)) else {
        return false;
    };
    if key.crv.as_deref() != Some("P-256") {
        return false;
    }
    let point = [&[4u8][..], &x, &y].concat();
    UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
        .verify(msg, sig)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::{
        rand::SystemRandom,
        rsa::{KeyPair, KeySize},
        signature::KeyPair as _,
    };

    fn sign(kp: &KeyPair, header: &str) -> String {
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"x"}"#)
        );
        let mut sig = vec![0; kp.public_modulus_len()];
        kp.sign(
            &signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signed.as_bytes(),
            &mut sig,
        )
        .unwrap();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn jwk(kp: &KeyPair, kid: &str) -> Jwk {
        let pk = kp.public_key();
        let comps: RsaPublicKeyComponents<Vec<u8>> = pk.into();
        Jwk {
            kty: "RSA".into(),
            kid: Some(kid.into()),
            alg: Some("RS256".into()),
            n: Some(URL_SAFE_NO_PAD.encode(&comps.n)),
            e: Some(URL_SAFE_NO_PAD.encode(&comps.e)),
            crv: None,
            x: None,
            y: None,
        }
    }

    #[test]
    fn verifies_and_rejects() {
        let a = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let b = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let token = sign(&a, r#"{"alg":"RS256","kid":"a"}"#);
        let good = Jwks {
            keys: vec![jwk(&b, "b"), jwk(&a, "a")],
        };
        assert_eq!(verify(&token, &good), Ok("a".into()));
        let rotated = Jwks {
            keys: vec![jwk(&b, "b")],
        };
        assert_eq!(
            verify(&token, &rotated),
            Err(VerifyError::NoKey("a".into()))
        );
        let wrong = Jwks {
            keys: vec![jwk(&b, "a")],
        };
        assert_eq!(
            verify(&token, &wrong),
            Err(VerifyError::BadSignature("a".into()))
        );
        let mut tampered = token.clone();
        tampered.insert(tampered.find('.').unwrap() + 2, 'x');
        assert!(verify(&tampered, &good).is_err());
        assert_eq!(
            verify(&sign(&a, r#"{"alg":"HS256"}"#), &good),
            Err(VerifyError::Algorithm)
        );
    }
}
