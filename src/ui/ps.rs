//! `ps` output: the rows a person reads, the IDs a script takes (`-q`), the JSON a tool parses.

use anyhow::Result;

use crate::engine::observe::ObservedContainer;
use crate::engine::swarm::SwarmTask;

/// One engine's containers as a table, one ID a line (`quiet`), or a JSON array.
pub fn containers(list: &[ObservedContainer], quiet: bool, json: bool) -> Result<String> {
    if quiet {
        return Ok(list.iter().map(|c| format!("{}\n", c.id)).collect());
    }
    let port_text = |c: &ObservedContainer| {
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
    };
    if json {
        let rows: Vec<serde_json::Value> = list
            .iter()
            .map(|c| {
                serde_json::json!({
                    "ID": c.id, "Name": c.name, "Service": c.service, "Number": c.number,
                    "State": c.state, "Health": c.health().unwrap_or(""), "Status": c.status,
                    "ExitCode": c.exit_code, "OOMKilled": c.oom_killed, "RestartCount": c.restarts,
                    "Image": c.image, "Ports": port_text(c), "OneOff": c.oneoff,
                })
            })
            .collect();
        return Ok(format!("{}\n", serde_json::to_string_pretty(&rows)?));
    }
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
    Ok(super::table::render(
        &["NAME", "SERVICE", "#", "STATE", "HEALTH", "PORTS"],
        &rows,
    ))
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
        return Ok(format!("{}\n", serde_json::to_string_pretty(&rows)?));
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
        let json: serde_json::Value =
            serde_json::from_str(&swarm_tasks(&tasks, false, true).unwrap()).unwrap();
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
