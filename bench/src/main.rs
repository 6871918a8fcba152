//! `tlbench`: the helpers bench/run.sh needs besides wrk, oha and the gateways themselves.
//!
//! ```text
//! tlbench dubbo   --addr A --scenario echo|pojo [--service S] [--method-echo M] [--pojo FILE]
//!                 [--concurrency N] [--duration S] [--rate R] [--warmup S] [--protocol dubbo|tri]
//!                                                             direct Dubbo2 or Triple client -> provider (the ceiling)
//! tlbench codec   --pojo FILE [--iterations N] [--dump DIR]   hessian2 encode+decode throughput
//! tlbench startup --port P [--repeat N] -- CMD ARGS...        exec -> port accepting, in ms
//! tlbench conns   --addr A --count N --path P [--hold S]      hold N idle keep-alive connections
//! tlbench http-backend --listen A                             tiny HTTP/1.1 keep-alive server
//! ```
//! Every subcommand prints one JSON object on stdout (conns prints `ready` lines instead).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value as Json};
use tianlu_protocol::dubbo::{
    decode_request_body, decode_response_body, encode_request_body, encode_response_body,
    ClientConfig, Endpoint, RpcOutcome, RpcResponse, Status,
};
use tianlu_protocol::hessian2::{ClassDef, List, Map, Value};
use tianlu_protocol::invocation::Invocation;
use tianlu_protocol::triple::{TripleConfig, TripleEndpoint};

/// The direct client: the gateway's own Dubbo2 or Triple connection.
#[derive(Clone)]
enum Direct {
    Dubbo(Endpoint),
    Tri(TripleEndpoint),
}

impl Direct {
    async fn call(
        &self,
        inv: &Invocation,
        timeout: Duration,
    ) -> Result<RpcResponse, tianlu_protocol::dubbo::CallError> {
        match self {
            Direct::Dubbo(e) => e.call(inv, timeout).await,
            Direct::Tri(e) => e.call(inv, timeout).await,
        }
    }
}

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        bail!("usage: tlbench dubbo|codec|startup|conns|http-backend [options] (see src/main.rs)");
    }
    let cmd = args.remove(0);
    match cmd.as_str() {
        "dubbo" => dubbo_load(&Opts::parse(args)?),
        "codec" => codec(&Opts::parse(args)?),
        "startup" => startup(args),
        "conns" => conns(&Opts::parse(args)?),
        "http-backend" => http_backend(&Opts::parse(args)?),
        other => bail!("unknown subcommand {other:?}"),
    }
}

/// `--key value` pairs.
struct Opts(Vec<(String, String)>);

impl Opts {
    fn parse(args: Vec<String>) -> Result<Opts> {
        let mut out = Vec::new();
        let mut it = args.into_iter();
        while let Some(k) = it.next() {
            let key = k
                .strip_prefix("--")
                .ok_or_else(|| anyhow!("expected --option, got {k:?}"))?;
            let v = it.next().ok_or_else(|| anyhow!("{k} needs a value"))?;
            out.push((key.to_string(), v));
        }
        Ok(Opts(out))
    }
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn req(&self, key: &str) -> Result<&str> {
        self.get(key).ok_or_else(|| anyhow!("--{key} is required"))
    }
    fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e| anyhow!("--{key} {v:?}: {e}")),
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    // One worker per CPU the process may use (taskset narrows this).
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// JSON (as the gateway receives it) to the hessian2 value tianlu's `java.lang.Object` conversion
/// produces: objects become untyped maps, integers that fit 32 bits become ints.
fn json_to_value(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => Value::Int(i as i32),
            Some(i) => Value::Long(i),
            None => Value::Double(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::List(List {
            type_name: None,
            items: a.iter().map(json_to_value).collect(),
        }),
        Json::Object(o) => Value::Map(Map {
            type_name: None,
            entries: o
                .iter()
                .map(|(k, v)| (Value::String(k.clone()), json_to_value(v)))
                .collect(),
        }),
    }
}

fn read_pojo(opts: &Opts) -> Result<Json> {
    let path = opts.get("pojo").unwrap_or("bench/data/pojo-4k.json");
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    Ok(serde_json::from_str(&text)?)
}

