//! `stackctl check`: gather facts per service, judge them against the ten rules, print a table that
//! fits 80 columns (or JSON), exit 1 when any rule fails.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;

use crate::check::{Level, Verdict, evaluate};
use crate::cli::{CheckArgs, Format};
use crate::engine::facts;
use crate::plan;
use crate::ui;

pub fn run(ctx: &Ctx, args: CheckArgs) -> Result<ExitCode> {
    let loaded = ctx.load()?;
    super::check_services(&loaded.project, &args.services)?;
    let plan = plan::build(&loaded.project, &BTreeMap::new());
    let verdicts: Vec<Verdict> = ctx.block_on(async {
        let engine = ctx.connect().await?;
        let mut all = Vec::new();
        for svc in plan
            .services
            .values()
            .filter(|s| args.services.is_empty() || args.services.contains(&s.name))
        {
            let f = facts::gather(&engine, &plan, svc, args.live).await?;
            all.extend(evaluate(&f));
        }
        Ok::<_, anyhow::Error>(all)
    })?;
    match args.format {
        Format::Json => ui::out(format!("{}\n", serde_json::to_string_pretty(&verdicts)?))?,
        _ => ui::out(render(&verdicts))?,
    }
    if verdicts.iter().any(|v| v.level == Level::Fail) {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// At most 80 columns: service, rule, result, the measured figure; a fix line under each non-pass.
pub fn render(verdicts: &[Verdict]) -> String {
    let sw = verdicts
        .iter()
        .map(|v| v.service.len())
        .max()
        .unwrap_or(7)
        .clamp(7, 14);
    let mut out = format!("{:<sw$}  {:<11}  {:<4}  MEASURED\n", "SERVICE", "RULE", "");
    let room = 80usize.saturating_sub(sw + 2 + 11 + 2 + 4 + 2);
    for v in verdicts {
        let mark = match v.level {
            Level::Pass => "pass",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        let figure: String = v.figure.chars().take(room).collect();
        let service: String = v.service.chars().take(sw).collect();
        out.push_str(&format!(
            "{service:<sw$}  {:<11}  {mark}  {figure}\n",
            v.rule
        ));
        if !v.fix.is_empty() {
            let fix: String = v.fix.chars().take(80 - sw - 2 - 5).collect();
            out.push_str(&format!("{:<sw$}  fix: {fix}\n", ""));
        }
    }
    let fails = verdicts.iter().filter(|v| v.level == Level::Fail).count();
    let warns = verdicts.iter().filter(|v| v.level == Level::Warn).count();
    out.push_str(&format!(
        "{} checks: {} pass, {warns} warn, {fails} fail\n",
        verdicts.len(),
        verdicts.len() - fails - warns
    ));
    out
}
