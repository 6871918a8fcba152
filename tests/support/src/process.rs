//! Child processes for tests: run a command with a timeout, and keep a long-running peer that is
//! killed (by its PID, via [`std::process::Child::kill`]) when dropped.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;

/// What a finished command printed.
#[derive(Debug)]
pub struct CommandOutput {
    /// How the command ended.
    pub status: ExitStatus,
    /// Everything it wrote on stdout (lossy UTF-8).
    pub stdout: String,
    /// Everything it wrote on stderr (lossy UTF-8).
    pub stderr: String,
}

/// Runs `cmd` to completion with stdin closed, capturing stdout and stderr. If it is still
/// running after `timeout`, it is killed and an error carrying the output so far is returned.
/// A non-zero exit is **not** an error here; check [`CommandOutput::status`].
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> anyhow::Result<CommandOutput> {
    let program = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawning {program}"))?;
    let stdout = Collector::spawn(child.stdout.take());
    let stderr = Collector::spawn(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            // Our own child, killed by its PID.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    // A grandchild that inherited the pipes may keep them open: wait a little, not forever.
    let stdout = stdout.finish(Duration::from_secs(2));
    let stderr = stderr.finish(Duration::from_secs(2));
    match status {
        Some(status) => Ok(CommandOutput {
            status,
            stdout,
            stderr,
        }),
        None => anyhow::bail!(
            "{program} did not finish within {timeout:?}; killed it.\nstdout:\n{}\nstderr:\n{}",
            tail(&stdout, 40),
            tail(&stderr, 40)
        ),
    }
}

/// Reads a pipe on a thread into a shared buffer, so the output so far can be taken at any time.
struct Collector {
    buffer: Arc<Mutex<Vec<u8>>>,
    reader: thread::JoinHandle<()>,
}

impl Collector {
    fn spawn<R: Read + Send + 'static>(pipe: Option<R>) -> Self {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buffer);
        let reader = thread::spawn(move || {
            let Some(mut pipe) = pipe else { return };
            let mut chunk = [0u8; 8192];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .extend_from_slice(&chunk[..n]),
                }
            }
        });
        Self { buffer, reader }
    }

    /// Waits up to `grace` for the pipe to close, then returns what was read (lossy UTF-8).
    fn finish(self, grace: Duration) -> String {
        let deadline = Instant::now() + grace;
        while !self.reader.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        let bytes = self
            .buffer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A child process that is killed and reaped when dropped (or on [`ChildGuard::stop`]).
#[derive(Debug)]
pub struct ChildGuard {
    child: Option<Child>,
    pid: u32,
}

impl ChildGuard {
    /// Takes ownership of a spawned child.
    pub fn new(child: Child) -> Self {
        let pid = child.id();
        Self {
            child: Some(child),
            pid,
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// `Some(status)` when the child has already exited (or was stopped).
    pub fn try_wait(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        match self.child.as_mut() {
            Some(child) => Ok(child.try_wait()?),
            None => Ok(None),
        }
    }

    /// Kills the child by its PID (SIGKILL) and waits for it. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let out = run_with_timeout(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(out.stdout.trim(), "out");
        assert_eq!(out.stderr.trim(), "err");
        assert_eq!(out.status.code(), Some(3));
    }

    #[test]
    fn kills_on_timeout() {
        let err = run_with_timeout(
            Command::new("sh").args(["-c", "echo started; exec sleep 30"]),
            Duration::from_millis(200),
        )
        .unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("did not finish"), "{text}");
        assert!(text.contains("started"), "{text}");
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
