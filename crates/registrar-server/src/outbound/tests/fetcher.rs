//! Tests of `Fetcher`: what it refuses before connecting, and what it accepts from an https
//! server on 127.0.0.1.

use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Name, Resolve};
use serde_json::json;

use super::support::{
    Canary, FakeResolver, Reply, TEST_HOST, TlsServer, chunked, ok_json, response,
};
use crate::outbound::resolver::GuardedResolver;
use crate::outbound::{FetchConfig, FetchError, Fetcher, is_special_use};

fn ip(address: &str) -> IpAddr {
    address.parse().expect("test address parses")
}

/// What the production guard makes of `answer`, without any network.
async fn guarded_resolution(answer: &[IpAddr]) -> Result<Vec<IpAddr>, String> {
    let inner = Arc::new(FakeResolver::default().answer(TEST_HOST, answer));
    let guard = GuardedResolver::new(inner, |ip| !is_special_use(ip));
    let name = Name::from_str(TEST_HOST).expect("test name");
    match guard.resolve(name).await {
        Ok(addrs) => Ok(addrs.map(|addr| addr.ip()).collect()),
        Err(error) => Err(error.to_string()),
    }
}

/// A production fetcher whose resolver is `resolver`.
fn guarded_fetcher(resolver: Arc<FakeResolver>) -> Fetcher {
    Fetcher::with_resolver(FetchConfig::default(), resolver).expect("fetcher builds")
}

