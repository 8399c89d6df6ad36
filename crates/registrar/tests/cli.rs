//! The README's session, run against the real binary: mint a token, serve, register over HTTP,
//! and inspect the same store with the CLI.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_registrar");

struct Session {
    folder: tempfile::TempDir,
}

impl Session {
    fn database(&self) -> String {
        format!(
            "sqlite://{}",
            self.folder.path().join("registrar.db").display()
        )
    }

    fn run(&self, arguments: &[&str]) -> Output {
        Command::new(BINARY)
            .args(arguments)
            .args(["--database", &self.database()])
            .env_remove("REGISTRAR_DATABASE")
            .env_remove("REGISTRAR_SECRET_KEY")
            .env_remove("REGISTRAR_CONFIG")
            .output()
            .unwrap()
    }

    /// Runs a command with `input` on its stdin.
    fn run_with_stdin(&self, arguments: &[&str], input: &str) -> Output {
        let mut child = Command::new(BINARY)
            .args(arguments)
            .args(["--database", &self.database()])
            .env_remove("REGISTRAR_DATABASE")
            .env_remove("REGISTRAR_SECRET_KEY")
            .env_remove("REGISTRAR_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // The command may refuse before reading, closing the pipe: that is its answer, not ours.
        let _ = stdin.write_all(input.as_bytes());
        drop(stdin);
        child.wait_with_output().unwrap()
    }

    /// Writes `text` to `name` in the session's folder and returns its path.
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.folder.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// Runs a command that must fail; returns its stderr.
    fn fails(&self, arguments: &[&str]) -> String {
        let output = self.run(arguments);
        assert!(
            !output.status.success(),
            "{arguments:?} succeeded: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(output.stdout.is_empty(), "{arguments:?}");
        String::from_utf8(output.stderr).unwrap()
    }

    fn ok(&self, arguments: &[&str]) -> String {
        let output = self.run(arguments);
        assert!(
            output.status.success(),
            "{arguments:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn serve(session: &Session) -> (Server, String) {
    serve_with(session, &[]).await
}

/// `registrar serve` with extra arguments, once it answers `/readyz`.
async fn serve_with(session: &Session, extra: &[&str]) -> (Server, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let child = Command::new(BINARY)
        .args([
            "serve",
            "--listen",
            &listen,
            "--database",
            &session.database(),
        ])
        .args(extra)
        .env_remove("REGISTRAR_SECRET_KEY")
        .env_remove("REGISTRAR_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let base = format!("http://{listen}");
    for _ in 0..100 {
        if let Ok(response) = reqwest::get(format!("{base}/readyz")).await
            && response.status().is_success()
        {
            return (server, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("registrar serve did not become ready on {listen}");
}

#[tokio::test]
async fn readme_session_mints_a_token_registers_and_manages_clients() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    // The token alone on stdout, before the server ever ran: the CLI creates the store and key.
    let stdout = session.ok(&[
        "initial-token",
        "create",
        "--max-uses",
        "2",
        "--expires-in",
        "1h",
        "--note",
        "ci",
    ]);
    let token = stdout.trim_end();
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    assert!(token.len() >= 43, "{token}");
    assert!(session.folder.path().join("registrar.key").exists());

    let (_server, base) = serve(&session).await;
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{base}/connect/dcr"))
        .bearer_auth(token)
        .json(&json!({"redirect_uris": ["https://app.example.com/cb"], "client_name": "From the README"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let registered: Value = response.json().await.unwrap();
    let client_id = registered["client_id"].as_str().unwrap();
    let secret = registered["client_secret"].as_str().unwrap();
    assert_eq!(
        registered["registration_client_uri"],
        format!("{base}/connect/dcr/{client_id}")
    );

    let list = session.ok(&["clients", "list"]);
    assert!(
        list.contains(client_id) && list.contains("From the README"),
        "{list}"
    );
    let shown: Value = serde_json::from_str(&session.ok(&["clients", "show", client_id])).unwrap();
    assert_eq!(shown["client_id"], client_id);
    assert_eq!(shown["client_name"], "From the README");
    let shown_text = shown.to_string();
    assert!(!shown_text.contains(secret) && !shown_text.contains("secret_hash"));

    let tokens = session.ok(&["initial-token", "list"]);
    assert!(
        tokens.contains("1/2") && tokens.contains("ci") && !tokens.contains(token),
        "{tokens}"
    );

    // Deleting through the CLI is seen by the server at once.
    session.ok(&["clients", "delete", client_id]);
    let read = http
        .get(format!("{base}/connect/dcr/{client_id}"))
        .bearer_auth(registered["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(read.status().as_u16(), 401);

    // Revoking the token stops further registrations.
    let id = tokens
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    session.ok(&["initial-token", "revoke", id]);
    let refused = http
        .post(format!("{base}/connect/dcr"))
        .bearer_auth(token)
        .json(&json!({"redirect_uris": ["https://app.example.com/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
}

#[test]
fn keys_list_and_rotate_work_on_the_store_the_server_uses() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    // One active key of each algorithm: ES256 for access tokens, RS256, ES256 and EdDSA for ID
    // tokens.
    let list = session.ok(&["keys", "list"]);
    let rows: Vec<&str> = list.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{list}");
    for algorithm in ["ES256", "RS256", "EdDSA"] {
        assert!(
            rows.iter()
                .any(|row| row.contains(algorithm) && row.ends_with("active")),
            "{list}"
        );
    }
    let first_kids: Vec<String> = rows
        .iter()
        .map(|row| row.split_whitespace().next().unwrap().to_owned())
        .collect();

    // Rotation makes a new key of every algorithm, one kid a line.
    let rotated = session.ok(&["keys", "rotate"]);
    let new_kids: Vec<&str> = rotated.lines().collect();
    assert_eq!(new_kids.len(), 3, "{rotated}");
    let list = session.ok(&["keys", "list"]);
    let state_of = |kid: &str| {
        list.lines()
            .find(|line| line.starts_with(kid))
            .unwrap_or_else(|| panic!("{kid} missing from {list}"))
            .split_whitespace()
            .last()
            .unwrap()
            .to_owned()
    };
    for &new_kid in &new_kids {
        assert!(!first_kids.iter().any(|kid| kid == new_kid));
        assert_eq!(state_of(new_kid), "active");
    }
    // The old keys stay published until the tokens they signed have expired.
    for first_kid in &first_kids {
        assert_eq!(state_of(first_kid.as_str()), "retired");
    }
    // Nothing secret is printed.
    assert!(!list.contains("\"d\"") && !list.contains("PRIVATE"));
}

#[test]
fn client_ids_starting_with_a_hyphen_are_arguments_not_options() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    let output = session.run(&["clients", "show", "-starts-with-hyphen"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no client has the id -starts-with-hyphen"),
        "{stderr}"
    );
}

#[test]
fn errors_go_to_stderr_with_a_non_zero_exit() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    for arguments in [
        &["clients", "show", "no-such-client"][..],
        &["clients", "delete", "no-such-client"],
        &["initial-token", "revoke", "no-such-token"],
        &["initial-token", "create", "--max-uses", "0"],
        &["initial-token", "create", "--expires-in", "soon"],
    ] {
        let output = session.run(arguments);
        assert!(!output.status.success(), "{arguments:?}");
        assert!(output.stdout.is_empty(), "{arguments:?}");
        assert!(!output.stderr.is_empty(), "{arguments:?}");
    }
    let bad_config = session.folder.path().join("bad.toml");
    std::fs::write(&bad_config, "lisen = \"127.0.0.1:1\"").unwrap();
    let output = session.run(&["--config", bad_config.to_str().unwrap(), "clients", "list"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid config file"));
}

#[tokio::test]
async fn serve_routes_splits_registration_from_the_token_side_over_one_database() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    let token = session.ok(&["initial-token", "create"]);
    let (_registration, registration_base) =
        serve_with(&session, &["--routes", "registration"]).await;
    let (_authorization, authorization_base) =
        serve_with(&session, &["--routes", "authorization"]).await;
    let http = reqwest::Client::new();

    // The registration host registers; it serves no token endpoint and no discovery.
    let response = http
        .post(format!("{registration_base}/connect/dcr"))
        .bearer_auth(token.trim_end())
        .json(&json!({"grant_types": ["client_credentials"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let registered: Value = response.json().await.unwrap();
    for path in ["/connect/token", "/.well-known/openid-configuration"] {
        let response = http
            .get(format!("{registration_base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 404, "{path}");
    }

    // The authorization host issues a token to that client, and serves no registration.
    let response = http
        .post(format!("{authorization_base}/connect/token"))
        .basic_auth(
            registered["client_id"].as_str().unwrap(),
            registered["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let response = http
        .post(format!("{authorization_base}/connect/dcr"))
        .bearer_auth(token.trim_end())
        .json(&json!({"grant_types": ["client_credentials"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);

    let output = session.run(&["serve", "--routes", "registration,everything"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown route group"), "{stderr}");
}

/// Two configured policies over the built-in ones: `ci` for CI pipelines' bearer tokens and
/// their initial access tokens, `mcp` for open registration.
const POLICIES: &str = r#"
[policies.ci]
bind = ["bearer"]
grant_types = ["client_credentials"]
allow_introspection = false
max_clients = 100

[policies.mcp]
bind = ["open"]
redirect_uri_hosts = ["localhost", "127.0.0.1"]
"#;

#[test]
fn policies_list_shows_the_built_in_and_configured_policies_without_a_database() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    let config = session.file("registrar.toml", POLICIES);
    let list = session.ok(&["--config", &config, "policies", "list"]);
    let row = |name: &str| {
        list.lines()
            .find(|line| line.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing from {list}"))
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(list.starts_with("NAME"), "{list}");
    assert_eq!(
        row("ci"),
        "bearer grant_types=client_credentials client_credentials=yes introspection=no max_clients=100"
    );
    assert_eq!(
        row("mcp"),
        "open scopes=openid,profile,email,offline_access redirect_uri_hosts=localhost,127.0.0.1 client_credentials=no introspection=no"
    );
    assert_eq!(row("default"), "- client_credentials=yes introspection=yes");
    // The built-in open policy gave way to mcp, which is bound to open.
    assert_eq!(list.lines().count(), 4, "{list}");

    let list = session.ok(&["policies", "list"]);
    assert!(
        list.contains("open  ") && list.contains("default"),
        "{list}"
    );
    assert!(!session.folder.path().join("registrar.db").exists());
}

#[test]
fn policies_check_accepts_a_good_file_and_counts_its_policies() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    let good = session.file("good.toml", POLICIES);
    let output = session.run(&["policies", "check", &good]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "ok: 3 policies (ci, default, mcp)\n"
    );
    assert!(!session.folder.path().join("registrar.db").exists());
}

#[test]
fn policies_check_names_the_policy_and_key_of_an_error() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    let unknown_grant = session.file(
        "grant.toml",
        "[policies.ci]\nbind = [\"bearer\"]\ngrant_types = [\"password\"]\n",
    );
    let stderr = session.fails(&["policies", "check", &unknown_grant]);
    assert!(
        stderr.contains("policies.ci.grant_types: unknown grant type \"password\""),
        "{stderr}"
    );

    let conflict = session.file(
        "conflict.toml",
        "[policies.ci]\nbind = [\"bearer\"]\n[policies.deploy]\nbind = [\"bearer\"]\n",
    );
    let stderr = session.fails(&["policies", "check", &conflict]);
    assert!(
        stderr.contains("policies.deploy.bind: policies ci and deploy are both bound to bearer"),
        "{stderr}"
    );

    let untrusted = session.file(
        "untrusted.toml",
        "[policies.partner]\nbind = [{ software_statement = \"https://partner.example\" }]\n",
    );
    let stderr = session.fails(&["policies", "check", &untrusted]);
    assert!(
        stderr.contains("policies.partner.bind: the software statement issuer https://partner.example is not in software_statement.trusted_issuers"),
        "{stderr}"
    );

    let stderr = session.fails(&["policies", "check", "/nonexistent/registrar.toml"]);
    assert!(stderr.contains("cannot read the config file"), "{stderr}");
}

#[test]
fn initial_tokens_name_a_configured_policy_and_list_it() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    let config = session.file("registrar.toml", POLICIES);
    let stderr = session.fails(&[
        "--config",
        &config,
        "initial-token",
        "create",
        "--policy",
        "missing",
    ]);
    assert!(
        stderr.contains("no policy is named missing; configured: ci, default, mcp"),
        "{stderr}"
    );
    assert!(!session.folder.path().join("registrar.db").exists());

    let token = session.ok(&[
        "--config",
        &config,
        "initial-token",
        "create",
        "--policy",
        "ci",
    ]);
    assert_eq!(token.lines().count(), 1, "{token}");
    session.ok(&[
        "--config",
        &config,
        "initial-token",
        "create",
        "--note",
        "plain",
    ]);
    let list = session.ok(&["--config", &config, "initial-token", "list"]);
    let header: Vec<&str> = list.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["ID", "CREATED", "EXPIRES", "USES", "POLICY", "NOTE"]
    );
    let policies: Vec<&str> = list
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().nth(4).unwrap())
        .collect();
    assert_eq!(policies.len(), 2, "{list}");
    assert!(
        policies.contains(&"ci") && policies.contains(&"-"),
        "{list}"
    );
}

#[tokio::test]
async fn a_token_minted_with_a_policy_registers_clients_under_it() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    let config = session.file("registrar.toml", POLICIES);
    let token = session.ok(&[
        "--config",
        &config,
        "initial-token",
        "create",
        "--policy",
        "ci",
    ]);
    let (_server, base) = serve_with(&session, &["--config", &config]).await;
    let http = reqwest::Client::new();

    let refused = http
        .post(format!("{base}/connect/dcr"))
        .bearer_auth(token.trim_end())
        .json(&json!({"redirect_uris": ["https://app.example.com/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"], "invalid_client_metadata");
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .contains("policy 'ci'"),
        "{error}"
    );

    let response = http
        .post(format!("{base}/connect/dcr"))
        .bearer_auth(token.trim_end())
        .json(&json!({"grant_types": ["client_credentials"], "client_name": "CI"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let registered: Value = response.json().await.unwrap();
    let client_id = registered["client_id"].as_str().unwrap();
    let shown: Value =
        serde_json::from_str(&session.ok(&["--config", &config, "clients", "show", client_id]))
            .unwrap();
    assert_eq!(shown["policy"], "ci");
}

#[tokio::test]
async fn serve_applies_the_configured_rate_limits() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    let config = session.file(
        "registrar.toml",
        "[rate_limits]\nregistration = { burst = 1, per_seconds = 3600 }\n",
    );
    let (_server, base) = serve_with(&session, &["--config", &config]).await;
    let http = reqwest::Client::new();
    let register = || {
        http.post(format!("{base}/connect/dcr"))
            .json(&json!({"redirect_uris": ["https://app.example.com/cb"]}))
            .send()
    };
    assert_eq!(register().await.unwrap().status().as_u16(), 401);
    let limited = register().await.unwrap();
    assert_eq!(limited.status().as_u16(), 429);
    assert!(limited.headers().contains_key("retry-after"));
}

/// Runs `registrar users ARGUMENTS` with `password` on stdin; the output must succeed, and its
/// stdout is returned.
fn users_ok(session: &Session, arguments: &[&str], password: &str) -> String {
    let output = session.run_with_stdin(arguments, password);
    assert!(
        output.status.success(),
        "{arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `registrar users ARGUMENTS` with `password` on stdin; it must fail with nothing on
/// stdout, and its stderr is returned.
fn users_fails(session: &Session, arguments: &[&str], password: &str) -> String {
    let output = session.run_with_stdin(arguments, password);
    assert!(
        !output.status.success(),
        "{arguments:?} succeeded: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(output.stdout.is_empty(), "{arguments:?}");
    String::from_utf8(output.stderr).unwrap()
}

/// The row of `list` (a `users list` output) whose first column is `username`.
fn user_row<'a>(list: &'a str, username: &str) -> Option<Vec<&'a str>> {
    list.lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|columns| columns.first() == Some(&username))
}

#[test]
fn users_are_added_listed_given_a_new_password_and_removed() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    let password = "correct horse battery staple";
    let stdout = users_ok(
        &session,
        &[
            "users",
            "add",
            "alice",
            "--password-stdin",
            "--name",
            "Alice Liddell",
            "--email",
            "alice@example.com",
            "--email-verified",
        ],
        &format!("{password}\n"),
    );
    // The id alone on stdout: opaque, at least 128 bits of base64url, not the username.
    let alice_id = stdout.trim_end().to_owned();
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    assert!(alice_id.len() >= 22, "{alice_id}");
    assert!(
        alice_id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'),
        "{alice_id}"
    );
    assert!(!alice_id.contains("alice"), "{alice_id}");
    let bob_id = users_ok(
        &session,
        &["users", "add", "bob", "--password-stdin"],
        "hunter2\r\n",
    )
    .trim_end()
    .to_owned();
    assert_ne!(alice_id, bob_id);

    let list = session.ok(&["users", "list"]);
    let header: Vec<&str> = list.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["USERNAME", "ID", "CREATED"]);
    let alice = user_row(&list, "alice").unwrap_or_else(|| panic!("alice missing from {list}"));
    assert_eq!(alice[1], alice_id, "{list}");
    // CREATED in the style of `clients list`: an RFC 3339 timestamp.
    assert!(alice[2].ends_with('Z') && alice[2].contains('T'), "{list}");
    assert!(user_row(&list, "bob").is_some(), "{list}");
    // Never the hash, nor the password.
    assert!(
        !list.contains("argon2") && !list.contains('$') && !list.contains(password),
        "{list}"
    );

    // A new password keeps the user and their id.
    let stdout = users_ok(
        &session,
        &["users", "passwd", "alice", "--password-stdin"],
        "a new password\n",
    );
    assert!(stdout.is_empty(), "{stdout:?}");
    let list = session.ok(&["users", "list"]);
    assert_eq!(user_row(&list, "alice").unwrap()[1], alice_id, "{list}");

    session.ok(&["users", "remove", "alice"]);
    let list = session.ok(&["users", "list"]);
    assert!(user_row(&list, "alice").is_none(), "{list}");
    assert!(user_row(&list, "bob").is_some(), "{list}");

    // Once removed, the username is free again, for a new user with a new id.
    let new_alice = users_ok(
        &session,
        &["users", "add", "alice", "--password-stdin"],
        "another password\n",
    );
    assert_ne!(new_alice.trim_end(), alice_id);
}

#[test]
fn a_taken_username_is_refused_and_the_first_user_kept() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    let alice_id = users_ok(
        &session,
        &["users", "add", "alice", "--password-stdin"],
        "first password\n",
    );
    let stderr = users_fails(
        &session,
        &["users", "add", "alice", "--password-stdin"],
        "second password\n",
    );
    assert!(stderr.contains("the username alice is taken"), "{stderr}");
    let list = session.ok(&["users", "list"]);
    assert_eq!(list.lines().count(), 2, "{list}");
    assert_eq!(
        user_row(&list, "alice").unwrap()[1],
        alice_id.trim_end(),
        "{list}"
    );
}

#[test]
fn removing_or_changing_the_password_of_an_unknown_user_fails() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    let stderr = session.fails(&["users", "remove", "nobody"]);
    assert!(stderr.contains("no user is named nobody"), "{stderr}");
    let stderr = users_fails(
        &session,
        &["users", "passwd", "nobody", "--password-stdin"],
        "a password\n",
    );
    assert!(stderr.contains("no user is named nobody"), "{stderr}");
}

#[test]
fn bad_passwords_and_usernames_are_refused_before_the_store_is_opened() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    let too_long = format!("{}\n", "x".repeat(1025));
    for (arguments, input, fragment) in [
        (
            &["users", "add", "alice", "--password-stdin"][..],
            "",
            "the password is empty",
        ),
        (
            &["users", "add", "alice", "--password-stdin"],
            "\n",
            "the password is empty",
        ),
        (
            &["users", "add", "alice", "--password-stdin"],
            "\r\n",
            "the password is empty",
        ),
        (
            &["users", "passwd", "alice", "--password-stdin"],
            "\n",
            "the password is empty",
        ),
        (
            &["users", "add", "alice", "--password-stdin"],
            &too_long,
            "longer than 1024 bytes",
        ),
        (
            &["users", "add", "alice"],
            "a password\n",
            "--password-stdin is required",
        ),
        (
            &["users", "passwd", "alice"],
            "a password\n",
            "--password-stdin is required",
        ),
        (
            &["users", "add", " alice", "--password-stdin"],
            "a password\n",
            "whitespace",
        ),
        (
            &["users", "add", "", "--password-stdin"],
            "a password\n",
            "1 to 64 characters",
        ),
        (
            &["users", "add", &"a".repeat(65), "--password-stdin"],
            "a password\n",
            "1 to 64 characters",
        ),
        (
            &["users", "add", "ali\u{7}ce", "--password-stdin"],
            "a password\n",
            "control",
        ),
        (
            &[
                "users",
                "add",
                "alice",
                "--password-stdin",
                "--email",
                "not-an-address",
            ],
            "a password\n",
            "--email",
        ),
        (
            &[
                "users",
                "add",
                "alice",
                "--password-stdin",
                "--email-verified",
            ],
            "a password\n",
            "--email",
        ),
    ] {
        let stderr = users_fails(&session, arguments, input);
        assert!(stderr.contains(fragment), "{arguments:?}: {stderr}");
    }
    // Nothing was stored: no database was even created.
    assert!(!session.folder.path().join("registrar.db").exists());
}

#[tokio::test]
async fn serve_applies_the_outbound_allow_list_to_registration_and_to_the_fetcher() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    // Stands for a client's development server on loopback: it only counts connections.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = session.file(
        "registrar.toml",
        &format!(
            "[registration]\nmode = \"open\"\n[outbound]\nallow_hosts = [\"127.0.0.1:{port}\"]\n"
        ),
    );
    let (_server, base) = serve_with(&session, &["--config", &config]).await;
    let http = reqwest::Client::new();
    let register = |sector_identifier_uri: String| {
        http.post(format!("{base}/connect/dcr"))
            .json(&json!({
                "redirect_uris": ["https://app.example.com/cb"],
                "sector_identifier_uri": sector_identifier_uri,
            }))
            .send()
    };

    let other_port = register(format!("https://127.0.0.1:{}/sector.json", port + 1))
        .await
        .unwrap();
    let other_port: Value = other_port.json().await.unwrap();
    assert_eq!(
        other_port["error_description"],
        "sector_identifier_uri must not point at a loopback, private or other special-use address"
    );
    assert!(listener.accept().is_err(), "nothing connected yet");
    let allowed = register(format!("https://127.0.0.1:{port}/sector.json"))
        .await
        .unwrap();
    let allowed: Value = allowed.json().await.unwrap();

    // The registration rule let it through and the fetcher connected (the listener speaks no
    // TLS, so the fetch then fails, without saying why).
    assert_eq!(
        allowed["error_description"],
        "the sector_identifier_uri document could not be fetched"
    );
    assert!(listener.accept().is_ok(), "the fetcher connected");
}

#[test]
fn a_bad_outbound_section_stops_the_start() {
    let session = Session {
        folder: tempfile::tempdir().unwrap(),
    };
    let no_port = session.file(
        "no-port.toml",
        "[outbound]\nallow_hosts = [\"127.0.0.1\"]\n",
    );
    let missing = session.folder.path().join("missing.pem");
    let no_file = session.file(
        "no-file.toml",
        &format!(
            "[outbound]\nextra_ca_file = {:?}\n",
            missing.to_str().unwrap()
        ),
    );

    let no_port = session.fails(&["serve", "--config", &no_port]);
    let no_file = session.fails(&["serve", "--config", &no_file]);

    assert!(
        no_port.contains("outbound.allow_hosts[0]: \"127.0.0.1\" needs a port"),
        "{no_port}"
    );
    assert!(
        no_file.contains(&format!(
            "outbound.extra_ca_file: cannot read {}",
            missing.display()
        )),
        "{no_file}"
    );
}
