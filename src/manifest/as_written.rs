//! What `config --no-interpolate` prints: the files' documents as written, `${…}` left alone,
//! merged in order and given the few things compose's loader adds even then (the project's name,
//! the implicit default network, networks as a mapping, resources' engine-side names). Values
//! are not read into the model: `replicas: ${N:-2}` is not a number until interpolated.

use serde_yaml::{Mapping, Value};

/// The documents merged: mappings key by key, a later list appended to an earlier one (as an
/// override file adds ports or environment entries), any other value replaced.
pub fn merged(documents: Vec<Value>) -> Value {
    let mut out = Value::Mapping(Mapping::new());
    for d in documents {
        merge(&mut out, d);
    }
    out
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (Value::Sequence(a), Value::Sequence(b)) => a.extend(b),
        (slot, v) => *slot = v,
    }
}

/// `doc` (the merged files) as compose prints it with `--no-interpolate`, under `project`.
pub fn as_compose_prints(mut doc: Value, project: &str) -> Value {
    let Some(top) = doc.as_mapping_mut() else {
        return doc;
    };
    top.remove("version");
    top.remove("include");
    let mut needs_default = false;
    if let Some(services) = top.get_mut("services").and_then(Value::as_mapping_mut) {
        for svc in services.values_mut().filter_map(Value::as_mapping_mut) {
            let networks = svc.get("networks").cloned();
            let as_map = match networks {
                Some(Value::Sequence(names)) => {
                    Some(names.into_iter().map(|n| (n, Value::Null)).collect())
                }
                Some(Value::Mapping(m)) => Some(m),
                _ => None,
            };
            match as_map {
                Some(m) => {
                    svc.insert("networks".into(), Value::Mapping(m));
                }
                None if !svc.contains_key("network_mode") => {
                    let default = Mapping::from_iter([("default".into(), Value::Null)]);
                    svc.insert("networks".into(), Value::Mapping(default));
                    needs_default = true;
                }
                None => {}
            }
        }
    }
    if needs_default {
        let networks = top
            .entry("networks".into())
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if let Some(n) = networks.as_mapping_mut() {
            n.entry("default".into())
                .or_insert_with(|| Value::Mapping(Mapping::new()));
        }
    }
    for kind in ["networks", "volumes", "secrets", "configs"] {
        let Some(defs) = top.get_mut(kind).and_then(Value::as_mapping_mut) else {
            continue;
        };
        for (key, def) in defs.iter_mut() {
            if def.is_null() {
                *def = Value::Mapping(Mapping::new());
            }
            let external = def.get("external").is_some_and(|e| e == &Value::Bool(true));
            if let (Some(m), Some(key)) = (def.as_mapping_mut(), key.as_str())
                && !m.contains_key("name")
            {
                let name = if external {
                    key.to_owned()
                } else {
                    format!("{project}_{key}")
                };
                m.insert("name".into(), name.into());
            }
        }
    }
    top.insert("name".into(), project.into());
    sorted(doc)
}

/// Every mapping's keys in order, as compose prints them.
fn sorted(v: Value) -> Value {
    match v {
        Value::Mapping(m) => {
            let mut entries: Vec<(Value, Value)> = m.into_iter().collect();
            entries.sort_by_key(|(k, _)| key_text(k));
            Value::Mapping(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(sorted).collect()),
        other => other,
    }
}

fn key_text(k: &Value) -> String {
    k.as_str().map_or_else(
        || serde_yaml::to_string(k).unwrap_or_default(),
        str::to_owned,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn written_values_stay_and_compose_s_additions_are_made() {
        let doc = merged(vec![
            yaml(
                "version: '3'\nservices:\n  web:\n    image: \"x:${T:-1}\"\n    deploy: {replicas: \"${N:-2}\"}\n    networks: [front]\n    environment: [A=1]\n  db:\n    image: pg\nnetworks:\n  front:\n",
            ),
            yaml("services:\n  web:\n    environment: [B=2]\n"),
        ]);
        let out = as_compose_prints(doc, "p");
        let want = yaml(
            "name: p\nnetworks:\n  default: {name: p_default}\n  front: {name: p_front}\nservices:\n  db:\n    image: pg\n    networks: {default: null}\n  web:\n    deploy: {replicas: \"${N:-2}\"}\n    environment: [A=1, B=2]\n    image: \"x:${T:-1}\"\n    networks: {front: null}\n",
        );
        assert_eq!(out, want);
    }
}
