//! stackctl: bring up a multi-container stack from a Compose manifest through the Docker Engine API.

use std::process::ExitCode;

use clap::Parser;
use stackctl::{cli, commands, exit, manifest, ui};

fn main() -> ExitCode {
    let docker_started_it = std::env::var_os("DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND").is_some();
    let args = match cli::plugin::invocation(std::env::args_os().collect(), docker_started_it) {
        cli::plugin::Invocation::Metadata => {
            let _ = ui::out(format!("{}\n", cli::plugin::metadata()));
            return ExitCode::SUCCESS;
        }
        cli::plugin::Invocation::Run(args) => args,
    };
    // As compose, every failure is exit 1, a refused flag included (clap's and ours say 2).
    let as_compose = args.iter().any(|a| a == "--as-compose");
    let usage_code = |code: u8| if as_compose && code == 2 { 1 } else { code };
    let cli = match cli::Cli::try_parse_from(cli::compat::normalise(args)) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(usage_code(u8::try_from(e.exit_code()).unwrap_or(2)));
        }
    };
    match commands::run(cli) {
        Ok(code) => code,
        // A reader that went away (`stackctl logs | head`) is not a failure of ours.
        Err(err) if exit::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let code = usage_code(exit::code_for(&err));
            if let Some(d) = err.downcast_ref::<manifest::Diagnostics>() {
                eprint!("{d}");
            } else if code == 130 {
                eprintln!("stackctl: interrupted");
            } else {
                eprintln!("error: {err:#}");
            }
            ExitCode::from(code)
        }
    }
}
