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
    super::note_unhonoured(&[(args.all, "--all"), (args.no_trunc, "--no-trunc")]);
    with_project(ctx, &args.services, async |engine, plan| {
        let on_terminal = crate::ui::term::stdout_is_terminal();
        loop {
            let list = service_containers(engine, plan, &args.services, false).await?;
            if list.is_empty() {
                return Err(UsageError::new("no running containers")
                    .hint("start the stack with `stackctl up -d`")
                    .into());
            }
            // Each sample takes the daemon a second; all of them at once take one.
            let samples =
                futures::future::join_all(list.iter().map(|c| stats::sample(engine, &c.id))).await;
            let rows: Vec<(String, Usage)> = list
                .iter()
                .zip(samples)
                // A container that stopped in the meantime drops out of the table.
                .filter_map(|(c, s)| Some((c.name.clone(), s.ok()?)))
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

fn render(rows: &[(String, Usage)]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(name, u)| {
            vec![
                name.clone(),
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
        })
        .collect();
    table::render(
        &[
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

/// One JSON object per container and line, for `jq` and scripts.
fn json_lines(rows: &[(String, Usage)]) -> Result<String> {
    let mut out = String::new();
    for (name, u) in rows {
        let mut v = serde_json::to_value(u)?;
        v["name"] = name.clone().into();
        v["memory_percent"] = u.memory_percent().into();
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
        let t = render(&[("p-web-1".into(), u)]);
        let row = t.lines().nth(1).unwrap();
        let cells: Vec<&str> = row
            .split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            cells,
            [
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
