//! Running a command in a container (`kubectl exec`) with its stdout, stderr and exit status.

use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api,
    api::{AttachParams, LogParams},
};
use tokio::io::AsyncReadExt;

use super::{Kube, KubeError};

/// What a command run in a container printed, and how it ended.
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; 0 on success, `None` when the runtime gave no code (e.g. not found).
    pub exit_code: Option<i32>,
    /// The runtime's own message when the command did not succeed.
    pub message: Option<String>,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// The runtime's sentence when the command does not exist in the container (a distroless
    /// image has no `sh` or `cat`): containerd puts runc's error in the exec's status message
    /// (`... OCI runtime exec failed: exec failed: unable to start container process: exec:
    /// "sh": executable file not found in $PATH: unknown`), dockershim printed it on stderr and
    /// exited 126. Either way it names the executable.
    pub fn missing_executable(&self) -> Option<String> {
        let texts = [self.message.as_deref().unwrap_or_default(), &self.stderr];
        texts.iter().find_map(|t| {
            let at = t
                .find("executable file not found in $PATH")
                .or_else(|| t.find(": no such file or directory"))?;
            let start = t[..at].rfind("exec: ")?;
            let sentence = t[start..].replace("\\\"", "\"");
            let end = sentence
                .find(": unknown")
                .or_else(|| sentence.find('\n'))
                .unwrap_or(sentence.len());
            Some(sentence[..end].trim_end_matches('"').to_string())
        })
    }
}

impl Kube {
    /// The last `lines` lines of a container's log (at most 64 KiB of them).
    pub async fn log_tail(
        &self,
        ns: &str,
        name: &str,
        container: &str,
        lines: i64,
    ) -> Result<String, KubeError> {
        let lp = LogParams {
            container: Some(container.to_string()),
            tail_lines: Some(lines),
            limit_bytes: Some(64 * 1024),
            ..Default::default()
        };
        Api::<Pod>::namespaced(self.client.clone(), ns)
            .logs(name, &lp)
            .await
            .map_err(|e| KubeError::api("get", "pods/log", Some(ns), Some(name), e))
    }

    /// Runs `argv` in `container` of pod `ns/name`. A non-zero exit is an `ExecOutput`,
    /// not an error: only a refused or broken exec is.
    pub async fn exec(
        &self,
        ns: &str,
        name: &str,
        container: &str,
        argv: &[&str],
    ) -> Result<ExecOutput, KubeError> {
        let err = |e| KubeError::api("create", "pods/exec", Some(ns), Some(name), e);
        let ap = AttachParams::default()
            .container(container)
            .stdin(false)
            .stdout(true)
            .stderr(true);
        let api = Api::<Pod>::namespaced(self.client.clone(), ns);
        let mut proc = api
            .exec(name, argv.iter().copied(), &ap)
            .await
            .map_err(err)?;
        let (mut out, mut errb) = (String::new(), String::new());
        let stdout = proc.stdout();
        let stderr = proc.stderr();
        let status = proc.take_status();
        // Both pipes must drain together, or a chatty stderr blocks stdout.
        let read_out = async {
            if let Some(mut s) = stdout {
                let _ = s.read_to_string(&mut out).await;
            }
        };
        let read_err = async {
            if let Some(mut s) = stderr {
                let _ = s.read_to_string(&mut errb).await;
            }
        };
        tokio::join!(read_out, read_err);
        let status = match status {
            Some(s) => s.await,
            None => None,
        };
        // The status above is the outcome; a close error after it adds nothing.
        let _ = proc.join().await;
        let (exit_code, message) = match status {
            Some(s) if s.status.as_deref() == Some("Success") => (Some(0), None),
            Some(s) => {
                let code = s
                    .details
                    .as_ref()
                    .and_then(|d| d.causes.as_ref())
                    .and_then(|c| c.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
                    .and_then(|c| c.message.as_ref())
                    .and_then(|m| m.parse().ok());
                (code, Some(s.message.unwrap_or_default()))
            }
            None => (None, None),
        };
        Ok(ExecOutput {
            stdout: out,
            stderr: errb,
            exit_code,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(stderr: &str, message: Option<&str>) -> ExecOutput {
        ExecOutput {
            stdout: String::new(),
            stderr: stderr.into(),
            exit_code: None,
            message: message.map(str::to_string),
        }
    }

    #[test]
    fn names_the_missing_executable_in_either_runtime_form() {
        // containerd, as a user reported it (grafana/mimir#10571, Kubernetes 1.31).
        let o = out(
            "",
            Some(
                "Internal error occurred: error executing command in container: failed to exec in container: failed to start exec \"f83e8b9f\": OCI runtime exec failed: exec failed: unable to start container process: exec: \"echo\": executable file not found in $PATH: unknown",
            ),
        );
        assert_eq!(
            o.missing_executable().as_deref(),
            Some("exec: \"echo\": executable file not found in $PATH")
        );
        // dockershim printed runc's error on stderr (kubernetes/autoscaler#3674).
        let o = out(
            "OCI runtime exec failed: exec failed: container_linux.go:349: starting container process caused \"exec: \\\"env\\\": executable file not found in $PATH\": unknown\n",
            None,
        );
        assert!(
            o.missing_executable()
                .is_some_and(|s| s.contains("executable file not found in $PATH")),
            "{:?}",
            o.missing_executable()
        );
        // A command that ran and failed is not a missing executable.
        let o = out(
            "cat: /x: No such file or directory\n",
            Some("exit status 1"),
        );
        assert_eq!(o.missing_executable(), None);
    }
}
