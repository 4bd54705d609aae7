//! The project as compose's `config` prints it. Tools read that document back (an IDE takes the
//! Dockerfile's name from it, a test library the networks a service joins), so what compose's
//! loader makes explicit is written out here too: the implicit `default` network, each resource's
//! engine-side name, the defaults of a port, a build and a volume mount, and in JSON the members
//! Go prints even when empty. Only in what is printed: the model leaves them implicit, so that the
//! containers' configuration hashes are as they were.

use serde_yaml::{Mapping, Value};

/// What `config` prints, spelt as compose spells it; `json` adds what only compose's JSON has.
pub fn as_compose_prints(doc: &mut Value, json: bool) {
    let project = doc
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut uses_default = false;
    if let Some(Value::Mapping(services)) = doc.get_mut("services") {
        for (_, svc) in services.iter_mut() {
            if let Value::Mapping(svc) = svc {
                uses_default |= spell_out_service(svc, json);
            }
        }
    }
    let Value::Mapping(top) = doc else {
        return;
    };
    if uses_default
        && let Value::Mapping(networks) = top
            .entry("networks".into())
            .or_insert_with(|| Value::Mapping(Mapping::new()))
    {
        networks
            .entry("default".into())
            .or_insert_with(|| Value::Mapping(Mapping::new()));
    }
    for kind in ["networks", "volumes", "configs", "secrets"] {
        let Some(Value::Mapping(defs)) = top.get_mut(kind) else {
            continue;
        };
        for (key, def) in defs.iter_mut() {
            if def.is_null() {
                *def = Value::Mapping(Mapping::new());
            }
            let Value::Mapping(def) = def else {
                continue;
            };
            let key = key.as_str().unwrap_or_default();
            // `name: ""` (an unset variable) is a name given: compose leaves it out, unfilled.
            let named = def.contains_key("name");
            def.retain(|_, v| v.as_str() != Some(""));
            if !named {
                let external = def.get("external").is_some_and(is_true);
                let name = if external {
                    key.to_owned()
                } else {
                    format!("{project}_{key}")
                };
                def.insert("name".into(), name.into());
            }
            if json && kind == "networks" && !def.contains_key("ipam") {
                def.insert("ipam".into(), Value::Mapping(Mapping::new()));
            }
        }
    }
}

/// One service's implicit settings written out; whether it joins the `default` network.
fn spell_out_service(svc: &mut Mapping, json: bool) -> bool {
    // Go omits an empty string (a variable that was unset): `platform: ""` is no platform.
    svc.retain(|k, v| {
        matches!(k.as_str(), Some("command" | "entrypoint")) || v.as_str() != Some("")
    });
    if let Some(Value::Mapping(build)) = svc.get_mut("build") {
        if build.get("dockerfile").and_then(Value::as_str) == Some("") {
            build.remove("dockerfile");
        } else if !build.contains_key("dockerfile") && !build.contains_key("dockerfile_inline") {
            build.insert("dockerfile".into(), "Dockerfile".into());
        }
        bytes_as_text(build, "shm_size");
    }
    for key in ["mem_limit", "memswap_limit", "mem_reservation", "shm_size"] {
        bytes_as_text(svc, key);
    }
    if let Some(Value::Mapping(resources)) =
        svc.get_mut("deploy").and_then(|d| d.get_mut("resources"))
    {
        for (_, side) in resources.iter_mut() {
            if let Value::Mapping(side) = side {
                bytes_as_text(side, "memory");
            }
        }
    }
    for item in list(svc, "ports") {
        if let Value::Mapping(port) = item
            && !port.contains_key("mode")
        {
            port.insert("mode".into(), "ingress".into());
        }
    }
    for item in list(svc, "volumes") {
        let Value::Mapping(mount) = item else {
            continue;
        };
        if mount.get("type").and_then(Value::as_str) == Some("volume")
            && !mount.contains_key("volume")
        {
            mount.insert("volume".into(), Value::Mapping(Mapping::new()));
        }
        if let Some(Value::Mapping(tmpfs)) = mount.get_mut("tmpfs") {
            bytes_as_text(tmpfs, "size");
        }
    }
    if json {
        // Go's JSON has no "omit if empty" for these two: a service without them says `null`.
        for key in ["command", "entrypoint"] {
            if !svc.contains_key(key) {
                svc.insert(key.into(), Value::Null);
            }
        }
        let rules = svc.get_mut("develop").and_then(|d| d.get_mut("watch"));
        for rule in rules.and_then(Value::as_sequence_mut).into_iter().flatten() {
            if let Value::Mapping(rule) = rule
                && !rule.contains_key("exec")
            {
                let mut exec = Mapping::new();
                exec.insert("command".into(), Value::Null);
                rule.insert("exec".into(), Value::Mapping(exec));
            }
        }
        if let Some(Value::Mapping(deploy)) = svc.get_mut("deploy") {
            for key in ["placement", "resources"] {
                if !deploy.contains_key(key) {
                    deploy.insert(key.into(), Value::Mapping(Mapping::new()));
                }
            }
        }
    }
    // A service whose network namespace is chosen otherwise, or that a provider runs, joins none.
    if svc.contains_key("network_mode") || svc.contains_key("provider") {
        return false;
    }
    match svc.get_mut("networks") {
        Some(Value::Mapping(nets)) if !nets.is_empty() => nets.contains_key("default"),
        _ => {
            let mut default = Mapping::new();
            default.insert("default".into(), Value::Null);
            svc.insert("networks".into(), Value::Mapping(default));
            true
        }
    }
}

