//! The value rules that are not about redirect URIs or keys.

use url::Url;

use super::{
    StepResult, effective_grant_types, effective_response_types, has_effective_grant, no_duplicates,
};
use crate::context::RegistrationContext;
use crate::error::RegistrationError;
use crate::metadata::LocalizedKey;
use crate::protocol::{ApplicationType, AuthMethod, GrantType};

fn invalid(reason: String) -> RegistrationError {
    RegistrationError::metadata(reason)
}

fn one_of<'a>(
    field: &str,
    value: &str,
    supported: impl IntoIterator<Item = &'a str> + Clone,
) -> StepResult {
    if supported.clone().into_iter().any(|item| item == value) {
        return Ok(());
    }
    Err(invalid(format!(
        "{field} \"{value}\" is not supported; supported: {}",
        supported.into_iter().collect::<Vec<_>>().join(", ")
    )))
}

fn strs(values: &[String]) -> impl Iterator<Item = &str> + Clone {
    values.iter().map(String::as_str)
}

/// `application_type` is `web` or `native` (OpenID Connect DCR 1.0 §2).
pub fn application_type(cx: &RegistrationContext) -> StepResult {
    match cx.metadata().application_type.as_deref() {
        None => Ok(()),
        Some(other) if ApplicationType::parse(other).is_some() => Ok(()),
        Some(other) => Err(invalid(format!(
            "application_type \"{other}\" is not supported; supported: web, native"
        ))),
    }
}

/// Grant types the server supports, without repeats, in combinations that make sense.
pub fn grant_types(cx: &RegistrationContext) -> StepResult {
    let metadata = cx.metadata();
    no_duplicates(
        "grant_types",
        &metadata.grant_types,
        RegistrationError::InvalidClientMetadata,
    )?;
    let supported = cx.settings().grant_types.iter().map(|grant| grant.as_str());
    let mut grant_types = Vec::new();
    for grant_type in effective_grant_types(metadata) {
        one_of("grant_types", &grant_type, supported.clone())?;
        grant_types.extend(GrantType::parse(&grant_type));
    }
    let has = |grant: GrantType| grant_types.contains(&grant);
    if has(GrantType::RefreshToken) && !has(GrantType::AuthorizationCode) {
        return Err(invalid(
            "grant_types: refresh_token needs authorization_code, the grant that issues refresh tokens".to_owned(),
        ));
    }
    // Whether the caller may have client_credentials at all is the policy's to say (the open
    // policy refuses it: security.md, gbrain #1353).
    Ok(())
}

/// Response types the server supports, consistent with the grant types (RFC 7591 §2.1).
pub fn response_types(cx: &RegistrationContext) -> StepResult {
    let metadata = cx.metadata();
    no_duplicates(
        "response_types",
        &metadata.response_types,
        RegistrationError::InvalidClientMetadata,
    )?;
    let response_types = effective_response_types(metadata);
    for response_type in &response_types {
        one_of(
            "response_types",
            response_type,
            strs(&cx.settings().response_types),
        )?;
    }
    let mut needs_code = false;
    let mut needs_implicit = false;
    for response_type in &response_types {
        for part in response_type.split(' ') {
            match part {
                "code" => needs_code = true,
                "token" | "id_token" => needs_implicit = true,
                _ => {}
            }
        }
    }
    if needs_code != has_effective_grant(metadata, GrantType::AuthorizationCode) {
        return Err(invalid(
            "response_types and grant_types disagree: the response type code goes with the grant type authorization_code (RFC 7591 §2.1)".to_owned(),
        ));
    }
    if needs_implicit != has_effective_grant(metadata, GrantType::Implicit) {
        return Err(invalid(
            "response_types and grant_types disagree: the response types token and id_token go with the grant type implicit (RFC 7591 §2.1)".to_owned(),
        ));
    }
    Ok(())
}

