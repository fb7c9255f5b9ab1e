//! Bearer tokens (JWT). A token names a subject, a role and a school; the server checks its
//! signature, algorithm and expiry, and turns it into an `Identity`. What the subject may
//! see is not in the token: it follows from the log (teaching assignments, guardian links),
//! so a new assignment takes effect without a new token (see `scope`).
//!
//! Keys: HS256 with a shared secret (at least 32 bytes), or RS256 / ES256 with the public
//! key (PEM) of a school's identity provider. A server accepts exactly one algorithm: a
//! token signed with another is refused (no `none`, no HS256 signed with a public key).

use crate::identity::{Identity, Within};
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use suivi_domain::ids::{ClassId, PupilId, SchoolId};
use suivi_domain::Role;
use uuid::Uuid;

/// The shortest HS256 secret accepted: 256 bits, the size of the hash.
pub const MIN_SECRET_BYTES: usize = 32;

/// What a token says. `role` is one of `administrator`, `professeur_principal`, `teacher`,
/// `guardian`, `pupil` (`admin` and `head_teacher` are accepted too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user: a teacher id for staff, a guardian id, a pupil id, any id for an
    /// administrator.
    pub sub: Uuid,
    pub role: String,
    pub school: Uuid,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Scope ids (optional): the classes a staff member's token is limited to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<Uuid>>,
    /// Scope ids (optional): the pupils a guardian's token is limited to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pupils: Option<Vec<Uuid>>,
    /// Not before, seconds since the epoch (checked when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issuer and audience (checked when the server is configured with them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// One audience or several (identity providers send either); checked by the verifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
}

/// The role's name in tokens.
pub fn role_claim(role: Role) -> &'static str {
    match role {
        Role::Admin => "administrator",
        Role::HeadTeacher => "professeur_principal",
        Role::Teacher => "teacher",
        Role::Guardian => "guardian",
        Role::Pupil => "pupil",
    }
}

/// A role named in a token or on the command line, matched exactly (`" admin "` is no role).
pub fn parse_role(text: &str) -> Result<Role, String> {
    match text {
        "administrator" | "admin" => Ok(Role::Admin),
        "professeur_principal" | "head_teacher" => Ok(Role::HeadTeacher),
        "teacher" => Ok(Role::Teacher),
        "guardian" => Ok(Role::Guardian),
        "pupil" => Ok(Role::Pupil),
        other => Err(format!(
            "unknown role {other:?}: expected administrator, professeur_principal, teacher, \
             guardian or pupil"
        )),
    }
}

impl Claims {
    pub fn new(identity: &Identity, issued_at: DateTime<Utc>, ttl: Duration) -> Claims {
        let iat = issued_at.timestamp().max(0) as u64;
        Claims {
            sub: identity.subject_id,
            role: role_claim(identity.role).to_owned(),
            school: identity.school_id.0,
            exp: iat.saturating_add(ttl.as_secs()),
            iat: Some(iat),
            classes: identity
                .within
                .classes
                .as_ref()
                .map(|c| c.iter().map(|c| c.0).collect()),
            pupils: identity
                .within
                .pupils
                .as_ref()
                .map(|p| p.iter().map(|p| p.0).collect()),
            nbf: None,
            iss: None,
            aud: None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error(
        "the JWT secret is {len} bytes long; it must be at least {MIN_SECRET_BYTES} \
         (e.g. `openssl rand -hex 32`)"
    )]
    ShortSecret { len: usize },
    #[error("signing the token: {0}")]
    Signing(String),
    #[error("the JWT public key is neither an RSA nor an EC (P-256) public key in PEM: {0}")]
    BadPublicKey(String),
}

/// Why a token was refused. Each message says what to fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("no bearer token: send the header `Authorization: Bearer <token>`")]
    Missing,
    #[error("the Authorization header is not of the form `Bearer <token>`")]
    NotBearer,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token has expired")]
    Expired,
    #[error("the token's signature does not verify with the server's key")]
    BadSignature,
    #[error("the token is signed with {found}; this server accepts only {expected}")]
    WrongAlgorithm { found: String, expected: String },
    #[error("the token's claims are invalid: {0}")]
    BadClaims(String),
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the token was issued by another issuer than this server accepts")]
    WrongIssuer,
    #[error("the token is meant for another audience than this server")]
    WrongAudience,
}

