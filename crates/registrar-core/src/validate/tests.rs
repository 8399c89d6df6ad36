//! Table tests of the validation rules, one row per case, grouped by rule.
//!
//! Every row runs the whole of `default_validate`, so a body that tests a later step also passes
//! the earlier ones (most carry a valid `redirect_uris` for that reason).

mod outbound;

use expect_test::{Expect, expect};
use url::Url;

use crate::caller::Caller;
use crate::context::{Operation, RegistrationContext, RequestSource};
use crate::pipeline::Pipeline;
use crate::protocol::{AuthMethod, GrantType};
use crate::secrets::TokenHasher;
use crate::settings::Settings;
use crate::steps::{DefaultValidator, Validator};
use crate::store::Stores;

/// A real 2048-bit RSA modulus (RFC 7517 Appendix A.1): 256 bytes, 342 base64url characters.
const RSA_2048_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

fn default_settings() -> Settings {
    Settings::new(Url::parse("https://issuer.example").unwrap())
}

fn initial_access_token() -> Caller {
    Caller::InitialAccessToken {
        id: "iat-1".to_owned(),
        token_hash: TokenHasher::new(b"test secret").hash("initial access token"),
        policy: None,
    }
}

/// Runs the default validator on `body` and renders `ok` or `{code}: {message}`. `RSA_2048_N` in
/// a body stands for [`RSA_2048_N`], so rows stay readable.
fn render(settings: &Settings, caller: &Caller, body: &str) -> String {
    let body = body.replace("RSA_2048_N", RSA_2048_N);
    let object = crate::json::parse_object(body.as_bytes()).expect("test bodies are objects");
    let pipeline = Pipeline::builder(settings.clone(), Stores::unavailable())
        .server_secret(b"validation tests secret, thirty-two bytes or more")
        .build()
        .expect("pipeline");
    let mut cx = RegistrationContext::new(
        pipeline.services().clone(),
        Operation::Register,
        caller.clone(),
        RequestSource::default(),
        object,
        None,
    );
    match ready(DefaultValidator.validate(&mut cx)) {
        Ok(()) => "ok".to_owned(),
        Err(error) => format!("{}: {error}", error.code()),
    }
}

/// The value of a future that is ready at once, as the default rules are: they do no I/O.
fn ready<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => panic!("the default validation rules do no I/O"),
    }
}

/// The default settings and a caller holding an initial access token.
fn check(body: &str, expected: Expect) {
    expected.assert_eq(&render(&default_settings(), &initial_access_token(), body));
}

/// The default settings and another caller; an anonymous one registers in open mode.
fn check_as(caller: &Caller, body: &str, expected: Expect) {
    let mut settings = default_settings();
    if matches!(caller, Caller::Anonymous) {
        settings.mode = crate::settings::RegistrationMode::Open;
    }
    expected.assert_eq(&render(&settings, caller, body));
}

/// Settings changed by `configure` and a caller holding an initial access token.
fn check_with(configure: fn(&mut Settings), body: &str, expected: Expect) {
    let mut settings = default_settings();
    configure(&mut settings);
    expected.assert_eq(&render(&settings, &initial_access_token(), body));
}

/// A deployment that enables the implicit grant and its response types.
fn allow_implicit(settings: &mut Settings) {
    settings.grant_types.push(GrantType::Implicit);
    for response_type in ["id_token", "id_token token", "code id_token"] {
        settings.response_types.push(response_type.to_owned());
    }
}

// The application type.

#[test]
fn application_type_is_web_or_native() {
    check(
        r#"{"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"web","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"Web","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: application_type "Web" is not supported; supported: web, native"#
        ]],
    );
    check(
        r#"{"application_type":"desktop","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: application_type "desktop" is not supported; supported: web, native"#
        ]],
    );
}

#[test]
fn validation_reports_the_first_failing_step_in_order() {
    // The application_type step runs before grant_types, which runs before redirect_uris.
    check(
        r#"{"application_type":"desktop","grant_types":["password"],"redirect_uris":["https://a.example/cb#x"]}"#,
        expect![[
            r#"invalid_client_metadata: application_type "desktop" is not supported; supported: web, native"#
        ]],
    );
    check(
        r#"{"grant_types":["password"],"redirect_uris":["https://a.example/cb#x"]}"#,
        expect![[
            r#"invalid_client_metadata: grant_types "password" is not supported; supported: authorization_code, refresh_token, client_credentials"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb#x"],"scope":"admin"}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain a fragment"],
    );
}

// Redirect URIs.

#[test]
fn redirect_uris_must_be_absolute() {
    check(
        r#"{"redirect_uris":["/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] is not an absolute URI (relative URL without a base)"
        ],
    );
    check(
        r#"{"redirect_uris":["cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] is not an absolute URI (relative URL without a base)"
        ],
    );
    check(
        r#"{"redirect_uris":["//a.example/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] is not an absolute URI (relative URL without a base)"
        ],
    );
    check(
        r#"{"redirect_uris":["https://"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] is not an absolute URI (empty host)"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb","/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[1] is not an absolute URI (relative URL without a base)"
        ],
    );
}

#[test]
fn redirect_uris_reject_fragments_userinfo_and_wildcards() {
    check(
        r#"{"redirect_uris":["https://a.example/cb#x"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain a fragment"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb#"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain a fragment"],
    );
    check(
        r#"{"redirect_uris":["https://user@a.example/cb"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain user information"],
    );
    check(
        r#"{"redirect_uris":["https://user:secret@a.example/cb"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain user information"],
    );
    check(
        r#"{"redirect_uris":["https://:secret@a.example/cb"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain user information"],
    );
    check(
        r#"{"redirect_uris":["https://a.example@evil.example/cb"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain user information"],
    );
    check(
        r#"{"redirect_uris":["https://a@b@evil.example/cb"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain user information"],
    );
    check(
        r#"{"redirect_uris":["https://*.a.example/cb"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain a wildcard"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb*"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain a wildcard"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/*"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain a wildcard"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb?next=*"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain a wildcard"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb?state=1"]}"#,
        expect!["ok"],
    );
}

