//! The document fitted to the settings: base path, issuer, RFC 8414 path, served groups.

use registrar_core::Settings;
use serde_json::Value;

use super::{Served, document};

const ALL: Served = Served {
    registration: true,
    authorization: true,
};

fn json_of(settings: &Settings, served: Served) -> Value {
    serde_json::to_value(document(settings, served)).unwrap()
}

fn settings(issuer: &str, base_path: &str) -> Settings {
    let mut settings = Settings::new(url::Url::parse(issuer).unwrap());
    settings.set_base_path(base_path).unwrap();
    settings
}

fn paths(document: &Value) -> Vec<&str> {
    document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// Every `$ref` in `value` names something in `document`.
fn assert_refs_resolve(document: &Value, value: &Value) {
    match value {
        Value::Object(members) => {
            if let Some(Value::String(reference)) = members.get("$ref") {
                let pointer = reference
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("{reference}"));
                assert!(document.pointer(pointer).is_some(), "{reference} resolves");
            }
            members
                .values()
                .for_each(|member| assert_refs_resolve(document, member));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| assert_refs_resolve(document, item)),
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_1_with_the_issuer_as_its_server_and_every_ref_resolves() {
    let document = json_of(&settings("https://id.example", ""), ALL);
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], "https://id.example");
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_refs_resolve(&document, &document);
    for scheme in [
        "initial_access_token",
        "registration_access_token",
        "access_token",
        "client_secret_basic",
        "session",
    ] {
        assert!(
            document["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
}

#[test]
fn the_base_path_prefixes_every_route_but_discovery_and_health() {
    let document = json_of(&settings("https://id.example", "/registrar"), ALL);
    let paths = paths(&document);
    for path in [
        "/registrar/connect/dcr",
        "/registrar/connect/dcr/{client_id}",
        "/registrar/connect/token",
        "/registrar/.well-known/jwks.json",
        "/registrar/connect/authorize",
        "/registrar/openapi.json",
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/webfinger",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains(&path), "{path} in {paths:?}");
    }
    assert!(!paths.contains(&"/connect/dcr"));
}

#[test]
fn an_issuer_with_a_path_also_has_the_rfc_8414_path_with_its_own_operation_id() {
    let document = json_of(&settings("https://id.example/tenant", ""), ALL);
    assert_eq!(document["servers"][0]["url"], "https://id.example/tenant");
    let suffixed = &document["paths"]["/.well-known/oauth-authorization-server/tenant"]["get"];
    let plain = &document["paths"]["/.well-known/oauth-authorization-server"]["get"];
    assert_eq!(suffixed["responses"], plain["responses"]);
    assert_ne!(suffixed["operationId"], plain["operationId"]);
}

#[test]
fn only_the_served_route_groups_are_documented() {
    let settings = settings("https://id.example", "");
    let cases = [
        (
            Served {
                registration: true,
                authorization: false,
            },
            "/connect/dcr",
            "/connect/token",
        ),
        (
            Served {
                registration: false,
                authorization: true,
            },
            "/connect/token",
            "/connect/dcr",
        ),
    ];
    for (served, present, absent) in cases {
        let document = json_of(&settings, served);
        let paths = paths(&document);
        assert!(paths.contains(&present), "{present} in {paths:?}");
        assert!(!paths.contains(&absent), "{absent} in {paths:?}");
        assert!(paths.contains(&"/healthz") && paths.contains(&"/openapi.json"));
        assert_refs_resolve(&document, &document);
    }
}
