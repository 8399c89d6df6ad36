//! Whether a URL's host names a place no registered URL may point at: a special-use IP literal,
//! or the name `localhost` and its subdomains.

use url::{Host, Url};

use super::address::is_special_use;
use super::allowed_host::AllowedHost;

/// Whether `domain` is `localhost` or a name under it, in any case, with or without the trailing
/// dot: RFC 6761 §6.3 reserves them for the loopback interface, and resolvers answer them
/// without asking DNS.
pub fn is_localhost_name(domain: &str) -> bool {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let lowercase = domain.to_ascii_lowercase();
    lowercase == "localhost" || lowercase.ends_with(".localhost")
}

/// Whether `host` is a special-use IP address (IPv4-mapped IPv6 judged by its IPv4 address) or a
/// localhost name.
///
/// Other names are not resolved here: what a name resolves to can change after registration, so
/// the fetcher checks the addresses it connects to instead.
pub fn is_forbidden_host(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(domain) => is_localhost_name(domain),
        Host::Ipv4(ipv4) => is_special_use((*ipv4).into()),
        Host::Ipv6(ipv6) => is_special_use((*ipv6).into()),
    }
}

/// Whether `url` points at a forbidden host ([`is_forbidden_host`]) whose `host:port` is not in
/// `allowed`. A URL without a host has nothing to point at and is left to the URL rules.
///
/// The `url` crate parses hosts as browsers do, so `https://2130706433/`, `https://0x7f.1/`,
/// `https://0177.0.0.1/` and `https://127.1/` all arrive here as 127.0.0.1.
pub fn is_forbidden_target(url: &Url, allowed: &[AllowedHost]) -> bool {
    let Some(host) = url.host() else {
        return false;
    };
    is_forbidden_host(&host) && !allowed.iter().any(|entry| entry.matches(url))
}
