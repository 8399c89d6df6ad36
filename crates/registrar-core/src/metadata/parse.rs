//! Building `ClientMetadata` from a request's JSON object, with type errors that name the field.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

use super::ClientMetadata;
use crate::error::RegistrationError;

/// The human-readable fields that may carry a BCP 47 language tag (RFC 7591 §2.2).
pub const LOCALIZABLE_FIELDS: [&str; 5] = [
    "client_name",
    "client_uri",
    "logo_uri",
    "tos_uri",
    "policy_uri",
];

/// A member name of the form `field#tag` whose field is localizable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalizedKey<'a> {
    /// The localizable field, such as `client_name`.
    pub field: &'a str,
    /// The language tag after the `#`, as sent (RFC 7591 §2.2).
    pub tag: &'a str,
}

impl<'a> LocalizedKey<'a> {
    /// Splits `client_name#fr` into its field and tag; `None` when the field is not localizable.
    pub fn split(key: &'a str) -> Option<Self> {
        let (field, tag) = key.split_once('#')?;
        LOCALIZABLE_FIELDS
            .contains(&field)
            .then_some(Self { field, tag })
    }
}

/// Every member [`ClientMetadata::from_object`] reads; the rest of a request are extensions.
pub const KNOWN_MEMBERS: [&str; 45] = [
    "redirect_uris",
    "token_endpoint_auth_method",
    "grant_types",
    "response_types",
    "client_name",
    "client_uri",
    "logo_uri",
    "scope",
    "contacts",
    "tos_uri",
    "policy_uri",
    "jwks_uri",
    "jwks",
    "software_id",
    "software_version",
    "software_statement",
    "application_type",
    "sector_identifier_uri",
    "subject_type",
    "id_token_signed_response_alg",
    "id_token_encrypted_response_alg",
    "id_token_encrypted_response_enc",
    "userinfo_signed_response_alg",
    "userinfo_encrypted_response_alg",
    "userinfo_encrypted_response_enc",
    "request_object_signing_alg",
    "request_object_encryption_alg",
    "request_object_encryption_enc",
    "token_endpoint_auth_signing_alg",
    "default_max_age",
    "require_auth_time",
    "default_acr_values",
    "initiate_login_uri",
    "request_uris",
    "post_logout_redirect_uris",
    "frontchannel_logout_uri",
    "frontchannel_logout_session_required",
    "backchannel_logout_uri",
    "backchannel_logout_session_required",
    "access_token_lifetime",
    "identity_token_lifetime",
    "authorization_code_lifetime",
    "absolute_refresh_token_lifetime",
    "sliding_refresh_token_lifetime",
    "consent_lifetime",
];

/// Whether `name` is a member Registrar reads, or a language-tagged variant of one.
pub fn is_known_member(name: &str) -> bool {
    KNOWN_MEMBERS.contains(&name) || LocalizedKey::split(name).is_some()
}

type Result<T> = std::result::Result<T, RegistrationError>;

/// The longest string member: 2,048 bytes, the common cap on URIs, which no client metadata
/// needs to exceed.
pub const MAX_STRING_BYTES: usize = 2_048;
/// The longest human-readable member (`client_name` and its language variants, `software_id`,
/// `software_version`, each of `contacts`), in characters: what a consent page or a terminal
/// can show.
pub const MAX_TEXT_CHARS: usize = 256;
/// The most entries of an array member (`redirect_uris`, `contacts`, …).
pub const MAX_ITEMS: usize = 100;
/// A software statement is a signed JWT with claims of its own, so it may be longer.
const MAX_STATEMENT_BYTES: usize = 16_384;
/// The members [`MAX_TEXT_CHARS`] applies to, besides `client_name#tag`.
const HUMAN_READABLE: [&str; 4] = ["client_name", "software_id", "software_version", "contacts"];

/// The error a member's refusal is: `invalid_redirect_uri` for `redirect_uris` (RFC 7591
/// §3.2.2), `invalid_client_metadata` for the rest.
fn member_error(field: &str, description: String) -> RegistrationError {
    if field == "redirect_uris" {
        RegistrationError::redirect(description)
    } else {
        RegistrationError::metadata(description)
    }
}

fn type_error(name: &str, expected: &str) -> RegistrationError {
    let field = name.split('[').next().unwrap_or(name);
    member_error(field, format!("{name} must be {expected}"))
}

