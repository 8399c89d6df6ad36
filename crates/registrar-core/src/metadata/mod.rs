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
#[serde(default)]
pub struct ClientMetadata {
    // RFC 7591 §2.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grant_types: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,

    // OpenID Connect Dynamic Client Registration 1.0 §2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_enc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_enc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_object_encryption_alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_object_encryption_enc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_max_age: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_auth_time: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub default_acr_values: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initiate_login_uri: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_uris: Vec<String>,

    // OpenID Connect RP-Initiated, Front-Channel and Back-Channel Logout 1.0.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_session_required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_session_required: Option<bool>,

    // Token lifetimes in seconds, as Duende's Configuration API names them; bounded by the
    // server's maxima.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_token_lifetime: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_code_lifetime: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absolute_refresh_token_lifetime: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sliding_refresh_token_lifetime: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_lifetime: Option<u64>,

    /// Language-tagged variants of the human-readable fields (RFC 7591 §2.2), keyed exactly as
    /// sent (`client_name#ja-Jpan-JP`) so they round-trip unchanged.
    #[serde(flatten)]
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
