//! Walking a [`Node`] tree while collecting problems: [`Ctx`] gathers problems and warnings for
//! one file, [`MapView`] reads one mapping key by key (typed getters that report type errors with
//! the key path) and reports every key nobody asked for as unknown.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) use super::scalar::{
    as_bool, as_duration, as_string, as_string_list, as_uint, describe, join, list_items,
};
use super::{Entry, Kind, Node};
use crate::error::{ConfigError, Problem, Warning};

/// Problems and warnings for one file, plus the route being read (for [`Problem::route`]).
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) file: PathBuf,
    pub(crate) problems: Vec<Problem>,
    pub(crate) warnings: Vec<Warning>,
    pub(crate) route: Option<String>,
}

fn opt_line(line: usize) -> Option<usize> {
    (line > 0).then_some(line)
}

impl Ctx {
    pub(crate) fn new(file: &Path) -> Self {
        Ctx {
            file: file.to_path_buf(),
            problems: Vec::new(),
            warnings: Vec::new(),
            route: None,
        }
    }

    /// Records a problem at `line` (0 = unknown) under `path`.
    pub(crate) fn problem(&mut self, line: usize, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.clone(),
            line: opt_line(line),
            key_path: path.to_owned(),
            route: self.route.clone(),
            message: message.into(),
        });
    }

    /// Records a warning at `line` (0 = unknown) under `path`.
    pub(crate) fn warn(&mut self, line: usize, path: &str, message: impl Into<String>) {
        self.warnings.push(Warning {
            file: self.file.clone(),
            line: opt_line(line),
            key_path: path.to_owned(),
            message: message.into(),
        });
    }

    /// Orders problems and warnings by line (stable: same-line entries keep their order).
    pub(crate) fn sort(&mut self) {
        self.problems.sort_by_key(|p| p.line.unwrap_or(0));
        self.warnings.sort_by_key(|w| w.line.unwrap_or(0));
    }

    /// `Ok((value, warnings))` when no problem was recorded, else every problem; both sorted
    /// by line.
    pub(crate) fn finish<T>(mut self, value: T) -> Result<(T, Vec<Warning>), ConfigError> {
        self.sort();
        if self.problems.is_empty() {
            Ok((value, self.warnings))
        } else {
            Err(ConfigError {
                problems: self.problems,
            })
        }
    }
}

/// A read-only view of one mapping that remembers which keys were read.
#[derive(Debug)]
pub(crate) struct MapView<'n> {
    entries: &'n [Entry],
    line: usize,
    path: String,
    used: Vec<bool>,
    known: Vec<&'static str>,
}

impl<'n> MapView<'n> {
    /// Views `node` as a mapping. Null is an empty mapping; any other shape is a problem and
    /// gives an empty view (so callers can go on and collect more problems).
    pub(crate) fn new(cx: &mut Ctx, node: &'n Node, path: impl Into<String>) -> MapView<'n> {
        let path = path.into();
        let entries: &'n [Entry] = match &node.kind {
            Kind::Map(entries) => entries,
            Kind::Null => &[],
            _ => {
                cx.problem(
                    node.line,
                    &path,
                    format!("expected a mapping, found {}", describe(node)),
                );
                &[]
            }
        };
        MapView {
            entries,
            line: node.line,
            used: vec![false; entries.len()],
            known: Vec::new(),
            path,
        }
    }

