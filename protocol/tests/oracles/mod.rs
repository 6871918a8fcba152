//! Support for the byte-level oracle tests: the shared case file, the typed notation ⇄ [`Value`]
//! conversion, a structural diff that names the first difference, and the two external oracles
//! (hessian.js under Node, Debian's Caucho hessian 4.0.38 under the JDK) run as batch processes.
//!
//! The case file and the oracles live in `tests/interop/oracles/` at the workspace root; its
//! README describes the notation.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use serde_json::Value as Json;
use tianlu_protocol::hessian2::{ClassDef, Decoder, Encoder, List, Map, Object, Value};

/// `tests/interop/oracles/` at the workspace root.
pub fn oracles_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/oracles")
}

// ------------------------------------------------------------------------------------------------
// Cases

/// One named case of `cases.json`.
#[derive(Debug)]
pub struct Case {
    /// Unique name.
    pub name: String,
    /// The value to encode, converted from the notation.
    pub input: Value,
    /// What every decoder must produce for it (`decodes_as` when present, else `input`).
    pub expected: Value,
    /// Why hessian.js cannot take part in this case, if it cannot.
    pub skip_js: Option<String>,
    /// Why tianlu's bytes may legitimately differ from Caucho's, if they may.
    pub java_bytes_may_differ: Option<String>,
    /// Whether the case uses only the core grammar (scalars, strings, binary, dates, lists).
    pub core: bool,
}

const CASE_KEYS: [&str; 5] = [
    "name",
    "value",
    "decodes_as",
    "skip_js",
    "java_bytes_may_differ",
];

/// The raw text of `cases.json`.
pub fn cases_text() -> &'static [u8] {
    static TEXT: OnceLock<Vec<u8>> = OnceLock::new();
    TEXT.get_or_init(|| {
        let path = oracles_dir().join("cases.json");
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    })
}

/// All cases, parsed and converted once. Panics with the reason on a malformed case file.
pub fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| parse_cases(cases_text()).unwrap_or_else(|e| panic!("cases.json: {e}")))
}

fn parse_cases(text: &[u8]) -> Result<Vec<Case>, String> {
    let doc: Json = serde_json::from_slice(text).map_err(|e| e.to_string())?;
    let list = doc
        .get("cases")
        .and_then(Json::as_array)
        .ok_or("no \"cases\" array")?;
    let mut names = HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for c in list {
        let obj = c.as_object().ok_or("a case is not an object")?;
        let name = obj
            .get("name")
            .and_then(Json::as_str)
            .ok_or("a case has no name")?
            .to_owned();
        if let Some(k) = obj.keys().find(|k| !CASE_KEYS.contains(&k.as_str())) {
            return Err(format!("{name}: unknown key {k:?}"));
        }
        if !names.insert(name.clone()) {
            return Err(format!("duplicate case name {name}"));
        }
        let value = obj.get("value").ok_or(format!("{name}: no value"))?;
        let input = to_value(value).map_err(|e| format!("{name}: {e}"))?;
        let expected = match obj.get("decodes_as") {
            Some(d) => to_value(d).map_err(|e| format!("{name}.decodes_as: {e}"))?,
            None => input.clone(),
        };
        let text_field = |key: &str| -> Result<Option<String>, String> {
            match obj.get(key) {
                None => Ok(None),
                Some(Json::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
                Some(_) => Err(format!("{name}: {key} must be a non-empty reason")),
            }
        };
        out.push(Case {
            skip_js: text_field("skip_js")?,
            java_bytes_may_differ: text_field("java_bytes_may_differ")?,
            core: is_core(value),
            name,
            input,
            expected,
        });
    }
    Ok(out)
}

/// Whether a notation value uses only scalars, strings, binary, dates and lists.
fn is_core(node: &Json) -> bool {
    let Some((kind, v)) = node.as_object().and_then(|o| o.iter().next()) else {
        return false;
    };
    match kind.as_str() {
        "null" | "bool" | "int" | "long" | "double" | "date" | "string" | "binary_hex" => true,
        "list" => v
            .get("items")
            .and_then(Json::as_array)
            .is_some_and(|items| items.iter().all(is_core)),
        _ => false,
    }
}

// ------------------------------------------------------------------------------------------------
// Typed notation -> Value

/// Converts a typed-notation value to a [`Value`]. `{"label": ...}` values are remembered and each
/// `{"ref_to": ...}` repeats a copy, which is what a decoder yields for a back reference.
pub fn to_value(node: &Json) -> Result<Value, String> {
    let mut labels = HashMap::new();
    convert(node, &mut labels, "$")
}

fn one_key<'a>(node: &'a Json, path: &str) -> Result<(&'a str, &'a Json), String> {
    match node.as_object() {
        Some(o) if o.len() == 1 => {
            let (k, v) = o.iter().next().expect("one entry");
            Ok((k.as_str(), v))
        }
        _ => Err(format!("{path}: expected a one-key object, got {node}")),
    }
}

