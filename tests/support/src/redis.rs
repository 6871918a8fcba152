//! A real Redis server (Debian's `redis-server`) on a free 127.0.0.1 port, for the distributed
//! rate-limit tests.
//!
//! [`Redis::start`] runs `redis-server` in the foreground with no persistence, bound to
//! loopback, and waits until it answers `PING` with `+PONG`. The process is killed by its PID on
//! [`Redis::stop`] or drop. A missing `redis-server` is an error telling how to install it
//! (`apt-get install redis-server`; `scripts/test.sh` installs it).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::ports::free_port;
use crate::process::ChildGuard;

/// What to tell the developer when Redis is missing.
pub const REDIS_HINT: &str = "redis-server is required: apt-get install redis-server";

/// A running Redis.
pub struct Redis {
    /// Its address.
    pub addr: SocketAddr,
    child: ChildGuard,
}

fn ping(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

impl Redis {
    /// Starts a fresh server on a free port.
    pub fn start() -> anyhow::Result<Redis> {
        let port = free_port()?;
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!("{REDIS_HINT}"),
            Err(e) => return Err(e).context("starting redis-server"),
        };
        let mut redis = Redis {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child: ChildGuard::new(child),
        };
        let until = Instant::now() + Duration::from_secs(20);
        while !ping(redis.addr) {
            if let Some(status) = redis.child.try_wait()? {
                bail!("redis-server exited at start-up ({status}); {REDIS_HINT}");
            }
            if Instant::now() > until {
                bail!(
                    "redis-server on {} did not answer PING within 20s",
                    redis.addr
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
        Ok(redis)
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Kills the server (by PID) and waits for it.
    pub fn stop(&mut self) {
        self.child.stop();
    }
}
