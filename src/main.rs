//! stackctl: bring up a multi-container stack from a Compose manifest through the Docker Engine API.

use std::process::ExitCode;

use clap::Parser;
use stackctl::{cli, commands, exit, manifest};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        // A reader that went away (`stackctl logs | head`) is not a failure of ours.
        Err(err) if exit::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let code = exit::code_for(&err);
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
