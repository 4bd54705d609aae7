//! `ps` output: the rows a person reads, the IDs a script takes (`-q`), the JSON a tool parses.

use anyhow::Result;

use crate::engine::observe::ObservedContainer;
use crate::engine::swarm::SwarmTask;

/// How `ps` prints: a table, one ID a line, compose's JSON (one object a line), or a template.
#[derive(Debug)]
pub enum PsFormat {
    Table,
    Quiet,
    Json,
    Template(super::template::Template),
}

impl PsFormat {
    /// From `--format` and `-q` as compose reads them (`-q` wins).
    pub fn parse(format: &str, quiet: bool) -> Result<Self> {
        Ok(match format {
            _ if quiet => PsFormat::Quiet,
            "table" | "" => PsFormat::Table,
            "json" | "{{json .}}" => PsFormat::Json,
            template => PsFormat::Template(super::template::Template::parse(template)?),
        })
    }
}

impl PsFormat {
    /// Whether the output shows what only an inspect of each container tells (restart counts,
    /// OOM kills, in the table's state and in JSON): the list call has everything else.
    pub fn needs_inspects(&self) -> bool {
        match self {
            PsFormat::Table | PsFormat::Json => true,
            PsFormat::Template(t) => t.uses("RestartCount") || t.uses("OOMKilled"),
            PsFormat::Quiet => false,
        }
    }
}

/// One engine's containers as `format` asks; `no_trunc` keeps IDs and commands whole.
pub fn containers(
    list: &[ObservedContainer],
    project: &str,
    format: &PsFormat,
    no_trunc: bool,
) -> Result<String> {
    let rows = || list.iter().map(|c| compose_row(c, project, no_trunc));
    Ok(match format {
        PsFormat::Quiet => list.iter().map(|c| format!("{}\n", c.id)).collect(),
        PsFormat::Json => rows().map(|r| format!("{r}\n")).collect(),
        PsFormat::Template(t) => {
            let mut out: String = t.header().map(|h| format!("{h}\n")).unwrap_or_default();
            out.extend(rows().map(|r| format!("{}\n", t.render(&r))));
            out
        }
        PsFormat::Table => {
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    vec![
                        c.name.clone(),
                        c.service.clone(),
                        c.number.to_string(),
                        c.state_text(),
                        c.health().unwrap_or("").to_owned(),
                        port_text(c),
                    ]
                })
                .collect();
            super::table::render(&["NAME", "SERVICE", "#", "STATE", "HEALTH", "PORTS"], &rows)
        }
    })
}

/// The ports as `docker ps` writes them: `0.0.0.0:8080->80/tcp, 443/tcp`.
fn port_text(c: &ObservedContainer) -> String {
    let mut ports: Vec<String> = c
        .ports
        .iter()
        .map(|(ip, public, private, proto)| match public {
            Some(p) => format!("{}:{p}->{private}/{proto}", ip.clone().unwrap_or_default()),
            None => format!("{private}/{proto}"),
        })
        .collect();
    ports.sort();
    ports.dedup();
    ports.join(", ")
}