fn repeat_arg<'a>(node: &'a Json, key: &str, path: &str) -> Result<(&'a str, usize), String> {
    let (kind, r) = one_key(node, path)?;
    let unit = r.get(key).and_then(Json::as_str);
    let n = r.get("n").and_then(Json::as_u64);
    match (kind, unit, n) {
        ("repeat", Some(unit), Some(n)) => {
            Ok((unit, usize::try_from(n).map_err(|e| e.to_string())?))
        }
        _ => Err(format!(
            "{path}: expected {{\"repeat\": {{\"{key}\", \"n\"}}}}"
        )),
    }
}

/// Bytes from hex, with a readable error.
pub fn from_hex(hex: &str) -> Result<Vec<u8>, String> {
    if !hex.len().is_multiple_of(2) {
        return Err(format!("odd-length hex ({} digits)", hex.len()));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
                .ok_or_else(|| format!("bad hex digit pair at {i}"))
        })
        .collect()
}

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn parse_double(v: &Json, path: &str) -> Result<f64, String> {
    match v {
        Json::Number(n) => n.as_f64().ok_or_else(|| format!("{path}: bad double {n}")),
        Json::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            "-0.0" => Ok(-0.0),
            _ => Err(format!("{path}: bad double {s:?}")),
        },
        _ => Err(format!("{path}: bad double {v}")),
    }
}

fn opt_type(v: &Json, key: &str, path: &str) -> Result<Option<String>, String> {
    match v.get(key) {
        Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        _ => Err(format!("{path}: \"{key}\" must be a string or null")),
    }
}

fn array<'a>(v: &'a Json, key: &str, path: &str) -> Result<&'a Vec<Json>, String> {
    v.get(key)
        .and_then(Json::as_array)
        .ok_or_else(|| format!("{path}: \"{key}\" must be an array"))
}

fn pair<'a>(v: &'a Json, path: &str) -> Result<(&'a Json, &'a Json), String> {
    match v.as_array().map(Vec::as_slice) {
        Some([a, b]) => Ok((a, b)),
        _ => Err(format!("{path}: expected a two-element array")),
    }
}

