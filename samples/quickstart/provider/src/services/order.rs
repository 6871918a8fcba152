//! `org.tianlu.sample.OrderService` version `1.0.0`: an in-memory order store seeded with order 1,
//! totals computed exactly from the items' `BigDecimal` prices.

use std::collections::BTreeMap;
use std::sync::Mutex;

use tianlu_protocol::dubbo::ProviderError;
use tianlu_protocol::hessian2::Value;

use crate::decimal::Decimal;
use crate::model::{Order, OrderItem, OrderStatus};

use super::{arg, arg_path, illegal_argument, lock, long_arg, now_millis, CallFailure};

/// The exception class thrown for an unknown order id.
pub const ORDER_NOT_FOUND: &str = "org.tianlu.sample.OrderNotFoundException";

/// `new OrderNotFoundException(id)`: message `order <id> not found`, field `int code = 404`.
pub fn order_not_found(id: i64) -> ProviderError {
    ProviderError::new(ORDER_NOT_FOUND, format!("order {id} not found"))
        .with_field("code", Value::Int(404))
}

struct Store {
    orders: BTreeMap<i64, Order>,
    next_id: i64,
}

/// The order service of one provider instance.
pub struct OrderService {
    store: Mutex<Store>,
}

impl Default for OrderService {
    fn default() -> Self {
        Self::new()
    }
}

fn item(sku: &str, quantity: i32, price: &str) -> Option<OrderItem> {
    Some(OrderItem {
        sku: Some(sku.to_string()),
        quantity,
        price: Decimal::parse(price).ok(),
    })
}

/// `total = Σ price × quantity`, exactly; the scale follows `BigDecimal` (`ZERO.add(…)`).
pub fn order_total(items: &[Option<OrderItem>]) -> Result<Decimal, ProviderError> {
    let overflow = || ProviderError::new("java.lang.ArithmeticException", "decimal overflow");
    let mut total = Decimal::ZERO;
    for (i, item) in items.iter().enumerate() {
        let item = item
            .as_ref()
            .ok_or_else(|| illegal_argument(format!("items[{i}] is null")))?;
        if item.quantity <= 0 {
            return Err(illegal_argument(format!(
                "items[{i}].quantity must be positive"
            )));
        }
        let price = item
            .price
            .ok_or_else(|| illegal_argument(format!("items[{i}].price is required")))?;
        total = price
            .checked_mul(Decimal::from_i64(i64::from(item.quantity)))
            .and_then(|line| total.checked_add(line))
            .ok_or_else(overflow)?;
    }
    Ok(total)
}

impl OrderService {
    /// A store with order 1 of user 1: 2 × `BOOK-001` at 19.99 and 1 × `PEN-002` at 0.01, NEW.
    pub fn new() -> Self {
        let items = vec![item("BOOK-001", 2, "19.99"), item("PEN-002", 1, "0.01")];
        let total = order_total(&items).ok();
        let seeded = Order {
            id: 1,
            user_id: 1,
            items: Some(items),
            total,
            status: Some(OrderStatus::New),
            // 2024-01-05T00:00:00Z
            created_at: Some(1_704_412_800_000),
        };
        OrderService {
            store: Mutex::new(Store {
                orders: BTreeMap::from([(1, seeded)]),
                next_id: 2,
            }),
        }
    }

    /// Calls `method` (a method of [`crate::catalog::ORDER_SERVICE`]) with `args`.
    pub fn invoke(&self, method: &str, args: &[Value]) -> Result<Value, CallFailure> {
        Ok(match method {
            "getOrder" => self.get(long_arg(args, 0)?)?.to_value(),
            "createOrder" => {
                let order = Order::from_value(arg(args, 0), &arg_path(0))?;
                self.create(order)?.to_value()
            }
            "payOrder" => self.pay(long_arg(args, 0)?)?.to_value(),
            other => return Err(CallFailure::NoSuchMethod(other.to_string())),
        })
    }

    /// `Order getOrder(long id)`.
    pub fn get(&self, id: i64) -> Result<Order, ProviderError> {
        let store = lock(&self.store);
        store
            .orders
            .get(&id)
            .cloned()
            .ok_or_else(|| order_not_found(id))
    }

    /// `Order createOrder(Order order)`: assigns the next id, computes `total`, sets status NEW
    /// and `createdAt` (now unless given).
    pub fn create(&self, order: Option<Order>) -> Result<Order, ProviderError> {
        let mut order = order.ok_or_else(|| illegal_argument("order is required"))?;
        let items = order.items.as_deref().unwrap_or_default();
        if items.is_empty() {
            return Err(illegal_argument("items are required"));
        }
        order.total = Some(order_total(items)?);
        order.status = Some(OrderStatus::New);
        order.created_at = order.created_at.or_else(|| Some(now_millis()));
        let mut store = lock(&self.store);
        order.id = store.next_id;
        store.next_id += 1;
        store.orders.insert(order.id, order.clone());
        Ok(order)
    }

    /// `Order payOrder(long id)`: NEW → PAID; paying an order that is not NEW throws
    /// `java.lang.IllegalStateException`.
    pub fn pay(&self, id: i64) -> Result<Order, ProviderError> {
        let mut store = lock(&self.store);
        let order = store
            .orders
            .get_mut(&id)
            .ok_or_else(|| order_not_found(id))?;
        match order.status {
            None | Some(OrderStatus::New) => {
                order.status = Some(OrderStatus::Paid);
                Ok(order.clone())
            }
            Some(status) => Err(ProviderError::new(
                "java.lang.IllegalStateException",
                format!("order {id} is already {}", status.name()),
            )),
        }
    }
}