fn null_error(name: &str) -> RegistrationError {
    member_error(
        name.split('#').next().unwrap_or(name),
        format!("{name} must not be null; omit the member to leave it unset"),
    )
}

/// Control characters (C0, DEL, C1) and the bidirectional overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069): they have no place in metadata, make a name display as
/// another (Trojan Source), drive an administrator's terminal, and a NUL fails PostgreSQL.
fn is_forbidden(character: char) -> bool {
    character.is_control()
        || ('\u{202A}'..='\u{202E}').contains(&character)
        || ('\u{2066}'..='\u{2069}').contains(&character)
}

/// The limits of every string member: no forbidden character, at most [`MAX_STRING_BYTES`]
/// (a software statement more), and for human-readable ones at most [`MAX_TEXT_CHARS`].
/// `name` is what the message says (`contacts[2]`); `field` the member it belongs to.
fn check_text(name: &str, field: &str, text: &str) -> Result<()> {
    if text.chars().any(is_forbidden) {
        return Err(member_error(
            field,
            format!("{name} must not contain control or bidirectional formatting characters"),
        ));
    }
    let limit = if field == "software_statement" {
        MAX_STATEMENT_BYTES
    } else {
        MAX_STRING_BYTES
    };
    if text.len() > limit {
        return Err(member_error(
            field,
            format!("{name} must be at most {limit} bytes"),
        ));
    }
    if HUMAN_READABLE.contains(&field) && text.chars().count() > MAX_TEXT_CHARS {
        return Err(member_error(
            field,
            format!("{name} must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Typed access to the members of a request object.
///
/// A recognised member sent as JSON `null` is refused like any other wrong type: RFC 7592 §2.2
/// lets a server ignore it, but dropping it silently would register something other than what
/// the client believes it sent (`jwks: null` beside `private_key_jwt`). Omitting a member is the
/// way to leave it unset, on registration and on update alike.
struct Members<'a>(&'a Map<String, Value>);

impl Members<'_> {
    fn get(&self, name: &str) -> Result<Option<&Value>> {
        match self.0.get(name) {
            Some(Value::Null) => Err(null_error(name)),
            value => Ok(value),
        }
    }

    fn string(&self, name: &str) -> Result<Option<String>> {
        match self.get(name)? {
            None => Ok(None),
            Some(Value::String(text)) if text.is_empty() => Err(RegistrationError::metadata(
                format!("{name} must not be empty"),
            )),
            Some(Value::String(text)) => {
                check_text(name, name, text)?;
                Ok(Some(text.clone()))
            }
            Some(_) => Err(type_error(name, "a string")),
        }
    }

    fn strings(&self, name: &str) -> Result<Vec<String>> {
        let Some(value) = self.get(name)? else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = value else {
            return Err(type_error(name, "an array of strings"));
        };
        if items.len() > MAX_ITEMS {
            return Err(member_error(
                name,
                format!("{name} must have at most {MAX_ITEMS} entries"),
            ));
        }
        if items.is_empty() && name == "grant_types" {
            // An empty list would register a client that can use no grant at all; omitting
            // the member means the default, authorization_code (RFC 7591 §2).
            return Err(RegistrationError::metadata(
                "grant_types must not be empty; omit it for the default authorization_code",
            ));
        }
        items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(text) if text.is_empty() => Err(member_error(
                    name,
                    format!("{name}[{index}] must not be empty"),
                )),
                Value::String(text) => {
                    check_text(&format!("{name}[{index}]"), name, text)?;
                    Ok(text.clone())
                }
                _ => Err(type_error(&format!("{name}[{index}]"), "a string")),
            })
            .collect()
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name)? {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(_) => Err(type_error(name, "a boolean")),
        }
    }

    fn unsigned(&self, name: &str) -> Result<Option<u64>> {
        match self.get(name)? {
            None => Ok(None),
            Some(Value::Number(number)) => number
                .as_u64()
                .map(Some)
                .ok_or_else(|| type_error(name, "a non-negative integer")),
            Some(_) => Err(type_error(name, "a non-negative integer")),
        }
    }

    fn object(&self, name: &str) -> Result<Option<Value>> {
        match self.get(name)? {
            None => Ok(None),
            Some(value @ Value::Object(_)) => Ok(Some(value.clone())),
            Some(_) => Err(type_error(name, "a JSON object")),
        }
    }

    fn localized(&self) -> Result<BTreeMap<String, String>> {
        let mut localized = BTreeMap::new();
        // RFC 7591 §2.2: tags compare case-insensitively, so `#fr` and `#FR` name the same value.
        let mut seen = HashSet::new();
        for (key, value) in self.0 {
            let Some(LocalizedKey { field, tag }) = LocalizedKey::split(key) else {
                continue;
            };
            if value.is_null() {
                return Err(null_error(key));
            }
            if language_tags::LanguageTag::parse(tag).is_err() {
                return Err(RegistrationError::metadata(format!(
                    "{key}: \"{tag}\" is not a BCP 47 language tag"
                )));
            }
            if !seen.insert((field, tag.to_ascii_lowercase())) {
                return Err(RegistrationError::metadata(format!(
                    "{key} is given twice with different letter case"
                )));
            }
            match value {
                Value::String(text) if text.is_empty() => {
                    return Err(RegistrationError::metadata(format!(
                        "{key} must not be empty"
                    )));
                }
                Value::String(text) => {
                    check_text(key, field, text)?;
                    localized.insert(key.clone(), text.clone());
                }
                _ => return Err(type_error(key, "a string")),
            }
        }
        Ok(localized)
    }
}

