//! The sample's Java beans (`org.tianlu.sample.User`, `Address`, `Order`, `OrderItem`, the
//! `OrderStatus` enum): conversion from argument values (see [`crate::convert`]) and to the
//! hessian objects a Java provider writes for them (fields in declaration order, enums as
//! `{name}` objects, `BigDecimal` as a `{value}` object, dates as hessian dates).

use std::sync::{Arc, LazyLock};

use tianlu_protocol::hessian2::{ClassDef, Value};

use crate::convert::{self, field_path, ConvertError};
use crate::decimal::Decimal;

/// `org.tianlu.sample.User`.
pub const USER_CLASS: &str = "org.tianlu.sample.User";
/// `org.tianlu.sample.Address`.
pub const ADDRESS_CLASS: &str = "org.tianlu.sample.Address";
/// `org.tianlu.sample.Order`.
pub const ORDER_CLASS: &str = "org.tianlu.sample.Order";
/// `org.tianlu.sample.OrderItem`.
pub const ORDER_ITEM_CLASS: &str = "org.tianlu.sample.OrderItem";
/// `org.tianlu.sample.OrderStatus` (an enum).
pub const ORDER_STATUS_CLASS: &str = "org.tianlu.sample.OrderStatus";
/// `java.math.BigDecimal`, written by hessian-lite as an object with one field `value`.
pub const BIG_DECIMAL_CLASS: &str = "java.math.BigDecimal";
/// The enum classes of the sample, for [`crate::generalize::generalize`].
pub const ENUM_CLASSES: [&str; 1] = [ORDER_STATUS_CLASS];

fn class_def(name: &str, fields: &[&str]) -> Arc<ClassDef> {
    Arc::new(ClassDef::new(name, fields.iter().copied()))
}

static USER_DEF: LazyLock<Arc<ClassDef>> = LazyLock::new(|| {
    class_def(
        USER_CLASS,
        &["id", "name", "email", "age", "tags", "address", "createdAt"],
    )
});
static ADDRESS_DEF: LazyLock<Arc<ClassDef>> =
    LazyLock::new(|| class_def(ADDRESS_CLASS, &["city", "street", "zip"]));
static ORDER_DEF: LazyLock<Arc<ClassDef>> = LazyLock::new(|| {
    class_def(
        ORDER_CLASS,
        &["id", "userId", "items", "total", "status", "createdAt"],
    )
});
static ORDER_ITEM_DEF: LazyLock<Arc<ClassDef>> =
    LazyLock::new(|| class_def(ORDER_ITEM_CLASS, &["sku", "quantity", "price"]));
static ENUM_DEF: LazyLock<Arc<ClassDef>> =
    LazyLock::new(|| class_def(ORDER_STATUS_CLASS, &["name"]));
static BIG_DECIMAL_DEF: LazyLock<Arc<ClassDef>> =
    LazyLock::new(|| class_def(BIG_DECIMAL_CLASS, &["value"]));

fn opt_string(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| Value::string(s.clone()))
}

fn opt_date(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, Value::Date)
}

/// A `BigDecimal` as hessian-lite writes it: `{value: "<toString>"}`.
pub fn decimal_value(d: Option<Decimal>) -> Value {
    d.map_or(Value::Null, |d| {
        Value::object(BIG_DECIMAL_DEF.clone(), vec![Value::string(d.to_string())])
    })
}

/// `org.tianlu.sample.Address`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// `String city`.
    pub city: Option<String>,
    /// `String street`.
    pub street: Option<String>,
    /// `String zip`.
    pub zip: Option<String>,
}

impl Address {
    /// Realizes an `Address` argument value.
    pub fn from_value(v: &Value, path: &str) -> Result<Option<Self>, ConvertError> {
        let Some(b) = convert::bean(v, ADDRESS_CLASS, path)? else {
            return Ok(None);
        };
        let s = |name: &str| convert::string(b.get(name), &field_path(path, name));
        Ok(Some(Address {
            city: s("city")?,
            street: s("street")?,
            zip: s("zip")?,
        }))
    }

    /// The hessian object.
    pub fn to_value(&self) -> Value {
        let values = [&self.city, &self.street, &self.zip].map(opt_string);
        Value::object(ADDRESS_DEF.clone(), values.to_vec())
    }
}

/// `org.tianlu.sample.User`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    /// `long id`.
    pub id: i64,
    /// `String name`.
    pub name: Option<String>,
    /// `String email`.
    pub email: Option<String>,
    /// `int age` (0 when not given, as a Java primitive).
    pub age: i32,
    /// `List<String> tags`.
    pub tags: Option<Vec<Option<String>>>,
    /// `Address address`.
    pub address: Option<Address>,
    /// `java.util.Date createdAt`, epoch milliseconds.
    pub created_at: Option<i64>,
}

impl User {
    /// Realizes a `User` argument value. Primitive fields that are absent or `null` keep 0.
    pub fn from_value(v: &Value, path: &str) -> Result<Option<Self>, ConvertError> {
        let Some(b) = convert::bean(v, USER_CLASS, path)? else {
            return Ok(None);
        };
        let p = |name: &str| field_path(path, name);
        Ok(Some(User {
            id: convert::long(b.get("id"), &p("id"))?.unwrap_or(0),
            name: convert::string(b.get("name"), &p("name"))?,
            email: convert::string(b.get("email"), &p("email"))?,
            age: convert::int(b.get("age"), &p("age"))?.unwrap_or(0),
            tags: convert::list(b.get("tags"), &p("tags"), convert::string)?,
            address: Address::from_value(b.get("address"), &p("address"))?,
            created_at: convert::date(b.get("createdAt"), &p("createdAt"))?,
        }))
    }

