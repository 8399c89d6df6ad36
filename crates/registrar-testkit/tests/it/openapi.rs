//! `GET /openapi.json` checked against the live server: an OpenAPI 3.1 document whose every
//! `$ref` resolves, whose operations are exactly the routes the router serves, and whose
//! response schemas (JSON Schema 2020-12) accept what the server answers, with every status
//! the server answered documented for its operation.

use std::collections::BTreeSet;

use registrar_testkit::{Backend, TestServer, backends};
use reqwest::{Method, Response};
use serde_json::{Value, json};

backends!(
    the_document_is_openapi_3_1_and_every_ref_resolves,
    the_documented_operations_are_the_routes_the_server_serves,
    live_responses_match_their_documented_schemas,
    the_check_refuses_a_wrong_member_type_and_an_undocumented_status,
    the_document_follows_the_base_path
);

/// Every route `router_with` serves with every group, as (method, path template).
const KNOWN_ROUTES: [(&str, &str); 21] = [
    ("post", "/connect/dcr"),
    ("get", "/connect/dcr/{client_id}"),
    ("put", "/connect/dcr/{client_id}"),
    ("delete", "/connect/dcr/{client_id}"),
    ("post", "/connect/token"),
    ("post", "/connect/introspect"),
    ("post", "/connect/revoke"),
    ("get", "/connect/userinfo"),
    ("post", "/connect/userinfo"),
    ("get", "/.well-known/jwks.json"),
    ("get", "/connect/authorize"),
    ("post", "/connect/authorize/login"),
    ("post", "/connect/authorize/consent"),
    ("get", "/connect/logout"),
    ("post", "/connect/logout"),
    ("get", "/.well-known/openid-configuration"),
    ("get", "/.well-known/oauth-authorization-server"),
    ("get", "/.well-known/webfinger"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/openapi.json"),
];

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// Fetches the document, checking how it is served.
async fn fetch_document(server: &TestServer, path: &str) -> Value {
    let response = server.http().get(server.url(path)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    response.json().await.unwrap()
}

/// The documented operations, as (method, path template).
fn operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                operations.insert((method.to_owned(), path.clone()));
            }
        }
    }
    operations
}

/// Every `$ref` in `value` that does not resolve in `document`.
fn unresolved_refs(document: &Value, value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            if let Some(Value::String(reference)) = members.get("$ref") {
                let resolves = reference
                    .strip_prefix('#')
                    .is_some_and(|pointer| document.pointer(pointer).is_some());
                if !resolves {
                    found.push(reference.clone());
                }
            }
            for member in members.values() {
                unresolved_refs(document, member, found);
            }
        }
        Value::Array(items) => {
            for item in items {
                unresolved_refs(document, item, found);
            }
        }
        _ => {}
    }
}

/// The documented response of an operation for `status`, its `$ref` followed.
fn documented_response<'d>(
    document: &'d Value,
    method: &str,
    path: &str,
    status: u16,
) -> Result<&'d Value, String> {
    let operation = document["paths"][path]
        .get(method)
        .ok_or_else(|| format!("{method} {path} is not documented"))?;
    let response = operation["responses"]
        .get(status.to_string())
        .ok_or_else(|| format!("{method} {path} answered {status}, which is not documented"))?;
    match response.get("$ref").and_then(Value::as_str) {
        Some(reference) => document
            .pointer(reference.trim_start_matches('#'))
            .ok_or_else(|| format!("{reference} does not resolve")),
        None => Ok(response),
    }
}

/// Checks an answer against the document: the status is documented for the operation, the
/// content type is one documented for that status (or none when none is), a JSON body
/// validates against its schema, and a documented `Retry-After` is sent.
fn validate(document: &Value, method: &str, path: &str, answer: &Answer) -> Result<(), String> {
    let response = documented_response(document, method, path, answer.status)?;
    if response["headers"].get("Retry-After").is_some() && !answer.has_retry_after {
        return Err(format!("{method} {path} {}: no Retry-After", answer.status));
    }
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return match &answer.content_type {
            None => Ok(()),
            Some(content_type) if answer.body.is_empty() => Err(format!(
                "{method} {path} {}: {content_type} with no body",
                answer.status
            )),
            Some(content_type) => Err(format!(
                "{method} {path} {}: a {content_type} body where none is documented",
                answer.status
            )),
        };
    };
    let content_type = answer.content_type.clone().unwrap_or_default();
    let media = content.get(&content_type).ok_or_else(|| {
        format!(
            "{method} {path} {}: {content_type:?} is not among {:?}",
            answer.status,
            content.keys().collect::<Vec<_>>()
        )
    })?;
    if !content_type.contains("json") {
        return Ok(());
    }
    let body: Value = serde_json::from_slice(&answer.body)
        .map_err(|error| format!("{method} {path} {}: not JSON: {error}", answer.status))?;
    let Some(schema) = media.get("schema") else {
        return Ok(());
    };
    // OpenAPI 3.1 schemas are JSON Schema 2020-12; the components ride along in the root so
    // that `#/components/schemas/...` resolves.
    let mut root = schema.clone();
    root["components"] = document["components"].clone();
    let validator = jsonschema::draft202012::new(&root)
        .map_err(|error| format!("{method} {path}: the schema does not compile: {error}"))?;
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{method} {path} {}: {body} does not match its schema: {errors:?}",
        answer.status
    ))
}

