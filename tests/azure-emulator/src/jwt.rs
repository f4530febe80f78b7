//! Minimal RS256 JWT signing and verification on aws-lc-rs (no ring, no extra JWT crate).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

/// An RSA-2048 signing key with a key id, publishable as a JWKS.
pub struct RsaSigner {
    key: RsaKeyPair,
    kid: String,
}

impl RsaSigner {
    pub fn generate() -> Self {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        let kid = uuid::Uuid::new_v4().simple().to_string();
        Self { key, kid }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn jwk(&self) -> Value {
        let public = self.key.public_key();
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": B64.encode(public.modulus().big_endian_without_leading_zero()),
            "e": B64.encode(public.exponent().big_endian_without_leading_zero()),
        })
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk()] })
    }

    /// Signs `claims` as a compact RS256 JWS with this key's `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .expect("RSA signing");
        format!("{input}.{}", B64.encode(sig))
    }
}

/// A JWT split into its parts, not yet verified.
pub struct Decoded {
    pub header: Value,
    pub claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum JwtError {
    #[error("malformed JWT")]
    Malformed,
    #[error("unsupported alg")]
    UnsupportedAlg,
    #[error("no key with kid {0:?}")]
    KeyNotFound(Option<String>),
    #[error("signature invalid")]
    BadSignature,
}

pub fn decode(token: &str) -> Result<Decoded, JwtError> {
    let mut parts = token.trim().split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let part = |p: &str| -> Result<Value, JwtError> {
        let bytes = B64.decode(p).map_err(|_| JwtError::Malformed)?;
        serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
    };
    let header = part(h)?;
    let claims = part(c)?;
    if !header.is_object() || !claims.is_object() {
        return Err(JwtError::Malformed);
    }
    Ok(Decoded {
        header,
        claims,
        signing_input: format!("{h}.{c}"),
        signature: B64.decode(s).map_err(|_| JwtError::Malformed)?,
    })
}

impl Decoded {
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// Verifies RS256 against a JWKS: the key is chosen by `kid` (any RSA key when absent).
    pub fn verify(&self, jwks: &Value) -> Result<(), JwtError> {
        if self.header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err(JwtError::UnsupportedAlg);
        }
        let keys = jwks
            .get("keys")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let candidates: Vec<&Value> = keys
            .iter()
            .filter(|k| k.get("kty").and_then(Value::as_str) == Some("RSA"))
            .filter(|k| match self.kid() {
                Some(kid) => k.get("kid").and_then(Value::as_str) == Some(kid),
                None => true,
            })
            .collect();
        if candidates.is_empty() {
            return Err(JwtError::KeyNotFound(self.kid().map(str::to_string)));
        }
        for k in candidates {
            let (Some(n), Some(e)) = (
                k.get("n")
                    .and_then(Value::as_str)
                    .and_then(|v| B64.decode(v).ok()),
                k.get("e")
                    .and_then(Value::as_str)
                    .and_then(|v| B64.decode(v).ok()),
            ) else {
                continue;
            };
            let public = RsaPublicKeyComponents { n, e };
            if public
                .verify(
                    &signature::RSA_PKCS1_2048_8192_SHA256,
                    self.signing_input.as_bytes(),
                    &self.signature,
                )
                .is_ok()
            {
                return Ok(());
            }
        }
        Err(JwtError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_and_reject_other_key() {
        let a = RsaSigner::generate();
        let b = RsaSigner::generate();
        let t = a.sign(&json!({"sub": "x"}));
        let d = decode(&t).unwrap();
        assert_eq!(d.claims["sub"], "x");
        d.verify(&a.jwks()).unwrap();
        assert_eq!(
            d.verify(&b.jwks()),
            Err(JwtError::KeyNotFound(Some(a.kid().to_string())))
        );
        let mut other = b.jwk();
        other["kid"] = json!(a.kid());
        assert_eq!(
            d.verify(&json!({"keys": [other]})),
            Err(JwtError::BadSignature)
        );
        assert_eq!(decode("a.b").err(), Some(JwtError::Malformed));
    }
}
