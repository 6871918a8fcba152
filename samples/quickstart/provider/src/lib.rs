//! The quickstart's sample Dubbo provider, written in Rust on `tianlu-protocol`.
//!
//! It answers like a Java Dubbo provider, both to generic `$invoke` calls (arguments realized
//! from their generic forms, results generalized as Java's `GenericFilter` does) and to direct
//! calls (method name plus JVM descriptor, results as plain hessian objects).
//!
//! Services (no group):
//! - `org.tianlu.sample.UserService` `1.0.0`: `User getUser(long)`, `User createUser(User)`,
//!   `User updateUser(long, User)`, `List<User> listUsers(String, int)`,
//!   `boolean deleteUser(long)`, `String whoAmI()`, `String slow(int)`.
//! - `org.tianlu.sample.OrderService` `1.0.0`: `Order getOrder(long)`,
//!   `Order createOrder(Order)`, `Order payOrder(long)`.
//! - `org.tianlu.sample.EchoService` (no version): `String echo(String)`,
//!   `Object echoObject(Object)`, `int add(int, int)`.
//!
//! Modules: [`catalog`] (services and signatures), [`provider`] (dispatch), [`services`]
//! (the implementations), [`model`] (the Java beans), [`convert`] (argument realization),
//! [`generalize`] (result generalization), [`decimal`] (exact `BigDecimal` arithmetic),
//! [`cli`] (command line).

pub mod catalog;
pub mod cli;
pub mod convert;
pub mod decimal;
pub mod generalize;
pub mod model;
pub mod provider;
pub mod services;

pub use provider::SampleProvider;