#[test]
fn redirect_uris_reject_script_and_local_schemes_in_any_letter_case() {
    check(
        r#"{"redirect_uris":["javascript:alert(1)"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] uses the forbidden scheme "javascript""#
        ]],
    );
    check(
        r#"{"redirect_uris":["JaVaScRiPt:alert(1)"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] uses the forbidden scheme "javascript""#
        ]],
    );
    check(
        r#"{"redirect_uris":[" javascript:alert(1)"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] uses the forbidden scheme "javascript""#
        ]],
    );
    check(
        r#"{"redirect_uris":["java\tscript:alert(1)"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must not contain control or bidirectional formatting characters"
        ],
    );
    check(
        r#"{"redirect_uris":["VBScript:msgbox(1)"]}"#,
        expect![[r#"invalid_redirect_uri: redirect_uris[0] uses the forbidden scheme "vbscript""#]],
    );
    check(
        r#"{"redirect_uris":["data:text/html,<script>alert(1)</script>"]}"#,
        expect![[r#"invalid_redirect_uri: redirect_uris[0] uses the forbidden scheme "data""#]],
    );
    check(
        r#"{"redirect_uris":["DATA:text/html,x"]}"#,
        expect![[r#"invalid_redirect_uri: redirect_uris[0] uses the forbidden scheme "data""#]],
    );
    check(
        r#"{"redirect_uris":["blob:https://a.example/0b0e6c3a"]}"#,
        expect![[r#"invalid_redirect_uri: redirect_uris[0] uses the forbidden scheme "blob""#]],
    );
    check(
        r#"{"redirect_uris":["file:///etc/passwd"]}"#,
        expect![[r#"invalid_redirect_uri: redirect_uris[0] uses the forbidden scheme "file""#]],
    );
    check(
        r#"{"redirect_uris":["FILE://host/share"]}"#,
        expect![[r#"invalid_redirect_uri: redirect_uris[0] uses the forbidden scheme "file""#]],
    );
    check(
        r#"{"redirect_uris":["about:blank"]}"#,
        expect![[r#"invalid_redirect_uri: redirect_uris[0] uses the forbidden scheme "about""#]],
    );
    check(
        r#"{"redirect_uris":["About:Blank"]}"#,
        expect![[r#"invalid_redirect_uri: redirect_uris[0] uses the forbidden scheme "about""#]],
    );
    // A native client may use private-use schemes, but not these.
    check(
        r#"{"application_type":"native","redirect_uris":["javascript:alert(1)"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] uses the forbidden scheme "javascript""#
        ]],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["data:,x"]}"#,
        expect![[r#"invalid_redirect_uri: redirect_uris[0] uses the forbidden scheme "data""#]],
    );
}

#[test]
fn redirect_uris_must_be_in_canonical_form() {
    check(
        r#"{"redirect_uris":["HTTPS://a.example/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://a.example/cb" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://A.Example/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://a.example/cb" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example:443/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://a.example/cb" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example/a/../b"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://a.example/b" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example/a/./b"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://a.example/a/b" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example/a/%2e%2e/b"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://a.example/b" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb/..;/admin"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain dot segments"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb/.;/admin"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain dot segments"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb/..;jsessionid=1/admin"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain dot segments"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb/%2e%2e;/admin"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain dot segments"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb/.%2E;/admin"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not contain dot segments"],
    );
    check(
        r#"{"redirect_uris":["https://bücher.example/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://xn--bcher-kva.example/cb" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://xn--bcher-kva.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb "]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://a.example/cb" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb\n"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must not contain control or bidirectional formatting characters"
        ],
    );
    check(
        r#"{"redirect_uris":["https://a.example"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://a.example/" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example/c b"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://a.example/c%20b" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https:a.example/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://a.example/cb" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example\\cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://a.example/cb" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://[::FFFF:7F00:1]/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://[::ffff:7f00:1]/cb" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://0x7f.1/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "https://127.0.0.1/cb" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example:8443/cb?x=1&y=2"]}"#,
        expect!["ok"],
    );
    check(r#"{"redirect_uris":["https://a.example/"]}"#, expect!["ok"]);
}

#[test]
fn http_redirect_uris_are_allowed_only_on_loopback_hosts() {
    check(
        r#"{"application_type":"native","redirect_uris":["http://127.0.0.1/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://127.0.0.1:51004/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://[::1]/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://[::1]:8080/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://localhost/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://localhost:3000/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://127.0.0.1:80/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "http://127.0.0.1/cb" instead"#
        ]],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://localhost.evil.test/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must use https; http is allowed only on a loopback host (127.0.0.1, [::1], localhost)"
        ],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://localhost./cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must use https; http is allowed only on a loopback host (127.0.0.1, [::1], localhost)"
        ],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://evil.localhost/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must use https; http is allowed only on a loopback host (127.0.0.1, [::1], localhost)"
        ],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://127.0.0.2/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must use https; http is allowed only on a loopback host (127.0.0.1, [::1], localhost)"
        ],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://0.0.0.0/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must use https; http is allowed only on a loopback host (127.0.0.1, [::1], localhost)"
        ],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://[::ffff:7f00:1]/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must use https; http is allowed only on a loopback host (127.0.0.1, [::1], localhost)"
        ],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://2130706433/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "http://127.0.0.1/cb" instead"#
        ]],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://a.example/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must use https; http is allowed only on a loopback host (127.0.0.1, [::1], localhost)"
        ],
    );
    // Web clients get the loopback exception too, so local development works.
    check(
        r#"{"redirect_uris":["http://127.0.0.1/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"redirect_uris":["http://localhost:3000/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"redirect_uris":["http://[::1]:8080/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"web","redirect_uris":["http://localhost.evil.test/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must use https; http is allowed only on a loopback host (127.0.0.1, [::1], localhost)"
        ],
    );
    check(
        r#"{"redirect_uris":["http://a.example/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must use https; http is allowed only on a loopback host (127.0.0.1, [::1], localhost)"
        ],
    );
}

#[test]
fn native_clients_use_reverse_domain_schemes_or_https() {
    check(
        r#"{"application_type":"native","redirect_uris":["com.example.app:/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["com.example.app://cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["https://app.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["myapp://cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] uses the private-use scheme "myapp", which must be a reversed domain name such as com.example.app (RFC 8252 §7.1)"#
        ]],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["myapp:/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] uses the private-use scheme "myapp", which must be a reversed domain name such as com.example.app (RFC 8252 §7.1)"#
        ]],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["ftp://a.example/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] uses the private-use scheme "ftp", which must be a reversed domain name such as com.example.app (RFC 8252 §7.1)"#
        ]],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["Com.Example.App:/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] is not in canonical form; register "com.example.app:/cb" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["com.example.app:/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] uses the scheme "com.example.app"; web clients must use https, private-use schemes need application_type native"#
        ]],
    );
    check(
        r#"{"redirect_uris":["myapp://cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[0] uses the scheme "myapp"; web clients must use https, private-use schemes need application_type native"#
        ]],
    );
}

#[test]
fn implicit_clients_need_https_off_loopback() {
    check(
        r#"{"grant_types":["implicit"],"response_types":["id_token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: grant_types "implicit" is not supported; supported: authorization_code, refresh_token, client_credentials"#
        ]],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["implicit"],"response_types":["id_token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["implicit"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["implicit"],"response_types":["id_token"],"redirect_uris":["https://localhost/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must not use a loopback host with the implicit grant"
        ],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["implicit"],"response_types":["id_token"],"redirect_uris":["https://127.0.0.1:8443/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must not use a loopback host with the implicit grant"
        ],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["implicit"],"response_types":["id_token"],"redirect_uris":["https://[::1]/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must not use a loopback host with the implicit grant"
        ],
    );
    check_with(
        allow_implicit,
        r#"{"application_type":"native","grant_types":["implicit"],"response_types":["id_token"],"redirect_uris":["http://127.0.0.1/cb"]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must use https with the implicit grant"],
    );
    check_with(
        allow_implicit,
        r#"{"application_type":"native","grant_types":["implicit"],"response_types":["id_token"],"redirect_uris":["com.example.app:/cb"]}"#,
        expect!["ok"],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["authorization_code","implicit"],"response_types":["code id_token"],"redirect_uris":["https://a.example/cb","https://localhost/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[1] must not use a loopback host with the implicit grant"
        ],
    );
    // Without implicit, https on loopback is a web client's local development server.
    check(
        r#"{"redirect_uris":["https://localhost/cb"]}"#,
        expect!["ok"],
    );
    // A native client's loopback redirect is http (RFC 8252 §7.3); https there is a mistake.
    for uri in [
        "https://localhost/cb",
        "https://127.0.0.1:8443/cb",
        "https://[::1]/cb",
    ] {
        check(
            &format!(r#"{{"application_type":"native","redirect_uris":["{uri}"]}}"#),
            expect![
                "invalid_redirect_uri: redirect_uris[0] must use http on a loopback host for a native client (RFC 8252 §7.3), not https"
            ],
        );
    }
    check(
        r#"{"application_type":"native","redirect_uris":["https://app.example/cb"]}"#,
        expect!["ok"],
    );
    // Logout redirects never carry tokens, so the implicit rules do not apply to them.
    check_with(
        allow_implicit,
        r#"{"grant_types":["implicit"],"response_types":["id_token"],"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["https://localhost/bye"]}"#,
        expect!["ok"],
    );
}

#[test]
fn redirect_uris_are_required_exactly_when_a_grant_redirects() {
    check(
        r#"{}"#,
        expect![
            "invalid_redirect_uri: redirect_uris is required for the authorization_code and implicit grants"
        ],
    );
    check(
        r#"{"redirect_uris":[]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris is required for the authorization_code and implicit grants"
        ],
    );
    check(
        r#"{"grant_types":["authorization_code"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris is required for the authorization_code and implicit grants"
        ],
    );
    check(
        r#"{"grant_types":["authorization_code","refresh_token"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris is required for the authorization_code and implicit grants"
        ],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["implicit"],"response_types":["id_token"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris is required for the authorization_code and implicit grants"
        ],
    );
    check(r#"{"grant_types":["client_credentials"]}"#, expect!["ok"]);
    check(
        r#"{"grant_types":["client_credentials"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris must be omitted when no grant type uses redirects"
        ],
    );
    check(
        r#"{"grant_types":["client_credentials","authorization_code"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"grant_types":["client_credentials","authorization_code"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris is required for the authorization_code and implicit grants"
        ],
    );
}

