//! Applying a compiled [`Mapping`] to one request: [`RequestView`] in, [`Extracted`] (positional
//! arguments plus `opt.*` values) or a [`MappingError`] naming the field out.
//!
//! uri/query/header values are JSON strings (the gateway coerces them by Java type); body values
//! keep their JSON shape. Sources for `opt.group`, `opt.version`, `opt.types` and `opt.values` are
//! optional (missing = unset; missing `opt.values` = no arguments); every other source is required.

use serde_json::Value;

use super::java_type::is_valid_java_type;
use super::{MapSource, MapTarget, Mapping};
use crate::params::{query_param, Params};

/// The parts of an HTTP request a mapping reads. Free of any HTTP crate.
#[derive(Clone, Copy)]
pub struct RequestView<'a> {
    /// Path parameters from the route match.
    pub params: &'a Params,
    /// The raw query string, without the leading `?` (empty when there is none).
    pub query: &'a str,
    /// Header lookup by name; must be case-insensitive (as `http::HeaderMap::get` is).
    pub headers: &'a dyn Fn(&str) -> Option<&'a str>,
    /// The parsed JSON body, if the request had one.
    pub body: Option<&'a Value>,
}

/// What kind of failure a [`MappingError`] is; the gateway picks the status from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingErrorKind {
    /// A required source is absent (400).
    Missing,
    /// A value has the wrong shape (400).
    Invalid,
    /// The value names an interface the route does not allow (403).
    NotAllowed,
}

/// A request that does not fit the route's mapping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct MappingError {
    /// The source, e.g. `queryStrings.age`.
    pub field: String,
    /// What is wrong, e.g. `required query parameter is missing`.
    pub reason: String,
    /// Missing, invalid or not allowed.
    pub kind: MappingErrorKind,
}

impl MappingError {
    pub(crate) fn new(field: &str, kind: MappingErrorKind, reason: impl Into<String>) -> Self {
        MappingError {
            field: field.to_owned(),
            reason: reason.into(),
            kind,
        }
    }
}

/// One positional argument.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractedArg {
    /// The value (a JSON string for uri/query/header sources).
    pub value: Value,
    /// The Java type of this argument: the route's `parameterTypes[i]` if declared, else the
    /// request's `opt.types[i]` if given, else the mapping's `mapType`.
    pub map_type: Option<String>,
    /// The source name, e.g. `queryStrings.age`, for error messages.
    pub source: String,
}

/// The `opt.*` values taken from the request. Each overrides the route's static value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptValues {
    /// `opt.interface` (already checked against `allowInterfaces`).
    pub interface: Option<String>,
    /// `opt.method`.
    pub method: Option<String>,
    /// `opt.group`.
    pub group: Option<String>,
    /// `opt.version`.
    pub version: Option<String>,
    /// `opt.types` (each a syntactically valid Java type name).
    pub types: Option<Vec<String>>,
    /// `opt.values`.
    pub values: Option<Vec<Value>>,
}

/// The result of applying a mapping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    /// Positional arguments, `args[i]` = position i (empty when the route uses `opt.values`).
    pub args: Vec<ExtractedArg>,
    /// `opt.*` values.
    pub opt: OptValues,
}

fn missing(field: &str, reason: &str) -> MappingError {
    MappingError::new(field, MappingErrorKind::Missing, reason)
}

fn invalid(field: &str, reason: impl Into<String>) -> MappingError {
    MappingError::new(field, MappingErrorKind::Invalid, reason)
}

/// Walks `path` into `body`: object keys, and array indexes for all-digit steps.
fn walk<'v>(body: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(body, |v, step| match v {
        Value::Object(map) => map.get(step),
        Value::Array(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn text_of(field: &str, value: Value) -> Result<String, MappingError> {
    match value {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(invalid(
            field,
            format!("must be a string, found {}", json_shape(&other)),
        )),
    }
}

fn json_shape(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn types_of(field: &str, value: Value) -> Result<Vec<String>, MappingError> {
    let types: Vec<String> = match value {
        Value::String(csv) => csv
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_owned()),
                other => Err(invalid(
                    field,
                    format!("each type must be a string, found {}", json_shape(&other)),
                )),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(invalid(
                field,
                format!(
                    "must be a comma-separated string or an array of type names, found {}",
                    json_shape(&other)
                ),
            ))
        }
    };
    if let Some(bad) = types.iter().find(|t| !is_valid_java_type(t)) {
        return Err(invalid(field, format!("{bad:?} is not a Java type name")));
    }
    Ok(types)
}

