//! The variables a project's files read, for `config --variables`: each with whether it must be
//! set and the values it falls back to, as written in the files (before interpolation).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_yaml::Value;

use super::interpolate::{VariableUse, uses};

/// Every variable the files' values read, by name. A name read in several places is required if
/// one of them requires it, and takes the first fallback written for it.
pub fn used_in(files: &[PathBuf]) -> std::io::Result<BTreeMap<String, VariableUse>> {
    let mut found = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(file)?;
        // The loader has read these files already; one it could not parse it has refused.
        if let Ok(doc) = serde_yaml::from_str::<Value>(&text) {
            walk(&doc, &mut found);
        }
    }
    Ok(found)
}

fn walk(v: &Value, found: &mut BTreeMap<String, VariableUse>) {
    match v {
        Value::String(s) => {
            for u in uses(s) {
                let known = found.entry(u.name.clone()).or_insert_with(|| VariableUse {
                    name: u.name.clone(),
                    ..VariableUse::default()
                });
                known.required |= u.required;
                if known.default.is_empty() {
                    known.default = u.default;
                }
                if known.presence.is_empty() {
                    known.presence = u.presence;
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| walk(i, found)),
        Value::Mapping(m) => m.values().for_each(|i| walk(i, found)),
        Value::Tagged(t) => walk(&t.value, found),
        _ => {}
    }
}

#[cfg(test)]
#[test]
fn a_name_read_twice_is_listed_once_with_what_each_place_says() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    std::fs::write(
        &file,
        "services:\n  a:\n    image: x:${TAG:-latest}\n    environment:\n      A: ${TAG}\n      B: ${REQ:?set it}\n# ${COMMENTED}\n",
    )
    .unwrap();
    let got = used_in(&[file]).unwrap();
    assert_eq!(got.keys().collect::<Vec<_>>(), ["REQ", "TAG"]);
    assert_eq!(got["TAG"].default, "latest");
    assert!(got["REQ"].required && !got["TAG"].required);
}
