//! Table tests of `is_forbidden_target`: every spelling of a special-use or localhost host is
//! refused, public hosts pass, and an allowed `host:port` passes on its port only.

use url::Url;

use crate::net::{AllowedHost, is_forbidden_target, is_localhost_name};

/// Whether `url` is refused with `allowed` as the exceptions.
#[track_caller]
fn forbidden(url: &str, allowed: &[&str]) -> bool {
    let url = Url::parse(url).expect("test url parses");
    let allowed: Vec<AllowedHost> = allowed
        .iter()
        .map(|entry| AllowedHost::parse(entry).expect("test entry parses"))
        .collect();
    is_forbidden_target(&url, &allowed)
}

#[test]
fn special_use_ip_literals_are_forbidden_in_every_spelling() {
    for url in [
        "https://127.0.0.1/",
        "https://2130706433/",
        "https://0x7f.1/",
        "https://0x7f000001/",
        "https://0177.0.0.1/",
        "https://127.1/",
        "https://127.0.0.1./",
        "https://0/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://[::1]/",
        "https://[::]/",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:169.254.169.254]/latest/meta-data",
        "https://10.0.0.1/",
        "https://172.16.0.1/",
        "https://192.168.1.1:8443/",
        "https://100.64.0.1/",
        "https://[fe80::1]/",
        "https://[fd00::1]/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://224.0.0.1/",
        "https://255.255.255.255/",
    ] {
        assert!(forbidden(url, &[]), "{url}");
    }
}

#[test]
fn localhost_names_are_forbidden_in_any_case_with_or_without_the_trailing_dot() {
    for url in [
        "https://localhost/",
        "https://LOCALHOST./",
        "https://LocalHost:8443/jwks",
        "https://a.localhost/",
        "https://a.b.LOCALHOST./",
    ] {
        assert!(forbidden(url, &[]), "{url}");
    }
}

#[test]
fn public_hosts_and_look_alike_names_are_not_forbidden() {
    for url in [
        "https://client.example/jwks",
        "https://93.184.215.14/",
        "https://[2606:4700:4700::1111]/",
        "https://[::ffff:8.8.8.8]/",
        "https://localhost.example/",
        "https://notlocalhost/",
        "https://localhostx/",
        // A name is not resolved at registration; the fetcher checks what it connects to.
        "https://jwks.test:8443/",
    ] {
        assert!(!forbidden(url, &[]), "{url}");
    }
}

#[test]
fn an_allowed_host_and_port_passes_but_not_on_another_port() {
    assert!(!forbidden(
        "https://127.0.0.1:8443/jwks",
        &["127.0.0.1:8443"]
    ));
    assert!(!forbidden("https://0x7f.1:8443/jwks", &["127.0.0.1:8443"]));
    assert!(!forbidden(
        "https://2130706433:8443/jwks",
        &["127.0.0.1:8443"]
    ));
    assert!(forbidden(
        "https://127.0.0.1:8444/jwks",
        &["127.0.0.1:8443"]
    ));
    assert!(forbidden("https://127.0.0.1/jwks", &["127.0.0.1:8443"]));
    assert!(forbidden(
        "https://127.0.0.2:8443/jwks",
        &["127.0.0.1:8443"]
    ));
    // The default port is the scheme's: 443 for https.
    assert!(!forbidden("https://localhost/jwks", &["localhost:443"]));
    assert!(!forbidden(
        "https://LOCALHOST.:443/jwks",
        &["localhost:443"]
    ));
    assert!(forbidden("https://localhost:8443/jwks", &["localhost:443"]));
    assert!(forbidden("https://a.localhost/jwks", &["localhost:443"]));
    assert!(!forbidden("https://[::1]:8443/", &["[::1]:8443"]));
    assert!(forbidden(
        "https://[::ffff:127.0.0.1]:8443/",
        &["127.0.0.1:8443"]
    ));
}

#[test]
fn localhost_name_test_ignores_case_and_one_trailing_dot() {
    assert!(is_localhost_name("localhost"));
    assert!(is_localhost_name("LOCALHOST."));
    assert!(is_localhost_name("x.Localhost"));
    assert!(!is_localhost_name("localhost.."));
    assert!(!is_localhost_name("localhost.example"));
    assert!(!is_localhost_name("xlocalhost"));
}