#[test]
fn redirect_uris_must_not_repeat() {
    check(
        r#"{"redirect_uris":["https://a.example/cb","https://a.example/cb"]}"#,
        expect![[r#"invalid_redirect_uri: redirect_uris[1] repeats "https://a.example/cb""#]],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb","https://a.example/other","https://a.example/cb"]}"#,
        expect![[r#"invalid_redirect_uri: redirect_uris[2] repeats "https://a.example/cb""#]],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb","https://a.example/cb/"]}"#,
        expect!["ok"],
    );
    // Spelled differently, the same address is caught by the canonical form rule instead.
    check(
        r#"{"redirect_uris":["https://a.example/cb","https://A.example/cb"]}"#,
        expect![[
            r#"invalid_redirect_uri: redirect_uris[1] is not in canonical form; register "https://a.example/cb" instead"#
        ]],
    );
}

#[test]
fn post_logout_redirect_uris_follow_the_redirect_uri_rules() {
    check(
        r#"{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["https://a.example/bye"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["https://a.example/bye#x"]}"#,
        expect!["invalid_redirect_uri: post_logout_redirect_uris[0] must not contain a fragment"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["https://a.example/bye#"]}"#,
        expect!["invalid_redirect_uri: post_logout_redirect_uris[0] must not contain a fragment"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["JavaScript:alert(1)"]}"#,
        expect![[
            r#"invalid_redirect_uri: post_logout_redirect_uris[0] uses the forbidden scheme "javascript""#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["https://user@a.example/bye"]}"#,
        expect![
            "invalid_redirect_uri: post_logout_redirect_uris[0] must not contain user information"
        ],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["https://*.a.example/bye"]}"#,
        expect!["invalid_redirect_uri: post_logout_redirect_uris[0] must not contain a wildcard"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["https://a.example/x/../bye"]}"#,
        expect![[
            r#"invalid_redirect_uri: post_logout_redirect_uris[0] is not in canonical form; register "https://a.example/bye" instead"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["/bye"]}"#,
        expect![
            "invalid_redirect_uri: post_logout_redirect_uris[0] is not an absolute URI (relative URL without a base)"
        ],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["http://a.example/bye"]}"#,
        expect![
            "invalid_redirect_uri: post_logout_redirect_uris[0] must use https; http is allowed only on a loopback host (127.0.0.1, [::1], localhost)"
        ],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["http://127.0.0.1/bye"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["http://127.0.0.1/cb"],"post_logout_redirect_uris":["http://127.0.0.1:9000/bye"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"application_type":"native","redirect_uris":["com.example.app:/cb"],"post_logout_redirect_uris":["com.example.app:/bye"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["com.example.app:/bye"]}"#,
        expect![[
            r#"invalid_redirect_uri: post_logout_redirect_uris[0] uses the scheme "com.example.app"; web clients must use https, private-use schemes need application_type native"#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["https://a.example/bye","https://a.example/bye"]}"#,
        expect![[
            r#"invalid_redirect_uri: post_logout_redirect_uris[1] repeats "https://a.example/bye""#
        ]],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["https://a.example/bye","https://a.example"]}"#,
        expect![[
            r#"invalid_redirect_uri: post_logout_redirect_uris[1] is not in canonical form; register "https://a.example/" instead"#
        ]],
    );
}

// Grant types.

#[test]
fn grant_types_default_to_authorization_code() {
    check(
        r#"{"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"grant_types":[],"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: grant_types must not be empty; omit it for the default authorization_code"
        ],
    );
    check(
        r#"{"grant_types":["authorization_code"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"grant_types":["authorization_code","refresh_token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"grant_types":["authorization_code","refresh_token","client_credentials"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
}

#[test]
fn grant_types_reject_unsupported_and_repeated_values() {
    check(
        r#"{"grant_types":["password"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: grant_types "password" is not supported; supported: authorization_code, refresh_token, client_credentials"#
        ]],
    );
    check(
        r#"{"grant_types":["authorization_code","implicit"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: grant_types "implicit" is not supported; supported: authorization_code, refresh_token, client_credentials"#
        ]],
    );
    check(
        r#"{"grant_types":["urn:ietf:params:oauth:grant-type:device_code"]}"#,
        expect![[
            r#"invalid_client_metadata: grant_types "urn:ietf:params:oauth:grant-type:device_code" is not supported; supported: authorization_code, refresh_token, client_credentials"#
        ]],
    );
    check(
        r#"{"grant_types":["Authorization_Code"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: grant_types "Authorization_Code" is not supported; supported: authorization_code, refresh_token, client_credentials"#
        ]],
    );
    check(
        r#"{"grant_types":["authorization_code","authorization_code"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: grant_types[1] repeats "authorization_code""#]],
    );
    check(
        r#"{"grant_types":["client_credentials","refresh_token","client_credentials"]}"#,
        expect![[r#"invalid_client_metadata: grant_types[2] repeats "client_credentials""#]],
    );
}

#[test]
fn refresh_token_needs_authorization_code() {
    check(
        r#"{"grant_types":["refresh_token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: grant_types: refresh_token needs authorization_code, the grant that issues refresh tokens"
        ],
    );
    check(
        r#"{"grant_types":["client_credentials","refresh_token"]}"#,
        expect![
            "invalid_client_metadata: grant_types: refresh_token needs authorization_code, the grant that issues refresh tokens"
        ],
    );
    check(
        r#"{"grant_types":["refresh_token","authorization_code"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
}

#[test]
fn open_registration_cannot_obtain_client_credentials() {
    check(r#"{"grant_types":["client_credentials"]}"#, expect!["ok"]);
    check_as(
        &Caller::Anonymous,
        r#"{"grant_types":["client_credentials"]}"#,
        expect![
            "invalid_client_metadata: policy 'open' does not allow the client_credentials grant"
        ],
    );
    check_as(
        &Caller::Anonymous,
        r#"{"grant_types":["authorization_code","client_credentials"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: policy 'open' does not allow the client_credentials grant"
        ],
    );
    check_as(
        &Caller::Anonymous,
        r#"{"grant_types":["authorization_code","refresh_token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
}

// Response types.

#[test]
fn response_types_default_from_the_grant_types() {
    check(
        r#"{"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"response_types":["code"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"response_types":[],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(r#"{"grant_types":["client_credentials"]}"#, expect!["ok"]);
    check(
        r#"{"grant_types":["client_credentials"],"response_types":[]}"#,
        expect!["ok"],
    );
}

#[test]
fn response_types_reject_unsupported_and_repeated_values() {
    check(
        r#"{"response_types":["token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: response_types "token" is not supported; supported: code"#
        ]],
    );
    check(
        r#"{"response_types":["id_token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: response_types "id_token" is not supported; supported: code"#
        ]],
    );
    check(
        r#"{"response_types":["Code"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: response_types "Code" is not supported; supported: code"#
        ]],
    );
    check(
        r#"{"response_types":["code","code"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: response_types[1] repeats "code""#]],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["implicit"],"response_types":["token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: response_types "token" is not supported; supported: code, id_token, id_token token, code id_token"#
        ]],
    );
}

#[test]
fn response_types_and_grant_types_must_agree() {
    check(
        r#"{"grant_types":["client_credentials"],"response_types":["code"]}"#,
        expect![
            "invalid_client_metadata: response_types and grant_types disagree: the response type code goes with the grant type authorization_code (RFC 7591 §2.1)"
        ],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["authorization_code"],"response_types":["code id_token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: response_types and grant_types disagree: the response types token and id_token go with the grant type implicit (RFC 7591 §2.1)"
        ],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["authorization_code","implicit"],"response_types":["id_token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: response_types and grant_types disagree: the response type code goes with the grant type authorization_code (RFC 7591 §2.1)"
        ],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["implicit"],"response_types":["code id_token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: response_types and grant_types disagree: the response type code goes with the grant type authorization_code (RFC 7591 §2.1)"
        ],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["authorization_code","implicit"],"response_types":["code"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: response_types and grant_types disagree: the response types token and id_token go with the grant type implicit (RFC 7591 §2.1)"
        ],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["authorization_code"],"response_types":["code","id_token token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: response_types and grant_types disagree: the response types token and id_token go with the grant type implicit (RFC 7591 §2.1)"
        ],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["authorization_code","implicit"],"response_types":["code","id_token token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check_with(
        allow_implicit,
        r#"{"grant_types":["authorization_code","implicit"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
}

// The token endpoint auth method.

#[test]
fn token_endpoint_auth_method_is_one_of_the_supported_set() {
    check(
        r#"{"token_endpoint_auth_method":"client_secret_basic","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"token_endpoint_auth_method":"client_secret_post","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://a.example/jwks","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"token_endpoint_auth_method":"none","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"token_endpoint_auth_method":"tls_client_auth","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: token_endpoint_auth_method "tls_client_auth" is not supported; supported: client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none"#
        ]],
    );
    check(
        r#"{"token_endpoint_auth_method":"Client_Secret_Basic","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: token_endpoint_auth_method "Client_Secret_Basic" is not supported; supported: client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none"#
        ]],
    );
    check(
        r#"{"token_endpoint_auth_method":"client_secret_jwt","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check_with(
        |settings| {
            settings
                .token_endpoint_auth_methods
                .retain(|method| *method != AuthMethod::ClientSecretJwt)
        },
        r#"{"token_endpoint_auth_method":"client_secret_jwt","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: token_endpoint_auth_method "client_secret_jwt" is not supported; supported: client_secret_basic, client_secret_post, private_key_jwt, none"#
        ]],
    );
    check_with(
        |settings| {
            settings
                .token_endpoint_auth_methods
                .retain(|method| *method != AuthMethod::None)
        },
        r#"{"token_endpoint_auth_method":"none","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: token_endpoint_auth_method "none" is not supported; supported: client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt"#
        ]],
    );
}

#[test]
fn public_clients_cannot_use_client_credentials() {
    check(
        r#"{"token_endpoint_auth_method":"none","grant_types":["client_credentials"]}"#,
        expect![
            "invalid_client_metadata: token_endpoint_auth_method none is for public clients, which cannot use the client_credentials grant"
        ],
    );
    check(
        r#"{"token_endpoint_auth_method":"none","grant_types":["authorization_code","client_credentials"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: token_endpoint_auth_method none is for public clients, which cannot use the client_credentials grant"
        ],
    );
    check(
        r#"{"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"token_endpoint_auth_method":"client_secret_basic","grant_types":["client_credentials"]}"#,
        expect!["ok"],
    );
}

