//! `bridge transformations list`: the transformation images as compose lists them (a table, the
//! daemon's summaries as one JSON array, or names only).

use crate::engine::bridge::TransformationImage;
use anyhow::Result;

/// `before_1_44`: the daemon speaks an API older than 1.44, whose image lists still carried
/// `VirtualSize` and `null` for no digests (compose passes both on).
pub fn render(
    images: &[TransformationImage],
    format: &str,
    quiet: bool,
    before_1_44: bool,
) -> Result<String> {
    if quiet {
        return Ok(images
            .iter()
            .map(|i| format!("{}\n", i.repo_tags.first().unwrap_or(&i.id)))
            .collect());
    }
    if format == "json" {
        let all: Vec<serde_json::Value> = images.iter().map(|i| json(i, before_1_44)).collect();
        return Ok(format!("{}\n", serde_json::Value::Array(all)));
    }
    let rows: Vec<Vec<String>> = images
        .iter()
        .map(|i| {
            let (repo, tag) = match i.repo_tags.first() {
                Some(t) => crate::engine::images::split_reference(t),
                None => ("<none>".to_owned(), "<none>".to_owned()),
            };
            let id =
                i.id.trim_start_matches("sha256:")
                    .chars()
                    .take(12)
                    .collect();
            let size = super::units::decimal_bytes_3(i.size.max(0) as u64);
            vec![id, repo, tag, size]
        })
        .collect();
    let header = ["IMAGE ID", "REPO", "TAGS", "SIZE"]
        .map(String::from)
        .to_vec();
    let all: Vec<Vec<String>> = std::iter::once(header).chain(rows).collect();
    Ok(super::table::as_go_tabwriter(&all, 20, 3))
}

/// An image summary with the keys in the order compose's Go type gives them.
fn json(i: &TransformationImage, before_1_44: bool) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        m.insert(k.to_owned(), v);
    };
    put("Containers", i.containers.into());
    put("Created", i.created.into());
    put("Id", i.id.clone().into());
    put("Labels", serde_json::json!(i.labels));
    put("ParentId", i.parent_id.clone().into());
    if let Some(d) = &i.descriptor {
        put("Descriptor", d.clone());
    }
    if let Some(list) = &i.manifests {
        put("Manifests", list.clone());
    }
    let digests = if i.repo_digests.is_empty() && before_1_44 {
        serde_json::Value::Null
    } else {
        serde_json::json!(i.repo_digests)
    };
    put("RepoDigests", digests);
    put("RepoTags", serde_json::json!(i.repo_tags));
    put("SharedSize", i.shared_size.into());
    put("Size", i.size.into());
    if before_1_44 {
        put("VirtualSize", i.size.into());
    }
    serde_json::Value::Object(m)
}
