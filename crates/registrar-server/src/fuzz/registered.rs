//! What every registration the pipeline accepts must look like, written from the rules of
//! docs/validation.md rather than from the validator's code, so that a rule the code misses on
//! some input shows as a failed check.

use registrar_core::Settings;
use serde_json::{Map, Value};
use url::{Host, Url};

/// docs/validation.md: string members up to 2,048 bytes, human-readable ones up to 256
/// characters, arrays up to 100 entries.
const MAX_STRING_BYTES: usize = 2_048;
const MAX_TEXT_CHARS: usize = 256;
const MAX_ITEMS: usize = 100;

/// Members whose values are JSON that the rules do not read as text.
const NOT_TEXT: [&str; 2] = ["jwks", "software_statement"];

/// Members that are `https` URLs without user information or fragment, with their language
/// variants (`logo_uri#en`).
const HTTPS_URLS: [&str; 8] = [
    "client_uri",
    "logo_uri",
    "tos_uri",
    "policy_uri",
    "jwks_uri",
    "sector_identifier_uri",
    "initiate_login_uri",
    "backchannel_logout_uri",
];

/// Panics with the broken rule if `answer`, the metadata the pipeline would register, breaks
/// one. `who` names the caller in the message.
pub(super) fn check_registered(who: &str, answer: &Value, settings: &Settings) {
    let Some(members) = answer.as_object() else {
        panic!("{who}: the answer {answer} is not an object");
    };
    let mut broken: Vec<String> = Vec::new();
    let mut fail = |rule: &str| broken.push(rule.to_owned());
    for (name, value) in members {
        if NOT_TEXT.contains(&name.as_str()) {
            continue;
        }
        let base = name.split('#').next().unwrap_or_default();
        let human_readable = matches!(
            base,
            "client_name" | "software_id" | "software_version" | "contacts"
        );
        let texts: Vec<&str> = match value {
            Value::String(text) => vec![text.as_str()],
            Value::Array(items) => {
                if items.len() > MAX_ITEMS {
                    fail(&format!("{name} has more than {MAX_ITEMS} entries"));
                }
                items.iter().filter_map(Value::as_str).collect()
            }
            _ => Vec::new(),
        };
        for text in texts {
            if text.len() > MAX_STRING_BYTES {
                fail(&format!("{name} has a value over {MAX_STRING_BYTES} bytes"));
            }
            if human_readable && text.chars().count() > MAX_TEXT_CHARS {
                fail(&format!(
                    "{name} has a value over {MAX_TEXT_CHARS} characters"
                ));
            }
            if text.chars().any(is_forbidden) {
                fail(&format!(
                    "{name} has a control or bidi formatting character"
                ));
            }
            if text.is_empty() {
                fail(&format!("{name} has an empty value"));
            }
            if HTTPS_URLS.contains(&base) {
                check_https_url(name, text, &mut fail);
            }
        }
    }
    let strings = |name: &str| -> Vec<&str> {
        match members.get(name) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(text)) => vec![text.as_str()],
            _ => Vec::new(),
        }
    };
    let native = members.get("application_type").and_then(Value::as_str) == Some("native");
    for name in ["redirect_uris", "post_logout_redirect_uris"] {
        let uris = strings(name);
        if has_repeats(&uris) {
            fail(&format!("{name} repeats a URI"));
        }
        for uri in uris {
            check_redirect_uri(name, uri, native, &mut fail);
        }
    }
    let grant_types = strings("grant_types");
    if grant_types.is_empty() || has_repeats(&grant_types) {
        fail("grant_types is empty or repeats a value");
    }
    let response_types = strings("response_types");
    if grant_types.contains(&"authorization_code") != response_types.contains(&"code") {
        fail("response type code goes with the authorization_code grant and only with it");
    }
    if grant_types.contains(&"refresh_token") && !grant_types.contains(&"authorization_code") {
        fail("refresh_token needs authorization_code");
    }
    let redirects =
        grant_types.contains(&"authorization_code") || grant_types.contains(&"implicit");
    if redirects == strings("redirect_uris").is_empty() {
        fail("redirect_uris are required exactly when a grant type redirects");
    }
    let method = strings("token_endpoint_auth_method");
    match method.first().copied() {
        Some("none") if grant_types.contains(&"client_credentials") => {
            fail("auth method none with client_credentials");
        }
        Some("private_key_jwt")
            if !members.contains_key("jwks") && !members.contains_key("jwks_uri") =>
        {
            fail("private_key_jwt without keys");
        }
        _ => {}
    }
    if members.contains_key("jwks") && members.contains_key("jwks_uri") {
        fail("jwks together with jwks_uri");
    }
    if let Some(scope) = members.get("scope").and_then(Value::as_str) {
        let scopes: Vec<&str> = scope.split(' ').collect();
        if has_repeats(&scopes)
            || scopes.iter().any(|scope| {
                !settings.scopes.iter().any(|allowed| allowed == scope)
                    && *scope != settings.bearer_scope
            })
        {
            fail("scope has an unsupported, empty or repeated value");
        }
    }
    check_lifetimes(members, &mut fail);
    assert!(
        broken.is_empty(),
        "{who}: registered although {broken:?}: {answer}"
    );
}

