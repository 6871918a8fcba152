//! A real Nacos-compatible server — `rnacos`, the Rust re-implementation from crates.io — as a
//! child process on 127.0.0.1.
//!
//! The binary is looked up, in order, at `$TIANLU_RNACOS`, `<repo>/.cache/rnacos/bin/rnacos`
//! ([`RNACOS_ROOT`] under the workspace root, git-ignored), `~/.cache/tianlu/rnacos/bin/rnacos`
//! (a per-machine cache that survives fresh clones, e.g. for CI), `~/.cargo/bin/rnacos` and
//! `rnacos` on the `PATH`. When none exists it is **installed** into `<repo>/.cache/rnacos` with
//! `cargo install --locked rnacos --version` [`RNACOS_VERSION`] (about 16 minutes cold on 2
//! cores; a file lock keeps parallel test binaries from installing twice).
//!
//! [`Nacos::start`] picks a free HTTP port `P` whose `P + 1000` is free too (Nacos clients,
//! Java's included, derive the gRPC port as HTTP + 1000), plus a console port, binds everything
//! to 127.0.0.1 (`RNACOS_SDK_HOST`, `RNACOS_CONSOLE_HOST`), keeps its data in a scratch dir
//! (`RNACOS_DATA_DIR`) and waits until the open API answers. [`Nacos::stop`] kills it by PID;
//! [`Nacos::restart`] brings it back on the same ports and data dir. rnacos ignores stdin, so a
//! small `sh` watchdog per server kills exactly that PID when the test process goes away (its
//! stdin pipe closes); that keeps a server held in a `static` ([`Nacos::shared`]) from
//! outliving the tests.

use std::collections::VecDeque;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::ports::free_port;
use crate::process::{run_with_timeout, tail, ChildGuard};
use crate::zookeeper::ScratchDir;

/// The rnacos version installed when no binary is found.
pub const RNACOS_VERSION: &str = "0.8.8";

/// Where the binary is cached, relative to the workspace root (`/.cache` is git-ignored).
pub const RNACOS_ROOT: &str = ".cache/rnacos";

/// How to get rnacos by hand.
pub const RNACOS_HINT: &str = "rnacos is needed: cargo install --locked rnacos --version 0.8.8 \
     --root <repo>/.cache/rnacos (about 16 minutes on 2 cores), or set TIANLU_RNACOS to a binary";

/// How long the automatic install may take.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(45 * 60);

/// How long start-up may take.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How many log lines are kept for error messages.
const LOG_LINES: usize = 200;