/// The generic call the gateway makes for each scenario.
fn scenario_invocation(opts: &Opts) -> Result<Invocation> {
    let service = opts
        .get("service")
        .unwrap_or("org.tianlu.sample.EchoService")
        .to_string();
    let version = opts.get("version").map(str::to_string);
    Ok(match opts.get("scenario").unwrap_or("echo") {
        "echo" => Invocation::generic(
            service,
            opts.get("method-echo").unwrap_or("echo"),
            vec!["java.lang.String".into()],
            vec![Value::string("hello")],
        ),
        "pojo" => Invocation::generic(
            service,
            "echoObject",
            vec!["java.lang.Object".into()],
            vec![json_to_value(&read_pojo(opts)?)],
        ),
        other => bail!("unknown scenario {other:?}"),
    }
    .with_version(version))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[idx.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn summary(mut lat_ns: Vec<u64>, errors: u64, secs: f64) -> Json {
    lat_ns.sort_unstable();
    let n = lat_ns.len();
    let mean = if n == 0 {
        0.0
    } else {
        lat_ns.iter().sum::<u64>() as f64 / n as f64 / 1000.0
    };
    json!({
        "requests": n,
        "errors": errors,
        "seconds": secs,
        "rps": n as f64 / secs,
        "mean_us": mean,
        "p50_us": percentile(&lat_ns, 50.0),
        "p99_us": percentile(&lat_ns, 99.0),
        "p999_us": percentile(&lat_ns, 99.9),
        "max_us": lat_ns.last().map_or(0.0, |v| *v as f64 / 1000.0),
    })
}

/// Direct client → provider: `--concurrency` callers in a closed loop on one shared
/// (multiplexed) connection, or with `--rate` an open loop at a fixed rate.
fn dubbo_load(opts: &Opts) -> Result<()> {
    let addr: SocketAddr = opts.req("addr")?.parse()?;
    let inv = Arc::new(scenario_invocation(opts)?);
    let conc: usize = opts.num("concurrency", 16)?;
    let secs: f64 = opts.num("duration", 5.0)?;
    let warmup: f64 = opts.num("warmup", 1.0)?;
    let rate: f64 = opts.num("rate", 0.0)?;
    let protocol = opts.get("protocol").unwrap_or("dubbo").to_string();
    if !matches!(protocol.as_str(), "dubbo" | "tri") {
        bail!("--protocol must be dubbo or tri");
    }
    let rt = runtime()?;
    let out = rt.block_on(async move {
        let ep = match protocol.as_str() {
            "tri" => Direct::Tri(TripleEndpoint::new(
                addr,
                TripleConfig::from(&ClientConfig::default()),
            )),
            _ => Direct::Dubbo(Endpoint::new(addr, ClientConfig::default())),
        };
        let timeout = Duration::from_secs(5);
        // Check the answer before measuring; a provider may open its port before its services
        // are exported, so retry for a while.
        let ready_by = Instant::now() + Duration::from_secs(60);
        loop {
            match ep.call(&inv, timeout).await {
                Ok(r) if matches!(r.outcome, RpcOutcome::Value(_)) => break,
                Ok(r) => bail!("unexpected first answer: {:?}", r.outcome),
                Err(e) if Instant::now() > ready_by => bail!("provider not ready: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
        let phase = |d: f64, record: bool| {
            let ep = ep.clone();
            let inv = inv.clone();
            async move {
                let start = Instant::now();
                let end = start + Duration::from_secs_f64(d);
                let mut lat = Vec::new();
                let mut errors = 0u64;
                if rate > 0.0 {
                    // Open loop: one task per request, started on schedule.
                    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                    let interval = Duration::from_secs_f64(1.0 / rate);
                    let mut next = start;
                    let mut k = 0u64;
                    while next < end {
                        tokio::time::sleep_until(next.into()).await;
                        // Catch up on every request whose time has come (timer granularity).
                        while next <= Instant::now() && next < end {
                            let (ep, inv, tx) = (ep.clone(), inv.clone(), tx.clone());
                            tokio::spawn(async move {
                                let t = Instant::now();
                                let r = ep.call(&inv, timeout).await;
                                let _ = tx.send((t.elapsed().as_nanos() as u64, r.is_ok()));
                            });
                            k += 1;
                            next = start + interval.mul_f64(k as f64);
                        }
                    }
                    drop(tx);
                    while let Some((ns, ok)) = rx.recv().await {
                        if ok {
                            lat.push(ns)
                        } else {
                            errors += 1
                        }
                    }
                } else {
                    let mut tasks = Vec::new();
                    for _ in 0..conc {
                        let (ep, inv) = (ep.clone(), inv.clone());
                        tasks.push(tokio::spawn(async move {
                            let mut lat = Vec::with_capacity(1 << 16);
                            let mut errors = 0u64;
                            while Instant::now() < end {
                                let t = Instant::now();
                                match ep.call(&inv, timeout).await {
                                    Ok(_) => lat.push(t.elapsed().as_nanos() as u64),
                                    Err(_) => errors += 1,
                                }
                            }
                            (lat, errors)
                        }));
                    }
                    for t in tasks {
                        let (l, e) = t.await?;
                        lat.extend(l);
                        errors += e;
                    }
                }
                let secs = start.elapsed().as_secs_f64();
                Ok::<_, anyhow::Error>(if record {
                    Some(summary(lat, errors, secs))
                } else {
                    None
                })
            }
        };
        if warmup > 0.0 {
            phase(warmup, false).await?;
        }
        phase(secs, true).await
    })?;
    println!("{}", out.unwrap_or(Json::Null));
    Ok(())
}

/// The 4 KiB POJO as Java objects: `Order` with an `Address` and a list of `Item`s.
fn pojo_value(j: &Json, class: &str, classes: &mut Vec<Arc<ClassDef>>) -> Value {
    let Json::Object(o) = j else {
        return json_to_value(j);
    };
    let def = match classes.iter().find(|c| c.name == class) {
        Some(c) => c.clone(),
        None => {
            let c = Arc::new(ClassDef::new(class, o.keys().cloned()));
            classes.push(c.clone());
            c
        }
    };
    let values = o
        .iter()
        .map(|(k, v)| match (k.as_str(), v) {
            ("address", _) => pojo_value(v, "org.tianlu.bench.Address", classes),
            ("items", Json::Array(a)) => Value::List(List {
                type_name: None,
                items: a
                    .iter()
                    .map(|x| pojo_value(x, "org.tianlu.bench.Item", classes))
                    .collect(),
            }),
            _ => json_to_value(v),
        })
        .collect();
    Value::object(def, values)
}

/// hessian2 encode + decode throughput of the scenario-1 generic request body and of a response
/// body carrying the 4 KiB POJO (the same values bench/codec/hessian_js.js uses).
fn codec(opts: &Opts) -> Result<()> {
    let n: u64 = opts.num("iterations", 200_000)?;
    let req = Invocation::generic(
        "org.tianlu.sample.EchoService",
        "echo",
        vec!["java.lang.String".into()],
        vec![Value::string("hello")],
    );
    let pojo = pojo_value(&read_pojo(opts)?, "org.tianlu.bench.Order", &mut Vec::new());
    let resp = RpcResponse::value(pojo);

    let mut buf = Vec::new();
    encode_request_body(&req, Some(3000), &mut buf);
    let req_bytes = buf.clone();
    buf.clear();
    encode_response_body(&resp, true, &mut buf);
    let resp_bytes = buf.clone();
    if let Some(dir) = opts.get("dump") {
        std::fs::write(format!("{dir}/rust-request.bin"), &req_bytes)?;
        std::fs::write(format!("{dir}/rust-response.bin"), &resp_bytes)?;
    }
    // Sanity: both decode back to what was encoded.
    let back = decode_request_body(&req_bytes)?;
    if back.args != req.args {
        bail!("request did not round-trip");
    }
    let back = decode_response_body(Status::Ok, &resp_bytes).map_err(|e| anyhow!("{e}"))?;
    if back.outcome != resp.outcome {
        bail!("response did not round-trip");
    }

    let time = |f: &mut dyn FnMut()| {
        for _ in 0..n / 10 {
            f(); // warm-up
        }
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        n as f64 / t.elapsed().as_secs_f64()
    };
    let mut buf = Vec::with_capacity(8192);
    let req_ops = time(&mut || {
        buf.clear();
        encode_request_body(std::hint::black_box(&req), Some(3000), &mut buf);
        let inv = decode_request_body(std::hint::black_box(&buf)).expect("decode");
        std::hint::black_box(inv);
    });
    let resp_ops = time(&mut || {
        buf.clear();
        encode_response_body(std::hint::black_box(&resp), true, &mut buf);
        let r = decode_response_body(Status::Ok, std::hint::black_box(&buf)).expect("decode");
        std::hint::black_box(r);
    });
    println!(
        "{}",
        json!({
            "impl": "tianlu-protocol",
            "iterations": n,
            "request_bytes": req_bytes.len(),
            "response_bytes": resp_bytes.len(),
            "request_ops": req_ops,
            "response_ops": resp_ops,
        })
    );
    Ok(())
}

/// Runs `CMD` `--repeat` times and measures exec → first accepted TCP connect on `--port`.
fn startup(args: Vec<String>) -> Result<()> {
    let sep = args
        .iter()
        .position(|a| a == "--")
        .ok_or_else(|| anyhow!("startup needs -- CMD ARGS"))?;
    let opts = Opts::parse(args[..sep].to_vec())?;
    let cmd = &args[sep + 1..];
    if cmd.is_empty() {
        bail!("no command after --");
    }
    let port: u16 = opts.req("port")?.parse()?;
    let repeat: usize = opts.num("repeat", 5)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut times = Vec::new();
    for _ in 0..repeat {
        let t = Instant::now();
        let mut child = std::process::Command::new(&cmd[0])
            .args(&cmd[1..])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .with_context(|| format!("starting {:?}", cmd[0]))?;
        let mut up = false;
        while t.elapsed() < Duration::from_secs(30) {
            if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(50)).is_ok() {
                up = true;
                break;
            }
            if let Some(status) = child.try_wait()? {
                bail!("{:?} exited with {status} before accepting", cmd[0]);
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        // SIGTERM, then wait; SIGKILL if it lingers.
        let _ = std::process::Command::new("kill")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if !up {
            bail!("{:?} did not accept on port {port} within 30 s", cmd[0]);
        }
        times.push(ms);
        // Let the port leave TIME_WAIT-free state (the listener is gone, nothing lingers).
        std::thread::sleep(Duration::from_millis(100));
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{}",
        json!({"runs": times, "median_ms": times[times.len() / 2], "min_ms": times[0]})
    );
    Ok(())
}

/// Reads one HTTP/1.1 response (Content-Length or chunked) from `s`; `buf` keeps leftovers.
async fn read_response(s: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Result<u16> {
    use tokio::io::AsyncReadExt;
    let mut tmp = [0u8; 8192];
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status: u16 = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let body_start = end + 4;
            if let Some(len) = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
            {
                while buf.len() < body_start + len {
                    let n = s.read(&mut tmp).await?;
                    if n == 0 {
                        bail!("connection closed mid-body");
                    }
                    buf.extend_from_slice(&tmp[..n]);
                }
                buf.drain(..body_start + len);
            } else {
                // chunked: read to the terminating chunk
                loop {
                    if let Some(e) = find(&buf[body_start..], b"0\r\n\r\n") {
                        buf.drain(..body_start + e + 5);
                        break;
                    }
                    let n = s.read(&mut tmp).await?;
                    if n == 0 {
                        bail!("connection closed mid-body");
                    }
                    buf.extend_from_slice(&tmp[..n]);
                }
            }
            return Ok(status);
        }
        let n = s.read(&mut tmp).await?;
        if n == 0 {
            bail!("connection closed before a response");
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Opens `--count` keep-alive connections, makes one request on each, prints `ready N`, and
/// holds them open for `--hold` seconds.
fn conns(opts: &Opts) -> Result<()> {
    let addr: SocketAddr = opts.req("addr")?.parse()?;
    let count: usize = opts.num("count", 1000)?;
    let path = opts.get("path").unwrap_or("/").to_string();
    let hold: f64 = opts.num("hold", 30.0)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        use tokio::io::AsyncWriteExt;
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n");
        let mut open = Vec::with_capacity(count);
        let mut ok = 0usize;
        for _ in 0..count {
            let mut s = tokio::net::TcpStream::connect(addr).await?;
            s.write_all(req.as_bytes()).await?;
            let mut buf = Vec::new();
            if read_response(&mut s, &mut buf).await? == 200 {
                ok += 1;
            }
            open.push(s);
        }
        println!("ready {} {}", open.len(), ok);
        tokio::time::sleep(Duration::from_secs_f64(hold)).await;
        drop(open);
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(())
}

/// A tiny HTTP/1.1 keep-alive server answering every request with a small JSON body; the
/// upstream for the plain HTTP proxy scenario.
fn http_backend(opts: &Opts) -> Result<()> {
    let addr: SocketAddr = opts.req("listen")?.parse()?;
    let rt = runtime()?;
    rt.block_on(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let body = "\"hello\"";
        let resp = Arc::new(format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
            body.len(),
            body
        ));
        loop {
            let (mut s, _) = listener.accept().await?;
            let _ = s.set_nodelay(true);
            let resp = resp.clone();
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(4096);
                let mut tmp = [0u8; 8192];
                loop {
                    // Answer every complete request in the buffer (pipelining included).
                    while let Some(end) = find(&buf, b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() < end + 4 + len {
                            break;
                        }
                        buf.drain(..end + 4 + len);
                        if s.write_all(resp.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                    match s.read(&mut tmp).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    }
                }
            });
        }
        #[allow(unreachable_code)]
        Ok::<_, anyhow::Error>(())
    })
}
