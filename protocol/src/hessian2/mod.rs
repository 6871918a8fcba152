//! Hessian 2.0 serialization as Apache Dubbo (hessian-lite) writes and reads it.
//!
//! [`Value`] is the model, [`Encoder`] writes values in the smallest forms Java uses, and
//! [`Decoder`] reads every byte code of the grammar with depth and size limits. Class definitions,
//! type names and references live for one [`Encoder`]/[`Decoder`], which is one Dubbo message body.

mod decoder;
mod encoder;
mod value;

#[cfg(test)]
mod tests;

pub use decoder::{DecodeError, DecodeErrorKind, Decoder, Event, Events, Limits};
pub use encoder::Encoder;
pub use value::{ClassDef, List, Map, Object, Value};
