//! A real ZooKeeper server (Debian's `zookeeper` 3.8 package) as a child JVM on 127.0.0.1.
//!
//! [`ZooKeeper::start`] writes a `zoo.cfg` (loopback only, short ticks so that session timeouts
//! of 1-10 s are allowed, `ruok` enabled, no admin server) into a fresh scratch directory, starts
//! `org.apache.zookeeper.server.ZooKeeperServerMain` through a tiny launcher that also halts the
//! JVM when our end of its stdin closes (so a server held in a `static` never outlives the test
//! process), and waits until it answers `ruok` with `imok`.
//!
//! [`ZooKeeper::stop`] kills the JVM by its PID; [`ZooKeeper::restart`] starts it again on the
//! same port with the same data directory, so sessions and persistent nodes survive, which is
//! what registry-outage tests need.
//!
//! A missing ZooKeeper is an error telling how to install it (`apt-get install zookeeper`).

use std::collections::VecDeque;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::ports::free_port;
use crate::process::ChildGuard;

/// What to tell the developer when ZooKeeper (or Java) is missing.
pub const ZOOKEEPER_HINT: &str =
    "ZooKeeper 3.8 and Java 17 are required: apt-get install zookeeper openjdk-17-jdk-headless";

/// Where Debian installs the ZooKeeper jars.
const JAVA_SHARE: &str = "/usr/share/java";

/// The jars ZooKeeperServerMain needs (checked one by one so the error names the missing one).
const JARS: [&str; 4] = [
    "zookeeper.jar",
    "zookeeper-jute.jar",
    "slf4j-api.jar",
    "slf4j-simple.jar",
];

/// The launcher: halts the JVM on stdin EOF, then runs the server's own main().
const LAUNCHER: &str = r#"
public final class TianluZkLauncher {
    public static void main(String[] args) throws Exception {
        Thread watch = new Thread(() -> {
            try {
                byte[] buf = new byte[64];
                while (System.in.read(buf) >= 0) { }
            } catch (Exception ignored) { }
            Runtime.getRuntime().halt(0);
        }, "stdin-watch");
        watch.setDaemon(true);
        watch.start();
        org.apache.zookeeper.server.ZooKeeperServerMain.main(args);
    }
}
"#;

/// ZooKeeper's tick in milliseconds: sessions may last 2..20 ticks (1 s .. 10 s).
pub const TICK_MS: u64 = 500;

/// How long start-up may take before we give up.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How many log lines of the server are kept for error messages.
const LOG_LINES: usize = 200;

