//! `-v` levels to stderr logging. `RUST_LOG` wins when set. Colour only when stderr is a
//! terminal and colour is allowed: `-v 2>file` must hold plain text.

use tracing_subscriber::{EnvFilter, fmt};

use crate::output::style;

pub fn init(verbose: u8) {
    let level = match verbose {
        // Dependencies log their own failures at ERROR; the plugin reports them itself.
        0 => "kubectl_azwi=warn",
        1 => "kubectl_azwi=info",
        2 => "kubectl_azwi=debug",
        _ => "kubectl_azwi=trace,kube=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(style::stderr_colour())
        .try_init();
}
