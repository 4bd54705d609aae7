//! Project names: the rule compose enforces on chosen names, and how a folder's name is made one.

/// Compose's rule for a project name: `[a-z0-9][a-z0-9_-]*`.
pub fn is_valid_project_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// A folder's name made a project name: lowercased, other characters dropped, as compose does.
pub fn normalize_project_name(raw: &str) -> Option<String> {
    let name: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    let name = name.trim_start_matches(['_', '-']).to_owned();
    if name.is_empty() { None } else { Some(name) }
}
