//! `stackctl check`: gather facts per service, judge them against the ten rules, print a table that
//! fits 80 columns (or JSON), exit 1 when any rule fails.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::check::{Level, Verdict, evaluate};
use crate::cli::{CheckArgs, Format, Global};
use crate::engine::{self, facts};
use crate::plan;

pub fn run(global: &Global, args: CheckArgs) -> Result<()> {
    let loaded = super::load_project(global)?;
    super::check_services(&loaded.project, &args.services)?;
    let plan = plan::build(&loaded.project, &BTreeMap::new());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let verdicts: Vec<Verdict> = rt.block_on(async {
        let engine = engine::connect().await?;
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
        Format::Json => println!("{}", serde_json::to_string_pretty(&verdicts)?),
        _ => print!("{}", render(&verdicts)),
    }
    if verdicts.iter().any(|v| v.level == Level::Fail) {
        std::process::exit(1);
    }
    Ok(())
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
