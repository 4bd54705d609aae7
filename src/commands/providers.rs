//! Provider services: a service with `provider:` is made by an external program (a Docker CLI
//! plugin `docker-TYPE`, or `TYPE` on PATH) that speaks compose's provider protocol:
//! `TYPE compose --project-name=P up|down [--KEY=VALUE...] SERVICE`, answering with JSON lines
//! on stdout (`info`, `debug`, `error`, `setenv`, `rawsetenv`). What it sets reaches the services
//! that depend on it as environment variables (`SERVICE_KEY`, or `KEY` for `rawsetenv`). A provider
//! that answers `TYPE compose metadata` declares the options of each command: then only those are
//! passed, a required one missing is refused, and `stop` is run only when it declares one.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::engine::{Reporter, step};
use crate::exit::UsageError;
use crate::manifest::{Project, Provider};

/// The provider services that an `up` of `selected` (all when empty) needs, in the order their
/// own dependencies ask for.
pub fn needed(project: &Project, selected: &[String], with_deps: bool) -> Vec<String> {
    let mut wanted: BTreeSet<String> = if selected.is_empty() {
        project.services.keys().cloned().collect()
    } else {
        selected.iter().cloned().collect()
    };
    if with_deps {
        let mut todo: Vec<String> = wanted.iter().cloned().collect();
        while let Some(s) = todo.pop() {
            for d in project
                .services
                .get(&s)
                .into_iter()
                .flat_map(|s| s.depends_on.keys())
            {
                if wanted.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
    }
    let mut order = Vec::new();
    let mut placed = BTreeSet::new();
    // Depth-first, dependencies first; the manifest has been checked for cycles.
    fn place(project: &Project, s: &str, placed: &mut BTreeSet<String>, order: &mut Vec<String>) {
        if !placed.insert(s.to_owned()) {
            return;
        }
        for d in project
            .services
            .get(s)
            .into_iter()
            .flat_map(|s| s.depends_on.keys())
        {
            place(project, d, placed, order);
        }
        order.push(s.to_owned());
    }
    for s in &wanted {
        place(project, s, &mut placed, &mut order);
    }
    order
        .into_iter()
        .filter(|s| wanted.contains(s))
        .filter(|s| {
            project
                .services
                .get(s)
                .is_some_and(|svc| svc.provider.is_some())
        })
        .collect()
}

/// Where the provider program is: a Docker CLI plugin first, as compose looks, then PATH.
pub fn binary(kind: &str) -> Option<PathBuf> {
    let plugin = format!("docker-{kind}");
    let config_dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker")));
    let plugin_dirs = config_dir.map(|d| d.join("cli-plugins")).into_iter().chain(
        [
            "/usr/local/lib/docker/cli-plugins",
            "/usr/local/libexec/docker/cli-plugins",
            "/usr/lib/docker/cli-plugins",
            "/usr/libexec/docker/cli-plugins",
        ]
        .map(PathBuf::from),
    );
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(kind))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    plugin_dirs
        .map(|d| d.join(&plugin))
        .chain(on_path)
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Refuses, before anything is created, provider services whose program cannot be found.
pub fn check_programs(project: &Project, services: &[String]) -> Result<(), UsageError> {
    for name in services {
        let Some(p) = project.services.get(name).and_then(|s| s.provider.as_ref()) else {
            continue;
        };
        if binary(&p.kind).is_none() {
            return Err(UsageError::new(format!(
                "service `{name}`: provider `{}` is neither a Docker CLI plugin (docker-{}) nor a program on PATH",
                p.kind, p.kind
            ))
            .hint(format!(
                "install the `{}` provider, or put its program on PATH",
                p.kind
            )));
        }
    }
    Ok(())
}

/// What one provider run set for the services that depend on it.
#[derive(Debug, Default, PartialEq)]
pub struct Provided {
    /// `setenv`: given to dependents as `SERVICE_KEY`.
    pub prefixed: BTreeMap<String, String>,
    /// `rawsetenv`: given as written.
    pub raw: BTreeMap<String, String>,
}

/// What a provider says of its commands (`TYPE compose metadata`), as compose reads it.
#[derive(Debug, Default, serde::Deserialize)]
struct Metadata {
    #[serde(default)]
    description: String,
    #[serde(default)]
    up: CommandMetadata,
    #[serde(default)]
    down: CommandMetadata,
    #[serde(default)]
    stop: Option<CommandMetadata>,
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
struct CommandMetadata {
    #[serde(default)]
    parameters: Option<Vec<Parameter>>,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct Parameter {
    name: String,
    #[serde(default)]
    required: bool,
}

impl Metadata {
    /// A provider without the subcommand (or whose answer is not metadata) declares nothing.
    fn of(program: &Path, variables: &BTreeMap<String, String>) -> Metadata {
        Command::new(program)
            .args(["compose", "metadata"])
            .envs(variables)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| serde_json::from_slice(&o.stdout).ok())
            .unwrap_or_default()
    }

    fn is_empty(&self) -> bool {
        self.description.is_empty()
            && self.up.parameters.is_none()
            && self.down.parameters.is_none()
    }

    /// The declaration for `command`; None for a `stop` the provider does not declare.
    fn command(&self, command: &str) -> Option<CommandMetadata> {
        match command {
            "up" => Some(self.up.clone()),
            "down" => Some(self.down.clone()),
            _ => self.stop.clone(),
        }
    }
}

/// The `--KEY=VALUE` options `command` is given: all of the service's when the provider declares
/// nothing, else only those it declares for `command`, a required one missing being an error.
fn options_for(
    service: &str,
    provider: &Provider,
    metadata: &Metadata,
    declared: &CommandMetadata,
    command: &str,
) -> Result<Vec<String>, UsageError> {
    let params = declared.parameters.clone().unwrap_or_default();
    if !metadata.is_empty()
        && let Some(missing) = params
            .iter()
            .find(|p| p.required && !provider.options.contains_key(&p.name))
    {
        return Err(UsageError::new(format!(
            "service `{service}`: provider `{}` needs the option `{}` for {command}",
            provider.kind, missing.name
        ))
        .hint(format!(
            "add `{}: …` under the service's `provider.options`",
            missing.name
        )));
    }
    Ok(provider
        .options
        .iter()
        .filter(|(k, _)| metadata.is_empty() || params.iter().any(|p| &p.name == *k))
        .flat_map(|(k, values)| values.iter().map(move |v| format!("--{k}={v}")))
        .collect())
}

/// Runs `command` (`up`, `down` or `stop`) of the provider of `service`, reporting its `info`
/// lines; a `stop` the provider does not declare is not run.
pub fn run(
    project: &str,
    service: &str,
    provider: &Provider,
    command: &str,
    variables: &BTreeMap<String, String>,
    report: &Reporter,
) -> Result<Provided> {
    let program = binary(&provider.kind)
        .with_context(|| format!("provider `{}` is not installed", provider.kind))?;
    let metadata = Metadata::of(&program, variables);
    let Some(declared) = metadata.command(command) else {
        return Ok(Provided::default());
    };
    let mut args = vec![
        "compose".to_owned(),
        format!("--project-name={project}"),
        command.to_owned(),
    ];
    args.extend(options_for(
        service, provider, &metadata, &declared, command,
    )?);
    args.push(service.to_owned());
    let object = format!("Service {service}");
    let (working, finished) = match command {
        "up" => ("Creating", "Created"),
        "stop" => ("Stopping", "Stopped"),
        _ => ("Removing", "Removed"),
    };
    step(report, &object, working, false);
    let mut child = Command::new(&program)
        .args(&args)
        .envs(variables)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting provider {}", program.display()))?;
    let stdout = child.stdout.take().expect("piped");
    let mut provided = Provided::default();
    let mut failure = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.context("reading the provider's output")?;
        if line.trim().is_empty() {
            continue;
        }
        match parse_message(&line) {
            Ok(Message::Info(text)) => step(report, &object, first_line(&text), false),
            Ok(Message::Debug(_)) => {}
            Ok(Message::Error(text)) => {
                failure = Some(text);
                break;
            }
            Ok(Message::SetEnv(k, v)) => {
                provided.prefixed.insert(k, v);
            }
            Ok(Message::RawSetEnv(k, v)) => {
                provided.raw.insert(k, v);
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if failure.is_some() {
        let _ = child.kill();
    }
    let status = child.wait().context("waiting for the provider")?;
    if let Some(why) = failure {
        step(report, &object, "Error", true);
        bail!("provider `{}` of service {service}: {why}", provider.kind);
    }
    if !status.success() {
        step(report, &object, "Error", true);
        bail!(
            "provider `{}` of service {service} failed to {command} ({status})",
            provider.kind
        );
    }
    step(report, &object, finished, true);
    Ok(provided)
}

#[derive(Debug, PartialEq)]
enum Message {
    Info(String),
    Debug(String),
    Error(String),
    SetEnv(String, String),
    RawSetEnv(String, String),
}

fn parse_message(line: &str) -> Result<Message, String> {
    #[derive(serde::Deserialize)]
    struct Raw {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        message: String,
    }
    let raw: Raw = serde_json::from_str(line)
        .map_err(|e| format!("it wrote `{}`, not a JSON message ({e})", first_line(line)))?;
    let pair = |m: String| match m.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{}` should be KEY=VALUE", raw.kind)),
    };
    Ok(match raw.kind.as_str() {
        "info" => Message::Info(raw.message),
        "debug" => Message::Debug(raw.message),
        "error" => Message::Error(raw.message),
        "setenv" => {
            let (k, v) = pair(raw.message)?;
            Message::SetEnv(k, v)
        }
        "rawsetenv" => {
            let (k, v) = pair(raw.message)?;
            Message::RawSetEnv(k, v)
        }
        other => return Err(format!("unknown message type `{other}`")),
    })
}

fn first_line(s: &str) -> String {
    s.trim_end().lines().next().unwrap_or_default().to_owned()
}

/// Runs `command` (`down` or `stop`) of the providers among `selected` (all when empty),
/// dependents' first.
pub fn run_in_reverse(
    loaded: &crate::manifest::Loaded,
    selected: &[String],
    command: &str,
    report: &Reporter,
) -> Result<()> {
    let project = &loaded.project;
    let variables: BTreeMap<String, String> = loaded
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for name in needed(project, selected, false).iter().rev() {
        if let Some(provider) = &project.services[name].provider {
            run(&project.name, name, provider, command, &variables, report)?;
        }
    }
    Ok(())
}

/// Gives the services that depend on `service` what its provider set.
pub fn inject(project: &mut Project, service: &str, provided: &Provided) {
    let prefix = format!("{}_", service.to_uppercase());
    for svc in project.services.values_mut() {
        if !svc.depends_on.contains_key(service) {
            continue;
        }
        for (k, v) in &provided.prefixed {
            svc.environment
                .insert(format!("{prefix}{k}"), Some(v.clone()));
        }
        for (k, v) in &provided.raw {
            svc.environment.insert(k.clone(), Some(v.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_read_as_the_protocol_writes_them() {
        assert_eq!(
            parse_message(r#"{"type":"setenv","message":"URL=http://db:5432/x?a=b"}"#),
            Ok(Message::SetEnv("URL".into(), "http://db:5432/x?a=b".into()))
        );
        assert_eq!(
            parse_message(r#"{"type":"info","message":"pulling 50%"}"#),
            Ok(Message::Info("pulling 50%".into()))
        );
        assert!(parse_message(r#"{"type":"setenv","message":"novalue"}"#).is_err());
        assert!(parse_message(r#"{"type":"shout","message":"x"}"#).is_err());
        assert!(
            parse_message("plain text")
                .unwrap_err()
                .contains("not a JSON message")
        );
    }

    #[test]
    fn providers_run_dependencies_first_and_only_those_needed() {
        let yaml = "services:\n  app:\n    image: x\n    depends_on: [db, cache]\n  db:\n    provider: {type: cloud}\n    depends_on: [net]\n  net:\n    provider: {type: cloud}\n  cache:\n    provider: {type: cloud}\n  other:\n    provider: {type: cloud}\n";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
        let project = crate::manifest::load(&crate::manifest::LoadOptions {
            cwd: dir.path().to_path_buf(),
            ..Default::default()
        })
        .unwrap()
        .project;
        assert_eq!(
            needed(&project, &["app".into()], true),
            ["cache", "net", "db"]
        );
        assert_eq!(
            needed(&project, &["app".into()], false),
            Vec::<String>::new()
        );
        assert_eq!(needed(&project, &[], true), ["cache", "net", "db", "other"]);

        let mut project = project;
        let provided = Provided {
            prefixed: BTreeMap::from([("URL".into(), "u".into())]),
            raw: BTreeMap::from([("TOKEN".into(), "t".into())]),
        };
        inject(&mut project, "db", &provided);
        let env = &project.services["app"].environment;
        assert_eq!(env["DB_URL"].as_deref(), Some("u"));
        assert_eq!(env["TOKEN"].as_deref(), Some("t"));
        assert!(project.services["cache"].environment.is_empty());
    }
}
