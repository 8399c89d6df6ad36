//! The diff of an update: which members it added, removed or changed.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::event::MetadataChange;
use crate::metadata::ClientMetadata;

/// The members of a client's metadata and extensions in wire form, as responses show them.
fn members(metadata: &ClientMetadata, extensions: &Map<String, Value>) -> Map<String, Value> {
    let mut object = match serde_json::to_value(metadata) {
        Ok(Value::Object(object)) => object,
        // A struct always serializes to an object; nothing to compare otherwise.
        _ => Map::new(),
    };
    // Extension names never clash with metadata (`RegistrationContext::set_extension`).
    object.extend(extensions.clone());
    object
}

/// Every member `before` and `after` differ in, in name order: added (no `old`), removed (no
/// `new`) or changed (both).
pub fn metadata_changes(
    before: (&ClientMetadata, &Map<String, Value>),
    after: (&ClientMetadata, &Map<String, Value>),
) -> Vec<MetadataChange> {
    let (before, after) = (members(before.0, before.1), members(after.0, after.1));
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let (old, new) = (before.get(name), after.get(name));
            (old != new).then(|| MetadataChange {
                member: name.clone(),
                old: old.cloned(),
                new: new.cloned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn changes_name_what_was_added_removed_and_changed_in_name_order() {
        let before = ClientMetadata {
            client_name: Some("Old".to_owned()),
            redirect_uris: vec!["https://a.example/cb".to_owned()],
            tos_uri: Some("https://a.example/tos".to_owned()),
            ..ClientMetadata::default()
        };
        let after = ClientMetadata {
            client_name: Some("New".to_owned()),
            redirect_uris: vec!["https://a.example/cb".to_owned()],
            logo_uri: Some("https://a.example/logo.png".to_owned()),
            ..ClientMetadata::default()
        };
        let mut extensions = Map::new();
        extensions.insert("tenant".to_owned(), json!("blue"));

        let changes = metadata_changes((&before, &Map::new()), (&after, &extensions));

        let summary: Vec<_> = changes
            .iter()
            .map(|change| {
                (
                    change.member.as_str(),
                    change.old.clone(),
                    change.new.clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("client_name", Some(json!("Old")), Some(json!("New"))),
                ("logo_uri", None, Some(json!("https://a.example/logo.png"))),
                ("tenant", None, Some(json!("blue"))),
                ("tos_uri", Some(json!("https://a.example/tos")), None),
            ]
        );
    }

    #[test]
    fn an_unchanged_client_has_no_changes() {
        let metadata = ClientMetadata {
            client_name: Some("Same".to_owned()),
            ..ClientMetadata::default()
        };
        assert!(metadata_changes((&metadata, &Map::new()), (&metadata, &Map::new())).is_empty());
    }
}
