//! `dgp.filter.http.accesslog`: one structured line per request (JSON) with the route, the
//! upstream endpoint, the status and the duration, written to the `access_log` tracing target or
//! appended to a file (`outPutPath`).

use super::{HttpFilter, RequestCtx};
use axum::response::Response;
use serde_json::json;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// The access-log filter.
pub struct AccessLog {
    file: Option<Mutex<File>>,
}

impl AccessLog {
    /// Logs to `path` when given, else to the `access_log` tracing target.
    pub fn new(path: Option<PathBuf>) -> Result<Self, String> {
        let file = match path {
            Some(p) => Some(Mutex::new(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&p)
                    .map_err(|e| format!("accesslog: cannot open {}: {e}", p.display()))?,
            )),
            None => None,
        };
        Ok(AccessLog { file })
    }

    /// The JSON line for one request.
    pub fn line(ctx: &RequestCtx, resp: &Response) -> String {
        json!({
            "ts_ms": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            "request_id": ctx.request_id,
            "remote": ctx.remote.map(|a| a.to_string()),
            "method": ctx.method.as_str(),
            "path": ctx.uri.path(),
            "route": ctx.route,
            "upstream": ctx.upstream.as_deref(),
            "status": resp.status().as_u16(),
            "duration_us": ctx.started.elapsed().as_micros() as u64,
        })
        .to_string()
    }
}

impl HttpFilter for AccessLog {
    fn name(&self) -> &'static str {
        "dgp.filter.http.accesslog"
    }

    fn on_response(&self, ctx: &RequestCtx, resp: &mut Response) {
        let line = Self::line(ctx, resp);
        match &self.file {
            Some(f) => {
                let mut f = f.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Err(e) = writeln!(f, "{line}") {
                    tracing::warn!(error = %e, "access log write failed");
                }
            }
            None => tracing::info!(target: "access_log", "{line}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::ctx;
    use super::*;
    use axum::response::IntoResponse;

    #[test]
    fn writes_one_json_line_per_request() {
        let dir = std::env::temp_dir().join(format!("tianlu-accesslog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("access.log");
        let _ = std::fs::remove_file(&path);
        let f = AccessLog::new(Some(path.clone())).unwrap();
        let mut c = ctx("GET", "/api/users/7?x=1", &[]);
        c.route = Some("GET /api/users/:id".into());
        c.upstream = Some("127.0.0.1:20880".into());
        let mut resp = http::StatusCode::CREATED.into_response();
        f.on_response(&c, &mut resp);
        f.on_response(&c, &mut resp);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["status"], 201);
        assert_eq!(v["path"], "/api/users/7");
        assert_eq!(v["route"], "GET /api/users/:id");
        assert_eq!(v["upstream"], "127.0.0.1:20880");
        assert_eq!(v["request_id"], "req-1");
    }
}