/// Checks tokens with one key and one algorithm.
#[derive(Clone)]
pub struct JwtVerifier {
    key: DecodingKey,
    algorithm: Algorithm,
    /// The `iss` a token must carry, when configured (`--jwt-issuer`).
    issuer: Option<String>,
    /// The `aud` a token must carry, when configured (`--jwt-audience`).
    audience: Option<String>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// HS256 with a shared secret.
    pub fn hs256(secret: &[u8]) -> Result<JwtVerifier, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::ShortSecret { len: secret.len() });
        }
        let key = DecodingKey::from_secret(secret).map_err(|_| KeyError::ShortSecret { len: 0 })?;
        Ok(JwtVerifier {
            key,
            algorithm: Algorithm::HS256,
            issuer: None,
            audience: None,
        })
    }

    /// RS256 for an RSA public key, ES256 for an EC P-256 one.
    pub fn public_key_pem(pem: &[u8]) -> Result<JwtVerifier, KeyError> {
        if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            return Ok(JwtVerifier {
                key,
                algorithm: Algorithm::RS256,
                issuer: None,
                audience: None,
            });
        }
        DecodingKey::from_ec_pem(pem)
            .map(|key| JwtVerifier {
                key,
                algorithm: Algorithm::ES256,
                issuer: None,
                audience: None,
            })
            .map_err(|e| KeyError::BadPublicKey(e.to_string()))
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Tokens must name `issuer` as their `iss` (and `audience` as their `aud`) when given.
    pub fn expecting(mut self, issuer: Option<String>, audience: Option<String>) -> JwtVerifier {
        self.issuer = issuer;
        self.audience = audience;
        self
    }

    /// The identity a token stands for, or why it is refused.
    pub fn verify(&self, token: &str) -> Result<Identity, TokenError> {
        self.verify_until(token).map(|(identity, _)| identity)
    }

    /// The identity a token stands for and the instant it expires (an open WebSocket
    /// closes then), or why it is refused.
    pub fn verify_until(&self, token: &str) -> Result<(Identity, DateTime<Utc>), TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != self.algorithm {
            return Err(TokenError::WrongAlgorithm {
                found: format!("{:?}", header.alg),
                expected: format!("{:?}", self.algorithm),
            });
        }
        let mut validation = Validation::new(self.algorithm);
        let mut required = vec!["exp", "sub"];
        // A configured issuer or audience must be named, not merely not contradicted.
        if self.issuer.is_some() {
            required.push("iss");
        }
        if self.audience.is_some() {
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.validate_aud = self.audience.is_some();
        if let Some(audience) = &self.audience {
            validation.set_audience(&[audience]);
        }
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &validation).map_err(|e| {
            match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
                ErrorKind::InvalidAudience => TokenError::WrongAudience,
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    TokenError::WrongAlgorithm {
                        found: format!("{:?}", header.alg),
                        expected: format!("{:?}", self.algorithm),
                    }
                }
                ErrorKind::MissingRequiredClaim(claim) => {
                    TokenError::BadClaims(format!("the {claim} claim is missing"))
                }
                ErrorKind::Json(e) => TokenError::BadClaims(format!(
                    "expected sub (uuid), role, school (uuid) and exp: {e}"
                )),
                _ => TokenError::Malformed,
            }
        })?;
        let claims = data.claims;
        let role = parse_role(&claims.role).map_err(TokenError::BadClaims)?;
        // The same leeway as the check above.
        let expires = i64::try_from(claims.exp)
            .ok()
            .and_then(|exp| DateTime::<Utc>::from_timestamp(exp, 0))
            .and_then(|exp| {
                exp.checked_add_signed(chrono::Duration::seconds(validation.leeway as i64))
            })
            .ok_or_else(|| TokenError::BadClaims(format!("exp {} is out of range", claims.exp)))?;
        let identity = Identity {
            role,
            subject_id: claims.sub,
            school_id: SchoolId(claims.school),
            within: Within {
                classes: claims.classes.map(|c| c.into_iter().map(ClassId).collect()),
                pupils: claims.pupils.map(|p| p.into_iter().map(PupilId).collect()),
            },
        };
        Ok((identity, expires))
    }
}

