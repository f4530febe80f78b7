//! Shell completion, both kinds, from the one clap tree in `cli.rs`:
//! - static scripts (`completions/`, `kubectl azwi completion SHELL`) for `kubectl-azwi <TAB>`;
//! - the `kubectl_complete-azwi` protocol kubectl >= 1.26 uses for `kubectl azwi <TAB>`: the
//!   words after `kubectl azwi` in, one `value\tdescription` per line and `:<directive>` out.
//!
//! Deciding *what* to complete (`plan`) is pure and unit-tested; only `fetch` talks to the
//! cluster, bounded by `LOOKUP_TIMEOUT`, and any failure there just means no candidates.

use std::{io::Write, path::PathBuf, time::Duration};

use clap::{Arg, Command, CommandFactory};
use clap_complete::Shell;
use k8s_openapi::api::{
    apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet},
    batch::v1::{CronJob, Job},
    core::v1::{Namespace, Pod, ServiceAccount},
};
use kube::{Api, Resource, api::ListParams, config::Kubeconfig};
use serde::de::DeserializeOwned;

use crate::{cli::Cli, k8s};

/// The checked-in scripts under `completions/`, by shell.
pub const SCRIPTS: [(Shell, &str); 4] = [
    (Shell::Bash, "kubectl-azwi.bash"),
    (Shell::Zsh, "_kubectl-azwi"),
    (Shell::Fish, "kubectl-azwi.fish"),
    (Shell::PowerShell, "kubectl-azwi.ps1"),
];

/// A tab press must never hang the shell on a dead cluster.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// cobra's ShellCompDirective bits, which kubectl passes through to the shell.
pub const DIRECTIVE_DEFAULT: u8 = 0;
pub const DIRECTIVE_NO_SPACE: u8 = 2;
pub const DIRECTIVE_NO_FILE: u8 = 4;

/// Target kinds as `KIND/` prefixes, in the order users reach for them.
const WORKLOAD_KINDS: [&str; 6] = ["deploy", "sts", "ds", "rs", "job", "cronjob"];

/// The static completion script for `shell`, named for the `kubectl-azwi` binary.
pub fn script(shell: Shell) -> Vec<u8> {
    // Rename before clap derives the subcommands' names from it: the help text's
    // "kubectl azwi" would split into two words in the scripts.
    let mut cmd = Cli::command().bin_name("kubectl-azwi");
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kubectl-azwi", &mut buf);
    if shell == Shell::Bash {
        // clap_complete 4.6 names the root's function `kubectl__azwi` but its subcommands'
        // case labels `kubectl__subcmd__azwi__subcmd__*` (a `-` in the binary's name), so no
        // subcommand would complete its own flags. Align the labels with the function.
        let text = String::from_utf8_lossy(&buf).replace("kubectl__subcmd__azwi", "kubectl__azwi");
        return text.into_bytes();
    }
    buf
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub value: String,
    pub help: Option<String>,
}

impl Candidate {
    fn new(value: impl Into<String>, help: Option<String>) -> Candidate {
        Candidate {
            value: value.into(),
            help,
        }
    }
}

/// Where dynamic lookups go: the plugin's own flags as typed so far on the line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
}

/// What the word under the cursor should become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// Candidates known without I/O (subcommands, flags, enum values).
    Static(Vec<Candidate>),
    Namespaces,
    Contexts,
    ServiceAccounts,
    /// A bare `KIND/NAME` target of one of these kinds: pods (the usual target) by full
    /// name, the other kinds as `KIND/` prefixes; a single kind lists its objects.
    Targets(Vec<&'static str>),
    /// Names of one kind, after its `KIND/` has been typed (`pod`, `deploy`, `sa`, ...).
    Names(&'static str),
    /// Let the shell complete file names (--kubeconfig).
    Files,
    Nothing,
}

/// The decision for one tab press: what to list, the text before the part being completed
/// (`--namespace=`, `a,` in a context list, `pod/`) and the prefix to filter on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub want: Want,
    pub scope: Scope,
    pub lead: String,
    pub prefix: String,
}