#[test]
fn private_key_jwt_needs_keys() {
    check(
        r#"{"token_endpoint_auth_method":"private_key_jwt","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: token_endpoint_auth_method private_key_jwt needs jwks or jwks_uri"
        ],
    );
    check(
        r#"{"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://a.example/jwks","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQAB"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"token_endpoint_auth_method":"private_key_jwt","grant_types":["client_credentials"],"jwks_uri":"https://a.example/jwks"}"#,
        expect!["ok"],
    );
}

#[test]
fn token_endpoint_auth_signing_alg_fits_the_auth_method() {
    check(
        r#"{"token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"RS256","jwks_uri":"https://a.example/jwks","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"ES256","jwks_uri":"https://a.example/jwks","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"EdDSA","jwks_uri":"https://a.example/jwks","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"HS256","jwks_uri":"https://a.example/jwks","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: token_endpoint_auth_signing_alg "HS256" is not supported; supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA"#
        ]],
    );
    check(
        r#"{"token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"none","jwks_uri":"https://a.example/jwks","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: token_endpoint_auth_signing_alg "none" is not supported; supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA"#
        ]],
    );
    check(
        r#"{"token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"rs256","jwks_uri":"https://a.example/jwks","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: token_endpoint_auth_signing_alg "rs256" is not supported; supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA"#
        ]],
    );
    check(
        r#"{"token_endpoint_auth_signing_alg":"RS256","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: token_endpoint_auth_signing_alg applies only to private_key_jwt and client_secret_jwt, not client_secret_basic"
        ],
    );
    check(
        r#"{"token_endpoint_auth_method":"client_secret_basic","token_endpoint_auth_signing_alg":"HS256","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: token_endpoint_auth_signing_alg applies only to private_key_jwt and client_secret_jwt, not client_secret_basic"
        ],
    );
    check(
        r#"{"token_endpoint_auth_method":"client_secret_post","token_endpoint_auth_signing_alg":"RS256","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: token_endpoint_auth_signing_alg applies only to private_key_jwt and client_secret_jwt, not client_secret_post"
        ],
    );
    check(
        r#"{"token_endpoint_auth_method":"none","token_endpoint_auth_signing_alg":"none","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: token_endpoint_auth_signing_alg applies only to private_key_jwt and client_secret_jwt, not none"
        ],
    );
}

#[test]
fn client_secret_jwt_signs_with_hmac_only() {
    let body = |alg: &str| {
        format!(
            r#"{{"token_endpoint_auth_method":"client_secret_jwt","token_endpoint_auth_signing_alg":"{alg}","redirect_uris":["https://a.example/cb"]}}"#
        )
    };
    let with_client_secret_jwt = |settings: &mut Settings| {
        settings
            .token_endpoint_auth_methods
            .push(AuthMethod::ClientSecretJwt);
    };
    check_with(with_client_secret_jwt, &body("HS256"), expect!["ok"]);
    check_with(with_client_secret_jwt, &body("HS384"), expect!["ok"]);
    check_with(with_client_secret_jwt, &body("HS512"), expect!["ok"]);
    check_with(
        with_client_secret_jwt,
        &body("RS256"),
        expect![[
            r#"invalid_client_metadata: token_endpoint_auth_signing_alg "RS256" does not fit client_secret_jwt; use HS256, HS384 or HS512"#
        ]],
    );
    check_with(
        with_client_secret_jwt,
        &body("ES256"),
        expect![[
            r#"invalid_client_metadata: token_endpoint_auth_signing_alg "ES256" does not fit client_secret_jwt; use HS256, HS384 or HS512"#
        ]],
    );
    check_with(
        with_client_secret_jwt,
        &body("none"),
        expect![[
            r#"invalid_client_metadata: token_endpoint_auth_signing_alg "none" does not fit client_secret_jwt; use HS256, HS384 or HS512"#
        ]],
    );
    check_with(
        with_client_secret_jwt,
        &body("hs256"),
        expect![[
            r#"invalid_client_metadata: token_endpoint_auth_signing_alg "hs256" does not fit client_secret_jwt; use HS256, HS384 or HS512"#
        ]],
    );
}

// Client keys.

#[test]
fn jwks_and_jwks_uri_are_exclusive() {
    check(
        r#"{"jwks_uri":"https://a.example/jwks","jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQAB"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: jwks and jwks_uri must not both be present"],
    );
    check(
        r#"{"jwks_uri":"https://a.example/jwks","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQAB"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
}

#[test]
fn jwks_must_be_a_non_empty_key_set() {
    check(
        r#"{"jwks":{},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: jwks must be a JWK Set with a "keys" array"#]],
    );
    check(
        r#"{"jwks":{"keys":{}},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: jwks must be a JWK Set with a "keys" array"#]],
    );
    check(
        r#"{"jwks":{"keys":null},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: jwks must be a JWK Set with a "keys" array"#]],
    );
    check(
        r#"{"jwks":{"keys":[]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: jwks must hold at least one key"],
    );
    check(
        r#"{"jwks":{"keys":["RSA_2048_N"]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: jwks.keys[0] must be a JSON object"],
    );
    let key_set = |count: usize| {
        let key =
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        let keys = vec![key; count].join(",");
        format!(r#"{{"jwks":{{"keys":[{keys}]}},"redirect_uris":["https://a.example/cb"]}}"#)
    };
    check(&key_set(32), expect!["ok"]);
    check(
        &key_set(33),
        expect!["invalid_client_metadata: jwks must hold at most 32 keys"],
    );
}

#[test]
fn jwks_rejects_private_and_symmetric_keys() {
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQAB","d":"X4cTteJY"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: jwks.keys[0] contains the private member "d"; register public keys only"#
        ]],
    );
    let outcomes: Vec<String> = ["p", "q", "dp", "dq", "qi"]
        .iter()
        .map(|member| {
            let body = format!(
                r#"{{"jwks":{{"keys":[{{"kty":"RSA","n":"RSA_2048_N","e":"AQAB","{member}":"AQAB"}}]}},"redirect_uris":["https://a.example/cb"]}}"#
            );
            render(&default_settings(), &initial_access_token(), &body)
        })
        .collect();
    expect![[r#"
        invalid_client_metadata: jwks.keys[0] contains the private member "p"; register public keys only
        invalid_client_metadata: jwks.keys[0] contains the private member "q"; register public keys only
        invalid_client_metadata: jwks.keys[0] contains the private member "dp"; register public keys only
        invalid_client_metadata: jwks.keys[0] contains the private member "dq"; register public keys only
        invalid_client_metadata: jwks.keys[0] contains the private member "qi"; register public keys only"#]].assert_eq(&outcomes.join("\n"));
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQAB","oth":[]}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: jwks.keys[0] contains the private member "oth"; register public keys only"#
        ]],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","d":"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: jwks.keys[0] contains the private member "d"; register public keys only"#
        ]],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: jwks.keys[0] contains the private member "d"; register public keys only"#
        ]],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"oct","k":"GawgguFyGrWKav7AX4VKUg"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: jwks.keys[0] contains the private member "k"; register public keys only"#
        ]],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"oct"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: jwks.keys[0] is a symmetric (oct) key; register public keys only"
        ],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQAB"},{"kty":"oct","k":"GawgguFyGrWKav7AX4VKUg"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: jwks.keys[1] contains the private member "k"; register public keys only"#
        ]],
    );
}

#[test]
fn jwks_keys_need_the_members_of_their_type() {
    check(
        r#"{"jwks":{"keys":[{"n":"RSA_2048_N","e":"AQAB"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: jwks.keys[0] lacks the member "kty""#]],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":1}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: jwks.keys[0].kty must be a string"],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"rsa","n":"RSA_2048_N","e":"AQAB"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: jwks.keys[0].kty "rsa" is not supported; use RSA, EC or OKP"#
        ]],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"DSA"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: jwks.keys[0].kty "DSA" is not supported; use RSA, EC or OKP"#
        ]],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","e":"AQAB"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: jwks.keys[0] lacks the member "n""#]],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: jwks.keys[0] lacks the member "e""#]],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":""}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: jwks.keys[0].e must be a base64url string"],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQAB="}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: jwks.keys[0].e must be a base64url string"],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQABA"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: jwks.keys[0].e must be a base64url string"],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQ+B"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: jwks.keys[0].e must be a base64url string"],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":65537}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: jwks.keys[0].e must be a base64url string"],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"EC","crv":"P-256","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: jwks.keys[0] lacks the member "x""#]],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: jwks.keys[0] lacks the member "y""#]],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"OKP","crv":"Ed25519"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: jwks.keys[0] lacks the member "x""#]],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","kid":"ec-1","use":"sig","alg":"ES256"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
}

/// Real public keys, one per type, for the key rules.
const P256_X: &str = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
const P256_Y: &str = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";
const P384_X: &str = "4_7zgHrr0300n4CYR3CBhW6BP0VWJ1KjnxjJJFAIUgc-3P1P9yMf1eCIvjCNEe0k";
const P384_Y: &str = "Ar9a5rXbuAFyBUzazLhGoHk8WE76cG87ZfssXzNX2qE7PZVJip7otfbZ156ntgaA";
const P521_X: &str =
    "AFv1NDx4S38_Rb0oRdGS-LlvosUnr0H6GG5fSPQuJgMX9SKltj4OGvHyIoMhmiDH2-g1MQq0aRmOJnTKCX3Sf2-7";
