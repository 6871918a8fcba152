//! Compiling a `mappingParams` list into a [`Mapping`], checking the whole list: sources,
//! targets, positions without gaps or repeats, `opt.values` not mixed with positions,
//! `parameterTypes` arity, `mapType` syntax, and `allowInterfaces` for `opt.interface`.

use super::java_type::java_type_problem;
use super::{MapSource, MapTarget, Mapping, MappingParam};
use crate::allow::AllowList;
use crate::yaml::reader::{as_string, Ctx, MapView};
use crate::yaml::{Kind, Node};

/// What the route around a `mappingParams` list tells the compiler.
pub(crate) struct RouteFacts<'a> {
    pub(crate) path: &'a str,
    pub(crate) path_params: &'a [String],
    pub(crate) parameter_types: Option<&'a [String]>,
    pub(crate) parameter_types_line: usize,
    pub(crate) parameter_types_path: String,
    pub(crate) mapping_line: usize,
    pub(crate) allow_interfaces: &'a AllowList,
    pub(crate) has_static_interface: bool,
    pub(crate) has_static_method: bool,
}

/// Compiles the `mappingParams` list at `path`, recording every problem in `cx`.
pub(crate) fn compile(
    cx: &mut Ctx,
    list: Option<&Node>,
    path: &str,
    facts: &RouteFacts<'_>,
) -> Mapping {
    let items: Vec<(String, &Node)> = match list {
        Some(node) => crate::yaml::reader::list_items(cx, node, path),
        None => Vec::new(),
    };
    let mut params: Vec<MappingParam> = Vec::new();
    let mut positions: Vec<(usize, usize)> = Vec::new(); // (position, line)
    let mut values_line = None;
    for (item_path, node) in items {
        let mut m = MapView::new(cx, node, item_path.as_str());
        let name = m.req_string(cx, "name");
        let map_to = m.get("mapTo");
        let map_type = m.string(cx, "mapType");
        let map_to_path = m.child("mapTo");
        let map_to_line = m.key_line("mapTo");
        let map_type_line = m.key_line("mapType");
        let name_line = m.key_line("name");
        m.finish(cx);

        let source = name.and_then(|n| match MapSource::parse(&n) {
            Ok(src) => Some((n, src)),
            Err(e) => {
                cx.problem(name_line, &join_key(&item_path, "name"), e);
                None
            }
        });
        if let Some((n, MapSource::Uri(p))) = &source {
            if !facts.path_params.contains(p) {
                let known = if facts.path_params.is_empty() {
                    "it has none".to_owned()
                } else {
                    format!("it has: {}", facts.path_params.join(", "))
                };
                cx.problem(
                    name_line,
                    &join_key(&item_path, "name"),
                    format!(
                        "{n:?} does not name a path parameter of {} ({known})",
                        facts.path
                    ),
                );
            }
        }
        let target = match map_to {
            None => {
                cx.problem(map_to_line, &map_to_path, "missing required key");
                None
            }
            Some(n) if matches!(n.kind, Kind::Int(..) | Kind::Str(_)) => {
                let text = n.scalar_text().unwrap_or_default();
                match MapTarget::parse(text) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        cx.problem(map_to_line, &map_to_path, e);
                        None
                    }
                }
            }
            Some(n) => {
                let _ = as_string(cx, n, &map_to_path);
                if n.scalar_text().is_some() {
                    cx.problem(
                        map_to_line,
                        &map_to_path,
                        format!(
                            "expected an argument position or opt.*, found {}",
                            n.shape()
                        ),
                    );
                }
                None
            }
        };
        if let Some(t) = &map_type {
            let type_path = join_key(&item_path, "mapType");
            if let Some(why) = java_type_problem(t) {
                cx.problem(
                    map_type_line,
                    &type_path,
                    format!("{t:?} is not a Java type name: {why}"),
                );
            } else if target.is_some_and(|t| !matches!(t, MapTarget::Arg(_))) {
                cx.problem(
                    map_type_line,
                    &type_path,
                    "mapType only applies to positional arguments (mapTo: 0, 1, ...)",
                );
            }
        }
        let (Some((name, source)), Some(target)) = (source, target) else {
            continue;
        };
        match target {
            MapTarget::Arg(n) => {
                if positions.iter().any(|(p, _)| *p == n) {
                    cx.problem(
                        map_to_line,
                        &map_to_path,
                        format!("argument position {n} is mapped twice"),
                    );
                }
                positions.push((n, map_to_line));
            }
            t => {
                if params.iter().any(|p| p.target == t) {
                    cx.problem(
                        map_to_line,
                        &map_to_path,
                        format!("{} is mapped twice", t.name()),
                    );
                }
                if t == MapTarget::Values {
                    values_line = Some((map_to_line, map_to_path.clone()));
                }
                if t == MapTarget::Interface && facts.allow_interfaces.is_empty() {
                    let allow_path = parent_key(path).map_or_else(
                        || "allowInterfaces".to_owned(),
                        |p| join_key(p, "allowInterfaces"),
                    );
                    cx.problem(map_to_line, &allow_path, "allowInterfaces must list the interfaces clients may call when opt.interface comes from the request");
                }
            }
        }
        params.push(MappingParam {
            name,
            source,
            target,
            map_type,
        });
    }
    let arg_count = positions.iter().map(|(p, _)| p + 1).max().unwrap_or(0);
    if let Some((line, p)) = &values_line {
        if !positions.is_empty() {
            cx.problem(
                *line,
                p,
                "opt.values cannot be combined with positional mappings (mapTo: 0, 1, ...)",
            );
        }
    }
    if let Some(missing) = (0..arg_count).find(|i| !positions.iter().any(|(p, _)| p == i)) {
        let line = facts.mapping_line;
        cx.problem(
            line,
            path,
            format!(
                "argument positions must be contiguous from 0: position {missing} is not mapped"
            ),
        );
    }
    if let Some(types) = facts.parameter_types {
        if values_line.is_none() && types.len() != arg_count {
            cx.problem(
                facts.parameter_types_line,
                &facts.parameter_types_path,
                format!("parameterTypes lists {} type(s) but mappingParams maps {arg_count} positional argument(s)", types.len()),
            );
        }
    }
    Mapping {
        params,
        arg_count,
        parameter_types: facts.parameter_types.map(<[String]>::to_vec),
        allow_interfaces: facts.allow_interfaces.clone(),
        has_static_interface: facts.has_static_interface,
        has_static_method: facts.has_static_method,
    }
}

fn join_key(parent: &str, key: &str) -> String {
    crate::yaml::reader::join(parent, key)
}

/// `a.b` for `a.b.c`.
fn parent_key(path: &str) -> Option<&str> {
    path.rsplit_once('.').map(|(p, _)| p)
}
