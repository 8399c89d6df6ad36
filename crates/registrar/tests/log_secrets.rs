//! Secrets never reach the logs: the real binary runs at debug level through a whole session
//! over HTTP (registration, management with token rotation, the token endpoint with both secret
//! methods, introspection, revocation, a person's login, consent, code exchange with PKCE,
//! refresh, userinfo and logout, deletion, and a few mistakes), and its stdout and stderr hold
//! none of the secrets, tokens, codes, passwords or cookies it saw, nor a 12-character prefix of
//! any.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use registrar_core::secrets::{OsRandom, random_token};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use support::{Server, Store};

const REDIRECT_URI: &str = "https://app.example.com/callback";

/// The shortest part of a secret that must not appear in the logs either.
const PREFIX: usize = 12;

#[tokio::test]
async fn no_secret_reaches_the_debug_log_on_sqlite() {
    no_secret_reaches_the_debug_log(Store::sqlite()).await;
}

#[tokio::test]
async fn no_secret_reaches_the_debug_log_on_postgres() {
    let Some(server_url) =
        support::postgres_server_or_skip("no_secret_reaches_the_debug_log_on_postgres")
    else {
        return;
    };
    no_secret_reaches_the_debug_log(Store::postgres(&server_url).await).await;
}

/// Every credential the session saw: what it is, its value, and whether its first `PREFIX`
/// characters are its own.
#[derive(Default)]
struct Secrets(Vec<(String, String, bool)>);

impl Secrets {
    fn add(&mut self, what: &str, value: &str) {
        assert!(
            value.len() >= PREFIX,
            "{what} is too short to look for: {value}"
        );
        let parts: Vec<&str> = value.split('.').collect();
        if parts.len() != 3 {
            self.0.push((what.to_owned(), value.to_owned(), true));
            return;
        }
        // A JWT begins with a header, and its payload with the issuer, that every token of the
        // server shares: those prefixes are no one token's. The signature's are.
        self.0.push((what.to_owned(), value.to_owned(), false));
        self.0
            .push((format!("{what} payload"), parts[1].to_owned(), false));
        self.0
            .push((format!("{what} signature"), parts[2].to_owned(), true));
    }

    fn add_json(&mut self, what: &str, body: &Value, members: &[&str]) {
        for member in members {
            let value = body[member]
                .as_str()
                .unwrap_or_else(|| panic!("{what}: no {member} in {body}"));
            self.add(&format!("{what} {member}"), value);
        }
    }
}