fn convert(node: &Json, labels: &mut HashMap<String, Value>, path: &str) -> Result<Value, String> {
    let (kind, v) = one_key(node, path)?;
    Ok(match kind {
        "null" if v.is_null() => Value::Null,
        "bool" => Value::Bool(v.as_bool().ok_or_else(|| format!("{path}: bad bool"))?),
        "int" => Value::Int(
            v.as_i64()
                .and_then(|i| i32::try_from(i).ok())
                .ok_or_else(|| format!("{path}: bad int {v}"))?,
        ),
        "long" => Value::Long(
            v.as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("{path}: a long is a decimal string, got {v}"))?,
        ),
        "double" => Value::Double(parse_double(v, path)?),
        "date" => Value::Date(v.as_i64().ok_or_else(|| format!("{path}: bad date {v}"))?),
        "string" => Value::String(match v {
            Json::String(s) => s.clone(),
            _ => {
                let (unit, n) = repeat_arg(v, "s", path)?;
                unit.repeat(n)
            }
        }),
        "binary_hex" => Value::Binary(
            match v {
                Json::String(s) => from_hex(s),
                _ => {
                    let (unit, n) = repeat_arg(v, "hex", path)?;
                    from_hex(&unit.repeat(n))
                }
            }
            .map_err(|e| format!("{path}: {e}"))?,
        ),
        "list" => {
            let type_name = opt_type(v, "type", path)?;
            let items = array(v, "items", path)?
                .iter()
                .enumerate()
                .map(|(i, it)| convert(it, labels, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?;
            Value::List(List { type_name, items })
        }
        "map" => {
            let type_name = opt_type(v, "type", path)?;
            let mut entries = Vec::new();
            for (i, e) in array(v, "entries", path)?.iter().enumerate() {
                let p = format!("{path}.entries[{i}]");
                let (k, val) = pair(e, &p)?;
                entries.push((
                    convert(k, labels, &format!("{p}.key"))?,
                    convert(val, labels, &format!("{p}.value"))?,
                ));
            }
            Value::Map(Map { type_name, entries })
        }
        "object" => {
            let class = v
                .get("class")
                .and_then(Json::as_str)
                .ok_or_else(|| format!("{path}: object without class"))?;
            let mut names = Vec::new();
            let mut values = Vec::new();
            for (i, f) in array(v, "fields", path)?.iter().enumerate() {
                let p = format!("{path}.fields[{i}]");
                let (name, val) = pair(f, &p)?;
                let name = name.as_str().ok_or_else(|| format!("{p}: field name"))?;
                values.push(convert(val, labels, &format!("{path}.{name}"))?);
                names.push(name.to_owned());
            }
            Value::Object(Object {
                class: Arc::new(ClassDef::new(class, names)),
                values,
            })
        }
        "label" => {
            let name = v
                .get("name")
                .and_then(Json::as_str)
                .ok_or_else(|| format!("{path}: label without name"))?;
            let inner = v
                .get("value")
                .ok_or_else(|| format!("{path}: label without value"))?;
            let value = convert(inner, labels, path)?;
            if !matches!(value, Value::List(_) | Value::Map(_) | Value::Object(_)) {
                return Err(format!(
                    "{path}: only lists, maps and objects can be shared"
                ));
            }
            if labels.insert(name.to_owned(), value.clone()).is_some() {
                return Err(format!("{path}: label {name} defined twice"));
            }
            value
        }
        "ref_to" => {
            let name = v.as_str().ok_or_else(|| format!("{path}: bad ref_to"))?;
            labels
                .get(name)
                .cloned()
                .ok_or_else(|| format!("{path}: ref_to {name} before its label"))?
        }
        _ => return Err(format!("{path}: unknown kind {kind:?} in {node}")),
    })
}

// ------------------------------------------------------------------------------------------------
// Structural diff

/// The first difference between `expected` and `actual`, with its path, or `None` if they are
/// equal. Doubles compare by bit pattern except that NaN equals NaN (so `0.0` ≠ `-0.0`).
pub fn diff(expected: &Value, actual: &Value) -> Option<String> {
    diff_at(expected, actual, "$")
}

fn diff_at(e: &Value, a: &Value, path: &str) -> Option<String> {
    let differ = || Some(format!("{path}: expected {}, got {}", short(e), short(a)));
    match (e, a) {
        (Value::Null, Value::Null) => None,
        (Value::Bool(x), Value::Bool(y)) if x == y => None,
        (Value::Int(x), Value::Int(y)) if x == y => None,
        (Value::Long(x), Value::Long(y)) if x == y => None,
        (Value::Date(x), Value::Date(y)) if x == y => None,
        (Value::Double(x), Value::Double(y))
            if x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()) =>
        {
            None
        }
        (Value::String(x), Value::String(y)) => {
            if x == y {
                return None;
            }
            let at = x
                .chars()
                .zip(y.chars())
                .position(|(p, q)| p != q)
                .unwrap_or_else(|| x.chars().count().min(y.chars().count()));
            Some(format!(
                "{path}: expected {}, got {}; first difference at char {at}",
                short(e),
                short(a)
            ))
        }
        (Value::Binary(x), Value::Binary(y)) => {
            if x == y {
                return None;
            }
            let at = x
                .iter()
                .zip(y)
                .position(|(p, q)| p != q)
                .unwrap_or(x.len().min(y.len()));
            Some(format!(
                "{path}: expected {}, got {}; first difference at byte {at}",
                short(e),
                short(a)
            ))
        }
        (Value::List(x), Value::List(y)) => {
            if x.type_name != y.type_name || x.items.len() != y.items.len() {
                return differ();
            }
            x.items
                .iter()
                .zip(&y.items)
                .enumerate()
                .find_map(|(i, (p, q))| diff_at(p, q, &format!("{path}[{i}]")))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.type_name != y.type_name || x.entries.len() != y.entries.len() {
                return differ();
            }
            x.entries
                .iter()
                .zip(&y.entries)
                .enumerate()
                .find_map(|(i, ((pk, pv), (qk, qv)))| {
                    diff_at(pk, qk, &format!("{path}.entries[{i}].key"))
                        .or_else(|| diff_at(pv, qv, &format!("{path}.entries[{i}].value")))
                })
        }
        (Value::Object(x), Value::Object(y)) => {
            if x.class.name != y.class.name || x.class.fields != y.class.fields {
                return Some(format!(
                    "{path}: expected class {} {:?}, got class {} {:?}",
                    x.class.name, x.class.fields, y.class.name, y.class.fields
                ));
            }
            if x.values.len() != y.values.len() {
                return differ();
            }
            x.class
                .fields
                .iter()
                .zip(x.values.iter().zip(&y.values))
                .find_map(|(f, (p, q))| diff_at(p, q, &format!("{path}.{f}")))
        }
        _ => differ(),
    }
}

