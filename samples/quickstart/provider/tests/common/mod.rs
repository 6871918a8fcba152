//! Helpers shared by the handler-level tests: building generic and direct invocations, calling a
//! fresh provider, and reading generalized maps.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::time::Duration;

use tianlu_protocol::dubbo::{ProviderError, ServerError, Status};
use tianlu_protocol::hessian2::{Map, Value};
use tianlu_protocol::invocation::Invocation;
use tianlu_sample_provider::SampleProvider;

pub const USER: &str = "org.tianlu.sample.UserService";
pub const ORDER: &str = "org.tianlu.sample.OrderService";
pub const ECHO: &str = "org.tianlu.sample.EchoService";

/// A provider named `test-1` without added latency.
pub fn provider() -> SampleProvider {
    SampleProvider::new("test-1", Duration::ZERO)
}

/// The version a service is exported with.
fn version_of(service: &str) -> Option<String> {
    (service != ECHO).then(|| "1.0.0".to_string())
}

/// A generic call with the right version for `service`.
pub fn generic(service: &str, method: &str, types: &[&str], args: Vec<Value>) -> Invocation {
    let types = types.iter().map(|t| t.to_string()).collect();
    Invocation::generic(service, method, types, args).with_version(version_of(service))
}

/// A direct call (method name + parameter types) with the right version for `service`.
pub fn direct(service: &str, method: &str, types: &[&str], args: Vec<Value>) -> Invocation {
    Invocation {
        service: service.to_string(),
        version: version_of(service),
        group: None,
        method: method.to_string(),
        parameter_types: types.iter().map(|t| t.to_string()).collect(),
        args,
        attachments: Vec::new(),
    }
}

/// Calls `inv` and expects a non-null value.
pub async fn ok(p: &SampleProvider, inv: Invocation) -> Value {
    match p.handle(inv).await {
        Ok(Some(v)) => v,
        other => panic!("expected a value, got {other:?}"),
    }
}

/// Calls `inv` and expects a thrown exception.
pub async fn thrown(p: &SampleProvider, inv: Invocation) -> ProviderError {
    match p.handle(inv).await {
        Err(ServerError::Exception(e)) => e,
        other => panic!("expected an exception, got {other:?}"),
    }
}

/// Calls `inv` and expects a status-70 dispatch failure; returns its message.
pub async fn status70(p: &SampleProvider, inv: Invocation) -> String {
    match p.handle(inv).await {
        Err(ServerError::Status {
            status: Status::ServiceError,
            message,
        }) => message,
        other => panic!("expected status 70, got {other:?}"),
    }
}

/// A string-keyed untyped map.
pub fn map(entries: &[(&str, Value)]) -> Value {
    Value::map(
        entries
            .iter()
            .map(|(k, v)| (Value::string(*k), v.clone()))
            .collect(),
    )
}

/// The value as an untyped map.
pub fn as_map(v: &Value) -> &Map {
    match v {
        Value::Map(m) if m.type_name.is_none() => m,
        other => panic!("expected an untyped map, got {other:?}"),
    }
}

/// Entry `key` of a map value (panics when absent).
pub fn field<'a>(v: &'a Value, key: &str) -> &'a Value {
    as_map(v)
        .get_str(key)
        .unwrap_or_else(|| panic!("no {key} in {v:?}"))
}

/// The keys of a map value, in order.
pub fn keys(v: &Value) -> Vec<String> {
    as_map(v)
        .entries
        .iter()
        .map(|(k, _)| k.as_str().expect("string key").to_string())
        .collect()
}

/// The list items of a value.
pub fn items(v: &Value) -> &[Value] {
    match v {
        Value::List(l) => &l.items,
        other => panic!("expected a list, got {other:?}"),
    }
}

/// The `value` string of a generalized `BigDecimal` (`{class java.math.BigDecimal, value}`
/// object).
pub fn decimal(v: &Value) -> &str {
    match v {
        Value::Object(o)
            if o.class.name == "java.math.BigDecimal" && o.class.fields == ["value"] =>
        {
            o.field("value")
                .and_then(Value::as_str)
                .expect("string value")
        }
        other => panic!("expected a BigDecimal object, got {other:?}"),
    }
}
