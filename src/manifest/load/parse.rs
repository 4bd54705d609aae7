//! One manifest file from bytes to interpolated YAML documents, with their source positions, after
//! the bounds on size, nesting and alias expansion.

use std::path::Path;

use serde::Deserialize;
use serde_yaml::Value;

use super::*;
use crate::manifest::diag::{Diagnostic, Diagnostics};
use crate::manifest::interpolate::interpolate;
use crate::manifest::source::{Locator, SourceFile};
use crate::manifest::spans::{FieldPath, SpanIndex};

pub(super) fn read_file(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(SourceFile, Value)>, Diagnostics> {
    use std::io::Read;
    let cannot = |e: std::io::Error| {
        Diagnostic::new(format!("cannot read the manifest: {e}"))
            .in_file(path)
            .hint("check the path, or run from the folder that holds the manifest")
    };
    if path.is_dir() {
        return Err(Diagnostic::new("the manifest path is a folder, not a file")
            .in_file(path)
            .hint("name the file itself: -f DIR/compose.yaml")
            .into());
    }
    // Read at most one byte past the limit: a device or a pipe reports no size.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    parse_source(path, bytes, lookup)
}

/// The manifest's text: UTF-8, with or without a byte-order mark, or UTF-16 with one (what
/// Windows PowerShell's `>` writes).
pub(super) fn decode_text(path: &Path, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    let utf16 = |bytes: &[u8], read: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| read([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16(&units).map_err(|_| {
            Diagnostic::new(
                "the manifest starts with a UTF-16 byte-order mark but is not valid UTF-16",
            )
            .in_file(path)
            .hint("save it as UTF-8")
        })
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => {
            let skip = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
                3
            } else {
                0
            };
            String::from_utf8(bytes[skip..].to_vec()).map_err(|e| {
                Diagnostic::new(format!(
                    "the manifest is not UTF-8 text (bad byte at offset {})",
                    e.utf8_error().valid_up_to() + skip
                ))
                .in_file(path)
                .hint("a manifest is a YAML text file; is this the right file?")
            })
        }
    }
}

/// Parses one manifest's bytes: YAML with positions, merge keys, extensions stripped, interpolated.
/// Each YAML document of the file is one result, merged in order as compose merges them.
pub(super) fn parse_source(
    path: &Path,
    bytes: Vec<u8>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(SourceFile, Value)>, Diagnostics> {
    parse_source_as(path, bytes, Some(lookup))
}

/// The documents of the manifest at `path` as written: `${…}` left alone (`config
/// --no-interpolate`), after the same bounds and merge keys as a load.
pub fn raw_documents(path: &Path) -> Result<Vec<Value>, Diagnostics> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostics::from(Diagnostic::new(format!("cannot read the manifest: {e}")).in_file(path))
    })?;
    Ok(parse_source_as(path, bytes, None)?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

/// A variable's value, by name (the project's variables).
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// `parse_source`, interpolating with `lookup` when there is one.
fn parse_source_as(
    path: &Path,
    bytes: Vec<u8>,
    lookup: Option<Lookup<'_>>,
) -> Result<Vec<(SourceFile, Value)>, Diagnostics> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Diagnostic::new(format!(
            "the manifest is larger than the limit of {MAX_FILE_BYTES} bytes"
        ))
        .in_file(path)
        .hint("no real stack comes close: is this the right file?")
        .into());
    }
    let text = decode_text(path, bytes)?;
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(Diagnostic::new("the manifest is empty")
            .in_file(path)
            .hint("a manifest needs at least `services:` with one service")
            .into());
    }
    let (spans, too_big) = SpanIndex::build_all(&text);
    if let Some(t) = too_big {
        return Err(
            Diagnostic::new(format!("the manifest is refused: {}", t.why))
                .in_file(path)
                .at(
                    t.at.line,
                    t.at.column,
                    text.lines().nth(t.at.line.saturating_sub(1)),
                )
                .hint("expand fewer aliases, or nest less; no Compose file needs this much")
                .into(),
        );
    }
    let mut out = Vec::new();
    let mut spans = spans.into_iter();
    for document in serde_yaml::Deserializer::from_str(&text) {
        let mut value = Value::deserialize(document).map_err(|e| yaml_error(path, &text, &e))?;
        let spans = spans.next().unwrap_or_default();
        if value.is_null() && out.is_empty() && spans.is_empty() {
            // An empty document before `---`: nothing to merge.
            continue;
        }
        value
            .apply_merge()
            .map_err(|e| yaml_error(path, &text, &e))?;
        if !value.is_mapping() {
            return Err(Diagnostic::new(
                "the manifest's top level must be a mapping with `services:`",
            )
            .in_file(path)
            .at(1, 1, text.lines().next())
            .into());
        }
        if lookup.is_some() {
            strip_extensions(&mut value, 0);
        }
        let source = SourceFile {
            path: path.to_path_buf(),
            spans,
        };
        let mut diags = Diagnostics::default();
        let loc = Locator {
            files: std::slice::from_ref(&source),
        };
        if let Some(lookup) = lookup {
            interpolate_value(&mut value, &FieldPath::root(), lookup, &loc, &mut diags);
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        out.push((source, value));
    }
    Ok(out)
}

