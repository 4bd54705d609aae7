//! stackctl as a docker CLI plugin: installed as `docker-stackctl` in `~/.docker/cli-plugins`, it
//! answers `docker-cli-plugin-metadata`, and `docker [GLOBAL FLAGS] stackctl ARGS` runs it as
//! `docker-stackctl [GLOBAL FLAGS] stackctl ARGS`. The docker flags that mean something here
//! (`--context`/`-c`, `--host`/`-H`) are kept; those docker has already acted on are dropped.

use std::ffi::OsString;
use std::path::Path;

/// How this process was started.
#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    /// As `stackctl ARGS` (or as a plugin, with its arguments made plain): parse these.
    Run(Vec<OsString>),
    /// The docker CLI asks what plugin this is.
    Metadata,
}

/// The metadata the docker CLI reads to list and run the plugin.
pub fn metadata() -> String {
    serde_json::json!({
        "SchemaVersion": "0.1.0",
        "Vendor": "stackctl",
        "Version": env!("CARGO_PKG_VERSION"),
        "ShortDescription": "Bring up a Compose stack through the Docker Engine API",
    })
    .to_string()
}

/// Docker's global flags that take a value and mean nothing more here (docker applied them).
const DOCKER_ONLY_WITH_VALUE: &[&str] = &[
    "--config",
    "-l",
    "--log-level",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
];
const DOCKER_ONLY: &[&str] = &["-D", "--debug", "--tls", "--tlsverify"];

/// Reads the process arguments: as a plugin when the program is named `docker-…` or the docker
/// CLI says it started it; otherwise unchanged.
pub fn invocation(args: Vec<OsString>, docker_started_it: bool) -> Invocation {
    let program = args.first().cloned().unwrap_or_default();
    let name = Path::new(&program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let plugin_name = name.strip_prefix("docker-");
    if plugin_name.is_none() && !docker_started_it {
        return Invocation::Run(args);
    }
    let plugin_name = plugin_name.unwrap_or("stackctl").to_owned();
    if args
        .get(1)
        .is_some_and(|a| a == "docker-cli-plugin-metadata")
    {
        return Invocation::Metadata;
    }
    let mut out = vec![OsString::from("stackctl")];
    if plugin_name == "compose" {
        out.push("--as-compose".into());
    }
    let docker_flags = match docker_flags_then(&args[1..], &plugin_name) {
        Some(n) => n,
        // Started by its own name (`docker-compose ARGS`): every argument is the plugin's own,
        // `sh -c …` after `run` included.
        None => {
            out.extend(args.into_iter().skip(1));
            return Invocation::Run(out);
        }
    };
    let mut rest = args.into_iter().skip(1);
    let mut flags = rest
        .by_ref()
        .take(docker_flags)
        .collect::<Vec<_>>()
        .into_iter();
    rest.next(); // the plugin's name
    // Docker's global flags come first, then the plugin's name, then the plugin's own arguments.
    while let Some(arg) = flags.next() {
        let text = arg.to_string_lossy().into_owned();
        let (flag, inline) = match text.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f.to_owned(), Some(v.to_owned())),
            _ => (text.clone(), None),
        };
        match flag.as_str() {
            "-c" | "--context" | "-H" | "--host" => {
                let long = if flag == "-c" {
                    "--context"
                } else {
                    flag.as_str()
                };
                out.push(long.into());
                match inline {
                    Some(v) => out.push(v.into()),
                    None => out.extend(flags.next()),
                }
            }
            f if DOCKER_ONLY_WITH_VALUE.contains(&f) => {
                if inline.is_none() {
                    flags.next();
                }
            }
            f if DOCKER_ONLY.contains(&f) => {}
            _ => out.push(arg),
        }
    }
    out.extend(rest);
    Invocation::Run(out)
}

/// How many of `args` are docker's global flags (with their values) before `plugin_name`, when
/// they are followed by it; None when the arguments do not start that way.
fn docker_flags_then(args: &[OsString], plugin_name: &str) -> Option<usize> {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let text = arg.to_string_lossy();
        if text == plugin_name {
            return Some(i);
        }
        let flag = text.split_once('=').map_or(&*text, |(f, _)| f);
        let with_value = ["-c", "--context", "-H", "--host"].contains(&flag)
            || DOCKER_ONLY_WITH_VALUE.contains(&flag);
        if with_value && !text.contains('=') {
            i += 2;
        } else if with_value || DOCKER_ONLY.contains(&flag) {
            i += 1;
        } else {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_plain_run_is_left_alone() {
        let a = args(&["/usr/bin/stackctl", "up", "-d"]);
        assert_eq!(invocation(a.clone(), false), Invocation::Run(a));
    }

    #[test]
    fn the_docker_cli_asks_for_metadata_and_runs_with_its_global_flags() {
        let plugin = "/home/u/.docker/cli-plugins/docker-stackctl";
        assert_eq!(
            invocation(args(&[plugin, "docker-cli-plugin-metadata"]), true),
            Invocation::Metadata
        );
        assert_eq!(
            invocation(
                args(&[
                    plugin, "-c", "remote", "-D", "--config", "/x", "-l=debug", "stackctl", "up",
                    "-d", "stackctl"
                ]),
                true
            ),
            Invocation::Run(args(&[
                "stackctl",
                "--context",
                "remote",
                "up",
                "-d",
                "stackctl"
            ]))
        );
        assert_eq!(
            invocation(
                args(&[plugin, "--host=tcp://h:2375", "stackctl", "ps"]),
                true
            ),
            Invocation::Run(args(&["stackctl", "--host", "tcp://h:2375", "ps"]))
        );
        // By its own name, with no plugin word: nothing is read as docker's (`sh -c`).
        assert_eq!(
            invocation(
                args(&[
                    "/usr/local/bin/docker-compose",
                    "run",
                    "web",
                    "sh",
                    "-c",
                    "echo"
                ]),
                false
            ),
            Invocation::Run(args(&[
                "stackctl",
                "--as-compose",
                "run",
                "web",
                "sh",
                "-c",
                "echo"
            ]))
        );
        assert_eq!(
            invocation(
                args(&["/p/docker-compose", "-H", "unix:///x", "compose", "ps"]),
                true
            ),
            Invocation::Run(args(&["stackctl", "--as-compose", "-H", "unix:///x", "ps"]))
        );
        let meta: serde_json::Value = serde_json::from_str(&metadata()).unwrap();
        assert_eq!(meta["SchemaVersion"], "0.1.0");
    }
}
