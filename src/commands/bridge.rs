//! `bridge convert` and `bridge transformations list|create`: the project handed, as compose
//! hands it, to transformation images that write another model of it (Kubernetes manifests, a
//! Helm chart), and the images themselves listed and copied.
//!
//! The output folder is replaced only when an earlier convert made it (it carries a marker file);
//! compose deletes whatever is there, and a mistyped `-o` should not cost a user a folder.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_yaml::Value;

use super::Ctx;
use crate::cli::{
    BridgeArgs, BridgeCommand, ConvertArgs, TransformationsCommand, TransformationsCreateArgs,
    TransformationsListArgs,
};
use crate::engine::bridge::{self, DEFAULT_TRANSFORMATION};
use crate::engine::ops::Output;
use crate::exit::{ExitWith, UsageError};
use crate::ui;

/// Left in an output folder a convert made, so that the next one may replace it.
const MARKER: &str = ".stackctl-bridge";

pub fn run(ctx: &Ctx, args: BridgeArgs) -> Result<()> {
    match args.command {
        BridgeCommand::Convert(a) => convert(ctx, a),
        BridgeCommand::Transformations(TransformationsCommand::List(a)) => list(ctx, a),
        BridgeCommand::Transformations(TransformationsCommand::Create(a)) => create(ctx, a),
    }
}

fn convert(ctx: &Ctx, args: ConvertArgs) -> Result<()> {
    let transformations = if args.transformations.is_empty() {
        vec![DEFAULT_TRANSFORMATION.to_owned()]
    } else {
        args.transformations.clone()
    };
    let loaded = ctx.load()?;
    let project = &loaded.project;
    let output = absolute(&args.output)?;
    let templates = args.templates.as_deref().map(absolute).transpose()?;
    if let Some(t) = &templates
        && !t.is_dir()
    {
        return Err(
            UsageError::new(format!("--templates {}: no such folder", t.display()))
                .hint("name a folder of templates, or leave --templates out")
                .into(),
        );
    }
    let replace = replaceable(&output)?;
    if super::dry_run(
        ctx,
        &super::changes(
            transformations
                .iter()
                .map(|t| format!("Transformation {t}")),
            "Would run",
        ),
    )? {
        return Ok(());
    }
    let plan = crate::plan::build(project, &Default::default());
    // The model is what `config` prints, and more (below), as compose hands it over.
    let printed = super::config::as_printed(project, ctx.global.all_resources);
    let mut model = serde_yaml::to_value(crate::manifest::paths::with_absolute_paths(&printed))?;
    crate::manifest::printed::as_compose_prints(&mut model, false);
    ctx.block_on(async {
        let engine = ctx.connect().await?;
        let report = ctx.reporter();
        for (name, svc) in &project.services {
            let Some(planned) = plan.services.get(name) else {
                continue;
            };
            let built_here = svc.build.is_some() && svc.image.is_none();
            if !built_here {
                bridge::ensure_image(&engine, &planned.image, &report).await?;
            }
            let exposed = bridge::exposed_ports(&engine, &planned.image).await?;
            if exposed.is_none() && built_here {
                ui::warnings(&[format!(
                    "image {} for service {name} is not built yet: the ports its Dockerfile exposes are left out (`stackctl build` first to have them)",
                    planned.image
                )]);
            }
            let targets = svc.ports.iter().map(|p| p.target.to_string());
            let from_image = exposed.into_iter().flatten().map(|p| port_number(&p));
            complete_service(&mut model, name, &planned.image, from_image.chain(targets));
        }
        load_contents(&mut model, &loaded.variables)?;
        for t in &transformations {
            bridge::ensure_image(&engine, t, &report).await?;
        }
        let input = tempfile::Builder::new()
            .prefix("compose-convert-")
            .tempdir()
            .context("making a folder for the model")?;
        let text = crate::manifest::printed::yaml_1_1_safe(&serde_yaml::to_string(&model)?);
        write_new(&input.path().join("compose.yaml"), &text)?;
        if replace {
            std::fs::remove_dir_all(&output)
                .with_context(|| format!("replacing {}", output.display()))?;
        }
        make_output(&output)?;
        let mut binds = vec![
            format!("{}:/in", input.path().display()),
            format!("{}:/out", output.display()),
        ];
        if let Some(t) = &templates {
            binds.push(format!("{}:/templates", t.display()));
        }
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        for t in &transformations {
            let mut print = |o: Output| match o {
                Output::Out(b) => ui::term::out_bytes(&b).unwrap_or(()),
                Output::Err(b) => ui::term::err_bytes(&b).unwrap_or(()),
            };
            let code = bridge::run(&engine, t, binds.clone(), uid.to_string(), &mut print).await?;
            if code != 0 {
                return Err(ExitWith {
                    code,
                    message: format!("transformation {t} exited with code {code}"),
                }
                .into());
            }
        }
        Ok(())
    })
}

