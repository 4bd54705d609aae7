//! The command line as compose's parser (cobra/pflag) reads it, made into what clap reads: a
//! boolean flag given a value (`--orphans=false`, `-d=true`), `-v`/`--version` before any
//! subcommand, and the docker CLI's own flags that the standalone `docker-compose` accepts and
//! ignores (`--tls`, `-D`, `--log-level debug`). Everything else is left to clap.

use std::ffi::OsString;

use clap::{ArgAction, CommandFactory};

/// docker's flags that a standalone `docker-compose` accepts before the subcommand and that mean
/// nothing here (the daemon's address comes from `-H`/`--context`, which stackctl takes).
const DOCKER_FLAGS: &[&str] = &["-D", "--debug", "--tls", "--tlsverify"];
const DOCKER_FLAGS_WITH_VALUE: &[&str] = &["--tlscacert", "--tlscert", "--tlskey", "--log-level"];

/// Rewrites `args` (program name first) as described above.
pub fn normalise(args: Vec<OsString>) -> Vec<OsString> {
    let root = super::Cli::command();
    let mut out: Vec<OsString> = Vec::with_capacity(args.len());
    let mut iter = args.into_iter();
    out.extend(iter.next());
    let mut sub: Option<clap::Command> = None;
    let mut after_dashes = false;
    while let Some(arg) = iter.next() {
        let Some(text) = arg.to_str().map(str::to_owned) else {
            out.push(arg);
            continue;
        };
        if after_dashes || sub.as_ref().is_some_and(trailing_started(&out)) {
            out.push(arg);
            continue;
        }
        if text == "--" {
            after_dashes = true;
            out.push(arg);
            continue;
        }
        if sub.is_none() {
            if DOCKER_FLAGS.contains(&text.as_str()) {
                continue;
            }
            if let Some(flag) = DOCKER_FLAGS_WITH_VALUE
                .iter()
                .find(|f| text == **f || text.starts_with(&format!("{f}=")))
            {
                if text == *flag {
                    iter.next();
                }
                continue;
            }
            // compose's deprecated spelling of --project-directory.
            if let Some(rest) = text.strip_prefix("--workdir")
                && (rest.is_empty() || rest.starts_with('='))
            {
                out.push(format!("--project-directory{rest}").into());
                continue;
            }
            if text == "-v" || text == "--version" || text == "-V" {
                out.push("version".into());
                sub = root.find_subcommand("version").cloned();
                continue;
            }
        }
        let command = sub.as_ref().unwrap_or(&root);
        if let Some(rewritten) = boolean_with_value(command, &root, &text) {
            out.extend(rewritten.map(OsString::from));
            continue;
        }
        if sub.is_none() && !text.starts_with('-') {
            // The first word that is no flag's value is the subcommand.
            let is_value = out
                .last()
                .and_then(|p| p.to_str())
                .is_some_and(|prev| takes_value(&root, prev) && !prev.contains('='));
            if !is_value {
                sub = root.find_subcommand(&text).cloned();
            }
        }
        out.push(arg);
    }
    out
}

/// A predicate that is true once the subcommand's trailing command (`exec svc CMD…`,
/// `run svc CMD…`) has begun: from there on every word belongs to that command.
fn trailing_started(out: &[OsString]) -> impl Fn(&clap::Command) -> bool + '_ {
    move |sub: &clap::Command| {
        if !matches!(sub.get_name(), "exec" | "run") {
            return false;
        }
        // The service is the first positional after the subcommand; the command follows it.
        let Some(at) = out.iter().position(|a| a.to_str() == Some(sub.get_name())) else {
            return false;
        };
        let mut positionals = 0;
        let mut skip_value = false;
        for a in &out[at + 1..] {
            let a = a.to_str().unwrap_or_default();
            if skip_value {
                skip_value = false;
                continue;
            }
            if a.starts_with('-') && a.len() > 1 {
                skip_value = takes_value(sub, a) && !a.contains('=');
                continue;
            }
            positionals += 1;
        }
        positionals >= 1
    }
}

