//! `org.tianlu.sample.EchoService` (no version), for benchmarks: `String echo(String s)`,
//! `Object echoObject(Object o)` and `int add(int a, int b)`; and `String attachment(String key)`,
//! which answers the request's attachment `key` (null when absent), so tests can see what a
//! gateway sent along with a call.

use tianlu_protocol::hessian2::Value;

use super::{arg, int_arg, string_arg, string_value, CallFailure};

/// The echo service. Stateless.
#[derive(Debug, Clone, Copy, Default)]
pub struct EchoService;

impl EchoService {
    /// Calls `method` (a method of [`crate::catalog::ECHO_SERVICE`]) with `args`.
    pub fn invoke(
        &self,
        method: &str,
        args: &[Value],
        attachments: &[(String, String)],
    ) -> Result<Value, CallFailure> {
        Ok(match method {
            "echo" => string_value(string_arg(args, 0)?),
            // `Object` parameters take any value as it is; a map stays a map.
            "echoObject" => arg(args, 0).clone(),
            // Java int arithmetic wraps on overflow.
            "add" => Value::Int(int_arg(args, 0)?.wrapping_add(int_arg(args, 1)?)),
            "attachment" => {
                let key = string_arg(args, 0)?;
                match attachments
                    .iter()
                    .find(|(k, _)| Some(k.as_str()) == key.as_deref())
                {
                    Some((_, v)) => Value::String(v.clone()),
                    None => Value::Null,
                }
            }
            other => return Err(CallFailure::NoSuchMethod(other.to_string())),
        })
    }
}