/// `path` from the current folder.
fn absolute(path: &Path) -> Result<PathBuf> {
    Ok(std::env::current_dir()?.join(path))
}

/// Whether the output folder must be removed first: only one an earlier convert made. A folder
/// that is empty is used as it is; anything else there is refused.
fn replaceable(output: &Path) -> Result<bool> {
    let Ok(meta) = std::fs::symlink_metadata(output) else {
        return Ok(false);
    };
    let refuse = |why: &str| -> anyhow::Error {
        UsageError::new(format!("output {} {why}", output.display()))
            .hint("give -o a new folder (one an earlier `bridge convert` made is replaced)")
            .into()
    };
    if meta.is_symlink() {
        return Err(refuse("is a symbolic link, which stackctl does not follow"));
    }
    if !meta.is_dir() {
        return Err(refuse("is a file"));
    }
    if std::fs::symlink_metadata(output.join(MARKER)).is_ok_and(|m| m.is_file()) {
        return Ok(true);
    }
    if std::fs::read_dir(output)?.next().is_some() {
        return Err(refuse("holds files that stackctl did not write"));
    }
    Ok(false)
}

fn make_output(output: &Path) -> Result<()> {
    make_folder(output)?;
    write_new(
        &output.join(MARKER),
        "Written by `stackctl bridge convert`, which replaces this folder on its next run.\n",
    )
}

