//! `tianlu validate --config conf.yaml`: loads the bootstrap and every api_config it references
//! and reports either a one-line summary or every problem found (file, line, key path, route).

use crate::filter;
use std::path::Path;
use tianlu_api_config::Config;

/// Builds every listener and route filter chain; each failure names its listener or route.
/// Filters that start background work (remote key sets) need a Tokio runtime, so one runs here.
fn filter_problems(config: &Config) -> Vec<String> {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return vec![format!("cannot start a runtime to build filters: {e}")],
    };
    let _guard = rt.enter();
    let file = config.file.display();
    let mut problems = Vec::new();
    for l in &config.bootstrap.listeners {
        if let Err(e) = filter::build_chain(&l.hcm.http_filters) {
            problems.push(format!("{file}: listener {}: {e}", l.name));
        }
    }
    for api in &config.apis {
        for route in &api.routes {
            if let Err(e) = filter::build_chain(&route.filters) {
                problems.push(format!(
                    "{}:{}: {}: {e} (route {})",
                    route.source.file.display(),
                    route.source.line,
                    route.source.key_path,
                    route.label()
                ));
            }
        }
    }
    problems
}

/// The outcome of validating a configuration.
pub struct Report {
    /// True when the configuration can be served.
    pub ok: bool,
    /// Lines for stdout (summary and warnings) or stderr (problems).
    pub lines: Vec<String>,
}

/// Validates `path` without serving anything: loads and checks every file, then builds every
/// filter (keys, certificates, log files), as `tianlu run` would.
pub fn validate(path: &Path) -> Report {
    // api_configs kept in Nacos are fetched as `run` would.
    let texts = if Config::nacos_sources(path).is_empty() {
        tianlu_api_config::RemoteTexts::new()
    } else {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(crate::nacos::remote_config::RemoteConfigs::new().texts(path)),
            Err(e) => {
                return Report {
                    ok: false,
                    lines: vec![format!("cannot start the Nacos client: {e}")],
                }
            }
        }
    };
    match Config::load_with(path, &texts) {
        Ok((config, warnings)) => {
            let problems = filter_problems(&config);
            if !problems.is_empty() {
                let mut lines = vec![format!("{}: {} problem(s)", path.display(), problems.len())];
                lines.extend(problems);
                return Report { ok: false, lines };
            }
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
