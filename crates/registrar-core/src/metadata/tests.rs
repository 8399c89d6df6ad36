//! Type checks of `ClientMetadata::from_object`, one row per case.

use expect_test::{Expect, expect};

use super::ClientMetadata;

fn check(body: &str, expected: Expect) {
    let object = crate::json::parse_object(body.as_bytes()).expect("test bodies are objects");
    let actual = match ClientMetadata::from_object(&object) {
        Ok(metadata) => format!("ok {}", serde_json::to_string(&metadata).unwrap()),
        Err(error) => format!("{}: {error}", error.code()),
    };
    expected.assert_eq(&actual);
}

#[test]
fn wrong_json_types_name_the_field() {
    check(
        r#"{"redirect_uris":"https://a/cb"}"#,
        expect!["invalid_redirect_uri: redirect_uris must be an array of strings"],
    );
    check(
        r#"{"redirect_uris":["https://a/cb",3]}"#,
        expect!["invalid_redirect_uri: redirect_uris[1] must be a string"],
    );
    check(
        r#"{"client_name":7}"#,
        expect!["invalid_client_metadata: client_name must be a string"],
    );
    check(
        r#"{"require_auth_time":"true"}"#,
        expect!["invalid_client_metadata: require_auth_time must be a boolean"],
    );
    check(
        r#"{"default_max_age":-1}"#,
        expect!["invalid_client_metadata: default_max_age must be a non-negative integer"],
    );
    check(
        r#"{"default_max_age":1.5}"#,
        expect!["invalid_client_metadata: default_max_age must be a non-negative integer"],
    );
    check(
        r#"{"access_token_lifetime":"60"}"#,
        expect!["invalid_client_metadata: access_token_lifetime must be a non-negative integer"],
    );
    check(
        r#"{"jwks":"{}"}"#,
        expect!["invalid_client_metadata: jwks must be a JSON object"],
    );
    check(
        r#"{"contacts":[{}]}"#,
        expect!["invalid_client_metadata: contacts[0] must be a string"],
    );
    check(
        r#"{"client_name":""}"#,
        expect!["invalid_client_metadata: client_name must not be empty"],
    );
    check(
        r#"{"grant_types":[""]}"#,
        expect!["invalid_client_metadata: grant_types[0] must not be empty"],
    );
}

