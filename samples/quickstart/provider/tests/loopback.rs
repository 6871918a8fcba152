//! The provider served over real TCP on 127.0.0.1 and called with the protocol crate's
//! `Endpoint`, as the gateway calls it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use tianlu_protocol::dubbo::{
    serve_with_shutdown, CallError, ClientConfig, Endpoint, RpcOutcome, ServerConfig, Status,
};
use tianlu_protocol::hessian2::Value;
use tianlu_sample_provider::SampleProvider;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const TIMEOUT: Duration = Duration::from_secs(5);

async fn value(endpoint: &Endpoint, inv: tianlu_protocol::invocation::Invocation) -> Value {
    match endpoint.call(&inv, TIMEOUT).await.expect("call").outcome {
        RpcOutcome::Value(v) => v,
        other => panic!("expected a value, got {other:?}"),
    }
}

#[tokio::test]
async fn generic_calls_over_tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let provider = Arc::new(SampleProvider::new("loop-1", Duration::ZERO));
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(serve_with_shutdown(
        listener,
        provider,
        ServerConfig::default(),
        async move {
            let _ = stop_rx.await;
        },
    ));
    let endpoint = Endpoint::new(addr, ClientConfig::default());

    // A generalized User: an untyped map, "class" first, nested Address map, hessian date.
    let user = value(
        &endpoint,
        generic(USER, "getUser", &["long"], vec![Value::Long(1)]),
    )
    .await;
    let Value::Map(m) = &user else {
        panic!("expected a map, got {user:?}")
    };
    assert_eq!(m.type_name, None);
    assert_eq!(
        m.entries.first(),
        Some(&(
            Value::string("class"),
            Value::string("org.tianlu.sample.User")
        ))
    );
    assert_eq!(field(&user, "name"), &Value::string("alice"));
    assert_eq!(field(&user, "createdAt"), &Value::Date(1_704_067_200_000));
    assert_eq!(
        field(field(&user, "address"), "class"),
        &Value::string("org.tianlu.sample.Address")
    );

    // An order: BigDecimal as a {value} object, the enum as its name.
    let order = value(
        &endpoint,
        generic(ORDER, "getOrder", &["long"], vec![Value::Long(1)]),
    )
    .await;
    assert_eq!(decimal(field(&order, "total")), "39.99");
    assert_eq!(field(&order, "status"), &Value::string("NEW"));
    let first = &items(field(&order, "items"))[0];
    assert_eq!(decimal(field(first, "price")), "19.99");

    // A thrown exception arrives as a Throwable object with its custom field.
    let inv = generic(USER, "getUser", &["long"], vec![Value::Long(404)]);
    match endpoint.call(&inv, TIMEOUT).await.expect("call").outcome {
        RpcOutcome::Exception(Value::Object(e)) => {
            assert_eq!(e.class.name, "org.tianlu.sample.UserNotFoundException");
            assert_eq!(e.field("code"), Some(&Value::Int(404)));
            assert_eq!(
                e.field("detailMessage"),
                Some(&Value::string("user 404 not found"))
            );
        }
        other => panic!("expected an exception object, got {other:?}"),
    }

    // A version mismatch is a status-70 response.
    let wrong = generic(USER, "whoAmI", &[], vec![]).with_version(Some("9.9.9".into()));
    match endpoint.call(&wrong, TIMEOUT).await {
        Err(CallError::Status { status, message }) => {
            assert_eq!(status, Status::ServiceError);
            assert!(message.contains("Not found exported service"), "{message}");
        }
        other => panic!("expected status 70, got {other:?}"),
    }
    let me = value(&endpoint, generic(USER, "whoAmI", &[], vec![])).await;
    assert_eq!(me, Value::string("loop-1"));

    stop_tx.send(()).unwrap();
    tokio::time::timeout(TIMEOUT, server)
        .await
        .expect("server stops")
        .expect("server task")
        .expect("server result");
}
