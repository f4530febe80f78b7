//! Output that behaves on a terminal, in a pipe and in a log file: progress of a long wait on
//! stderr (redrawn on a terminal, one line when piped, never on stdout), no escape sequence off
//! a terminal or with NO_COLOR / --no-color, ASCII marks where the locale is not UTF-8.
//! A terminal is a real pseudo-terminal: util-linux's `script` runs the plugin on one.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::{
    inspect::arrange,
    support::{
        self, Ground,
        azure::{Sub, run_plugin},
    },
};

/// Built-in role "Storage Blob Data Reader" (Microsoft Learn, "Azure built-in roles").
const BLOB_READER: &str = "Storage Blob Data Reader";

/// The plugin on a pseudo-terminal (stdin, stdout and stderr alike), via
/// `script -qec CMD /dev/null` (which exits with the plugin's code); returns that code and
/// everything the terminal received.
fn on_terminal_code(args: &[&str], env: &[(String, String)]) -> (i32, String) {
    let plugin = Ground::get().plugin();
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let line = std::iter::once(plugin.get_program().to_string_lossy().into_owned())
        .chain(args.iter().map(|a| a.to_string()))
        .map(|a| quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"]).stdin(Stdio::null());
    for (k, v) in plugin.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let out = cmd.output().expect("util-linux's script");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), text)
}

/// [`on_terminal_code`] for a run that must succeed.
fn on_terminal(args: &[&str], env: &[(String, String)]) -> String {
    let (code, text) = on_terminal_code(args, env);
    assert_eq!(code, 0, "{args:?}:\n{text}");
    text
}

/// A subscription whose new principals take 5 s to replicate to Authorization, as a real
/// tenant's do (PrincipalNotFound meanwhile): bind's role assignment waits about 6 s.
async fn slow_principals() -> (Sub, String, String) {
    let sub = Sub::new().await;
    sub.resource_group("rg").await;
    sub.control(
        "PUT",
        "settings",
        Some(json!({"principalPropagationSeconds": 5})),
    )
    .await;
    let ns = support::namespace(&Ground::get().client().await, "progress", &[]).await;
    let scope = format!("/subscriptions/{}/resourceGroups/rg", sub.id);
    (sub, ns, scope)
}

fn bind_args<'a>(ns: &'a str, sa: &'a str, scope: &'a str) -> Vec<&'a str> {
    vec![
        "bind",
        sa,
        "-n",
        ns,
        "--identity",
        sa,
        "-g",
        "rg",
        "--create-identity",
        "--location",
        "eastus",
        "--role",
        BLOB_READER,
        "--scope",
        scope,
    ]
}

const WAITING: &str = "waiting for principal";

#[tokio::test]
async fn progress_is_redrawn_on_a_terminal() {
    let (sub, ns, scope) = slow_principals().await;
    let tty = on_terminal(&bind_args(&ns, "tty", &scope), &sub.env());
    let start = tty
        .find(&format!("\r{WAITING}"))
        .unwrap_or_else(|| panic!("no progress line on the terminal:\n{tty:?}"));
    let line = &tty[start + 1..];
    let line = &line[..line.find('\r').unwrap()];
    assert!(
        line.contains("to replicate to Azure Authorization: attempt"),
        "{line}"
    );
    assert!(line.ends_with("s)"), "elapsed seconds: {line}");
    // Blanked before the report: the report's first line follows spaces and a carriage return.
    let report = tty.find("created").unwrap_or_else(|| panic!("{tty}"));
    assert!(
        report > start,
        "the report comes after the progress: {tty:?}"
    );
    assert!(
        !tty[report..].contains(WAITING),
        "nothing of it after the report: {tty:?}"
    );
    assert!(
        tty[..report].contains(&format!("{}\r", " ".repeat(line.chars().count()))),
        "{tty:?}"
    );
}

