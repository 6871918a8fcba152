//! `tianlu validate --config conf.yaml`: loads the bootstrap and every api_config it references
//! and reports either a one-line summary or every problem found (file, line, key path, route).

use std::path::Path;
use tianlu_api_config::Config;

/// The outcome of validating a configuration.
pub struct Report {
    /// True when the configuration can be served.
    pub ok: bool,
    /// Lines for stdout (summary and warnings) or stderr (problems).
    pub lines: Vec<String>,
}

/// Validates `path` without starting anything.
pub fn validate(path: &Path) -> Report {
    match Config::load(path) {
        Ok((config, warnings)) => {
            let mut lines = vec![format!("{}: valid ({})", path.display(), config.summary())];
            lines.extend(warnings.iter().map(|w| format!("warning: {w}")));
            Report { ok: true, lines }
        }
        Err(e) => {
            let mut lines = vec![format!(
                "{}: {} problem(s)",
                path.display(),
                e.problems.len()
            )];
            lines.extend(e.problems.iter().map(|p| p.to_string()));
            Report { ok: false, lines }
        }
    }
}
