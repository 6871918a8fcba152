//! Byte-level oracles for the hessian2 codec: two independent Hessian 2.0 implementations,
//! hessian.js 2.11.0 (npm) and Caucho hessian 4.0.38 (Debian `libhessian-java`), run against the
//! shared cases in `tests/interop/oracles/cases.json`:
//!
//! (a) each oracle encodes every case and our [`Decoder`] must read back exactly the case
//!     (int vs long vs double, list and map type names, class names and field order);
//! (b) our [`Encoder`] encodes every case and each oracle must read back exactly the case;
//! (c) our bytes must equal Caucho's byte for byte for the core grammar (scalars, strings, dates,
//!     binary, lists); differences elsewhere are printed (run with `--nocapture`).
//!
//! A missing oracle (node/npm, a JDK, the Debian jars) fails the test with instructions; the
//! only cases an oracle sits out are the ones documented in `cases.json` and listed below.
//!
//! [`Decoder`]: tianlu_protocol::hessian2::Decoder
//! [`Encoder`]: tianlu_protocol::hessian2::Encoder

mod oracles;

use std::collections::HashMap;
use std::sync::OnceLock;

use oracles::{Case, Oracle, Reply};

/// Cases hessian.js cannot take part in (each with its reason in `cases.json`).
const JS_EXCLUSIONS: [&str; 2] = ["date_beyond_js_range", "object_exception_class"];

/// Cases whose bytes may legitimately differ from Caucho's (reasons in `cases.json`).
const JAVA_BYTES_MAY_DIFFER: [&str; 5] = [
    "double_negative_zero",
    "binary_chunked_40000",
    "ref_shared_map",
    "ref_shared_object",
    "ref_shared_typed_list",
];

fn fail_if_any(what: &str, failures: &[String]) {
    if !failures.is_empty() {
        panic!(
            "{what}: {} case(s) failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
}

/// The oracle's reply for each case it was expected to answer, or failures for missing, extra
/// and unexpectedly skipped cases.
fn by_case<'a>(
    replies: Vec<(String, Reply)>,
    expected: impl Iterator<Item = &'a Case>,
    skips_allowed: bool,
    failures: &mut Vec<String>,
) -> Vec<(&'a Case, Reply)> {
    let mut map: HashMap<String, Reply> = HashMap::new();
    for (name, reply) in replies {
        if map.insert(name.clone(), reply).is_some() {
            failures.push(format!("{name}: answered twice"));
        }
    }
    let mut out = Vec::new();
    for case in expected {
        match map.remove(&case.name) {
            Some(Reply::Skipped(_)) if skips_allowed && case.skip_js.is_some() => {}
            Some(Reply::Skipped(reason)) => failures.push(format!(
                "{}: skipped without being documented: {reason}",
                case.name
            )),
            Some(reply) => out.push((case, reply)),
            None => failures.push(format!("{}: no answer from the oracle", case.name)),
        }
    }
    failures.extend(
        map.keys()
            .map(|n| format!("{n}: answer for an unknown case")),
    );
    out
}

fn participates(case: &Case, js: bool) -> bool {
    !(js && case.skip_js.is_some())
}

fn encoded_by(oracle: &Oracle, js: bool) -> &'static Result<Vec<(String, Reply)>, String> {
    static JS: OnceLock<Result<Vec<(String, Reply)>, String>> = OnceLock::new();
    static JAVA: OnceLock<Result<Vec<(String, Reply)>, String>> = OnceLock::new();
    let cell = if js { &JS } else { &JAVA };
    cell.get_or_init(|| oracle.encode_all())
}

fn oracle(js: bool) -> &'static Oracle {
    let o = if js { oracles::js() } else { oracles::java() };
    o.unwrap_or_else(|e| panic!("oracle unavailable: {e}"))
}

/// (a): the oracle's bytes, read by our decoder.
fn oracle_bytes_decode_to_the_cases(js: bool) {
    let oracle = oracle(js);
    let replies = match encoded_by(oracle, js) {
        Ok(r) => r.clone(),
        Err(e) => panic!("{e}"),
    };
    let mut failures = Vec::new();
    let all = oracles::cases();
    let mut checked = 0;
    for (case, reply) in by_case(replies, all.iter(), js, &mut failures) {
        let hex = match reply {
            Reply::Hex(h) => h,
            Reply::Error(e) => {
                failures.push(format!(
                    "{}: {} could not encode it: {e}",
                    case.name, oracle.name
                ));
                continue;
            }
            other => {
                failures.push(format!("{}: unexpected reply {other:?}", case.name));
                continue;
            }
        };
        checked += 1;
        match oracles::our_decode(&hex) {
            Ok(v) => {
                if let Some(d) = oracles::diff(&case.expected, &v) {
                    failures.push(format!(
                        "{}: {d}; bytes {}",
                        case.name,
                        oracles::short_hex(&hex)
                    ));
                }
            }
            Err(e) => failures.push(format!(
                "{}: our decoder failed: {e}; bytes {}",
                case.name,
                oracles::short_hex(&hex)
            )),
        }
    }
    fail_if_any(
        &format!("our decoder on {}'s bytes ({checked} checked)", oracle.name),
        &failures,
    );
    assert!(checked >= 60, "only {checked} cases checked");
}

