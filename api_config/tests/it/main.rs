//! Integration tests of tianlu-api-config, one binary: loading the fixtures, validation tables
//! for api_config and conf.yaml, route matching and mapping extraction.

mod api_validation;
mod bootstrap_validation;
mod filter_validation;
mod forward_validation;
mod idl_validation;
mod load;
mod mapping;
mod robustness;
mod routing;

use tianlu_api_config::ConfigError;

/// One validation case: name, YAML text, expected `(line, key_path, message part)`s.
pub type Case = (&'static str, String, Vec<(usize, String, &'static str)>);

/// `(line, key_path, message)` of every problem, for table comparisons.
pub fn flat(err: &ConfigError) -> Vec<(Option<usize>, String, String)> {
    err.problems
        .iter()
        .map(|p| (p.line, p.key_path.clone(), p.message.clone()))
        .collect()
}

/// Asserts that `err` has exactly the expected problems: same line and key path, and a message
/// containing the expected text.
pub fn assert_problems(case: &str, err: &ConfigError, want: &[(usize, &str, &str)]) {
    let got = flat(err);
    let ok = got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|((line, path, msg), (wl, wp, wm))| {
                *line == Some(*wl) && path == wp && msg.contains(wm)
            });
    assert!(ok, "case {case}:\n got: {got:#?}\nwant: {want:#?}");
}
