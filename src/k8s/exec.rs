//! Running a command in a container (`kubectl exec`) with its stdout, stderr and exit status.

use k8s_openapi::api::core::v1::Pod;
use kube::{Api, api::AttachParams};
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
}

impl Kube {
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
