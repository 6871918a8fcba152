//! `OrderService` through the handler with generic calls: exact decimal totals, the
//! `BigDecimal` object form, enums as names, state transitions.

mod common;

use common::*;
use tianlu_protocol::hessian2::Value;

const ORDER_TYPE: &str = "org.tianlu.sample.Order";

fn item(sku: &str, quantity: Value, price: Value) -> Value {
    map(&[
        ("class", Value::string("org.tianlu.sample.OrderItem")),
        ("sku", Value::string(sku)),
        ("quantity", quantity),
        ("price", price),
    ])
}

fn order(items: Vec<Value>) -> Value {
    map(&[
        ("class", Value::string(ORDER_TYPE)),
        ("userId", Value::Int(1)),
        ("items", Value::list(items)),
    ])
}

fn create(items: Vec<Value>) -> tianlu_protocol::invocation::Invocation {
    generic(ORDER, "createOrder", &[ORDER_TYPE], vec![order(items)])
}

#[tokio::test]
async fn total_is_exact_decimal_arithmetic() {
    let p = provider();
    let created = ok(
        &p,
        create(vec![
            item("A", Value::Int(3), Value::string("19.99")),
            item("B", Value::Int(1), Value::string("0.01")),
        ]),
    )
    .await;
    assert_eq!(
        keys(&created),
        [
            "class",
            "id",
            "userId",
            "items",
            "total",
            "status",
            "createdAt"
        ]
    );
    assert_eq!(field(&created, "class"), &Value::string(ORDER_TYPE));
    assert_eq!(field(&created, "id"), &Value::Long(2));
    assert_eq!(field(&created, "userId"), &Value::Long(1));
    assert_eq!(decimal(field(&created, "total")), "59.98");
    assert_eq!(field(&created, "status"), &Value::string("NEW"));
    assert!(matches!(field(&created, "createdAt"), Value::Date(_)));
    let first = &items(field(&created, "items"))[0];
    assert_eq!(keys(first), ["class", "sku", "quantity", "price"]);
    assert_eq!(decimal(field(first, "price")), "19.99");

    // Doubles and integers are accepted for BigDecimal (via Double.toString), longs for int;
    // 0.1 × 3 + 0.2 is exactly 0.5 (scale 1), never 0.5000000000000001.
    let created = ok(
        &p,
        create(vec![
            item("C", Value::Long(3), Value::Double(0.1)),
            item("D", Value::Int(1), Value::Double(0.2)),
            item("E", Value::Int(2), Value::Int(0)),
        ]),
    )
    .await;
    assert_eq!(decimal(field(&created, "total")), "0.5");
    // Scales add up like Java's BigDecimal: 1.10 × 2 + 0.005 = 2.205.
    let created = ok(
        &p,
        create(vec![
            item("F", Value::Int(2), Value::string("1.10")),
            item("G", Value::Int(1), Value::string("0.005")),
        ]),
    )
    .await;
    assert_eq!(decimal(field(&created, "total")), "2.205");
}

#[tokio::test]
async fn seeded_order_and_payment() {
    let p = provider();
    let get = |id| generic(ORDER, "getOrder", &["long"], vec![Value::Long(id)]);
    let pay = |id| generic(ORDER, "payOrder", &["long"], vec![Value::Long(id)]);
    let seeded = ok(&p, get(1)).await;
    assert_eq!(decimal(field(&seeded, "total")), "39.99");
    assert_eq!(field(&seeded, "status"), &Value::string("NEW"));

    let paid = ok(&p, pay(1)).await;
    assert_eq!(field(&paid, "status"), &Value::string("PAID"));
    assert_eq!(
        field(&ok(&p, get(1)).await, "status"),
        &Value::string("PAID")
    );

    let e = thrown(&p, pay(1)).await;
    assert_eq!(e.class, "java.lang.IllegalStateException");
    assert_eq!(e.message, "order 1 is already PAID");

    let e = thrown(&p, get(7)).await;
    assert_eq!(e.class, "org.tianlu.sample.OrderNotFoundException");
    assert_eq!(e.message, "order 7 not found");
    assert_eq!(e.fields, vec![("code".to_string(), Value::Int(404))]);
}

#[tokio::test]
async fn invalid_orders() {
    let p = provider();
    let e = thrown(&p, create(vec![])).await;
    assert_eq!(e.class, "java.lang.IllegalArgumentException");
    assert_eq!(e.message, "items are required");
    let e = thrown(
        &p,
        create(vec![item("A", Value::Int(0), Value::string("1"))]),
    )
    .await;
    assert_eq!(e.message, "items[0].quantity must be positive");
    let e = thrown(&p, create(vec![item("A", Value::Int(1), Value::Null)])).await;
    assert_eq!(e.message, "items[0].price is required");

    // Conversion failures are dispatch errors (status 70) naming the offending value.
    let msg = status70(
        &p,
        create(vec![item("A", Value::Int(1), Value::string("1,5"))]),
    )
    .await;
    assert!(msg.contains("args[0].items[0].price"), "{msg}");
    let mut with_status = order(vec![item("A", Value::Int(1), Value::string("1"))]);
    if let Value::Map(m) = &mut with_status {
        m.entries
            .push((Value::string("status"), Value::string("LOST")));
    }
    let inv = generic(ORDER, "createOrder", &[ORDER_TYPE], vec![with_status]);
    let msg = status70(&p, inv).await;
    assert!(
        msg.contains("No enum constant org.tianlu.sample.OrderStatus.LOST"),
        "{msg}"
    );
}

#[tokio::test]
async fn status_given_by_the_consumer_is_reset_to_new() {
    let p = provider();
    let mut input = order(vec![item("A", Value::Int(1), Value::string("2.50"))]);
    if let Value::Map(m) = &mut input {
        // The generic enum form with a "name" entry is accepted.
        let status = map(&[("name", Value::string("SHIPPED"))]);
        m.entries.push((Value::string("status"), status));
    }
    let created = ok(
        &p,
        generic(ORDER, "createOrder", &[ORDER_TYPE], vec![input]),
    )
    .await;
    assert_eq!(field(&created, "status"), &Value::string("NEW"));
    assert_eq!(decimal(field(&created, "total")), "2.50");
}
