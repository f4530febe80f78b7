//! `kubectl azwi doctor [KIND/NAME]`: gather, run the check table, return the report.
//! With `--wait`, pending checks (a pod still starting) re-run until the deadline. A target
//! that does not exist, or a `-c` the pod lacks, is an error, not a report.

use std::time::{Duration, Instant};

use crate::{
    Error,
    cli::DoctorArgs,
    ctx::Ctx,
    doctor::{self, Report, Status, checks::CHECKS, gather},
    output::progress::Progress,
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
    let progress = deadline.map(|_| Progress::start("doctor --wait: re-checking pending checks"));
    let mut rounds = 0;
    loop {
        rounds += 1;
        let (facts, mut stats) = gather::facts(ctx, &ask).await?;
        stats.rounds = rounds;
        let report = doctor::run(&facts, CHECKS, stats);
        match (deadline, &progress) {
            (Some(d), Some(p)) if report.pending() && Instant::now() < d => {
                tracing::info!(rounds, "checks pending; gathering again");
                let pending = report.all().filter(|c| c.status == Status::Pending).count();
                let left = d.saturating_duration_since(Instant::now()).as_secs();
                p.detail(format!("round {rounds}, {pending} pending, {left}s left"));
                // A pod starting takes seconds; polling faster only costs API calls.
                p.sleep(Duration::from_secs(2).min(d - Instant::now()))
                    .await;
            }
            _ => return Ok(report),
        }
    }
}
