//! `stackctl logs` and the log view of an attached `up`: the flags read, the view made, and the
//! backend asked to fill it (containers followed through restarts, or a swarm's services).

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Result;

use super::Ctx;
use crate::cli::LogsArgs;
use crate::engine::logs::LogQuery;
use crate::engine::logs::follow::LogsRequest;
use crate::engine::logs::reader::Stamps;
use crate::exit::{Interrupted, UsageError};
use crate::logs::LogSink;
use crate::ui::logview::LogView;

mod attached;

pub use attached::{AttachOptions, AttachedEnd, attached};

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `10m`, `2h`, `30s` ago, or an RFC 3339 time, or unix seconds → unix seconds.
pub fn parse_time(s: &str) -> Result<i64, UsageError> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    if let Ok(d) = crate::manifest::units::parse_duration(s) {
        return Ok(now_unix() - d.as_secs() as i64);
    }
    humantime::parse_rfc3339_weak(s)
        .map(|t| t.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0))
        .map_err(|_| {
            UsageError::new(format!("`{s}` is not a time"))
                .hint("use a duration such as 10m or 1h30m, or an RFC 3339 time such as 2026-01-02T15:04:05Z")
        })
}

pub fn run(ctx: &Ctx, args: LogsArgs) -> Result<()> {
    let loaded = ctx.load()?;
    super::check_services(&loaded.project, &args.services)?;
    // A replica's number means something within one service only (compose's rule too).
    if args.index.is_some() && args.services.len() != 1 {
        return Err(
            UsageError::new("--index requires one service to be selected")
                .hint("name the service: stackctl logs --index 2 web")
                .into(),
        );
    }
    let project = loaded.project.name.clone();
    let since = args
        .since
        .as_deref()
        .map(parse_time)
        .transpose()?
        .unwrap_or(0);
    let until = args
        .until
        .as_deref()
        .map(parse_time)
        .transpose()?
        .unwrap_or(0);
    if args.tail != "all" && args.tail.parse::<u64>().is_err() {
        let message = if args.tail.starts_with('-') && args.tail[1..].parse::<u64>().is_ok() {
            format!(
                "--tail `{}`: a count of lines cannot be negative",
                args.tail
            )
        } else {
            format!("--tail `{}` is not a number or `all`", args.tail)
        };
        return Err(UsageError::new(message)
            .hint("--tail 100 shows the last 100 lines of each container; --tail all shows everything")
            .into());
    }
    let q = LogQuery {
        follow: args.follow,
        tail: Some(args.tail.clone()),
        since: since.clamp(0, i32::MAX as i64) as i32,
        until: until.clamp(0, i32::MAX as i64) as i32,
        timestamps: false,
    };
    let stamps = Stamps {
        show: args.timestamps,
        parse: args.merge_time,
        min: None,
    };
    // The view is this module's; what it reads from is the backend's: containers (followed
    // through restarts and recreations) or a swarm's services (each its tasks' output).
    let req = LogsRequest {
        project,
        services: args.services.clone(),
        index: args.index,
        query: q,
        stamps,
        merge_time: args.merge_time,
    };
    let (no_color, prefix) = (args.no_color, !args.no_log_prefix);
    let shown_project = req.project.clone();
    let sink_for = Box::new(move |names: &[String]| -> Box<dyn LogSink> {
        Box::new(LogView::new(names, &shown_project, no_color, prefix))
    });
    ctx.block_on(async {
        let backend = ctx.backend().await?;
        tokio::select! {
            r = backend.logs(req, sink_for) => r,
            _ = tokio::signal::ctrl_c() => Err(Interrupted.into()),
        }
    })
}