impl ClientMetadata {
    /// Reads the members Registrar understands from a request object and drops the rest.
    /// Checks JSON types only; the validation pipeline checks values.
    pub fn from_object(object: &Map<String, Value>) -> Result<Self> {
        let members = Members(object);
        Ok(Self {
            redirect_uris: members.strings("redirect_uris")?,
            token_endpoint_auth_method: members.string("token_endpoint_auth_method")?,
            grant_types: members.strings("grant_types")?,
            response_types: members.strings("response_types")?,
            client_name: members.string("client_name")?,
            client_uri: members.string("client_uri")?,
            logo_uri: members.string("logo_uri")?,
            scope: members.string("scope")?,
            contacts: members.strings("contacts")?,
            tos_uri: members.string("tos_uri")?,
            policy_uri: members.string("policy_uri")?,
            jwks_uri: members.string("jwks_uri")?,
            jwks: members.object("jwks")?,
            software_id: members.string("software_id")?,
            software_version: members.string("software_version")?,
            software_statement: members.string("software_statement")?,
            application_type: members.string("application_type")?,
            sector_identifier_uri: members.string("sector_identifier_uri")?,
            subject_type: members.string("subject_type")?,
            id_token_signed_response_alg: members.string("id_token_signed_response_alg")?,
            id_token_encrypted_response_alg: members.string("id_token_encrypted_response_alg")?,
            id_token_encrypted_response_enc: members.string("id_token_encrypted_response_enc")?,
            userinfo_signed_response_alg: members.string("userinfo_signed_response_alg")?,
            userinfo_encrypted_response_alg: members.string("userinfo_encrypted_response_alg")?,
            userinfo_encrypted_response_enc: members.string("userinfo_encrypted_response_enc")?,
            request_object_signing_alg: members.string("request_object_signing_alg")?,
            request_object_encryption_alg: members.string("request_object_encryption_alg")?,
            request_object_encryption_enc: members.string("request_object_encryption_enc")?,
            token_endpoint_auth_signing_alg: members.string("token_endpoint_auth_signing_alg")?,
            default_max_age: members.unsigned("default_max_age")?,
            require_auth_time: members.boolean("require_auth_time")?,
            default_acr_values: members.strings("default_acr_values")?,
            initiate_login_uri: members.string("initiate_login_uri")?,
            request_uris: members.strings("request_uris")?,
            post_logout_redirect_uris: members.strings("post_logout_redirect_uris")?,
            frontchannel_logout_uri: members.string("frontchannel_logout_uri")?,
            frontchannel_logout_session_required: members
                .boolean("frontchannel_logout_session_required")?,
            backchannel_logout_uri: members.string("backchannel_logout_uri")?,
            backchannel_logout_session_required: members
                .boolean("backchannel_logout_session_required")?,
            access_token_lifetime: members.unsigned("access_token_lifetime")?,
            identity_token_lifetime: members.unsigned("identity_token_lifetime")?,
            authorization_code_lifetime: members.unsigned("authorization_code_lifetime")?,
            absolute_refresh_token_lifetime: members.unsigned("absolute_refresh_token_lifetime")?,
            sliding_refresh_token_lifetime: members.unsigned("sliding_refresh_token_lifetime")?,
            consent_lifetime: members.unsigned("consent_lifetime")?,
            localized: members.localized()?,
        })
    }
}
