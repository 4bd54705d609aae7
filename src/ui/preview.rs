//! `--dry-run` output: one line per change, the object, what would happen to it and why.

use crate::engine::preview::Change;

/// The changes as aligned lines under a heading that says nothing was changed.
pub fn render(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "dry run: nothing to change, the project already matches the manifest\n".to_owned();
    }
    let width = changes
        .iter()
        .map(|c| c.object.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::from("dry run: nothing was changed; this run would\n");
    for c in changes {
        let pad = width - c.object.chars().count();
        out.push_str(&format!("  {}{}  {}", c.object, " ".repeat(pad), c.action));
        if !c.why.is_empty() {
            out.push_str(&format!(": {}", c.why.join("; ")));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_change_is_a_line_with_its_reason() {
        let changes = [
            Change {
                object: "Network p_default".into(),
                action: "create",
                why: Vec::new(),
            },
            Change {
                object: "Container p-web-1".into(),
                action: "recreate",
                why: vec!["environment.DEBUG: \"0\" → \"1\"".into(), "image x".into()],
            },
        ];
        assert_eq!(
            render(&changes),
            "dry run: nothing was changed; this run would\n  Network p_default  create\n  Container p-web-1  recreate: environment.DEBUG: \"0\" → \"1\"; image x\n"
        );
        assert!(render(&[]).contains("nothing to change"));
    }
}