const P521_Y: &str =
    "ANBb7Z6CFCTD1qTiqkekhhiawseYZ57bIArSLi2f0WLsCODmJheD0qiS4XwIEnFdsQWALLY3za3WlxobIKVNIuOA";
const ED25519_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn ec_key(curve: &str, x: &str, y: &str) -> serde_json::Value {
    serde_json::json!({ "kty": "EC", "crv": curve, "x": x, "y": y })
}

fn okp_key(curve: &str) -> serde_json::Value {
    serde_json::json!({ "kty": "OKP", "crv": curve, "x": ED25519_X })
}

/// An RSA key whose modulus has `bits` bits: its value does not matter to the rules.
fn rsa_key(bits: usize) -> serde_json::Value {
    let mut modulus = vec![0xc5_u8; bits.div_ceil(8)];
    modulus[0] = 0xff >> ((8 - bits % 8) % 8);
    serde_json::json!({ "kty": "RSA", "n": crate::token::jwt::base64url(&modulus), "e": "AQAB" })
}

/// `key` with `patch` merged over it; `null` removes a member.
fn with(key: &serde_json::Value, patch: serde_json::Value) -> serde_json::Value {
    let mut key = key.clone();
    if let (Some(key), serde_json::Value::Object(patch)) = (key.as_object_mut(), patch) {
        for (member, value) in patch {
            match value {
                serde_json::Value::Null => key.remove(&member),
                value => key.insert(member, value),
            };
        }
    }
    key
}

/// A registration with `keys` as its `jwks` and `extra` members.
fn keys_body(keys: &[serde_json::Value], extra: serde_json::Value) -> String {
    let mut body = serde_json::json!({
        "jwks": { "keys": keys },
        "redirect_uris": ["https://a.example/cb"],
    });
    if let (Some(body), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body.to_string()
}

fn check_keys(keys: &[serde_json::Value], expected: Expect) {
    check(&keys_body(keys, serde_json::json!({})), expected);
}

#[test]
fn jwks_signature_keys_are_on_curves_the_verifier_supports() {
    check_keys(&[ec_key("P-256", P256_X, P256_Y)], expect!["ok"]);
    check_keys(&[ec_key("P-384", P384_X, P384_Y)], expect!["ok"]);
    check_keys(&[okp_key("Ed25519")], expect!["ok"]);
    // ES512 is not supported, so a P-521 key never verifies.
    check_keys(
        &[ec_key("P-521", P521_X, P521_Y)],
        expect![
            "invalid_client_metadata: jwks.keys[0] is an EC key on P-521, which never verifies here: this server verifies EC signatures on P-256 (ES256) and P-384 (ES384); mark a key for encryption with use 'enc'"
        ],
    );
    check_keys(
        &[ec_key("P-384", P256_X, P256_Y)],
        expect![
            "invalid_client_metadata: jwks.keys[0] never verifies a signature: an EC coordinate has the wrong length"
        ],
    );
    check_keys(
        &[okp_key("Ed448")],
        expect![
            "invalid_client_metadata: jwks.keys[0] is an OKP key on Ed448, not a curve this server verifies with: this server verifies OKP signatures on Ed25519 (EdDSA); mark a key for encryption with use 'enc'"
        ],
    );
    check_keys(
        &[okp_key("X25519")],
        expect![
            "invalid_client_metadata: jwks.keys[0] is an OKP key on X25519, a key agreement curve, not a signature one: this server verifies OKP signatures on Ed25519 (EdDSA); mark a key for encryption with use 'enc'"
        ],
    );
    check_keys(
        &[okp_key("X448")],
        expect![
            "invalid_client_metadata: jwks.keys[0] is an OKP key on X448, a key agreement curve, not a signature one: this server verifies OKP signatures on Ed25519 (EdDSA); mark a key for encryption with use 'enc'"
        ],
    );
    // The refusal names the key that never verifies, not the first one.
    check_keys(
        &[
            okp_key("Ed25519"),
            with(&okp_key("Ed448"), serde_json::json!({ "use": "sig" })),
        ],
        expect![
            "invalid_client_metadata: jwks.keys[1] is an OKP key on Ed448, not a curve this server verifies with: this server verifies OKP signatures on Ed25519 (EdDSA); mark a key for encryption with use 'enc'"
        ],
    );
    // Curves no key may have, whatever its use.
    check_keys(
        &[ec_key("secp256k1", P256_X, P256_Y)],
        expect!["invalid_client_metadata: jwks.keys[0].crv must be P-256, P-384 or P-521"],
    );
    check_keys(
        &[ec_key("p-256", P256_X, P256_Y)],
        expect!["invalid_client_metadata: jwks.keys[0].crv must be P-256, P-384 or P-521"],
    );
    check_keys(
        &[ec_key("Ed25519", P256_X, P256_Y)],
        expect!["invalid_client_metadata: jwks.keys[0].crv must be P-256, P-384 or P-521"],
    );
    check_keys(
        &[with(
            &ec_key("P-256", P256_X, P256_Y),
            serde_json::json!({ "crv": 256 }),
        )],
        expect!["invalid_client_metadata: jwks.keys[0].crv must be a string"],
    );
    check_keys(
        &[okp_key("P-256")],
        expect!["invalid_client_metadata: jwks.keys[0].crv must be Ed25519, Ed448, X25519 or X448"],
    );
    check_keys(
        &[okp_key("ed25519")],
        expect!["invalid_client_metadata: jwks.keys[0].crv must be Ed25519, Ed448, X25519 or X448"],
    );
    // An Ed25519 key of the wrong size would make jsonwebtoken slice out of bounds.
    check_keys(
        &[with(
            &okp_key("Ed25519"),
            serde_json::json!({ "x": "AAAA" }),
        )],
        expect![
            "invalid_client_metadata: jwks.keys[0] never verifies a signature: an Ed25519 key has 32 bytes"
        ],
    );
}

#[test]
fn jwks_rsa_signature_keys_have_2048_to_4096_bits() {
    let rsa = |modulus: &str| {
        format!(
            r#"{{"jwks":{{"keys":[{{"kty":"RSA","n":"{modulus}","e":"AQAB"}}]}},"redirect_uris":["https://a.example/cb"]}}"#
        )
    };
    check(&rsa(RSA_2048_N), expect!["ok"]);
    // One byte short of 256.
    check(
        &rsa(&RSA_2048_N[..340]),
        expect!["invalid_client_metadata: jwks.keys[0] is an RSA key shorter than 2048 bits"],
    );
    // A 1024-bit modulus.
    check(
        &rsa(&RSA_2048_N[..171]),
        expect!["invalid_client_metadata: jwks.keys[0] is an RSA key shorter than 2048 bits"],
    );
    check_keys(&[rsa_key(2048)], expect!["ok"]);
    check_keys(&[rsa_key(3072)], expect!["ok"]);
    check_keys(&[rsa_key(4096)], expect!["ok"]);
    check_keys(
        &[rsa_key(2047)],
        expect![
            "invalid_client_metadata: jwks.keys[0] is an RSA key of 2047 bits, which never verifies here: this server verifies RSA signatures with keys of 2048 to 4096 bits"
        ],
    );
    check_keys(
        &[rsa_key(4097)],
        expect![
            "invalid_client_metadata: jwks.keys[0] is an RSA key of 4097 bits, which never verifies here: this server verifies RSA signatures with keys of 2048 to 4096 bits"
        ],
    );
    check_keys(
        &[rsa_key(8192)],
        expect![
            "invalid_client_metadata: jwks.keys[0] is an RSA key of 8192 bits, which never verifies here: this server verifies RSA signatures with keys of 2048 to 4096 bits"
        ],
    );
    check_keys(
        &[with(
            &rsa_key(2048),
            serde_json::json!({ "e": "AQABAQABAQAB" }),
        )],
        expect![
            "invalid_client_metadata: jwks.keys[0] never verifies a signature: the RSA exponent is out of range"
        ],
    );
}

#[test]
fn jwks_key_alg_fits_the_key_and_the_server() {
    let p256 = ec_key("P-256", P256_X, P256_Y);
    check_keys(
        &[with(&p256, serde_json::json!({ "alg": "ES256" }))],
        expect!["ok"],
    );
    check_keys(
        &[with(&rsa_key(2048), serde_json::json!({ "alg": "PS512" }))],
        expect!["ok"],
    );
    check_keys(
        &[with(&p256, serde_json::json!({ "alg": "ES384" }))],
        expect![
            "invalid_client_metadata: jwks.keys[0].alg 'ES384' never verifies here: this key verifies ES256; mark a key for encryption with use 'enc'"
        ],
    );
    check_keys(
        &[with(&p256, serde_json::json!({ "alg": "HS256" }))],
        expect![
            "invalid_client_metadata: jwks.keys[0].alg 'HS256' never verifies here: this key verifies ES256; mark a key for encryption with use 'enc'"
        ],
    );
    check_keys(
        &[with(
            &rsa_key(2048),
            serde_json::json!({ "alg": "RSA-OAEP" }),
        )],
        expect![
            "invalid_client_metadata: jwks.keys[0].alg 'RSA-OAEP' never verifies here: this key verifies RS256, RS384, RS512, PS256, PS384, PS512; mark a key for encryption with use 'enc'"
        ],
    );
    // The server's configured algorithms count, not every one the verifier knows.
    check_with(
        |settings| settings.asymmetric_signing_algs = vec!["ES256".to_owned()],
        &keys_body(&[rsa_key(2048)], serde_json::json!({})),
        expect![
            "invalid_client_metadata: jwks.keys[0] fits none of the algorithms this server verifies (ES256); mark a key for encryption with use 'enc'"
        ],
    );
    check_with(
        |settings| settings.asymmetric_signing_algs = vec!["ES256".to_owned()],
        &keys_body(
            &[with(
                &okp_key("Ed25519"),
                serde_json::json!({ "alg": "EdDSA" }),
            )],
            serde_json::json!({}),
        ),
        expect![
            "invalid_client_metadata: jwks.keys[0].alg 'EdDSA' never verifies here: this server verifies no algorithm with this key; mark a key for encryption with use 'enc'"
        ],
    );
}

#[test]
fn jwks_encryption_keys_are_checked_for_form_only() {
    for key in [
        ec_key("P-521", P521_X, P521_Y),
        okp_key("X25519"),
        okp_key("X448"),
        okp_key("Ed448"),
        rsa_key(8192),
        with(&rsa_key(2048), serde_json::json!({ "alg": "RSA-OAEP" })),
    ] {
        check_keys(
            &[with(&key, serde_json::json!({ "use": "enc" }))],
            expect!["ok"],
        );
        check_keys(
            &[with(
                &key,
                serde_json::json!({ "key_ops": ["encrypt", "wrapKey"] }),
            )],
            expect!["ok"],
        );
    }
    check_keys(
        &[with(
            &okp_key("X25519"),
            serde_json::json!({ "key_ops": ["verify"] }),
        )],
        expect![
            "invalid_client_metadata: jwks.keys[0] is an OKP key on X25519, a key agreement curve, not a signature one: this server verifies OKP signatures on Ed25519 (EdDSA); mark a key for encryption with use 'enc'"
        ],
    );
    check_keys(
        &[with(
            &okp_key("Ed25519"),
            serde_json::json!({ "key_ops": "verify" }),
        )],
        expect!["invalid_client_metadata: jwks.keys[0].key_ops must be an array of strings"],
    );
    check_keys(
        &[with(
            &okp_key("Ed25519"),
            serde_json::json!({ "key_ops": ["verify", 1] }),
        )],
        expect!["invalid_client_metadata: jwks.keys[0].key_ops must be an array of strings"],
    );
    // The form is still checked.
    check_keys(
        &[with(
            &okp_key("X25519"),
            serde_json::json!({ "use": "enc", "d": "AAAA" }),
        )],
        expect![[
            r#"invalid_client_metadata: jwks.keys[0] contains the private member "d"; register public keys only"#
        ]],
    );
}

#[test]
fn private_key_jwt_jwks_holds_a_key_that_verifies_its_assertions() {
    let private_key_jwt = || serde_json::json!({ "token_endpoint_auth_method": "private_key_jwt" });
    let p256 = ec_key("P-256", P256_X, P256_Y);
    check(
        &keys_body(std::slice::from_ref(&p256), private_key_jwt()),
        expect!["ok"],
    );
    check(
        &keys_body(
            &[
                with(&p256, serde_json::json!({ "use": "enc" })),
                with(
                    &okp_key("Ed25519"),
                    serde_json::json!({ "key_ops": ["encrypt"] }),
                ),
            ],
            private_key_jwt(),
        ),
        expect![
            "invalid_client_metadata: jwks holds no key to verify private_key_jwt assertions with: every key is marked for encryption (use 'enc', or key_ops without 'verify')"
        ],
    );
    // Another method may register encryption keys alone.
    check(
        &keys_body(
            &[with(&p256, serde_json::json!({ "use": "enc" }))],
            serde_json::json!({}),
        ),
        expect!["ok"],
    );
    let mut with_alg = private_key_jwt();
    with_alg["token_endpoint_auth_signing_alg"] = serde_json::json!("EdDSA");
    check(
        &keys_body(&[p256.clone(), rsa_key(2048)], with_alg.clone()),
        expect![
            "invalid_client_metadata: jwks holds no key that verifies the token_endpoint_auth_signing_alg 'EdDSA'"
        ],
    );
    check(
        &keys_body(&[p256, okp_key("Ed25519")], with_alg),
        expect!["ok"],
    );
}

#[test]
fn jwks_key_ids_are_unique() {
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQAB","kid":"one"},{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"two"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQAB","kid":"one"},{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"one"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: jwks.keys[1] repeats the kid "one""#]],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQAB"},{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQAB","kid":1}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: jwks.keys[0].kid must be a string"],
    );
    check(
        r#"{"jwks":{"keys":[{"kty":"RSA","n":"RSA_2048_N","e":"AQAB","alg":["RS256"]}]},"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: jwks.keys[0].alg must be a string"],
    );
}

