//! `kubectl-azwi`: parse, set up logging, hand over to the library, turn the outcome into an exit code.
use std::process::ExitCode;

use clap::Parser;
use kubectl_azwi::{cli::Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    kubectl_azwi::init(&cli.global);
    let mut stdout = std::io::stdout().lock();
    match run(cli, &mut stdout) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            kubectl_azwi::error::report(&err, &mut std::io::stderr().lock());
            err.exit_code()
        }
    }
}