/// What the server answered, read once.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    has_retry_after: bool,
    body: Vec<u8>,
}

impl Answer {
    async fn read(response: Response) -> Self {
        let content_type = response.headers().get("content-type").map(|value| {
            value
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .trim()
                .to_owned()
        });
        Self {
            status: response.status().as_u16(),
            content_type,
            has_retry_after: response.headers().contains_key("retry-after"),
            body: response.bytes().await.unwrap().to_vec(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Reads the answer, asserts it matches the document for `method path` and has `status`.
async fn check(
    document: &Value,
    method: &str,
    path: &str,
    status: u16,
    response: Response,
) -> Answer {
    let answer = Answer::read(response).await;
    if let Err(problem) = validate(document, method, path, &answer) {
        panic!("{problem}");
    }
    assert_eq!(answer.status, status, "{method} {path}: {answer:?}");
    answer
}

async fn the_document_is_openapi_3_1_and_every_ref_resolves(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let document = fetch_document(&server, "/openapi.json").await;
    let version = document["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "{version}");
    assert_eq!(document["servers"], json!([{"url": server.url("")}]));
    let mut unresolved = Vec::new();
    unresolved_refs(&document, &document, &mut unresolved);
    assert!(unresolved.is_empty(), "unresolved: {unresolved:?}");
    // Every schema compiles as JSON Schema 2020-12.
    for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
        let mut root = schema.clone();
        root["components"] = document["components"].clone();
        if let Err(error) = jsonschema::draft202012::new(&root) {
            panic!("{name}: {error}");
        }
    }
    // Operation ids are unique, and every operation names its error responses.
    let mut ids = BTreeSet::new();
    for (method, path) in operations(&document) {
        let operation = &document["paths"][&path][&method];
        let id = operation["operationId"].as_str().unwrap().to_owned();
        assert!(ids.insert(id.clone()), "{id} twice");
        let statuses: Vec<&String> = operation["responses"].as_object().unwrap().keys().collect();
        assert!(!statuses.is_empty(), "{method} {path}");
    }
}

async fn the_documented_operations_are_the_routes_the_server_serves(backend: Backend) {
    let server = TestServer::spawn_unlimited(backend).await;
    let document = fetch_document(&server, "/openapi.json").await;
    let documented = operations(&document);
    let known: BTreeSet<(String, String)> = KNOWN_ROUTES
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(
        documented, known,
        "the documented operations are the known routes"
    );
    // Every method of every documented path: a documented one is served (and answers as
    // documented), any other is 405, so a route the document left out would show.
    for path in document["paths"].as_object().unwrap().keys() {
        let url = server.url(&path.replace("{client_id}", "unknown-client"));
        for method in METHODS {
            let request = server.http().request(
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                &url,
            );
            let answer = Answer::read(request.send().await.unwrap()).await;
            if documented.contains(&(method.to_owned(), path.clone())) {
                assert!(
                    ![404, 405].contains(&answer.status),
                    "{method} {path} is documented but answered {}",
                    answer.status
                );
                if let Err(problem) = validate(&document, method, path, &answer) {
                    panic!("{problem}");
                }
            } else {
                assert_eq!(
                    answer.status, 405,
                    "{method} {path} is served but undocumented"
                );
            }
        }
    }
}

async fn register_machine(server: &TestServer, document: &Value) -> Value {
    let response = server
        .register(json!({
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_basic",
            "scope": "openid email",
            "client_name": "reporting job",
            "client_name#ja": "レポート",
        }))
        .await;
    check(document, "post", "/connect/dcr", 201, response)
        .await
        .json()
}

fn form_post(server: &TestServer, path: &str, client: &Value) -> reqwest::RequestBuilder {
    server.http().post(server.url(path)).basic_auth(
        client["client_id"].as_str().unwrap(),
        client["client_secret"].as_str(),
    )
}

async fn live_responses_match_their_documented_schemas(backend: Backend) {
    let server = TestServer::spawn_unlimited(backend).await;
    let document = fetch_document(&server, "/openapi.json").await;
    let registration = "/connect/dcr";
    let management = "/connect/dcr/{client_id}";
    let http = server.http();

    // Registration: success, dry run, and each kind of refusal.
    let client = register_machine(&server, &document).await;
    let token = server.initial_token(Default::default()).await;
    let endpoint = server.url(registration);
    let dry_run = http
        .post(format!("{endpoint}?dry_run=true"))
        .bearer_auth(&token)
        .json(&json!({"redirect_uris": ["https://app.example/cb"]}))
        .send()
        .await
        .unwrap();
    check(&document, "post", registration, 200, dry_run).await;
    for (body, code) in [
        (
            json!({"grant_types": ["client_credentials"], "client_name": 5}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb#x"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"grant_types": ["client_credentials"], "scope": "admin"}),
            "invalid_client_metadata",
        ),
        (json!(["not", "an", "object"]), "invalid_request"),
    ] {
        let response = http
            .post(&endpoint)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let answer = check(&document, "post", registration, 400, response).await;
        assert_eq!(answer.json()["error"], code, "{body}");
    }
    let wrong_type = http
        .post(&endpoint)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    check(&document, "post", registration, 415, wrong_type).await;
    let too_large = http
        .post(&endpoint)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"client_name\":\"{}\"}}", "x".repeat(70 * 1024)))
        .send()
        .await
        .unwrap();
    check(&document, "post", registration, 413, too_large).await;
    let anonymous = http.post(&endpoint).json(&json!({})).send().await.unwrap();
    check(&document, "post", registration, 401, anonymous).await;
    let bad_dry_run = http
        .post(format!("{endpoint}?dry_run=yes"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    check(&document, "post", registration, 400, bad_dry_run).await;

    // Management: read, update, the wrong token, delete.
    let client_uri = client["registration_client_uri"].as_str().unwrap();
    let access_token = client["registration_access_token"].as_str().unwrap();
    let read = http
        .get(client_uri)
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    check(&document, "get", management, 200, read).await;
    let wrong = http
        .get(client_uri)
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    check(&document, "get", management, 401, wrong).await;
    let mut update = client.clone();
    for member in [
        "registration_access_token",
        "registration_client_uri",
        "client_secret_expires_at",
        "client_id_issued_at",
    ] {
        update.as_object_mut().unwrap().remove(member);
    }
    update["client_name"] = json!("nightly reporting job");
    let refused = http
        .put(client_uri)
        .bearer_auth(access_token)
        .json(&json!({"client_id": "another", "grant_types": ["client_credentials"]}))
        .send()
        .await
        .unwrap();
    check(&document, "put", management, 400, refused).await;
    let updated = http
        .put(client_uri)
        .bearer_auth(access_token)
        .json(&update)
        .send()
        .await
        .unwrap();
    let updated = check(&document, "put", management, 200, updated)
        .await
        .json();
    let access_token = updated["registration_access_token"].as_str().unwrap();

    // Token, introspection, revocation, userinfo.
    let issued = form_post(&server, "/connect/token", &client)
        .form(&[("grant_type", "client_credentials"), ("scope", "email")])
        .send()
        .await
        .unwrap();
    let issued = check(&document, "post", "/connect/token", 200, issued)
        .await
        .json();
    let access = issued["access_token"].as_str().unwrap();
    for (form, status) in [
        (vec![("grant_type", "password")], 400),
        (
            vec![("grant_type", "client_credentials"), ("scope", "profile")],
            400,
        ),
        (vec![], 400),
    ] {
        let response = form_post(&server, "/connect/token", &client)
            .form(&form)
            .send()
            .await
            .unwrap();
        check(&document, "post", "/connect/token", status, response).await;
    }
    let wrong_secret = http
        .post(server.url("/connect/token"))
        .basic_auth(client["client_id"].as_str().unwrap(), Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let answer = check(&document, "post", "/connect/token", 401, wrong_secret).await;
    assert_eq!(answer.json()["error"], "invalid_client");
    for token in [access, "not-a-token"] {
        let response = form_post(&server, "/connect/introspect", &client)
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        check(&document, "post", "/connect/introspect", 200, response).await;
    }
    let missing = form_post(&server, "/connect/introspect", &client)
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    check(&document, "post", "/connect/introspect", 400, missing).await;
    let userinfo = http
        .get(server.url("/connect/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    check(&document, "get", "/connect/userinfo", 403, userinfo).await;
    let userinfo = http
        .get(server.url("/connect/userinfo"))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    check(&document, "get", "/connect/userinfo", 401, userinfo).await;
    let revoked = form_post(&server, "/connect/revoke", &client)
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    check(&document, "post", "/connect/revoke", 200, revoked).await;
    let unrevoked = form_post(&server, "/connect/revoke", &client)
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    check(&document, "post", "/connect/revoke", 400, unrevoked).await;

    // Discovery, keys, health, and the pages' refusals.
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
        "/healthz",
        "/readyz",
        "/openapi.json",
    ] {
        let response = http.get(server.url(path)).send().await.unwrap();
        check(&document, "get", path, 200, response).await;
    }
    let host = server.address.to_string();
    for (resource, status) in [
        (format!("acct:joe@{host}"), 200),
        ("acct:joe@elsewhere.example".to_owned(), 404),
    ] {
        let response = http
            .get(server.url("/.well-known/webfinger"))
            .query(&[("resource", resource)])
            .send()
            .await
            .unwrap();
        check(&document, "get", "/.well-known/webfinger", status, response).await;
    }
    let authorize = http
        .get(server.url("/connect/authorize"))
        .query(&[("client_id", "nobody"), ("response_type", "code")])
        .send()
        .await
        .unwrap();
    check(&document, "get", "/connect/authorize", 400, authorize).await;

    // Deleting ends the registration: its token no longer reads it.
    let deleted = http
        .delete(client_uri)
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    check(&document, "delete", management, 204, deleted).await;
    let gone = http
        .get(client_uri)
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    check(&document, "get", management, 401, gone).await;
}

/// Finds the `properties` object that has `member`, anywhere in `value`.
fn property_mut<'v>(value: &'v mut Value, member: &str) -> Option<&'v mut Value> {
    match value {
        Value::Object(members) => {
            if members
                .get("properties")
                .and_then(|properties| properties.get(member))
                .is_some()
            {
                return members.get_mut("properties")?.get_mut(member);
            }
            members
                .values_mut()
                .find_map(|child| property_mut(child, member))
        }
        Value::Array(items) => items.iter_mut().find_map(|item| property_mut(item, member)),
        _ => None,
    }
}

/// The check is not vacuous: the same answer fails it once the document is wrong about a
/// member's type or leaves the status out.
async fn the_check_refuses_a_wrong_member_type_and_an_undocumented_status(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let document = fetch_document(&server, "/openapi.json").await;
    let response = server
        .register(json!({"grant_types": ["client_credentials"]}))
        .await;
    let answer = Answer::read(response).await;
    assert_eq!(answer.status, 201);
    validate(&document, "post", "/connect/dcr", &answer).unwrap();

    let mut wrong_type = document.clone();
    let information = &mut wrong_type["components"]["schemas"]["ClientInformation"];
    *property_mut(information, "client_id_issued_at").unwrap() = json!({"type": "string"});
    let problem = validate(&wrong_type, "post", "/connect/dcr", &answer).unwrap_err();
    assert!(problem.contains("client_id_issued_at"), "{problem}");

    let mut missing_status = document.clone();
    missing_status["paths"]["/connect/dcr"]["post"]["responses"]
        .as_object_mut()
        .unwrap()
        .remove("201");
    let problem = validate(&missing_status, "post", "/connect/dcr", &answer).unwrap_err();
    assert!(problem.contains("not documented"), "{problem}");
}

async fn the_document_follows_the_base_path(backend: Backend) {
    let server = TestServer::spawn_with(backend, |settings| {
        settings.set_base_path("/registrar").unwrap();
    })
    .await;
    let document = fetch_document(&server, "/registrar/openapi.json").await;
    let paths: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
    assert!(
        paths.iter().any(|path| *path == "/registrar/connect/dcr"),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|path| *path == "/.well-known/openid-configuration"),
        "{paths:?}"
    );
    assert!(
        !paths.iter().any(|path| *path == "/connect/dcr"),
        "{paths:?}"
    );
    // The documented registration path is where the server registers.
    let registered = server
        .register(json!({"grant_types": ["client_credentials"]}))
        .await;
    check(&document, "post", "/registrar/connect/dcr", 201, registered).await;
    let missing = server
        .http()
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}
