//! Variable interpolation with the Compose rules: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`,
//! `${VAR:?msg}`, `${VAR?msg}`, `${VAR:+alt}`, `${VAR+alt}`, nested templates inside defaults and
//! alternatives, and `$$` for a literal `$`. No crate implements the whole set, hence this module.

use super::diag::clip;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterpolationError {
    pub message: String,
    pub hint: Option<String>,
}

fn err(message: impl Into<String>, hint: Option<&str>) -> InterpolationError {
    InterpolationError {
        message: message.into(),
        hint: hint.map(str::to_owned),
    }
}

/// Nested templates deeper than this are refused: a template is user input and must not exhaust the stack.
const MAX_DEPTH: usize = 32;

pub fn interpolate(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolationError> {
    expand(template, lookup, 0)
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn expand(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> Result<String, InterpolationError> {
    if depth > MAX_DEPTH {
        return Err(err("variable templates are nested too deeply", None));
    }
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let mut chars = after.chars();
        match chars.next() {
            Some('$') => {
                out.push('$');
                rest = &after[1..];
            }
            Some('{') => {
                let body_start = 1;
                let close = matching_brace(after).ok_or_else(|| {
                    err(
                        format!("unterminated variable template `${}`", clip(after, 40)),
                        Some("close it with `}`, or write `$$` for a literal `$`"),
                    )
                })?;
                let body = &after[body_start..close];
                out.push_str(&expand_braced(body, lookup, depth)?);
                rest = &after[close + 1..];
            }
            Some(c) if is_name_start(c) => {
                let len = after
                    .find(|c: char| !is_name_char(c))
                    .unwrap_or(after.len());
                let name = &after[..len];
                out.push_str(&lookup(name).unwrap_or_default());
                rest = &after[len..];
            }
            _ => {
                // Not a variable (`$(date)`, `$5`, a trailing `$`): kept as written, as compose
                // keeps it, for the shell in the container to read.
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Index (in `s`, which starts with `{`) of the `}` that closes it, skipping nested `${...}`.
fn matching_brace(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'{' if i == 0 => {}
            b'}' => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn expand_braced(
    body: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> Result<String, InterpolationError> {
    let name_len = body.find(|c: char| !is_name_char(c)).unwrap_or(body.len());
    let name = &body[..name_len];
    if name.is_empty() || !name.starts_with(is_name_start) {
        return Err(err(
            format!("invalid variable name in `${{{}}}`", clip(body, 40)),
            Some("a name starts with a letter or `_` and holds letters, digits and `_`"),
        ));
    }
    let op = &body[name_len..];
    let value = lookup(name);
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let (colon, op) = match op.strip_prefix(':') {
        Some(o) => (true, o),
        None => (false, op),
    };
    // With `:`, an empty value counts as unset.
    let present = if colon { non_empty } else { set };
    let Some(kind) = op.chars().next() else {
        if colon {
            return Err(err(
                format!("invalid variable template `${{{}}}`", clip(body, 40)),
                Some("use `:-`, `:?` or `:+` after the name"),
            ));
        }
        return Ok(value.unwrap_or_default());
    };
    let arg = &op[kind.len_utf8()..];
    match kind {
        '-' => {
            if present {
                Ok(value.unwrap_or_default())
            } else {
                expand(arg, lookup, depth + 1)
            }
        }
        '+' => {
            if present {
                expand(arg, lookup, depth + 1)
            } else {
                Ok(String::new())
            }
        }
        '?' => {
            if present {
                Ok(value.unwrap_or_default())
            } else {
                let msg = expand(arg, lookup, depth + 1)?;
                let what = if colon {
                    "is not set or empty"
                } else {
                    "is not set"
                };
                let mut e = err(format!("required variable {name} {what}"), None);
                e.hint = Some(if msg.is_empty() {
                    format!("set {name} in the environment or in the project's .env file")
                } else {
                    format!("{msg} (set {name} in the environment or in .env)")
                });
                Err(e)
            }
        }
        _ => Err(err(
            format!("invalid variable template `${{{}}}`", clip(body, 40)),
            Some("after the name use one of `:-` `-` `:?` `?` `:+` `+`, then `}`"),
        )),
    }
}

/// A variable a template reads, as `config --variables` lists it: whether it must be set
/// (`?`), the value it falls back to (`-`) and the one it gives when set (`+`), as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VariableUse {
    pub name: String,
    pub required: bool,
    pub default: String,
    pub presence: String,
}

/// The variables `template` reads, outermost first, each as often as it appears. A template
/// `interpolate` refuses reads what it read up to the fault.
pub fn uses(template: &str) -> Vec<VariableUse> {
    let mut out = Vec::new();
    collect_uses(template, &mut out, 0);
    out
}

fn collect_uses(template: &str, out: &mut Vec<VariableUse>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        let after = &rest[dollar + 1..];
        match after.chars().next() {
            Some('$') => rest = &after[1..],
            Some('{') => {
                let Some(close) = matching_brace(after) else {
                    return;
                };
                let body = &after[1..close];
                let name_len = body.find(|c: char| !is_name_char(c)).unwrap_or(body.len());
                let (name, op) = body.split_at(name_len);
                if name.starts_with(is_name_start) {
                    let op = op.strip_prefix(':').unwrap_or(op);
                    let mut used = VariableUse {
                        name: name.to_owned(),
                        ..VariableUse::default()
                    };
                    let arg = op.get(1..).unwrap_or_default();
                    match op.chars().next() {
                        Some('-') => used.default = arg.to_owned(),
                        Some('+') => used.presence = arg.to_owned(),
                        Some('?') => used.required = true,
                        _ => {}
                    }
                    out.push(used);
                    collect_uses(arg, out, depth + 1);
                }
                rest = &after[close + 1..];
            }
            Some(c) if is_name_start(c) => {
                let len = after
                    .find(|c: char| !is_name_char(c))
                    .unwrap_or(after.len());
                out.push(VariableUse {
                    name: after[..len].to_owned(),
                    ..VariableUse::default()
                });
                rest = &after[len..];
            }
            _ => rest = after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SET" => Some("value".into()),
            "EMPTY" => Some(String::new()),
            "PORT" => Some("8080".into()),
            _ => None,
        }
    }

    fn run(t: &str) -> Result<String, InterpolationError> {
        interpolate(t, &env)
    }

    #[test]
    fn plain_and_braced() {
        assert_eq!(run("$SET").unwrap(), "value");
        assert_eq!(run("a${SET}b").unwrap(), "avalueb");
        assert_eq!(run("$SET-x").unwrap(), "value-x");
        assert_eq!(run("${UNSET}").unwrap(), "");
        assert_eq!(run("$UNSET!").unwrap(), "!");
        assert_eq!(run("no vars").unwrap(), "no vars");
    }

    #[test]
    fn dollar_escape() {
        assert_eq!(run("$$SET").unwrap(), "$SET");
        assert_eq!(run("cost: $$5").unwrap(), "cost: $5");
        assert_eq!(run("$${SET}").unwrap(), "${SET}");
    }

    #[test]
    fn default_forms() {
        assert_eq!(run("${UNSET:-d}").unwrap(), "d");
        assert_eq!(run("${EMPTY:-d}").unwrap(), "d");
        assert_eq!(run("${SET:-d}").unwrap(), "value");
        assert_eq!(run("${UNSET-d}").unwrap(), "d");
        assert_eq!(run("${EMPTY-d}").unwrap(), "");
        assert_eq!(run("${SET-d}").unwrap(), "value");
        assert_eq!(run("${UNSET:-}").unwrap(), "");
        assert_eq!(run("${UNSET:-a b:c}").unwrap(), "a b:c");
    }

    #[test]
    fn alternative_forms() {
        assert_eq!(run("${SET:+alt}").unwrap(), "alt");
        assert_eq!(run("${EMPTY:+alt}").unwrap(), "");
        assert_eq!(run("${UNSET:+alt}").unwrap(), "");
        assert_eq!(run("${SET+alt}").unwrap(), "alt");
        assert_eq!(run("${EMPTY+alt}").unwrap(), "alt");
        assert_eq!(run("${UNSET+alt}").unwrap(), "");
    }

    #[test]
    fn required_forms() {
        assert_eq!(run("${SET:?boom}").unwrap(), "value");
        let e = run("${UNSET:?need a port}").unwrap_err();
        assert!(e.message.contains("UNSET is not set or empty"), "{e:?}");
        assert!(e.hint.unwrap().contains("need a port"));
        assert!(run("${EMPTY:?x}").is_err());
        assert_eq!(run("${EMPTY?x}").unwrap(), "");
        assert!(
            run("${UNSET?x}")
                .unwrap_err()
                .message
                .contains("is not set")
        );
    }

    #[test]
    fn nested_defaults() {
        assert_eq!(run("${UNSET:-${PORT}}").unwrap(), "8080");
        assert_eq!(run("${UNSET:-${ALSO:-deep}}").unwrap(), "deep");
        assert_eq!(run("${UNSET:-x${SET}y}z").unwrap(), "xvalueyz");
        assert_eq!(run("${SET:+${PORT:-1}}").unwrap(), "8080");
        assert!(run("${UNSET:-${X:?inner}}").is_err());
    }

    #[test]
    fn invalid_templates() {
        for bad in ["${", "${}", "${1X}", "${SET:}", "${SET%x}", "${UNSET:-${A}"] {
            assert!(run(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn a_dollar_that_starts_no_variable_is_kept_as_compose_keeps_it() {
        for kept in ["$", "$ x", "$1", "echo $(date)", "costs $5", "a$-b"] {
            assert_eq!(run(kept).as_deref(), Ok(kept), "{kept}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let t = "${A:-".repeat(500) + &"}".repeat(500);
        assert!(run(&t).is_err());
    }

    #[test]
    fn a_multibyte_character_after_the_name_is_an_error_not_a_panic() {
        // Found by the fuzzer: `${A\u{2029}...}` sliced inside the character.
        assert!(run("${HT\u{2029}P}").is_err());
        assert!(run("${SET:\u{e9}x}").is_err());
        assert!(run("${SET\u{e9}}").is_err());
    }

    #[test]
    fn unicode_passes_through() {
        assert_eq!(run("héllo ${UNSET:-wörld} ✓").unwrap(), "héllo wörld ✓");
    }

    #[test]
    fn the_variables_a_template_reads_are_listed_with_their_fallbacks() {
        let got = uses("x:${TAG:-latest} $$NOT $PLAIN ${REQ:?need it} ${ALT+on} ${OUT:-${IN}}");
        let names: Vec<&str> = got.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["TAG", "PLAIN", "REQ", "ALT", "OUT", "IN"]);
        assert_eq!(got[0].default, "latest");
        assert!(got[2].required && got[2].default.is_empty());
        assert_eq!(got[3].presence, "on");
        assert_eq!(got[4].default, "${IN}");
        assert!(uses("${unterminated").is_empty());
    }
}
