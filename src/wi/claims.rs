//! Reading a JWT without trusting it: header and claims for display and matching. The
//! signature is checked elsewhere (against the issuer's JWKS) and is never printed.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("not a JWT: expected three base64url parts separated by '.'")]
    Shape,
    #[error("the JWT {0} is not valid base64url JSON")]
    Part(&'static str),
}

/// What a service-account or access token says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jwt {
    pub header: Map<String, Value>,
    pub claims: Claims,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// A string or an array in JWTs; always a list here.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aud: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Everything else (kubernetes.io, tid, oid, appid ...), kept for display.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

impl Jwt {
    pub fn decode(token: &str) -> Result<Jwt, JwtError> {
        let mut parts = token.trim().split('.');
        let (Some(h), Some(c), Some(_sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Shape);
        };
        let header = decode_part(h).ok_or(JwtError::Part("header"))?;
        let claims = decode_part(c).ok_or(JwtError::Part("claims"))?;
        Ok(Jwt { header, claims })
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }
}

fn decode_part<T: for<'de> Deserialize<'de>>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A token shown to a person: header and claims only, never the signature.
pub fn redact(token: &str) -> String {
    match token.rsplit_once('.') {
        Some((signed, _)) => format!("{signed}.<signature redacted>"),
        None => "<not a JWT>".into(),
    }
}

#[cfg(test)]
pub(crate) fn encode_unsigned(header: &Value, claims: &Value) -> String {
    let enc = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!("{}.{}.c2lnbmF0dXJl", enc(header), enc(claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_service_account_token() {
        let t = encode_unsigned(
            &json!({"alg":"RS256","kid":"k1"}),
            &json!({"iss":"https://i/t/u/","sub":"system:serviceaccount:ns:sa","aud":["api://AzureADTokenExchange"],"exp":2000,"nbf":1000,"iat":1000,"kubernetes.io":{"namespace":"ns"}}),
        );
        let jwt = Jwt::decode(&t).unwrap();
        assert_eq!(jwt.kid(), Some("k1"));
        assert_eq!(jwt.alg(), Some("RS256"));
        assert_eq!(jwt.claims.iss.as_deref(), Some("https://i/t/u/"));
        assert_eq!(jwt.claims.aud, vec!["api://AzureADTokenExchange"]);
        assert_eq!(jwt.claims.exp, Some(2000));
        assert!(jwt.claims.other.contains_key("kubernetes.io"));
    }

    #[test]
    fn audience_may_be_a_string() {
        let t = encode_unsigned(
            &json!({"alg":"RS256"}),
            &json!({"aud":"https://management.azure.com/"}),
        );
        assert_eq!(
            Jwt::decode(&t).unwrap().claims.aud,
            vec!["https://management.azure.com/"]
        );
    }

    #[test]
    fn rejects_non_jwts() {
        assert_eq!(Jwt::decode("abc"), Err(JwtError::Shape));
        assert_eq!(Jwt::decode("a.b.c.d"), Err(JwtError::Shape));
        assert_eq!(Jwt::decode("!!.e30.x"), Err(JwtError::Part("header")));
    }

    #[test]
    fn redaction_drops_the_signature() {
        let t = encode_unsigned(&json!({"alg":"RS256"}), &json!({"sub":"x"}));
        let shown = redact(&t);
        assert!(!shown.contains("c2lnbmF0dXJl"));
        assert!(shown.ends_with("<signature redacted>"));
        assert_eq!(redact("opaque"), "<not a JWT>");
    }
}
