//! The real Java Dubbo 3.3 provider (`tests/interop`, main class
//! `org.tianlu.interop.ProviderMain`) as a child process.
//!
//! [`JavaProvider::start`] checks that `java` (17+) and `mvn` exist, builds the Maven project once
//! (a file lock keeps parallel test processes from building at the same time; `build.sh` itself
//! skips an up-to-date build), picks free ports, starts the JVM and waits for its
//! `READY dubbo=<port>[ tri=<port>]` line. The JVM is killed by PID when the handle is dropped,
//! and it also exits by itself when our end of its stdin closes, so a provider never outlives the
//! test process (this is what makes [`JavaProvider::shared`], which lives in a `static`, safe).

use std::collections::VecDeque;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::ports::free_port;
use crate::process::{run_with_timeout, tail, ChildGuard};

/// What to tell the developer when a tool is missing.
pub const JAVA_HINT: &str =
    "Java 17 and Maven are required: apt-get install openjdk-17-jdk-headless maven";

/// The main class of the interop provider.
pub const MAIN_CLASS: &str = "org.tianlu.interop.ProviderMain";

/// How long a cold Maven build (dependency download included) may take.
const BUILD_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// How many stderr lines of the JVM are kept for error messages.
const STDERR_LINES: usize = 200;

/// How a generic call sees an exception thrown by the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GenericExceptionMode {
    /// Dubbo's default with the all-in-one jar: the exception is replaced by
    /// `com.alibaba.dubbo.rpc.service.GenericException{exceptionClass, exceptionMessage}`.
    #[default]
    Wrapped,
    /// The dubbo2 compatibility layer is off (`dubbo.compact.enable=false`): the original
    /// Throwable, custom fields included, reaches the caller.
    Raw,
}

/// Options for one provider JVM. `Default` = dubbo protocol only, no registry, Dubbo defaults.
#[derive(Debug, Clone)]
pub struct ProviderOptions {
    /// Also export every service over Triple on a second port.
    pub tri: bool,
    /// `--app`: the application name (provider default `tianlu-interop`).
    pub app: Option<String>,
    /// `--name`: what `UserService.whoAmI` returns (provider default: the app name).
    pub name: Option<String>,
    /// `--registry`: registry URL (provider default `N/A`, direct connection).
    pub registry: Option<String>,
    /// `--slow-ms`: artificial delay on every `UserService` call.
    pub slow_ms: Option<u64>,
    /// `--generic-exception`.
    pub generic_exception: GenericExceptionMode,
    /// Extra JVM options (before the main class), e.g. `-Dkey=value`.
    pub jvm_args: Vec<String>,
    /// Extra program arguments (after the generated ones).
    pub args: Vec<String>,
    /// How long to wait for the READY line.
    pub ready_timeout: Duration,
}

impl Default for ProviderOptions {
    fn default() -> Self {
        Self {
            tri: false,
            app: None,
            name: None,
            registry: None,
            slow_ms: None,
            generic_exception: GenericExceptionMode::Wrapped,
            jvm_args: Vec::new(),
            args: Vec::new(),
            ready_timeout: Duration::from_secs(60),
        }
    }
}

impl ProviderOptions {
    /// Enables the Triple export.
    pub fn with_tri(mut self) -> Self {
        self.tri = true;
        self
    }

    /// Sets the application name.
    pub fn app(mut self, app: impl Into<String>) -> Self {
        self.app = Some(app.into());
        self
    }

    /// Sets the instance name returned by `whoAmI`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the registry URL.
    pub fn registry(mut self, url: impl Into<String>) -> Self {
        self.registry = Some(url.into());
        self
    }

    /// Sets the generic exception mode.
    pub fn generic_exception(mut self, mode: GenericExceptionMode) -> Self {
        self.generic_exception = mode;
        self
    }

    fn program_args(&self, dubbo_port: u16, tri_port: Option<u16>) -> Vec<String> {
        let mut args = vec!["--dubbo-port".to_string(), dubbo_port.to_string()];
        if let Some(port) = tri_port {
            args.extend(["--tri-port".to_string(), port.to_string()]);
        }
        let named = [
            ("--app", self.app.clone()),
            ("--name", self.name.clone()),
            ("--registry", self.registry.clone()),
            ("--slow-ms", self.slow_ms.map(|ms| ms.to_string())),
        ];
        for (flag, value) in named {
            if let Some(value) = value {
                args.extend([flag.to_string(), value]);
            }
        }
        let mode = match self.generic_exception {
            GenericExceptionMode::Wrapped => "wrapped",
            GenericExceptionMode::Raw => "raw",
        };
        args.extend(["--generic-exception".to_string(), mode.to_string()]);
        args.push("--exit-on-stdin-eof".to_string());
        args.extend(self.args.iter().cloned());
        args
    }
}

