//! `stackctl config`: the resolved manifest. It asks the daemon nothing, except to pin images to
//! the digests their registries give now (`--resolve-image-digests`, `--lock-image-digests`).

use anyhow::Result;

use super::Ctx;

use crate::cli::{ConfigArgs, Format};

pub fn run(ctx: &Ctx, args: ConfigArgs) -> Result<()> {
    if args.no_interpolate {
        return print_as_written(ctx, &args);
    }
    let loaded = ctx.load()?;
    super::note_unhonoured(&[(args.no_env_resolution, "--no-env-resolution")]);
    let mut project = loaded.project.clone();
    super::check_services(&project, &args.service_names)?;
    if !args.service_names.is_empty() {
        // The named services and what they depend on, as compose prints them.
        let plan = crate::plan::build(&project, &Default::default());
        let keep = crate::engine::converge::with_dependencies(&plan, &args.service_names);
        project.services.retain(|name, _| keep.contains(name));
    }
    if args.resolve_image_digests || args.lock_image_digests {
        pin_images(ctx, &mut project)?;
    }
    if args.lock_image_digests {
        project = images_only(&project);
    }
    if args.quiet {
        return Ok(());
    }
    let lines =
        |names: Vec<&String>| -> String { names.iter().map(|n| format!("{n}\n")).collect() };
    let text = if args.services {
        lines(project.services.keys().collect())
    } else if args.images {
        let plan = crate::plan::build(&project, &Default::default());
        plan.services
            .values()
            .map(|s| format!("{}\n", s.image))
            .collect()
    } else if args.volumes {
        lines(project.volumes.keys().collect())
    } else if args.networks {
        // With the implicit `default` network, as compose lists them.
        let mut printed = serde_yaml::to_value(&project)?;
        crate::manifest::printed::as_compose_prints(&mut printed, false);
        let names = printed.get("networks").and_then(|n| n.as_mapping());
        let names = names.into_iter().flatten().filter_map(|(k, _)| k.as_str());
        names.map(|n| format!("{n}\n")).collect()
    } else if args.models {
        lines(project.models.keys().collect())
    } else if args.list_profiles {
        // Every profile the files name, active or not, as compose lists them.
        let mut all: Vec<&String> = project
            .services
            .values()
            .flat_map(|s| &s.profiles)
            .chain(project.disabled_services.values().flatten())
            .collect();
        all.sort();
        all.dedup();
        lines(all)
    } else if args.variables {
        variables_text(&project.config_files, args.format)?
    } else if args.environment {
        let mut vars: Vec<(&String, &String)> = loaded.variables.iter().collect();
        vars.sort();
        vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
    } else if let Some(which) = &args.hash {
        let wanted: Vec<&str> = which.split(',').map(str::trim).collect();
        project
            .services
            .iter()
            .filter(|(name, _)| wanted.contains(&"*") || wanted.contains(&name.as_str()))
            .map(|(name, svc)| {
                format!("{name} {}\n", crate::plan::hash::config_hash(svc, &project))
            })
            .collect()
    } else {
        // The values are interpolated already: a `$` in them is written `$$`, so that the output
        // reads back as the same project (compose does the same).
        // What `required: false` waits for outside the enabled profiles is printed, not waited for.
        let project = as_printed(&project, ctx.global.all_resources);
        let mut value = if args.lock_image_digests {
            // An override file: only what it pins.
            serde_yaml::to_value(serde_json::json!({ "services": project.services }))?
        } else if args.no_path_resolution {
            serde_yaml::to_value(&project)?
        } else {
            serde_yaml::to_value(crate::manifest::paths::with_absolute_paths(&project))?
        };
        escape_dollars(&mut value);
        if !args.no_normalize && !args.lock_image_digests {
            crate::manifest::printed::as_compose_prints(
                &mut value,
                args.format == Some(Format::Json),
            );
        }
        rendered(&value, args.format)?
    };
    emit(text, &args)
}