#[tokio::test]
async fn one_final_line_when_piped_or_json() {
    let (sub, ns, scope) = slow_principals().await;
    let env = sub.env();
    let table = bind_args(&ns, "piped", &scope);
    let json_args = [bind_args(&ns, "json", &scope), vec!["-o", "json"]].concat();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run_plugin(&table, &env));
        let b = s.spawn(|| run_plugin(&json_args, &env));
        (a.join().unwrap(), b.join().unwrap())
    });
    let json_report = b.1.clone();
    for (what, (code, out, err)) in [("table", a), ("json", b)] {
        assert_eq!(code, 0, "{what}: {out}\n{err}");
        assert!(!out.contains(WAITING), "{what}: never on stdout: {out}");
        let lines: Vec<_> = err.lines().filter(|l| l.contains(WAITING)).collect();
        assert_eq!(lines.len(), 1, "{what}: one final line: {err:?}");
        assert!(!err.contains('\r'), "{what}: nothing redrawn: {err:?}");
        assert!(lines[0].ends_with("s)"), "{}", lines[0]);
    }
    let v: Value = serde_json::from_str(&json_report).expect("stdout is the JSON report alone");
    assert_eq!(v["namespace"], ns.as_str());
}

#[tokio::test]
async fn colour_only_on_a_terminal_and_never_with_no_color() {
    let a = arrange("colour").await;
    let env = a.sub.env();
    let ns = a.ns.as_str();
    let tty = on_terminal(&["inspect", "-n", ns], &env);
    assert!(tty.contains("\x1b["), "a terminal gets colour: {tty:?}");
    let flag = on_terminal(&["inspect", "-n", ns, "--no-color"], &env);
    assert!(!flag.contains('\x1b'), "--no-color: {flag:?}");
    assert!(flag.contains("‼"), "the marks stay: {flag}");
    let mut no_color = env.clone();
    no_color.push(("NO_COLOR".into(), "1".into()));
    let var = on_terminal(&["inspect", "-n", ns], &no_color);
    assert!(!var.contains('\x1b'), "NO_COLOR: {var:?}");
    // doctor's checklist: exit 3, the near miss failing.
    let (code, doctor) = on_terminal_code(&["doctor", "sa/near", "-n", ns, "--no-color"], &env);
    assert_eq!(code, 3, "{doctor}");
    assert!(
        !doctor.contains('\x1b') && doctor.contains("× a federated credential"),
        "{doctor}"
    );
    let (_, coloured) = on_terminal_code(&["doctor", "sa/near", "-n", ns], &env);
    assert!(
        coloured.contains("\x1b[31m×\x1b[0m a federated credential"),
        "{coloured}"
    );
}

/// `-vvv 2>file`: the log is plain text (tracing's colours are for terminals).
#[tokio::test]
async fn verbose_logs_in_a_file_carry_no_escape() {
    let a = arrange("logfile").await;
    let log = std::env::temp_dir().join(format!("azwi-log-{:08x}.txt", rand::random::<u32>()));
    let mut cmd = Ground::get().plugin();
    cmd.args(["inspect", "-n", &a.ns, "-vvv"])
        .envs(a.sub.env())
        .stderr(std::fs::File::create(&log).unwrap());
    let out = cmd.output().unwrap();
    let bytes = std::fs::read(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains(" DEBUG ") && text.contains(" INFO "),
        "a -vvv log: {text}"
    );
    assert!(
        !bytes.contains(&0x1b),
        "an escape byte in the log file:\n{text:?}"
    );
    assert!(!out.stdout.contains(&0x1b));
}

/// LC_ALL=C cannot show ✔ ‼ ×: the table says ok, !! and x, and is plain ASCII.
#[tokio::test]
async fn ascii_marks_outside_a_utf8_locale() {
    let a = arrange("ascii").await;
    let mut env = a.sub.env();
    env.push(("LC_ALL".into(), "C".into()));
    let (code, out, err) = run_plugin(&["inspect", "-n", &a.ns], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_ascii(), "{out}");
    let mark = |sa: &str| {
        out.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|w| w.get(1) == Some(&sa))
            .and_then(|w| w.get(w.len() - 2).map(|m| m.to_string()))
            .unwrap_or_else(|| panic!("{sa} in\n{out}"))
    };
    assert_eq!(mark("good"), "ok", "{out}");
    assert_eq!(mark("near"), "!!", "{out}");
    assert!(
        out.contains("CREDENTIAL: ok exact match, !! near miss, x missing"),
        "{out}"
    );
    let (code, tty) = on_terminal_code(&["doctor", "sa/near", "-n", &a.ns], &env);
    assert_eq!(code, 3, "{tty}");
    assert!(
        tty.is_ascii() && tty.contains("[FAIL] a federated credential"),
        "{tty}"
    );
}
