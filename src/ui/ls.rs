//! `ls` output: the projects as a table, names only, compose's JSON array, or a template.

use std::collections::BTreeMap;

use anyhow::Result;

pub struct Project {
    pub name: String,
    /// Containers per state.
    pub states: BTreeMap<String, usize>,
    pub config_files: String,
}

impl Project {
    /// compose's status: `exited(1), running(2)`.
    fn status(&self) -> String {
        self.states
            .iter()
            .map(|(s, n)| format!("{s}({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({"Name": self.name, "Status": self.status(), "ConfigFiles": self.config_files})
    }
}

/// As compose prints them: `json` one compact array, `{{json .}}` or a template one line each.
pub fn render(projects: &[Project], format: &str, quiet: bool) -> Result<String> {
    if quiet {
        return Ok(projects.iter().map(|p| format!("{}\n", p.name)).collect());
    }
    Ok(match format {
        "json" => {
            let all: Vec<serde_json::Value> = projects.iter().map(Project::json).collect();
            format!("{}\n", serde_json::Value::Array(all))
        }
        "table" | "pretty" | "" => {
            let rows: Vec<Vec<String>> = projects
                .iter()
                .map(|p| vec![p.name.clone(), p.status(), p.config_files.clone()])
                .collect();
            super::table::render(&["NAME", "STATUS", "CONFIG FILES"], &rows)
        }
        template => {
            let t = super::template::Template::parse(template)?;
            let mut out: String = t.header().map(|h| format!("{h}\n")).unwrap_or_default();
            out.extend(
                projects
                    .iter()
                    .map(|p| format!("{}\n", t.render(&p.json()))),
            );
            out
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_print_as_compose_prints_them() {
        let p = Project {
            name: "demo".into(),
            states: [("running".to_owned(), 2), ("exited".to_owned(), 1)].into(),
            config_files: "/x/compose.yaml".into(),
        };
        assert_eq!(
            render(std::slice::from_ref(&p), "json", false).unwrap(),
            "[{\"ConfigFiles\":\"/x/compose.yaml\",\"Name\":\"demo\",\"Status\":\"exited(1), running(2)\"}]\n"
        );
        assert_eq!(render(&[], "json", false).unwrap(), "[]\n");
        assert_eq!(
            render(std::slice::from_ref(&p), "table", true).unwrap(),
            "demo\n"
        );
        assert_eq!(
            render(std::slice::from_ref(&p), "{{.Name}}:{{.Status}}", false).unwrap(),
            "demo:exited(1), running(2)\n"
        );
    }
}
