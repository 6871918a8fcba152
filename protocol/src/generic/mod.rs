//! JSON ⇄ hessian2 with Java type hints: the bridge between an HTTP/JSON client and a Dubbo
//! generic call (`$invoke`).
//!
//! - [`JavaType`] parses the parameter type names users configure and gives the name that goes
//!   on the wire.
//! - [`json_to_hessian`] converts JSON arguments to what `PojoUtils.realize` expects on the
//!   provider, checking client-supplied `"class"` names with an [`InputPolicy`].
//! - [`hessian_to_json`] and [`write_json_text`] convert results (to a tree or straight to
//!   text), in the default convention or pixiu's
//!   ([`OutputOptions`]).
//! - [`exception_from_value`] reduces a Java exception to a [`JavaException`].

mod exception;
mod java_type;
mod number;
mod policy;
mod time;
mod to_hessian;
mod to_json;

#[cfg(test)]
mod tests;

pub use exception::{exception_from_value, JavaException, MAX_CAUSES};
pub use java_type::{JavaType, Primitive, TypeError};
pub use policy::InputPolicy;
pub use time::{
    check_local_date, check_local_date_time, check_local_time, format_date_millis,
    parse_date_millis,
};
pub use to_hessian::{
    json_args_to_hessian, json_text_to_hessian, json_to_hessian, ArgError, ArgErrorKind,
    TextArgError, MAX_INPUT_DEPTH,
};
pub use to_json::{
    hessian_to_json, transcode_json_text, write_json_text, JsonError, OutputOptions,
    MAX_JSON_DEPTH, MAX_JSON_NODES, MAX_KEY_TEXT, MAX_SAFE_INTEGER,
};

/// Puts the segment of item `index` in front of `path` (a path below that item): `[3]`.
pub(crate) fn prepend_index(path: &mut String, index: usize) {
    path.insert_str(0, &format!("[{index}]"));
}

/// Puts the segment of member `key` in front of `path` (a path below that member), written as
/// [`push_key`] writes it under a non-empty path.
pub(crate) fn prepend_key(path: &mut String, key: &str) {
    let mut segment = String::from("$");
    push_key(&mut segment, key);
    path.insert_str(0, &segment[1..]);
}

/// Appends a key to a path: `.name` for identifier-like keys, `["odd key"]` otherwise (JSON
/// string escaping), and the bare key at the root of an empty path.
pub(crate) fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&serde_json::Value::String(key.to_string()).to_string());
        path.push(']');
    }
}