/// Decides what to complete from the words after `kubectl azwi` (the last one is the word
/// under the cursor, possibly empty). Walks the words with the clap tree, so new flags and
/// subcommands are completed without touching this file.
pub fn plan(words: &[String]) -> Plan {
    let mut root = Cli::command();
    root.build();
    let (current, before) = match words.split_last() {
        Some((c, b)) => (c.as_str(), b),
        None => ("", &[][..]),
    };
    let mut scope = Scope::default();
    let mut sub: Option<&Command> = None;
    let mut pending: Option<&Arg> = None;
    let mut positionals = 0usize;
    for word in before {
        let cmd = sub.unwrap_or(&root);
        if let Some(arg) = pending.take() {
            remember(&mut scope, arg, word);
            continue;
        }
        if let Some(flag) = word.strip_prefix("--") {
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (flag, None),
            };
            if let Some(arg) = cmd.get_arguments().find(|a| a.get_long() == Some(name)) {
                match inline {
                    Some(v) => remember(&mut scope, arg, v),
                    None if takes_value(arg) => pending = Some(arg),
                    None => {}
                }
            }
        } else if word.len() > 1 && word.starts_with('-') {
            // A short cluster like -vv or -nfoo: the first value-taking letter ends it.
            for (i, c) in word.char_indices().skip(1) {
                let Some(arg) = cmd.get_arguments().find(|a| a.get_short() == Some(c)) else {
                    break;
                };
                if takes_value(arg) {
                    let rest = &word[i + c.len_utf8()..];
                    if rest.is_empty() {
                        pending = Some(arg);
                    } else {
                        remember(&mut scope, arg, rest);
                    }
                    break;
                }
            }
        } else if sub.is_none() {
            sub = root.find_subcommand(word);
        } else {
            positionals += 1;
        }
    }
    let cmd = sub.unwrap_or(&root);
    let plan = |want, lead: &str, prefix: &str| Plan {
        want,
        scope: scope.clone(),
        lead: lead.to_string(),
        prefix: prefix.to_string(),
    };
    if let Some(arg) = pending {
        return value_plan(arg, "", current, plan);
    }
    if let Some(flag) = current.strip_prefix("--")
        && let Some((name, value)) = flag.split_once('=')
    {
        return match cmd.get_arguments().find(|a| a.get_long() == Some(name)) {
            Some(arg) => value_plan(arg, &current[..name.len() + 3], value, plan),
            None => plan(Want::Nothing, "", current),
        };
    }
    if current.starts_with('-') {
        return plan(Want::Static(flags(cmd)), "", current);
    }
    let Some(sub) = sub else {
        let subs = root
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| Candidate::new(s.get_name(), s.get_about().map(|a| a.to_string())))
            .collect();
        return plan(Want::Static(subs), "", current);
    };
    let want = match (sub.get_name(), positionals) {
        ("bind" | "unbind", 0) => Want::ServiceAccounts,
        ("inspect", 0) => Want::Targets(vec!["sa"]),
        ("doctor", 0) => Want::Targets([&["pod"][..], &WORKLOAD_KINDS, &["sa"]].concat()),
        ("exec-login", 0) => Want::Targets([&["pod"][..], &WORKLOAD_KINDS].concat()),
        ("can-i", 0) => Want::Static(short_actions()),
        ("can-i", 1) => Want::Targets([&["pod"][..], &WORKLOAD_KINDS, &["sa"]].concat()),
        _ => Want::Nothing,
    };
    target_plan(want, "", current, plan)
}

/// can-i's short action names, each with the action it stands for.
fn short_actions() -> Vec<Candidate> {
    crate::wi::rbac::action::SHORT_NAMES
        .iter()
        .map(|s| Candidate::new(s.name, Some(s.action.to_string())))
        .collect()
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values())
}

fn remember(scope: &mut Scope, arg: &Arg, value: &str) {
    match arg.get_id().as_str() {
        "kubeconfig" => scope.kubeconfig = Some(PathBuf::from(value)),
        // inspect takes a list; lookups use its first context.
        "context" => scope.context = value.split(',').next().map(str::to_string),
        "namespace" => scope.namespace = Some(value.to_string()),
        _ => {}
    }
}

fn flags(cmd: &Command) -> Vec<Candidate> {
    let help = |a: &Arg| a.get_help().map(|h| h.to_string());
    let mut out = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if let Some(long) = arg.get_long() {
            out.push(Candidate::new(format!("--{long}"), help(arg)));
        }
        if let Some(short) = arg.get_short() {
            out.push(Candidate::new(format!("-{short}"), help(arg)));
        }
    }
    out
}