/// (b): our bytes, read by the oracle.
fn oracle_reads_our_bytes(js: bool) {
    let oracle = oracle(js);
    let cases: Vec<&Case> = oracles::cases()
        .iter()
        .filter(|c| participates(c, js))
        .collect();
    let requests: Vec<(String, String)> = cases
        .iter()
        .map(|c| (c.name.clone(), oracles::our_hex(&c.input)))
        .collect();
    let ours: HashMap<&str, &str> = requests
        .iter()
        .map(|(n, h)| (n.as_str(), h.as_str()))
        .collect();
    let replies = oracle
        .decode_all(&requests)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    let mut checked = 0;
    for (case, reply) in by_case(replies, cases.iter().copied(), false, &mut failures) {
        let hex = oracles::short_hex(ours[case.name.as_str()]);
        checked += 1;
        match reply {
            Reply::Value(j) => match oracles::to_value(&j) {
                Ok(v) => {
                    // `decodes_as` is what the Java and JS writers make of a value; our writer
                    // may instead keep it exactly (then the oracle reads back the input).
                    let lossless = oracles::diff(&case.input, &v).is_none();
                    if let (false, Some(d)) = (lossless, oracles::diff(&case.expected, &v)) {
                        failures.push(format!("{}: {d}; our bytes {hex}", case.name));
                    }
                }
                Err(e) => failures.push(format!("{}: bad oracle output: {e}", case.name)),
            },
            Reply::Error(e) => failures.push(format!(
                "{}: {} cannot read our bytes: {e}; our bytes {hex}",
                case.name, oracle.name
            )),
            other => failures.push(format!("{}: unexpected reply {other:?}", case.name)),
        }
    }
    fail_if_any(
        &format!("{} reading our bytes ({checked} checked)", oracle.name),
        &failures,
    );
    assert!(checked >= 60, "only {checked} cases checked");
}

#[test]
fn case_file_is_well_formed_and_exclusions_are_the_documented_ones() {
    let cases = oracles::cases();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let skip_js: Vec<&str> = cases
        .iter()
        .filter(|c| c.skip_js.is_some())
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        skip_js, JS_EXCLUSIONS,
        "skip_js cases differ from the documented set"
    );
    let may_differ: Vec<&str> = cases
        .iter()
        .filter(|c| c.java_bytes_may_differ.is_some())
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        may_differ, JAVA_BYTES_MAY_DIFFER,
        "java_bytes_may_differ cases differ from the documented set"
    );
    let core = cases.iter().filter(|c| c.core).count();
    assert!(core >= 40, "only {core} core-grammar cases");
}

/// Each `skip_js` exclusion must still be necessary: hessian.js must fail to read Caucho's bytes
/// for it. When a hessian.js upgrade handles one, this fails so the exclusion gets dropped.
#[test]
fn js_exclusions_are_still_needed() {
    let java = oracle(false);
    let js = oracle(true);
    let encoded = encoded_by(java, false)
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"));
    let requests: Vec<(String, String)> = encoded
        .iter()
        .filter(|(name, _)| JS_EXCLUSIONS.contains(&name.as_str()))
        .filter_map(|(name, r)| match r {
            Reply::Hex(h) => Some((name.clone(), h.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        requests.len(),
        JS_EXCLUSIONS.len(),
        "Caucho bytes for every exclusion"
    );
    let replies = js.decode_all(&requests).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for (name, reply) in &replies {
        if !matches!(reply, Reply::Error(_)) {
            failures.push(format!(
                "{name}: hessian.js now reads it ({reply:?}); drop skip_js"
            ));
        }
    }
    assert_eq!(replies.len(), requests.len(), "one reply per exclusion");
    fail_if_any("unneeded hessian.js exclusions", &failures);
}

#[test]
fn hessian_js_bytes_decode_to_the_cases() {
    oracle_bytes_decode_to_the_cases(true);
}

#[test]
fn caucho_bytes_decode_to_the_cases() {
    oracle_bytes_decode_to_the_cases(false);
}

#[test]
fn hessian_js_reads_our_bytes_as_the_cases() {
    oracle_reads_our_bytes(true);
}

#[test]
fn caucho_reads_our_bytes_as_the_cases() {
    oracle_reads_our_bytes(false);
}

/// (c): byte identity with Caucho. Asserted for core-grammar cases not documented as
/// `java_bytes_may_differ`; every other difference is printed.
#[test]
fn our_bytes_equal_caucho_bytes_for_the_core_grammar() {
    let java = oracle(false);
    let replies = match encoded_by(java, false) {
        Ok(r) => r.clone(),
        Err(e) => panic!("{e}"),
    };
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    let (mut asserted, mut identical) = (0, 0);
    for (case, reply) in by_case(replies, oracles::cases().iter(), false, &mut failures) {
        let Reply::Hex(theirs) = reply else {
            failures.push(format!("{}: Caucho gave no bytes: {reply:?}", case.name));
            continue;
        };
        let ours = oracles::our_hex(&case.input);
        let must_match = case.core && case.java_bytes_may_differ.is_none();
        asserted += usize::from(must_match);
        if ours == theirs {
            identical += 1;
            continue;
        }
        let what = format!(
            "{}: ours {} vs Caucho {}",
            case.name,
            oracles::short_hex(&ours),
            oracles::short_hex(&theirs)
        );
        if must_match {
            failures.push(what);
        } else if let Some(reason) = &case.java_bytes_may_differ {
            notes.push(format!("{what} (documented: {reason})"));
        } else {
            notes.push(format!("{what} (not core grammar, not asserted)"));
        }
    }
    eprintln!(
        "byte identity with Caucho: {identical} of {} cases identical; {asserted} asserted",
        oracles::cases().len()
    );
    for n in &notes {
        eprintln!("  differs: {n}");
    }
    fail_if_any(
        "bytes differing from Caucho's in the core grammar",
        &failures,
    );
}
