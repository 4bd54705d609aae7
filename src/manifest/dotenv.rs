//! `.env` and `env_file` files as docker compose reads them: `KEY=VALUE` lines, `export` allowed,
//! `#` comments (inline after whitespace), unquoted values with spaces, 'single quotes' taken
//! literally, "double quotes" with escapes and several lines, and `${VAR:-default}` expanded in
//! unquoted and double-quoted values from the environment and the lines above.

use super::diag::clip;
use super::interpolate::interpolate;

/// A line that cannot be read: its number (1-based), the column and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses `text` into ordered pairs; `lookup` answers variables not set in the lines above.
pub fn parse(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, DotenvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let line = lines[i].trim_start();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let fail = |column: usize, message: String| DotenvError {
            line: number,
            column,
            message,
        };
        let Some((key, rest)) = line.split_once('=') else {
            // A bare `KEY` names a variable without giving it a value here: nothing to set.
            if is_key(line.trim()) {
                continue;
            }
            return Err(fail(1, format!("`{}` is not KEY=VALUE", clip(line, 40))));
        };
        let key = key.trim_end();
        if !is_key(key) {
            return Err(fail(
                1,
                format!("`{}` is not a variable name", clip(key, 40)),
            ));
        }
        let raw = rest.trim_start();
        let column = line.len() - raw.len() + 1;
        let known = |name: &str| {
            lookup(name).or_else(|| {
                out.iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            })
        };
        let expand = |v: &str| interpolate(v, &known).map_err(|e| fail(column, e.message));
        let value = match raw.chars().next() {
            Some(q @ ('\'' | '"')) => {
                // A quoted value may go on over the following lines until its closing quote.
                let mut body = raw[1..].to_owned();
                // Each added line is searched on its own (a newline ends any escape), so an
                // unclosed quote costs linear time, not quadratic.
                let mut from = 0;
                let close = loop {
                    if let Some(end) = closing_quote(&body[from..], q) {
                        break from + end;
                    }
                    let Some(next) = lines.get(i) else {
                        return Err(fail(column, format!("the {q} opened here is never closed")));
                    };
                    body.push('\n');
                    from = body.len();
                    body.push_str(next);
                    i += 1;
                };
                let inner = &body[..close];
                let after = body[close + 1..].trim_start();
                if !(after.is_empty() || after.starts_with('#')) {
                    return Err(fail(
                        column,
                        format!("unexpected `{}` after the closing quote", clip(after, 40)),
                    ));
                }
                if q == '\'' {
                    inner.to_owned()
                } else {
                    expand(&unescape(inner))?
                }
            }
            _ => {
                // An unquoted value ends at a `#` that follows whitespace; spaces inside are kept.
                let end = raw
                    .char_indices()
                    .find(|&(j, c)| c == '#' && j > 0 && raw[..j].ends_with([' ', '\t']))
                    .map_or(raw.len(), |(j, _)| j);
                expand(raw[..end].trim_end())?
            }
        };
        out.push((key.to_owned(), value));
    }
    Ok(out)
}

fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

/// The byte index of the quote that closes `body` (a backslash escapes one in double quotes).
fn closing_quote(body: &str, q: char) -> Option<usize> {
    let mut escaped = false;
    for (j, c) in body.char_indices() {
        match c {
            '\\' if q == '"' && !escaped => escaped = true,
            c if c == q && !escaped => return Some(j),
            _ => escaped = false,
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other @ ('"' | '\\' | '\'')) => out.push(other),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(text: &str) -> Result<Vec<(String, String)>, DotenvError> {
        parse(text, &|k| (k == "HOME").then(|| "/home/me".to_owned()))
    }

    fn pairs(text: &str) -> Vec<(String, String)> {
        env(text).unwrap()
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn unquoted_values_keep_their_spaces_and_lose_inline_comments() {
        assert_eq!(
            pairs("WHEREAMI=Env File\nA = b c   # a comment\nB=x#not-a-comment\n# whole line\n"),
            [
                p("WHEREAMI", "Env File"),
                p("A", "b c"),
                p("B", "x#not-a-comment")
            ]
        );
        assert_eq!(
            pairs("export TAG=1.0\nEMPTY=\n"),
            [p("TAG", "1.0"), p("EMPTY", "")]
        );
    }

    #[test]
    fn defaults_and_earlier_lines_are_expanded_outside_single_quotes() {
        assert_eq!(
            pairs(
                "IMAGE=${IMAGE_NAME:-backend}:${TAG:-latest}\nDIR=$HOME/app\nFULL=\"$IMAGE@x\"\nRAW='$HOME ${X:-y}'\n"
            ),
            [
                p("IMAGE", "backend:latest"),
                p("DIR", "/home/me/app"),
                p("FULL", "backend:latest@x"),
                p("RAW", "$HOME ${X:-y}"),
            ]
        );
    }

    #[test]
    fn double_quotes_take_escapes_and_several_lines() {
        assert_eq!(
            pairs("A=\"line1\\nline2 \\\"q\\\"\"\nB=\"first\nsecond\"\nC=after\n"),
            [
                p("A", "line1\nline2 \"q\""),
                p("B", "first\nsecond"),
                p("C", "after")
            ]
        );
    }

    #[test]
    fn mistakes_name_their_line() {
        let e = env("A=1\nB=\"never closed\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("never closed"), "{e:?}");
        let e = env("A=1\nnot a pair\n").unwrap_err();
        assert_eq!((e.line, e.message.contains("KEY=VALUE")), (2, true));
        let e = env("X=${A\n").unwrap_err();
        assert!(e.message.contains("unterminated"), "{e:?}");
        assert_eq!(pairs("JUST_A_NAME\n"), []);
    }

    #[test]
    fn an_unclosed_quote_over_many_lines_is_refused_in_linear_time() {
        // Found by the dotenv fuzz target (tests/fuzz/regressions/dotenv-unclosed-quote-…): 40 KB
        // took 16 s in a debug build when each added line rescanned the whole value.
        let text = format!("A=\"\n{}", "x\n".repeat(200_000));
        let t = std::time::Instant::now();
        let e = env(&text).unwrap_err();
        assert!(e.message.contains("never closed"), "{e:?}");
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(env("A=\"one\\\ntwo\"\n").unwrap()[0].1, "one\\\ntwo");
    }
}
