//! Tests of `AllowedHost::parse`: what an `outbound.allow_hosts` entry may look like.

use crate::net::AllowedHost;

#[track_caller]
fn parsed(entry: &str) -> String {
    match AllowedHost::parse(entry) {
        Ok(allowed) => format!("ok {allowed}"),
        Err(reason) => format!("error {reason}"),
    }
}

#[test]
fn host_and_port_entries_parse_into_normal_form() {
    assert_eq!(parsed("127.0.0.1:8443"), "ok 127.0.0.1:8443");
    assert_eq!(parsed("0x7f.1:8443"), "ok 127.0.0.1:8443");
    assert_eq!(parsed("[::1]:8443"), "ok [::1]:8443");
    assert_eq!(parsed("[0:0::1]:443"), "ok [::1]:443");
    assert_eq!(parsed("JWKS.Test:8443"), "ok jwks.test:8443");
    assert_eq!(parsed("localhost:65535"), "ok localhost:65535");
}

#[test]
fn entries_without_a_good_port_are_refused() {
    for entry in [
        "127.0.0.1",
        "jwks.test",
        "[::1]",
        "127.0.0.1:",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.0.0.1:+443",
        "127.0.0.1:https",
        "127.0.0.1:-1",
    ] {
        assert!(parsed(entry).starts_with("error"), "{entry}");
    }
    assert_eq!(
        parsed("127.0.0.1"),
        "error \"127.0.0.1\" needs a port (must be host:port, such as 127.0.0.1:8443 or [::1]:8443; 443 for https)"
    );
    assert_eq!(
        parsed("127.0.0.1:99999"),
        "error \"127.0.0.1:99999\" has a bad port: 1 to 65535"
    );
}

#[test]
fn entries_with_a_scheme_path_or_user_are_refused() {
    for entry in [
        "https://127.0.0.1:8443",
        "127.0.0.1:8443/jwks",
        "user@127.0.0.1:8443",
        "127.0.0.1:8443?x",
        " 127.0.0.1:8443",
        "",
        ":8443",
        "::1:8443",
        "[::1:8443",
        "exa mple:443",
    ] {
        assert!(parsed(entry).starts_with("error"), "{entry:?}");
    }
    assert_eq!(
        parsed("https://127.0.0.1:8443"),
        "error \"https://127.0.0.1:8443\" must be host:port, such as 127.0.0.1:8443 or [::1]:8443, without a scheme"
    );
}