#[test]
fn jwks_key_use_is_sig_or_enc() {
    let with_use = |key_use: &str| {
        format!(
            r#"{{"jwks":{{"keys":[{{"kty":"RSA","n":"RSA_2048_N","e":"AQAB","use":{key_use}}}]}},"redirect_uris":["https://a.example/cb"]}}"#
        )
    };
    check(&with_use(r#""sig""#), expect!["ok"]);
    check(&with_use(r#""enc""#), expect!["ok"]);
    check(
        &with_use(r#""SIG""#),
        expect![[r#"invalid_client_metadata: jwks.keys[0].use must be "sig" or "enc""#]],
    );
    check(
        &with_use(r#""signature""#),
        expect![[r#"invalid_client_metadata: jwks.keys[0].use must be "sig" or "enc""#]],
    );
    check(
        &with_use(r#""""#),
        expect![[r#"invalid_client_metadata: jwks.keys[0].use must be "sig" or "enc""#]],
    );
    check(
        &with_use("true"),
        expect!["invalid_client_metadata: jwks.keys[0].use must be a string"],
    );
}

// Scope.

#[test]
fn scope_values_come_from_the_allow_list() {
    check(
        r#"{"scope":"openid","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"scope":"openid profile email offline_access","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"scope":"admin","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: scope "admin" is not allowed; allowed: openid profile email offline_access"#
        ]],
    );
    check(
        r#"{"scope":"openid registrar.configuration","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: policy 'default' does not allow the registration scope 'registrar.configuration'"
        ],
    );
    check(
        r#"{"scope":"OpenID","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: scope "OpenID" is not allowed; allowed: openid profile email offline_access"#
        ]],
    );
    check_with(
        |settings| settings.scopes = vec!["api:read".to_owned(), "api:write!".to_owned()],
        r#"{"scope":"api:read api:write!","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check_with(
        |settings| settings.scopes = vec!["api:read".to_owned()],
        r#"{"scope":"openid","redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: scope "openid" is not allowed; allowed: api:read"#]],
    );
}

#[test]
fn scope_is_scope_tokens_separated_by_single_spaces() {
    check(
        r#"{"scope":"openid  email","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: scope must be scope values separated by single spaces (RFC 6749 §3.3)"
        ],
    );
    check(
        r#"{"scope":" openid","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: scope must be scope values separated by single spaces (RFC 6749 §3.3)"
        ],
    );
    check(
        r#"{"scope":"openid ","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: scope must be scope values separated by single spaces (RFC 6749 §3.3)"
        ],
    );
    check(
        r#"{"scope":"open\"id","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: scope must be scope values separated by single spaces (RFC 6749 §3.3)"
        ],
    );
    check(
        r#"{"scope":"open\\id","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: scope must be scope values separated by single spaces (RFC 6749 §3.3)"
        ],
    );
    check(
        r#"{"scope":"openid\temail","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: scope must not contain control or bidirectional formatting characters"
        ],
    );
    check(
        r#"{"scope":"openid,email","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: scope "openid,email" is not allowed; allowed: openid profile email offline_access"#
        ]],
    );
    check(
        r#"{"scope":"öpenid","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: scope must be scope values separated by single spaces (RFC 6749 §3.3)"
        ],
    );
}

