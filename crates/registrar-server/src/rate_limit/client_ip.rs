//! The client address a limit is keyed on: the peer, or what a trusted proxy says it is.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;

use super::RateLimitConfig;

/// The address of the client: `peer` unless `config.trusted_proxy_header` is set, the peer is
/// one of `config.trusted_proxies` (when any are listed), and the header holds a parseable
/// address.
///
/// The header is read from its last address (of its last line) backwards: the last is the one
/// the closest proxy, the trusted one, appended, while earlier ones are whatever the client or
/// an earlier hop sent. With `trusted_proxies`, addresses of trusted proxies are skipped, so a
/// chain of them (CDN, then a load balancer) still yields the client; without, the last one is
/// the client. Plain lists such as
/// `X-Forwarded-For: 203.0.113.7, 198.51.100.2` and RFC 7239 `Forwarded: for="[2001:db8::1]:443"`
/// are understood; a port is dropped. IPv4-mapped IPv6 addresses are returned as IPv4.
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    config: &RateLimitConfig,
) -> Option<IpAddr> {
    let trusted = |address: IpAddr| {
        config
            .trusted_proxies
            .iter()
            .any(|network| network.contains(&address.to_canonical()))
    };
    let believed = config.trusted_proxies.is_empty() || peer.is_some_and(trusted);
    let forwarded = config
        .trusted_proxy_header
        .as_deref()
        .filter(|_| believed)
        .and_then(|name| forwarded_address(headers, name, &trusted));
    forwarded.or(peer).map(|address| address.to_canonical())
}

/// The key for per-address limits: an IPv4 address itself, an IPv6 address by its /64 prefix.
///
/// One IPv6 host usually holds a whole /64, so keying on the full address would let it take
/// a fresh quota per address.
pub fn ip_key(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{}/64", Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
    }
}

/// The last address of header `name` (its lines joined, as RFC 9110 §5.3 allows) that is not
/// a trusted proxy's, or the first address when all are; an invalid name, a line that is not
/// text or an element that is not an address finds nothing.
fn forwarded_address(
    headers: &HeaderMap,
    name: &str,
    trusted: &dyn Fn(IpAddr) -> bool,
) -> Option<IpAddr> {
    let lines: Vec<&str> = headers
        .get_all(name)
        .iter()
        .map(|line| line.to_str().ok())
        .collect::<Option<_>>()?;
    let mut found = None;
    for element in lines.iter().rev().flat_map(|line| line.rsplit(',')) {
        let address = parse_address(forwarded_for(element.trim()))?;
        found = Some(address);
        if !trusted(address) {
            break;
        }
    }
    found
}

/// The `for=` value of an RFC 7239 element, or the element itself when it has no parameters.
fn forwarded_for(element: &str) -> &str {
    if !element.contains('=') {
        return element;
    }
    element
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
        .map_or("", |(_, value)| value.trim().trim_matches('"'))
}

/// An address with or without a port, IPv6 with or without brackets.
fn parse_address(text: &str) -> Option<IpAddr> {
    if let Ok(address) = text.parse::<IpAddr>() {
        return Some(address);
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    // RFC 7239 §6: a bracketed IPv6 address without a port.
    let unbracketed = text.strip_prefix('[')?.strip_suffix(']')?;
    unbracketed.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}
