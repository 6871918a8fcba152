//! Arguments of routes generated from registry metadata, which have no mapping: the JSON body
//! is either pixiu's `{"types": …, "values": …}` or the arguments themselves (a JSON array of
//! them, or the only argument), and the Java types come from the method's declared signatures
//! (a client's `types` must name one of them). With no declared signature known, a client's
//! `types` are used as given (and checked against the class allowlist by the caller).

use crate::error::GatewayError;
use serde_json::Value as Json;

/// The values to send and their types.
#[derive(Debug, PartialEq)]
pub struct Arguments {
    /// The argument values, in order, with the name used in error messages.
    pub values: Vec<(Json, String)>,
    /// The Java types (`None`: unknown; the provider resolves the method by name).
    pub types: Option<Vec<String>>,
    /// True when the types came from the client rather than from a declared signature.
    pub client_types: bool,
}

fn is_collection(t: &str) -> bool {
    t.ends_with("[]")
        || matches!(
            t.split('<').next().unwrap_or(t),
            "java.util.List"
                | "java.util.ArrayList"
                | "java.util.Set"
                | "java.util.HashSet"
                | "java.util.Collection"
        )
}

fn render(sig: &[String]) -> String {
    format!("({})", sig.join(", "))
}

fn parse_types(v: &Json) -> Result<Vec<String>, GatewayError> {
    let list: Vec<String> = match v {
        Json::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, t)| {
                t.as_str().map(|s| s.trim().to_owned()).ok_or_else(|| {
                    GatewayError::bad_request(format!("types[{i}]"), "must be a Java type name")
                })
            })
            .collect::<Result<_, _>>()?,
        Json::Null => Vec::new(),
        _ => {
            return Err(GatewayError::bad_request(
                "types",
                "must be a list of Java type names (or one comma-separated string)",
            ))
        }
    };
    Ok(list)
}