/// The auth method is supported and fits the client: `none` only for public clients, which cannot
/// use `client_credentials` (RFC 6749 §4.4); JWT methods with the keys they need.
pub fn token_endpoint_auth_method(cx: &RegistrationContext) -> StepResult {
    let metadata = cx.metadata();
    let name = metadata.auth_method_name();
    one_of(
        "token_endpoint_auth_method",
        name,
        cx.settings()
            .token_endpoint_auth_methods
            .iter()
            .map(|method| method.as_str()),
    )?;
    let Some(method) = AuthMethod::parse(name) else {
        return Err(invalid(format!(
            "token_endpoint_auth_method \"{name}\" is not supported"
        )));
    };
    if method == AuthMethod::None && has_effective_grant(metadata, GrantType::ClientCredentials) {
        return Err(invalid(
            "token_endpoint_auth_method none is for public clients, which cannot use the client_credentials grant".to_owned(),
        ));
    }
    if method == AuthMethod::PrivateKeyJwt && metadata.jwks.is_none() && metadata.jwks_uri.is_none()
    {
        return Err(invalid(
            "token_endpoint_auth_method private_key_jwt needs jwks or jwks_uri".to_owned(),
        ));
    }
    let Some(alg) = metadata.token_endpoint_auth_signing_alg.as_deref() else {
        return Ok(());
    };
    match method {
        AuthMethod::PrivateKeyJwt => one_of(
            "token_endpoint_auth_signing_alg",
            alg,
            strs(&cx.settings().asymmetric_signing_algs),
        ),
        AuthMethod::ClientSecretJwt => match alg {
            "HS256" | "HS384" | "HS512" => Ok(()),
            _ => Err(invalid(format!(
                "token_endpoint_auth_signing_alg \"{alg}\" does not fit client_secret_jwt; use HS256, HS384 or HS512"
            ))),
        },
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::None => {
            Err(invalid(format!(
                "token_endpoint_auth_signing_alg applies only to private_key_jwt and client_secret_jwt, not {method}"
            )))
        }
    }
}

/// `scope` is a space-separated list of configured scope values (RFC 6749 §3.3).
pub fn scope(cx: &RegistrationContext) -> StepResult {
    let metadata = cx.metadata();
    let Some(scope) = &metadata.scope else {
        return Ok(());
    };
    let values: Vec<String> = scope.split(' ').map(str::to_owned).collect();
    for value in &values {
        let well_formed = !value.is_empty()
            && value
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if !well_formed {
            return Err(invalid(
                "scope must be scope values separated by single spaces (RFC 6749 §3.3)".to_owned(),
            ));
        }
        if *value == cx.settings().bearer_scope {
            // Never in `scopes`; only a policy that allows it grants it.
            if cx
                .policy()
                .is_some_and(|policy| policy.allow_registration_scope)
            {
                continue;
            }
            return Err(invalid(format!(
                "scope {value} is granted only under a policy that allows it"
            )));
        }
        if !cx.settings().scopes.contains(value) {
            return Err(invalid(format!(
                "scope \"{value}\" is not allowed; allowed: {}",
                cx.settings().scopes.join(" ")
            )));
        }
    }
    no_duplicates("scope", &values, RegistrationError::InvalidClientMetadata)
}

/// `contacts` are e-mail addresses.
pub fn contacts(cx: &RegistrationContext) -> StepResult {
    let metadata = cx.metadata();
    for (index, contact) in metadata.contacts.iter().enumerate() {
        if !email_address::EmailAddress::is_valid(contact) {
            return Err(invalid(format!(
                "contacts[{index}] is not an e-mail address"
            )));
        }
    }
    Ok(())
}

/// `value` is an absolute https URL without user information (and without a fragment unless
/// `allow_fragment`).
pub(super) fn https_url(field: &str, value: &str, allow_fragment: bool) -> StepResult {
    let fail = |reason: &str| Err(invalid(format!("{field} {reason}")));
    let Ok(url) = Url::parse(value) else {
        return fail("must be an absolute https URL");
    };
    if url.scheme() != "https" || url.host().is_none() {
        return fail("must be an https URL");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return fail("must not contain user information");
    }
    if url.fragment().is_some() && !allow_fragment {
        return fail("must not contain a fragment");
    }
    Ok(())
}

/// Every URL member other than the redirect URIs is an https URL. `request_uris` may carry a
/// fragment (OpenID Connect DCR 1.0 §2: a hash of the request object).
pub fn https_urls(cx: &RegistrationContext) -> StepResult {
    let metadata = cx.metadata();
    let single = [
        ("client_uri", &metadata.client_uri),
        ("logo_uri", &metadata.logo_uri),
        ("tos_uri", &metadata.tos_uri),
        ("policy_uri", &metadata.policy_uri),
        ("jwks_uri", &metadata.jwks_uri),
        ("sector_identifier_uri", &metadata.sector_identifier_uri),
        ("initiate_login_uri", &metadata.initiate_login_uri),
        ("frontchannel_logout_uri", &metadata.frontchannel_logout_uri),
        ("backchannel_logout_uri", &metadata.backchannel_logout_uri),
    ];
    for (field, value) in single {
        if let Some(value) = value {
            https_url(field, value, false)?;
        }
    }
    for (key, value) in &metadata.localized {
        if LocalizedKey::split(key).is_some_and(|localized| localized.field.ends_with("_uri")) {
            https_url(key, value, false)?;
        }
    }
    for (index, value) in metadata.request_uris.iter().enumerate() {
        https_url(&format!("request_uris[{index}]"), value, true)?;
    }
    Ok(())
}

