//! `stackctl stats`: CPU, memory, network and block I/O of the stack's running containers, one
//! table refreshed every second (cleared in place on a terminal), or one sample with `--no-stream`.

use anyhow::Result;

use super::Ctx;

use super::project::{service_containers, with_project};
use crate::cli::{Format, StatsArgs};
use crate::engine::stats::{self, Usage};
use crate::exit::UsageError;
use crate::ui::table;
use crate::ui::units::{binary_bytes, decimal_bytes};

pub fn run(ctx: &Ctx, args: StatsArgs) -> Result<()> {
    with_project(ctx, &args.services, async |engine, plan| {
        let on_terminal = crate::ui::term::stdout_is_terminal();
        loop {
            let list = service_containers(engine, plan, &args.services, args.all).await?;
            if list.is_empty() {
                return Err(UsageError::new("no running containers")
                    .hint("start the stack with `stackctl up -d`")
                    .into());
            }
            // Each sample takes the daemon a second; all of them at once take one.
            let samples =
                futures::future::join_all(list.iter().map(|c| stats::sample(engine, &c.id))).await;
            let id_of = |id: &str| -> String {
                if args.no_trunc {
                    id.to_owned()
                } else {
                    id.chars().take(12).collect()
                }
            };
            let rows: Vec<Row> = list
                .iter()
                .zip(samples)
                // A container that stopped in the meantime drops out of the table.
                .filter_map(|(c, s)| {
                    Some(Row {
                        id: id_of(&c.id),
                        name: c.name.clone(),
                        usage: s.ok()?,
                    })
                })
                .collect();
            let text = match args.format {
                Format::Json => json_lines(&rows)?,
                _ => render(&rows),
            };
            if !args.no_stream && on_terminal && args.format != Format::Json {
                crate::ui::term::clear_screen()?;
            }
            crate::ui::out(text)?;
            if args.no_stream {
                return Ok(());
            }
        }
    })
}

/// One container's sample, under the ID it is shown with (12 characters unless `--no-trunc`).
struct Row {
    id: String,
    name: String,
    usage: Usage,
}

/// The figures as the docker CLI writes them, in its column order.
fn cells(r: &Row) -> [String; 8] {
    let u = &r.usage;
    [
        r.id.clone(),
        r.name.clone(),
        format!("{:.2}%", u.cpu_percent),
        format!(
            "{} / {}",
            binary_bytes(u.memory_bytes),
            binary_bytes(u.memory_limit)
        ),
        format!("{:.2}%", u.memory_percent()),
        format!("{} / {}", decimal_bytes(u.net_rx), decimal_bytes(u.net_tx)),
        format!(
            "{} / {}",
            decimal_bytes(u.block_read),
            decimal_bytes(u.block_write)
        ),
        u.pids.to_string(),
    ]
}

fn render(rows: &[Row]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| cells(r).to_vec()).collect();
    table::render(
        &[
            "CONTAINER ID",
            "NAME",
            "CPU %",
            "MEM USAGE / LIMIT",
            "MEM %",
            "NET I/O",
            "BLOCK I/O",
            "PIDS",
        ],
        &cells,
    )
}

/// One JSON object per container and line, for `jq` and scripts: the docker CLI's keys with its
/// text (what `docker compose stats --format json` prints), and the figures as numbers beside.
fn json_lines(rows: &[Row]) -> Result<String> {
    let mut out = String::new();
    for r in rows {
        let mut v = serde_json::to_value(&r.usage)?;
        v["name"] = r.name.clone().into();
        v["memory_percent"] = r.usage.memory_percent().into();
        let [id, name, cpu, mem, mem_percent, net, block, pids] = cells(r);
        for (key, text) in [
            ("BlockIO", block),
            ("CPUPerc", cpu),
            ("Container", id.clone()),
            ("ID", id),
            ("MemPerc", mem_percent),
            ("MemUsage", mem),
            ("Name", name),
            ("NetIO", net),
            ("PIDs", pids),
        ] {
            v[key] = text.into();
        }
        out.push_str(&serde_json::to_string(&v)?);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_each_figure_in_its_unit() {
        let u = Usage {
            cpu_percent: 12.345,
            memory_bytes: 40 * 1024 * 1024,
            memory_limit: 1024 * 1024 * 1024,
            net_rx: 1_500,
            net_tx: 20,
            block_read: 0,
            block_write: 4_096_000,
            pids: 3,
        };
        let row = Row {
            id: "0123456789ab".into(),
            name: "p-web-1".into(),
            usage: u,
        };
        let json: serde_json::Value =
            serde_json::from_str(json_lines(std::slice::from_ref(&row)).unwrap().trim()).unwrap();
        assert_eq!(json["CPUPerc"], "12.35%");
        assert_eq!(json["MemUsage"], "40.00MiB / 1.00GiB");
        assert_eq!(json["ID"], "0123456789ab");
        assert_eq!(json["cpu_percent"], 12.345);
        let t = render(&[row]);
        let row = t.lines().nth(1).unwrap();
        let cells: Vec<&str> = row
            .split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            cells,
            [
                "0123456789ab",
                "p-web-1",
                "12.35%",
                "40.00MiB / 1.00GiB",
                "3.91%",
                "1.50kB / 20B",
                "0B / 4.10MB",
                "3"
            ]
        );
    }
}