/// C0, DEL, C1, and the bidirectional overrides and isolates.
fn is_forbidden(character: char) -> bool {
    character.is_control()
        || ('\u{202A}'..='\u{202E}').contains(&character)
        || ('\u{2066}'..='\u{2069}').contains(&character)
}

fn has_repeats(values: &[&str]) -> bool {
    values
        .iter()
        .enumerate()
        .any(|(index, value)| values[..index].contains(value))
}

fn check_https_url(name: &str, text: &str, fail: &mut impl FnMut(&str)) {
    match Url::parse(text) {
        Ok(url)
            if url.scheme() == "https"
                && url.has_host()
                && url.username().is_empty()
                && url.password().is_none()
                && url.fragment().is_none() => {}
        _ => fail(&format!(
            "{name} is not an https URL without user information or fragment"
        )),
    }
}

/// Absolute, canonical, no fragment or user information, no scheme that runs content; https, or
/// http on a loopback host, or for a native client a reversed-domain private-use scheme.
fn check_redirect_uri(name: &str, uri: &str, native: bool, fail: &mut impl FnMut(&str)) {
    let Ok(url) = Url::parse(uri) else {
        fail(&format!("{name} has a URI that does not parse"));
        return;
    };
    if url.as_str() != uri {
        fail(&format!("{name} has a URI that is not in canonical form"));
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        fail(&format!(
            "{name} has a URI with a fragment or user information"
        ));
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(address)) => address == std::net::Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(address)) => address == std::net::Ipv6Addr::LOCALHOST,
        Some(Host::Domain(domain)) => domain == "localhost",
        None => false,
    };
    let allowed = match url.scheme() {
        "https" => url.has_host(),
        "http" => loopback,
        "javascript" | "vbscript" | "data" | "blob" | "file" | "about" => false,
        scheme => native && scheme.contains('.'),
    };
    if !allowed {
        fail(&format!(
            "{name} has a URI of a scheme or host that is not allowed"
        ));
    }
}

/// Every lifetime at least one second; the sliding refresh token lifetime not above the
/// absolute one.
fn check_lifetimes(members: &Map<String, Value>, fail: &mut impl FnMut(&str)) {
    let lifetime = |name: &str| members.get(name).and_then(Value::as_u64);
    for name in [
        "access_token_lifetime",
        "identity_token_lifetime",
        "authorization_code_lifetime",
        "absolute_refresh_token_lifetime",
        "sliding_refresh_token_lifetime",
        "consent_lifetime",
    ] {
        if lifetime(name) == Some(0) {
            fail(&format!("{name} is zero"));
        }
    }
    if let (Some(sliding), Some(absolute)) = (
        lifetime("sliding_refresh_token_lifetime"),
        lifetime("absolute_refresh_token_lifetime"),
    ) && sliding > absolute
    {
        fail("the sliding refresh token lifetime is above the absolute one");
    }
}
