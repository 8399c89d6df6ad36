//! `AllowedHost`: one `host:port` the operator lets outbound URLs point at although its host is
//! special-use (`outbound.allow_hosts`: a development machine, a test fixture on loopback).

use std::fmt;

use url::{Host, Url};

/// A `host:port` exception to the special-use rules, parsed once from the configuration.
///
/// The host is normalized as the `url` crate normalizes a URL's host (lowercase, IPv4 in dotted
/// decimal whatever its spelling, IPv6 compressed), and the port is required, so an entry names
/// exactly one service: `127.0.0.1:8443` allows `https://127.0.0.1:8443/…` and
/// `https://0x7f.1:8443/…`, never `https://127.0.0.1/…` (port 443) or another port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    host: Host<String>,
    port: u16,
}

impl AllowedHost {
    /// Parses `host:port`, with an IPv6 host in brackets (`[::1]:8443`). Refuses a scheme, a
    /// path, user information, a missing or zero port, and a host the `url` crate would not
    /// accept in a URL.
    pub fn parse(entry: &str) -> Result<Self, String> {
        let shape = "must be host:port, such as 127.0.0.1:8443 or [::1]:8443";
        if entry.contains("://") {
            return Err(format!("{entry:?} {shape}, without a scheme"));
        }
        if entry.is_empty()
            || entry
                .chars()
                .any(|character| "/?#@\\".contains(character) || character.is_whitespace())
        {
            return Err(format!("{entry:?} {shape}, and nothing else"));
        }
        let (host, port) = match entry.strip_prefix('[') {
            Some(bracketed) => match bracketed.split_once(']') {
                Some((address, rest)) => (&entry[..address.len() + 2], rest.strip_prefix(':')),
                None => return Err(format!("{entry:?} {shape}")),
            },
            None => match entry.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (entry, None),
            },
        };
        let Some(port) = port else {
            return Err(format!("{entry:?} needs a port ({shape}; 443 for https)"));
        };
        let all_digits = port.bytes().all(|byte| byte.is_ascii_digit());
        let port = match port.parse::<u16>() {
            Ok(port) if port != 0 && all_digits => port,
            _ => return Err(format!("{entry:?} has a bad port: 1 to 65535")),
        };
        if host.is_empty() || (host.contains(':') && !host.starts_with('[')) {
            return Err(format!("{entry:?} {shape}"));
        }
        let host = Host::parse(host).map_err(|_| format!("{entry:?} has a bad host"))?;
        Ok(Self { host, port })
    }

    /// Whether `url` has this host and this port (explicit, or the scheme's default: 443 for
    /// https). A trailing dot on a name does not matter.
    pub fn matches(&self, url: &Url) -> bool {
        let same_host = match (&self.host, url.host()) {
            (Host::Domain(allowed), Some(Host::Domain(domain))) => {
                allowed.trim_end_matches('.') == domain.trim_end_matches('.')
            }
            (Host::Ipv4(allowed), Some(Host::Ipv4(address))) => *allowed == address,
            (Host::Ipv6(allowed), Some(Host::Ipv6(address))) => *allowed == address,
            _ => false,
        };
        same_host && url.port_or_known_default() == Some(self.port)
    }

    /// The normalized host.
    pub fn host(&self) -> &Host<String> {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for AllowedHost {
    /// `host:port`, IPv6 in brackets.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.host, self.port)
    }
}