fn value_plan(arg: &Arg, lead: &str, value: &str, plan: impl Fn(Want, &str, &str) -> Plan) -> Plan {
    match arg.get_id().as_str() {
        "namespace" => plan(Want::Namespaces, lead, value),
        "context" => {
            // A comma-separated list: complete its last element.
            let cut = value.rfind(',').map_or(0, |i| i + 1);
            plan(
                Want::Contexts,
                &format!("{lead}{}", &value[..cut]),
                &value[cut..],
            )
        }
        "kubeconfig" => plan(Want::Files, lead, value),
        "can" => plan(Want::Static(short_actions()), lead, value),
        "workload" | "emit_init_container" => {
            target_plan(Want::Targets(WORKLOAD_KINDS.to_vec()), lead, value, plan)
        }
        _ => {
            let values: Vec<Candidate> = arg
                .get_possible_values()
                .into_iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| Candidate::new(v.get_name(), v.get_help().map(|h| h.to_string())))
                .collect();
            if values.is_empty() {
                plan(Want::Nothing, lead, value)
            } else {
                plan(Want::Static(values), lead, value)
            }
        }
    }
}

/// Narrows `Targets` to one kind once the word has a `KIND/` in it.
fn target_plan(
    want: Want,
    lead: &str,
    value: &str,
    plan: impl Fn(Want, &str, &str) -> Plan,
) -> Plan {
    let Want::Targets(kinds) = want else {
        return plan(want, lead, value);
    };
    match value.split_once('/') {
        Some((kind, name)) => {
            let kind = canonical_kind(kind);
            let want = match kind {
                Some(k) if kinds.contains(&k) => Want::Names(k),
                _ => Want::Nothing,
            };
            plan(
                want,
                &format!("{lead}{}", &value[..value.len() - name.len()]),
                name,
            )
        }
        None => plan(Want::Targets(kinds), lead, value),
    }
}

/// kubectl's aliases for the kinds the plugin takes, reduced to the short form it prints.
fn canonical_kind(kind: &str) -> Option<&'static str> {
    Some(match kind.to_ascii_lowercase().as_str() {
        "pod" | "pods" | "po" => "pod",
        "deploy" | "deployment" | "deployments" => "deploy",
        "sts" | "statefulset" | "statefulsets" => "sts",
        "ds" | "daemonset" | "daemonsets" => "ds",
        "rs" | "replicaset" | "replicasets" => "rs",
        "job" | "jobs" => "job",
        "cronjob" | "cronjobs" | "cj" => "cronjob",
        "sa" | "serviceaccount" | "serviceaccounts" => "sa",
        _ => return None,
    })
}

/// The answer to one tab press: candidates (already filtered) and the cobra directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub candidates: Vec<Candidate>,
    pub directive: u8,
}

impl Completion {
    /// kubectl's plugin-completion format: `value\tdescription` lines, then `:<directive>`.
    pub fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for c in &self.candidates {
            match &c.help {
                // A description is one line; tabs and newlines would break the protocol.
                Some(h) => writeln!(out, "{}\t{}", c.value, h.replace(['\t', '\n'], " "))?,
                None => writeln!(out, "{}", c.value)?,
            }
        }
        writeln!(out, ":{}", self.directive)
    }
}

/// Completes the words after `kubectl azwi`; cluster lookups run under `LOOKUP_TIMEOUT`.
pub fn complete(words: &[String]) -> Completion {
    let plan = plan(words);
    let mut directive = DIRECTIVE_NO_FILE;
    let found = match &plan.want {
        Want::Files => {
            return Completion {
                candidates: Vec::new(),
                directive: DIRECTIVE_DEFAULT,
            };
        }
        Want::Nothing => Vec::new(),
        Want::Static(c) => c.clone(),
        Want::Contexts => contexts(&plan.scope),
        Want::Namespaces | Want::ServiceAccounts | Want::Targets(_) | Want::Names(_) => {
            match crate::runtime() {
                Ok(rt) => rt
                    .block_on(async { tokio::time::timeout(LOOKUP_TIMEOUT, fetch(&plan)).await })
                    .unwrap_or_default(),
                Err(_) => Vec::new(),
            }
        }
    };
    let candidates: Vec<Candidate> = found
        .into_iter()
        .filter(|c| c.value.starts_with(&plan.prefix))
        .map(|c| Candidate::new(format!("{}{}", plan.lead, c.value), c.help))
        .collect();
    // A `KIND/` prefix is half a word: no space after it.
    if candidates.iter().any(|c| c.value.ends_with('/')) {
        directive |= DIRECTIVE_NO_SPACE;
    }
    Completion {
        candidates,
        directive,
    }
}

