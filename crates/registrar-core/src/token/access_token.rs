//! JWT access tokens (RFC 9068): their claims, issuing, and verification for introspection.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::key_ring::{KeyRing, VerifyError};
use super::keys::KeyError;
use crate::secrets::{SecretGenerator, random_token};

/// RFC 9068 §2.1: the `typ` header of a JWT access token.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// 128 random bits: a jti nobody can guess or repeat by chance.
const JTI_BYTES: usize = 16;

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The issuer identifier (RFC 9068 §2.2).
    pub iss: String,
    /// RFC 9068 §2.2: for a token issued to the client itself, the client_id.
    pub sub: String,
    /// The client the token was issued to (RFC 9068 §2.2).
    pub client_id: String,
    /// A single audience is written as a string, several as an array (RFC 7519 §4.1.3).
    #[serde(
        serialize_with = "serialize_audience",
        deserialize_with = "deserialize_audience"
    )]
    pub aud: Vec<String>,
    /// Space-separated (RFC 9068 §2.2.3); omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// When the token was issued, in seconds since the epoch (RFC 9068 §2.2).
    pub iat: i64,
    /// When the token expires, in seconds since the epoch (RFC 9068 §2.2).
    pub exp: i64,
    /// A random identifier of this token (RFC 9068 §2.2).
    pub jti: String,
    /// When the end user authenticated (RFC 9068 §2.2.1), for a token issued on a user's
    /// grant; absent for `client_credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The grant (`registrar_core::authz::Grant`) the token was issued from, so introspection
    /// and userinfo refuse it once the grant is revoked; absent for `client_credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
}

/// What the token endpoint decided to issue.
#[derive(Debug, Clone, Copy)]
pub struct NewAccessToken<'a> {
    /// The issuer identifier, written to `iss`.
    pub issuer: &'a str,
    /// The client the token is for, written to `sub` and `client_id`.
    pub client_id: &'a str,
    /// The resources the token is for; empty means the issuer itself (RFC 9068 §3 asks for a
    /// default audience when the request names none).
    pub audience: &'a [String],
    /// The granted scopes.
    pub scopes: &'a [String],
    /// Seconds, already bounded by the server's maximum.
    pub lifetime: i64,
    /// The time of issue, in seconds since the epoch.
    pub now: i64,
}

impl AccessTokenClaims {
    /// The claims of a new token, with a fresh random `jti`.
    pub fn new(request: &NewAccessToken<'_>, generator: &dyn SecretGenerator) -> Self {
        let aud = if request.audience.is_empty() {
            vec![request.issuer.to_owned()]
        } else {
            request.audience.to_vec()
        };
        Self {
            iss: request.issuer.to_owned(),
            sub: request.client_id.to_owned(),
            client_id: request.client_id.to_owned(),
            aud,
            scope: request.scopes.join(" "),
            iat: request.now,
            exp: request.now.saturating_add(request.lifetime),
            jti: random_token(generator, JTI_BYTES),
            auth_time: None,
            grant_id: None,
        }
    }

    /// The claims of a token issued on an end user's grant: `sub` is the user, `client_id`
    /// stays the client (RFC 9068 §2.2).
    pub fn for_user(mut self, user_id: &str, grant_id: &str, auth_time: i64) -> Self {
        self.sub = user_id.to_owned();
        self.grant_id = Some(grant_id.to_owned());
        self.auth_time = Some(auth_time);
        self
    }

    /// Whether the token was issued to the client itself (`client_credentials`), not on behalf
    /// of a user.
    pub fn is_client_token(&self) -> bool {
        self.grant_id.is_none() && self.sub == self.client_id
    }

    /// The granted scope values.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|scope| !scope.is_empty())
    }
}

fn serialize_audience<S: Serializer>(aud: &[String], serializer: S) -> Result<S::Ok, S::Error> {
    match aud {
        [single] => serializer.serialize_str(single),
        many => many.serialize(serializer),
    }
}

fn deserialize_audience<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Audience {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Audience::deserialize(deserializer)? {
        Audience::One(single) => vec![single],
        Audience::Many(many) => many,
    })
}

/// Signs `claims` with the ring's active key, `typ: at+jwt`.
pub fn issue_access_token(
    key_ring: &KeyRing,
    claims: &AccessTokenClaims,
) -> Result<String, KeyError> {
    key_ring.sign(ACCESS_TOKEN_TYPE, claims)
}

/// Why a token is not an active access token of this server. Introspection answers every one
/// with `{"active": false}`; the reason is for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessTokenError {
    /// The signature does not verify with a published key.
    #[error(transparent)]
    Signature(#[from] VerifyError),
    /// The `typ` header is not `at+jwt` (RFC 9068 §4).
    #[error("the token is not a jwt access token (typ)")]
    WrongType,
    /// The `iss` claim is not this server (RFC 9068 §4).
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    /// The `exp` claim has passed (RFC 9068 §4).
    #[error("the token has expired")]
    Expired,
}

/// RFC 9068 §4 for introspection: the signature by a published key, `typ: at+jwt`, the issuer,
/// and `exp` against the injected `now`. The caller still checks that the client exists.
pub fn verify_access_token(
    key_ring: &KeyRing,
    token: &str,
    issuer: &str,
    now: i64,
) -> Result<AccessTokenClaims, AccessTokenError> {
    let verified = key_ring.verify::<AccessTokenClaims>(token, now)?;
    if !verified.typ.as_deref().is_some_and(is_access_token_type) {
        return Err(AccessTokenError::WrongType);
    }
    if verified.claims.iss != issuer {
        return Err(AccessTokenError::WrongIssuer);
    }
    if now >= verified.claims.exp {
        return Err(AccessTokenError::Expired);
    }
    Ok(verified.claims)
}

/// RFC 9068 §4: `at+jwt` or `application/at+jwt`; media types compare case-insensitively.
fn is_access_token_type(typ: &str) -> bool {
    let typ = typ.to_ascii_lowercase();
    typ == ACCESS_TOKEN_TYPE || typ.strip_prefix("application/") == Some(ACCESS_TOKEN_TYPE)
}