/// A size in bytes as compose prints it, in YAML and JSON alike: a string of digits.
fn bytes_as_text(m: &mut Mapping, key: &str) {
    if let Some(v) = m.get_mut(key)
        && let Some(n) = v.as_u64()
    {
        *v = n.to_string().into();
    }
}

fn list<'a>(svc: &'a mut Mapping, key: &str) -> impl Iterator<Item = &'a mut Value> {
    svc.get_mut(key)
        .and_then(Value::as_sequence_mut)
        .into_iter()
        .flatten()
}

fn is_true(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// YAML text that YAML 1.1 readers (PyYAML, many CI tools) read as it is meant: the strings
/// `no`, `yes`, `on`, `off`, `y`, `n` quoted, as compose quotes them (`restart: "no"` would
/// otherwise come back as `false`). serde_yaml writes YAML 1.2, where they need no quotes.
pub fn yaml_1_1_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    // The indentation of the line that opened a block scalar, whose content is left alone.
    let mut block: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(at) = block {
            if line.trim().is_empty() || indent > at {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            block = None;
        }
        let (head, mut rest) = line.split_at(indent);
        out.push_str(head);
        while let Some(after) = rest.strip_prefix("- ") {
            out.push_str("- ");
            rest = after;
        }
        let (key, value) = split_key(rest);
        if let Some(key) = key {
            out.push_str(&quoted_if_ambiguous(key));
            out.push(':');
            if let Some(v) = value {
                out.push(' ');
                if v.starts_with('|') || v.starts_with('>') {
                    block = Some(indent);
                }
                out.push_str(&quoted_if_ambiguous(v));
            }
        } else {
            if rest.starts_with('|') || rest.starts_with('>') {
                block = Some(indent);
            }
            out.push_str(&quoted_if_ambiguous(rest));
        }
        out.push('\n');
    }
    out
}

/// A block mapping line's key and value (`key: value`, `key:`), or no key for a plain scalar.
fn split_key(s: &str) -> (Option<&str>, Option<&str>) {
    let end = match s.as_bytes().first() {
        Some(q @ (b'"' | b'\'')) => {
            // A quoted key: its end is the closing quote not escaped (`\"` or `''`).
            let mut i = 1;
            let b = s.as_bytes();
            loop {
                match b.get(i) {
                    None => return (None, None),
                    Some(b'\\') if *q == b'"' => i += 2,
                    Some(c) if c == q && b.get(i + 1) == Some(q) && *q == b'\'' => i += 2,
                    Some(c) if c == q => break i + 1,
                    Some(_) => i += 1,
                }
            }
        }
        _ => match s.find(": ") {
            Some(i) => i,
            None if s.ends_with(':') => s.len() - 1,
            None => return (None, None),
        },
    };
    match s[end..].strip_prefix(':') {
        Some("") => (Some(&s[..end]), None),
        Some(v) => match v.strip_prefix(' ') {
            Some(v) => (Some(&s[..end]), Some(v)),
            None => (None, None),
        },
        None => (None, None),
    }
}

