//! Where things are in the manifest's files: each parsed file's positions, and the `Locator` that
//! turns a field path into a diagnostic pointing at the right file, line and column.

use super::diag::Diagnostic;
use super::spans::{FieldPath, SpanIndex};
use std::path::PathBuf;

/// One parsed file, kept so that later stages can point into it.
pub struct SourceFile {
    pub path: PathBuf,
    pub spans: SpanIndex,
}

/// Finds source positions for field paths across all files, the last file that mentions a path first.
pub struct Locator<'a> {
    pub files: &'a [SourceFile],
}

impl Locator<'_> {
    /// A diagnostic pointing at `path`: its key when `at_key`, else its value.
    pub fn diag(&self, path: &FieldPath, at_key: bool, message: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::new(message).field(path.to_string());
        let file = self
            .files
            .iter()
            .rev()
            .find(|f| f.spans.contains(path))
            .or_else(|| {
                // Not written anywhere (a default): point at the closest ancestor that is.
                let mut p = path.parent();
                while let Some(cur) = p {
                    if let Some(f) = self.files.iter().rev().find(|f| f.spans.contains(&cur)) {
                        return Some(f);
                    }
                    p = cur.parent();
                }
                self.files.last()
            });
        let Some(file) = file else { return d };
        let d = d.in_file(&file.path);
        let pos = if at_key {
            file.spans.key_pos(path)
        } else {
            file.spans.value_pos(path)
        };
        match pos {
            Some(p) => d.at(p.line, p.column, file.spans.line_text(p.line)),
            None => d,
        }
    }
}
