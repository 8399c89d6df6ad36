//! Rules for the URLs that Registrar or a browser fetches: no special-use or localhost host
//! (SSRF, security.md T1/T2), and the sector identifier document of OpenID Connect DCR 1.0 §5.

use std::collections::HashSet;

use serde_json::Value;
use url::Url;

use super::StepResult;
use super::rules::https_url;
use crate::context::RegistrationContext;
use crate::error::RegistrationError;
use crate::metadata::{ClientMetadata, LocalizedKey};
use crate::net::{DocumentError, is_forbidden_target};

fn invalid(reason: String) -> RegistrationError {
    RegistrationError::metadata(reason)
}

/// Every URL member the server fetches (`jwks_uri`, `sector_identifier_uri`, `request_uris`,
/// `backchannel_logout_uri`) or hands to a browser (`logo_uri`, `client_uri`, `policy_uri`,
/// `tos_uri` and their language-tagged forms, `initiate_login_uri`, `frontchannel_logout_uri`),
/// each with its member name. Not the redirect URIs, whose loopback rules are RFC 8252's.
fn fetched_urls(metadata: &ClientMetadata) -> Vec<(String, &str)> {
    let single = [
        ("jwks_uri", &metadata.jwks_uri),
        ("sector_identifier_uri", &metadata.sector_identifier_uri),
        ("backchannel_logout_uri", &metadata.backchannel_logout_uri),
        ("frontchannel_logout_uri", &metadata.frontchannel_logout_uri),
        ("initiate_login_uri", &metadata.initiate_login_uri),
        ("logo_uri", &metadata.logo_uri),
        ("client_uri", &metadata.client_uri),
        ("policy_uri", &metadata.policy_uri),
        ("tos_uri", &metadata.tos_uri),
    ];
    let mut urls: Vec<(String, &str)> = single
        .into_iter()
        .filter_map(|(field, value)| Some((field.to_owned(), value.as_deref()?)))
        .collect();
    for (index, value) in metadata.request_uris.iter().enumerate() {
        urls.push((format!("request_uris[{index}]"), value));
    }
    for (key, value) in &metadata.localized {
        if LocalizedKey::split(key).is_some_and(|localized| localized.field.ends_with("_uri")) {
            urls.push((key.clone(), value));
        }
    }
    urls
}

/// No URL the server fetches (`jwks_uri`, `sector_identifier_uri`, `request_uris`,
/// `backchannel_logout_uri`) or hands to a browser (`logo_uri`, `client_uri`, `policy_uri`,
/// `tos_uri` and their language-tagged forms, `initiate_login_uri`, `frontchannel_logout_uri`)
/// has a host that is a special-use IP literal (loopback, private, link-local such as
/// 169.254.169.254, in any spelling the URL parser accepts, IPv4-mapped IPv6 judged by its IPv4
/// address) or a localhost name, unless its `host:port` is in
/// `Settings::outbound_allow_hosts`.
///
/// Other names are not resolved here; the fetcher checks every address it connects to. A URL
/// that does not parse is left to [`https_urls`](super::https_urls).
pub fn outbound_hosts(cx: &RegistrationContext) -> StepResult {
    let allowed = &cx.settings().outbound_allow_hosts;
    for (field, value) in fetched_urls(cx.metadata()) {
        let Ok(url) = Url::parse(value) else {
            continue;
        };
        if is_forbidden_target(&url, allowed) {
            return Err(forbidden_host(&field));
        }
    }
    Ok(())
}

fn forbidden_host(field: &str) -> RegistrationError {
    invalid(format!(
        "{field} must not point at a loopback, private or other special-use address"
    ))
}

/// OpenID Connect DCR 1.0 §5: the `sector_identifier_uri` is an https URL of a JSON array of
/// strings that holds every registered redirect URI (compared exactly, as OpenID Connect Core
/// §6 compares redirect URIs).
///
/// The document is fetched through the pipeline's `DocumentSource` on every registration and
/// update, and only once the URL itself passed the URL and host rules (checked again here, so
/// an override that skips them still fetches nothing it should not). A failed fetch names at
/// most the status code; the rest of the reason is the source's to log.
pub async fn sector_identifier_uri(cx: &RegistrationContext) -> StepResult {
    let metadata = cx.metadata();
    let Some(uri) = metadata.sector_identifier_uri.as_deref() else {
        return Ok(());
    };
    https_url("sector_identifier_uri", uri, false)?;
    let Ok(url) = Url::parse(uri) else {
        return Err(invalid(
            "sector_identifier_uri must be an absolute https URL".to_owned(),
        ));
    };
    if is_forbidden_target(&url, &cx.settings().outbound_allow_hosts) {
        return Err(forbidden_host("sector_identifier_uri"));
    }
    let document = match cx.services().document_source().fetch_json(uri).await {
        Ok(document) => document,
        Err(DocumentError::Unavailable) => {
            return Err(invalid(
                "sector_identifier_uri cannot be checked: this server is not set up to fetch documents"
                    .to_owned(),
            ));
        }
        Err(DocumentError::Status(status)) => {
            return Err(invalid(format!(
                "the sector_identifier_uri document could not be fetched (status {status})"
            )));
        }
        Err(DocumentError::Refused(reason)) => {
            return Err(invalid(format!(
                "the sector_identifier_uri document is refused: {reason}"
            )));
        }
        Err(DocumentError::Failed(_)) => {
            return Err(invalid(
                "the sector_identifier_uri document could not be fetched".to_owned(),
            ));
        }
    };
    let Value::Array(entries) = document else {
        return Err(invalid(
            "the sector_identifier_uri document must be a JSON array of redirect URIs (OpenID Connect DCR 1.0 section 5)"
                .to_owned(),
        ));
    };
    let mut listed = HashSet::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let Value::String(listed_uri) = entry else {
            return Err(invalid(format!(
                "the sector_identifier_uri document must hold only strings; entry {index} is not a string"
            )));
        };
        listed.insert(listed_uri.as_str());
    }
    for (index, redirect_uri) in metadata.redirect_uris.iter().enumerate() {
        if !listed.contains(redirect_uri.as_str()) {
            return Err(invalid(format!(
                "redirect_uris[{index}] '{redirect_uri}' is not in the sector_identifier_uri document (OpenID Connect DCR 1.0 section 5)"
            )));
        }
    }
    Ok(())
}
