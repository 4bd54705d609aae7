//! What every command needs, made once: the global options, the one async runtime (built in one
//! place, the first time a command needs it), the progress reporter, and the loaded manifest.

use std::sync::OnceLock;

use anyhow::Result;

use crate::cli::Global;
use crate::engine::backend::{Backend, Target};
use crate::engine::{self, Engine, Reporter};
use crate::manifest::{self, LoadOptions, Loaded};
use crate::ui;

/// How the runtime is shaped for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `logs`: one thread. The readers hand lines to one view, and threads would only wake each
    /// other (with two workers, futex wake-ups cost more CPU than the reading itself). The I/O
    /// driver is polled after every `event_interval` task runs; a burst of frames is many short
    /// runs, so it is polled less often.
    LogReader,
    /// Everything else: two workers (this tool waits on the daemon; it does not compute).
    Workers,
}

pub struct Ctx {
    pub global: Global,
    shape: Shape,
    runtime: OnceLock<tokio::runtime::Runtime>,
    /// The files of `-f oci://…` and git projects, fetched into a folder of this run's own (0700),
    /// removed when the command ends.
    fetched: OnceLock<tempfile::TempDir>,
    /// The manifest once loaded: a command that reads it twice reads it once (and warns once).
    loaded: OnceLock<Loaded>,
    /// The services the command line names: a named service whose profile is not active
    /// activates it (compose's rule: `up -d job` runs `job` of profile `jobs`).
    named: Vec<String>,
    /// References to undeclared resources pass (`config --no-consistency`).
    no_consistency: bool,
}

impl Ctx {
    pub fn new(global: Global, shape: Shape) -> Self {
        Ctx {
            global,
            shape,
            runtime: OnceLock::new(),
            fetched: OnceLock::new(),
            loaded: OnceLock::new(),
            named: Vec::new(),
            no_consistency: false,
        }
    }

    /// The same context for a command that prints the project without running it, as
    /// `config --no-consistency` asks: references to undeclared resources pass.
    pub fn without_consistency(mut self, yes: bool) -> Self {
        self.no_consistency = yes;
        self
    }

    /// The same context for a command line that names `services`.
    pub fn naming(mut self, services: Vec<String>) -> Self {
        self.named = services;
        self
    }

    /// `--parallel` as a bound: 0 for no limit.
    pub fn parallel(&self) -> usize {
        usize::try_from(self.global.parallel).unwrap_or(0)
    }

    /// Runs `fut` to completion on the command's runtime.
    pub fn block_on<T>(&self, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        if self.runtime.get().is_none() {
            let _ = self.runtime.set(build_runtime(self.shape)?);
        }
        match self.runtime.get() {
            Some(rt) => rt.block_on(fut),
            None => anyhow::bail!("the async runtime could not be made"),
        }
    }

    /// Loads the manifest named by the global options; warnings go to the terminal.
    pub fn load(&self) -> Result<Loaded> {
        if let Some(loaded) = self.loaded.get() {
            return Ok(loaded.clone());
        }
        let loaded = self.read()?;
        ui::warnings(&loaded.warnings);
        Ok(self.loaded.get_or_init(|| loaded).clone())
    }

    /// The manifest read again (its files may have changed since `load`), warnings left to the
    /// caller to show.
    pub fn reload(&self) -> Result<Loaded> {
        self.read()
    }

    fn read(&self) -> Result<Loaded> {
        let g = &self.global;
        let cwd = std::env::current_dir()?;
        let files = self.local_files()?;
        // A published project has no folder of its own: this one is its project folder.
        let remote = g
            .files
            .iter()
            .any(|f| f.to_string_lossy().starts_with("oci://"));
        let opts = LoadOptions {
            files,
            project_name: g.project_name.clone(),
            env_files: g.env_files.clone(),
            project_directory: g
                .project_directory
                .clone()
                .or_else(|| remote.then(|| cwd.clone())),
            cwd,
            environ: {
                let mut environ: std::collections::HashMap<String, String> =
                    std::env::vars().collect();
                // `--profile` replaces COMPOSE_PROFILES, as in compose.
                if !g.profiles.is_empty() {
                    environ.insert("COMPOSE_PROFILES".into(), g.profiles.join(","));
                }
                environ
            },
            inline: None,
            include_chain: Vec::new(),
            no_consistency: self.no_consistency,
        };
        let mut opts = opts;
        let mut loaded = manifest::load(&opts)?;
        let wanted: Vec<&String> = self
            .named
            .iter()
            .filter_map(|name| loaded.project.disabled_services.get(name))
            .flatten()
            .collect();
        if !wanted.is_empty() {
            let mut active: Vec<String> = loaded
                .variables
                .get("COMPOSE_PROFILES")
                .map(|p| p.split(',').map(|p| p.trim().to_owned()).collect())
                .unwrap_or_default();
            active.extend(wanted.into_iter().cloned());
            opts.environ
                .insert("COMPOSE_PROFILES".into(), active.join(","));
            loaded = manifest::load(&opts)?;
        }
        // As compose, COMPOSE_COMPATIBILITY counts from the project's .env too.
        loaded.project.compatibility = g.compatibility
            || loaded
                .variables
                .get("COMPOSE_COMPATIBILITY")
                .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
        Ok(loaded)
    }