/// A running (or stopped, restartable) rnacos server.
#[derive(Debug)]
pub struct Nacos {
    child: Option<ChildGuard>,
    watchdog: Option<ChildGuard>,
    binary: PathBuf,
    http_port: u16,
    grpc_port: u16,
    console_port: u16,
    dir: ScratchDir,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl Nacos {
    /// Finds (or installs) rnacos, starts it on free ports and waits until it serves.
    pub fn start() -> anyhow::Result<Nacos> {
        let binary = ensure_installed()?;
        let mut last_error = None;
        for _attempt in 0..3 {
            let (http_port, grpc_port) = port_pair()?;
            let mut nacos = Nacos {
                child: None,
                watchdog: None,
                binary: binary.clone(),
                http_port,
                grpc_port,
                console_port: free_port()?,
                dir: ScratchDir::new("nacos")?,
                log: Arc::new(Mutex::new(VecDeque::new())),
            };
            match nacos.spawn() {
                Ok(()) => return Ok(nacos),
                Err(err) => {
                    let text = format!("{err:#}");
                    let clash = text.contains("Address already in use")
                        || text.contains("in use")
                        || text.contains(PANICKED);
                    last_error = Some(err);
                    if !clash {
                        break;
                    }
                }
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("rnacos did not start")))
    }

    /// One server per test binary, started on first use and killed when the test process exits.
    /// Tests sharing it must use their own service names and must not stop it.
    pub fn shared() -> anyhow::Result<&'static Nacos> {
        static SHARED: OnceLock<Result<Nacos, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| Nacos::start().map_err(|err| format!("{err:#}")))
            .as_ref()
            .map_err(|err| anyhow::anyhow!("shared rnacos failed to start: {err}"))
    }

    /// The HTTP (open API) port; Nacos clients take it as the server port.
    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    /// The gRPC port, always `http_port() + 1000`.
    pub fn grpc_port(&self) -> u16 {
        self.grpc_port
    }

    /// The console port.
    pub fn console_port(&self) -> u16 {
        self.console_port
    }

    /// `127.0.0.1:<http port>`, the server address for Nacos clients.
    pub fn server_addr(&self) -> String {
        format!("127.0.0.1:{}", self.http_port)
    }

    /// The Dubbo registry URL, `nacos://127.0.0.1:<http port>`.
    pub fn registry_url(&self) -> String {
        format!("nacos://127.0.0.1:{}", self.http_port)
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(ChildGuard::pid)
    }

    /// Kills the server by its PID and waits for it. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.stop();
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            watchdog.stop();
        }
    }

    /// Stops the server if it runs and starts it again on the same ports and data dir.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.spawn() {
                Ok(()) => return Ok(()),
                Err(err)
                    if (format!("{err:#}").contains("in use")
                        || format!("{err:#}").contains(PANICKED))
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

    /// Publishes a config through the v1 open API (`POST /nacos/v1/cs/configs`).
    pub fn publish_config(&self, data_id: &str, group: &str, content: &str) -> anyhow::Result<()> {
        let body = format!(
            "dataId={}&group={}&content={}",
            form_encode(data_id),
            form_encode(group),
            form_encode(content)
        );
        let (status, text) = http(self.http_port, "POST", "/nacos/v1/cs/configs", Some(&body))?;
        if status != 200 || text.trim() != "true" {
            bail!("publishing config {data_id}/{group} answered {status}: {text}");
        }
        Ok(())
    }

    /// Removes a config through the v1 open API.
    pub fn remove_config(&self, data_id: &str, group: &str) -> anyhow::Result<()> {
        let path = format!(
            "/nacos/v1/cs/configs?dataId={}&group={}",
            form_encode(data_id),
            form_encode(group)
        );
        let (status, text) = http(self.http_port, "DELETE", &path, None)?;
        if status != 200 {
            bail!("removing config {data_id}/{group} answered {status}: {text}");
        }
        Ok(())
    }

    /// The raw JSON of `GET /nacos/v1/ns/instance/list` for a service (all instances).
    pub fn instance_list_json(&self, service: &str, group: &str) -> anyhow::Result<String> {
        let path = format!(
            "/nacos/v1/ns/instance/list?serviceName={}&groupName={}&healthyOnly=false",
            form_encode(service),
            form_encode(group)
        );
        let (status, text) = http(self.http_port, "GET", &path, None)?;
        if status != 200 {
            bail!("listing instances of {group}@@{service} answered {status}: {text}");
        }
        Ok(text)
    }

    /// The raw JSON of `GET /nacos/v1/ns/service/list` for a group (first 1000 names).
    pub fn service_list_json(&self, group: &str) -> anyhow::Result<String> {
        let path = format!(
            "/nacos/v1/ns/service/list?pageNo=1&pageSize=1000&groupName={}",
            form_encode(group)
        );
        let (status, text) = http(self.http_port, "GET", &path, None)?;
        if status != 200 {
            bail!("listing services of {group} answered {status}: {text}");
        }
        Ok(text)
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let data = self.dir.path().join("data");
        fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
        let mut cmd = Command::new(&self.binary);
        cmd.env("RNACOS_HTTP_PORT", self.http_port.to_string())
            .env("RNACOS_GRPC_PORT", self.grpc_port.to_string())
            .env("RNACOS_HTTP_CONSOLE_PORT", self.console_port.to_string())
            .env("RNACOS_SDK_HOST", "127.0.0.1")
            .env("RNACOS_CONSOLE_HOST", "127.0.0.1")
            .env("RNACOS_DATA_DIR", &data)
            .env(
                "RNACOS_RAFT_NODE_ADDR",
                format!("127.0.0.1:{}", self.grpc_port),
            )
            .env("RNACOS_HTTP_WORKERS", "2")
            .env("RUST_LOG", "warn")
            // rnacos reads `.env` from its working directory: use our empty scratch dir.
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let described = format!("{cmd:?}");
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting rnacos: {described}\n{RNACOS_HINT}"))?;
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
            let port = self.http_port;
            let echo = std::env::var_os("TIANLU_NACOS_LOG").is_some();
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if echo {
                        eprintln!("[rnacos {port}] {line}");
                    }
                    let mut lines = sink.lock().unwrap_or_else(|p| p.into_inner());
                    if lines.len() == LOG_LINES {
                        lines.pop_front();
                    }
                    lines.push_back(line);
                }
            });
        }
        let pid = child.id();
        self.child = Some(ChildGuard::new(child));
        self.watchdog = Some(watchdog(pid)?);

        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            // rnacos 0.8.8 sometimes loses a start-up race in its raft state machine (a thread
            // panics and config writes never apply): such a server is useless, start another.
            if self.log_tail(LOG_LINES).contains("panicked at") {
                thread::sleep(Duration::from_millis(200));
                let tail = self.log_tail(40);
                self.stop();
                bail!("{PANICKED}: {described}\n{tail}");
            }
            if self.serves() && self.config_round_trip() {
                return Ok(());
            }
            let exited = match self.child.as_mut() {
                Some(child) => child.try_wait().ok().flatten(),
                None => None,
            };
            if let Some(status) = exited {
                thread::sleep(Duration::from_millis(200));
                self.stop();
                bail!(
                    "rnacos exited before serving ({status}): {described}\n{}",
                    self.log_tail(40)
                );
            }
            if Instant::now() >= deadline {
                self.stop();
                bail!(
                    "rnacos did not serve within {READY_TIMEOUT:?}: {described}\n{}",
                    self.log_tail(40)
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// True when a config written through the open API reads back (the config store applies
    /// writes).
    fn config_round_trip(&self) -> bool {
        let value = format!("probe-{}", self.http_port);
        if self
            .publish_config("tianlu-probe", "tianlu-probe", &value)
            .is_err()
        {
            return false;
        }
        matches!(
            http(
                self.http_port,
                "GET",
                "/nacos/v1/cs/configs?dataId=tianlu-probe&group=tianlu-probe",
                None
            ),
            Ok((200, text)) if text.trim() == value
        )
    }

    /// True once the gRPC port accepts and the naming open API answers 200.
    fn serves(&self) -> bool {
        let grpc = SocketAddr::from((Ipv4Addr::LOCALHOST, self.grpc_port));
        if TcpStream::connect_timeout(&grpc, Duration::from_millis(300)).is_err() {
            return false;
        }
        matches!(
            http(
                self.http_port,
                "GET",
                "/nacos/v1/ns/service/list?pageNo=1&pageSize=1",
                None
            ),
            Ok((200, _))
        )
    }
}

/// How a start that hit rnacos's start-up panic is reported (and recognised for a retry).
const PANICKED: &str = "rnacos panicked while starting";

impl Drop for Nacos {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A `sh` that kills `pid` (exactly that PID) when its stdin closes, i.e. when the test process
/// is gone; its stdin pipe is held by the returned guard. Dropping the guard kills the watchdog.
fn watchdog(pid: u32) -> anyhow::Result<ChildGuard> {
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("cat >/dev/null; kill -9 {pid} 2>/dev/null"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the rnacos watchdog (sh)")?;
    Ok(ChildGuard::new(child))
}

/// A free HTTP port `P` with `P + 1000` free too.
fn port_pair() -> anyhow::Result<(u16, u16)> {
    for _ in 0..64 {
        let http = free_port()?;
        let Some(grpc) = http.checked_add(1000) else {
            continue;
        };
        if TcpListener::bind((Ipv4Addr::LOCALHOST, grpc)).is_ok() {
            return Ok((http, grpc));
        }
    }
    bail!("no free port pair (P, P+1000) on 127.0.0.1 after 64 attempts")
}

/// Where the binary would be cached inside the repository.
pub fn cached_binary() -> PathBuf {
    crate::workspace_root().join(RNACOS_ROOT).join("bin/rnacos")
}

/// The first rnacos binary found (see the module docs for the order).
pub fn find_binary() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(path) = std::env::var_os("TIANLU_RNACOS") {
        candidates.push(PathBuf::from(path));
    }
    candidates.push(cached_binary());
    if let Some(home) = std::env::var_os("HOME") {
        let home = PathBuf::from(home);
        candidates.push(home.join(".cache/tianlu/rnacos/bin/rnacos"));
        candidates.push(home.join(".cargo/bin/rnacos"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|dir| dir.join("rnacos")));
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// Finds rnacos, installing it into `<repo>/.cache/rnacos` when it is nowhere to be found.
pub fn ensure_installed() -> anyhow::Result<PathBuf> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| install_locked().map_err(|err| format!("{err:#}")))
        .clone()
        .map_err(|err| anyhow::anyhow!(err))
}

fn install_locked() -> anyhow::Result<PathBuf> {
    if let Some(found) = find_binary() {
        return Ok(found);
    }
    let root = crate::workspace_root().join(RNACOS_ROOT);
    fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let lock_path = root.join(".install.lock");
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    let mut lock = fd_lock::RwLock::new(lock_file);
    let _guard = lock
        .write()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    // Another process may have installed it while we waited for the lock.
    if cached_binary().is_file() {
        return Ok(cached_binary());
    }
    eprintln!(
        "tianlu-testkit: rnacos not found; installing rnacos {RNACOS_VERSION} into {} \
         (cargo install --locked; this takes about 16 minutes on 2 cores, once)",
        root.display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = run_with_timeout(
        Command::new("nice")
            .arg("-n")
            .arg("10")
            .arg(cargo)
            .args(["install", "--locked", "rnacos", "--version", RNACOS_VERSION])
            .arg("--root")
            .arg(&root),
        INSTALL_TIMEOUT,
    )
    .with_context(|| format!("installing rnacos. {RNACOS_HINT}"))?;
    if !out.status.success() || !cached_binary().is_file() {
        bail!(
            "cargo install rnacos failed ({}):\n{}\n{RNACOS_HINT}",
            out.status,
            tail(&out.stderr, 40)
        );
    }
    Ok(cached_binary())
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// One HTTP/1.0 request to 127.0.0.1:`port`; returns the status and the body text.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    form_body: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let body = form_body.unwrap_or("");
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
    if form_body.is_some() {
        request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .with_context(|| format!("no HTTP status in {head:?}"))?;
    Ok((status, body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_matches_java() {
        for (input, want) in [
            ("abc", "abc"),
            ("a b", "a+b"),
            ("a=b&c", "a%3Db%26c"),
            ("org.foo.Bar", "org.foo.Bar"),
            ("中", "%E4%B8%AD"),
        ] {
            assert_eq!(form_encode(input), want, "{input}");
        }
    }

    #[test]
    fn port_pairs_are_1000_apart() {
        let (http, grpc) = port_pair().unwrap();
        assert_eq!(grpc, http + 1000);
    }
}
