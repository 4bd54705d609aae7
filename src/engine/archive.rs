//! Files in and out of a container, as the engine's archive endpoint has them: a path's kind, a tar
//! stream of a path, and a tar stream unpacked into a folder.

use anyhow::Result;
use bollard::query_parameters::{
    ContainerArchiveInfoOptions, DownloadFromContainerOptions, UploadToContainerOptions,
};
use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::{ApiContext, Engine, is_not_found};

/// What a path in a container is, when it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    Dir,
    /// A file, or anything else that is not a folder (a link, a device).
    File,
}

/// Go's `os.ModeDir`, as the daemon reports a path's mode.
const GO_MODE_DIR: u32 = 1 << 31;

/// Where `path` in the container leads when it is a symbolic link (as the link says it,
/// perhaps relative to the link's folder); `None` when it is not a link or not there.
pub async fn link_target(engine: &Engine, id: &str, path: &str) -> Result<Option<String>> {
    let found = path_stat(engine, id, path).await?;
    Ok(found.map(|s| s.link_target).filter(|t| !t.is_empty()))
}

/// The kind of `path` in the container, `None` when nothing is there.
pub async fn stat(engine: &Engine, id: &str, path: &str) -> Result<Option<PathKind>> {
    let found = path_stat(engine, id, path).await?;
    Ok(found.map(|s| match s.file_mode & GO_MODE_DIR {
        0 => PathKind::File,
        _ => PathKind::Dir,
    }))
}

/// What the daemon says of `path` in the container (without following a link there).
async fn path_stat(
    engine: &Engine,
    id: &str,
    path: &str,
) -> Result<Option<bollard::container::PathStatResponse>> {
    let opts = ContainerArchiveInfoOptions {
        path: path.to_owned(),
    };
    match engine
        .docker
        .get_container_archive_info(id, Some(opts))
        .await
    {
        Ok(s) => Ok(Some(s)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e).api(|| format!("looking at {path} in the container")),
    }
}

/// A tar stream of `path`: its entries are named from the path's last component down.
pub fn download(
    engine: &Engine,
    id: &str,
    path: &str,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let opts = DownloadFromContainerOptions {
        path: path.to_owned(),
    };
    engine
        .docker
        .download_from_container(id, Some(opts))
        .map(|r| r.map_err(std::io::Error::other))
}

/// Unpacks a tar stream into the folder `dir` of the container. The files keep the uid and gid
/// the archive gives them, or with `to_container_user` (`cp -a`, the daemon's copyUIDGID)
/// belong to the container's configured user.
pub async fn upload(
    engine: &Engine,
    id: &str,
    dir: &str,
    tar: impl Stream<Item = Bytes> + Send + 'static,
    to_container_user: bool,
) -> Result<()> {
    let opts = UploadToContainerOptions {
        path: dir.to_owned(),
        copy_uidgid: to_container_user.then(|| "true".to_owned()),
        ..Default::default()
    };
    engine
        .patient
        .upload_to_container(id, Some(opts), bollard::body_stream(tar))
        .await
        .api(|| format!("copying into {dir} in the container"))
}

/// The whole filesystem of a container as a tar stream (`docker export`).
pub fn export(
    engine: &Engine,
    id: &str,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    engine
        .docker
        .export_container(id)
        .map(|r| r.map_err(std::io::Error::other))
}

/// What `commit` records with the new image.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    pub reference: Option<String>,
    pub message: Option<String>,
    pub author: Option<String>,
    /// Dockerfile instructions applied to the image (`CMD …`, `ENV …`), one a line.
    pub changes: Vec<String>,
    pub pause: bool,
}

/// Makes an image of a container's present state; returns the image ID.
pub async fn commit(engine: &Engine, id: &str, opts: &CommitOptions) -> anyhow::Result<String> {
    let (repo, tag) = match &opts.reference {
        Some(r) => {
            let (repo, tag) = super::images::split_reference(r);
            (Some(repo), Some(tag))
        }
        None => (None, None),
    };
    let options = bollard::query_parameters::CommitContainerOptions {
        container: Some(id.to_owned()),
        repo,
        tag,
        comment: opts.message.clone(),
        author: opts.author.clone(),
        pause: opts.pause,
        changes: (!opts.changes.is_empty()).then(|| opts.changes.join("\n")),
    };
    let made = engine
        .patient
        .commit_container(options, bollard::models::ContainerConfig::default())
        .await
        .api(|| "committing the container".into())?;
    Ok(made.id)
}

/// Writes `files` into a created container (before it starts), their folders made as needed.
pub async fn put_files(
    engine: &Engine,
    id: &str,
    files: &[crate::plan::InjectedFile],
) -> anyhow::Result<()> {
    let mut tar = with_folders(files.iter().map(|f| f.target.as_str()))?;
    for f in files {
        let mut header = tar::Header::new_gnu();
        header.set_mode(f.mode);
        header.set_uid(f.uid.unwrap_or(0));
        header.set_gid(f.gid.unwrap_or(0));
        header.set_size(f.content.len() as u64);
        tar.append_data(
            &mut header,
            f.target.trim_start_matches('/'),
            f.content.as_bytes(),
        )?;
    }
    let bytes = Bytes::from(tar.into_inner()?);
    upload(engine, id, "/", futures::stream::iter([bytes]), false).await
}

/// A tar that starts with the folders above `targets` (absolute container paths).
fn with_folders<'a>(
    targets: impl Iterator<Item = &'a str>,
) -> std::io::Result<tar::Builder<Vec<u8>>> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut folders = std::collections::BTreeSet::new();
    for target in targets {
        let mut parent = std::path::Path::new(target.trim_start_matches('/')).parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            folders.insert(p.to_path_buf());
            parent = p.parent();
        }
    }
    for dir in &folders {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_size(0);
        tar.append_data(&mut header, dir, std::io::empty())?;
    }
    Ok(tar)
}

/// Copies files of this machine into a running container: (file here, absolute path there).
/// A file that vanished since it was seen is left out; missing folders are made by the daemon.
pub async fn put_host_files(
    engine: &Engine,
    id: &str,
    files: &[(std::path::PathBuf, String)],
) -> anyhow::Result<()> {
    let mut tar = tar::Builder::new(Vec::new());
    for (from, to) in files {
        let Ok(mut file) = std::fs::File::open(from) else {
            continue;
        };
        tar.append_file(to.trim_start_matches('/'), &mut file)?;
    }
    let bytes = Bytes::from(tar.into_inner()?);
    upload(engine, id, "/", futures::stream::iter([bytes]), false).await
}
