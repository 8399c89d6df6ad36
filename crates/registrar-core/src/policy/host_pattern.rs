//! `HostPattern`: which hosts a policy lets redirect URIs point at.

/// `*` (any host), `*.example.com` (any subdomain of example.com, not example.com itself), or a
/// host compared exactly; ASCII case does not matter, as in DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    /// `*`: any host.
    pub fn any() -> Self {
        Self("*".to_owned())
    }

    /// Parses a pattern; refuses an empty one, a wildcard anywhere but a leading `*.`, and
    /// characters no host has.
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let lower = pattern.to_ascii_lowercase();
        let host = lower.strip_prefix("*.").unwrap_or(&lower);
        let well_formed = lower == "*"
            || (!host.is_empty()
                && host.bytes().all(|byte| {
                    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b':' | b'[' | b']')
                }));
        if !well_formed {
            return Err(format!(
                "the host pattern '{pattern}' must be *, *.domain or a host"
            ));
        }
        Ok(Self(lower))
    }

    /// Whether `host` (as the URL parser gives it: lowercase, IPv6 in brackets) matches.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        if self.0 == "*" {
            return true;
        }
        match self.0.strip_prefix("*.") {
            Some(domain) => host
                .strip_suffix(domain)
                .is_some_and(|label| label.len() > 1 && label.ends_with('.')),
            None => host == self.0,
        }
    }

    /// The pattern as configured, lowercased.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}