/// Writes a file that must not exist yet (no link is followed, nothing is overwritten).
fn write_new(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// `80/tcp` → `80`.
fn port_number(port: &str) -> String {
    port.split('/').next().unwrap_or(port).to_owned()
}

/// Gives service `name` of the printed model its image and, in `expose`, every port it listens
/// on (its own list, its image's, its published ports' targets), as compose gives them to a
/// transformation.
fn complete_service(
    model: &mut Value,
    name: &str,
    image: &str,
    ports: impl Iterator<Item = String>,
) {
    let Some(svc) = model
        .get_mut("services")
        .and_then(|s| s.get_mut(name))
        .and_then(Value::as_mapping_mut)
    else {
        return;
    };
    svc.insert("image".into(), image.into());
    let mut all: BTreeSet<String> = svc
        .get("expose")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    all.extend(ports);
    if !all.is_empty() {
        let mut sorted: Vec<String> = all.into_iter().collect();
        sorted.sort_by_key(|p| (p.parse::<u32>().unwrap_or(u32::MAX), p.clone()));
        let list = sorted.into_iter().map(Value::from).collect();
        svc.insert("expose".into(), Value::Sequence(list));
    }
}

/// Puts each secret's and config's value in the model as `content` (from its file or its
/// variable), as compose does for transformations that write them out.
fn load_contents(
    model: &mut Value,
    variables: &std::collections::HashMap<String, String>,
) -> Result<()> {
    for kind in ["secrets", "configs"] {
        let Some(all) = model.get_mut(kind).and_then(Value::as_mapping_mut) else {
            continue;
        };
        for (name, def) in all.iter_mut() {
            let Some(def) = def.as_mapping_mut() else {
                continue;
            };
            if def.get("external").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let content = if let Some(var) = def.get("environment").and_then(Value::as_str) {
                variables.get(var).cloned().unwrap_or_default()
            } else if let Some(file) = def.get("file").and_then(Value::as_str) {
                std::fs::read_to_string(file).with_context(|| {
                    format!(
                        "reading {kind} {} from {file}",
                        name.as_str().unwrap_or_default()
                    )
                })?
            } else {
                continue;
            };
            def.insert("content".into(), content.into());
        }
    }
    Ok(())
}

fn list(ctx: &Ctx, args: TransformationsListArgs) -> Result<()> {
    if !matches!(args.format.as_str(), "table" | "json") && !args.quiet {
        return Err(UsageError::new(format!(
            "--format {}: not a format transformations are listed in",
            args.format
        ))
        .hint("use --format table or --format json")
        .into());
    }
    let (images, api) = ctx.block_on(async {
        let engine = ctx.connect().await?;
        Ok((bridge::list(&engine).await?, engine.api_version.clone()))
    })?;
    let before_1_44 = crate::engine::api_below(&api, (1, 44));
    ui::out(ui::bridge::render(
        &images,
        &args.format,
        args.quiet,
        before_1_44,
    )?)?;
    Ok(())
}

fn create(ctx: &Ctx, args: TransformationsCreateArgs) -> Result<()> {
    let from = args
        .from
        .unwrap_or_else(|| DEFAULT_TRANSFORMATION.to_owned());
    let dest = absolute(&args.path)?;
    if std::fs::symlink_metadata(&dest).is_ok() {
        // Exit 1 as compose: the command line was right, the folder is in the way.
        anyhow::bail!(
            "output folder {} already exists; name one that does not exist yet, and it is created",
            dest.display()
        );
    }
    if super::dry_run(
        ctx,
        &super::changes(
            [format!("Transformation {}", dest.display())],
            "Would create",
        ),
    )? {
        return Ok(());
    }
    let archive = ctx.block_on(async {
        let engine = ctx.connect().await?;
        bridge::ensure_image(&engine, &from, &ctx.reporter()).await?;
        bridge::templates(&engine, &from).await
    })?;
    make_folder(&dest)?;
    super::cp::unpack(archive.as_slice(), &dest, true)?;
    write_new(
        &dest.join("Dockerfile"),
        &format!(
            "FROM docker/compose-bridge-transformer\nLABEL {}=transformation\nCOPY templates /templates\n",
            bridge::LABEL
        ),
    )?;
    ui::out(format!(
        "Transformer created in {:?}\n",
        dest.display().to_string()
    ))?;
    Ok(())
}

fn make_folder(dest: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dest)
        .with_context(|| format!("creating {}", dest.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn a_service_gets_its_image_and_every_port_it_listens_on_once() {
        let mut m = model("services:\n  web:\n    expose: [\"8080\", \"9000-9001\"]\n");
        let ports = ["80", "8080", "443"].map(String::from).into_iter();
        complete_service(&mut m, "web", "p-web", ports);
        let web = &m["services"]["web"];
        assert_eq!(web["image"], Value::from("p-web"));
        let expose: Vec<&str> = web["expose"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(expose, ["80", "443", "8080", "9000-9001"]);
    }

    #[test]
    fn a_service_with_no_port_gets_no_expose() {
        let mut m = model("services:\n  job:\n    command: [\"true\"]\n");
        complete_service(&mut m, "job", "alpine", std::iter::empty());
        assert!(m["services"]["job"].get("expose").is_none());
    }

    #[test]
    fn secrets_and_configs_carry_their_values_external_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.txt");
        std::fs::write(&file, "from a file").unwrap();
        let mut m = model(&format!(
            "secrets:\n  a:\n    file: {}\n  b:\n    environment: TOKEN\n  c:\n    external: true\nconfigs:\n  d:\n    content: kept\n",
            file.display()
        ));
        let vars = [("TOKEN".to_owned(), "from a variable".to_owned())].into();
        load_contents(&mut m, &vars).unwrap();
        assert_eq!(m["secrets"]["a"]["content"], Value::from("from a file"));
        assert_eq!(m["secrets"]["b"]["content"], Value::from("from a variable"));
        assert!(m["secrets"]["c"].get("content").is_none());
        assert_eq!(m["configs"]["d"]["content"], Value::from("kept"));
    }

    #[test]
    fn only_an_output_folder_a_convert_made_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        assert!(!replaceable(&out).unwrap(), "absent: made, not replaced");
        std::fs::create_dir(&out).unwrap();
        assert!(!replaceable(&out).unwrap(), "empty: used as it is");
        std::fs::write(out.join("mine.txt"), "x").unwrap();
        let refused = replaceable(&out).unwrap_err().to_string();
        assert!(refused.contains("did not write"), "{refused}");
        std::fs::write(out.join(MARKER), "").unwrap();
        assert!(replaceable(&out).unwrap(), "made by a convert: replaced");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&out, &link).unwrap();
        let refused = replaceable(&link).unwrap_err().to_string();
        assert!(refused.contains("symbolic link"), "{refused}");
    }
}