#[tokio::test]
async fn fetch_json_returns_the_document_served_with_200() {
    let server = TlsServer::spawn(|_| ok_json(r#"{"keys":[{"kty":"OKP","kid":"a"}]}"#)).await;
    let fetcher =
        Fetcher::with_resolver(server.fetch_config(), server.resolver()).expect("fetcher builds");

    let document = fetcher.fetch_json(&server.url("/jwks")).await;

    assert_eq!(document, Ok(json!({"keys": [{"kty": "OKP", "kid": "a"}]})));
}

#[tokio::test]
async fn fetch_sends_the_fixed_user_agent_and_accepts_json() {
    let server = TlsServer::spawn(|_| ok_json("{}")).await;
    let fetcher =
        Fetcher::with_resolver(server.fetch_config(), server.resolver()).expect("fetcher builds");

    fetcher
        .fetch_json(&server.url("/jwks"))
        .await
        .expect("fetch succeeds");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let head = requests[0].to_ascii_lowercase();
    assert!(head.starts_with("get /jwks http/1.1\r\n"), "{head}");
    assert!(head.contains("\r\nuser-agent: registrar\r\n"), "{head}");
    assert!(head.contains("\r\naccept: application/json\r\n"), "{head}");
    assert!(!head.contains("cookie"), "{head}");
}

#[tokio::test]
async fn fetch_refuses_a_host_resolving_to_a_special_use_address_without_connecting() {
    let canary = Canary::bind().await;
    // Loopback comes first: if the guard is not wired into the fetcher, the test fails there,
    // before a packet could go towards a non-loopback address.
    for address in [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
        "fd00::1",
        "0.0.0.0",
        "100.64.0.1",
        "fe80::1",
        "64:ff9b::a9fe:a9fe",
    ] {
        // The guard is checked on its own first, so that a broken guard fails here and never
        // sends a packet towards a non-loopback address below.
        assert_eq!(
            guarded_resolution(&[ip(address)]).await,
            Err("every resolved address is special-use".to_owned()),
            "{address}"
        );
        let resolver = Arc::new(FakeResolver::default().answer(TEST_HOST, &[ip(address)]));
        let fetcher = guarded_fetcher(Arc::clone(&resolver));
        let url = format!("https://{TEST_HOST}:{}/jwks", canary.port());

        let fetched = fetcher.fetch_json(&url).await;

        assert_eq!(fetched, Err(FetchError::ForbiddenAddress), "{address}");
        assert_eq!(resolver.calls(), 1, "{address}");
        assert!(!canary.was_contacted().await, "{address}");
    }
}

#[tokio::test]
async fn guarded_resolver_keeps_only_the_public_addresses_of_a_mixed_answer() {
    let answer = [
        ip("10.0.0.1"),
        ip("93.184.215.14"),
        ip("::1"),
        ip("2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
        ip("::ffff:169.254.169.254"),
    ];

    let permitted = guarded_resolution(&answer).await;

    assert_eq!(
        permitted,
        Ok(vec![
            ip("93.184.215.14"),
            ip("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
        ])
    );
}

#[tokio::test]
async fn guarded_resolver_tells_an_empty_answer_from_a_forbidden_one() {
    assert_eq!(
        guarded_resolution(&[]).await,
        Err("the name resolved to no address".to_owned())
    );
}

#[tokio::test]
async fn guarded_resolver_checks_every_answer_of_a_rebinding_name() {
    let inner = Arc::new(
        FakeResolver::default()
            .answer(TEST_HOST, &[ip("93.184.215.14")])
            .answer(TEST_HOST, &[ip("127.0.0.1")]),
    );
    let guard = GuardedResolver::new(inner, |ip| !is_special_use(ip));
    let resolve = || guard.resolve(Name::from_str(TEST_HOST).expect("test name"));

    let first: Vec<IpAddr> = resolve()
        .await
        .expect("public answer")
        .map(|addr| addr.ip())
        .collect();
    let second = resolve()
        .await
        .map(|_| ())
        .map_err(|error| error.to_string());

    assert_eq!(first, vec![ip("93.184.215.14")]);
    assert_eq!(
        second,
        Err("every resolved address is special-use".to_owned())
    );
}

#[tokio::test]
async fn fetch_checks_the_address_it_connects_to_when_dns_rebinds() {
    // 127.0.0.1 stands for a public address here, and ::ffff:127.0.0.1, which reaches the same
    // server, for the internal one the name rebinds to.
    let server = TlsServer::spawn(|_| ok_json("{}")).await;
    let resolver = Arc::new(
        FakeResolver::default()
            .answer(TEST_HOST, &[ip("127.0.0.1")])
            .answer(TEST_HOST, &[ip("::ffff:127.0.0.1")]),
    );
    // No allow-list here: the filter under test must decide.
    let config = FetchConfig {
        allow_hosts: Vec::new(),
        ..server.fetch_config()
    };
    let fetcher =
        Fetcher::with_address_filter(config, Arc::clone(&resolver) as Arc<dyn Resolve>, |ip| {
            ip == IpAddr::V4(Ipv4Addr::LOCALHOST)
        })
        .expect("fetcher builds");

    let first = fetcher.fetch_json(&server.url("/jwks")).await;
    let second = fetcher.fetch_json(&server.url("/jwks")).await;

    assert_eq!(first, Ok(json!({})));
    assert_eq!(second, Err(FetchError::ForbiddenAddress));
    // One lookup per fetch: no separate check-time lookup that could answer differently.
    assert_eq!(resolver.calls(), 2);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn fetch_refuses_ip_literal_hosts_without_resolving_or_connecting() {
    let canary = Canary::bind().await;
    let port = canary.port();
    for host in [
        "127.0.0.1",
        "[::1]",
        "2130706433",
        "0x7f.1",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "127.0.0.1.",
        "0.0.0.0",
        "0",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::]",
    ] {
        let resolver = Arc::new(FakeResolver::default());
        let fetcher = guarded_fetcher(Arc::clone(&resolver));
        let url = format!("https://{host}:{port}/jwks");

        let fetched = fetcher.fetch_json(&url).await;

        assert_eq!(fetched, Err(FetchError::ForbiddenAddress), "{url}");
        assert_eq!(resolver.calls(), 0, "{url}");
        assert!(!canary.was_contacted().await, "{url}");
    }
}

#[tokio::test]
async fn fetch_refuses_urls_that_are_not_https_without_resolving() {
    let resolver = Arc::new(FakeResolver::default().answer(TEST_HOST, &[ip("93.184.215.14")]));
    let fetcher = guarded_fetcher(Arc::clone(&resolver));
    for url in [
        "http://jwks.test/jwks",
        "HTTP://jwks.test/jwks",
        "ftp://jwks.test/jwks",
        "file:///etc/passwd",
        "ws://jwks.test/jwks",
        "data:application/json,{}",
    ] {
        assert_eq!(
            fetcher.fetch_json(url).await,
            Err(FetchError::NotHttps),
            "{url}"
        );
    }
    assert_eq!(resolver.calls(), 0);
}

#[tokio::test]
async fn fetch_refuses_unparsable_urls_and_userinfo() {
    let resolver = Arc::new(FakeResolver::default().answer(TEST_HOST, &[ip("93.184.215.14")]));
    let fetcher = guarded_fetcher(Arc::clone(&resolver));
    for url in [
        "",
        "/jwks",
        "https://",
        "https://[::1/jwks",
        "https://user@jwks.test/jwks",
        "https://user:secret@jwks.test/jwks",
        "https://:secret@jwks.test/jwks",
    ] {
        assert_eq!(
            fetcher.fetch_json(url).await,
            Err(FetchError::InvalidUrl),
            "{url}"
        );
    }
    assert_eq!(resolver.calls(), 0);
}

#[tokio::test]
async fn fetch_reports_a_name_that_does_not_resolve_as_a_network_error() {
    let fetcher = guarded_fetcher(Arc::new(FakeResolver::default()));

    let fetched = fetcher.fetch_json("https://unknown.test/jwks").await;

    match fetched {
        Err(FetchError::Network(message)) => assert!(message.contains("no such host"), "{message}"),
        other => panic!("expected a network error, got {other:?}"),
    }
}

#[tokio::test]
async fn fetch_treats_a_redirect_as_an_error_and_does_not_follow_it() {
    let canary = Canary::bind().await;
    for status_line in [
        "301 Moved Permanently",
        "302 Found",
        "303 See Other",
        "307 Temporary Redirect",
        "308 Permanent Redirect",
    ] {
        let location = format!("https://127.0.0.1:{}/internal", canary.port());
        let reply = response(status_line, &[("location", &location)], "");
        let server = TlsServer::spawn(move |_| reply.clone()).await;
        let fetcher = Fetcher::with_resolver(server.fetch_config(), server.resolver())
            .expect("fetcher builds");

        let fetched = fetcher.fetch_json(&server.url("/jwks")).await;

        assert_eq!(fetched, Err(FetchError::Redirect), "{status_line}");
        assert_eq!(server.requests().len(), 1, "{status_line}");
        assert!(!canary.was_contacted().await, "{status_line}");
    }
}

#[tokio::test]
async fn fetch_accepts_only_status_200() {
    for (status_line, status) in [
        ("201 Created", 201),
        ("204 No Content", 204),
        ("304 Not Modified", 304),
        ("404 Not Found", 404),
        ("500 Internal Server Error", 500),
    ] {
        let reply = response(status_line, &[], "");
        let server = TlsServer::spawn(move |_| reply.clone()).await;
        let fetcher = Fetcher::with_resolver(server.fetch_config(), server.resolver())
            .expect("fetcher builds");

        let fetched = fetcher.fetch_json(&server.url("/jwks")).await;

        let expected = match status {
            304 => FetchError::Redirect,
            _ => FetchError::Status(status),
        };
        assert_eq!(fetched, Err(expected), "{status_line}");
    }
}

/// A JSON string document of exactly `length` bytes.
fn json_of_length(length: usize) -> String {
    format!("\"{}\"", "a".repeat(length - 2))
}

fn capped_config(server: &TlsServer, max_bytes: usize) -> FetchConfig {
    FetchConfig {
        max_bytes,
        ..server.fetch_config()
    }
}

#[tokio::test]
async fn fetch_refuses_a_content_length_over_the_cap() {
    let server = TlsServer::spawn(|_| ok_json(&json_of_length(1025))).await;
    let fetcher = Fetcher::with_resolver(capped_config(&server, 1024), server.resolver())
        .expect("fetcher builds");

    let fetched = fetcher.fetch_json(&server.url("/jwks")).await;

    assert_eq!(fetched, Err(FetchError::TooLarge));
}

#[tokio::test]
async fn fetch_refuses_a_chunked_body_over_the_cap_while_streaming() {
    let body = json_of_length(1025);
    let server = TlsServer::spawn(move |_| chunked(body.as_bytes(), 100)).await;
    let fetcher = Fetcher::with_resolver(capped_config(&server, 1024), server.resolver())
        .expect("fetcher builds");

    let fetched = fetcher.fetch_json(&server.url("/jwks")).await;

    assert_eq!(fetched, Err(FetchError::TooLarge));
}

#[tokio::test]
async fn fetch_accepts_a_body_exactly_at_the_cap() {
    let body = json_of_length(1024);
    let expected = serde_json::from_str::<serde_json::Value>(&body).expect("test json");
    let server = TlsServer::spawn(move |index| match index {
        0 => ok_json(&body),
        _ => chunked(body.as_bytes(), 100),
    })
    .await;
    let fetcher = Fetcher::with_resolver(capped_config(&server, 1024), server.resolver())
        .expect("fetcher builds");

    let with_length = fetcher.fetch_json(&server.url("/jwks")).await;
    let chunked = fetcher.fetch_json(&server.url("/jwks")).await;

    assert_eq!(with_length, Ok(expected.clone()));
    assert_eq!(chunked, Ok(expected));
}

#[tokio::test]
async fn fetch_refuses_the_default_cap_of_64_kib() {
    let body = json_of_length(64 * 1024 + 1);
    let server = TlsServer::spawn(move |_| chunked(body.as_bytes(), 4096)).await;
    let fetcher =
        Fetcher::with_resolver(server.fetch_config(), server.resolver()).expect("fetcher builds");

    let fetched = fetcher.fetch_json(&server.url("/jwks")).await;

    assert_eq!(fetched, Err(FetchError::TooLarge));
}

fn short_timeout_config(server: &TlsServer) -> FetchConfig {
    FetchConfig {
        total_timeout: Duration::from_millis(300),
        ..server.fetch_config()
    }
}

#[tokio::test]
async fn fetch_times_out_when_the_server_does_not_answer() {
    let server = TlsServer::spawn(|_| Reply::Stall).await;
    let fetcher = Fetcher::with_resolver(short_timeout_config(&server), server.resolver())
        .expect("fetcher builds");
    let started = Instant::now();

    let fetched = fetcher.fetch_json(&server.url("/jwks")).await;

    assert_eq!(fetched, Err(FetchError::Timeout));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn fetch_times_out_when_the_body_trickles() {
    let server = TlsServer::spawn(|_| Reply::Trickle {
        head: b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n".to_vec(),
        interval: Duration::from_millis(50),
    })
    .await;
    let fetcher = Fetcher::with_resolver(short_timeout_config(&server), server.resolver())
        .expect("fetcher builds");
    let started = Instant::now();

    let fetched = fetcher.fetch_json(&server.url("/jwks")).await;

    assert_eq!(fetched, Err(FetchError::Timeout));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn fetch_reports_invalid_json_without_echoing_the_body() {
    let server = TlsServer::spawn(|_| ok_json("<html>secret-internal-page</html>")).await;
    let fetcher =
        Fetcher::with_resolver(server.fetch_config(), server.resolver()).expect("fetcher builds");

    let fetched = fetcher.fetch_json(&server.url("/jwks")).await;

    assert_eq!(fetched, Err(FetchError::InvalidJson));
    assert_eq!(
        FetchError::InvalidJson.to_string(),
        "the response is not json"
    );
}

#[tokio::test]
async fn fetch_refuses_a_server_whose_certificate_is_not_trusted() {
    let server = TlsServer::spawn(|_| ok_json("{}")).await;
    let config = FetchConfig {
        extra_root_certificates: Vec::new(),
        ..server.fetch_config()
    };
    let fetcher = Fetcher::with_resolver(config, server.resolver()).expect("fetcher builds");

    let fetched = fetcher.fetch_json(&server.url("/jwks")).await;

    match fetched {
        Err(FetchError::Network(message)) => {
            assert!(message.contains("certificate"), "{message}");
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn fetch_refuses_a_name_the_certificate_does_not_cover() {
    let server = TlsServer::spawn(|_| ok_json("{}")).await;
    let resolver = Arc::new(FakeResolver::default().answer("other.test", &[server.addr().ip()]));
    let config = FetchConfig {
        allow_hosts: vec![server.allowed("other.test")],
        ..server.fetch_config()
    };
    let fetcher = Fetcher::with_resolver(config, resolver).expect("fetcher builds");
    let url = format!("https://other.test:{}/jwks", server.addr().port());

    let fetched = fetcher.fetch_json(&url).await;

    assert!(
        matches!(fetched, Err(FetchError::Network(_))),
        "{fetched:?}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn an_allowed_host_and_port_may_connect_to_loopback() {
    let server = TlsServer::spawn(|_| ok_json("{}")).await;
    let by_name =
        Fetcher::with_resolver(server.fetch_config(), server.resolver()).expect("fetcher builds");
    let literal_config = FetchConfig {
        allow_hosts: vec![server.allowed("127.0.0.1")],
        ..server.fetch_config()
    };
    let resolver = Arc::new(FakeResolver::default());
    let by_literal =
        Fetcher::with_resolver(literal_config, Arc::clone(&resolver) as Arc<dyn Resolve>)
            .expect("fetcher builds");
    let literal_url = format!("https://127.0.0.1:{}/jwks", server.addr().port());

    let named = by_name.fetch_json(&server.url("/jwks")).await;
    let literal = by_literal.fetch_json(&literal_url).await;

    assert_eq!(named, Ok(json!({})));
    assert_eq!(literal, Ok(json!({})));
    assert_eq!(resolver.calls(), 0);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn an_allowed_host_on_another_port_keeps_the_filter() {
    let server = TlsServer::spawn(|_| ok_json("{}")).await;
    let canary = Canary::bind().await;
    let config = FetchConfig {
        allow_hosts: vec![server.allowed(TEST_HOST), server.allowed("127.0.0.1")],
        ..server.fetch_config()
    };
    let resolver = Arc::new(
        FakeResolver::default()
            .answer(TEST_HOST, &[ip("127.0.0.1")])
            .answer("other.test", &[ip("127.0.0.1")]),
    );
    let fetcher = Fetcher::with_resolver(config, Arc::clone(&resolver) as Arc<dyn Resolve>)
        .expect("fetcher builds");

    for url in [
        format!("https://{TEST_HOST}:{}/jwks", canary.port()),
        format!("https://127.0.0.1:{}/jwks", canary.port()),
        format!("https://[::1]:{}/jwks", server.addr().port()),
        format!("https://other.test:{}/jwks", server.addr().port()),
    ] {
        let fetched = fetcher.fetch_json(&url).await;

        assert_eq!(fetched, Err(FetchError::ForbiddenAddress), "{url}");
        assert!(!canary.was_contacted().await, "{url}");
    }
    assert!(server.requests().is_empty());
}

#[test]
fn fetch_errors_are_lowercase_without_a_final_period() {
    for error in [
        FetchError::InvalidUrl,
        FetchError::NotHttps,
        FetchError::ForbiddenAddress,
        FetchError::Redirect,
        FetchError::Status(404),
        FetchError::TooLarge,
        FetchError::Timeout,
        FetchError::InvalidJson,
        FetchError::InvalidJwks,
        FetchError::Network("dns error".to_owned()),
    ] {
        let message = error.to_string();
        assert_eq!(message, message.to_lowercase(), "{error:?}");
        assert!(!message.ends_with('.'), "{error:?}");
    }
}
