//! Distribution and first run: the krew manifest validates, the checked-in completion scripts
//! match the command tree, every `--help` example parses, and the plugin installed on PATH works
//! through the real kubectl: listed, helped, completed (kubectl's own `__complete` entry point
//! via kubectl_complete-azwi) and with the README's exit codes.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use clap::{CommandFactory, Parser};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::{Api, api::PostParams};
use kubectl_azwi::{
    cli::Cli,
    completion::{self, SCRIPTS},
};

use crate::support::{self, Ground, fixtures, repo};

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("{prefix}-{:08x}", rand::random::<u32>()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ground_bin(name: &str) -> PathBuf {
    // Where tests/ground/lib.sh puts what build.sh builds.
    let cache = std::env::var_os("AZWI_GROUND_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME").map(|c| Path::new(&c).join("kubectl-azwi-ground"))
        })
        .unwrap_or_else(|| {
            Path::new(&std::env::var_os("HOME").expect("HOME")).join(".cache/kubectl-azwi-ground")
        });
    cache.join("bin").join(name)
}

#[test]
fn krew_accepts_the_manifest() {
    let validator = ground_bin("validate-krew-manifest");
    assert!(
        validator.exists(),
        "{} missing: run `bash tests/ground/build.sh krew`",
        validator.display()
    );
    let text = std::fs::read_to_string(repo().join("plugin.yaml")).unwrap();
    // krew insists the file is named after the plugin.
    let dir = TempDir::new("azwi-krew");
    std::fs::write(dir.0.join("azwi.yaml"), &text).unwrap();
    let out = Command::new(&validator)
        .arg("-manifest")
        .arg(dir.0.join("azwi.yaml"))
        // Installing would download every platform's archive from the release URL.
        .arg("-skip-install")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "validate-krew-manifest: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // What the validator does not know: the manifest matches this crate and its archives.
    let m: serde_json::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(m["metadata"]["name"], "azwi");
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        m["spec"]["version"],
        version.as_str(),
        "plugin.yaml vs Cargo.toml"
    );
    let platforms = m["spec"]["platforms"].as_array().unwrap();
    let mut seen = Vec::new();
    for p in platforms {
        let os = p["selector"]["matchLabels"]["os"].as_str().unwrap();
        let arch = p["selector"]["matchLabels"]["arch"].as_str().unwrap();
        seen.push(format!("{os}/{arch}"));
        let (exe, ext) = if os == "windows" {
            (".exe", "zip")
        } else {
            ("", "tar.gz")
        };
        let uri = p["uri"].as_str().unwrap();
        assert!(
            uri.ends_with(&format!(
                "/{version}/kubectl-azwi_{version}_{os}_{arch}.{ext}"
            )),
            "{uri}"
        );
        let sha = p["sha256"].as_str().expect("sha256 is a quoted string");
        assert!(
            sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{sha}"
        );
        assert_eq!(p["bin"], format!("kubectl-azwi{exe}").as_str());
        let files: Vec<&str> = p["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["from"].as_str().unwrap())
            .collect();
        for f in [
            format!("kubectl-azwi{exe}"),
            format!("kubectl_complete-azwi{exe}"),
            "LICENSE".into(),
        ] {
            assert!(files.contains(&f.as_str()), "{os}/{arch} ships {f}");
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "darwin/amd64",
            "darwin/arm64",
            "linux/amd64",
            "linux/arm64",
            "windows/amd64",
            "windows/arm64"
        ]
    );
    assert!(repo().join("LICENSE").exists());
}

#[test]
fn checked_in_completions_are_fresh() {
    for (shell, file) in SCRIPTS {
        let path = repo().join("completions").join(file);
        let on_disk = std::fs::read(&path).unwrap_or_default();
        assert!(
            on_disk == completion::script(shell),
            "{} is stale: regenerate with `cargo run -q --bin kubectl-azwi -- completion {shell} > completions/{file}` (README: Shell completion)",
            path.display()
        );
    }
    let bash = String::from_utf8(completion::script(clap_complete::Shell::Bash)).unwrap();
    for word in ["bind", "doctor", "exec-login", "--identity", "--namespace"] {
        assert!(bash.contains(word), "bash script completes {word}");
    }
}

