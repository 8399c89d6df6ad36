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
        expect!["invalid_client_metadata: redirect_uris must be an array of strings"],
    );
    check(
        r#"{"redirect_uris":["https://a/cb",3]}"#,
        expect!["invalid_client_metadata: redirect_uris[1] must be a string"],
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
fn nulls_and_unknown_members_are_dropped() {
    check(
        r#"{"client_name":null,"x_custom":1,"client_secret":"chosen","client_id":"mine"}"#,
        expect!["ok {}"],
    );
    check(
        r#"{"default_max_age":0,"require_auth_time":false}"#,
        expect![[r#"ok {"default_max_age":0,"require_auth_time":false}"#]],
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
