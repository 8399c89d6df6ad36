//! Registration bodies: each one different, shaped like a confidential web application that
//! also gets tokens for itself.

use serde_json::{Value, json};

/// The `n`th body of the run named `run` (a random tag, so two runs never collide).
pub fn registration(run: &str, n: u64) -> Value {
    let host = format!("app-{n}.{run}.example.com");
    json!({
        "client_name": format!("Bench {run} app {n}"),
        "redirect_uris": [
            format!("https://{host}/callback"),
            format!("https://{host}/silent-renew"),
        ],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "application_type": "web",
        "scope": "openid profile email",
        "contacts": [format!("ops-{n}@{run}.example.com")],
        "client_uri": format!("https://{host}/"),
        "software_id": format!("bench-{run}"),
        "software_version": format!("1.{}", n % 100),
    })
}

/// The body of an RFC 7592 update: the registered metadata with `client_id` and a new name.
pub fn update(registered: &Value, client_id: &str, revision: u64) -> Value {
    let mut body = registered.clone();
    if let Some(object) = body.as_object_mut() {
        object.insert("client_id".to_owned(), Value::from(client_id));
        object.insert(
            "client_name".to_owned(),
            Value::from(format!("Bench client {client_id} revision {revision}")),
        );
    }
    body
}

/// A random tag for one run: 8 lowercase hex digits.
pub fn run_tag() -> String {
    let mut bytes = [0u8; 4];
    // A fixed tag would only make a second run against the same database collide.
    if getrandom::fill(&mut bytes).is_err() {
        bytes = [0x5e, 0xed, 0, 1];
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