/// What bash's programmable completion offers for `line` (cursor at its end) with the
/// checked-in script loaded, as a user's shell would after `source`.
fn bash_completes(line: &str) -> Vec<String> {
    let script = repo().join("completions/kubectl-azwi.bash");
    const PROGRAM: &str = r#"source "$1"
COMP_LINE="$2"; read -ra COMP_WORDS <<<"$2"; [[ "$2" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_POINT=${#COMP_LINE}
prev=""; (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}
_kubectl__azwi kubectl-azwi "${COMP_WORDS[COMP_CWORD]}" "$prev"
printf '%s\n' "${COMPREPLY[@]}""#;
    let out = Command::new("bash")
        .args(["-c", PROGRAM, "bash"])
        .arg(script)
        .arg(line)
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_script_completes_subcommands_and_their_flags() {
    assert_eq!(bash_completes("kubectl-azwi do"), ["doctor"]);
    assert_eq!(bash_completes("kubectl-azwi bind sa1 --dr"), ["--dry-run"]);
    assert_eq!(
        bash_completes("kubectl-azwi doctor -n x --ex"),
        ["--exchange"]
    );
    assert_eq!(
        bash_completes("kubectl-azwi exec-login pod/x --show"),
        ["--show-token"]
    );
    assert!(bash_completes("kubectl-azwi version -o ").contains(&"yaml".to_string()));
}

/// Splits an example line like a shell would, enough for the examples: words, double quotes.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in line.chars() {
        match c {
            '"' => (quoted, any) = (!quoted, true),
            c if c.is_whitespace() && !quoted => {
                if any || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => word.push(c),
        }
    }
    if any || !word.is_empty() {
        words.push(word);
    }
    words
}

/// The `kubectl azwi ...` lines of a help text, with `\` continuations joined.
fn examples(help: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for line in help.lines().map(str::trim) {
        if open {
            let last = out.last_mut().unwrap();
            last.push(' ');
            last.push_str(line.trim_end_matches('\\'));
        } else if line.starts_with("kubectl azwi ") {
            out.push(line.trim_end_matches('\\').to_string());
        } else {
            continue;
        }
        open = line.ends_with('\\');
    }
    out
}

#[test]
fn every_help_example_parses() {
    let mut root = Cli::command();
    root.build();
    let mut total = 0;
    for sub in root.get_subcommands().filter(|s| s.get_name() != "help") {
        let help = sub
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        let lines = examples(&help);
        assert!(
            !lines.is_empty(),
            "`kubectl azwi {} --help` has no examples",
            sub.get_name()
        );
        for line in lines {
            // A redirection ends the command line.
            let words: Vec<String> = shell_words(&line)
                .into_iter()
                .take_while(|w| w != ">" && w != ">>" && w != "|")
                .collect();
            // "kubectl azwi" is the binary as kubectl runs it.
            let argv =
                std::iter::once("kubectl-azwi".to_string()).chain(words[2..].iter().cloned());
            let parsed = Cli::try_parse_from(argv);
            assert!(parsed.is_ok(), "{line}: {}", parsed.unwrap_err());
            total += 1;
        }
    }
    assert!(total >= 15, "{total} examples");
    assert_eq!(
        shell_words(r#"a --role "Key Vault Secrets User" b"#),
        ["a", "--role", "Key Vault Secrets User", "b"]
    );
}

/// A directory holding the two binaries as a user's PATH would, and the kubectl to run them.
struct Installed {
    dir: TempDir,
    path: String,
}

impl Installed {
    fn new() -> Installed {
        let dir = TempDir::new("azwi-dist-path");
        for bin in [
            env!("CARGO_BIN_EXE_kubectl-azwi"),
            env!("CARGO_BIN_EXE_kubectl_complete-azwi"),
        ] {
            let name = Path::new(bin).file_name().unwrap();
            std::os::unix::fs::symlink(bin, dir.0.join(name)).unwrap();
        }
        let path = format!(
            "{}:{}",
            dir.0.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Installed { dir, path }
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        let g = Ground::get();
        g.kubectl()
            .args(args)
            .env("PATH", &self.path)
            .env("SSL_CERT_FILE", g.var("AZWI_GROUND_CA"))
            .env_remove("AZURE_SUBSCRIPTION_ID")
            .output()
            .unwrap()
    }

    /// kubectl's own completion entry point, as the shell calls it: candidate values only.
    fn complete(&self, words: &[&str]) -> (Vec<String>, String) {
        let args: Vec<&str> = ["__complete", "azwi"]
            .iter()
            .chain(words)
            .copied()
            .collect();
        let out = self.kubectl(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let directive = lines.pop().unwrap_or_default().to_string();
        let values = lines
            .iter()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect();
        (values, directive)
    }
}

#[test]
fn installed_on_path_through_kubectl() {
    let inst = Installed::new();
    let list = inst.kubectl(&["plugin", "list"]);
    let listed = String::from_utf8_lossy(&list.stdout);
    let link = inst.dir.0.join("kubectl-azwi");
    assert!(
        listed.contains(&link.display().to_string()),
        "plugin list: {listed}"
    );
    // The completion helper is not a plugin of its own.
    assert!(!listed.contains("kubectl_complete-azwi"), "{listed}");

    let help = inst.kubectl(&["azwi", "--help"]);
    assert!(
        help.status.success(),
        "{}",
        String::from_utf8_lossy(&help.stderr)
    );
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("Usage: kubectl azwi"), "{text}");
    assert!(
        text.contains("kubectl azwi doctor pod/quick-start"),
        "{text}"
    );
    let bind_help = inst.kubectl(&["azwi", "bind", "--help"]);
    let text = String::from_utf8_lossy(&bind_help.stdout);
    assert!(
        text.contains("Examples:") && text.contains("--dry-run -o yaml"),
        "{text}"
    );

    let (subs, directive) = inst.complete(&[""]);
    for s in [
        "bind",
        "unbind",
        "inspect",
        "doctor",
        "exec-login",
        "version",
    ] {
        assert!(subs.contains(&s.to_string()), "{s} in {subs:?}");
    }
    assert_eq!(directive, ":4", "no file names among subcommands");
    let (flags, _) = inst.complete(&["bind", "sa1", "--dr"]);
    assert_eq!(flags, ["--dry-run"]);
    let (outputs, _) = inst.complete(&["version", "-o", ""]);
    assert!(outputs.contains(&"yaml".to_string()), "{outputs:?}");
}

#[tokio::test]
async fn completion_looks_up_the_cluster() {
    let g = Ground::get();
    let client = g.client().await;
    let ns = support::namespace(&client, "dist-complete", &[]).await;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    sas.create(
        &PostParams::default(),
        &fixtures::service_account("workload-identity-sa", &[]),
    )
    .await
    .unwrap();
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    pods.create(
        &PostParams::default(),
        &fixtures::pod("quick-start", "workload-identity-sa", &[]),
    )
    .await
    .unwrap();
    let inst = Installed::new();
    // Blocking in this async test is fine: nothing else runs on its runtime meanwhile.
    let complete = |words: Vec<&str>| std::future::ready(inst.complete(&words));

    let (namespaces, _) = complete(vec!["doctor", "-n", "dist-complete-"]).await;
    assert!(namespaces.contains(&ns), "{ns} in {namespaces:?}");
    let (accounts, _) = complete(vec!["bind", "-n", &ns, "work"]).await;
    assert_eq!(accounts, ["workload-identity-sa"]);
    let (targets, directive) = complete(vec!["doctor", "--namespace", &ns, ""]).await;
    assert!(
        targets.contains(&"pod/quick-start".to_string()),
        "{targets:?}"
    );
    assert!(targets.contains(&"deploy/".to_string()), "{targets:?}");
    assert_eq!(directive, ":6", "no space after a KIND/ prefix");
    let (sa_targets, _) = complete(vec![&format!("--namespace={ns}"), "doctor", "sa/"]).await;
    assert!(
        sa_targets.contains(&"sa/workload-identity-sa".to_string()),
        "{sa_targets:?}"
    );
    assert!(
        sa_targets.iter().all(|t| t.starts_with("sa/")),
        "{sa_targets:?}"
    );
    let (contexts, _) = complete(vec!["inspect", "--context", "azwi-ground,"]).await;
    assert!(
        contexts.contains(&"azwi-ground,azwi-ground-limited".to_string()),
        "{contexts:?}"
    );
    // A dead cluster answers nothing, quickly, instead of hanging the shell.
    let dead = TempDir::new("azwi-dead");
    let kubeconfig = dead_kubeconfig(&dead.0);
    let started = std::time::Instant::now();
    let (none, directive) = complete(vec!["--kubeconfig", &kubeconfig, "bind", ""]).await;
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(directive, ":4");
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}

/// A kubeconfig whose server refuses connections (a port nothing listens on).
fn dead_kubeconfig(dir: &Path) -> String {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: dead\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: dead\n  context:\n    cluster: dead\n    user: dead\nusers:\n- name: dead\n  user:\n    token: not-a-real-token\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn exit_codes_through_kubectl() {
    let g = Ground::get();
    let client = g.client().await;
    // A pod that does not use workload identity at all: doctor must fail its checks.
    let ns = support::namespace(&client, "dist-exit", &[]).await;
    Api::<ServiceAccount>::namespaced(client.clone(), &ns)
        .create(
            &PostParams::default(),
            &fixtures::service_account("workload-identity-sa", &[]),
        )
        .await
        .unwrap();
    Api::<Pod>::namespaced(client, &ns)
        .create(
            &PostParams::default(),
            &fixtures::pod("quick-start", "workload-identity-sa", &[]),
        )
        .await
        .unwrap();

    let inst = Installed::new();
    let code = |args: &[&str]| {
        let out = inst.kubectl(args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code(&["azwi", "version"]).0, Some(0));
    let (c, err) = code(&["azwi", "doctor", "quick-start"]);
    assert_eq!(c, Some(2), "{err}");
    let (c, err) = code(&["azwi", "bind", "sa", "--identity", "not_a_valid!"]);
    assert_eq!(c, Some(2), "{err}");
    assert!(
        err.contains("not_a_valid!"),
        "the message names the value: {err}"
    );
    let (c, err) = code(&["azwi", "bind", "--identity", "x"]);
    assert_eq!(c, Some(2), "missing argument is a usage error: {err}");

    let dead = TempDir::new("azwi-dead");
    let kubeconfig = dead_kubeconfig(&dead.0);
    for args in [
        &["inspect", "--no-azure"][..],
        &["exec-login", "pod/quick-start"],
    ] {
        let argv: Vec<&str> = ["azwi", "--kubeconfig", &kubeconfig]
            .iter()
            .chain(args)
            .copied()
            .collect();
        let (c, err) = code(&argv);
        assert_eq!(c, Some(1), "{args:?} on an unreachable cluster: {err}");
        assert!(err.contains("Connection refused"), "{err}");
    }

    let (c, err) = code(&["azwi", "-n", &ns, "doctor", "pod/quick-start"]);
    assert_eq!(c, Some(3), "doctor found a failing check: {err}");
}
