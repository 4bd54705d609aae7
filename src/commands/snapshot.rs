//! `export` and `commit`: a replica's filesystem as a tar stream, or as a new image.

use anyhow::{Context, Result};
use tokio_util::io::StreamReader;

use crate::cli::{CommitArgs, ExportArgs};
use crate::engine::archive::{self, CommitOptions};
use crate::engine::observe::ObservedContainer;
use crate::engine::{Engine, step};
use crate::exit::UsageError;
use crate::plan::Plan;

use super::Ctx;
use super::project::{service_containers, with_project};

/// Replica `index` of `service`, in any state (a stopped container exports and commits too).
async fn replica(
    engine: &Engine,
    plan: &Plan,
    service: &str,
    index: u32,
) -> Result<ObservedContainer> {
    let list = service_containers(engine, plan, &[service.to_owned()], true).await?;
    list.into_iter().find(|c| c.number == index).ok_or_else(|| {
        UsageError::new(format!("service `{service}` has no replica {index}"))
            .hint("`stackctl ps -a` lists the replicas; create them with `stackctl up -d`")
            .into()
    })
}

pub fn export(ctx: &Ctx, args: ExportArgs) -> Result<()> {
    if args.output.is_none() && crate::ui::term::stdout_is_terminal() {
        return Err(
            UsageError::new("refusing to write a tar archive to the terminal")
                .hint("name a file with -o, or redirect: stackctl export web > web.tar")
                .into(),
        );
    }
    let services = [args.service.clone()];
    with_project(ctx, &services, async |engine, plan| {
        let c = replica(engine, plan, &args.service, args.index).await?;
        let mut reader = StreamReader::new(archive::export(engine, &c.id));
        match &args.output {
            Some(path) => {
                let mut file = tokio::fs::File::create(path)
                    .await
                    .with_context(|| format!("creating {}", path.display()))?;
                tokio::io::copy(&mut reader, &mut file)
                    .await
                    .with_context(|| format!("writing {}", path.display()))?;
                step(
                    &ctx.reporter(),
                    format!("Container {}", c.name),
                    format!("Exported to {}", path.display()),
                    true,
                );
            }
            None => {
                tokio::io::copy(&mut reader, &mut crate::ui::term::stdout_stream()).await?;
            }
        }
        Ok(())
    })
}

pub fn commit(ctx: &Ctx, args: CommitArgs) -> Result<()> {
    let services = [args.service.clone()];
    with_project(ctx, &services, async |engine, plan| {
        let c = replica(engine, plan, &args.service, args.index).await?;
        let object = format!("Container {}", c.name);
        if super::dry_run(ctx, &super::changes([object], "commit"))? {
            return Ok(());
        }
        let opts = CommitOptions {
            reference: args.reference.clone(),
            message: args.message.clone(),
            author: args.author.clone(),
            changes: args.change.clone(),
            pause: args.pause,
        };
        let id = archive::commit(engine, &c.id, &opts).await?;
        crate::ui::out(format!("{id}\n"))?;
        Ok(())
    })
}
