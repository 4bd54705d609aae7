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
            let col = self.location.column.unwrap_or(1).max(1);
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

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        if self.0.len() > 1 {
            writeln!(f, "\n{} problems found in the manifest", self.0.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The closest candidate to `word` by edit distance, if it is close enough to be a plausible typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