fn contexts(scope: &Scope) -> Vec<Candidate> {
    let kc = match &scope.kubeconfig {
        Some(p) => Kubeconfig::read_from(p),
        None => Kubeconfig::read(),
    };
    kc.map(|kc| {
        kc.contexts
            .into_iter()
            .map(|c| Candidate::new(c.name, None))
            .collect()
    })
    .unwrap_or_default()
}

async fn fetch(plan: &Plan) -> Vec<Candidate> {
    let Ok(kube) = k8s::connect(
        plan.scope.kubeconfig.as_deref(),
        plan.scope.context.as_deref(),
        plan.scope.namespace.as_deref(),
    )
    .await
    else {
        return Vec::new();
    };
    let ns = kube.namespace.as_str();
    let c = kube.client;
    match &plan.want {
        Want::Namespaces => names(Api::<Namespace>::all(c)).await,
        Want::ServiceAccounts => names(Api::<ServiceAccount>::namespaced(c, ns)).await,
        Want::Names(kind) => names_of(kind, c, ns).await,
        Want::Targets(kinds) => {
            let listed = if kinds.len() == 1 { kinds[0] } else { "pod" };
            let mut out: Vec<Candidate> = if kinds.contains(&listed) {
                names_of(listed, c, ns)
                    .await
                    .into_iter()
                    .map(|n| Candidate::new(format!("{listed}/{}", n.value), None))
                    .collect()
            } else {
                Vec::new()
            };
            out.extend(
                kinds
                    .iter()
                    .filter(|k| **k != listed)
                    .map(|k| Candidate::new(format!("{k}/"), None)),
            );
            out
        }
        _ => Vec::new(),
    }
}

async fn names_of(kind: &str, c: kube::Client, ns: &str) -> Vec<Candidate> {
    match kind {
        "pod" => names(Api::<Pod>::namespaced(c, ns)).await,
        "deploy" => names(Api::<Deployment>::namespaced(c, ns)).await,
        "sts" => names(Api::<StatefulSet>::namespaced(c, ns)).await,
        "ds" => names(Api::<DaemonSet>::namespaced(c, ns)).await,
        "rs" => names(Api::<ReplicaSet>::namespaced(c, ns)).await,
        "job" => names(Api::<Job>::namespaced(c, ns)).await,
        "cronjob" => names(Api::<CronJob>::namespaced(c, ns)).await,
        "sa" => names(Api::<ServiceAccount>::namespaced(c, ns)).await,
        _ => Vec::new(),
    }
}