pub(super) fn yaml_error(path: &Path, text: &str, e: &serde_yaml::Error) -> Diagnostics {
    let msg = e.to_string();
    // serde_yaml appends " at line X column Y"; the location is shown separately.
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
    let mut d = Diagnostic::new(format!("invalid YAML: {msg}")).in_file(path);
    if let Some(l) = e.location() {
        d = d.at(
            l.line(),
            l.column(),
            text.lines().nth(l.line().saturating_sub(1)),
        );
    }
    let line_has_tab = e
        .location()
        .and_then(|l| text.lines().nth(l.line().saturating_sub(1)))
        .is_some_and(|l| l.contains('\t'));
    let hint = if line_has_tab {
        "YAML indentation must use spaces, not tabs"
    } else if msg.contains("recursion limit") || msg.contains("repetition limit") {
        "the document nests or repeats aliases too deeply; expand the anchors by hand"
    } else {
        "check the indentation and the `:` after each key; quote values that contain `: ` or start with `*`, `&` or `{`"
    };
    d.hint(hint).into()
}

/// Mappings whose keys are the user's data, not format keys: `x-` there is a real key.
pub(super) const USER_KEYED: &[&str] = &[
    "environment",
    "labels",
    "args",
    "driver_opts",
    "annotations",
    "sysctls",
    "extra_hosts",
];

pub(super) fn strip_extensions(v: &mut Value, depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        Value::Mapping(m) => {
            // The top level's own `x-` entries stay: compose's `config` prints them.
            if depth > 0 {
                m.retain(|k, _| !k.as_str().is_some_and(|k| k.starts_with("x-")));
            }
            for (k, child) in m.iter_mut() {
                if !k.as_str().is_some_and(|k| USER_KEYED.contains(&k)) {
                    strip_extensions(child, depth + 1);
                }
            }
        }
        Value::Sequence(s) => s.iter_mut().for_each(|c| strip_extensions(c, depth + 1)),
        Value::Tagged(t) => strip_extensions(&mut t.value, depth + 1),
        _ => {}
    }
}

pub(super) fn interpolate_value(
    v: &mut Value,
    path: &FieldPath,
    lookup: &dyn Fn(&str) -> Option<String>,
    loc: &Locator,
    diags: &mut Diagnostics,
) {
    match v {
        Value::String(s) if s.contains('$') => match interpolate(s, lookup) {
            Ok(out) => *s = out,
            Err(e) => {
                let mut d = loc.diag(path, false, e.message);
                d.hint = e.hint;
                diags.push(d);
            }
        },
        Value::Mapping(m) => {
            for (k, child) in m.iter_mut() {
                interpolate_value(child, &path.key(&key_text(k)), lookup, loc, diags);
            }
        }
        Value::Sequence(s) => {
            for (i, child) in s.iter_mut().enumerate() {
                interpolate_value(child, &path.index(i), lookup, loc, diags);
            }
        }
        Value::Tagged(t) => interpolate_value(&mut t.value, path, lookup, loc, diags),
        _ => {}
    }
}

/// A mapping key as the path to it names it: a string as written, any other scalar as YAML.
pub(super) fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}