/// Reads `body` against `signatures` of `method`.
pub fn arguments(
    body: Option<&Json>,
    method: &str,
    signatures: &[Vec<String>],
) -> Result<Arguments, GatewayError> {
    let pixiu = matches!(body, Some(Json::Object(m)) if m.contains_key("values") || m.contains_key("types"));
    let (values, client): (Vec<(Json, String)>, Option<Vec<String>>) = if pixiu {
        let Some(Json::Object(m)) = body else {
            unreachable!("checked above")
        };
        let values = match m.get("values") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(items)) => items
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, v)| (v, format!("values[{i}]")))
                .collect(),
            Some(one) => vec![(one.clone(), "values".to_owned())],
        };
        let types = m.get("types").map(parse_types).transpose()?;
        (values, types)
    } else {
        match body {
            None | Some(Json::Null) => (Vec::new(), None),
            Some(Json::Array(items)) => {
                // `[a, b]` are the arguments, unless the method takes one collection and no
                // other signature takes that many arguments: then it is that one argument.
                let single = signatures
                    .iter()
                    .any(|s| s.len() == 1 && is_collection(&s[0]));
                let by_position = signatures
                    .iter()
                    .any(|s| s.len() == items.len() && !(s.len() == 1 && is_collection(&s[0])));
                if single && !by_position {
                    (vec![(Json::Array(items.clone()), "body".to_owned())], None)
                } else {
                    let values = items
                        .iter()
                        .cloned()
                        .enumerate()
                        .map(|(i, v)| (v, format!("body[{i}]")))
                        .collect();
                    (values, None)
                }
            }
            Some(one) => (vec![(one.clone(), "body".to_owned())], None),
        }
    };
    let n = values.len();
    if let Some(types) = client {
        if types.len() != n {
            return Err(GatewayError::bad_request(
                "types",
                format!("{} types for {n} values", types.len()),
            ));
        }
        if signatures.is_empty() {
            return Ok(Arguments {
                values,
                types: Some(types),
                client_types: true,
            });
        }
        return match signatures.iter().find(|s| **s == types) {
            Some(sig) => Ok(Arguments {
                values,
                types: Some(sig.clone()),
                client_types: false,
            }),
            None => Err(GatewayError::bad_request(
                "types",
                format!(
                    "{method}{} is not declared; the provider declares {}",
                    render(&types),
                    signatures
                        .iter()
                        .map(|s| format!("{method}{}", render(s)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        };
    }
    if signatures.is_empty() {
        return Ok(Arguments {
            values,
            types: None,
            client_types: false,
        });
    }
    let fitting: Vec<&Vec<String>> = signatures.iter().filter(|s| s.len() == n).collect();
    match fitting.as_slice() {
        [one] => Ok(Arguments {
            values,
            types: Some((*one).clone()),
            client_types: false,
        }),
        [] => Err(GatewayError::bad_request(
            "body",
            format!(
                "{method} takes {} argument(s), got {n}",
                signatures
                    .iter()
                    .map(|s| s.len().to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        )),
        _ => Err(GatewayError::bad_request(
            "types",
            format!(
                "{method} is overloaded with {n} parameters ({}); send {{\"types\": [...], \"values\": [...]}}",
                fitting
                    .iter()
                    .map(|s| render(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sigs(list: &[&[&str]]) -> Vec<Vec<String>> {
        list.iter()
            .map(|s| s.iter().map(|t| t.to_string()).collect())
            .collect()
    }

    fn values(a: &Arguments) -> Vec<Json> {
        a.values.iter().map(|(v, _)| v.clone()).collect()
    }

    #[test]
    fn typed_bodies_take_the_declared_signature() {
        let s = sigs(&[&["long"], &["java.lang.String", "int"]]);
        let one = arguments(Some(&json!(7)), "get", &s).unwrap();
        assert_eq!(values(&one), vec![json!(7)]);
        assert_eq!(one.types, Some(vec!["long".to_string()]));
        let two = arguments(Some(&json!(["a", 1])), "get", &s).unwrap();
        assert_eq!(two.types.unwrap(), vec!["java.lang.String", "int"]);
        assert!(!two.client_types);
        let err = arguments(Some(&json!([1, 2, 3])), "get", &s).unwrap_err();
        assert!(
            err.to_string().contains("takes 1 or 2 argument(s), got 3"),
            "{err}"
        );
        let none = arguments(None, "ping", &sigs(&[&[]])).unwrap();
        assert!(none.values.is_empty());
    }

    #[test]
    fn a_single_collection_parameter_takes_the_whole_array() {
        let s = sigs(&[&["java.util.List"]]);
        let a = arguments(Some(&json!([1, 2, 3])), "sum", &s).unwrap();
        assert_eq!(values(&a), vec![json!([1, 2, 3])]);
        let a = arguments(Some(&json!([1])), "sum", &s).unwrap();
        assert_eq!(values(&a), vec![json!([1])]);
    }

    #[test]
    fn pixiu_bodies_must_name_a_declared_signature() {
        let s = sigs(&[&["long"], &["java.lang.String"]]);
        let a = arguments(
            Some(&json!({"types": "java.lang.String", "values": ["x"]})),
            "get",
            &s,
        )
        .unwrap();
        assert_eq!(a.types.unwrap(), vec!["java.lang.String"]);
        let err = arguments(
            Some(&json!({"types": ["com.evil.Gadget"], "values": [{}]})),
            "get",
            &s,
        )
        .unwrap_err();
        assert!(err.to_string().contains("is not declared"), "{err}");
        // Without declared signatures, the client's types go through (the caller checks them).
        let a = arguments(Some(&json!({"types": ["int"], "values": [1]})), "x", &[]).unwrap();
        assert!(a.client_types);
        // Overloads with the same arity need types.
        let s = sigs(&[&["long"], &["java.lang.String"]]);
        let err = arguments(Some(&json!(1)), "get", &s).unwrap_err();
        assert!(err.to_string().contains("overloaded"), "{err}");
    }
}