/// A one-line description of a value (long strings and binaries abbreviated).
pub fn short(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("bool {b}"),
        Value::Int(i) => format!("int {i}"),
        Value::Long(l) => format!("long {l}"),
        Value::Double(d) => format!("double {d:?} (bits {:#018x})", d.to_bits()),
        Value::Date(ms) => format!("date {ms}"),
        Value::String(s) => {
            let head: String = s.chars().take(24).collect();
            let more = if head.len() < s.len() { "…" } else { "" };
            format!(
                "string of {} UTF-16 units {head:?}{more}",
                s.encode_utf16().count()
            )
        }
        Value::Binary(b) => format!("binary of {} bytes", b.len()),
        Value::List(l) => format!("list {:?} of {} items", l.type_name, l.items.len()),
        Value::Map(m) => format!("map {:?} of {} entries", m.type_name, m.entries.len()),
        Value::Object(o) => format!("object {} {:?}", o.class.name, o.class.fields),
        Value::Ref(r) => format!("unresolved back reference #{r}"),
    }
}

/// Abbreviated hex for messages.
pub fn short_hex(hex: &str) -> String {
    if hex.len() <= 96 {
        hex.to_owned()
    } else {
        format!("{}… ({} bytes)", &hex[..96], hex.len() / 2)
    }
}

// ------------------------------------------------------------------------------------------------
// Our codec

/// Our encoding of one value, as hex.
pub fn our_hex(v: &Value) -> String {
    let mut enc = Encoder::new();
    enc.write_value(v);
    to_hex(&enc.into_bytes())
}

/// Decodes one whole value with our decoder; trailing bytes are an error.
pub fn our_decode(hex: &str) -> Result<Value, String> {
    let bytes = from_hex(hex)?;
    let mut dec = Decoder::new(&bytes);
    let v = dec.read_value().map_err(|e| e.to_string())?;
    if !dec.is_at_end() {
        return Err(format!(
            "the value ends at byte {} of {}",
            dec.position(),
            bytes.len()
        ));
    }
    Ok(v)
}

// ------------------------------------------------------------------------------------------------
// Oracle processes

/// What an oracle said about one case.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Encoded bytes (hex).
    Hex(String),
    /// A decoded value in the typed notation.
    Value(Json),
    /// The oracle declined the case (only for documented `skip_js` cases).
    Skipped(String),
    /// The oracle failed on this case.
    Error(String),
}

/// An external oracle: how to start it.
#[derive(Debug)]
pub struct Oracle {
    /// Human name for messages.
    pub name: &'static str,
    program: &'static str,
    args: Vec<String>,
    dir: PathBuf,
}

