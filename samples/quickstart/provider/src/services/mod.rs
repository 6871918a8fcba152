//! The service implementations: [`UserService`], [`OrderService`] and [`EchoService`]. Each takes
//! the arguments of one matched method (count already checked), realizes them to Java types and
//! returns the result as the hessian value a Java provider would write before any
//! generalization (`null` as [`Value::Null`]).

mod echo;
mod order;
mod user;

use std::time::{SystemTime, UNIX_EPOCH};

use tianlu_protocol::dubbo::ProviderError;
use tianlu_protocol::hessian2::Value;

use crate::convert::{self, ConvertError};

pub use echo::EchoService;
pub use order::OrderService;
pub use user::UserService;

/// How a service method failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallFailure {
    /// An argument could not be converted to the parameter type (a dispatch failure in Java:
    /// status 70).
    #[error(transparent)]
    BadArgument(#[from] ConvertError),
    /// The method threw this exception (a status-20 exception response).
    #[error(transparent)]
    Thrown(#[from] ProviderError),
    /// The service has no method of this name (the dispatcher checks first; kept for safety).
    #[error("no method {0}")]
    NoSuchMethod(String),
}

/// Argument `i`, `null` when missing.
pub(crate) fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Null)
}

/// The path of argument `i` in error messages.
pub(crate) fn arg_path(i: usize) -> String {
    format!("args[{i}]")
}

/// A primitive `long` argument.
pub(crate) fn long_arg(args: &[Value], i: usize) -> Result<i64, ConvertError> {
    let path = arg_path(i);
    convert::required(convert::long(arg(args, i), &path)?, &path, "long")
}

/// A primitive `int` argument.
pub(crate) fn int_arg(args: &[Value], i: usize) -> Result<i32, ConvertError> {
    let path = arg_path(i);
    convert::required(convert::int(arg(args, i), &path)?, &path, "int")
}

/// A `String` argument.
pub(crate) fn string_arg(args: &[Value], i: usize) -> Result<Option<String>, ConvertError> {
    convert::string(arg(args, i), &arg_path(i))
}

/// `new IllegalArgumentException(message)`.
pub(crate) fn illegal_argument(message: impl Into<String>) -> ProviderError {
    ProviderError::new("java.lang.IllegalArgumentException", message)
}

/// A string result, `null` when absent.
pub(crate) fn string_value(s: Option<String>) -> Value {
    s.map_or(Value::Null, Value::String)
}

/// The current time as epoch milliseconds (`new Date()`).
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Locks a mutex, ignoring poisoning: the guarded maps stay consistent because every update is
/// a single insert or field assignment.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
