//! Manifest diagnostics: one error type that carries file, line, column, field and a hint, and renders
//! like a compiler message so the user can jump straight to the mistake.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in the manifest a problem sits. Fields are optional because some problems (an unreadable file,
/// a cross-file rule) have no single position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    /// Dotted field path, e.g. `services.web.ports[0]`.
    pub field: Option<String>,
    pub location: Location,
    pub hint: Option<String>,
    /// The offending source line, shown under the location.
    pub source_line: Option<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            field: None,
            location: Location::default(),
            hint: None,
            source_line: None,
        }
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn in_file(mut self, file: &Path) -> Self {
        self.location.file = Some(file.to_path_buf());
        self
    }

    pub fn at(mut self, line: usize, column: usize, source_line: Option<&str>) -> Self {
        self.location.line = Some(line);
        self.location.column = Some(column);
        self.source_line = source_line.map(str::to_owned);
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        let mut place = String::new();
        if let Some(file) = &self.location.file {
            place.push_str(&file.display().to_string());
            if let Some(line) = self.location.line {
                place.push_str(&format!(":{line}"));
                if let Some(col) = self.location.column {
                    place.push_str(&format!(":{col}"));
                }
            }
        }
        if !place.is_empty() {
            writeln!(f, "  --> {place}")?;
        }
        if let (Some(line), Some(src)) = (self.location.line, &self.source_line) {
            let gutter = line.to_string().len();
            let (src, col) = window(src, self.location.column.unwrap_or(1).max(1));
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{line} | {src}")?;
            writeln!(f, "{:gutter$} | {:>col$}", "", "^")?;
        }
        if let Some(field) = &self.field {
            writeln!(f, "  = field: {field}")?;
        }
        if let Some(hint) = &self.hint {
            writeln!(f, "  = help: {hint}")?;
        }
        Ok(())
    }
}

/// At most `WIDTH` characters of a source line around column `col` (1-based), with `…` where it
/// was cut, and the column within what is shown: a 1 MiB line is not echoed back whole.
fn window(src: &str, col: usize) -> (String, usize) {
    const WIDTH: usize = 120;
    let chars: Vec<char> = src.chars().collect();
    if chars.len() <= WIDTH {
        return (src.to_owned(), col);
    }
    let start = col
        .saturating_sub(WIDTH / 2)
        .min(chars.len().saturating_sub(WIDTH));
    let end = (start + WIDTH).min(chars.len());
    let mut shown: String = chars[start..end].iter().collect();
    let mut col = col - start;
    if start > 0 {
        shown.insert(0, '…');
        col += 1;
    }
    if end < chars.len() {
        shown.push('…');
    }
    (shown, col)
}

/// Every problem found in one pass, so the user can fix them all before running again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

/// The problems that `per_service` holds for `services`, all of them; none is success. For rules
/// the loader records per service and a command raises for the services it touches.
pub fn problems_of<'a>(
    per_service: &std::collections::BTreeMap<String, Diagnostics>,
    services: impl IntoIterator<Item = &'a str>,
) -> Result<(), Diagnostics> {
    let mut all = Diagnostics::default();
    for s in services {
        if let Some(d) = per_service.get(s) {
            all.0.extend(d.0.iter().cloned());
        }
    }
    all.into_result(())
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// Past this many, the rest of a manifest's problems are counted, not printed.
const MAX_SHOWN: usize = 20;

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().take(MAX_SHOWN).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        if self.0.len() > MAX_SHOWN {
            writeln!(f, "\n... and {} more", self.0.len() - MAX_SHOWN)?;
        }
        if self.0.len() > 1 {
            writeln!(f, "\n{} problems found in the manifest", self.0.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The closest candidate to `word` by edit distance, if it is close enough to be a plausible typo.
///
/// Bounded, so that thousands of unknown names against thousands of candidates stay fast: the edit
/// distance is at least the difference in length, so candidates too long or too short are skipped
/// unmeasured, and past `MAX_MEASURED` plausible candidates no suggestion is made.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    const MAX_MEASURED: usize = 1000;
    const MAX_WORD: usize = 256;
    if word.len() > MAX_WORD {
        return None;
    }
    let allowed = |c: &str| 2.max(c.len() / 3);
    let plausible: Vec<&str> = candidates
        .into_iter()
        .filter(|c| c.len().abs_diff(word.len()) <= allowed(c))
        .take(MAX_MEASURED + 1)
        .collect();
    if plausible.len() > MAX_MEASURED {
        return None;
    }
    plausible
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= allowed(c))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// At most `n` characters of `s`, with `…` when cut: user text quoted in a message may be huge.
pub fn clip(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// A list of names for a message: all of a few, the first ones and a count of many.
pub fn some_of(names: &[&str]) -> String {
    const SHOWN: usize = 8;
    if names.len() <= SHOWN {
        return names.join(", ");
    }
    format!("{}, … ({} in all)", names[..SHOWN].join(", "), names.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_suggests_close_names_and_stays_fast_on_many() {
        assert_eq!(nearest("flaskap", ["redis", "flaskapp"]), Some("flaskapp"));
        assert_eq!(nearest("zzz", ["redis", "flaskapp"]), None);
        let many: Vec<String> = (0..20_000).map(|i| format!("s{i}")).collect();
        // A bound on blow-up, not a speed measure: 200 lookups take ~0.1 s here, 20× under the
        // bound even on a loaded machine; a quadratic lookup would take minutes.
        let t = std::time::Instant::now();
        for i in 0..200 {
            let _ = nearest(&format!("nope{i}"), many.iter().map(String::as_str));
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(nearest(&"x".repeat(1 << 20), ["x"]), None);
    }

    #[test]
    fn a_long_source_line_is_shown_around_the_column() {
        let line = format!("    image: {}", "x".repeat(100_000));
        let d = Diagnostic::new("bad").at(1, 50_000, Some(&line));
        let text = d.to_string();
        assert!(text.len() < 500, "{}", text.len());
        let caret_line = text.lines().nth(3).unwrap();
        let src_line = text.lines().nth(2).unwrap();
        assert!(
            src_line.starts_with("1 | …") && src_line.ends_with('…'),
            "{src_line}"
        );
        assert_eq!(caret_line.chars().count(), 4 + 61, "{caret_line}");
        let short = Diagnostic::new("bad")
            .at(1, 5, Some("abcdefgh"))
            .to_string();
        assert!(short.contains("1 | abcdefgh\n  |     ^"), "{short}");
    }
}
