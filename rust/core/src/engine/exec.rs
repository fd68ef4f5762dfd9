//! Running a command inside a container: argv only (no shell), output streamed line by line
//! as it comes, exit code returned, and a timeout that kills the process.

use std::collections::BTreeMap;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;

use super::{Engine, Error};
use crate::names::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ExecSpec {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct ExecResult {
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
}

/// Splits chunks into lines per stream for the callback, keeping a partial line until its
/// newline arrives, and keeps the output exactly as it came.
#[derive(Default)]
pub(super) struct Lines {
    pending: [Vec<u8>; 2],
    raw: [Vec<u8>; 2],
}

impl Lines {
    pub(super) fn push(&mut self, stream: Stream, bytes: &[u8], on_line: &mut impl FnMut(Stream, &str)) {
        let i = stream as usize;
        self.raw[i].extend_from_slice(bytes);
        self.pending[i].extend_from_slice(bytes);
        while let Some(pos) = self.pending[i].iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending[i].drain(..=pos).collect();
            emit(stream, &line[..line.len() - 1], on_line);
        }
    }

    pub(super) fn finish(mut self, on_line: &mut impl FnMut(Stream, &str)) -> [String; 2] {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let rest = std::mem::take(&mut self.pending[stream as usize]);
            if !rest.is_empty() {
                emit(stream, &rest, on_line);
            }
        }
        self.raw.map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    }
}

fn emit(stream: Stream, line: &[u8], on_line: &mut impl FnMut(Stream, &str)) {
    let text = String::from_utf8_lossy(line);
    on_line(stream, text.strip_suffix('\r').unwrap_or(&text));
}

impl Engine {
    /// Runs `spec.argv` in `container`, calling `on_line` for every line of output as it
    /// arrives. A non-zero exit is a result, not an error (see `ExecResult::exit_code`). On
    /// timeout the process is killed (on a local engine) and `Timeout` is returned.
    pub async fn exec(
        &self,
        container: &str,
        spec: &ExecSpec,
        mut on_line: impl FnMut(Stream, &str),
    ) -> Result<ExecResult, Error> {
        if spec.argv.is_empty() || spec.argv.iter().any(|a| a.contains('\0')) {
            return Err(ValidationError::new("exec needs a non-empty argv without NUL characters").into());
        }
        let options = CreateExecOptions {
            cmd: Some(spec.argv.clone()),
            env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            user: spec.user.clone(),
            working_dir: spec.workdir.clone(),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let exec = self.client.create_exec(container, options).await.map_err(|e| Error::from_engine(e, container))?;
        let started = self.client.start_exec(&exec.id, None).await.map_err(|e| Error::from_engine(e, container))?;
        let StartExecResults::Attached { mut output, .. } = started else {
            return Err(Error::Engine { status: 0, message: "exec started detached".into() });
        };
        let mut lines = Lines::default();
        let pump = async {
            while let Some(chunk) = output.next().await {
                match chunk.map_err(|e| Error::from_engine(e, container))? {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        lines.push(Stream::Stdout, &message, &mut on_line)
                    }
                    LogOutput::StdErr { message } => lines.push(Stream::Stderr, &message, &mut on_line),
                    LogOutput::StdIn { .. } => {}
                }
            }
            Ok::<(), Error>(())
        };
        match spec.timeout {
            Some(limit) => match tokio::time::timeout(limit, pump).await {
                Ok(result) => result?,
                Err(_) => {
                    self.kill_exec(&exec.id).await;
                    return Err(Error::Timeout {
                        what: format!("{:?} in {container}", spec.argv),
                        seconds: limit.as_secs_f64(),
                    });
                }
            },
            None => pump.await?,
        }
        let [stdout, stderr] = lines.finish(&mut on_line);
        let inspected = self.client.inspect_exec(&exec.id).await.map_err(|e| Error::from_engine(e, container))?;
        Ok(ExecResult { exit_code: inspected.exit_code.unwrap_or(-1), stdout, stderr })
    }

    /// The engines have no call to stop an exec; on a local engine its host PID is ours to kill.
    async fn kill_exec(&self, exec_id: &str) {
        if !self.is_local() {
            return;
        }
        if let Ok(inspected) = self.client.inspect_exec(exec_id).await {
            if let Some(pid) = inspected.pid.filter(|p| *p > 0 && inspected.running == Some(true)) {
                // SAFETY: kill(2) has no memory-safety preconditions.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks_and_streams() {
        let mut seen = Vec::new();
        let mut on_line = |s: Stream, l: &str| seen.push((s, l.to_string()));
        let mut lines = Lines::default();
        lines.push(Stream::Stdout, b"hel", &mut on_line);
        lines.push(Stream::Stderr, b"warn\r\n", &mut on_line);
        lines.push(Stream::Stdout, b"lo\nwor", &mut on_line);
        lines.push(Stream::Stdout, b"ld", &mut on_line);
        let [out, err] = lines.finish(&mut on_line);
        assert_eq!(
            seen,
            [(Stream::Stderr, "warn".into()), (Stream::Stdout, "hello".into()), (Stream::Stdout, "world".into())]
        );
        assert_eq!(out, "hello\nworld", "the output as it came, with no newline added");
        assert_eq!(err, "warn\r\n");
    }
}