#[test]
fn scope_values_must_not_repeat() {
    check(
        r#"{"scope":"openid openid","redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: scope[1] repeats "openid""#]],
    );
    check(
        r#"{"scope":"openid email profile email","redirect_uris":["https://a.example/cb"]}"#,
        expect![[r#"invalid_client_metadata: scope[3] repeats "email""#]],
    );
}

// Contacts.

#[test]
fn contacts_are_email_addresses() {
    check(
        r#"{"contacts":["admin@a.example"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"contacts":["admin@a.example","ops+dcr@b.example"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"contacts":["not an address"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: contacts[0] is not an e-mail address"],
    );
    check(
        r#"{"contacts":["admin@a.example","admin@"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: contacts[1] is not an e-mail address"],
    );
    check(
        r#"{"contacts":["@a.example"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: contacts[0] is not an e-mail address"],
    );
    check(
        r#"{"contacts":["https://a.example/contact"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: contacts[0] is not an e-mail address"],
    );
    check(
        r#"{"contacts":["admin@a.example\r\nBcc: victim@b.example"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: contacts[0] must not contain control or bidirectional formatting characters"
        ],
    );
}

// URL members other than the redirect URIs.

#[test]
fn url_members_are_https_urls() {
    let mut table = String::new();
    for field in [
        "client_uri",
        "logo_uri",
        "tos_uri",
        "policy_uri",
        "jwks_uri",
        "sector_identifier_uri",
        "initiate_login_uri",
        "frontchannel_logout_uri",
        "backchannel_logout_uri",
    ] {
        for value in [
            "https://a.example/page",
            "http://a.example/page",
            "https://a.example/page#top",
        ] {
            let body =
                format!(r#"{{"{field}":"{value}","redirect_uris":["https://a.example/cb"]}}"#);
            let outcome = render(&default_settings(), &initial_access_token(), &body);
            table.push_str(&format!("{field} {value} -> {outcome}\n"));
        }
    }
    expect![[r#"
        client_uri https://a.example/page -> ok
        client_uri http://a.example/page -> invalid_client_metadata: client_uri must be an https URL
        client_uri https://a.example/page#top -> invalid_client_metadata: client_uri must not contain a fragment
        logo_uri https://a.example/page -> ok
        logo_uri http://a.example/page -> invalid_client_metadata: logo_uri must be an https URL
        logo_uri https://a.example/page#top -> invalid_client_metadata: logo_uri must not contain a fragment
        tos_uri https://a.example/page -> ok
        tos_uri http://a.example/page -> invalid_client_metadata: tos_uri must be an https URL
        tos_uri https://a.example/page#top -> invalid_client_metadata: tos_uri must not contain a fragment
        policy_uri https://a.example/page -> ok
        policy_uri http://a.example/page -> invalid_client_metadata: policy_uri must be an https URL
        policy_uri https://a.example/page#top -> invalid_client_metadata: policy_uri must not contain a fragment
        jwks_uri https://a.example/page -> ok
        jwks_uri http://a.example/page -> invalid_client_metadata: jwks_uri must be an https URL
        jwks_uri https://a.example/page#top -> invalid_client_metadata: jwks_uri must not contain a fragment
        sector_identifier_uri https://a.example/page -> invalid_client_metadata: sector_identifier_uri cannot be checked: this server is not set up to fetch documents
        sector_identifier_uri http://a.example/page -> invalid_client_metadata: sector_identifier_uri must be an https URL
        sector_identifier_uri https://a.example/page#top -> invalid_client_metadata: sector_identifier_uri must not contain a fragment
        initiate_login_uri https://a.example/page -> ok
        initiate_login_uri http://a.example/page -> invalid_client_metadata: initiate_login_uri must be an https URL
        initiate_login_uri https://a.example/page#top -> invalid_client_metadata: initiate_login_uri must not contain a fragment
        frontchannel_logout_uri https://a.example/page -> ok
        frontchannel_logout_uri http://a.example/page -> invalid_client_metadata: frontchannel_logout_uri must be an https URL
        frontchannel_logout_uri https://a.example/page#top -> invalid_client_metadata: frontchannel_logout_uri must not contain a fragment
        backchannel_logout_uri https://a.example/page -> ok
        backchannel_logout_uri http://a.example/page -> invalid_client_metadata: backchannel_logout_uri must be an https URL
        backchannel_logout_uri https://a.example/page#top -> invalid_client_metadata: backchannel_logout_uri must not contain a fragment
    "#]].assert_eq(&table);
}

#[test]
fn url_members_reject_other_schemes_userinfo_and_fragments() {
    check(
        r#"{"logo_uri":"https://a.example","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"logo_uri":"JavaScript:alert(1)","redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: logo_uri must be an https URL"],
    );
    check(
        r#"{"logo_uri":"data:image/svg+xml,<svg onload=alert(1)>","redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: logo_uri must be an https URL"],
    );
    check(
        r#"{"logo_uri":"/logo.png","redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: logo_uri must be an absolute https URL"],
    );
    check(
        r#"{"logo_uri":"https:","redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: logo_uri must be an absolute https URL"],
    );
    check(
        r#"{"jwks_uri":"https://user:secret@a.example/jwks","redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: jwks_uri must not contain user information"],
    );
    check(
        r#"{"policy_uri":"https://a.example/privacy#","redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: policy_uri must not contain a fragment"],
    );
}

#[test]
fn localized_url_members_are_checked_too() {
    check(
        r#"{"logo_uri#fr":"https://a.example/logo-fr.png","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"logo_uri#fr":"http://a.example/logo-fr.png","redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: logo_uri#fr must be an https URL"],
    );
    check(
        r#"{"client_uri#en-GB":"JaVaScRiPt:alert(1)","redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: client_uri#en-GB must be an https URL"],
    );
    check(
        r#"{"tos_uri#de":"https://a.example/agb#abschnitt-2","redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: tos_uri#de must not contain a fragment"],
    );
    check(
        r#"{"policy_uri#ja-Jpan-JP":"https://user@a.example/privacy","redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: policy_uri#ja-Jpan-JP must not contain user information"],
    );
    // client_name is not a URL, whatever it looks like.
    check(
        r#"{"client_name#fr":"http://a.example/","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
}

#[test]
fn request_uris_are_https_and_may_carry_a_fragment() {
    check(
        r#"{"request_uris":["https://a.example/request.jwt"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"request_uris":["https://a.example/request.jwt#GkurKxf5T0Y-mnPFCHqWOMiZi4VS138cQO_V7PZHAdM"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"request_uris":["https://a.example/request.jwt","http://a.example/request.jwt"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: request_uris[1] must be an https URL"],
    );
    check(
        r#"{"request_uris":["https://user@a.example/request.jwt"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: request_uris[0] must not contain user information"],
    );
    check(
        r#"{"request_uris":["request.jwt"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: request_uris[0] must be an absolute https URL"],
    );
}

// Algorithms and enumerations.

#[test]
fn subject_type_is_supported() {
    check(
        r#"{"subject_type":"public","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"subject_type":"pairwise","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: subject_type "pairwise" is not supported; supported: public"#
        ]],
    );
    check_with(
        |settings| settings.subject_types.push("pairwise".to_owned()),
        r#"{"subject_type":"pairwise","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
}

#[test]
fn signing_algorithms_are_supported() {
    check(
        r#"{"id_token_signed_response_alg":"RS256","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"id_token_signed_response_alg":"ES256","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"id_token_signed_response_alg":"EdDSA","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"id_token_signed_response_alg":"none","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: id_token_signed_response_alg "none" is not supported; supported: RS256, ES256, EdDSA"#
        ]],
    );
    check(
        r#"{"id_token_signed_response_alg":"HS256","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: id_token_signed_response_alg "HS256" is not supported; supported: RS256, ES256, EdDSA"#
        ]],
    );
    check(
        r#"{"id_token_signed_response_alg":"PS256","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: id_token_signed_response_alg "PS256" is not supported; supported: RS256, ES256, EdDSA"#
        ]],
    );
    check(
        r#"{"userinfo_signed_response_alg":"ES256","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"userinfo_signed_response_alg":"HS256","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: userinfo_signed_response_alg "HS256" is not supported; supported: RS256, ES256, EdDSA"#
        ]],
    );
    check(
        r#"{"request_object_signing_alg":"PS256","redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"request_object_signing_alg":"none","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: request_object_signing_alg "none" is not supported; supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA"#
        ]],
    );
    check(
        r#"{"request_object_signing_alg":"HS256","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: request_object_signing_alg "HS256" is not supported; supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA"#
        ]],
    );
}

#[test]
fn encryption_is_not_supported() {
    check(
        r#"{"id_token_encrypted_response_alg":"RSA-OAEP","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: id_token_encrypted_response_alg "RSA-OAEP" is not supported: this server does not encrypt"#
        ]],
    );
    check(
        r#"{"id_token_encrypted_response_alg":"RSA-OAEP","id_token_encrypted_response_enc":"A128GCM","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: id_token_encrypted_response_alg "RSA-OAEP" is not supported: this server does not encrypt"#
        ]],
    );
    check(
        r#"{"id_token_encrypted_response_enc":"A128CBC-HS256","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: id_token_encrypted_response_enc needs id_token_encrypted_response_alg"
        ],
    );
    check(
        r#"{"userinfo_encrypted_response_alg":"ECDH-ES","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: userinfo_encrypted_response_alg "ECDH-ES" is not supported: this server does not encrypt"#
        ]],
    );
    check(
        r#"{"userinfo_encrypted_response_enc":"A256GCM","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: userinfo_encrypted_response_enc needs userinfo_encrypted_response_alg"
        ],
    );
    check(
        r#"{"request_object_encryption_alg":"RSA-OAEP-256","redirect_uris":["https://a.example/cb"]}"#,
        expect![[
            r#"invalid_client_metadata: request_object_encryption_alg "RSA-OAEP-256" is not supported: this server does not encrypt"#
        ]],
    );
    check(
        r#"{"request_object_encryption_enc":"A128GCM","redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: request_object_encryption_enc needs request_object_encryption_alg"
        ],
    );
}