fn spawn_error(program: &str, e: &std::io::Error, hint: &str) -> String {
    if e.kind() == ErrorKind::NotFound {
        format!("`{program}` is not installed or not on PATH. {hint}")
    } else {
        format!("cannot start `{program}`: {e}. {hint}")
    }
}

/// Runs `cmd`, feeding `input` on stdin from a separate thread so that large batches cannot
/// deadlock on full pipes; returns stdout, or an error with stderr.
fn run(cmd: &mut Command, input: &[u8], hint: &str) -> Result<Vec<u8>, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| spawn_error(&program, &e, hint))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let output = std::thread::scope(|s| {
        s.spawn(move || {
            // A write error here shows up as the child's failure below.
            let _ = stdin.write_all(input);
        });
        child.wait_with_output()
    })
    .map_err(|e| format!("waiting for `{program}`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{program}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(output.stdout)
}

const NODE_HINT: &str =
    "Install Node.js and npm (e.g. `apt-get install nodejs npm`); the test then \
     runs `npm ci` in tests/interop/oracles/js (registry access needed once).";
const JAVA_HINT: &str = "Install a JDK and Debian's Caucho Hessian with Jackson \
     (`apt-get install default-jdk-headless libhessian-java libjackson2-databind-java`).";

/// The pinned hessian.js version (must match `js/package.json` and `js/package-lock.json`).
pub const HESSIAN_JS_VERSION: &str = "2.11.0";

fn installed_hessian_js(js_dir: &Path) -> Option<String> {
    let text = std::fs::read(js_dir.join("node_modules/hessian.js/package.json")).ok()?;
    let pkg: Json = serde_json::from_slice(&text).ok()?;
    pkg.get("version")?.as_str().map(str::to_owned)
}

fn prepare_js() -> Result<Oracle, String> {
    let dir = oracles_dir().join("js");
    run(Command::new("node").arg("--version"), b"", NODE_HINT)?;
    if installed_hessian_js(&dir).as_deref() != Some(HESSIAN_JS_VERSION) {
        run(
            Command::new("npm")
                .args(["ci", "--silent", "--no-audit", "--no-fund"])
                .current_dir(&dir),
            b"",
            NODE_HINT,
        )
        .map_err(|e| format!("`npm ci` in {} failed: {e}", dir.display()))?;
        let got = installed_hessian_js(&dir);
        if got.as_deref() != Some(HESSIAN_JS_VERSION) {
            return Err(format!(
                "after `npm ci` in {} hessian.js is {got:?}, want {HESSIAN_JS_VERSION}",
                dir.display()
            ));
        }
    }
    Ok(Oracle {
        name: "hessian.js",
        program: "node",
        args: vec!["oracle.js".into()],
        dir,
    })
}

/// `/usr/share/java/<name>`, or an error naming the Debian package that provides it.
fn debian_jar(names: &[&str], package: &str) -> Result<PathBuf, String> {
    let base = Path::new("/usr/share/java");
    names
        .iter()
        .map(|n| base.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "none of {names:?} in {}: `apt-get install {package}`. {JAVA_HINT}",
                base.display()
            )
        })
}

