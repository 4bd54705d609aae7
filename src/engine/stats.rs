//! A container's resource use as `docker stats` reports it, worked out from the daemon's raw
//! counters: CPU as a share of one CPU over the daemon's sampling second, memory without the page
//! cache the kernel can drop, and the network and block I/O totals.

use anyhow::Result;
use bollard::models::{ContainerBlkioStatEntry, ContainerStatsResponse};
use bollard::query_parameters::StatsOptions;
use futures::StreamExt;
use serde::Serialize;

use super::{ApiContext, Engine};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Usage {
    /// 100 is one CPU busy for the whole interval.
    pub cpu_percent: f64,
    pub memory_bytes: u64,
    pub memory_limit: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
}

impl Usage {
    pub fn memory_percent(&self) -> f64 {
        if self.memory_limit == 0 {
            0.0
        } else {
            self.memory_bytes as f64 * 100.0 / self.memory_limit as f64
        }
    }
}

/// One sample: the daemon reads the counters twice, a second apart, and answers with both.
pub async fn sample(engine: &Engine, id: &str) -> Result<Usage> {
    let opts = StatsOptions {
        stream: false,
        one_shot: false,
    };
    let mut s = engine.docker.stats(id, Some(opts));
    match s.next().await {
        Some(r) => Ok(usage_from(
            &r.api(|| "reading the container's stats".into())?,
        )),
        None => anyhow::bail!("the daemon sent no stats"),
    }
}

/// The daemon's samples of `id`, one a second, until the container stops or the stream is dropped.
pub fn stream(engine: &Engine, id: &str) -> impl futures::Stream<Item = Usage> + Send + 'static {
    let opts = StatsOptions {
        stream: true,
        one_shot: false,
    };
    engine
        .docker
        .stats(id, Some(opts))
        .take_while(|r| std::future::ready(r.is_ok()))
        .filter_map(|r| std::future::ready(r.ok().map(|s| usage_from(&s))))
}

pub fn usage_from(s: &ContainerStatsResponse) -> Usage {
    let total = |c: &Option<bollard::models::ContainerCpuStats>| {
        let c = c.as_ref();
        (
            c.and_then(|c| c.cpu_usage.as_ref())
                .and_then(|u| u.total_usage)
                .unwrap_or(0),
            c.and_then(|c| c.system_cpu_usage).unwrap_or(0),
        )
    };
    let (cpu_now, system_now) = total(&s.cpu_stats);
    let (cpu_before, system_before) = total(&s.precpu_stats);
    let online = s
        .cpu_stats
        .as_ref()
        .and_then(|c| {
            c.online_cpus.map(u64::from).or_else(|| {
                c.cpu_usage
                    .as_ref()
                    .and_then(|u| u.percpu_usage.as_ref())
                    .map(|p| p.len() as u64)
            })
        })
        .unwrap_or(1);
    let cpu_delta = cpu_now.saturating_sub(cpu_before);
    let system_delta = system_now.saturating_sub(system_before);
    let cpu_percent = if system_delta == 0 {
        0.0
    } else {
        cpu_delta as f64 / system_delta as f64 * online as f64 * 100.0
    };
    let memory = s.memory_stats.as_ref();
    let used = memory.and_then(|m| m.usage).unwrap_or(0);
    // Page cache the kernel may drop is not the container's own: cgroup v2 calls it
    // inactive_file, v1 total_inactive_file (as docker stats subtracts it).
    let cache = memory
        .and_then(|m| m.stats.as_ref())
        .and_then(|st| {
            st.get("inactive_file")
                .or_else(|| st.get("total_inactive_file"))
        })
        .copied()
        .unwrap_or(0);
    let (net_rx, net_tx) = s
        .networks
        .iter()
        .flat_map(|n| n.values())
        .fold((0, 0), |(rx, tx), n| {
            (rx + n.rx_bytes.unwrap_or(0), tx + n.tx_bytes.unwrap_or(0))
        });
    let io = s
        .blkio_stats
        .as_ref()
        .and_then(|b| b.io_service_bytes_recursive.as_ref());
    let block = |op: &str| -> u64 {
        io.into_iter()
            .flatten()
            .filter(|e: &&ContainerBlkioStatEntry| {
                e.op.as_deref().is_some_and(|o| o.eq_ignore_ascii_case(op))
            })
            .map(|e| e.value.unwrap_or(0))
            .sum()
    };
    Usage {
        cpu_percent,
        memory_bytes: if cache < used { used - cache } else { used },
        memory_limit: memory.and_then(|m| m.limit).unwrap_or(0),
        net_rx,
        net_tx,
        block_read: block("read"),
        block_write: block("write"),
        pids: s.pids_stats.as_ref().and_then(|p| p.current).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_worked_out_as_docker_stats_does() {
        let s: ContainerStatsResponse = serde_json::from_value(serde_json::json!({
            "cpu_stats": {"cpu_usage": {"total_usage": 3_000_000_000u64}, "system_cpu_usage": 20_000_000_000u64, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": 2_000_000_000u64}, "system_cpu_usage": 18_000_000_000u64},
            "memory_stats": {"usage": 50_000_000u64, "limit": 100_000_000u64, "stats": {"inactive_file": 10_000_000u64}},
            "networks": {"eth0": {"rx_bytes": 100, "tx_bytes": 10}, "eth1": {"rx_bytes": 1, "tx_bytes": 2}},
            "blkio_stats": {"io_service_bytes_recursive": [
                {"major": 8, "minor": 0, "op": "read", "value": 4096},
                {"major": 8, "minor": 0, "op": "Write", "value": 8192},
                {"major": 8, "minor": 16, "op": "Read", "value": 1}
            ]},
            "pids_stats": {"current": 7}
        }))
        .unwrap();
        let u = usage_from(&s);
        // 1 s of CPU over 2 s of the machine's 2 CPUs: one CPU's full time.
        assert!((u.cpu_percent - 100.0).abs() < 1e-9, "{}", u.cpu_percent);
        assert_eq!(u.memory_bytes, 40_000_000);
        assert!((u.memory_percent() - 40.0).abs() < 1e-9);
        assert_eq!((u.net_rx, u.net_tx), (101, 12));
        assert_eq!((u.block_read, u.block_write), (4097, 8192));
        assert_eq!(u.pids, 7);
    }

    #[test]
    fn a_first_sample_without_history_reads_as_idle() {
        let u = usage_from(&ContainerStatsResponse::default());
        assert_eq!(u, Usage::default());
        assert_eq!(u.memory_percent(), 0.0);
    }
}