#[test]
fn default_acr_values_have_no_spaces() {
    check(
        r#"{"default_acr_values":["urn:mace:incommon:iap:silver","1"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"default_acr_values":["1","urn:mace:incommon iap"],"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: default_acr_values[1] must not contain spaces"],
    );
    check(
        r#"{"default_acr_values":["silver\n"],"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: default_acr_values[0] must not contain control or bidirectional formatting characters"
        ],
    );
}

// Lifetimes.

#[test]
fn lifetimes_are_between_one_second_and_the_maximum() {
    let mut table = String::new();
    for (field, max) in [
        ("access_token_lifetime", 86_400),
        ("identity_token_lifetime", 3_600),
        ("authorization_code_lifetime", 600),
        ("absolute_refresh_token_lifetime", 30 * 86_400),
        ("sliding_refresh_token_lifetime", 30 * 86_400),
        ("consent_lifetime", 365 * 86_400),
    ] {
        for seconds in [0, 1, max, max + 1] {
            let body =
                format!(r#"{{"{field}":{seconds},"redirect_uris":["https://a.example/cb"]}}"#);
            let outcome = render(&default_settings(), &initial_access_token(), &body);
            table.push_str(&format!("{field} {seconds} -> {outcome}\n"));
        }
    }
    expect![[r#"
        access_token_lifetime 0 -> invalid_client_metadata: access_token_lifetime must be at least 1 second
        access_token_lifetime 1 -> ok
        access_token_lifetime 86400 -> ok
        access_token_lifetime 86401 -> invalid_client_metadata: access_token_lifetime must be at most 86400 seconds
        identity_token_lifetime 0 -> invalid_client_metadata: identity_token_lifetime must be at least 1 second
        identity_token_lifetime 1 -> ok
        identity_token_lifetime 3600 -> ok
        identity_token_lifetime 3601 -> invalid_client_metadata: identity_token_lifetime must be at most 3600 seconds
        authorization_code_lifetime 0 -> invalid_client_metadata: authorization_code_lifetime must be at least 1 second
        authorization_code_lifetime 1 -> ok
        authorization_code_lifetime 600 -> ok
        authorization_code_lifetime 601 -> invalid_client_metadata: authorization_code_lifetime must be at most 600 seconds
        absolute_refresh_token_lifetime 0 -> invalid_client_metadata: absolute_refresh_token_lifetime must be at least 1 second
        absolute_refresh_token_lifetime 1 -> ok
        absolute_refresh_token_lifetime 2592000 -> ok
        absolute_refresh_token_lifetime 2592001 -> invalid_client_metadata: absolute_refresh_token_lifetime must be at most 2592000 seconds
        sliding_refresh_token_lifetime 0 -> invalid_client_metadata: sliding_refresh_token_lifetime must be at least 1 second
        sliding_refresh_token_lifetime 1 -> ok
        sliding_refresh_token_lifetime 2592000 -> ok
        sliding_refresh_token_lifetime 2592001 -> invalid_client_metadata: sliding_refresh_token_lifetime must be at most 2592000 seconds
        consent_lifetime 0 -> invalid_client_metadata: consent_lifetime must be at least 1 second
        consent_lifetime 1 -> ok
        consent_lifetime 31536000 -> ok
        consent_lifetime 31536001 -> invalid_client_metadata: consent_lifetime must be at most 31536000 seconds
    "#]].assert_eq(&table);
    check_with(
        |settings| settings.lifetimes.max_access_token = 60,
        r#"{"access_token_lifetime":61,"redirect_uris":["https://a.example/cb"]}"#,
        expect!["invalid_client_metadata: access_token_lifetime must be at most 60 seconds"],
    );
}

#[test]
fn sliding_refresh_token_lifetime_must_not_exceed_the_absolute_one() {
    check(
        r#"{"sliding_refresh_token_lifetime":7200,"absolute_refresh_token_lifetime":3600,"redirect_uris":["https://a.example/cb"]}"#,
        expect![
            "invalid_client_metadata: sliding_refresh_token_lifetime must not exceed absolute_refresh_token_lifetime"
        ],
    );
    check(
        r#"{"sliding_refresh_token_lifetime":3600,"absolute_refresh_token_lifetime":3600,"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"sliding_refresh_token_lifetime":3600,"absolute_refresh_token_lifetime":7200,"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
    check(
        r#"{"sliding_refresh_token_lifetime":7200,"redirect_uris":["https://a.example/cb"]}"#,
        expect!["ok"],
    );
}

// Policies.

/// The default policy (initial access tokens without a policy of their own) with limits.
fn limited_default_policy(settings: &mut Settings) {
    use crate::policy::{HostPattern, Policies, Policy};
    settings.policies = Policies::new(vec![Policy {
        grant_types: Some(vec![GrantType::AuthorizationCode, GrantType::RefreshToken]),
        scopes: Some(vec!["openid".to_owned()]),
        auth_methods: Some(vec![crate::protocol::AuthMethod::PrivateKeyJwt]),
        redirect_uri_hosts: Some(vec![HostPattern::parse("*.example.com").expect("pattern")]),
        application_types: Some(vec![crate::protocol::ApplicationType::Web]),
        max_access_token_lifetime: Some(600),
        max_refresh_token_lifetime: Some(3_600),
        ..Policy::unrestricted(crate::policy::DEFAULT_POLICY)
    }])
    .expect("policies");
}

#[test]
fn each_rule_of_a_policy_refuses_by_name() {
    let body = |extra: &str| {
        format!(
            r#"{{"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://app.example.com/jwks","redirect_uris":["https://app.example.com/cb"]{extra}}}"#
        )
    };
    let cases: [(&str, Expect); 9] = [
        ("", expect!["ok"]),
        (
            r#","grant_types":["authorization_code","client_credentials"]"#,
            expect![
                "invalid_client_metadata: policy 'default' does not allow grant_types client_credentials; allowed: authorization_code, refresh_token"
            ],
        ),
        (
            r#","scope":"openid email""#,
            expect![
                "invalid_client_metadata: policy 'default' does not allow scope 'email'; allowed: openid"
            ],
        ),
        (
            r#","application_type":"native""#,
            expect![
                "invalid_client_metadata: policy 'default' does not allow application_type native; allowed: web"
            ],
        ),
        (
            r#","access_token_lifetime":601"#,
            expect![
                "invalid_client_metadata: policy 'default' allows access_token_lifetime of at most 600 seconds, not 601"
            ],
        ),
        (
            r#","absolute_refresh_token_lifetime":3601"#,
            expect![
                "invalid_client_metadata: policy 'default' allows absolute_refresh_token_lifetime of at most 3600 seconds, not 3601"
            ],
        ),
        (r#","access_token_lifetime":600"#, expect!["ok"]),
        (
            r#","scope":"openid registrar.configuration""#,
            expect![
                "invalid_client_metadata: policy 'default' does not allow the registration scope 'registrar.configuration'"
            ],
        ),
        (r#","scope":"openid""#, expect!["ok"]),
    ];
    for (extra, expected) in cases {
        check_with(limited_default_policy, &body(extra), expected);
    }
    check_with(
        limited_default_policy,
        r#"{"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://app.example.com/jwks","redirect_uris":["https://example.com/cb"]}"#,
        expect![
            "invalid_redirect_uri: policy 'default' does not allow the host of redirect_uris[0]; allowed: *.example.com"
        ],
    );
    check_with(
        limited_default_policy,
        r#"{"redirect_uris":["https://app.example.com/cb"]}"#,
        expect![
            "invalid_client_metadata: policy 'default' does not allow token_endpoint_auth_method 'client_secret_basic'; allowed: private_key_jwt"
        ],
    );
}

#[test]
fn a_policy_may_allow_the_registration_scope_and_forbid_registration() {
    fn admin(settings: &mut Settings) {
        use crate::policy::{Policies, Policy};
        settings.policies = Policies::new(vec![Policy {
            allow_registration_scope: true,
            ..Policy::unrestricted(crate::policy::DEFAULT_POLICY)
        }])
        .expect("policies");
    }
    fn closed(settings: &mut Settings) {
        use crate::policy::{Policies, Policy};
        settings.policies = Policies::new(vec![Policy {
            allow_registration: false,
            ..Policy::unrestricted(crate::policy::DEFAULT_POLICY)
        }])
        .expect("policies");
    }
    check_with(
        admin,
        r#"{"grant_types":["client_credentials"],"scope":"registrar.configuration"}"#,
        expect!["ok"],
    );
    check_with(
        closed,
        r#"{"grant_types":["client_credentials"]}"#,
        expect!["access_denied: policy 'default' does not allow registration by this route"],
    );
}
