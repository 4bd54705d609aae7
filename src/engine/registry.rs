//! Pushing a Compose project to a registry as an OCI artifact, in the shape `docker compose
//! publish` gives it: an image manifest of artifact type `application/vnd.docker.compose.project`
//! whose layers are the Compose files, each annotated with its file name, and an empty config.
//! The registry's HTTP API is spoken directly (the daemon has no call for artifacts).

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

pub const ARTIFACT_TYPE: &str = "application/vnd.docker.compose.project";
pub const FILE_MEDIA_TYPE: &str = "application/vnd.docker.compose.file+yaml";
/// The config media type registries that predate OCI 1.1 accept; compose falls back to it too.
pub const EMPTY_CONFIG_MEDIA_TYPE: &str = "application/vnd.docker.compose.config.empty.v1+json";
const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI 1.1's empty descriptor's media type, for a config that says nothing.
const OCI_EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";

/// The OCI image-spec shape of the artifact, as `publish --oci-version` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OciVersion {
    /// No artifact type; the config's media type says what it is (every registry takes it).
    V1_0,
    /// `artifactType` and OCI's empty config.
    V1_1,
}

impl OciVersion {
    /// `1.0` or `1.1`; None (compose's default) tries 1.1 and falls back to 1.0.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "1.0" => Ok(OciVersion::V1_0),
            "1.1" => Ok(OciVersion::V1_1),
            _ => {
                bail!(
                crate::exit::UsageError::new(format!("--oci-version {s}: not an OCI version"))
                    .hint("give 1.0 or 1.1, or leave it out to use 1.1 where the registry takes it")
            )
            }
        }
    }
}

/// Where an artifact goes: `registry/repository:tag`.
#[derive(Debug, PartialEq)]
pub struct Reference {
    pub registry: String,
    pub repository: String,
    pub tag: String,
}

impl Reference {
    /// `host[:port]/path[:tag]`, or a Docker Hub name (`user/app:tag`).
    pub fn parse(s: &str) -> Result<Self> {
        let (name, tag) = match s.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, t),
            _ => (s, "latest"),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((host, rest))
                if host.contains('.') || host.contains(':') || host == "localhost" =>
            {
                (host.to_owned(), rest.to_owned())
            }
            Some(_) => ("registry-1.docker.io".to_owned(), name.to_owned()),
            None => ("registry-1.docker.io".to_owned(), format!("library/{name}")),
        };
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c);
        if repository.is_empty() || !repository.chars().all(valid) || tag.is_empty() {
            bail!(
                crate::exit::UsageError::new(format!("`{s}` is not a repository reference")).hint(
                    "give REGISTRY/REPOSITORY[:TAG] in lower case, e.g. localhost:5000/me/app:v1"
                )
            );
        }
        Ok(Reference {
            registry,
            repository,
            tag: tag.to_owned(),
        })
    }

    fn base(&self) -> String {
        // Docker's own rule: only the loopback registry is spoken to over plain HTTP.
        let host = self.registry.split(':').next().unwrap_or_default();
        let plain = host == "localhost" || host.starts_with("127.");
        let scheme = if plain { "http" } else { "https" };
        format!("{scheme}://{}/v2/{}", self.registry, self.repository)
    }
}

/// A file that becomes one layer.
pub struct Layer {
    pub file_name: String,
    pub content: Vec<u8>,
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The artifact's manifest for `layers` in the shape of `oci` (the bytes that are pushed, and
/// their digest).
pub fn manifest(layers: &[Layer], version: &str, oci: OciVersion) -> Vec<u8> {
    let config = b"{}";
    let config_type = match oci {
        OciVersion::V1_0 => EMPTY_CONFIG_MEDIA_TYPE,
        OciVersion::V1_1 => OCI_EMPTY_MEDIA_TYPE,
    };
    let mut value = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {
            "mediaType": config_type,
            "digest": digest(config),
            "size": config.len(),
        },
        "layers": layers.iter().map(|l| serde_json::json!({
            "mediaType": FILE_MEDIA_TYPE,
            "digest": digest(&l.content),
            "size": l.content.len(),
            "annotations": {
                "com.docker.compose.file": l.file_name,
                "com.docker.compose.version": version,
            },
        })).collect::<Vec<_>>(),
    });
    if oci == OciVersion::V1_1 {
        value["artifactType"] = ARTIFACT_TYPE.into();
    }
    serde_json::to_vec(&value).unwrap_or_default()
}