/// The document as JSON or YAML (YAML 1.1 readers' booleans quoted).
/// The project as compose's `config` prints it: without the resources no service uses (unless
/// `--all-resources`), with what `required: false` waits for outside the enabled profiles.
pub(super) fn as_printed(
    project: &crate::manifest::Project,
    all_resources: bool,
) -> crate::manifest::Project {
    let mut project = if all_resources {
        project.clone()
    } else {
        crate::manifest::unused::without_unused_resources(project)
    };
    for svc in project.services.values_mut() {
        let inactive = std::mem::take(&mut svc.inactive_depends_on);
        svc.depends_on.extend(inactive);
    }
    project
}

fn rendered(value: &serde_yaml::Value, format: Option<Format>) -> Result<String> {
    Ok(match format.unwrap_or(Format::Yaml) {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(value)?),
        _ => crate::manifest::printed::yaml_1_1_safe(&serde_yaml::to_string(value)?),
    })
}

/// To `-o FILE`, or to stdout.
fn emit(text: String, args: &ConfigArgs) -> Result<()> {
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?,
        None => crate::ui::out(text)?,
    }
    Ok(())
}

/// Every image the project names (services', pre_start hooks', `type: image` volumes') pinned to
/// the digest its registry gives now, spelt in full as compose spells it; one already pinned
/// keeps its digest. A volume whose source is a service's name is that service's image, left as it is.
fn pin_images(ctx: &Ctx, project: &mut crate::manifest::Project) -> Result<()> {
    use crate::manifest::MountKind;
    let services: Vec<String> = project.services.keys().cloned().collect();
    ctx.block_on(async {
        let engine = ctx.connect().await?;
        let mut pinned = std::collections::HashMap::new();
        for svc in project.services.values_mut() {
            let images = svc
                .image
                .iter_mut()
                .chain(svc.pre_start.iter_mut().filter_map(|h| h.image.as_mut()))
                .chain(
                    svc.volumes
                        .iter_mut()
                        .filter(|m| m.kind == MountKind::Image)
                        .filter_map(|m| m.source.as_mut())
                        .filter(|s| !services.contains(s)),
                );
            for image in images {
                if image.contains('@') {
                    *image = crate::manifest::reference::full(image);
                    continue;
                }
                if !pinned.contains_key(image.as_str()) {
                    let digest = crate::engine::images::registry_digest(&engine, image).await?;
                    let full = crate::manifest::reference::full(image);
                    pinned.insert(image.clone(), format!("{full}@{digest}"));
                }
                *image = pinned[image.as_str()].clone();
            }
        }
        Ok(())
    })
}

/// `--no-interpolate`: the files as written, `${…}` printed rather than read. The files and the
/// project's name come from a load when one succeeds; one that fails on a variable (`${A:?}`
/// unset) is no reason not to print, so then they come from the command line and the folder.
fn print_as_written(ctx: &Ctx, args: &ConfigArgs) -> Result<()> {
    let (files, name) = match ctx.load() {
        Ok(loaded) => (loaded.project.config_files, loaded.project.name),
        Err(_) => {
            let cwd = std::env::current_dir()?;
            let files = if ctx.global.files.is_empty() {
                crate::manifest::DEFAULT_FILES
                    .iter()
                    .map(|f| cwd.join(f))
                    .find(|f| f.is_file())
                    .into_iter()
                    .collect()
            } else {
                ctx.global.files.clone()
            };
            let folder = cwd
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name = ctx.global.project_name.clone().unwrap_or(folder);
            let name = crate::manifest::normalize_project_name(&name).unwrap_or(name);
            (files, name)
        }
    };
    let mut documents = Vec::new();
    for file in &files {
        documents.extend(crate::manifest::raw_documents(file)?);
    }
    let merged = crate::manifest::as_written::merged(documents);
    let value = crate::manifest::as_written::as_compose_prints(merged, &name);
    emit(rendered(&value, args.format)?, args)
}

