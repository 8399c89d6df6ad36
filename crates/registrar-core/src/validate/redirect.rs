//! Redirect URI rules: RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1 and §4.1, OpenID Connect DCR
//! 1.0 §2.

use url::{Host, Url};

use super::{
    StepResult, effective_application_type, has_effective_grant, no_duplicates, uses_redirects,
};
use crate::context::RegistrationContext;
use crate::error::RegistrationError;
use crate::protocol::{ApplicationType, GrantType};

/// Schemes that execute or embed content instead of navigating; compared after parsing, so case
/// tricks (`JaVaScRiPt:`) do not pass.
const FORBIDDEN_SCHEMES: [&str; 6] = ["javascript", "vbscript", "data", "blob", "file", "about"];

/// `redirect_uris`: required exactly when a grant type redirects, each one valid.
pub fn redirect_uris(cx: &RegistrationContext) -> StepResult {
    let metadata = cx.metadata();
    if uses_redirects(metadata) {
        if metadata.redirect_uris.is_empty() {
            return Err(RegistrationError::redirect(
                "redirect_uris is required for the authorization_code and implicit grants",
            ));
        }
    } else if !metadata.redirect_uris.is_empty() {
        return Err(RegistrationError::redirect(
            "redirect_uris must be omitted when no grant type uses redirects",
        ));
    }
    no_duplicates(
        "redirect_uris",
        &metadata.redirect_uris,
        RegistrationError::InvalidRedirectUri,
    )?;
    let implicit = has_effective_grant(metadata, GrantType::Implicit);
    for (index, uri) in metadata.redirect_uris.iter().enumerate() {
        redirect_uri(
            &format!("redirect_uris[{index}]"),
            uri,
            effective_application_type(metadata),
            implicit,
        )?;
    }
    Ok(())
}

/// `post_logout_redirect_uris`: held to the same rules as `redirect_uris`.
pub fn post_logout_redirect_uris(cx: &RegistrationContext) -> StepResult {
    let metadata = cx.metadata();
    no_duplicates(
        "post_logout_redirect_uris",
        &metadata.post_logout_redirect_uris,
        RegistrationError::InvalidRedirectUri,
    )?;
    for (index, uri) in metadata.post_logout_redirect_uris.iter().enumerate() {
        redirect_uri(
            &format!("post_logout_redirect_uris[{index}]"),
            uri,
            effective_application_type(metadata),
            false,
        )?;
    }
    Ok(())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain == "localhost",
        Some(Host::Ipv4(address)) => address == std::net::Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(address)) => address == std::net::Ipv6Addr::LOCALHOST,
        None => false,
    }
}

/// A segment that servers such as Tomcat read as `..` or `.` once they drop the `;` path
/// parameters (CVE-2026-3872). The URL parser leaves `..;` alone, and it leaves `%2e` encoded
/// unless the whole segment is a dot segment, so `%2e%2e;` is decoded here first (RFC 3986
/// §2.3: `%2e` and `.` are the same character).
fn is_dot_segment_with_parameters(segment: &str) -> bool {
    let segment = segment.to_ascii_lowercase().replace("%2e", ".");
    segment.starts_with("..;") || segment.starts_with(".;")
}

/// One redirect URI, named `field` in errors, for a client of `application_type`.
pub fn redirect_uri(
    field: &str,
    uri: &str,
    application_type: ApplicationType,
    implicit: bool,
) -> StepResult {
    let fail = |reason: String| Err(RegistrationError::redirect(format!("{field} {reason}")));
    let url = match Url::parse(uri) {
        Ok(url) => url,
        Err(error) => return fail(format!("is not an absolute URI ({error})")),
    };
    let scheme = url.scheme();
    if FORBIDDEN_SCHEMES.contains(&scheme) {
        return fail(format!("uses the forbidden scheme \"{scheme}\""));
    }
    if uri.contains('*') {
        return fail("must not contain a wildcard".to_owned());
    }
    if url.fragment().is_some() {
        return fail("must not contain a fragment".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return fail("must not contain user information".to_owned());
    }
    // Matching at the authorization endpoint is exact string comparison (RFC 9700 §4.1.3), so only
    // the form every parser agrees on is registered: this one rule removes parser differentials
    // (dot segments, IDN, case, default ports, stray whitespace).
    if url.as_str() != uri {
        return fail(format!(
            "is not in canonical form; register \"{url}\" instead"
        ));
    }
    if url
        .path_segments()
        .is_some_and(|mut segments| segments.any(is_dot_segment_with_parameters))
    {
        return fail("must not contain dot segments".to_owned());
    }
    match (scheme, application_type) {
        ("https", _) if implicit && is_loopback(&url) => {
            fail("must not use a loopback host with the implicit grant".to_owned())
        }
        // RFC 8252 §7.3: a native app's loopback redirect is plain http; no certificate can be
        // had for a loopback address, so https there is a mistake, and one a local attacker
        // holding a self-signed certificate would be glad of. A web client may keep it, for a
        // development server with its own local certificate.
        ("https", ApplicationType::Native) if is_loopback(&url) => fail(
            "must use http on a loopback host for a native client (RFC 8252 §7.3), not https"
                .to_owned(),
        ),
        ("https", _) => Ok(()),
        ("http", _) if implicit => fail("must use https with the implicit grant".to_owned()),
        // The rule: loopback http for web clients too, so a developer's local web app
        // can register; RFC 9700 §2.6 would limit it to native clients, and a policy can.
        ("http", _) if is_loopback(&url) => Ok(()),
        ("http", _) => fail(
            "must use https; http is allowed only on a loopback host (127.0.0.1, [::1], localhost)"
                .to_owned(),
        ),
        (_, ApplicationType::Native) if scheme.contains('.') => Ok(()),
        (_, ApplicationType::Native) => fail(format!(
            "uses the private-use scheme \"{scheme}\", which must be a reversed domain name such as com.example.app (RFC 8252 §7.1)"
        )),
        _ => fail(format!(
            "uses the scheme \"{scheme}\"; web clients must use https, private-use schemes need application_type native"
        )),
    }
}
