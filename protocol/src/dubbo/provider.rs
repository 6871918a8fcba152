//! What a Rust provider implements to be served by [`serve`](super::serve): the [`Handler`]
//! trait, the errors it can return ([`ServerError`], with [`ProviderError`] encoded as a Java
//! exception object exactly as hessian-lite writes a `Throwable`), and [`unpack_generic`] for
//! handlers that implement `$invoke`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::hessian2::{ClassDef, Value};
use crate::invocation::Invocation;

use super::status::Status;

/// The future a [`Handler`] returns.
pub type HandlerFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Value>, ServerError>> + Send + 'a>>;

/// A provider: answers decoded invocations. `Ok(None)` is a `null`/`void` result.
pub trait Handler: Send + Sync + 'static {
    /// Handles one call.
    fn call(&self, inv: Invocation) -> HandlerFuture<'_>;
}

/// A [`Handler`] made from an async closure: `FnHandler(|inv| async move { … })`.
pub struct FnHandler<F>(pub F);

impl<F, Fut> Handler for FnHandler<F>
where
    F: Fn(Invocation) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Value>, ServerError>> + Send + 'static,
{
    fn call(&self, inv: Invocation) -> HandlerFuture<'_> {
        Box::pin((self.0)(inv))
    }
}

/// How a call failed on the provider.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServerError {
    /// The method threw: sent as a status-20 response with result flag 0/3 and the exception.
    #[error("{0}")]
    Exception(ProviderError),
    /// The call could not be dispatched (unknown service or method, bad arguments): sent as a
    /// response with this status and the message as error text.
    #[error("status {status}: {message}")]
    Status {
        /// The response status (70 `SERVICE_ERROR` is what Java uses for dispatch failures).
        status: Status,
        /// The error text.
        message: String,
    },
}

impl ServerError {
    /// Status 70 "Not found exported service", as Java answers an unknown service.
    pub fn service_not_found(service: &str) -> Self {
        ServerError::Status {
            status: Status::ServiceError,
            message: format!("Not found exported service: {service}"),
        }
    }

    /// Status 70 for a method the service does not have.
    pub fn method_not_found(service: &str, method: &str) -> Self {
        ServerError::Status {
            status: Status::ServiceError,
            message: format!("Not found method {method} in service {service}"),
        }
    }
}

impl From<ProviderError> for ServerError {
    fn from(e: ProviderError) -> Self {
        ServerError::Exception(e)
    }
}

/// A Java exception thrown by a provider method.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{class}: {message}")]
pub struct ProviderError {
    /// The Java class name, e.g. `java.lang.IllegalArgumentException`.
    pub class: String,
    /// The message (`detailMessage`).
    pub message: String,
    /// Fields of the exception class beyond `Throwable`'s, in declaration order.
    pub fields: Vec<(String, Value)>,
}

impl ProviderError {
    /// An exception of `class` with `message` and no extra fields.
    pub fn new(class: impl Into<String>, message: impl Into<String>) -> Self {
        ProviderError {
            class: class.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// Adds a field of the exception class.
    pub fn with_field(mut self, name: impl Into<String>, value: Value) -> Self {
        self.fields.push((name.into(), value));
        self
    }

    /// The exception as hessian-lite writes a `Throwable`: subclass fields first, then
    /// `detailMessage`, `cause` (a back reference to the exception itself, Java's "no cause"),
    /// an empty `[java.lang.StackTraceElement` array and an empty `suppressedExceptions` list.
    ///
    /// The self reference is index 0, so the object must be the first map/list/object of its
    /// message body, which it is in a response body.
    pub fn to_value(&self) -> Value {
        let mut names: Vec<String> = self.fields.iter().map(|(n, _)| n.clone()).collect();
        let mut values: Vec<Value> = self.fields.iter().map(|(_, v)| v.clone()).collect();
        names.extend(
            [
                "detailMessage",
                "cause",
                "stackTrace",
                "suppressedExceptions",
            ]
            .map(String::from),
        );
        values.extend([
            Value::string(self.message.clone()),
            Value::Ref(0),
            Value::typed_list("[java.lang.StackTraceElement", Vec::new()),
            Value::list(Vec::new()),
        ]);
        let class = Arc::new(ClassDef {
            name: self.class.clone(),
            fields: names,
        });
        Value::object(class, values)
    }
}

/// For a generic `$invoke(method, types, args)` call: the target method, the Java type names
/// (empty when the consumer sent `null`) and the arguments. `None` when `inv` is not a
/// well-formed generic call.
pub fn unpack_generic(inv: &Invocation) -> Option<(&str, Vec<String>, &[Value])> {
    if !inv.is_generic() {
        return None;
    }
    let [method, types, args] = inv.args.as_slice() else {
        return None;
    };
    let method = method.as_str()?;
    let types = match types {
        Value::Null => Vec::new(),
        Value::List(list) => list
            .items
            .iter()
            .map(|t| t.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()?,
        _ => return None,
    };
    let args: &[Value] = match args {
        Value::Null => &[],
        Value::List(list) => &list.items,
        _ => return None,
    };
    Some((method, types, args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_value_has_java_throwable_shape() {
        let e = ProviderError::new("org.example.BizException", "no such user")
            .with_field("code", Value::Int(404));
        let Value::Object(obj) = e.to_value() else {
            panic!("not an object")
        };
        assert_eq!(obj.class.name, "org.example.BizException");
        let names: Vec<&str> = obj.fields().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "code",
                "detailMessage",
                "cause",
                "stackTrace",
                "suppressedExceptions"
            ]
        );
        assert_eq!(obj.field("code"), Some(&Value::Int(404)));
        assert_eq!(
            obj.field("detailMessage"),
            Some(&Value::string("no such user"))
        );
        assert_eq!(obj.field("cause"), Some(&Value::Ref(0)));
        assert!(matches!(
            obj.field("stackTrace"),
            Some(Value::List(l)) if l.items.is_empty()
                && l.type_name.as_deref() == Some("[java.lang.StackTraceElement")
        ));
    }

    #[test]
    fn unpacks_generic_calls() {
        let inv = Invocation::generic(
            "org.example.Greeter",
            "sayHello",
            vec!["java.lang.String".into()],
            vec![Value::string("world")],
        );
        let (method, types, args) = unpack_generic(&inv).unwrap();
        assert_eq!(method, "sayHello");
        assert_eq!(types, vec!["java.lang.String".to_string()]);
        assert_eq!(args, &[Value::string("world")]);

        let mut null_types = inv.clone();
        null_types.args[1] = Value::Null;
        assert_eq!(unpack_generic(&null_types).unwrap().1, Vec::<String>::new());

        let mut bad = inv.clone();
        bad.args[0] = Value::Int(1);
        assert!(unpack_generic(&bad).is_none());
        let mut bad_types = inv.clone();
        bad_types.args[1] = Value::list(vec![Value::Int(1)]);
        assert!(unpack_generic(&bad_types).is_none());
        let mut plain = inv;
        plain.method = "sayHello".into();
        assert!(unpack_generic(&plain).is_none());
    }

    #[test]
    fn server_errors() {
        let e: ServerError = ProviderError::new("java.lang.RuntimeException", "x").into();
        assert!(matches!(e, ServerError::Exception(_)));
        assert!(matches!(
            ServerError::service_not_found("a.B"),
            ServerError::Status { status: Status::ServiceError, message } if message.contains("a.B")
        ));
    }
}