/// An override file that pins every image of `project` to its registry's digest (what
/// `config --lock-image-digests` prints, and `publish --resolve-image-digests` adds as a layer).
pub(super) fn digests_override(ctx: &Ctx, project: &crate::manifest::Project) -> Result<String> {
    let mut pinned = project.clone();
    pin_images(ctx, &mut pinned)?;
    let only = images_only(&pinned);
    let mut value = serde_yaml::to_value(serde_json::json!({ "services": only.services }))?;
    escape_dollars(&mut value);
    Ok(crate::manifest::printed::yaml_1_1_safe(
        &serde_yaml::to_string(&value)?,
    ))
}

/// `--lock-image-digests`: the services with their images (and image volumes) only.
fn images_only(project: &crate::manifest::Project) -> crate::manifest::Project {
    let mut out = crate::manifest::Project::default();
    for (name, svc) in &project.services {
        let kept = crate::manifest::Service {
            image: svc.image.clone(),
            volumes: svc
                .volumes
                .iter()
                .filter(|m| m.kind == crate::manifest::MountKind::Image)
                .cloned()
                .collect(),
            ..Default::default()
        };
        out.services.insert(name.clone(), kept);
    }
    out
}

fn escape_dollars(v: &mut serde_yaml::Value) {
    match v {
        serde_yaml::Value::String(s) if s.contains('$') => *s = s.replace('$', "$$"),
        serde_yaml::Value::Sequence(items) => items.iter_mut().for_each(escape_dollars),
        serde_yaml::Value::Mapping(m) => m.iter_mut().for_each(|(_, v)| escape_dollars(v)),
        _ => {}
    }
}

/// `--variables`: what the files read, as compose lists it: a table, or by name in JSON or YAML.
fn variables_text(files: &[std::path::PathBuf], format: Option<Format>) -> Result<String> {
    let used = crate::manifest::variables::used_in(files)?;
    let record = |u: &crate::manifest::VariableUse, keys: [&str; 4]| {
        serde_json::json!({
            keys[0]: u.name,
            keys[1]: u.default,
            keys[2]: u.presence,
            keys[3]: u.required,
        })
    };
    Ok(match format {
        Some(Format::Json) => {
            let keys = ["Name", "DefaultValue", "PresenceValue", "Required"];
            let all: serde_json::Map<String, serde_json::Value> = used
                .iter()
                .map(|(k, u)| (k.clone(), record(u, keys)))
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&all)?)
        }
        Some(_) => {
            let keys = ["name", "defaultvalue", "presencevalue", "required"];
            let all: serde_json::Map<String, serde_json::Value> = used
                .iter()
                .map(|(k, u)| (k.clone(), record(u, keys)))
                .collect();
            serde_yaml::to_string(&all)?
        }
        None => {
            let mut rows = vec![[
                "NAME".to_owned(),
                "REQUIRED".to_owned(),
                "DEFAULT VALUE".to_owned(),
                "ALTERNATE VALUE".to_owned(),
            ]];
            rows.extend(used.values().map(|u| {
                [
                    u.name.clone(),
                    u.required.to_string(),
                    u.default.clone(),
                    u.presence.clone(),
                ]
            }));
            columns_as_compose(&rows)
        }
    })
}

/// Rows in columns of at least 20 characters (one past the widest cell), the last unpadded: Go's
/// tabwriter as compose sets it up for `config --variables`.
fn columns_as_compose(rows: &[[String; 4]]) -> String {
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.to_vec()).collect();
    crate::ui::table::as_go_tabwriter(&rows, 20, 1)
}

#[cfg(test)]
#[test]
fn variables_print_in_composes_columns() {
    let rows = [
        ["NAME", "REQUIRED", "DEFAULT VALUE", "ALTERNATE VALUE"].map(String::from),
        ["TAG", "false", "latest", ""].map(String::from),
    ];
    assert_eq!(
        columns_as_compose(&rows),
        format!(
            "{:<20}{:<20}{:<20}ALTERNATE VALUE\n{:<20}{:<20}{:<20}\n",
            "NAME", "REQUIRED", "DEFAULT VALUE", "TAG", "false", "latest"
        )
    );
}
