//! Matching the `redirect_uri` of an authorization request against the registered ones.

use url::{Host, Url};

/// Whether `uri` is an `http` redirect URI on a loopback interface (RFC 8252 §7.3): the IP
/// literals `127.0.0.0/8` and `[::1]`, and `localhost`, which many native and MCP clients use
/// although RFC 8252 §8.3 prefers the literal.
pub fn is_loopback_redirect(uri: &Url) -> bool {
    uri.scheme() == "http"
        && match uri.host() {
            Some(Host::Ipv4(address)) => address.is_loopback(),
            Some(Host::Ipv6(address)) => address.is_loopback(),
            Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            None => false,
        }
}

/// The registered redirect URI that `presented` matches, or `None`.
///
/// Matching is exact string comparison (RFC 6749 §3.1.2.3, OAuth 2.0 Security BCP §4.1.3),
/// with one exception: for a registered loopback redirect URI the port may differ, since a
/// native app picks a free port at run time (RFC 8252 §7.3). Scheme, host, path and query
/// must still be identical, and a presented URI with a fragment or userinfo never matches.
pub fn match_redirect_uri<'a>(registered: &'a [String], presented: &str) -> Option<&'a str> {
    if let Some(exact) = registered.iter().find(|uri| uri.as_str() == presented) {
        return Some(exact);
    }
    let presented_url = Url::parse(presented).ok()?;
    if !is_loopback_redirect(&presented_url)
        || presented_url.fragment().is_some()
        || !presented_url.username().is_empty()
        || presented_url.password().is_some()
        // Compare as sent: parsing normalises, and what is compared must be what was sent.
        || presented_url.as_str() != presented && presented_url.as_str() != format!("{presented}/")
    {
        return None;
    }
    registered.iter().map(String::as_str).find(|candidate| {
        Url::parse(candidate).is_ok_and(|registered_url| {
            is_loopback_redirect(&registered_url)
                && without_port(&registered_url) == without_port(&presented_url)
        })
    })
}

/// The URL with its port removed, for the loopback comparison.
fn without_port(url: &Url) -> String {
    let mut url = url.clone();
    // Setting no port cannot fail for http URLs with a host.
    let _ = url.set_port(None);
    url.to_string()
}