/// A container as compose's `ps --format json` prints it: the same keys and types, so that
/// tools reading compose's output read ours. (Our own extras, the replica number and restart
/// count, go under keys compose does not use.)
pub fn compose_row(c: &ObservedContainer, project: &str, no_trunc: bool) -> serde_json::Value {
    let cut = |s: &str, n: usize| {
        if no_trunc {
            s.to_owned()
        } else {
            ellipsis(s, n)
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut publishers: Vec<serde_json::Value> = c
        .ports
        .iter()
        .map(|(ip, public, private, proto)| {
            serde_json::json!({
                "URL": ip.clone().unwrap_or_default(),
                "TargetPort": private,
                "PublishedPort": public.unwrap_or(0),
                "Protocol": proto,
            })
        })
        .collect();
    publishers.sort_by_key(|p| p["TargetPort"].as_u64());
    let labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mounts: Vec<String> = c.mounts.iter().map(|m| cut(&m.name, 15)).collect();
    let local = c.mounts.iter().filter(|m| m.driver == "local").count();
    let ended = c.state.ended();
    serde_json::json!({
        "Command": cut(&format!("{:?}", c.command), 20),
        "CreatedAt": go_time(c.created),
        "ExitCode": if ended { c.exit_code.unwrap_or(0) } else { 0 },
        "Health": c.health().unwrap_or(""),
        "ID": if no_trunc { c.id.clone() } else { c.id.chars().take(12).collect() },
        "Image": c.image,
        "Labels": labels.join(","),
        "LocalVolumes": local.to_string(),
        "Mounts": mounts.join(","),
        "Name": c.name,
        "Names": c.name,
        "Networks": c.networks.join(","),
        "Ports": port_text(c),
        "Project": project,
        "Publishers": publishers,
        "RunningFor": format!("{} ago", human_duration(now - c.created)),
        "Service": c.service,
        "Size": "0B",
        "State": c.state.as_str(),
        "Status": c.status,
        "Number": c.number,
        "RestartCount": c.restarts,
        "OOMKilled": c.oom_killed,
    })
}

/// Go's `units.Ellipsis`: at most `n` characters, the last one `…` when cut.
fn ellipsis(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_owned();
    }
    let mut cut: String = s.chars().take(n.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Go's `time.Unix(secs, 0).String()` in UTC: `2024-05-02 12:21:53 +0000 UTC`.
fn go_time(secs: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
    let rfc = humantime::format_rfc3339_seconds(at).to_string();
    format!(
        "{} +0000 UTC",
        rfc.trim_end_matches('Z').replacen('T', " ", 1)
    )
}

/// go-units' `HumanDuration`: `Less than a second`, `3 seconds`, `About a minute`, `2 hours`…
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (mins, hours) = (secs / 60, (secs as f64 / 3600.0).round() as i64);
    match () {
        _ if secs < 1 => "Less than a second".to_owned(),
        _ if secs == 1 => "1 second".to_owned(),
        _ if secs < 60 => format!("{secs} seconds"),
        _ if mins == 1 => "About a minute".to_owned(),
        _ if mins < 60 => format!("{mins} minutes"),
        _ if hours == 1 => "About an hour".to_owned(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

/// A swarm project's tasks as a table, one ID a line (`quiet`), or a JSON array.
pub fn swarm_tasks(tasks: &[SwarmTask], quiet: bool, json: bool) -> Result<String> {
    if quiet {
        return Ok(tasks.iter().map(|t| format!("{}\n", t.id)).collect());
    }
    if json {
        let rows: Vec<serde_json::Value> = tasks
            .iter()
            .map(|t| {
                serde_json::json!({
                    "ID": t.id, "Name": t.name, "Service": t.service, "Node": t.node,
                    "State": t.state, "DesiredState": t.desired, "Error": t.error,
                })
            })
            .collect();
        // One object a line, as compose prints containers.
        return Ok(rows.iter().map(|r| format!("{r}\n")).collect());
    }
    let rows: Vec<Vec<String>> = tasks
        .iter()
        .map(|t| {
            vec![
                t.name.clone(),
                t.node.clone(),
                t.state.clone(),
                t.desired.clone(),
                t.error.clone(),
            ]
        })
        .collect();
    Ok(super::table::render(
        &["TASK", "NODE", "STATE", "DESIRED", "ERROR"],
        &rows,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::observe::SeenMount;

    #[test]
    fn a_container_prints_with_composes_keys_and_types() {
        let c = ObservedContainer {
            id: "0123456789abcdef0123".into(),
            name: "p-web-1".into(),
            service: "web".into(),
            number: 1,
            state: crate::engine::observe::ContainerState::Exited,
            status: "Exited (3) 2 seconds ago".into(),
            exit_code: Some(3),
            command: "sh -c 'sleep 1; exit 3'".into(),
            created: 1_700_000_000,
            ports: vec![
                (Some("0.0.0.0".into()), Some(8080), 80, "tcp".into()),
                (None, None, 443, "tcp".into()),
            ],
            mounts: vec![
                SeenMount {
                    name: "p_data".into(),
                    driver: "local".into(),
                    destination: "/data".into(),
                    volume: true,
                },
                SeenMount {
                    name: "/host/dir".into(),
                    destination: "/in".into(),
                    ..Default::default()
                },
            ],
            networks: vec!["p_default".into()],
            labels: [("a".to_owned(), "1".to_owned())].into_iter().collect(),
            ..Default::default()
        };
        let row = compose_row(&c, "p", false);
        assert_eq!(row["ID"], "0123456789ab");
        assert_eq!(row["Command"], "\"sh -c 'sleep 1; ex…");
        assert_eq!(row["CreatedAt"], "2023-11-14 22:13:20 +0000 UTC");
        assert_eq!(row["ExitCode"], 3);
        assert_eq!(row["LocalVolumes"], "1");
        assert_eq!(row["Labels"], "a=1");
        assert_eq!(row["Networks"], "p_default");
        assert_eq!(row["Project"], "p");
        assert_eq!(row["Publishers"][0]["TargetPort"], 80);
        assert_eq!(row["Publishers"][0]["PublishedPort"], 8080);
        assert_eq!(row["Publishers"][1]["PublishedPort"], 0);
        assert!(row["RunningFor"].as_str().unwrap().ends_with(" ago"));
        let json = containers(&[c.clone(), c], "p", &PsFormat::Json, true).unwrap();
        assert_eq!(json.lines().count(), 2, "one object a line");
        assert!(
            containers(&[], "p", &PsFormat::Json, false)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn durations_read_as_docker_writes_them() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(4), "4 seconds");
        assert_eq!(human_duration(70), "About a minute");
        assert_eq!(human_duration(7200), "2 hours");
        assert_eq!(human_duration(3 * 86400), "3 days");
    }

    fn task(n: u32, node: &str) -> SwarmTask {
        SwarmTask {
            service: "web".into(),
            name: format!("p_web.{n}"),
            id: format!("id{n}"),
            node: node.into(),
            state: "running".into(),
            desired: "running".into(),
            error: String::new(),
        }
    }

    #[test]
    fn tasks_print_as_ids_json_or_a_table_with_their_node() {
        let tasks = [task(1, "node-a"), task(2, "node-b")];
        assert_eq!(swarm_tasks(&tasks, true, false).unwrap(), "id1\nid2\n");
        let text = swarm_tasks(&tasks, false, true).unwrap();
        let json: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(json[1]["Node"], "node-b");
        assert_eq!(json[0]["Service"], "web");
        let table = swarm_tasks(&tasks, false, false).unwrap();
        assert!(table.lines().next().unwrap().starts_with("TASK"));
        assert!(
            table.contains("p_web.2") && table.contains("node-b"),
            "{table}"
        );
    }
}