    /// The key path of this mapping.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The key path of `key` in this mapping.
    pub(crate) fn child(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The line of this mapping (its first key), for "missing key" problems.
    pub(crate) fn line(&self) -> usize {
        self.line
    }

    /// The line of `key` if present, else the mapping's line.
    pub(crate) fn key_line(&self, key: &str) -> usize {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map_or(self.line, |e| e.key_line)
    }

    /// The value of `key` unless absent or null; marks the key as read.
    pub(crate) fn get(&mut self, key: &'static str) -> Option<&'n Node> {
        if !self.known.contains(&key) {
            self.known.push(key);
        }
        let idx = self.entries.iter().position(|e| e.key == key)?;
        self.used[idx] = true;
        let value = &self.entries[idx].value;
        (!value.is_null()).then_some(value)
    }

    /// `key` as a string.
    pub(crate) fn string(&mut self, cx: &mut Ctx, key: &'static str) -> Option<String> {
        let node = self.get(key)?;
        as_string(cx, node, &self.child(key))
    }

    /// `key` as a non-empty string; absent or empty is a problem.
    pub(crate) fn req_string(&mut self, cx: &mut Ctx, key: &'static str) -> Option<String> {
        match self.string(cx, key) {
            Some(s) if !s.trim().is_empty() => Some(s),
            Some(_) => {
                cx.problem(self.key_line(key), &self.child(key), "must not be empty");
                None
            }
            None => {
                if self.get(key).is_none() {
                    self.missing(cx, key);
                }
                None
            }
        }
    }

    /// Records "missing required key" for `key`.
    pub(crate) fn missing(&self, cx: &mut Ctx, key: &str) {
        cx.problem(self.key_line(key), &self.child(key), "missing required key");
    }

    /// `key` as a boolean.
    pub(crate) fn bool(&mut self, cx: &mut Ctx, key: &'static str) -> Option<bool> {
        let node = self.get(key)?;
        as_bool(cx, node, &self.child(key))
    }

    /// `key` as an integer in `0..=max`.
    pub(crate) fn uint(&mut self, cx: &mut Ctx, key: &'static str, max: u64) -> Option<u64> {
        let node = self.get(key)?;
        as_uint(cx, node, &self.child(key), max)
    }

    /// `key` as a duration.
    pub(crate) fn duration(&mut self, cx: &mut Ctx, key: &'static str) -> Option<Duration> {
        let node = self.get(key)?;
        as_duration(cx, node, &self.child(key))
    }

    /// `key` as a duration that must be greater than zero (a zero deadline would fail every call).
    pub(crate) fn positive_duration(
        &mut self,
        cx: &mut Ctx,
        key: &'static str,
    ) -> Option<Duration> {
        let line = self.key_line(key);
        let d = self.duration(cx, key)?;
        if d.is_zero() {
            cx.problem(line, &self.child(key), "must be greater than 0".to_owned());
            return None;
        }
        Some(d)
    }

    /// `key` as a list of strings (a single string is a one-element list).
    pub(crate) fn string_list(&mut self, cx: &mut Ctx, key: &'static str) -> Option<Vec<String>> {
        let node = self.get(key)?;
        as_string_list(cx, node, &self.child(key))
    }

    /// The items of list `key` with their key paths (absent = empty).
    pub(crate) fn list(&mut self, cx: &mut Ctx, key: &'static str) -> Vec<(String, &'n Node)> {
        match self.get(key) {
            Some(node) => list_items(cx, node, &self.child(key)),
            None => Vec::new(),
        }
    }

    /// `key` as a nested mapping view, if present.
    pub(crate) fn map(&mut self, cx: &mut Ctx, key: &'static str) -> Option<MapView<'n>> {
        let node = self.get(key)?;
        Some(MapView::new(cx, node, self.child(key)))
    }

    /// A documented pixiu key that has no effect here: accepted with a warning when present.
    pub(crate) fn noop(&mut self, cx: &mut Ctx, key: &'static str, why: &str) {
        if self.get(key).is_some() {
            cx.warn(self.key_line(key), &self.child(key), why);
        }
    }

    /// A key that is known but not supported: a problem when present with a non-null value.
    pub(crate) fn reject(&mut self, cx: &mut Ctx, key: &'static str, why: &str) {
        if self.get(key).is_some() {
            cx.problem(self.key_line(key), &self.child(key), why);
        }
    }

    /// Reports every key that was never read as unknown, suggesting a close known key.
    pub(crate) fn finish(self, cx: &mut Ctx) {
        for (entry, used) in self.entries.iter().zip(&self.used) {
            if *used {
                continue;
            }
            let path = join(&self.path, &entry.key);
            let message = match suggest(&entry.key, &self.known) {
                Some(k) => format!("unknown key {:?}; did you mean {k:?}?", entry.key),
                None if self.known.is_empty() => format!("unknown key {:?}", entry.key),
                None => {
                    let mut known = self.known.clone();
                    known.sort_unstable();
                    format!(
                        "unknown key {:?}; expected one of: {}",
                        entry.key,
                        known.join(", ")
                    )
                }
            };
            cx.problem(entry.key_line, &path, message);
        }
    }
}

/// A known key that differs from `key` only in case, `_`/`-`, or by one edit.
fn suggest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let k = norm(key);
    known
        .iter()
        .copied()
        .find(|cand| norm(cand) == k)
        .or_else(|| {
            known
                .iter()
                .copied()
                .find(|cand| k.len() >= 4 && edit_distance(&norm(cand), &k) <= 1)
        })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    fn read(src: &str, f: impl FnOnce(&mut Ctx, &mut MapView<'_>)) -> Vec<String> {
        let node = parse(src).expect("yaml");
        let mut cx = Ctx::new(Path::new("t.yaml"));
        let mut view = MapView::new(&mut cx, &node, "root");
        f(&mut cx, &mut view);
        view.finish(&mut cx);
        cx.problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn typed_getters_report_problems() {
        type Read = fn(&mut Ctx, &mut MapView<'_>);
        let cases: [(&str, Read, &[&str]); 8] = [
            ("a: 1\n", |cx, v| assert_eq!(v.uint(cx, "a", 5), Some(1)), &[]),
            ("a: \"7\"\n", |cx, v| assert_eq!(v.uint(cx, "a", 9), Some(7)), &[]),
            ("a: 9\n", |cx, v| assert_eq!(v.uint(cx, "a", 5), None), &["t.yaml:1: root.a: expected an integer from 0 to 5, found an integer \"9\""]),
            ("a: [1]\n", |cx, v| assert_eq!(v.string(cx, "a"), None), &["t.yaml:1: root.a: expected a string, found a list"]),
            ("b: 1\n", |cx, v| assert_eq!(v.req_string(cx, "a"), None), &["t.yaml:1: root.a: missing required key", "t.yaml:1: root.b: unknown key \"b\"; expected one of: a"]),
            ("a: x\nb: y\n", |cx, v| assert_eq!(v.bool(cx, "a"), None), &["t.yaml:1: root.a: expected true or false, found a string \"x\"", "t.yaml:2: root.b: unknown key \"b\"; expected one of: a"]),
            ("x:\n  timeOut: 2s\n", |cx, v| { let mut m = v.map(cx, "x").expect("map"); assert_eq!(m.duration(cx, "timeout"), None); m.finish(cx) }, &["t.yaml:2: root.x.timeOut: unknown key \"timeOut\"; did you mean \"timeout\"?"]),
            ("a: 5x\n", |cx, v| assert_eq!(v.duration(cx, "a"), None), &["t.yaml:1: root.a: invalid duration \"5x\": unknown unit \"x\" (use ns, us, ms, s, m or h)"]),
        ];
        for (src, f, want) in cases {
            assert_eq!(read(src, f), want, "{src:?}");
        }
    }

    #[test]
    fn non_mapping_is_a_problem_and_null_is_empty() {
        let node = parse("- 1\n").expect("yaml");
        let mut cx = Ctx::new(Path::new("t.yaml"));
        let _ = MapView::new(&mut cx, &node, "x");
        assert_eq!(cx.problems[0].message, "expected a mapping, found a list");
        let node = parse("").expect("yaml");
        let mut cx = Ctx::new(Path::new("t.yaml"));
        MapView::new(&mut cx, &node, "x").finish(&mut cx);
        assert!(cx.problems.is_empty());
    }
}