/// An HTTP client that hands back every status (the callers judge them), bounded in time.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into()
}

/// Pushes the files as one artifact in the shape of `oci`; without one, as OCI 1.1, and as 1.0
/// when the registry refuses that manifest (any 4xx but a request for credentials), as compose
/// does. Returns the manifest's digest.
pub fn push(
    to: &Reference,
    layers: &[Layer],
    version: &str,
    oci: Option<OciVersion>,
) -> Result<String> {
    let agent = agent();
    let base = to.base();
    let mut blobs: Vec<&[u8]> = vec![b"{}"];
    blobs.extend(layers.iter().map(|l| l.content.as_slice()));
    for blob in blobs {
        let d = digest(blob);
        let head = agent
            .head(format!("{base}/blobs/{d}"))
            .call()
            .with_context(|| format!("reaching the registry {}", to.registry))?;
        if head.status() == 200 {
            continue;
        }
        refuse_auth(head.status().as_u16(), to)?;
        let started = agent
            .post(format!("{base}/blobs/uploads/"))
            .send_empty()
            .with_context(|| format!("starting an upload to {}", to.registry))?;
        refuse_auth(started.status().as_u16(), to)?;
        let Some(location) = started
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
        else {
            bail!(
                "the registry {} did not start an upload (HTTP {})",
                to.registry,
                started.status()
            );
        };
        let url = if location.starts_with("http") {
            location.to_owned()
        } else {
            format!(
                "{}{location}",
                base.split("/v2/").next().unwrap_or_default()
            )
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        let done = agent
            .put(format!("{url}{sep}digest={d}"))
            .header("Content-Type", "application/octet-stream")
            .send(blob)
            .with_context(|| format!("uploading to {}", to.registry))?;
        if done.status() != 201 {
            bail!(
                "the registry {} refused a blob (HTTP {})",
                to.registry,
                done.status()
            );
        }
    }
    let put_manifest = |shape: OciVersion| -> Result<(u16, Vec<u8>)> {
        let body = manifest(layers, version, shape);
        let put = agent
            .put(format!("{base}/manifests/{}", to.tag))
            .header("Content-Type", MANIFEST_MEDIA_TYPE)
            .send(&body[..])
            .with_context(|| format!("pushing the manifest to {}", to.registry))?;
        Ok((put.status().as_u16(), body))
    };
    let (mut status, mut body) = put_manifest(oci.unwrap_or(OciVersion::V1_1))?;
    if oci.is_none() && (400..500).contains(&status) && ![401, 403, 407].contains(&status) {
        (status, body) = put_manifest(OciVersion::V1_0)?;
    }
    refuse_auth(status, to)?;
    if status != 201 {
        bail!(
            "the registry {} refused the manifest (HTTP {status})",
            to.registry
        );
    }
    Ok(digest(&body))
}

/// The most a published project may weigh, per file and in files: a registry is outside input.
const MAX_FILE_BYTES: u64 = 8 << 20;
const MAX_FILES: usize = 64;

/// Fetches a project published as an artifact (`-f oci://…`): its Compose files, in order, each
/// checked against its digest. A file name from the artifact is kept only when it is a plain name.
pub fn pull(from: &Reference) -> Result<Vec<Layer>> {
    let agent = agent();
    let base = from.base();
    let get = |url: String, accept: &str| -> Result<Vec<u8>> {
        let mut answer = agent
            .get(&url)
            .header("Accept", accept)
            .call()
            .with_context(|| format!("reaching the registry {}", from.registry))?;
        refuse_auth(answer.status().as_u16(), from)?;
        if answer.status() != 200 {
            bail!(
                "the registry {} has no {}:{} (HTTP {})",
                from.registry,
                from.repository,
                from.tag,
                answer.status()
            );
        }
        answer
            .body_mut()
            .with_config()
            .limit(MAX_FILE_BYTES)
            .read_to_vec()
            .with_context(|| format!("reading from the registry {}", from.registry))
    };
    let body = get(
        format!("{base}/manifests/{}", from.tag),
        MANIFEST_MEDIA_TYPE,
    )?;
    let manifest: serde_json::Value = serde_json::from_slice(&body)
        .with_context(|| format!("{}:{} has no readable manifest", from.repository, from.tag))?;
    let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
    let files: Vec<&serde_json::Value> = layers
        .iter()
        .filter(|l| l["mediaType"] == FILE_MEDIA_TYPE)
        .collect();
    if files.is_empty() || files.len() > MAX_FILES {
        bail!(
            "{}/{}:{} is not a published Compose project (it holds {} Compose files)",
            from.registry,
            from.repository,
            from.tag,
            files.len()
        );
    }
    let mut out = Vec::new();
    for (i, layer) in files.into_iter().enumerate() {
        let want = layer["digest"].as_str().unwrap_or_default().to_owned();
        let content = get(format!("{base}/blobs/{want}"), "*/*")?;
        if digest(&content) != want {
            bail!(
                "the registry {} sent a file that is not the one its manifest names ({want})",
                from.registry
            );
        }
        let named = layer["annotations"]["com.docker.compose.file"]
            .as_str()
            .filter(|n| plain_file_name(n));
        let file_name = named.map_or_else(|| format!("compose-{i}.yaml"), str::to_owned);
        out.push(Layer { file_name, content });
    }
    Ok(out)
}

/// A name that stays in the folder it is written to: no separator, not `.` or `..`, not hidden.
fn plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name.len() <= 255
}