/// Object names only: a metadata list is the cheapest read the API server offers.
async fn names<K>(api: Api<K>) -> Vec<Candidate>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    api.list_metadata(&ListParams::default())
        .await
        .map(|list| {
            list.items
                .into_iter()
                .filter_map(|m| m.metadata.name)
                .map(|n| Candidate::new(n, None))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Plan {
        // A trailing space means the cursor is on a fresh, empty word.
        let mut words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        if line.is_empty() || line.ends_with(' ') {
            words.push(String::new());
        }
        plan(&words)
    }

    fn values(want: &Want) -> Vec<&str> {
        match want {
            Want::Static(c) => c.iter().map(|c| c.value.as_str()).collect(),
            other => panic!("not static: {other:?}"),
        }
    }

    #[test]
    fn subcommands_first() {
        let plan = p("");
        let subs = values(&plan.want);
        for s in [
            "bind",
            "unbind",
            "inspect",
            "doctor",
            "exec-login",
            "version",
        ] {
            assert!(subs.contains(&s), "{s} in {subs:?}");
        }
        assert!(!subs.contains(&"completion"), "hidden stays hidden");
        assert_eq!(p("do").prefix, "do");
        // Global flags before the subcommand do not count as a subcommand.
        assert!(values(&p("-n kube-system ").want).contains(&"doctor"));
    }

    #[test]
    fn flags_of_the_subcommand_and_globals() {
        let plan = p("bind sa1 --");
        let flags = values(&plan.want);
        for f in ["--identity", "--dry-run", "--namespace", "--context"] {
            assert!(flags.contains(&f), "{f} in {flags:?}");
        }
        assert!(
            !flags.contains(&"--exchange"),
            "doctor's flag is not bind's"
        );
        assert!(values(&p("doctor -").want).contains(&"--exchange"));
    }

    #[test]
    fn flag_values() {
        let table: [(&str, Want, &str, &str); 9] = [
            ("bind -n ", Want::Namespaces, "", ""),
            ("doctor --namespace ku", Want::Namespaces, "", "ku"),
            (
                "doctor --namespace=ku",
                Want::Namespaces,
                "--namespace=",
                "ku",
            ),
            ("inspect --context ", Want::Contexts, "", ""),
            ("inspect --context a,b", Want::Contexts, "a,", "b"),
            ("--kubeconfig ", Want::Files, "", ""),
            ("bind x --identity ", Want::Nothing, "", ""),
            (
                "bind x --workload deploy/we",
                Want::Names("deploy"),
                "deploy/",
                "we",
            ),
            ("doctor -c ", Want::Nothing, "", ""),
        ];
        for (line, want, lead, prefix) in table {
            let plan = p(line);
            assert_eq!(
                (&plan.want, plan.lead.as_str(), plan.prefix.as_str()),
                (&want, lead, prefix),
                "{line:?}"
            );
        }
        assert!(values(&p("version -o ").want).contains(&"json"));
        assert!(values(&p("version --cloud ").want).contains(&"china"));
    }

    #[test]
    fn positionals() {
        assert_eq!(p("bind ").want, Want::ServiceAccounts);
        assert_eq!(p("unbind -n ns wo").want, Want::ServiceAccounts);
        assert_eq!(p("bind sa1 ").want, Want::Nothing);
        assert_eq!(p("inspect ").want, Want::Targets(vec!["sa"]));
        assert_eq!(p("doctor pod/").want, Want::Names("pod"));
        assert_eq!(p("doctor po/").lead, "po/", "the alias typed stays");
        assert_eq!(p("doctor deployment/x").lead, "deployment/");
        assert_eq!(p("doctor nope/x").want, Want::Nothing);
        assert_eq!(
            p("exec-login sa/x").want,
            Want::Nothing,
            "exec-login takes no sa"
        );
        assert_eq!(p("version ").want, Want::Nothing);
        match p("doctor ").want {
            Want::Targets(k) => assert_eq!(k[0], "pod"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn can_i_completes_an_action_then_a_target() {
        assert!(values(&p("can-i ").want).contains(&"blob-read"));
        assert!(values(&p("doctor pod/x --can ").want).contains(&"acr-pull"));
        assert_eq!(p("can-i blob-read --scope /x sa/").want, Want::Names("sa"));
        match p("can-i blob-read ").want {
            Want::Targets(k) => assert!(k.contains(&"pod") && k.contains(&"sa")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scope_from_the_line() {
        let table = [
            (
                "--kubeconfig /k -n ns doctor ",
                Some("/k"),
                None,
                Some("ns"),
            ),
            (
                "doctor --context=c1,c2 -nns2 ",
                None,
                Some("c1"),
                Some("ns2"),
            ),
            ("-vv doctor --namespace=x ", None, None, Some("x")),
        ];
        for (line, kc, ctx, ns) in table {
            let s = p(line).scope;
            assert_eq!(
                s.kubeconfig.as_deref(),
                kc.map(std::path::Path::new),
                "{line}"
            );
            assert_eq!(s.context.as_deref(), ctx, "{line}");
            assert_eq!(s.namespace.as_deref(), ns, "{line}");
        }
        // The value of -n is not mistaken for a subcommand.
        assert_eq!(p("-n bind ").want, values_plan_subs());
    }

    fn values_plan_subs() -> Want {
        p("").want
    }

    #[test]
    fn static_answers_filter_and_end_with_a_directive() {
        let out = complete(&["ver".into()]);
        assert_eq!(out.candidates.len(), 1);
        assert_eq!(out.candidates[0].value, "version");
        assert_eq!(out.directive, DIRECTIVE_NO_FILE);
        let mut buf = Vec::new();
        out.write(&mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with("version\t"), "{text}");
        assert!(text.ends_with("\n:4\n"), "{text}");
        let files = complete(&["--kubeconfig".into(), String::new()]);
        assert_eq!(files.directive, DIRECTIVE_DEFAULT);
        let eq = complete(&["version".into(), "--output=js".into()]);
        assert_eq!(eq.candidates[0].value, "--output=json");
    }
}