fn quoted_if_ambiguous(scalar: &str) -> std::borrow::Cow<'_, str> {
    const YAML_1_1_BOOLEANS: [&str; 6] = ["y", "yes", "n", "no", "on", "off"];
    if YAML_1_1_BOOLEANS.contains(&scalar.to_ascii_lowercase().as_str()) {
        format!("\"{scalar}\"").into()
    } else {
        scalar.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(yaml: &str, json: bool) -> Value {
        let mut v: Value = serde_yaml::from_str(yaml).unwrap();
        as_compose_prints(&mut v, json);
        v
    }

    #[test]
    fn the_defaults_compose_writes_out_are_printed_and_what_is_given_is_kept() {
        let v = printed(
            "services:\n  a:\n    build: {context: .}\n    ports: [{target: 80}, {target: 81, mode: host}]\n  b:\n    build: {context: ., dockerfile_inline: 'FROM x'}\n  c:\n    image: x\n",
            false,
        );
        let a = &v["services"]["a"];
        assert_eq!(a["build"]["dockerfile"], "Dockerfile");
        assert_eq!(a["ports"][0]["mode"], "ingress");
        assert_eq!(a["ports"][1]["mode"], "host");
        assert!(v["services"]["b"]["build"].get("dockerfile").is_none());
        assert!(v["services"]["c"].get("build").is_none());
    }

    #[test]
    fn the_default_network_is_listed_where_compose_lists_it() {
        let v = printed(
            "name: p\nservices:\n  a: {image: x}\n  b: {image: x, network_mode: host}\n  c: {image: x, networks: {front: null}}\nnetworks:\n  front: {}\n",
            false,
        );
        assert_eq!(v["services"]["a"]["networks"]["default"], Value::Null);
        assert!(v["services"]["a"]["networks"].get("default").is_some());
        assert!(v["services"]["b"].get("networks").is_none(), "network_mode");
        assert!(v["services"]["c"]["networks"].get("default").is_none());
        assert_eq!(v["networks"]["default"]["name"], "p_default");
        assert_eq!(v["networks"]["front"]["name"], "p_front");

        let only_host = printed(
            "name: p\nservices:\n  b: {image: x, network_mode: host}\n",
            false,
        );
        assert!(only_host.get("networks").is_none(), "no service joins it");
    }

    #[test]
    fn resources_are_named_as_the_engine_will_name_them() {
        let v = printed(
            "name: p\nservices: {}\nvolumes:\n  data:\n  old: {external: true}\n  set: {name: mine}\nsecrets:\n  s: {file: ./s}\n",
            false,
        );
        assert_eq!(v["volumes"]["data"]["name"], "p_data");
        assert_eq!(
            v["volumes"]["old"]["name"], "old",
            "external: the key itself"
        );
        assert_eq!(v["volumes"]["set"]["name"], "mine");
        assert_eq!(v["secrets"]["s"]["name"], "p_s");
        assert!(v["volumes"]["data"].get("ipam").is_none());
    }

    #[test]
    fn json_has_the_members_go_prints_even_when_empty() {
        let yaml = "name: p\nservices:\n  a:\n    image: x\n    command: [run]\n    deploy: {replicas: 2}\n    volumes: [{type: volume, target: /d}, {type: bind, source: /s, target: /t}]\n";
        let v = printed(yaml, true);
        let a = &v["services"]["a"];
        assert_eq!(a["entrypoint"], Value::Null);
        assert!(a.get("entrypoint").is_some());
        assert_eq!(a["command"][0], "run");
        assert!(a["deploy"]["placement"].is_mapping());
        assert!(a["deploy"]["resources"].is_mapping());
        assert!(a["volumes"][0]["volume"].is_mapping());
        assert!(a["volumes"][1].get("volume").is_none());
        assert!(v["networks"]["default"]["ipam"].is_mapping());

        assert!(a["develop"].is_null());
        let y = printed(yaml, false);
        assert!(
            y["services"]["a"].get("entrypoint").is_none(),
            "YAML omits it"
        );
        assert!(y["networks"]["default"].get("ipam").is_none());
        assert!(y["services"]["a"]["volumes"][0]["volume"].is_mapping());
    }

    #[test]
    fn sizes_are_strings_and_empty_strings_are_left_out_as_go_leaves_them() {
        let mut v: Value = serde_yaml::from_str(
            "name: p\nservices:\n  a:\n    image: x\n    platform: ''\n    mem_limit: 1024\n    shm_size: 64\n    build: {context: ., dockerfile: '', shm_size: 8}\n    deploy: {resources: {limits: {memory: 2048}}}\n    volumes: [{type: tmpfs, target: /t, tmpfs: {size: 16}}]\n    develop: {watch: [{path: /src, action: sync, target: /app}]}\nvolumes:\n  v: {external: true, name: ''}\n",
        )
        .unwrap();
        as_compose_prints(&mut v, true);
        let a = &v["services"]["a"];
        assert!(a.get("platform").is_none());
        assert_eq!(a["mem_limit"], "1024");
        assert_eq!(a["shm_size"], "64");
        assert_eq!(a["build"]["shm_size"], "8");
        assert!(
            a["build"].get("dockerfile").is_none(),
            "an empty one is not the default"
        );
        assert_eq!(a["deploy"]["resources"]["limits"]["memory"], "2048");
        assert_eq!(a["volumes"][0]["tmpfs"]["size"], "16");
        assert!(a["develop"]["watch"][0]["exec"]["command"].is_null());
        assert!(
            v["volumes"]["v"].get("name").is_none(),
            "given empty, left out"
        );
    }

    #[test]
    fn yaml_1_1_booleans_are_quoted_and_block_text_is_left_alone() {
        let doc: Value = serde_yaml::from_str(
            "restart: 'no'\nlist: ['yes', 'off', Off, fine]\n'on': 'N'\nmap: {'y': [{'n': 'no'}]}\ntext: \"a\\nline: no\\n\"\nkey: 'value: no'\n",
        )
        .unwrap();
        let text = yaml_1_1_safe(&serde_yaml::to_string(&doc).unwrap());
        assert!(text.contains("restart: \"no\"\n"), "{text}");
        assert!(
            text.contains("- \"yes\"\n- \"off\"\n- \"Off\"\n- fine\n"),
            "{text}"
        );
        assert!(text.contains("\"on\": \"N\""), "{text}");
        assert!(text.contains("- \"n\": \"no\""), "{text}");
        assert!(
            text.contains("  line: no\n"),
            "block text as written: {text}"
        );
        let back: Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back, doc, "the same document: {text}");
    }
}
