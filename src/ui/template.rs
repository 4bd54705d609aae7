//! Go-style `--format` templates as the docker CLI and compose take them, for the fields a row
//! has: `{{.Name}}`, `{{json .}}`, `{{json .Labels}}`, `{{lower .State}}`, with `table` before the
//! template for a header row and `\t`/`\n` written as escapes. A template that asks for more
//! (ranges, conditions) is refused naming the part, rather than printed wrong.

use anyhow::{Result, bail};
use serde_json::Value;

/// One piece of a template: text as it is, or a field to put in.
#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    Field { path: Vec<String>, func: Func },
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum Func {
    Plain,
    Json,
    Lower,
    Upper,
}

#[derive(Debug)]
pub struct Template {
    pieces: Vec<Piece>,
    table: bool,
}

impl Template {
    /// Parses `text` (`table` prefix, escapes, `{{…}}` actions).
    pub fn parse(text: &str) -> Result<Self> {
        let (table, body) = match text.strip_prefix("table") {
            Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => {
                (true, rest.trim_start())
            }
            _ => (false, text),
        };
        let body = body.replace("\\t", "\t").replace("\\n", "\n");
        let mut pieces = Vec::new();
        let mut rest = body.as_str();
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                bail!("the --format template has `{{{{` without `}}}}`");
            };
            pieces.push(action(after[..close].trim())?);
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        Ok(Template { pieces, table })
    }

    /// Whether the template prints `field` (`{{json .}}` prints every field).
    pub fn uses(&self, field: &str) -> bool {
        self.pieces.iter().any(|p| match p {
            Piece::Field { path, .. } => path.first().is_none_or(|f| f == field),
            Piece::Text(_) => false,
        })
    }

    /// The header row of a `table` template: each field's name in capitals.
    pub fn header(&self) -> Option<String> {
        if !self.table {
            return None;
        }
        Some(
            self.pieces
                .iter()
                .map(|p| match p {
                    Piece::Text(t) => t.clone(),
                    Piece::Field { path, .. } if path.is_empty() => String::new(),
                    Piece::Field { path, .. } => path.join(" ").to_uppercase(),
                })
                .collect(),
        )
    }

    /// The template filled in with `row` (a JSON object).
    pub fn render(&self, row: &Value) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field { path, func } => {
                    let value = path.iter().try_fold(row, |v, k| v.get(k));
                    let value = value.unwrap_or(&Value::Null);
                    let text = match (func, value) {
                        (Func::Json, v) => v.to_string(),
                        (_, Value::String(s)) => s.clone(),
                        (_, Value::Null) => "<no value>".to_owned(),
                        (_, v) => v.to_string(),
                    };
                    out.push_str(&match func {
                        Func::Lower => text.to_lowercase(),
                        Func::Upper => text.to_uppercase(),
                        _ => text,
                    });
                }
            }
        }
        out
    }
}

/// `.Field.Sub`, `json .`, `lower .State` …
fn action(inner: &str) -> Result<Piece> {
    let (func, arg) = match inner.split_once(char::is_whitespace) {
        Some((f, a)) => (f, a.trim()),
        None => ("", inner),
    };
    let func = match func {
        "" => Func::Plain,
        "json" => Func::Json,
        "lower" => Func::Lower,
        "upper" => Func::Upper,
        other => bail!(
            "the --format template uses `{other}`, which stackctl's templates do not have\n  = help: use fields (`{{{{.Name}}}}`), `json`, `lower` or `upper`, or --format json and a JSON tool"
        ),
    };
    let Some(path) = arg.strip_prefix('.') else {
        bail!(
            "the --format template part `{{{{{inner}}}}}` names no field\n  = help: fields start with a dot: `{{{{.Name}}}}`"
        );
    };
    let path = path
        .split('.')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(Piece::Field { path, func })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_json_and_tables_render_as_docker_renders_them() {
        let row = serde_json::json!({"Name": "p-web-1", "State": "RUNNING", "Labels": {"a": "b"}, "N": 3});
        let t = Template::parse("{{.Name}}\\t{{lower .State}} {{.N}}").unwrap();
        assert_eq!(t.render(&row), "p-web-1\trunning 3");
        assert_eq!(t.header(), None);
        let j = Template::parse("{{json .Labels}}|{{json .}}").unwrap();
        assert!(j.render(&row).starts_with("{\"a\":\"b\"}|{"));
        let table = Template::parse("table {{.Name}}\\t{{.State}}").unwrap();
        assert_eq!(table.header().unwrap(), "NAME\tSTATE");
        assert_eq!(
            Template::parse("{{.Missing}}").unwrap().render(&row),
            "<no value>"
        );
    }

    #[test]
    fn a_template_says_which_fields_it_prints() {
        let t = Template::parse("table {{.Name}}\\t{{lower .State}}").unwrap();
        assert!(t.uses("Name") && t.uses("State"));
        assert!(!t.uses("RestartCount"));
        assert!(Template::parse("{{json .}}").unwrap().uses("RestartCount"));
        assert!(!Template::parse("just text").unwrap().uses("Name"));
    }

    #[test]
    fn what_the_templates_cannot_do_is_refused() {
        assert!(Template::parse("{{range .Labels}}x{{end}}").is_err());
        assert!(Template::parse("{{.Name").is_err());
        assert!(Template::parse("{{Name}}").is_err());
    }
}
