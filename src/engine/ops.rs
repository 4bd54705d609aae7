//! Everyday operations on existing containers: exec sessions, one-off containers, attach and wait,
//! top, and the project-wide listing behind `ls`.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Result, bail};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};
use bollard::query_parameters::{
    AttachContainerOptions, ListContainersOptions, TopOptions, WaitContainerOptions,
};
use futures::{Stream, StreamExt};
use tokio::io::AsyncWrite;

use super::{ApiContext, Engine, containers};
use crate::plan::{Plan, ServicePlan, labels};

pub struct ExecSpec {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub tty: bool,
    pub stdin: bool,
    pub privileged: bool,
}

/// What a session's process wrote: its standard output (all of it on a TTY) or its standard error.
pub enum Output {
    Out(bytes::Bytes),
    Err(bytes::Bytes),
}

/// An attached session: output frames, stdin, and the ID to resize or ask the exit code.
pub struct Session {
    pub id: String,
    pub output: std::pin::Pin<Box<dyn Stream<Item = Result<Output>> + Send>>,
    pub input: std::pin::Pin<Box<dyn AsyncWrite + Send>>,
}

type Frames =
    std::pin::Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;

/// The daemon's frames as output: a TTY's console is standard output; echoed stdin is dropped.
fn session_output(frames: Frames) -> std::pin::Pin<Box<dyn Stream<Item = Result<Output>> + Send>> {
    Box::pin(frames.filter_map(|frame| async move {
        match frame {
            Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                Some(Ok(Output::Out(message)))
            }
            Ok(LogOutput::StdErr { message }) => Some(Ok(Output::Err(message))),
            Ok(LogOutput::StdIn { .. }) => None,
            Err(e) => Some(Err(anyhow::anyhow!("the session broke off: {e}"))),
        }
    }))
}

/// Starts `spec` in `container` and returns at once, attached to nothing (`exec -d`).
pub async fn exec_detached(engine: &Engine, container: &str, spec: ExecSpec) -> Result<()> {
    let created = engine
        .docker
        .create_exec(
            container,
            CreateExecOptions {
                env: Some(spec.env),
                cmd: Some(spec.cmd),
                user: spec.user,
                working_dir: spec.workdir,
                privileged: Some(spec.privileged),
                ..Default::default()
            },
        )
        .await
        .api(|| format!("creating an exec in {container}"))?;
    engine
        .docker
        .start_exec(
            &created.id,
            Some(StartExecOptions {
                detach: true,
                tty: false,
                output_capacity: None,
            }),
        )
        .await
        .api(|| format!("starting an exec in {container}"))?;
    Ok(())
}

pub async fn exec(engine: &Engine, container: &str, spec: ExecSpec) -> Result<Session> {
    let created = engine
        .docker
        .create_exec(
            container,
            CreateExecOptions {
                attach_stdin: Some(spec.stdin),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                tty: Some(spec.tty),
                env: Some(spec.env),
                cmd: Some(spec.cmd),
                user: spec.user,
                working_dir: spec.workdir,
                privileged: Some(spec.privileged),
                ..Default::default()
            },
        )
        .await
        .api(|| format!("creating an exec in {container}"))?;
    match engine
        .docker
        .start_exec(
            &created.id,
            Some(StartExecOptions {
                detach: false,
                tty: spec.tty,
                output_capacity: None,
            }),
        )
        .await
        .api(|| format!("starting the exec in {container}"))?
    {
        StartExecResults::Attached { output, input } => Ok(Session {
            id: created.id,
            output: session_output(output),
            input,
        }),
        StartExecResults::Detached => bail!("the daemon detached the exec session"),
    }
}

pub async fn exec_exit_code(engine: &Engine, exec_id: &str) -> Result<i64> {
    let info = engine
        .docker
        .inspect_exec(exec_id)
        .await
        .api(|| "inspecting the exec".into())?;
    Ok(info.exit_code.unwrap_or(0))
}

pub async fn exec_resize(engine: &Engine, exec_id: &str, width: u16, height: u16) {
    let _ = engine
        .docker
        .resize_exec(exec_id, ResizeExecOptions { height, width })
        .await;
}

/// Creates a one-off container of `svc` (labelled `oneoff`, never counted as a replica).
/// What a one-off container runs, beyond the service's own configuration.
#[derive(Default)]
pub struct OneOff {
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: Vec<String>,
    pub tty: bool,
    pub stdin: bool,
    /// Its name instead of `PROJECT-SERVICE-run-ID`.
    pub name: Option<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    /// KEY=VALUE, added to the service's labels.
    pub labels: Vec<String>,
    /// Binds and volumes as `docker run -v` takes them (`SRC:DST[:MODE]`).
    pub binds: Vec<String>,
    /// Ports to publish (`run -p`), already parsed.
    pub publish: Vec<crate::manifest::Port>,
    /// Publish the service's own ports (`run -P`).
    pub service_ports: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// Keep the service's network aliases (`--use-aliases`).
    pub use_aliases: bool,
}