    /// The hessian object.
    pub fn to_value(&self) -> Value {
        let tags = self.tags.as_ref().map_or(Value::Null, |tags| {
            Value::list(tags.iter().map(opt_string).collect())
        });
        Value::object(
            USER_DEF.clone(),
            vec![
                Value::Long(self.id),
                opt_string(&self.name),
                opt_string(&self.email),
                Value::Int(self.age),
                tags,
                self.address.as_ref().map_or(Value::Null, Address::to_value),
                opt_date(self.created_at),
            ],
        )
    }
}

/// `org.tianlu.sample.OrderStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// `NEW`.
    New,
    /// `PAID`.
    Paid,
    /// `SHIPPED`.
    Shipped,
}

impl OrderStatus {
    /// The constant name (`name()`).
    pub fn name(self) -> &'static str {
        match self {
            OrderStatus::New => "NEW",
            OrderStatus::Paid => "PAID",
            OrderStatus::Shipped => "SHIPPED",
        }
    }

    /// Realizes an `OrderStatus` argument value (`Enum.valueOf` semantics: exact names).
    pub fn from_value(v: &Value, path: &str) -> Result<Option<Self>, ConvertError> {
        let Some(name) = convert::enum_name(v, ORDER_STATUS_CLASS, path)? else {
            return Ok(None);
        };
        match name {
            "NEW" => Ok(Some(OrderStatus::New)),
            "PAID" => Ok(Some(OrderStatus::Paid)),
            "SHIPPED" => Ok(Some(OrderStatus::Shipped)),
            other => Err(ConvertError::new(
                path,
                ORDER_STATUS_CLASS,
                format!("No enum constant {ORDER_STATUS_CLASS}.{other}"),
            )),
        }
    }

    /// The hessian object hessian-lite writes for an enum: `{name}`.
    pub fn to_value(self) -> Value {
        Value::object(ENUM_DEF.clone(), vec![Value::string(self.name())])
    }
}

/// `org.tianlu.sample.OrderItem`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderItem {
    /// `String sku`.
    pub sku: Option<String>,
    /// `int quantity`.
    pub quantity: i32,
    /// `BigDecimal price`.
    pub price: Option<Decimal>,
}

impl OrderItem {
    /// Realizes an `OrderItem` value.
    pub fn from_value(v: &Value, path: &str) -> Result<Option<Self>, ConvertError> {
        let Some(b) = convert::bean(v, ORDER_ITEM_CLASS, path)? else {
            return Ok(None);
        };
        let p = |name: &str| field_path(path, name);
        Ok(Some(OrderItem {
            sku: convert::string(b.get("sku"), &p("sku"))?,
            quantity: convert::int(b.get("quantity"), &p("quantity"))?.unwrap_or(0),
            price: convert::decimal(b.get("price"), &p("price"))?,
        }))
    }

    /// The hessian object.
    pub fn to_value(&self) -> Value {
        Value::object(
            ORDER_ITEM_DEF.clone(),
            vec![
                opt_string(&self.sku),
                Value::Int(self.quantity),
                decimal_value(self.price),
            ],
        )
    }
}

/// `org.tianlu.sample.Order`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Order {
    /// `long id`.
    pub id: i64,
    /// `long userId`.
    pub user_id: i64,
    /// `List<OrderItem> items` (a `null` element stays `None`).
    pub items: Option<Vec<Option<OrderItem>>>,
    /// `BigDecimal total`.
    pub total: Option<Decimal>,
    /// `OrderStatus status`.
    pub status: Option<OrderStatus>,
    /// `java.util.Date createdAt`, epoch milliseconds.
    pub created_at: Option<i64>,
}

impl Order {
    /// Realizes an `Order` argument value.
    pub fn from_value(v: &Value, path: &str) -> Result<Option<Self>, ConvertError> {
        let Some(b) = convert::bean(v, ORDER_CLASS, path)? else {
            return Ok(None);
        };
        let p = |name: &str| field_path(path, name);
        Ok(Some(Order {
            id: convert::long(b.get("id"), &p("id"))?.unwrap_or(0),
            user_id: convert::long(b.get("userId"), &p("userId"))?.unwrap_or(0),
            items: convert::list(b.get("items"), &p("items"), OrderItem::from_value)?,
            total: convert::decimal(b.get("total"), &p("total"))?,
            status: OrderStatus::from_value(b.get("status"), &p("status"))?,
            created_at: convert::date(b.get("createdAt"), &p("createdAt"))?,
        }))
    }

    /// The hessian object.
    pub fn to_value(&self) -> Value {
        let items = self.items.as_ref().map_or(Value::Null, |items| {
            let items = items
                .iter()
                .map(|i| i.as_ref().map_or(Value::Null, OrderItem::to_value));
            Value::list(items.collect())
        });
        Value::object(
            ORDER_DEF.clone(),
            vec![
                Value::Long(self.id),
                Value::Long(self.user_id),
                items,
                decimal_value(self.total),
                self.status.map_or(Value::Null, OrderStatus::to_value),
                opt_date(self.created_at),
            ],
        )
    }
}