/// Whether `flag` (as typed, `--name` or `-n`, perhaps with `=value`) takes a value in `command`.
fn takes_value(command: &clap::Command, flag: &str) -> bool {
    let name = flag.split('=').next().unwrap_or(flag);
    find(command, name).is_some_and(|a| {
        matches!(a.get_action(), ArgAction::Set | ArgAction::Append)
            && a.get_num_args().is_none_or(|n| n.min_values() > 0)
    })
}

/// `--flag=true`/`--flag=false` (or `-f=…`) of a flag that takes no value: `--flag`, or nothing.
fn boolean_with_value(
    command: &clap::Command,
    root: &clap::Command,
    text: &str,
) -> Option<impl Iterator<Item = String>> {
    let (flag, value) = text.split_once('=')?;
    if !flag.starts_with('-') {
        return None;
    }
    let arg = find(command, flag).or_else(|| find(root, flag))?;
    if !matches!(arg.get_action(), ArgAction::SetTrue) {
        return None;
    }
    let on = match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "t" => true,
        "false" | "0" | "f" => false,
        _ => return None,
    };
    Some(on.then(|| flag.to_owned()).into_iter())
}

/// The argument `flag` (`--long` or `-s`) names in `command`, aliases included.
fn find<'a>(command: &'a clap::Command, flag: &str) -> Option<&'a clap::Arg> {
    if let Some(long) = flag.strip_prefix("--") {
        return command.get_arguments().find(|a| {
            a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|all| all.contains(&long))
        });
    }
    let mut chars = flag.strip_prefix('-')?.chars();
    let short = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    command.get_arguments().find(|a| {
        a.get_short() == Some(short)
            || a.get_all_short_aliases()
                .is_some_and(|all| all.contains(&short))
    })
}

#[cfg(test)]
mod tests {
    use super::normalise;
    use std::ffi::OsString;

    fn n(list: &[&str]) -> Vec<String> {
        let args: Vec<OsString> = std::iter::once("stackctl")
            .chain(list.iter().copied())
            .map(OsString::from)
            .collect();
        normalise(args)
            .into_iter()
            .skip(1)
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn booleans_given_a_value_are_read_as_compose_reads_them() {
        assert_eq!(n(&["up", "-d=true"]), ["up", "-d"]);
        assert_eq!(n(&["up", "--detach=false", "web"]), ["up", "web"]);
        assert_eq!(n(&["--dry-run=true", "down"]), ["--dry-run", "down"]);
        // A flag that takes a value keeps it.
        assert_eq!(n(&["logs", "--tail=5"]), ["logs", "--tail=5"]);
    }

    #[test]
    fn version_flags_and_docker_flags_before_the_subcommand() {
        assert_eq!(n(&["-v"]), ["version"]);
        assert_eq!(n(&["--version"]), ["version"]);
        assert_eq!(n(&["--tls", "--log-level", "debug", "-D", "ps"]), ["ps"]);
        assert_eq!(
            n(&["-f", "x.yml", "--log-level=info", "ps"]),
            ["-f", "x.yml", "ps"]
        );
        assert_eq!(
            n(&["--workdir", "d", "run", "-w", "/x", "web"]),
            ["--project-directory", "d", "run", "-w", "/x", "web"]
        );
    }

    #[test]
    fn a_command_run_in_a_container_is_left_as_it_is() {
        assert_eq!(
            n(&["exec", "-T", "web", "ls", "-d=true", "-v"]),
            ["exec", "-T", "web", "ls", "-d=true", "-v"]
        );
        assert_eq!(
            n(&["run", "--rm", "-e", "A=1", "web", "sh", "-c", "--rm=false"]),
            ["run", "--rm", "-e", "A=1", "web", "sh", "-c", "--rm=false"]
        );
        // The value of a flag before the subcommand is not the subcommand.
        assert_eq!(n(&["-p", "up", "ps", "-a=false"]), ["-p", "up", "ps"]);
    }
}