pub async fn create_oneoff(
    engine: &Engine,
    plan: &Plan,
    svc: &ServicePlan,
    run: OneOff,
) -> Result<(String, String)> {
    let OneOff {
        command,
        entrypoint,
        env,
        tty,
        stdin,
        ..
    } = run;
    let suffix: String = format!("{:012x}", rand_u64() & 0xffff_ffff_ffff);
    let sep = svc.name_separator;
    let name = run
        .name
        .clone()
        .unwrap_or_else(|| format!("{}{sep}{}{sep}run{sep}{suffix}", plan.project, svc.name));
    let mut body = containers::create_body(plan, svc, 1, "");
    if let Some(l) = body.labels.as_mut() {
        l.insert(labels::ONEOFF.into(), "True".into());
        l.remove(labels::CONFIG_HASH);
        l.remove(labels::NUMBER);
        for kv in &run.labels {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            l.insert(k.to_owned(), v.to_owned());
        }
    }
    if run.user.is_some() {
        body.user = run.user.clone();
    }
    if run.workdir.is_some() {
        body.working_dir = run.workdir.clone();
    }
    if !run.use_aliases
        && let Some(net) = body.networking_config.as_mut()
        && let Some(endpoints) = net.endpoints_config.as_mut()
    {
        for e in endpoints.values_mut() {
            e.aliases = None;
        }
    }
    if command.is_some() {
        body.cmd = command;
    }
    if entrypoint.is_some() {
        body.entrypoint = entrypoint;
    }
    body.env.get_or_insert_with(Vec::new).extend(env);
    body.tty = Some(tty);
    body.open_stdin = Some(stdin);
    body.stdin_once = Some(stdin);
    body.attach_stdin = Some(stdin);
    body.attach_stdout = Some(true);
    body.attach_stderr = Some(true);
    if let Some(hc) = body.host_config.as_mut() {
        // Ports of a one-off would clash with the service's own replicas, unless asked for.
        if !run.service_ports {
            hc.port_bindings = None;
        }
        if !run.publish.is_empty() {
            let bindings = hc.port_bindings.get_or_insert_with(Default::default);
            let exposed = body.exposed_ports.get_or_insert_with(Default::default);
            for p in &run.publish {
                let key = format!("{}/{}", p.target, p.protocol);
                if !exposed.contains(&key) {
                    exposed.push(key.clone());
                }
                bindings
                    .entry(key)
                    .or_insert_with(|| Some(Vec::new()))
                    .get_or_insert_with(Vec::new)
                    .push(bollard::models::PortBinding {
                        host_ip: p.host_ip.clone(),
                        host_port: p.published.map(|r| r.to_string()),
                    });
            }
        }
        hc.restart_policy = None;
        hc.binds
            .get_or_insert_with(Vec::new)
            .extend(run.binds.iter().cloned());
        hc.cap_add
            .get_or_insert_with(Vec::new)
            .extend(run.cap_add.iter().cloned());
        hc.cap_drop
            .get_or_insert_with(Vec::new)
            .extend(run.cap_drop.iter().cloned());
    }
    let id = containers::create_named(engine, svc, &name, body, true).await?;
    Ok((id, name))
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// Attaches to a container's streams; `replay` sends what it printed before too (for a one-off
/// attached before it starts, so that nothing is missed). The daemon ends the attachment when it
/// reads `detach_keys` on stdin (its default, ctrl-p ctrl-q, when None).
pub async fn attach(
    engine: &Engine,
    id: &str,
    stdin: bool,
    replay: bool,
    detach_keys: Option<&str>,
) -> Result<Session> {
    let res = engine
        .docker
        .attach_container(
            id,
            Some(AttachContainerOptions {
                stream: true,
                stdin,
                stdout: true,
                stderr: true,
                logs: replay,
                detach_keys: detach_keys.map(str::to_owned),
            }),
        )
        .await
        .api(|| "attaching to the container".into())?;
    Ok(Session {
        id: id.to_owned(),
        output: session_output(res.output),
        input: res.input,
    })
}

/// Waits for the container to exit and returns its exit code.
pub async fn wait_exit(engine: &Engine, id: &str) -> Result<i64> {
    let mut s = engine.patient.wait_container(
        id,
        Some(WaitContainerOptions {
            condition: "not-running".into(),
        }),
    );
    match s.next().await {
        Some(Ok(r)) => Ok(r.status_code),
        // bollard reports a non-zero exit as an error carrying the code.
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(e)) => Err(super::api_error(e)),
        None => bail!("the daemon closed the wait without an exit code"),
    }
}

/// Processes of a container as the host's `ps` sees them, with `ps_args` (e.g. "-ef").
pub async fn top(
    engine: &Engine,
    id: &str,
    ps_args: &str,
) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let r = engine
        .docker
        .top_processes(
            id,
            Some(TopOptions {
                ps_args: ps_args.into(),
            }),
        )
        .await
        .api(|| format!("listing processes of {id}"))?;
    Ok((
        r.titles.unwrap_or_default(),
        r.processes.unwrap_or_default(),
    ))
}

/// Every compose-labelled project on the daemon: name → (states, config files).
pub async fn projects(
    engine: &Engine,
) -> Result<BTreeMap<String, (BTreeMap<String, usize>, String)>> {
    let filters = HashMap::from([("label".to_owned(), vec![labels::PROJECT.to_owned()])]);
    let list = engine
        .docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .api(|| "listing projects".into())?;
    let mut out: BTreeMap<String, (BTreeMap<String, usize>, String)> = BTreeMap::new();
    for c in list {
        let l = c.labels.unwrap_or_default();
        let Some(p) = l.get(labels::PROJECT) else {
            continue;
        };
        let entry = out.entry(p.clone()).or_default();
        *entry
            .0
            .entry(c.state.map(|s| s.to_string()).unwrap_or_default())
            .or_default() += 1;
        if entry.1.is_empty() {
            entry.1 = l.get(labels::CONFIG_FILES).cloned().unwrap_or_default();
        }
    }
    Ok(out)
}

/// Restarts a container, giving it `grace` to stop before it is killed.
pub async fn restart(engine: &Engine, id: &str, grace: std::time::Duration) -> Result<()> {
    let t = i32::try_from(grace.as_secs()).unwrap_or(i32::MAX);
    engine
        .patient
        .restart_container(
            id,
            Some(bollard::query_parameters::RestartContainerOptions {
                t: Some(t),
                signal: None,
            }),
        )
        .await
        .api(|| format!("restarting {id}"))
}