fn prepare_java() -> Result<Oracle, String> {
    let jars = [
        debian_jar(&["hessian.jar", "hessian-4.0.38.jar"], "libhessian-java")?,
        debian_jar(&["jackson-databind.jar"], "libjackson2-databind-java")?,
        debian_jar(&["jackson-core.jar"], "libjackson2-core-java")?,
        debian_jar(&["jackson-annotations.jar"], "libjackson2-annotations-java")?,
    ];
    let source = oracles_dir().join("java/Oracle.java");
    let text = std::fs::read(&source).map_err(|e| format!("{}: {e}", source.display()))?;
    let jar_cp = std::env::join_paths(&jars).map_err(|e| e.to_string())?;
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    jar_cp.hash(&mut h);
    // Compiled classes are cached per source version; a fresh build goes to a private directory
    // first and is renamed into place, so concurrent test processes never see half a build.
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hessian-oracle-java");
    let classes = root.join(format!("{:016x}", h.finish()));
    if !classes.join("Oracle.class").is_file() {
        let tmp = root.join(format!("build-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        run(
            Command::new("javac")
                .arg("-nowarn")
                .arg("-d")
                .arg(&tmp)
                .arg("-cp")
                .arg(&jar_cp)
                .arg(&source),
            b"",
            JAVA_HINT,
        )
        .map_err(|e| format!("compiling {}: {e}", source.display()))?;
        if std::fs::rename(&tmp, &classes).is_err() && !classes.join("Oracle.class").is_file() {
            return Err(format!("cannot move {} into place", tmp.display()));
        }
        let _ = std::fs::remove_dir_all(&tmp);
        // Drop builds of older source versions.
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let stale = entry.path() != classes && !name.to_string_lossy().starts_with("build-");
            if stale {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let mut cp = vec![classes];
    cp.extend(jars);
    let cp = std::env::join_paths(cp).map_err(|e| e.to_string())?;
    Ok(Oracle {
        name: "Caucho hessian 4.0.38",
        program: "java",
        args: vec![
            // Caucho reflects into java.lang at class-init time (protocol.md 4.7).
            "--add-opens".into(),
            "java.base/java.lang=ALL-UNNAMED".into(),
            "-cp".into(),
            cp.to_string_lossy().into_owned(),
            "Oracle".into(),
        ],
        dir: oracles_dir(),
    })
}

/// The hessian.js oracle, installed on first use.
pub fn js() -> Result<&'static Oracle, String> {
    static JS: OnceLock<Result<Oracle, String>> = OnceLock::new();
    JS.get_or_init(prepare_js).as_ref().map_err(Clone::clone)
}

/// The Caucho oracle, compiled on first use.
pub fn java() -> Result<&'static Oracle, String> {
    static JAVA: OnceLock<Result<Oracle, String>> = OnceLock::new();
    JAVA.get_or_init(prepare_java)
        .as_ref()
        .map_err(Clone::clone)
}

impl Oracle {
    fn call(&self, command: &str, input: &[u8]) -> Result<Vec<(String, Reply)>, String> {
        let hint = if self.program == "node" {
            NODE_HINT
        } else {
            JAVA_HINT
        };
        let out = run(
            Command::new(self.program)
                .args(&self.args)
                .arg(command)
                .current_dir(&self.dir),
            input,
            hint,
        )
        .map_err(|e| format!("{} {command}: {e}", self.name))?;
        let text = String::from_utf8(out).map_err(|e| format!("{}: {e}", self.name))?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| parse_reply(l).map_err(|e| format!("{} {command}: {e}", self.name)))
            .collect()
    }

    /// Encodes every case of `cases.json` in one process.
    pub fn encode_all(&self) -> Result<Vec<(String, Reply)>, String> {
        self.call("encode", cases_text())
    }

    /// Decodes each `(name, hex)` in one process.
    pub fn decode_all(
        &self,
        requests: &[(String, String)],
    ) -> Result<Vec<(String, Reply)>, String> {
        let mut input = Vec::new();
        for (name, hex) in requests {
            let line = serde_json::json!({ "name": name, "hex": hex });
            serde_json::to_writer(&mut input, &line).map_err(|e| e.to_string())?;
            input.push(b'\n');
        }
        self.call("decode", &input)
    }
}

fn parse_reply(line: &str) -> Result<(String, Reply), String> {
    let j: Json = serde_json::from_str(line).map_err(|e| format!("bad output line: {e}"))?;
    let name = j
        .get("name")
        .and_then(Json::as_str)
        .ok_or("output line without name")?
        .to_owned();
    let text = |k: &str| j.get(k).and_then(Json::as_str).map(str::to_owned);
    let reply = if let Some(h) = text("hex") {
        Reply::Hex(h)
    } else if let Some(v) = j.get("value") {
        Reply::Value(v.clone())
    } else if let Some(r) = text("skipped") {
        Reply::Skipped(r)
    } else if let Some(e) = text("error") {
        Reply::Error(e)
    } else {
        return Err(format!(
            "{name}: output line has no hex, value, skipped or error"
        ));
    };
    Ok((name, reply))
}
