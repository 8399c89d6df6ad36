//! The login session and CSRF cookies of the authorization pages.
//!
//! The session cookie holds 256 random bits; the store holds their hash. The CSRF defence is a
//! signed double submit: a random `registrar_csrf` cookie, and in every form a token that is
//! the server-keyed HMAC of that cookie, so a page on another site can neither read nor forge
//! it. Both cookies are `HttpOnly`, `SameSite=Lax` (the authorization request arrives by a
//! top-level navigation from the client's site) and `Secure`, relaxed only for an `http://`
//! loopback issuer in development.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};
use registrar_core::authz::is_loopback_redirect;
use registrar_core::secrets::random_token;
use registrar_core::{Services, TokenHash};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "registrar_session";
/// The CSRF cookie's name.
pub const CSRF_COOKIE: &str = "registrar_csrf";

/// The name a cookie is sent under: `__Host-` (host-only, `Path=/`, `Secure`) when the pages are
/// at the root, `__Secure-` under a base path, so that no sibling subdomain can plant one (a
/// session of its own, or a CSRF cookie whose token it knows); no prefix only for an `http://`
/// loopback issuer, where `Secure` is impossible.
fn cookie_name(services: &Services, name: &str) -> String {
    match (insecure_allowed(services), services.settings().base_path()) {
        (true, _) => name.to_owned(),
        (false, "") => format!("__Host-{name}"),
        (false, _) => format!("__Secure-{name}"),
    }
}

/// The value of the cookie `name` in the request, if exactly one was sent.
pub fn read_cookie(services: &Services, headers: &HeaderMap, name: &str) -> Option<String> {
    let name = cookie_name(services, name);
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for cookie in Cookie::split_parse(text).flatten() {
            if cookie.name() == name {
                if found.is_some() {
                    // Two cookies of one name: one was planted (a sibling domain); trust neither.
                    return None;
                }
                found = Some(cookie.value().to_owned());
            }
        }
    }
    found.filter(|value| !value.is_empty() && value.len() <= 128)
}

/// Whether cookies may go without `Secure`: only for an `http://` loopback issuer.
fn insecure_allowed(services: &Services) -> bool {
    is_loopback_redirect(&services.settings().issuer)
}

/// A `Set-Cookie` value for `name=value` living `max_age` seconds (0 deletes it).
pub fn set_cookie(services: &Services, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let path = match services.settings().base_path() {
        "" => "/".to_owned(),
        base => base.to_owned(),
    };
    let cookie = Cookie::build((cookie_name(services, name), value.to_owned()))
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(!insecure_allowed(services))
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    HeaderValue::from_str(&cookie.to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("registrar_invalid=; Max-Age=0"))
}

/// The hash under which a session id is stored.
pub fn session_hash(services: &Services, session_id: &str) -> TokenHash {
    services.hasher().hash(&format!("session {session_id}"))
}

/// A fresh random cookie value.
pub fn random_value(services: &Services) -> String {
    random_token(services.generator().as_ref(), 32)
}

/// The form token that goes with a CSRF cookie value.
pub fn csrf_token(services: &Services, cookie_value: &str) -> String {
    services
        .hasher()
        .hash(&format!("csrf {cookie_value}"))
        .to_hex()
}

/// The CSRF token for the forms of a page, and the `Set-Cookie` for a browser that has no CSRF
/// cookie yet.
pub fn csrf_for(services: &Services, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match read_cookie(services, headers, CSRF_COOKIE) {
        Some(value) => (csrf_token(services, &value), None),
        None => {
            let value = random_value(services);
            let lifetime = i64::try_from(services.settings().lifetimes.session).unwrap_or(i64::MAX);
            (
                csrf_token(services, &value),
                Some(set_cookie(services, CSRF_COOKIE, &value, lifetime)),
            )
        }
    }
}

/// Whether a posted form token matches the request's CSRF cookie, in constant time.
pub fn csrf_matches(services: &Services, headers: &HeaderMap, posted: Option<&str>) -> bool {
    if !same_origin(services, headers) {
        return false;
    }
    let (Some(cookie_value), Some(posted)) = (read_cookie(services, headers, CSRF_COOKIE), posted)
    else {
        return false;
    };
    let expected = csrf_token(services, &cookie_value);
    subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), posted.as_bytes()).into()
}

/// Whether a form post comes from this server's own pages, as far as the browser says: an
/// `Origin` must be the issuer's, and `Sec-Fetch-Site` (sent when `Origin` is not) must be
/// `same-origin`. A browser that sends neither is left to the CSRF token alone.
fn same_origin(services: &Services, headers: &HeaderMap) -> bool {
    let issuer = &services.settings().issuer;
    // `null` is what a privacy setting or referrer policy makes of a real origin: decide by
    // Sec-Fetch-Site then.
    if let Some(origin) = headers.get(header::ORIGIN)
        && origin.as_bytes() != b"null"
    {
        let expected = issuer.origin().ascii_serialization();
        return origin.to_str().is_ok_and(|origin| origin == expected);
    }
    match headers.get("sec-fetch-site") {
        Some(site) => site
            .to_str()
            .is_ok_and(|site| site == "same-origin" || site == "none"),
        None => true,
    }
}
