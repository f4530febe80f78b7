// Records the git commit, the build date and the target triple for `kubectl azwi version`.
// The date is the commit's time (SOURCE_DATE_EPOCH when set, as scripts/release sets it), never
// the clock: two builds of one commit must be the same bytes.
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Seconds since the Unix epoch as an RFC 3339 UTC time (days to civil date after
/// Howard Hinnant's `civil_from_days`), so build.rs needs no date crate.
fn rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

fn main() {
    // A build outside a git checkout (a source tarball) can pass the commit in.
    let commit = std::env::var("AZWI_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .or_else(|| git(&["log", "-1", "--format=%ct"]))
        .and_then(|s| s.trim().parse::<i64>().ok());
    let date = epoch.map_or_else(|| "unknown".into(), rfc3339);
    println!("cargo:rustc-env=AZWI_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=AZWI_BUILD_DATE={date}");
    println!(
        "cargo:rustc-env=AZWI_TARGET={}",
        std::env::var("TARGET").unwrap_or_default()
    );
    println!("cargo:rerun-if-env-changed=AZWI_GIT_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // A new commit changes HEAD (detached) or the branch it names; in a linked worktree HEAD
    // lives in the worktree's git dir and the branches in the common one.
    if let Some(dirs) = git(&["rev-parse", "--git-dir", "--git-common-dir"]) {
        let mut dirs = dirs.lines();
        if let (Some(own), Some(common)) = (dirs.next(), dirs.next()) {
            // A path that does not exist would rerun this script, and so rebuild the crate, on
            // every build.
            for path in [
                format!("{own}/HEAD"),
                format!("{common}/refs/heads"),
                format!("{common}/packed-refs"),
            ] {
                if std::path::Path::new(&path).exists() {
                    println!("cargo:rerun-if-changed={path}");
                }
            }
        }
    }
}
