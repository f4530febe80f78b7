//! `kubectl azwi doctor [KIND/NAME]`: gather, run the check table, return the report.
//! With `--wait`, pending checks (a pod still starting) re-run until the deadline.

use std::time::{Duration, Instant};

use crate::{
    Error,
    cli::DoctorArgs,
    ctx::Ctx,
    doctor::{self, Report, checks::CHECKS, gather},
    wi::target::Target,
};

pub async fn run(ctx: &Ctx, args: &DoctorArgs) -> Result<Report, Error> {
    let target = args.target.as_deref().map(Target::parse).transpose()?;
    let can = doctor::can::ask(args)?;
    let ask = gather::Ask {
        target: target.as_ref(),
        container: args.container.as_deref(),
        exchange: args.exchange,
        can: can.as_ref(),
    };
    let deadline = args.wait.map(|w| Instant::now() + w);
    let mut rounds = 0;
    loop {
        rounds += 1;
        let (facts, mut stats) = gather::facts(ctx, &ask).await;
        stats.rounds = rounds;
        let report = doctor::run(&facts, CHECKS, stats);
        match deadline {
            Some(d) if report.pending() && Instant::now() < d => {
                tracing::info!(rounds, "checks pending; gathering again");
                // A pod starting takes seconds; polling faster only costs API calls.
                tokio::time::sleep(Duration::from_secs(2).min(d - Instant::now())).await;
            }
            _ => return Ok(report),
        }
    }
}