async fn no_secret_reaches_the_debug_log(store: Store) {
    let mut secrets = Secrets::default();
    let log = store.folder.path().join("server.log");
    let initial_token = store
        .cli(&["initial-token", "create", "--max-uses", "5"], "")
        .trim_end()
        .to_owned();
    secrets.add("initial access token", &initial_token);
    let password = format!("pw {}", random_token(&OsRandom, 16));
    secrets.add("password", &password);
    store.cli(
        &["users", "add", "alice", "--password-stdin"],
        &format!("{password}\n"),
    );

    let server = store
        .serve(&[], &[("RUST_LOG", "debug"), ("NO_COLOR", "1")], &log)
        .await;
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();

    // Registration, read, update (which rotates the registration access token).
    let web_client = json!({
        "client_name": "Log test web app",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "scope": "openid profile email offline_access",
    });
    let response = http
        .post(server.url("/connect/dcr"))
        .bearer_auth(&initial_token)
        .json(&web_client)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let registered: Value = response.json().await.unwrap();
    secrets.add_json(
        "web client",
        &registered,
        &["client_secret", "registration_access_token"],
    );
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let client_secret = registered["client_secret"].as_str().unwrap().to_owned();
    let management = server.url(&format!("/connect/dcr/{client_id}"));
    let read = http
        .get(&management)
        .bearer_auth(registered["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(read.status().as_u16(), 200);
    let mut update = web_client.clone();
    update["client_id"] = json!(client_id);
    update["client_secret"] = json!(client_secret);
    update["client_name"] = json!("Log test web app, renamed");
    let updated = http
        .put(&management)
        .bearer_auth(registered["registration_access_token"].as_str().unwrap())
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status().as_u16(), 200);
    let updated: Value = updated.json().await.unwrap();
    secrets.add_json(
        "updated web client",
        &updated,
        &["registration_access_token"],
    );
    let registration_token = updated["registration_access_token"].as_str().unwrap();
    assert_ne!(
        registered["registration_access_token"],
        updated["registration_access_token"]
    );

    // A second client, authenticating with client_secret_post.
    let service = http
        .post(server.url("/connect/dcr"))
        .bearer_auth(&initial_token)
        .json(&json!({
            "client_name": "Log test service",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_post",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(service.status().as_u16(), 201);
    let service: Value = service.json().await.unwrap();
    secrets.add_json(
        "service",
        &service,
        &["client_secret", "registration_access_token"],
    );
    let service_id = service["client_id"].as_str().unwrap();
    let service_secret = service["client_secret"].as_str().unwrap();

    // The token endpoint, both ways of sending a secret.
    let basic_token = token(
        &http,
        &server,
        Some((&client_id, &client_secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    secrets.add_json(
        "client_credentials (basic)",
        &basic_token,
        &["access_token"],
    );
    let post_token = token(
        &http,
        &server,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", service_id),
            ("client_secret", service_secret),
        ],
    )
    .await;
    secrets.add_json("client_credentials (post)", &post_token, &["access_token"]);
    let access_token = basic_token["access_token"].as_str().unwrap();

    // Introspection by the service, then revocation by the web client.
    let introspection: Value = http
        .post(server.url("/connect/introspect"))
        .form(&[
            ("token", access_token),
            ("client_id", service_id),
            ("client_secret", service_secret),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspection["active"], true, "{introspection}");
    let revoked = http
        .post(server.url("/connect/revoke"))
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[("token", access_token), ("token_type_hint", "access_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 200);

    // A person signs in, consents, and the client redeems the code and refreshes.
    let mut browser = Browser::new(&http);
    let verifier = random_token(&OsRandom, 32);
    secrets.add("code_verifier", &verifier);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut authorize = url::Url::parse(&server.url("/connect/authorize")).unwrap();
    authorize.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid profile email offline_access"),
        ("state", "state-of-the-log-test"),
        ("nonce", "nonce-of-the-log-test"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]);
    let login = browser.get(authorize.as_str()).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let consent = browser
        .submit(&login, &[("username", "alice"), ("password", &password)])
        .await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    let redirect = browser.submit(&consent, &[("decision", "allow")]).await;
    assert_eq!(redirect.status, 303, "{}", redirect.body);
    let location = url::Url::parse(redirect.location.as_deref().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(name, _)| name == "code")
        .unwrap()
        .1
        .into_owned();
    secrets.add("authorization code", &code);
    for (name, value) in &browser.cookies {
        secrets.add(&format!("cookie {name}"), value);
    }
    for (name, value) in &browser.form_secrets {
        secrets.add(name, value);
    }
    let tokens = token(
        &http,
        &server,
        Some((&client_id, &client_secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", &verifier),
            ("redirect_uri", REDIRECT_URI),
        ],
    )
    .await;
    secrets.add_json(
        "code exchange",
        &tokens,
        &["access_token", "refresh_token", "id_token"],
    );
    let refreshed = token(
        &http,
        &server,
        Some((&client_id, &client_secret)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    // A confidential client's refresh token is not rotated; a public client's would be.
    secrets.add_json("refresh", &refreshed, &["access_token", "id_token"]);
    let refresh_token = refreshed["refresh_token"]
        .as_str()
        .or(tokens["refresh_token"].as_str())
        .unwrap();
    secrets.add("refresh token after the refresh", refresh_token);
    let userinfo = http
        .get(server.url("/connect/userinfo"))
        .bearer_auth(refreshed["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status().as_u16(), 200);
    // RP-Initiated Logout puts the ID token in the query string.
    let mut logout = url::Url::parse(&server.url("/connect/logout")).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", refreshed["id_token"].as_str().unwrap());
    let signed_out = browser.get(logout.as_str()).await;
    assert_eq!(signed_out.status, 200, "{}", signed_out.body);
    let revoked = http
        .post(server.url("/connect/revoke"))
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[("token", refresh_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 200);

    // Mistakes carry credentials too: a wrong secret, and a token in the query string as well
    // as in the header (refused, RFC 6750 §2).
    let wrong_secret = format!("wrong {}", random_token(&OsRandom, 16));
    secrets.add("wrong client secret", &wrong_secret);
    let refused = http
        .post(server.url("/connect/token"))
        .basic_auth(&client_id, Some(&wrong_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let refused = http
        .get(format!("{management}?access_token={registration_token}"))
        .bearer_auth(registration_token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 400);

    // Deletion.
    let deleted = http
        .delete(&management)
        .bearer_auth(registration_token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    let deleted = http
        .delete(server.url(&format!("/connect/dcr/{service_id}")))
        .bearer_auth(service["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);

    drop(server);
    let log = std::fs::read_to_string(&log).unwrap();
    // The log is the one asked for: debug level, with the requests in it.
    for expected in [
        "DEBUG",
        "/connect/token",
        "/connect/authorize/login",
        &format!("/connect/dcr/{client_id}"),
        "client registered",
    ] {
        assert!(
            log.contains(expected),
            "{expected} is not in the log:\n{log}"
        );
    }
    let mut leaks = Vec::new();
    for (what, value, own_prefix) in &secrets.0 {
        let prefix = if *own_prefix { &value[..PREFIX] } else { value };
        if let Some(line) = log.lines().find(|line| line.contains(prefix)) {
            let extent = if line.contains(value.as_str()) {
                "in full"
            } else {
                "its first characters"
            };
            leaks.push(format!("the {what}, {extent}, in: {line}"));
        }
    }
    assert!(leaks.is_empty(), "the log holds\n{}", leaks.join("\n"));
    eprintln!(
        "{} secrets looked for in {} lines of log",
        secrets.0.len(),
        log.lines().count()
    );
}

/// `POST /connect/token`, with HTTP Basic when `basic` is given; the answer must be 200.
async fn token(
    http: &reqwest::Client,
    server: &Server,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> Value {
    let mut request = http.post(server.url("/connect/token")).form(form);
    if let Some((client_id, secret)) = basic {
        request = request.basic_auth(client_id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// A browser's part: cookies kept by name (each value is a secret), forms submitted with their
/// hidden fields (the CSRF tokens among them are secrets too), no redirect followed.
struct Browser<'a> {
    http: &'a reqwest::Client,
    cookies: BTreeMap<String, String>,
    form_secrets: Vec<(String, String)>,
}

/// A response as the browser saw it.
struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

impl<'a> Browser<'a> {
    fn new(http: &'a reqwest::Client) -> Self {
        Self {
            http,
            cookies: BTreeMap::new(),
            form_secrets: Vec::new(),
        }
    }

    async fn get(&mut self, url: &str) -> Page {
        let request = self.with_cookies(self.http.get(url));
        self.receive(request).await
    }

    /// Posts the page's form: its hidden fields with `fields` added.
    async fn submit(&mut self, page: &Page, fields: &[(&str, &str)]) -> Page {
        let action = attribute(&page.body, "<form", "action").expect("a form");
        let mut form = hidden_fields(&page.body);
        for (name, value) in &form {
            if name == "csrf_token" {
                self.form_secrets
                    .push((format!("{name} field"), value.clone()));
            }
        }
        form.extend(
            fields
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        );
        let request = self.with_cookies(self.http.post(action).form(&form));
        self.receive(request).await
    }

    fn with_cookies(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.cookies.is_empty() {
            return request;
        }
        let header: Vec<String> = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        request.header(COOKIE, header.join("; "))
    }

    async fn receive(&mut self, request: reqwest::RequestBuilder) -> Page {
        let response = request.send().await.unwrap();
        for set_cookie in response.headers().get_all(SET_COOKIE) {
            let text = set_cookie.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Page {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get(LOCATION)
                .map(|value| value.to_str().unwrap().to_owned()),
            body: response.text().await.unwrap(),
        }
    }
}

/// Every `<input type="hidden">` of a page, unescaped.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<input type=\"hidden\"") {
        let end = rest[start..].find('>').unwrap() + start;
        let tag = &rest[start..=end];
        let name = attribute(tag, "<input", "name").unwrap();
        let value = attribute(tag, "<input", "value").unwrap_or_default();
        fields.push((name, value));
        rest = &rest[end..];
    }
    fields
}

/// The unescaped value of `name` in the first `tag` of `html`.
fn attribute(html: &str, tag: &str, name: &str) -> Option<String> {
    let start = html.find(tag)?;
    let end = html[start..].find('>')? + start;
    let inside = &html[start..end];
    let marker = format!(" {name}=\"");
    let value_start = inside.find(&marker)? + marker.len();
    let value_end = inside[value_start..].find('"')? + value_start;
    // Reverses askama's HTML escaping.
    Some(
        inside[value_start..value_end]
            .replace("&#38;", "&")
            .replace("&amp;", "&")
            .replace("&#34;", "\"")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&#60;", "<")
            .replace("&lt;", "<")
            .replace("&#62;", ">")
            .replace("&gt;", ">"),
    )
}