/// A running Java provider. Killed (by PID) on drop or [`JavaProvider::stop`].
#[derive(Debug)]
pub struct JavaProvider {
    child: ChildGuard,
    dubbo_port: u16,
    tri_port: Option<u16>,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

impl JavaProvider {
    /// Builds (if needed) and starts a provider; returns once it printed READY.
    pub fn start(opts: ProviderOptions) -> anyhow::Result<JavaProvider> {
        let interop = ensure_built()?;
        let mut last_error = None;
        // A free port can be taken by someone else before the JVM binds it: retry then.
        for _attempt in 0..3 {
            let dubbo_port = free_port()?;
            let tri_port = if opts.tri { Some(free_port()?) } else { None };
            match Self::spawn(&interop, &opts, dubbo_port, tri_port) {
                Ok(provider) => return Ok(provider),
                Err(err) => {
                    let text = format!("{err:#}");
                    let port_clash =
                        text.contains("Address already in use") || text.contains("Failed to bind");
                    last_error = Some(err);
                    if !port_clash {
                        break;
                    }
                }
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("provider did not start")))
    }

    /// One provider per test binary (dubbo + Triple, Dubbo's default exception mode), started
    /// on first use. It lives until the process exits (it stops by itself when our stdin pipe
    /// to it closes). Tests sharing it must not depend on state other tests change.
    pub fn shared() -> anyhow::Result<&'static JavaProvider> {
        static SHARED: OnceLock<Result<JavaProvider, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                JavaProvider::start(ProviderOptions::default().with_tri())
                    .map_err(|err| format!("{err:#}"))
            })
            .as_ref()
            .map_err(|err| anyhow::anyhow!("shared Java provider failed to start: {err}"))
    }

    fn spawn(
        interop: &Path,
        opts: &ProviderOptions,
        dubbo_port: u16,
        tri_port: Option<u16>,
    ) -> anyhow::Result<JavaProvider> {
        let classpath = format!(
            "{}:{}",
            interop.join("target/classes").display(),
            interop.join("target/lib/*").display()
        );
        let mut cmd = Command::new(java_binary());
        cmd.args([
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Duser.timezone=UTC",
            "-Djava.net.preferIPv4Stack=true",
        ])
        .args(&opts.jvm_args)
        .arg("-cp")
        .arg(&classpath)
        .arg(MAIN_CLASS)
        .args(opts.program_args(dubbo_port, tri_port))
        .current_dir(interop)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let described = format!("{cmd:?}");
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting the JVM: {described}\n{JAVA_HINT}"))?;
        let stdout = child.stdout.take();
        let stderr_pipe = child.stderr.take();
        // Our end of stdin stays open inside the Child: closing it makes the provider exit.
        let guard = ChildGuard::new(child);

        let stderr = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_LINES)));
        if let Some(pipe) = stderr_pipe {
            let sink = Arc::clone(&stderr);
            let echo = std::env::var_os("TIANLU_JAVA_LOG").is_some();
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if echo {
                        eprintln!("[java {dubbo_port}] {line}");
                    }
                    let mut lines = sink.lock().unwrap_or_else(|p| p.into_inner());
                    if lines.len() == STDERR_LINES {
                        lines.pop_front();
                    }
                    lines.push_back(line);
                }
            });
        }

        let (ready_tx, ready_rx) = mpsc::channel::<Option<String>>();
        if let Some(pipe) = stdout {
            thread::spawn(move || {
                let mut announced = false;
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if !announced && line.starts_with("READY ") {
                        announced = true;
                        let _ = ready_tx.send(Some(line));
                    }
                }
                // EOF: the JVM is gone (or closed stdout).
                let _ = ready_tx.send(None);
            });
        }

        let mut provider = JavaProvider {
            child: guard,
            dubbo_port,
            tri_port,
            stderr,
        };
        let deadline = Instant::now() + opts.ready_timeout;
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match ready_rx.recv_timeout(wait.min(Duration::from_millis(500))) {
                Ok(Some(line)) => {
                    let expected = match tri_port {
                        Some(tri) => format!("READY dubbo={dubbo_port} tri={tri}"),
                        None => format!("READY dubbo={dubbo_port}"),
                    };
                    if line.trim() != expected {
                        bail!(
                            "provider announced {line:?}, expected {expected:?}\n{}",
                            provider.stderr_tail(40)
                        );
                    }
                    return Ok(provider);
                }
                Ok(None) | Err(RecvTimeoutError::Disconnected) => {
                    // stdout closed: give stderr a moment to be collected for the message.
                    thread::sleep(Duration::from_millis(200));
                    let status = match provider.child.try_wait() {
                        Ok(Some(status)) => status.to_string(),
                        _ => "closed its stdout".to_string(),
                    };
                    bail!(
                        "Java provider exited before READY ({status}): {described}\nlast stderr lines:\n{}",
                        provider.stderr_tail(40)
                    );
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = provider.child.try_wait() {
                        thread::sleep(Duration::from_millis(200));
                        bail!(
                            "Java provider exited before READY ({status}): {described}\nlast stderr lines:\n{}",
                            provider.stderr_tail(40)
                        );
                    }
                    if Instant::now() >= deadline {
                        provider.stop();
                        bail!(
                            "Java provider printed no READY line within {:?}: {described}\nlast stderr lines:\n{}",
                            opts.ready_timeout,
                            provider.stderr_tail(40)
                        );
                    }
                }
            }
        }
    }

    /// The dubbo protocol address, `127.0.0.1:<port>`.
    pub fn dubbo_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.dubbo_port))
    }

    /// The Triple address when the provider was started with [`ProviderOptions::tri`].
    pub fn tri_addr(&self) -> Option<SocketAddr> {
        self.tri_port
            .map(|port| SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    }

    /// The JVM's process id.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// The last `n` lines the JVM wrote on stderr (its log), for assertion messages.
    pub fn stderr_tail(&self, n: usize) -> String {
        let lines = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        let skip = lines.len().saturating_sub(n);
        lines
            .iter()
            .skip(skip)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Kills the JVM (by PID) and waits for it. Dropping the handle does the same.
    pub fn stop(&mut self) {
        self.child.stop();
    }
}

fn java_binary() -> PathBuf {
    match std::env::var_os("JAVA_HOME") {
        Some(home) if Path::new(&home).join("bin/java").is_file() => {
            Path::new(&home).join("bin/java")
        }
        _ => PathBuf::from("java"),
    }
}

/// The `tests/interop` directory.
pub fn interop_dir() -> PathBuf {
    crate::workspace_root().join("tests/interop")
}

/// Checks for Java 17+ and Maven; the error says how to install them.
pub fn check_tools() -> anyhow::Result<()> {
    let java = run_with_timeout(
        Command::new(java_binary()).arg("-version"),
        Duration::from_secs(60),
    )
    .map_err(|err| anyhow::anyhow!("`java -version` failed ({err:#}). {JAVA_HINT}"))?;
    if !java.status.success() {
        bail!("`java -version` exited with {}. {JAVA_HINT}", java.status);
    }
    // `java -version` prints e.g. `openjdk version "17.0.15" 2025-04-15` on stderr.
    let text = format!("{}{}", java.stderr, java.stdout);
    let major = text
        .split('"')
        .nth(1)
        .and_then(|v| v.split(['.', '-', '+']).next())
        .and_then(|v| v.parse::<u32>().ok());
    match major {
        Some(major) if major >= 17 => {}
        other => bail!(
            "Java 17 or newer is needed, found {other:?} ({}). {JAVA_HINT}",
            text.lines().next().unwrap_or("")
        ),
    }
    let mvn = run_with_timeout(Command::new("mvn").arg("-v"), Duration::from_secs(60))
        .map_err(|err| anyhow::anyhow!("`mvn -v` failed ({err:#}). {JAVA_HINT}"))?;
    if !mvn.status.success() {
        bail!("`mvn -v` exited with {}. {JAVA_HINT}", mvn.status);
    }
    Ok(())
}

/// Builds `tests/interop` once per process; across processes a file lock serialises the builds
/// and `build.sh` skips work that is up to date. Returns the interop directory.
pub fn ensure_built() -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_locked().map_err(|err| format!("{err:#}")))
        .clone()
        .map_err(|err| anyhow::anyhow!(err))
}