impl Mapping {
    /// Reads one source; `Ok(None)` when it is absent and the target does not require it.
    fn read(
        &self,
        req: &RequestView<'_>,
        source: &MapSource,
        field: &str,
        required: bool,
    ) -> Result<Option<Value>, MappingError> {
        let found = match source {
            MapSource::Uri(name) => req.params.get(name).map(|v| Value::String(v.to_owned())),
            MapSource::Query(name) => {
                query_param(req.query, name).map(|v| Value::String(v.into_owned()))
            }
            MapSource::Header(name) => (req.headers)(name).map(|v| Value::String(v.to_owned())),
            MapSource::BodyAll => req.body.cloned(),
            MapSource::Body(path) => req.body.and_then(|b| walk(b, path)).cloned(),
        };
        match found {
            Some(v) => Ok(Some(v)),
            None if !required => Ok(None),
            None => Err(missing(
                field,
                match source {
                    MapSource::Uri(_) => "path parameter is missing",
                    MapSource::Query(_) => "required query parameter is missing",
                    MapSource::Header(_) => "required header is missing",
                    _ if req.body.is_none() => "request body is missing",
                    MapSource::BodyAll => "request body is missing",
                    MapSource::Body(_) => "field is missing in the request body",
                },
            )),
        }
    }

    /// Applies the mapping to one request (see module docs for the rules).
    pub fn extract(&self, req: &RequestView<'_>) -> Result<Extracted, MappingError> {
        let mut out = Extracted::default();
        let mut args: Vec<Option<ExtractedArg>> = vec![None; self.arg_count];
        let field_of = |target: MapTarget, default: &'static str| {
            self.params
                .iter()
                .find(|p| p.target == target)
                .map_or(default, |p| p.name.as_str())
        };
        let values_field = field_of(MapTarget::Values, "opt.values");
        let types_field = field_of(MapTarget::Types, "opt.types");
        for p in &self.params {
            let required = match p.target {
                MapTarget::Arg(_) => true,
                MapTarget::Interface => !self.has_static_interface,
                MapTarget::Method => !self.has_static_method,
                MapTarget::Group | MapTarget::Version | MapTarget::Types | MapTarget::Values => {
                    false
                }
            };
            let Some(value) = self.read(req, &p.source, &p.name, required)? else {
                continue;
            };
            match p.target {
                MapTarget::Arg(i) => {
                    if let Some(slot) = args.get_mut(i) {
                        *slot = Some(ExtractedArg {
                            value,
                            map_type: p.map_type.clone(),
                            source: p.name.clone(),
                        });
                    }
                }
                MapTarget::Interface => {
                    let name = text_of(&p.name, value)?;
                    if name.trim().is_empty() {
                        return Err(invalid(&p.name, "interface must not be empty"));
                    }
                    if !self.allow_interfaces.allows(&name) {
                        return Err(MappingError::new(
                            &p.name,
                            MappingErrorKind::NotAllowed,
                            format!("interface {name:?} is not allowed on this route"),
                        ));
                    }
                    out.opt.interface = Some(name);
                }
                MapTarget::Method => {
                    let name = text_of(&p.name, value)?;
                    if name.trim().is_empty() {
                        return Err(invalid(&p.name, "method must not be empty"));
                    }
                    out.opt.method = Some(name);
                }
                MapTarget::Group => out.opt.group = Some(text_of(&p.name, value)?),
                MapTarget::Version => out.opt.version = Some(text_of(&p.name, value)?),
                MapTarget::Types => out.opt.types = Some(types_of(&p.name, value)?),
                MapTarget::Values => {
                    out.opt.values = match value {
                        Value::Array(items) => Some(items),
                        Value::Null => None,
                        single => Some(vec![single]),
                    };
                }
            }
        }
        out.args = args.into_iter().flatten().collect();
        let declared = self.parameter_types.as_ref().or(out.opt.types.as_ref());
        if let Some(types) = declared {
            let (count, field) = match &out.opt.values {
                Some(values) => (values.len(), values_field),
                None if self.maps(MapTarget::Values) => (0, values_field),
                None => (out.args.len(), types_field),
            };
            if count != types.len() {
                return Err(invalid(
                    field,
                    format!(
                        "{count} argument value(s) but {} parameter type(s)",
                        types.len()
                    ),
                ));
            }
            for (arg, t) in out.args.iter_mut().zip(types) {
                arg.map_type = Some(t.clone());
            }
        }
        Ok(out)
    }
}
