//! A minimal HTTP/1.1 client for one JSON `POST` (Triple's HTTP/1.1 REST mapping of a Dubbo 3.3
//! provider), with a connect/response deadline and a response size limit. The answer is
//! untrusted: malformed status lines, headers or chunk sizes are errors, never panics.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response accepted (headers + body).
pub(crate) const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// Why the request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HttpError {
    /// Connect, write or read failed.
    #[error("{0}")]
    Io(String),
    /// No complete answer within the deadline.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The answer is not HTTP/1.x as expected.
    #[error("malformed HTTP response: {0}")]
    Malformed(String),
    /// More than [`MAX_RESPONSE`] bytes.
    #[error("response larger than {MAX_RESPONSE} bytes")]
    TooLarge,
}

/// A parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    /// Status code.
    pub status: u16,
    /// Body (de-chunked).
    pub body: Vec<u8>,
}

/// `POST path` with a JSON body and extra headers; `Connection: close`, read to EOF.
pub(crate) async fn post_json(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> Result<Response, HttpError> {
    let work = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| HttpError::Io(format!("connect {addr}: {e}")))?;
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Accept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| HttpError::Io(format!("write to {addr}: {e}")))?;
        let mut raw = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| HttpError::Io(format!("read from {addr}: {e}")))?;
            if n == 0 {
                break;
            }
            if raw.len() + n > MAX_RESPONSE {
                return Err(HttpError::TooLarge);
            }
            raw.extend_from_slice(&chunk[..n]);
            // Stop early once a Content-Length body is complete (servers may keep the socket).
            if let Ok(Some(done)) = complete_length(&raw) {
                raw.truncate(done);
                break;
            }
        }
        parse_response(&raw)
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| HttpError::Timeout(timeout))?
}

/// When the head is complete and declares a Content-Length, the total length of the message.
fn complete_length(raw: &[u8]) -> Result<Option<usize>, HttpError> {
    let Some(head_end) = find(raw, b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&raw[..head_end])
        .map_err(|_| HttpError::Malformed("head is not UTF-8".into()))?;
    if header(head, "transfer-encoding").is_some() {
        return Ok(None);
    }
    match header(head, "content-length") {
        Some(len) => {
            let len: usize = len
                .parse()
                .map_err(|_| HttpError::Malformed(format!("content-length {len:?}")))?;
            let total = head_end + 4 + len;
            Ok((raw.len() >= total).then_some(total))
        }
        None => Ok(None),
    }
}

/// Parses a complete HTTP/1.x response.
pub(crate) fn parse_response(raw: &[u8]) -> Result<Response, HttpError> {
    let head_end =
        find(raw, b"\r\n\r\n").ok_or_else(|| HttpError::Malformed("no end of headers".into()))?;
    let head = std::str::from_utf8(&raw[..head_end])
        .map_err(|_| HttpError::Malformed("head is not UTF-8".into()))?;
    let status_line = head.lines().next().unwrap_or("");
    let mut parts = status_line.split_whitespace();
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Malformed(format!("status line {status_line:?}")));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| HttpError::Malformed(format!("status line {status_line:?}")))?;
    let rest = &raw[head_end + 4..];
    let chunked = header(head, "transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(len) = header(head, "content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| HttpError::Malformed(format!("content-length {len:?}")))?;
        rest.get(..len)
            .ok_or_else(|| HttpError::Malformed("body shorter than content-length".into()))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response { status, body })
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::new();
    loop {
        let line_end = find(data, b"\r\n")
            .ok_or_else(|| HttpError::Malformed("truncated chunk size".into()))?;
        let line = std::str::from_utf8(&data[..line_end])
            .map_err(|_| HttpError::Malformed("chunk size is not UTF-8".into()))?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError::Malformed(format!("chunk size {size_text:?}")))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = data
            .get(..size)
            .ok_or_else(|| HttpError::Malformed("truncated chunk".into()))?;
        if out.len() + size > MAX_RESPONSE {
            return Err(HttpError::TooLarge);
        }
        out.extend_from_slice(chunk);
        data = data
            .get(size..)
            .and_then(|d| d.strip_prefix(b"\r\n"))
            .ok_or_else(|| HttpError::Malformed("chunk not followed by CRLF".into()))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_table() {
        let ok = |status: u16, body: &str| {
            Ok(Response {
                status,
                body: body.as_bytes().to_vec(),
            })
        };
        let cases: Vec<(&str, Result<Response, HttpError>)> = vec![
            ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", ok(200, "{}")),
            ("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}xx", ok(200, "{}")),
            ("HTTP/1.0 404 Not Found\r\n\r\nnope", ok(404, "nope")),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
                ok(200, "abcde"),
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                Err(HttpError::Malformed("chunk size \"zz\"".into())),
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                Err(HttpError::Malformed("truncated chunk".into())),
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX",
                Err(HttpError::Malformed("chunk not followed by CRLF".into())),
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}",
                Err(HttpError::Malformed("body shorter than content-length".into())),
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}",
                Err(HttpError::Malformed("content-length \"-1\"".into())),
            ),
            (
                "SSH-2.0 hello\r\n\r\n",
                Err(HttpError::Malformed("status line \"SSH-2.0 hello\"".into())),
            ),
            (
                "HTTP/1.1 abc\r\n\r\n",
                Err(HttpError::Malformed("status line \"HTTP/1.1 abc\"".into())),
            ),
            ("HTTP/1.1 200", Err(HttpError::Malformed("no end of headers".into()))),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_response(raw.as_bytes()), want, "{raw:?}");
        }
    }

    #[test]
    fn complete_length_detects_the_end() {
        assert_eq!(complete_length(b"HTTP/1.1 200 OK\r\n"), Ok(None));
        assert_eq!(
            complete_length(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{"),
            Ok(None)
        );
        assert_eq!(
            complete_length(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"),
            Ok(Some(40))
        );
    }

    #[tokio::test]
    async fn posts_to_a_local_server() {
        use tokio::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let mut got = Vec::new();
            while !String::from_utf8_lossy(&got).contains("\"rev\"") {
                let n = sock.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\"ok\"")
                .await
                .unwrap();
            String::from_utf8(got).unwrap()
        });
        let resp = post_json(
            addr,
            "/svc/m",
            &[("tri-service-group", "app")],
            "\"rev\"",
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, b"\"ok\"");
        let request = server.await.unwrap();
        assert!(request.starts_with("POST /svc/m HTTP/1.1\r\n"), "{request}");
        assert!(request.contains("tri-service-group: app\r\n"), "{request}");
    }

    #[tokio::test]
    async fn times_out_on_a_silent_server() {
        use tokio::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _server = tokio::spawn(async move {
            let (_sock, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(10)).await;
        });
        let err = post_json(addr, "/", &[], "", Duration::from_millis(100))
            .await
            .unwrap_err();
        assert_eq!(err, HttpError::Timeout(Duration::from_millis(100)));
    }
}
