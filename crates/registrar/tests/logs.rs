//! The log of the real binary: JSON lines off a terminal, `pretty` text when asked, and a
//! request id on every answer and in every log line of its request, the caller's own when it is
//! well-formed and a fresh UUID otherwise; a malformed id never reaches the log.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use reqwest::header::HeaderValue;
use serde_json::Value;
use support::Store;

const EXIT_WITHIN: Duration = Duration::from_secs(20);

/// One request of the test: what it sends as `x-request-id` and whether that is kept.
struct Case {
    method: reqwest::Method,
    path: &'static str,
    sent: Vec<HeaderValue>,
    status: u16,
    kept: bool,
}

fn case(method: &str, path: &'static str, sent: &[&[u8]], status: u16, kept: bool) -> Case {
    Case {
        method: method.parse().unwrap(),
        path,
        sent: sent
            .iter()
            .map(|value| HeaderValue::from_bytes(value).unwrap())
            .collect(),
        status,
        kept,
    }
}

/// Whether `id` looks like what the server makes: a hyphenated UUID.
fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.char_indices().all(|(index, character)| match index {
            8 | 13 | 18 | 23 => character == '-',
            _ => character.is_ascii_hexdigit(),
        })
}

#[tokio::test]
async fn every_answer_carries_a_request_id_that_its_json_log_lines_name() {
    let store = Store::sqlite();
    let log = store.folder.path().join("server.log");
    // The log goes to a file, not a terminal: JSON without being asked.
    let mut server = store.serve(&[], &[("RUST_LOG", "info")], &log).await;
    let longest = "L".repeat(128);
    let too_long = "h".repeat(129);
    let cases = [
        case("GET", "/readyz", &[b"ops-check-1"], 200, true),
        case("GET", "/no/such/page", &[], 404, false),
        // Refused before anything else: no initial access token.
        case("POST", "/connect/dcr", &[b"trace:7/span=9;x!"], 401, true),
        case("GET", "/healthz", &[longest.as_bytes()], 200, true),
        case("GET", "/healthz", &[too_long.as_bytes()], 200, false),
        case("GET", "/healthz", &[b"two words"], 200, false),
        case("GET", "/healthz", &[b"obs-text-\xff\xfe"], 200, false),
        case(
            "GET",
            "/healthz",
            &[b"dup-first", b"dup-second"],
            200,
            false,
        ),
    ];
    let http = reqwest::Client::new();
    let mut answered = Vec::new();
    for case in &cases {
        let mut request = http
            .request(case.method.clone(), server.url(case.path))
            .build()
            .unwrap();
        for value in &case.sent {
            request.headers_mut().append("x-request-id", value.clone());
        }
        let response = http.execute(request).await.unwrap();
        assert_eq!(response.status().as_u16(), case.status, "{}", case.path);
        let ids: Vec<_> = response.headers().get_all("x-request-id").iter().collect();
        assert_eq!(ids.len(), 1, "{}: {ids:?}", case.path);
        let id = ids[0].to_str().unwrap().to_owned();
        if case.kept {
            assert_eq!(id.as_bytes(), case.sent[0].as_bytes());
        } else {
            assert!(is_uuid(&id), "{}: {id} is not a fresh id", case.path);
        }
        answered.push(id);
    }
    let mut distinct = answered.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), answered.len(), "{answered:?}");

    server.signal("TERM");
    assert!(server.exit_status(EXIT_WITHIN).await.success());
    let log_text = String::from_utf8_lossy(&std::fs::read(&log).unwrap()).into_owned();
    let lines: Vec<Value> = log_text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect();
    // Every line logged inside a request names the request.
    for line in &lines {
        if let Some(spans) = line.get("spans") {
            assert!(
                spans[0]["request_id"]
                    .as_str()
                    .is_some_and(|id| !id.is_empty()),
                "{line}"
            );
        }
    }
    for (case, id) in cases.iter().zip(&answered) {
        let finished = lines
            .iter()
            .find(|line| {
                line["spans"][0]["request_id"] == id.as_str()
                    && line["message"] == "finished processing request"
            })
            .unwrap_or_else(|| panic!("no log line of request {id}:\n{log_text}"));
        let span = &finished["spans"][0];
        assert_eq!(span["method"], case.method.as_str());
        assert_eq!(span["path"], case.path);
        assert_eq!(finished["status"], case.status);
    }
    for hostile in [
        too_long.as_str(),
        "two words",
        "obs-text-",
        "dup-first",
        "dup-second",
    ] {
        assert!(!log_text.contains(hostile), "{hostile} is in the log");
    }
}

#[tokio::test]
async fn log_format_pretty_writes_text_lines_and_the_environment_beats_the_file() {
    let store = Store::sqlite();
    let config = store.file("registrar.toml", "[log]\nformat = \"json\"\n");
    let log = store.folder.path().join("server.log");
    let mut server = store
        .serve(
            &["--config", config.to_str().unwrap()],
            &[
                ("RUST_LOG", "info"),
                ("REGISTRAR_LOG_FORMAT", "pretty"),
                ("NO_COLOR", "1"),
            ],
            &log,
        )
        .await;
    let response = reqwest::Client::new()
        .get(server.url("/readyz"))
        .header("x-request-id", "pretty-check-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "pretty-check-1");
    server.signal("TERM");
    assert!(server.exit_status(EXIT_WITHIN).await.success());
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.lines().all(|line| !line.starts_with('{')),
        "{log_text}"
    );
    let line = log_text
        .lines()
        .find(|line| line.contains("pretty-check-1"))
        .unwrap_or_else(|| panic!("the request is not in the log:\n{log_text}"));
    assert!(line.contains("path=/readyz"), "{line}");
    assert!(line.contains("finished processing request"), "{line}");
}

#[test]
fn an_unknown_log_format_is_a_configuration_error() {
    let store = Store::sqlite();
    let output = store
        .command(&["policies", "list"])
        .env("REGISTRAR_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("REGISTRAR_LOG_FORMAT: \"xml\" must be json or pretty"),
        "{stderr}"
    );
}
