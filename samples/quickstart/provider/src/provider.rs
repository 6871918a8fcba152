//! [`SampleProvider`]: the [`Handler`] that dispatches Dubbo requests to the sample services the
//! way a Java provider does. The service is looked up by path, version and group (a mismatch is
//! "not found", status 70); generic `$invoke` calls go through `GenericFilter`'s steps (method by
//! name and parameter types, argument count check, argument realization, result
//! generalization); direct calls are matched by method name and exact parameter types and get
//! their result as plain hessian objects.

use std::time::Duration;

use tianlu_protocol::dubbo::{unpack_generic, Handler, HandlerFuture, ServerError, Status};
use tianlu_protocol::hessian2::Value;
use tianlu_protocol::invocation::Invocation;

use crate::catalog::{find_service, service_key, MethodSig, ServiceDef, ServiceId};
use crate::generalize::generalize;
use crate::model::ENUM_CLASSES;
use crate::services::{CallFailure, EchoService, OrderService, UserService};

/// The sample provider: `UserService`, `OrderService` and `EchoService` with in-memory state.
pub struct SampleProvider {
    slow: Duration,
    users: UserService,
    orders: OrderService,
    echo: EchoService,
}

/// A status-70 (`SERVICE_ERROR`) dispatch failure with `message`.
fn service_error(message: impl Into<String>) -> ServerError {
    ServerError::Status {
        status: Status::ServiceError,
        message: message.into(),
    }
}

/// `null` results are sent as the null-value response.
fn non_null(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        v => Some(v),
    }
}

/// The method a generic call targets and its arguments (empty when the consumer sent `null`,
/// which Java treats as all-`null` arguments).
fn resolve_generic<'a>(
    inv: &'a Invocation,
    service: &ServiceDef,
) -> Result<(&'static MethodSig, &'a [Value]), ServerError> {
    let (name, types, args) = unpack_generic(inv).ok_or_else(|| {
        service_error(
            "Malformed generic invocation: expected $invoke(String method, \
             String[] parameterTypes, Object[] args)",
        )
    })?;
    let name = name.trim();
    let types_given = !matches!(inv.args.get(1), Some(Value::Null));
    let method = service
        .method(name)
        .filter(|m| !types_given || m.params.iter().copied().eq(types.iter().map(|t| t.trim())))
        .ok_or_else(|| {
            let wanted = if types_given {
                format!("{name}({})", types.join(", "))
            } else {
                name.to_string()
            };
            ServerError::method_not_found(service.interface, &wanted)
        })?;
    let args_given = !matches!(inv.args.get(2), Some(Value::Null));
    let expected = if types_given {
        types.len()
    } else {
        method.params.len()
    };
    if args_given && args.len() != expected {
        return Err(service_error(format!(
            "GenericFilter#invoke args.length != types.length, please check your params \
             ({} arguments for {}.{})",
            args.len(),
            service.interface,
            method.signature()
        )));
    }
    Ok((method, args))
}

/// The method a direct call targets: same name and exactly the same parameter types.
fn resolve_direct(
    inv: &Invocation,
    service: &ServiceDef,
) -> Result<&'static MethodSig, ServerError> {
    let method = service
        .method(&inv.method)
        .filter(|m| m.params.iter().eq(inv.parameter_types.iter()))
        .ok_or_else(|| {
            let wanted = format!("{}({})", inv.method, inv.parameter_types.join(", "));
            ServerError::method_not_found(service.interface, &wanted)
        })?;
    if inv.args.len() != method.params.len() {
        return Err(service_error(format!(
            "{} arguments for {}.{}",
            inv.args.len(),
            service.interface,
            method.signature()
        )));
    }
    Ok(method)
}

impl SampleProvider {
    /// A provider whose `whoAmI` answers `name` and which sleeps `slow` before every call.
    pub fn new(name: impl Into<String>, slow: Duration) -> Self {
        SampleProvider {
            slow,
            users: UserService::new(name),
            orders: OrderService::new(),
            echo: EchoService,
        }
    }

    /// Handles one invocation: `Ok(None)` is a `null` result.
    pub async fn handle(&self, inv: Invocation) -> Result<Option<Value>, ServerError> {
        if !self.slow.is_zero() {
            tokio::time::sleep(self.slow).await;
        }
        let version = inv.version.as_deref();
        let group = inv.group.as_deref();
        let service = find_service(&inv.service, version, group).ok_or_else(|| {
            ServerError::service_not_found(&service_key(&inv.service, version, group))
        })?;
        if inv.is_generic() {
            let (method, args) = resolve_generic(&inv, service)?;
            tracing::debug!(
                service = service.interface,
                method = method.name,
                "generic call"
            );
            let value = self.invoke(service, method, args, &inv.attachments).await?;
            Ok(non_null(generalize(value, &ENUM_CLASSES)))
        } else {
            let method = resolve_direct(&inv, service)?;
            tracing::debug!(
                service = service.interface,
                method = method.name,
                "direct call"
            );
            let value = self
                .invoke(service, method, &inv.args, &inv.attachments)
                .await?;
            Ok(non_null(value))
        }
    }

    async fn invoke(
        &self,
        service: &ServiceDef,
        method: &MethodSig,
        args: &[Value],
        attachments: &[(String, String)],
    ) -> Result<Value, ServerError> {
        let result = match service.id {
            ServiceId::User => self.users.invoke(method.name, args).await,
            ServiceId::Order => self.orders.invoke(method.name, args),
            ServiceId::Echo => self.echo.invoke(method.name, args, attachments),
        };
        result.map_err(|failure| match failure {
            CallFailure::Thrown(e) => ServerError::Exception(e),
            CallFailure::BadArgument(e) => service_error(format!(
                "Failed to invoke {}.{}: {e}",
                service.interface,
                method.signature()
            )),
            CallFailure::NoSuchMethod(name) => {
                ServerError::method_not_found(service.interface, &name)
            }
        })
    }
}

impl Handler for SampleProvider {
    fn call(&self, inv: Invocation) -> HandlerFuture<'_> {
        Box::pin(self.handle(inv))
    }
}
