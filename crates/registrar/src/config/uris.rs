//! `resources` and `cors.allowed_origins`: the resource indicators tokens may name and the
//! browser origins allowed to call the server, each checked for its shape.

use anyhow::bail;
use url::Url;

/// `resources`: RFC 8707 §2 resource indicators, each an absolute https URI (or http on a
/// loopback host) without a fragment. They are kept as written, since a request's `resource` is
/// compared to them as a string.
pub fn resources(resources: Vec<String>) -> anyhow::Result<Vec<String>> {
    for (index, resource) in resources.iter().enumerate() {
        if !registrar_core::settings::is_resource_indicator(resource) {
            bail!(
                "resources[{index}]: \"{resource}\" must be an absolute https URI (or http on a loopback host) without a fragment (RFC 8707 §2)"
            );
        }
        if resources[..index].contains(resource) {
            bail!("resources[{index}]: \"{resource}\" is listed twice");
        }
    }
    Ok(resources)
}

/// `cors.allowed_origins`: `*`, or origins `scheme://host[:port]` (RFC 6454 §6.2) with an http or
/// https scheme and nothing after the port. Each is kept in its serialized form (lowercase, no
/// default port), which is what a browser sends in `Origin`.
pub fn cors_origins(origins: Vec<String>) -> anyhow::Result<Vec<String>> {
    let mut allowed = Vec::with_capacity(origins.len());
    for (index, origin) in origins.iter().enumerate() {
        let serialized = match origin.as_str() {
            "*" => "*".to_owned(),
            text => match origin_of(text) {
                Some(serialized) => serialized,
                None => bail!(
                    "cors.allowed_origins[{index}]: \"{origin}\" must be * or an origin such as https://app.example.com (scheme://host[:port], no path, query or fragment)"
                ),
            },
        };
        if allowed.contains(&serialized) {
            bail!("cors.allowed_origins[{index}]: \"{origin}\" is listed twice");
        }
        allowed.push(serialized);
    }
    Ok(allowed)
}

/// The serialized origin of `text` when `text` is one, and nothing more: no userinfo, path (not
/// even `/`), query or fragment.
fn origin_of(text: &str) -> Option<String> {
    let url = Url::parse(text).ok()?;
    let (scheme, rest) = text.split_once("://")?;
    let bare = matches!(url.scheme(), "http" | "https")
        && scheme.eq_ignore_ascii_case(url.scheme())
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
        && !rest.contains(['/', '?', '#', '@']);
    if !bare {
        return None;
    }
    Some(url.origin().ascii_serialization())
}
