//! kubectl-azwi as a library: `run` dispatches a parsed command line and renders its report.

pub mod azure;
pub mod cli;
pub mod cmd;
pub mod completion;
pub mod ctx;
pub mod doctor;
pub mod error;
pub mod inspect;
pub mod k8s;
pub mod logging;
pub mod output;
pub mod wi;

use std::{io::Write, process::ExitCode};

use cli::{Cli, Command, OutputFormat};
pub use error::Error;

/// How a command ended when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// `doctor` found a failing check: exit 3, so scripts can tell it from a crash.
    ChecksFailed,
    /// `can-i` answered no (or only under a condition): exit 1, as `kubectl auth can-i` does.
    No,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Ok => ExitCode::SUCCESS,
            Outcome::ChecksFailed => ExitCode::from(3),
            Outcome::No => ExitCode::from(1),
        }
    }
}

/// Process-wide settings from the global flags, before anything is written: colour, logs,
/// how waits show their progress.
pub fn init(global: &cli::GlobalArgs) {
    output::style::init(global.no_color);
    logging::init(global.verbose);
    output::progress::init(matches!(
        global.output,
        Some(OutputFormat::Json | OutputFormat::Yaml)
    ));
}

/// Runs one command. The async runtime (and with it TLS) only starts for commands that need
/// the network, so `--help`, `version` and completions stay instant.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Outcome, Error> {
    if !matches!(
        cli.command,
        Command::Inspect(_) | Command::Completion { .. }
    ) {
        output::report_format(cli.global.output)?;
    }
    match cli.command {
        Command::Version => cmd::version::run(cli.global.output, out),
        Command::Completion { shell } => {
            out.write_all(&completion::script(shell))?;
            Ok(Outcome::Ok)
        }
        Command::Bind(args) => {
            let report = runtime()?.block_on(async {
                let ctx = ctx::Ctx::new(&cli.global).await?;
                cmd::bind::run(&ctx, &args).await
            })?;
            match cli.global.output {
                None | Some(OutputFormat::Table | OutputFormat::Wide) => {
                    output::plan::bind(&report, out)?
                }
                Some(f) => output::structured(&report, f, out)?,
            }
            Ok(Outcome::Ok)
        }
        Command::Unbind(args) => {
            let report = runtime()?.block_on(async {
                let ctx = ctx::Ctx::new(&cli.global).await?;
                cmd::unbind::run(&ctx, &args).await
            })?;
            match cli.global.output {
                None | Some(OutputFormat::Table | OutputFormat::Wide) => {
                    output::plan::unbind(&report, out)?
                }
                Some(f) => output::structured(&report, f, out)?,
            }
            Ok(Outcome::Ok)
        }
        Command::Inspect(args) => {
            let report = runtime()?.block_on(cmd::inspect::run(&cli.global, &args))?;
            output::table::inspect(&report, cli.global.output, args.azurerm_major, out)?;
            Ok(Outcome::Ok)
        }
        Command::Doctor(args) => {
            if let Some(t) = &args.target {
                wi::target::Target::parse(t)?;
            }
            doctor::can::ask(&args)?;
            let report = runtime()?.block_on(async {
                let ctx = ctx::Ctx::new(&cli.global).await?;
                cmd::doctor::run(&ctx, &args).await
            })?;
            match cli.global.output {
                None | Some(OutputFormat::Table | OutputFormat::Wide) => {
                    output::checklist::render(&report, output::checklist::style(), out)?
                }
                Some(f) => output::structured(&report, f, out)?,
            }
            Ok(if report.failed() {
                Outcome::ChecksFailed
            } else {
                Outcome::Ok
            })
        }
        Command::CanI(args) => {
            let ask = cmd::can_i::check(&args)?;
            let format = output::can_i::format(cli.global.output)?;
            let report = runtime()?.block_on(async {
                let ctx = ctx::Ctx::new(&cli.global).await?;
                cmd::can_i::run(&ctx, &ask).await
            })?;
            output::can_i::render(&report, format, out)?;
            Ok(match report.allowed {
                wi::rbac::Allowed::Yes => Outcome::Ok,
                _ => Outcome::No,
            })
        }
        Command::ExecLogin(args) => {
            let result = runtime()?.block_on(async {
                let ctx = ctx::Ctx::new(&cli.global).await?;
                cmd::exec_login::run(&ctx, &args).await
            })?;
            let report = match result {
                cmd::exec_login::ExecLogin::InitContainer(yaml) => {
                    out.write_all(yaml.as_bytes())?;
                    return Ok(Outcome::Ok);
                }
                cmd::exec_login::ExecLogin::Login(r) => r,
            };
            match cli.global.output {
                None | Some(OutputFormat::Table | OutputFormat::Wide) => {
                    output::checklist::login(&report, out)?
                }
                Some(f) => output::structured(&report, f, out)?,
            }
            match report.error() {
                Some(e) => Err(e),
                None => Ok(Outcome::Ok),
            }
        }
    }
}

/// A current-thread runtime: the plugin's concurrency is I/O, and one thread starts fastest.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    // kube and azure_core share rustls; name its provider once so two can never race.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}