/// Algorithm and subject type members name what the server supports; encryption is not
/// supported, and an `_enc` never comes without its `_alg` (OpenID Connect DCR 1.0 §2).
pub fn algorithms(cx: &RegistrationContext) -> StepResult {
    let metadata = cx.metadata();
    let settings = cx.settings();
    if let Some(subject_type) = &metadata.subject_type {
        one_of("subject_type", subject_type, strs(&settings.subject_types))?;
    }
    for (field, value) in [
        (
            "id_token_signed_response_alg",
            &metadata.id_token_signed_response_alg,
        ),
        (
            "userinfo_signed_response_alg",
            &metadata.userinfo_signed_response_alg,
        ),
    ] {
        if let Some(alg) = value {
            one_of(field, alg, strs(&settings.id_token_signing_algs))?;
        }
    }
    if let Some(alg) = &metadata.request_object_signing_alg {
        one_of(
            "request_object_signing_alg",
            alg,
            strs(&settings.asymmetric_signing_algs),
        )?;
    }
    for (alg_field, alg, enc_field, enc) in [
        (
            "id_token_encrypted_response_alg",
            &metadata.id_token_encrypted_response_alg,
            "id_token_encrypted_response_enc",
            &metadata.id_token_encrypted_response_enc,
        ),
        (
            "userinfo_encrypted_response_alg",
            &metadata.userinfo_encrypted_response_alg,
            "userinfo_encrypted_response_enc",
            &metadata.userinfo_encrypted_response_enc,
        ),
        (
            "request_object_encryption_alg",
            &metadata.request_object_encryption_alg,
            "request_object_encryption_enc",
            &metadata.request_object_encryption_enc,
        ),
    ] {
        if enc.is_some() && alg.is_none() {
            return Err(invalid(format!("{enc_field} needs {alg_field}")));
        }
        if let Some(alg) = alg {
            return Err(invalid(format!(
                "{alg_field} \"{alg}\" is not supported: this server does not encrypt"
            )));
        }
    }
    for (index, acr) in metadata.default_acr_values.iter().enumerate() {
        if acr.chars().any(char::is_whitespace) {
            return Err(invalid(format!(
                "default_acr_values[{index}] must not contain spaces"
            )));
        }
    }
    Ok(())
}

/// Lifetimes are at least one second and at most the server's maximum.
pub fn lifetimes(cx: &RegistrationContext) -> StepResult {
    let metadata = cx.metadata();
    let limits = &cx.settings().lifetimes;
    for (field, value, max) in [
        (
            "access_token_lifetime",
            metadata.access_token_lifetime,
            limits.max_access_token,
        ),
        (
            "identity_token_lifetime",
            metadata.identity_token_lifetime,
            limits.max_identity_token,
        ),
        (
            "authorization_code_lifetime",
            metadata.authorization_code_lifetime,
            limits.max_authorization_code,
        ),
        (
            "absolute_refresh_token_lifetime",
            metadata.absolute_refresh_token_lifetime,
            limits.max_absolute_refresh_token,
        ),
        (
            "sliding_refresh_token_lifetime",
            metadata.sliding_refresh_token_lifetime,
            limits.max_sliding_refresh_token,
        ),
        (
            "consent_lifetime",
            metadata.consent_lifetime,
            limits.max_consent,
        ),
    ] {
        match value {
            Some(0) => return Err(invalid(format!("{field} must be at least 1 second"))),
            Some(seconds) if seconds > max => {
                return Err(invalid(format!("{field} must be at most {max} seconds")));
            }
            _ => {}
        }
    }
    if let (Some(sliding), Some(absolute)) = (
        metadata.sliding_refresh_token_lifetime,
        metadata.absolute_refresh_token_lifetime,
    ) && sliding > absolute
    {
        return Err(invalid(
            "sliding_refresh_token_lifetime must not exceed absolute_refresh_token_lifetime"
                .to_owned(),
        ));
    }
    Ok(())
}