#[test]
fn unknown_members_are_dropped() {
    check(
        r#"{"x_custom":1,"x_null":null,"client_secret":"chosen","client_id":"mine"}"#,
        expect!["ok {}"],
    );
    check(
        r#"{"default_max_age":0,"require_auth_time":false}"#,
        expect![[r#"ok {"default_max_age":0,"require_auth_time":false}"#]],
    );
}

#[test]
fn a_recognised_member_sent_as_null_is_refused() {
    check(
        r#"{"jwks":null}"#,
        expect![
            "invalid_client_metadata: jwks must not be null; omit the member to leave it unset"
        ],
    );
    check(
        r#"{"client_name":null}"#,
        expect![
            "invalid_client_metadata: client_name must not be null; omit the member to leave it unset"
        ],
    );
    check(
        r#"{"redirect_uris":null}"#,
        expect![
            "invalid_redirect_uri: redirect_uris must not be null; omit the member to leave it unset"
        ],
    );
    check(
        r#"{"client_name#fr":null}"#,
        expect![
            "invalid_client_metadata: client_name#fr must not be null; omit the member to leave it unset"
        ],
    );
    check(
        r#"{"default_max_age":null}"#,
        expect![
            "invalid_client_metadata: default_max_age must not be null; omit the member to leave it unset"
        ],
    );
}

#[test]
fn language_tagged_fields_round_trip_exactly() {
    check(
        r#"{"client_name":"Moi","client_name#ja-Jpan-JP":"クライアント名","logo_uri#fr":"https://a.example/fr.png","client_name#en-GB-oxendict":"Mine"}"#,
        expect![[
            r#"ok {"client_name":"Moi","client_name#en-GB-oxendict":"Mine","client_name#ja-Jpan-JP":"クライアント名","logo_uri#fr":"https://a.example/fr.png"}"#
        ]],
    );
    check(r#"{"other#fr":"ignored"}"#, expect!["ok {}"]);
    check(
        r#"{"client_name#not a tag":"x"}"#,
        expect![[
            r#"invalid_client_metadata: client_name#not a tag: "not a tag" is not a BCP 47 language tag"#
        ]],
    );
    check(
        r#"{"client_name#":"x"}"#,
        expect![[r#"invalid_client_metadata: client_name#: "" is not a BCP 47 language tag"#]],
    );
    check(
        r#"{"client_name#fr":"a","client_name#FR":"b"}"#,
        expect![
            "invalid_client_metadata: client_name#fr is given twice with different letter case"
        ],
    );
    check(
        r#"{"client_name#fr":1}"#,
        expect!["invalid_client_metadata: client_name#fr must be a string"],
    );
}

/// Every member set, written without `..` so that a new field must be added here.
fn every_member() -> ClientMetadata {
    let text = |value: &str| Some(value.to_owned());
    let list = |value: &str| vec![value.to_owned()];
    ClientMetadata {
        redirect_uris: list("https://a.example/cb"),
        token_endpoint_auth_method: text("private_key_jwt"),
        grant_types: list("authorization_code"),
        response_types: list("code"),
        client_name: text("A"),
        client_uri: text("https://a.example"),
        logo_uri: text("https://a.example/logo.png"),
        scope: text("openid"),
        contacts: list("ops@a.example"),
        tos_uri: text("https://a.example/tos"),
        policy_uri: text("https://a.example/policy"),
        jwks_uri: text("https://a.example/jwks"),
        jwks: Some(serde_json::json!({"keys": []})),
        software_id: text("id"),
        software_version: text("1"),
        software_statement: text("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"),
        application_type: text("web"),
        sector_identifier_uri: text("https://a.example/sector"),
        subject_type: text("public"),
        id_token_signed_response_alg: text("ES256"),
        id_token_encrypted_response_alg: text("RSA-OAEP"),
        id_token_encrypted_response_enc: text("A128GCM"),
        userinfo_signed_response_alg: text("ES256"),
        userinfo_encrypted_response_alg: text("RSA-OAEP"),
        userinfo_encrypted_response_enc: text("A128GCM"),
        request_object_signing_alg: text("ES256"),
        request_object_encryption_alg: text("RSA-OAEP"),
        request_object_encryption_enc: text("A128GCM"),
        token_endpoint_auth_signing_alg: text("ES256"),
        default_max_age: Some(60),
        require_auth_time: Some(true),
        default_acr_values: list("phr"),
        initiate_login_uri: text("https://a.example/login"),
        request_uris: list("https://a.example/request"),
        post_logout_redirect_uris: list("https://a.example/bye"),
        frontchannel_logout_uri: text("https://a.example/fc"),
        frontchannel_logout_session_required: Some(true),
        backchannel_logout_uri: text("https://a.example/bc"),
        backchannel_logout_session_required: Some(false),
        access_token_lifetime: Some(60),
        identity_token_lifetime: Some(60),
        authorization_code_lifetime: Some(60),
        absolute_refresh_token_lifetime: Some(60),
        sliding_refresh_token_lifetime: Some(60),
        consent_lifetime: Some(60),
        localized: std::collections::BTreeMap::new(),
    }
}

#[test]
fn known_members_are_exactly_the_members_from_object_reads() {
    let metadata = every_member();
    let serde_json::Value::Object(object) = serde_json::to_value(&metadata).unwrap() else {
        panic!("metadata serializes as an object");
    };
    let mut serialized: Vec<&str> = object.keys().map(String::as_str).collect();
    let mut known = super::KNOWN_MEMBERS.to_vec();
    serialized.sort_unstable();
    known.sort_unstable();
    assert_eq!(serialized, known);
    assert_eq!(ClientMetadata::from_object(&object).unwrap(), metadata);
    for member in super::KNOWN_MEMBERS {
        assert!(super::is_known_member(member), "{member}");
    }
    assert!(super::is_known_member("client_name#fr"));
    assert!(!super::is_known_member("x_tenant"));
}

#[test]
fn text_has_limits_and_no_control_or_bidi_characters() {
    let long_name = "n".repeat(257);
    check(
        &format!(r#"{{"client_name":"{long_name}"}}"#),
        expect!["invalid_client_metadata: client_name must be at most 256 characters"],
    );
    let long_uri = format!("https://a.example/{}", "p".repeat(2_031));
    check(
        &format!(r#"{{"redirect_uris":["{long_uri}"]}}"#),
        expect!["invalid_redirect_uri: redirect_uris[0] must be at most 2048 bytes"],
    );
    let many: Vec<String> = (0..101)
        .map(|index| format!(r#""https://a.example/{index}""#))
        .collect();
    check(
        &format!(r#"{{"redirect_uris":[{}]}}"#, many.join(",")),
        expect!["invalid_redirect_uri: redirect_uris must have at most 100 entries"],
    );
    check(
        r#"{"client_name":"a\u0000b"}"#,
        expect![
            "invalid_client_metadata: client_name must not contain control or bidirectional formatting characters"
        ],
    );
    check(
        r#"{"client_name#fr":"x\u001b[31m"}"#,
        expect![
            "invalid_client_metadata: client_name#fr must not contain control or bidirectional formatting characters"
        ],
    );
    check(
        r#"{"contacts":["admin\u202e@example.com"]}"#,
        expect![
            "invalid_client_metadata: contacts[0] must not contain control or bidirectional formatting characters"
        ],
    );
    check(
        r#"{"software_version":"1\u2066.0"}"#,
        expect![
            "invalid_client_metadata: software_version must not contain control or bidirectional formatting characters"
        ],
    );
    check(
        r#"{"redirect_uris":["https://a.example/cb\u0085"]}"#,
        expect![
            "invalid_redirect_uri: redirect_uris[0] must not contain control or bidirectional formatting characters"
        ],
    );
    check(
        r#"{"redirect_uris":[""]}"#,
        expect!["invalid_redirect_uri: redirect_uris[0] must not be empty"],
    );
    check(
        r#"{"grant_types":[]}"#,
        expect![
            "invalid_client_metadata: grant_types must not be empty; omit it for the default authorization_code"
        ],
    );
    // Exactly at the limits is fine.
    let name = "n".repeat(256);
    let object =
        crate::json::parse_object(format!(r#"{{"client_name":"{name}"}}"#).as_bytes()).unwrap();
    assert!(ClientMetadata::from_object(&object).is_ok());
}
