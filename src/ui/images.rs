//! `images` output: one row per container and the image it runs, as a table, compose's JSON
//! array, a template, or the unique image IDs (`-q`).

use anyhow::Result;

use crate::engine::images::ImageDetails;

pub struct Row {
    pub container: String,
    /// The reference the container was made from.
    pub reference: String,
    pub image: ImageDetails,
}

impl Row {
    /// Repository and tag: of the reference the container names when the image carries it, else
    /// the image's first tag.
    fn repo_tag(&self) -> (String, String) {
        let tag = if self.image.tags.contains(&self.reference) {
            Some(self.reference.clone())
        } else {
            self.image.tags.first().cloned()
        };
        match tag {
            Some(t) => {
                let (repo, tag) = crate::engine::images::split_reference(&t);
                (repo, tag)
            }
            None => (String::new(), String::new()),
        }
    }

    fn json(&self) -> serde_json::Value {
        let (repo, tag) = self.repo_tag();
        serde_json::json!({
            "ID": self.image.id,
            "ContainerName": self.container,
            "Repository": repo,
            "Tag": tag,
            "Platform": self.image.platform,
            "Size": self.image.size,
            "Created": self.image.created,
            "LastTagTime": self.image.last_tag_time,
        })
    }
}

pub fn render(rows: &[Row], format: &str, quiet: bool) -> Result<String> {
    if quiet {
        let mut ids: Vec<&str> = rows
            .iter()
            .map(|r| r.image.id.trim_start_matches("sha256:"))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        return Ok(ids.iter().map(|id| format!("{id}\n")).collect());
    }
    Ok(match format {
        "json" => {
            let all: Vec<serde_json::Value> = rows.iter().map(Row::json).collect();
            format!("{}\n", serde_json::Value::Array(all))
        }
        "table" | "pretty" | "" => {
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let (repo, tag) = r.repo_tag();
                    let or_none = |s: String| if s.is_empty() { "<none>".into() } else { s };
                    let id: String = r
                        .image
                        .id
                        .trim_start_matches("sha256:")
                        .chars()
                        .take(12)
                        .collect();
                    vec![
                        r.container.clone(),
                        or_none(repo),
                        or_none(tag),
                        r.image.platform.clone(),
                        id,
                        super::units::decimal_bytes(r.image.size.max(0) as u64),
                    ]
                })
                .collect();
            super::table::render(
                &[
                    "CONTAINER",
                    "REPOSITORY",
                    "TAG",
                    "PLATFORM",
                    "IMAGE ID",
                    "SIZE",
                ],
                &table,
            )
        }
        template => {
            let t = super::template::Template::parse(template)?;
            let mut out: String = t.header().map(|h| format!("{h}\n")).unwrap_or_default();
            out.extend(rows.iter().map(|r| format!("{}\n", t.render(&r.json()))));
            out
        }
    })
}