/// Signs a token with an HS256 secret (the `suivi token` command, the demo, tests).
pub fn issue_hs256(secret: &[u8], claims: &Claims) -> Result<String, KeyError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(KeyError::ShortSecret { len: secret.len() });
    }
    let key = EncodingKey::from_secret(secret).map_err(|_| KeyError::ShortSecret { len: 0 })?;
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key)
        .map_err(|e| KeyError::Signing(e.to_string()))
}

/// A fresh random secret (the demo's, when none is configured), as hex.
pub fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses a duration such as `8h`, `30m`, `45s`, `7d` or `3600` (seconds).
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("ttl {text:?} is not a duration such as 8h, 30m, 45s or 7d"))?;
    let seconds = match unit {
        's' => n,
        'm' => n.saturating_mul(60),
        'h' => n.saturating_mul(3600),
        'd' => n.saturating_mul(86_400),
        _ => return Err(format!("ttl {text:?}: the unit must be s, m, h or d")),
    };
    if seconds == 0 {
        return Err(format!("ttl {text:?} must be longer than zero"));
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn identity(role: Role) -> Identity {
        Identity {
            role,
            subject_id: Uuid::now_v7(),
            school_id: SchoolId(Uuid::now_v7()),
            within: Within {
                classes: Some(vec![ClassId(Uuid::now_v7())]),
                pupils: None,
            },
        }
    }

    #[test]
    fn a_token_round_trips_to_its_identity() {
        let verifier = JwtVerifier::hs256(SECRET).unwrap();
        for role in [
            Role::Admin,
            Role::HeadTeacher,
            Role::Teacher,
            Role::Guardian,
            Role::Pupil,
        ] {
            let who = identity(role);
            let token = issue_hs256(
                SECRET,
                &Claims::new(&who, Utc::now(), Duration::from_secs(60)),
            )
            .unwrap();
            assert_eq!(verifier.verify(&token), Ok(who));
        }
    }

    #[test]
    fn expired_forged_and_malformed_tokens_are_refused() {
        let verifier = JwtVerifier::hs256(SECRET).unwrap();
        let who = identity(Role::Teacher);
        let old = Claims::new(
            &who,
            Utc::now() - chrono::Duration::hours(2),
            Duration::from_secs(60),
        );
        let token = issue_hs256(SECRET, &old).unwrap();
        assert_eq!(verifier.verify(&token), Err(TokenError::Expired));
        let other = issue_hs256(
            b"another secret, also long enough!!",
            &Claims::new(&who, Utc::now(), Duration::from_secs(60)),
        )
        .unwrap();
        assert_eq!(verifier.verify(&other), Err(TokenError::BadSignature));
        assert_eq!(verifier.verify("nope"), Err(TokenError::Malformed));
        assert!(JwtVerifier::hs256(b"short").is_err());
    }

    #[test]
    fn ttls_read_like_durations() {
        assert_eq!(parse_ttl("8h"), Ok(Duration::from_secs(8 * 3600)));
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("2d"), Ok(Duration::from_secs(2 * 86_400)));
        assert!(parse_ttl("0s").is_err());
        assert!(parse_ttl("8x").is_err());
        assert!(parse_ttl("h").is_err());
    }
}
