//! Client metadata: every field of RFC 7591 §2, OpenID Connect Dynamic Client Registration 1.0 §2,
//! the logout specifications and the token lifetime extensions, as the wire names them.
//!
//! `ClientMetadata` is both the parsed request and the stored registration: unknown members are
//! dropped by [`ClientMetadata::from_object`] (RFC 7591 §2: ignore what is not understood) and so
//! are never stored or echoed.

mod parse;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::{AuthMethod, GrantType};

pub use parse::{KNOWN_MEMBERS, LOCALIZABLE_FIELDS, LocalizedKey, is_known_member};

/// Registered client metadata, in RFC member names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ClientMetadata {
    // RFC 7591 §2.
    /// Where the authorization server sends the user agent back (RFC 7591 §2); required exactly
    /// when a grant type redirects.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    /// How the client authenticates at the token endpoint (RFC 7591 §2); `client_secret_basic`
    /// when omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// The grant types the client may use (RFC 7591 §2); `authorization_code` when omitted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grant_types: Vec<String>,
    /// The response types the client may use at the authorization endpoint (RFC 7591 §2);
    /// when omitted, derived from the grant types.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_types: Vec<String>,
    /// The client's name as shown to the end user (RFC 7591 §2); localizable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// The client's home page (RFC 7591 §2); localizable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    /// The client's logo (RFC 7591 §2); localizable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    /// The space-separated scope values the client may request (RFC 7591 §2, RFC 6749 §3.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// E-mail addresses of the people responsible for the client (RFC 7591 §2).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    /// The client's terms of service (RFC 7591 §2); localizable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    /// How the client uses the end user's data (RFC 7591 §2); localizable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    /// Where the client publishes its JWK Set (RFC 7591 §2); never together with `jwks`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// The client's JWK Set by value, public keys only (RFC 7591 §2); never together with
    /// `jwks_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    /// Names the client software across all its instances (RFC 7591 §2), often asserted in a
    /// software statement (RFC 7591 §2.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    /// The version of the software `software_id` names (RFC 7591 §2, §2.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    /// The software statement the registration was made with, exactly as sent (RFC 7591 §2.3,
    /// §3.2.1); kept only once a validator step accepted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_statement: Option<String>,

    // OpenID Connect Dynamic Client Registration 1.0 §2.
    /// `web` or `native` (OpenID Connect DCR 1.0 §2); `web` when omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_type: Option<String>,
    /// Points to a JSON array of redirect URIs; its host is the sector of pairwise subject
    /// identifiers (OpenID Connect DCR 1.0 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    /// `public` or `pairwise` subject identifiers (OpenID Connect DCR 1.0 §2); `public` when
    /// omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_type: Option<String>,
    /// The JWS algorithm for the client's ID tokens (OpenID Connect DCR 1.0 §2); `RS256` when
    /// omitted and the client has a response type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
    /// The JWE key algorithm for ID tokens (OpenID Connect DCR 1.0 §2); refused, as this server
    /// does not encrypt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_alg: Option<String>,
    /// The JWE content encryption for ID tokens (OpenID Connect DCR 1.0 §2); needs its `_alg`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_enc: Option<String>,
    /// The JWS algorithm for UserInfo responses (OpenID Connect DCR 1.0 §2); unsigned when
    /// omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<String>,
    /// The JWE key algorithm for UserInfo responses (OpenID Connect DCR 1.0 §2); refused, as this
    /// server does not encrypt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_alg: Option<String>,
    /// The JWE content encryption for UserInfo responses (OpenID Connect DCR 1.0 §2); needs its
    /// `_alg`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_enc: Option<String>,
    /// The JWS algorithm the client signs request objects with (OpenID Connect DCR 1.0 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<String>,
    /// The JWE key algorithm for request objects (OpenID Connect DCR 1.0 §2); refused, as this
    /// server does not encrypt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_object_encryption_alg: Option<String>,
    /// The JWE content encryption for request objects (OpenID Connect DCR 1.0 §2); needs its
    /// `_alg`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_object_encryption_enc: Option<String>,
    /// The JWS algorithm of the client's `private_key_jwt` or `client_secret_jwt` assertions
    /// (OpenID Connect DCR 1.0 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// The default maximum authentication age in seconds (OpenID Connect DCR 1.0 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_max_age: Option<u64>,
    /// Whether ID tokens must carry `auth_time` (OpenID Connect DCR 1.0 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_auth_time: Option<bool>,
    /// The default ACR values, most preferred first (OpenID Connect DCR 1.0 §2).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub default_acr_values: Vec<String>,
    /// Where a third party can ask the client to start a login (OpenID Connect DCR 1.0 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initiate_login_uri: Option<String>,
    /// The `request_uri` values the client may use, each optionally with a fragment holding the
    /// request object's hash (OpenID Connect DCR 1.0 §2).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_uris: Vec<String>,

    // OpenID Connect RP-Initiated, Front-Channel and Back-Channel Logout 1.0.
    /// Where the user agent may be sent after logout (OpenID Connect RP-Initiated Logout 1.0
    /// §3.1); held to the rules of `redirect_uris`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// The page the OP loads in an iframe to log the user out of the client (OpenID Connect
    /// Front-Channel Logout 1.0 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// Whether the OP adds `iss` and `sid` to `frontchannel_logout_uri` (OpenID Connect
    /// Front-Channel Logout 1.0 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_session_required: Option<bool>,
    /// Where the OP posts logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Whether logout tokens must carry `sid` (OpenID Connect Back-Channel Logout 1.0 §2.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_session_required: Option<bool>,

    // Token lifetimes in seconds, as Duende's Configuration API names them; bounded by the
    // server's maxima.
    /// Access token lifetime in seconds; the server's default when omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime: Option<u64>,
    /// ID token lifetime in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_token_lifetime: Option<u64>,
    /// Authorization code lifetime in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_code_lifetime: Option<u64>,
    /// The longest a refresh token lives, in seconds, however often it is used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absolute_refresh_token_lifetime: Option<u64>,
    /// How long a refresh token lives after its last use, in seconds; at most the absolute
    /// lifetime.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sliding_refresh_token_lifetime: Option<u64>,
    /// How long the end user's consent is remembered, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_lifetime: Option<u64>,

    /// Language-tagged variants of the human-readable fields (RFC 7591 §2.2), keyed exactly as
    /// sent (`client_name#ja-Jpan-JP`) so they round-trip unchanged.
    // Left out of the schema, which stays open to other members: as `additionalProperties` of
    // strings it would also bind the members a schema composed with this one adds.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub localized: BTreeMap<String, String>,
}

impl ClientMetadata {
    /// Whether a grant type is registered.
    pub fn has_grant_type(&self, grant_type: GrantType) -> bool {
        self.grant_types
            .iter()
            .any(|registered| registered == grant_type.as_str())
    }

    /// The registered auth method as sent; `client_secret_basic` is RFC 7591's default.
    pub fn auth_method_name(&self) -> &str {
        self.token_endpoint_auth_method
            .as_deref()
            .unwrap_or(AuthMethod::ClientSecretBasic.as_str())
    }

    /// The registered auth method; `None` for a method this server does not know, which
    /// validation refuses, so a stored client always has one.
    pub fn auth_method(&self) -> Option<AuthMethod> {
        AuthMethod::parse(self.auth_method_name())
    }

    /// The registered scope values.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|scope| !scope.is_empty())
    }
}
