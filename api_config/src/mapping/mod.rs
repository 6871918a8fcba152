//! pixiu's mapping language (`mappingParams`), compiled per route into a [`Mapping`]: where each
//! value comes from ([`MapSource`]: `uri.`, `queryStrings.`, `headers.`, `requestBody.`) and where
//! it goes ([`MapTarget`]: an argument position or an `opt.*` slot). Compilation checks the whole
//! list (sources, positions without gaps, no mixing with `opt.values`, `mapType` syntax);
//! [`Mapping::extract`] (in `extract.rs`) applies it to one request.

mod compile;
mod extract;
pub(crate) mod java_type;

pub(crate) use compile::{compile, RouteFacts};

pub use extract::{
    Extracted, ExtractedArg, MappingError, MappingErrorKind, OptValues, RequestView,
};

use crate::allow::AllowList;

/// Most positional arguments a route may map (Dubbo methods have far fewer).
pub const MAX_ARGS: usize = 255;

/// Where a mapping reads its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapSource {
    /// `uri.<name>`: a path parameter of the route.
    Uri(String),
    /// `queryStrings.<name>`: the first value of a query parameter.
    Query(String),
    /// `headers.<name>`: a request header (case-insensitive).
    Header(String),
    /// `requestBody.a.b.0`: a value inside the JSON body (object keys; array indexes for digits).
    Body(Vec<String>),
    /// `requestBody._all`: the whole JSON body.
    BodyAll,
}

impl MapSource {
    /// Parses a `name` such as `queryStrings.age`.
    pub fn parse(name: &str) -> Result<MapSource, String> {
        let bad = || {
            format!(
                "{name:?} is not a valid source: use uri.<param>, queryStrings.<name>, headers.<name>, requestBody.<path> or requestBody._all"
            )
        };
        let (kind, rest) = name.split_once('.').ok_or_else(bad)?;
        let valid_chars = rest
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if rest.is_empty() || !valid_chars || rest.split('.').any(str::is_empty) {
            return Err(bad());
        }
        match kind {
            "uri" => Ok(MapSource::Uri(rest.to_owned())),
            "queryStrings" => Ok(MapSource::Query(rest.to_owned())),
            "headers" => Ok(MapSource::Header(rest.to_owned())),
            "requestBody" if rest == "_all" => Ok(MapSource::BodyAll),
            "requestBody" => Ok(MapSource::Body(
                rest.split('.').map(str::to_owned).collect(),
            )),
            _ => Err(bad()),
        }
    }
}

/// Where a mapped value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapTarget {
    /// `mapTo: N`: argument position N of the Dubbo method.
    Arg(usize),
    /// `opt.interface`: the interface to call.
    Interface,
    /// `opt.method`: the method to call.
    Method,
    /// `opt.group`: the Dubbo group.
    Group,
    /// `opt.version`: the Dubbo version.
    Version,
    /// `opt.types`: the parameter types (CSV string or JSON array).
    Types,
    /// `opt.values`: all argument values (a list; a single value is wrapped).
    Values,
}

impl MapTarget {
    /// Parses `mapTo` text (`"0"`, `"opt.method"`).
    pub fn parse(text: &str) -> Result<MapTarget, String> {
        let text = text.trim();
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return match text.parse::<usize>() {
                Ok(n) if n < MAX_ARGS => Ok(MapTarget::Arg(n)),
                _ => Err(format!(
                    "argument position {text} is too large (at most {})",
                    MAX_ARGS - 1
                )),
            };
        }
        match text {
            "opt.interface" => Ok(MapTarget::Interface),
            "opt.method" => Ok(MapTarget::Method),
            "opt.group" => Ok(MapTarget::Group),
            "opt.version" => Ok(MapTarget::Version),
            "opt.types" => Ok(MapTarget::Types),
            "opt.values" => Ok(MapTarget::Values),
            "opt.application" => Err("opt.application is deprecated (pixiu removed it); remove this mapping".to_owned()),
            t if t.starts_with('-') && t[1..].bytes().all(|b| b.is_ascii_digit()) && t.len() > 1 => {
                Err(format!("argument position {t} must be a non-negative integer"))
            }
            t => Err(format!(
                "{t:?} is not a target: use an argument position (0, 1, ...) or opt.interface, opt.method, opt.group, opt.version, opt.types, opt.values"
            )),
        }
    }

    /// The `mapTo` spelling.
    pub fn name(&self) -> String {
        match self {
            MapTarget::Arg(n) => n.to_string(),
            MapTarget::Interface => "opt.interface".into(),
            MapTarget::Method => "opt.method".into(),
            MapTarget::Group => "opt.group".into(),
            MapTarget::Version => "opt.version".into(),
            MapTarget::Types => "opt.types".into(),
            MapTarget::Values => "opt.values".into(),
        }
    }
}

/// One compiled `mappingParams` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingParam {
    /// The `name` as written (`queryStrings.age`), used in error messages.
    pub name: String,
    /// Where the value comes from.
    pub source: MapSource,
    /// Where it goes.
    pub target: MapTarget,
    /// The `mapType` as written (a Java type hint), if any.
    pub map_type: Option<String>,
}

/// The compiled mapping of one route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    params: Vec<MappingParam>,
    arg_count: usize,
    parameter_types: Option<Vec<String>>,
    allow_interfaces: AllowList,
    has_static_interface: bool,
    has_static_method: bool,
}

impl Mapping {
    /// The entries in YAML order.
    pub fn params(&self) -> &[MappingParam] {
        &self.params
    }

    /// Number of positional arguments (`mapTo: 0..N`).
    pub fn arg_count(&self) -> usize {
        self.arg_count
    }

    /// True when some entry targets `target`.
    pub fn maps(&self, target: MapTarget) -> bool {
        self.params.iter().any(|p| p.target == target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources() {
        let cases = [
            ("uri.id", Ok(MapSource::Uri("id".into()))),
            ("queryStrings.age", Ok(MapSource::Query("age".into()))),
            ("headers.X-Token", Ok(MapSource::Header("X-Token".into()))),
            (
                "requestBody.user.name",
                Ok(MapSource::Body(vec!["user".into(), "name".into()])),
            ),
            (
                "requestBody.items.0",
                Ok(MapSource::Body(vec!["items".into(), "0".into()])),
            ),
            ("requestBody._all", Ok(MapSource::BodyAll)),
            ("body.x", Err(())),
            ("queryStrings", Err(())),
            ("queryStrings.", Err(())),
            ("requestBody.a..b", Err(())),
            ("uri.a b", Err(())),
        ];
        for (name, want) in cases {
            assert_eq!(MapSource::parse(name).map_err(|_| ()), want, "{name}");
        }
    }

    #[test]
    fn parses_targets() {
        let cases = [
            ("0", Ok(MapTarget::Arg(0))),
            (" 12 ", Ok(MapTarget::Arg(12))),
            ("opt.values", Ok(MapTarget::Values)),
            ("opt.types", Ok(MapTarget::Types)),
            ("opt.application", Err("deprecated")),
            ("-1", Err("non-negative")),
            ("999", Err("too large")),
            ("opt.x", Err("is not a target")),
            ("", Err("is not a target")),
        ];
        for (text, want) in cases {
            match (MapTarget::parse(text), want) {
                (Ok(t), Ok(w)) => assert_eq!(t, w),
                (Err(e), Err(needle)) => assert!(e.contains(needle), "{text}: {e}"),
                (got, want) => panic!("{text}: {got:?} vs {want:?}"),
            }
        }
        assert_eq!(MapTarget::Arg(3).name(), "3");
        assert_eq!(MapTarget::Interface.name(), "opt.interface");
    }
}