fn build_locked() -> anyhow::Result<PathBuf> {
    check_tools()?;
    let dir = interop_dir();
    let script = dir.join("build.sh");
    if !script.is_file() {
        bail!("{} is missing", script.display());
    }
    let target = dir.join("target");
    fs::create_dir_all(&target).with_context(|| format!("creating {}", target.display()))?;
    let lock_path = target.join(".tianlu-build.lock");
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    let mut lock = fd_lock::RwLock::new(lock_file);
    // Blocks while another test process builds; released when the guard drops (or we exit).
    let _guard = lock
        .write()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    let out = run_with_timeout(
        Command::new("bash").arg(&script).current_dir(&dir),
        BUILD_TIMEOUT,
    )
    .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed ({}):\n{}\n{}",
            script.display(),
            out.status,
            tail(&out.stdout, 60),
            tail(&out.stderr, 60)
        );
    }
    for needed in [
        "target/classes/org/tianlu/interop/ProviderMain.class",
        "target/lib",
    ] {
        if !dir.join(needed).exists() {
            bail!("{} succeeded but {needed} is missing", script.display());
        }
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_args_carry_every_option() {
        let opts = ProviderOptions::default()
            .app("app1")
            .name("n1")
            .registry("zookeeper://127.0.0.1:2181")
            .generic_exception(GenericExceptionMode::Raw);
        let args = opts.program_args(20880, Some(50051));
        let joined = args.join(" ");
        assert!(
            joined.starts_with("--dubbo-port 20880 --tri-port 50051"),
            "{joined}"
        );
        assert!(joined.contains("--app app1"), "{joined}");
        assert!(joined.contains("--name n1"), "{joined}");
        assert!(
            joined.contains("--registry zookeeper://127.0.0.1:2181"),
            "{joined}"
        );
        assert!(joined.contains("--generic-exception raw"), "{joined}");
        assert!(joined.ends_with("--exit-on-stdin-eof"), "{joined}");
    }

    #[test]
    fn default_args_are_minimal() {
        let args = ProviderOptions::default().program_args(1234, None);
        assert_eq!(
            args,
            [
                "--dubbo-port",
                "1234",
                "--generic-exception",
                "wrapped",
                "--exit-on-stdin-eof"
            ]
        );
    }
}
