//! Compose's merge tags in a later file: `!reset` takes a value out of what earlier files (or the
//! service it `extends`) set, `!override` replaces it whole instead of merging into it. Both are
//! read off the raw YAML before decoding, as paths to clear in the base; the rest of the merge
//! stays the typed one in merge.rs.

use serde_yaml::Value;
use serde_yaml::value::TaggedValue;

use crate::manifest::model::Service;

/// Where in a service a later file reset or overrode a value (keys from the service down).
pub(super) type ClearedPaths = Vec<Vec<String>>;

/// What one tag asks of the merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MergeTag {
    Reset,
    Override,
}

pub(super) fn merge_tag(t: &TaggedValue) -> Result<MergeTag, String> {
    match t.tag.to_string().trim_start_matches('!') {
        "reset" => Ok(MergeTag::Reset),
        "override" => Ok(MergeTag::Override),
        other => Err(format!(
            "unknown YAML tag `!{other}`: Compose files know `!reset` and `!override`"
        )),
    }
}

/// Takes the merge tags out of `v` (a service as written): a `!reset` value is removed, an
/// `!override` value stays without its tag. Returns the paths whose base value must be cleared,
/// or the first unknown tag's path and message.
pub(super) fn take_merge_tags(v: &mut Value) -> Result<ClearedPaths, (Vec<String>, String)> {
    let mut cleared = Vec::new();
    walk(v, &mut Vec::new(), &mut cleared, 0)?;
    Ok(cleared)
}

fn walk(
    v: &mut Value,
    at: &mut Vec<String>,
    cleared: &mut ClearedPaths,
    depth: usize,
) -> Result<(), (Vec<String>, String)> {
    if depth > 64 {
        return Ok(());
    }
    match v {
        Value::Mapping(m) => {
            let mut reset_keys = Vec::new();
            for (k, child) in m.iter_mut() {
                let key = super::parse::key_text(k);
                at.push(key.clone());
                if let Value::Tagged(t) = child {
                    let tag = merge_tag(t).map_err(|e| (at.clone(), e))?;
                    cleared.push(at.clone());
                    match tag {
                        MergeTag::Reset => reset_keys.push(k.clone()),
                        MergeTag::Override => {
                            let inner = std::mem::take(&mut t.value);
                            *child = inner;
                        }
                    }
                }
                walk(child, at, cleared, depth + 1)?;
                at.pop();
            }
            for k in reset_keys {
                m.remove(&k);
            }
        }
        Value::Sequence(s) => {
            // In a list the tags mean nothing to merge by; the value stands as written.
            for (i, child) in s.iter_mut().enumerate() {
                if let Value::Tagged(t) = child {
                    merge_tag(t).map_err(|e| (at.clone(), e))?;
                    *child = std::mem::take(&mut t.value);
                }
                at.push(i.to_string());
                walk(child, at, cleared, depth + 1)?;
                at.pop();
            }
        }
        Value::Tagged(t) => {
            merge_tag(t).map_err(|e| (at.clone(), e))?;
            *v = std::mem::take(&mut t.value);
            walk(v, at, cleared, depth + 1)?;
        }
        _ => {}
    }
    Ok(())
}

/// Clears `paths` in `base`, so that merging the later file's service onto it leaves those values
/// as the later file has them (or unset). The service goes through its own serialised form, which
/// reads back as the same service (config's output does the same).
pub(super) fn clear_in(base: &mut Service, paths: &ClearedPaths) -> Result<(), String> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut v = serde_yaml::to_value(&*base).map_err(|e| e.to_string())?;
    for path in paths {
        remove_path(&mut v, path);
    }
    *base = serde_yaml::from_value(v).map_err(|e| e.to_string())?;
    Ok(())
}

fn remove_path(v: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = v;
    for key in parents {
        let next = match at {
            Value::Mapping(m) => m.get_mut(key.as_str()),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => return,
        }
    }
    if let Value::Mapping(m) = at {
        m.remove(last.as_str());
    }
}

/// What one file's merge tags ask of the services already loaded.
#[derive(Default)]
pub(super) struct ServiceTags {
    /// Per service, the paths to clear in its base before merging.
    pub(super) cleared: std::collections::BTreeMap<String, ClearedPaths>,
    /// Services tagged whole: `!reset` removes them, `!override` defines them anew.
    pub(super) replaced: Vec<String>,
}

/// Takes the merge tags out of one file's services as written (`raws`), dropping services reset
/// whole.
pub(super) fn take_service_tags(
    raws: &mut std::collections::BTreeMap<String, Value>,
    loc: &crate::manifest::source::Locator,
) -> Result<ServiceTags, crate::manifest::diag::Diagnostic> {
    use crate::manifest::spans::FieldPath;
    let mut tags = ServiceTags::default();
    let at = |name: &str, path: &[String], msg: String| {
        let mut p = FieldPath::root().key("services").key(name);
        for k in path {
            p = p.key(k);
        }
        loc.diag(&p, true, msg).hint(
            "use `!reset` to drop a value set by an earlier file, `!override` to replace it whole",
        )
    };
    let mut dropped = Vec::new();
    for (name, raw) in raws.iter_mut() {
        if let Value::Tagged(t) = raw {
            match merge_tag(t).map_err(|e| at(name, &[], e))? {
                MergeTag::Reset => dropped.push(name.clone()),
                MergeTag::Override => {
                    let inner = std::mem::take(&mut t.value);
                    *raw = inner;
                }
            }
            tags.replaced.push(name.clone());
        }
        let cleared = take_merge_tags(raw).map_err(|(path, e)| at(name, &path, e))?;
        tags.cleared.insert(name.clone(), cleared);
    }
    for name in dropped {
        raws.remove(&name);
    }
    Ok(tags)
}