/// A scratch directory removed (recursively) on drop.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// A new empty directory under the system temp dir, named `tianlu-{prefix}-{pid}-{n}`.
    pub fn new(prefix: &str) -> anyhow::Result<ScratchDir> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "tianlu-{prefix}-{}-{n}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        if path.exists() {
            fs::remove_dir_all(&path).with_context(|| format!("clearing {}", path.display()))?;
        }
        fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(ScratchDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// A running (or stopped, restartable) ZooKeeper server on `127.0.0.1:port`.
#[derive(Debug)]
pub struct ZooKeeper {
    child: Option<ChildGuard>,
    port: u16,
    dir: ScratchDir,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl ZooKeeper {
    /// Starts a fresh server on a free port and waits until it answers `ruok`.
    pub fn start() -> anyhow::Result<ZooKeeper> {
        check_installed()?;
        let mut last_error = None;
        for _attempt in 0..3 {
            let dir = ScratchDir::new("zk")?;
            let port = free_port()?;
            let mut zk = ZooKeeper {
                child: None,
                port,
                dir,
                log: Arc::new(Mutex::new(VecDeque::new())),
            };
            zk.write_config()?;
            match zk.spawn() {
                Ok(()) => return Ok(zk),
                Err(err) => {
                    let clash = format!("{err:#}").contains("Address already in use");
                    last_error = Some(err);
                    if !clash {
                        break;
                    }
                }
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("ZooKeeper did not start")))
    }

    /// One server per test binary, started on first use; it lives until the process exits (it
    /// halts by itself when our stdin pipe to it closes). Tests sharing it must use their own
    /// paths (e.g. their own interface names) and must not stop it.
    pub fn shared() -> anyhow::Result<&'static ZooKeeper> {
        static SHARED: OnceLock<Result<ZooKeeper, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| ZooKeeper::start().map_err(|err| format!("{err:#}")))
            .as_ref()
            .map_err(|err| anyhow::anyhow!("shared ZooKeeper failed to start: {err}"))
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// The connect string for ZooKeeper clients, `127.0.0.1:<port>`.
    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The Dubbo registry URL, `zookeeper://127.0.0.1:<port>`.
    pub fn registry_url(&self) -> String {
        format!("zookeeper://127.0.0.1:{}", self.port)
    }

    /// The server JVM's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(ChildGuard::pid)
    }

    /// True while the server process runs.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the server (SIGKILL, by PID) and waits for it: clients see a dropped connection,
    /// sessions stay in the data directory. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.stop();
        }
    }

    /// Stops the server if it runs, then starts it again on the same port and data directory.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        // The port was ours a moment ago; give the kernel a few tries to release it.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.spawn() {
                Ok(()) => return Ok(()),
                Err(err)
                    if format!("{err:#}").contains("Address already in use")
                        && Instant::now() < deadline =>
                {
                    thread::sleep(Duration::from_millis(300));
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// The last `n` lines the server logged.
    pub fn log_tail(&self, n: usize) -> String {
        let lines = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let skip = lines.len().saturating_sub(n);
        lines
            .iter()
            .skip(skip)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn write_config(&self) -> anyhow::Result<()> {
        let data = self.dir.path().join("data");
        fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
        let cfg = format!(
            "tickTime={TICK_MS}\n\
             minSessionTimeout={}\n\
             maxSessionTimeout={}\n\
             dataDir={}\n\
             clientPort={}\n\
             clientPortAddress=127.0.0.1\n\
             maxClientCnxns=0\n\
             admin.enableServer=false\n\
             4lw.commands.whitelist=ruok,srvr,stat\n",
            2 * TICK_MS,
            20 * TICK_MS,
            data.display(),
            self.port
        );
        let path = self.dir.path().join("zoo.cfg");
        fs::write(&path, cfg).with_context(|| format!("writing {}", path.display()))?;
        let launcher = self.dir.path().join("TianluZkLauncher.java");
        fs::write(&launcher, LAUNCHER).with_context(|| format!("writing {}", launcher.display()))
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let classpath = JARS
            .iter()
            .map(|jar| format!("{JAVA_SHARE}/{jar}"))
            .collect::<Vec<_>>()
            .join(":");
        let mut cmd = Command::new(java_binary());
        cmd.args([
            "-Xmx128m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.net.preferIPv4Stack=true",
            "-Dzookeeper.admin.enableServer=false",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.ZooKeeperServerMain=info",
        ])
        .arg("-cp")
        .arg(&classpath)
        .arg(self.dir.path().join("TianluZkLauncher.java"))
        .arg(self.dir.path().join("zoo.cfg"))
        .current_dir(self.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let described = format!("{cmd:?}");
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting ZooKeeper: {described}\n{ZOOKEEPER_HINT}"))?;
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let sink = Arc::clone(&self.log);
            let port = self.port;
            let echo = std::env::var_os("TIANLU_ZK_LOG").is_some();
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if echo {
                        eprintln!("[zk {port}] {line}");
                    }
                    let mut lines = sink.lock().unwrap_or_else(|p| p.into_inner());
                    if lines.len() == LOG_LINES {
                        lines.pop_front();
                    }
                    lines.push_back(line);
                }
            });
        }
        self.child = Some(ChildGuard::new(child));

        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if ruok(self.port) {
                return Ok(());
            }
            let exited = match self.child.as_mut() {
                Some(child) => child.try_wait().ok().flatten(),
                None => None,
            };
            if let Some(status) = exited {
                thread::sleep(Duration::from_millis(200));
                self.child = None;
                bail!(
                    "ZooKeeper exited before answering ruok ({status}): {described}\n{}\n{ZOOKEEPER_HINT}",
                    self.log_tail(40)
                );
            }
            if Instant::now() >= deadline {
                self.stop();
                bail!(
                    "ZooKeeper did not answer ruok within {READY_TIMEOUT:?}: {described}\n{}",
                    self.log_tail(40)
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

/// True when the server on `port` answers the `ruok` four-letter word with `imok`.
pub fn ruok(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"ruok").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.trim() == "imok"
}

/// Checks that Java and Debian's ZooKeeper jars are there; the error says how to install them.
pub fn check_installed() -> anyhow::Result<()> {
    for jar in JARS {
        let path = Path::new(JAVA_SHARE).join(jar);
        if !path.exists() {
            bail!("{} is missing. {ZOOKEEPER_HINT}", path.display());
        }
    }
    let out = crate::process::run_with_timeout(
        Command::new(java_binary()).arg("-version"),
        Duration::from_secs(60),
    )
    .map_err(|err| anyhow::anyhow!("`java -version` failed ({err:#}). {ZOOKEEPER_HINT}"))?;
    if !out.status.success() {
        bail!(
            "`java -version` exited with {}. {ZOOKEEPER_HINT}",
            out.status
        );
    }
    Ok(())
}

/// `$JAVA_HOME/bin/java` when that exists, else `java` from the PATH.
pub(crate) fn java_binary() -> PathBuf {
    match std::env::var_os("JAVA_HOME") {
        Some(home) if Path::new(&home).join("bin/java").is_file() => {
            Path::new(&home).join("bin/java")
        }
        _ => PathBuf::from("java"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_dirs_are_distinct_and_removed() {
        let a = ScratchDir::new("t").unwrap();
        let b = ScratchDir::new("t").unwrap();
        assert_ne!(a.path(), b.path());
        let kept = a.path().to_path_buf();
        assert!(kept.is_dir());
        drop(a);
        assert!(!kept.exists());
    }

    #[test]
    fn ruok_is_false_without_a_server() {
        let port = free_port().unwrap();
        assert!(!ruok(port));
    }
}
