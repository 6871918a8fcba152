//! A minimal Redis client (RESP2) for the distributed rate limiter: one pipelined TCP
//! connection per client, owned by a background task; callers queue commands and wait for their
//! reply up to a short timeout. Replies come back in command order, so waiters are a FIFO.
//!
//! When the connection cannot be made, commands fail at once for a second before the next
//! attempt, so an unreachable Redis costs callers no waiting (they fall back immediately).

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// How long commands fail fast after a failed connection attempt.
const RETRY_CONNECT_AFTER: Duration = Duration::from_secs(1);
/// Commands queued for the connection task; more fail as unavailable.
const QUEUE: usize = 4096;
/// Waiters on one connection before it is considered stuck.
const MAX_IN_FLIGHT: usize = 4096;
/// Largest bulk string accepted in a reply.
const MAX_BULK: usize = 1 << 20;

/// One RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`.
    Simple(String),
    /// `:42`.
    Int(i64),
    /// `$…` (None = nil).
    Bulk(Option<Vec<u8>>),
    /// `*…` (None = nil).
    Array(Option<Vec<Reply>>),
    /// `-ERR …`.
    Error(String),
}

/// A failed command.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RedisError {
    /// No connection (refused, reset, still failing since the last attempt).
    #[error("redis unavailable: {0}")]
    Unavailable(String),
    /// No reply within the timeout.
    #[error("redis did not answer within {}ms", .0.as_millis())]
    Timeout(Duration),
    /// The reply could not be read.
    #[error("redis protocol error: {0}")]
    Protocol(String),
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct RedisTarget {
    /// `host:port`.
    pub addr: String,
    /// Database number (SELECT when not 0).
    pub db: u32,
    /// AUTH password.
    pub password: Option<String>,
    /// Longest wait for a connection or a reply.
    pub timeout: Duration,
}

struct Job {
    cmd: Vec<u8>,
    reply: oneshot::Sender<Result<Reply, RedisError>>,
}

/// A Redis client; cheap to share behind an `Arc`.
pub struct RedisClient {
    target: RedisTarget,
    jobs: OnceLock<mpsc::Sender<Job>>,
    timeout: Duration,
}

/// Encodes a command as a RESP array of bulk strings.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

async fn read_line(r: &mut BufReader<OwnedReadHalf>) -> Result<String, RedisError> {
    let mut line = Vec::new();
    let n = r
        .read_until(b'\n', &mut line)
        .await
        .map_err(|e| RedisError::Unavailable(e.to_string()))?;
    if n == 0 {
        return Err(RedisError::Unavailable("connection closed".into()));
    }
    if !line.ends_with(b"\r\n") || line.len() > MAX_BULK {
        return Err(RedisError::Protocol("bad line".into()));
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).map_err(|_| RedisError::Protocol("line is not UTF-8".into()))
}

fn number(s: &str) -> Result<i64, RedisError> {
    s.parse()
        .map_err(|_| RedisError::Protocol(format!("bad number {s:?}")))
}

/// Reads one reply (arrays nest up to a small depth).
fn read_reply(
    r: &mut BufReader<OwnedReadHalf>,
    depth: u8,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Reply, RedisError>> + Send + '_>> {
    Box::pin(async move {
        let line = read_line(r).await?;
        let (kind, rest) = line.split_at(line.len().min(1));
        Ok(match kind {
            "+" => Reply::Simple(rest.to_owned()),
            "-" => Reply::Error(rest.to_owned()),
            ":" => Reply::Int(number(rest)?),
            "$" => {
                let n = number(rest)?;
                if n < 0 {
                    return Ok(Reply::Bulk(None));
                }
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if n > MAX_BULK {
                    return Err(RedisError::Protocol("bulk string too large".into()));
                }
                let mut buf = vec![0u8; n + 2];
                r.read_exact(&mut buf)
                    .await
                    .map_err(|e| RedisError::Unavailable(e.to_string()))?;
                buf.truncate(n);
                Reply::Bulk(Some(buf))
            }
            "*" => {
                let n = number(rest)?;
                if n < 0 {
                    return Ok(Reply::Array(None));
                }
                if depth > 4 || n > 1024 {
                    return Err(RedisError::Protocol("array too deep or large".into()));
                }
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(read_reply(r, depth + 1).await?);
                }
                Reply::Array(Some(items))
            }
            _ => return Err(RedisError::Protocol(format!("unknown reply {line:?}"))),
        })
    })
}

/// Connects, authenticates and selects the database.
async fn connect(
    t: &RedisTarget,
) -> Result<(BufReader<OwnedReadHalf>, tokio::net::tcp::OwnedWriteHalf), RedisError> {
    let stream = TcpStream::connect(&t.addr)
        .await
        .map_err(|e| RedisError::Unavailable(format!("{}: {e}", t.addr)))?;
    let _ = stream.set_nodelay(true);
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut setup: Vec<Vec<u8>> = Vec::new();
    if let Some(p) = &t.password {
        setup.push(encode(&[b"AUTH", p.as_bytes()]));
    }
    if t.db != 0 {
        setup.push(encode(&[b"SELECT", t.db.to_string().as_bytes()]));
    }
    for cmd in setup {
        w.write_all(&cmd)
            .await
            .map_err(|e| RedisError::Unavailable(e.to_string()))?;
        if let Reply::Error(e) = read_reply(&mut r, 0).await? {
            return Err(RedisError::Unavailable(format!(
                "connection set-up refused: {e}"
            )));
        }
    }
    Ok((r, w))
}