fn refuse_auth(status: u16, to: &Reference) -> Result<()> {
    if status == 401 || status == 403 {
        bail!(
            "the registry {} asks for credentials, and stackctl does not log in to it for artifacts yet\n  = help: use a registry that takes anonymous requests (e.g. a local one), or docker compose there",
            to.registry
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_file_name_is_kept_only_when_it_stays_in_its_folder() {
        assert!(plain_file_name("compose.yaml"));
        for hostile in ["../x.yaml", "a/b.yaml", ".env", "..", "", "x\\y", "nul\0"] {
            assert!(!plain_file_name(hostile), "{hostile:?}");
        }
    }

    #[test]
    fn references_name_registry_repository_and_tag() {
        let r = Reference::parse("127.0.0.1:5000/me/app:v1").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_str()),
            ("127.0.0.1:5000", "me/app", "v1")
        );
        assert_eq!(r.base(), "http://127.0.0.1:5000/v2/me/app");
        let hub = Reference::parse("me/app").unwrap();
        assert_eq!(
            (hub.registry.as_str(), hub.tag.as_str()),
            ("registry-1.docker.io", "latest")
        );
        assert!(hub.base().starts_with("https://"));
        assert_eq!(Reference::parse("app").unwrap().repository, "library/app");
        assert!(Reference::parse("Me/App").is_err());
    }

    #[test]
    fn the_manifest_is_the_compose_artifact_shape_in_either_oci_version() {
        let files = [Layer {
            file_name: "compose.yaml".into(),
            content: b"services: {}\n".to_vec(),
        }];
        let read = |oci| -> serde_json::Value {
            serde_json::from_slice(&manifest(&files, "2.40.3", oci)).unwrap()
        };
        let v = read(OciVersion::V1_1);
        assert_eq!(v["artifactType"], ARTIFACT_TYPE);
        assert_eq!(v["config"]["mediaType"], OCI_EMPTY_MEDIA_TYPE);
        assert_eq!(v["config"]["size"], 2);
        assert_eq!(v["layers"][0]["mediaType"], FILE_MEDIA_TYPE);
        assert_eq!(
            v["layers"][0]["annotations"]["com.docker.compose.file"],
            "compose.yaml"
        );
        assert_eq!(v["layers"][0]["digest"], digest(b"services: {}\n"));
        let old = read(OciVersion::V1_0);
        assert!(old.get("artifactType").is_none(), "{old}");
        assert_eq!(old["config"]["mediaType"], EMPTY_CONFIG_MEDIA_TYPE);
        assert_eq!(old["layers"], v["layers"]);
    }

    #[test]
    fn only_the_two_oci_versions_are_taken() {
        assert_eq!(OciVersion::parse("1.0").unwrap(), OciVersion::V1_0);
        assert_eq!(OciVersion::parse("1.1").unwrap(), OciVersion::V1_1);
        for bad in ["", "1", "2.0", "v1.1"] {
            assert!(OciVersion::parse(bad).is_err(), "{bad}");
        }
    }
}
