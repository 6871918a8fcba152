//! `tianlu.filter.http.apikey` config: the accepted keys (`keys: [{name, key}]` and/or a
//! `keys_file` of `name=key` lines, read at load and on every reload), where clients send them
//! (`header`, default `x-api-key`, and optionally a `query` parameter), and the Dubbo attachment
//! that carries the matching key's name (`attachment`, default `tianlu.apikey`).

use std::path::{Path, PathBuf};

use super::common::{header_name, Secret};
use crate::yaml::reader::{Ctx, MapView};

/// Default `header`.
pub const DEFAULT_API_KEY_HEADER: &str = "x-api-key";
/// Default `attachment`.
pub const DEFAULT_API_KEY_ATTACHMENT: &str = "tianlu.apikey";

/// `tianlu.filter.http.apikey` config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyConfig {
    /// Every accepted key: `keys` first, then the lines of `keys_file`.
    pub keys: Vec<ApiKey>,
    /// `keys_file`, resolved against the conf file's folder (already read into `keys`).
    pub keys_file: Option<PathBuf>,
    /// `header` (lower-cased).
    pub header: String,
    /// `query`: a query parameter also searched for the key.
    pub query: Option<String>,
    /// `attachment`: the Dubbo attachment set to the key's name.
    pub attachment: String,
}

/// One accepted key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Who the key belongs to (sent as the attachment).
    pub name: String,
    /// The key itself.
    pub key: Secret,
}

/// Parses a keys file: `name=key` per line; blank lines and `#` comments skipped. Errors name
/// the 1-based line.
pub fn parse_keys_file(text: &str) -> Result<Vec<ApiKey>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, key)) = line.split_once('=') else {
            return Err((i + 1, "expected name=key".to_owned()));
        };
        let (name, key) = (name.trim(), key.trim());
        if name.is_empty() || key.is_empty() {
            return Err((i + 1, "name and key must not be empty".to_owned()));
        }
        out.push(ApiKey {
            name: name.to_owned(),
            key: Secret::new(key),
        });
    }
    Ok(out)
}

/// Reads the filter's config; `base` is the conf file's folder.
pub(crate) fn read(cx: &mut Ctx, c: &mut MapView<'_>, base: &Path) -> Option<ApiKeyConfig> {
    let before = cx.problems.len();
    let mut keys = Vec::new();
    for (path, node) in c.list(cx, "keys") {
        let mut k = MapView::new(cx, node, path);
        let name = k.req_string(cx, "name");
        let key = k.req_string(cx, "key");
        k.finish(cx);
        if let (Some(name), Some(key)) = (name, key) {
            keys.push(ApiKey {
                name,
                key: Secret::new(key),
            });
        }
    }
    let keys_file = c
        .string(cx, "keys_file")
        .filter(|s| !s.trim().is_empty())
        .map(|p| super::resolve(base, &p));
    if let Some(file) = &keys_file {
        let (line, path) = (c.key_line("keys_file"), c.child("keys_file"));
        match std::fs::read_to_string(file) {
            Ok(text) => match parse_keys_file(&text) {
                Ok(more) => keys.extend(more),
                Err((n, e)) => cx.problem(line, &path, format!("{}:{n}: {e}", file.display())),
            },
            Err(e) => cx.problem(line, &path, format!("cannot read {}: {e}", file.display())),
        }
    }
    if keys.is_empty() && cx.problems.len() == before {
        cx.problem(c.line(), &c.child("keys"), "set keys or keys_file");
    }
    for (i, k) in keys.iter().enumerate() {
        if keys[..i].iter().any(|o| o.key == k.key) {
            cx.problem(
                c.key_line("keys"),
                &c.child("keys"),
                format!("the key of {:?} is also given to another name", k.name),
            );
        }
    }
    let header = match c.string(cx, "header") {
        Some(h) => header_name(cx, c.key_line("header"), &c.child("header"), h.trim()),
        None => Some(DEFAULT_API_KEY_HEADER.to_owned()),
    };
    let query = c.string(cx, "query").filter(|q| !q.is_empty());
    let attachment = c
        .string(cx, "attachment")
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_API_KEY_ATTACHMENT.to_owned());
    if cx.problems.len() != before {
        return None;
    }
    Some(ApiKeyConfig {
        keys,
        keys_file,
        header: header?,
        query,
        attachment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_file_lines() {
        let keys = parse_keys_file("# partners\n\nalpha = k1==\nbeta=k2\n").unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            (keys[0].name.as_str(), keys[0].key.expose()),
            ("alpha", "k1==")
        );
        assert_eq!(keys[1].key.expose(), "k2");
        assert_eq!(
            parse_keys_file("a=1\nnope\n").unwrap_err(),
            (2, "expected name=key".to_owned())
        );
        assert_eq!(parse_keys_file("=x").unwrap_err().0, 1);
    }
}
