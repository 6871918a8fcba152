//! Java exceptions from Dubbo responses (result flag 0/3), reduced to what an HTTP client needs.
//!
//! Recognises a serialized `Throwable` (`detailMessage`, `cause` — a back reference to itself
//! when there is none —, `stackTrace`, `suppressedExceptions`), Dubbo's `GenericException`
//! (`exceptionClass`, `exceptionMessage`), a generalized map with `"class"`, and anything else
//! (class `unknown`). Custom fields of business exceptions (e.g. `code`) are kept; stack traces
//! never are. Cause chains are bounded by [`MAX_CAUSES`], and cycles end them.

use serde_json::{Map as JsonMap, Value as Json};

use super::to_json::{hessian_to_json, OutputOptions};
use crate::hessian2::Value;

/// Longest cause chain reported.
pub const MAX_CAUSES: usize = 16;

/// Class names of Dubbo's wrapper for generic-call exceptions.
const GENERIC_EXCEPTIONS: &[&str] = &[
    "com.alibaba.dubbo.rpc.service.GenericException",
    "org.apache.dubbo.rpc.service.GenericException",
];

/// `java.lang.Throwable`'s serialized fields, and the names generalized maps use for them.
const THROWABLE_FIELDS: &[&str] = &[
    "class",
    "detailMessage",
    "message",
    "localizedMessage",
    "cause",
    "stackTrace",
    "suppressedExceptions",
    "suppressed",
];

/// `GenericException`'s own fields.
const GENERIC_FIELDS: &[&str] = &["exceptionClass", "exceptionMessage"];

/// A Java exception as reported to HTTP clients.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JavaException {
    /// The exception class (for `GenericException`, the wrapped `exceptionClass`).
    pub class: String,
    /// The message, if any.
    pub message: Option<String>,
    /// The cause chain, outermost first: `(class, message)`.
    pub causes: Vec<(String, Option<String>)>,
    /// Custom fields (not `Throwable`'s own), converted with [`OutputOptions::full`].
    pub fields: JsonMap<String, Json>,
}

impl JavaException {
    /// `class: message`, or the class alone.
    pub fn summary(&self) -> String {
        match &self.message {
            Some(m) => format!("{}: {m}", self.class),
            None => self.class.clone(),
        }
    }

    /// JSON form: `{"exception", "message", "causes": [{"exception", "message"}], "fields"}`;
    /// empty `causes`/`fields` are omitted.
    pub fn to_json(&self) -> Json {
        let mut out = JsonMap::new();
        out.insert("exception".into(), Json::String(self.class.clone()));
        out.insert(
            "message".into(),
            self.message.clone().map_or(Json::Null, Json::String),
        );
        if !self.causes.is_empty() {
            let causes = self
                .causes
                .iter()
                .map(|(class, message)| {
                    let mut c = JsonMap::new();
                    c.insert("exception".into(), Json::String(class.clone()));
                    c.insert(
                        "message".into(),
                        message.clone().map_or(Json::Null, Json::String),
                    );
                    Json::Object(c)
                })
                .collect();
            out.insert("causes".into(), Json::Array(causes));
        }
        if !self.fields.is_empty() {
            out.insert("fields".into(), Json::Object(self.fields.clone()));
        }
        Json::Object(out)
    }
}

/// A uniform view of an exception-like value: its class and a field lookup.
struct View<'v> {
    class: &'v str,
    entries: Vec<(&'v str, &'v Value)>,
}

impl<'v> View<'v> {
    fn of(v: &'v Value) -> Option<Self> {
        match v {
            Value::Object(o) => Some(View {
                class: &o.class.name,
                entries: o.fields().collect(),
            }),
            Value::Map(m) => {
                let class = m.get_str("class").and_then(Value::as_str)?;
                let entries = m
                    .entries
                    .iter()
                    .filter_map(|(k, v)| k.as_str().map(|k| (k, v)))
                    .collect();
                Some(View { class, entries })
            }
            _ => None,
        }
    }

    fn get(&self, name: &str) -> Option<&'v Value> {
        self.entries
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    }

    fn string(&self, name: &str) -> Option<String> {
        self.get(name).and_then(Value::as_str).map(str::to_string)
    }

    fn is_generic_exception(&self) -> bool {
        GENERIC_EXCEPTIONS.contains(&self.class)
    }

    /// `(class, message)`, unwrapping `GenericException`.
    fn class_and_message(&self) -> (String, Option<String>) {
        let message = || {
            self.string("detailMessage")
                .or_else(|| self.string("message"))
        };
        if self.is_generic_exception() {
            if let Some(class) = self.string("exceptionClass") {
                return (class, self.string("exceptionMessage").or_else(message));
            }
        }
        (self.class.to_string(), message())
    }
}

/// Reads an exception from a decoded response value. Never fails: unrecognised values give
/// class `unknown` (with the text as message when the value is a string).
pub fn exception_from_value(v: &Value) -> JavaException {
    let Some(view) = View::of(v) else {
        return JavaException {
            class: "unknown".into(),
            message: v.as_str().map(str::to_string),
            ..JavaException::default()
        };
    };
    let (class, message) = view.class_and_message();
    let mut fields = JsonMap::new();
    for (name, value) in &view.entries {
        let own = THROWABLE_FIELDS.contains(name)
            || (view.is_generic_exception() && GENERIC_FIELDS.contains(name));
        if own {
            continue;
        }
        // A field that closes a cycle (or is too large) is left out rather than failing.
        if let Ok(json) = hessian_to_json(value, &OutputOptions::full()) {
            fields.insert((*name).to_string(), json);
        }
    }
    JavaException {
        class,
        message,
        causes: cause_chain(&view),
        fields,
    }
}

/// Follows `cause` links. `Throwable.cause == this` arrives as a [`Value::Ref`], which ends the
/// chain, as do null, non-exception values and [`MAX_CAUSES`].
fn cause_chain(top: &View<'_>) -> Vec<(String, Option<String>)> {
    let mut causes = Vec::new();
    let mut next = top.get("cause");
    while let Some(cause) = next {
        if causes.len() >= MAX_CAUSES {
            break;
        }
        let Some(view) = View::of(cause) else {
            break;
        };
        causes.push(view.class_and_message());
        next = view.get("cause");
    }
    causes
}
