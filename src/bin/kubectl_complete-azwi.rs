//! `kubectl_complete-azwi`: kubectl (>= 1.26) runs it from PATH for `kubectl azwi <TAB>` with the
//! words after `kubectl azwi`. It always exits 0: a failed lookup is just no candidates.
use std::io::Write;

fn main() {
    let words: Vec<String> = std::env::args().skip(1).collect();
    let mut out = std::io::stdout().lock();
    let _ = kubectl_azwi::completion::complete(&words).write(&mut out);
    let _ = out.flush();
}