    /// `-f` as files on this machine: an `oci://` entry (a published project) or a git URL is
    /// fetched into this run's own folder (see `remote`).
    fn local_files(&self) -> Result<Vec<std::path::PathBuf>> {
        let mut out = Vec::new();
        for (i, f) in self.global.files.iter().enumerate() {
            let text = f.to_string_lossy();
            let oci = text.strip_prefix("oci://");
            let git = super::remote::git_source(&text);
            if oci.is_none() && git.is_none() {
                out.push(f.clone());
                continue;
            }
            let dir = match self.fetched.get() {
                Some(d) => d,
                None => {
                    let made = tempfile::Builder::new()
                        .prefix("stackctl-remote-")
                        .tempdir()?;
                    self.fetched.get_or_init(|| made)
                }
            };
            let here = dir.path().join(i.to_string());
            match (oci, git) {
                (Some(reference), _) => {
                    std::fs::create_dir(&here)?;
                    out.extend(super::remote::fetch_oci(reference, &here)?);
                }
                (None, Some(source)) => out.push(super::remote::fetch_git(&source, &here)?),
                (None, None) => {}
            }
        }
        Ok(out)
    }

    /// The plan of a command that creates things: with `scale` applied, and without the networks
    /// and volumes no service uses unless `--all-resources` asks for them.
    pub fn plan_to_create(
        &self,
        project: &manifest::Project,
        scale: &std::collections::BTreeMap<String, u32>,
    ) -> Result<crate::plan::Plan> {
        let wants_socket = project
            .services
            .values()
            .any(|s| s.use_api_socket == Some(true));
        let mut plan = if wants_socket {
            self.target().refuse_api_socket()?;
            let mut with_socket = project.clone();
            engine::api_socket::apply(&mut with_socket, &self.endpoint()?.host)?;
            crate::plan::build(&with_socket, scale)
        } else {
            crate::plan::build(project, scale)
        };
        if !self.global.all_resources {
            plan.drop_unused_resources();
        }
        Ok(plan)
    }

    pub fn target(&self) -> Target {
        match self.global.target {
            crate::cli::Target::Local => Target::Local,
            crate::cli::Target::Swarm => Target::Swarm,
        }
    }

    /// Connects to the daemon as the target the command line names.
    pub async fn backend(&self) -> Result<Backend> {
        let engine = self.connect().await?;
        Ok(Backend::new(
            engine,
            self.target(),
            self.global.registry.clone(),
        ))
    }

    /// The progress reporter `--progress` asks for; `quiet` (a command's own `-q`) says nothing
    /// but warnings, as `--progress quiet` does.
    pub fn reporter_unless(&self, quiet: bool) -> Reporter {
        if quiet {
            ui::reporter(ui::Progress::Quiet)
        } else {
            self.reporter()
        }
    }

    /// The reporter for `up`: `--quiet-pull` and `--quiet-build` leave out those details.
    pub fn reporter_quieter(&self, pulls: bool, builds: bool) -> Reporter {
        ui::without_detail(self.reporter(), pulls, builds)
    }

    pub fn reporter(&self) -> Reporter {
        use crate::cli::Progress as P;
        ui::reporter(match self.global.progress {
            P::Auto => ui::Progress::Auto,
            P::Tty => ui::Progress::Tty,
            P::Plain => ui::Progress::Plain,
            P::Quiet => ui::Progress::Quiet,
            P::Json => ui::Progress::Json,
        })
    }

    /// The daemon the flags and the environment name, as the docker CLI picks it.
    pub fn endpoint(&self) -> Result<engine::endpoint::Endpoint> {
        engine::endpoint::resolve(&engine::endpoint::Selection::from_env(
            self.global.host.clone(),
            self.global.context.clone(),
        ))
    }

    /// Connects to the daemon; with `--verbose`, says which one.
    pub async fn connect(&self) -> Result<Engine> {
        let engine = engine::connect(&self.endpoint()?).await?;
        if self.global.verbose {
            ui::daemon_line(&engine);
        }
        Ok(engine)
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        // A session's stdin copy blocks in a thread reading the terminal, which may never send
        // another byte once the command is done: do not wait for it (dropping the runtime would).
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn build_runtime(shape: Shape) -> Result<tokio::runtime::Runtime> {
    let mut builder = match shape {
        Shape::LogReader => {
            let mut b = tokio::runtime::Builder::new_current_thread();
            b.event_interval(1024);
            b
        }
        Shape::Workers => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(2);
            b
        }
    };
    // Whoever reads logs (logs, attached up) pauses briefly after a round that read frames, so
    // that one read takes many lines: see logs/pause.rs.
    Ok(builder
        .on_thread_park(crate::engine::logs::on_park)
        .enable_all()
        .build()?)
}
