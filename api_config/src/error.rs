//! Configuration diagnostics: [`Problem`] (fatal), [`Warning`] (accepted no-op keys) and
//! [`ConfigError`], the error every loader returns. A loader never stops at the first problem: it
//! collects all of them, each with its file, line, key path and route, and fails once at the end.

use std::fmt;
use std::path::{Path, PathBuf};

/// One thing wrong with a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line of the offending key or value, when known.
    pub line: Option<usize>,
    /// Where in the document, e.g. `resources[0].methods[1].integrationRequest.mappingParams[2].mapTo`.
    /// Empty for problems with the whole file (unreadable, not YAML).
    pub key_path: String,
    /// The route the problem belongs to, e.g. `GET /api/users/:id`, when there is one.
    pub route: Option<String>,
    /// What is wrong, for humans.
    pub message: String,
}

impl fmt::Display for Problem {
    /// `file:line: key_path: message (route GET /x)`; parts that are unknown are left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if !self.key_path.is_empty() {
            write!(f, "{}: ", self.key_path)?;
        }
        f.write_str(&self.message)?;
        if let Some(route) = &self.route {
            write!(f, " (route {route})")?;
        }
        Ok(())
    }
}

/// A key that was accepted but has no effect (a documented pixiu no-op). Loading still succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file the key is in.
    pub file: PathBuf,
    /// 1-based line of the key, when known.
    pub line: Option<usize>,
    /// Where in the document, like [`Problem::key_path`].
    pub key_path: String,
    /// Why the key has no effect.
    pub message: String,
}

impl fmt::Display for Warning {
    /// `file:line: key_path: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}: {}", self.key_path, self.message)
    }
}

/// Loading failed; `problems` lists every problem found (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// Every problem, in document order per file.
    pub problems: Vec<Problem>,
}

impl ConfigError {
    /// An error with a single problem about a whole file (unreadable, not YAML, ...).
    pub fn file(file: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        ConfigError {
            problems: vec![Problem {
                file: file.to_path_buf(),
                line,
                key_path: String::new(),
                route: None,
                message: message.into(),
            }],
        }
    }
}

impl fmt::Display for ConfigError {
    /// One problem per line, in order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_formats() {
        let cases = [
            (
                Some(3),
                "a.b",
                Some("GET /x"),
                "c.yaml:3: a.b: bad (route GET /x)",
            ),
            (None, "a.b", None, "c.yaml: a.b: bad"),
            (Some(1), "", None, "c.yaml:1: bad"),
        ];
        for (line, key_path, route, want) in cases {
            let p = Problem {
                file: "c.yaml".into(),
                line,
                key_path: key_path.into(),
                route: route.map(String::from),
                message: "bad".into(),
            };
            assert_eq!(p.to_string(), want);
        }
        let e = ConfigError {
            problems: vec![
                ConfigError::file(Path::new("a"), Some(1), "x").problems[0].clone(),
                ConfigError::file(Path::new("b"), None, "y").problems[0].clone(),
            ],
        };
        assert_eq!(e.to_string(), "a:1: x\nb: y");
    }
}