/// Serves jobs on one connection until it breaks (Err) or every client is gone (Ok).
async fn serve(
    t: &RedisTarget,
    jobs: &mut mpsc::Receiver<Job>,
    first: Job,
) -> Result<(), RedisError> {
    let (mut r, mut w) = match tokio::time::timeout(t.timeout, connect(t)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            let _ = first.reply.send(Err(e.clone()));
            return Err(e);
        }
        Err(_) => {
            let e = RedisError::Unavailable(format!("{}: connect timed out", t.addr));
            let _ = first.reply.send(Err(e.clone()));
            return Err(e);
        }
    };
    // The reader runs in its own task so that a half-read reply is never cancelled.
    let (reply_tx, mut replies) = mpsc::channel::<Result<Reply, RedisError>>(64);
    let reader = tokio::spawn(async move {
        loop {
            let reply = read_reply(&mut r, 0).await;
            let stop = reply.is_err();
            if reply_tx.send(reply).await.is_err() || stop {
                return;
            }
        }
    });
    let mut waiting: VecDeque<oneshot::Sender<Result<Reply, RedisError>>> = VecDeque::new();
    let mut next = Some(first);
    let result = loop {
        if let Some(job) = next.take() {
            if let Err(e) = w.write_all(&job.cmd).await {
                let e = RedisError::Unavailable(e.to_string());
                let _ = job.reply.send(Err(e.clone()));
                break Err(e);
            }
            waiting.push_back(job.reply);
            if waiting.len() > MAX_IN_FLIGHT {
                break Err(RedisError::Unavailable("redis stopped answering".into()));
            }
        }
        tokio::select! {
            job = jobs.recv() => match job {
                Some(job) => next = Some(job),
                None => break Ok(()),
            },
            reply = replies.recv() => match reply {
                Some(Ok(reply)) => {
                    if let Some(waiter) = waiting.pop_front() {
                        let _ = waiter.send(Ok(reply));
                    }
                }
                Some(Err(e)) => break Err(e),
                None => break Err(RedisError::Unavailable("reader ended".into())),
            },
        }
    };
    reader.abort();
    if let Err(e) = &result {
        for waiter in waiting {
            let _ = waiter.send(Err(e.clone()));
        }
    }
    result
}

impl RedisClient {
    /// A client for `target`; the connection task starts, and connects, on first use (so a
    /// client can be built outside a tokio runtime, as `tianlu validate` does).
    pub fn new(target: RedisTarget) -> RedisClient {
        RedisClient {
            timeout: target.timeout,
            target,
            jobs: OnceLock::new(),
        }
    }

    fn start(target: RedisTarget) -> mpsc::Sender<Job> {
        let (tx, mut rx) = mpsc::channel::<Job>(QUEUE);
        tokio::spawn(async move {
            let mut down_until: Option<Instant> = None;
            while let Some(job) = rx.recv().await {
                if down_until.is_some_and(|t| Instant::now() < t) {
                    let _ = job.reply.send(Err(RedisError::Unavailable(format!(
                        "{}: not reachable",
                        target.addr
                    ))));
                    continue;
                }
                match serve(&target, &mut rx, job).await {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::debug!(error = %e, "redis connection lost");
                        down_until = Some(Instant::now() + RETRY_CONNECT_AFTER);
                    }
                }
            }
        });
        tx
    }

    /// Sends one command and waits for its reply.
    pub async fn call(&self, args: &[&[u8]]) -> Result<Reply, RedisError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .get_or_init(|| Self::start(self.target.clone()))
            .try_send(Job {
                cmd: encode(args),
                reply: tx,
            })
            .map_err(|_| RedisError::Unavailable("too many commands queued".into()))?;
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(RedisError::Unavailable("connection task ended".into())),
            Err(_) => Err(RedisError::Timeout(self.timeout)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_resp_arrays() {
        assert_eq!(
            encode(&[b"GET", b"k"]),
            b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".to_vec()
        );
    }

    #[test]
    fn clients_can_be_built_outside_a_runtime() {
        let _ = RedisClient::new(RedisTarget {
            addr: "127.0.0.1:1".into(),
            db: 0,
            password: None,
            timeout: Duration::from_millis(10),
        });
    }

    #[tokio::test]
    async fn unreachable_redis_fails_fast() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = RedisClient::new(RedisTarget {
            addr: format!("127.0.0.1:{port}"),
            db: 0,
            password: None,
            timeout: Duration::from_secs(5),
        });
        for _ in 0..3 {
            assert!(matches!(
                c.call(&[b"PING"]).await,
                Err(RedisError::Unavailable(_))
            ));
        }
    }
}
