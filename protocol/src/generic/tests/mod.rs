//! Table-driven tests for the JSON ⇄ hessian2 bridge, one file per module under test.

mod exception;
mod java_type;
mod policy;
mod time;
mod to_hessian;
mod to_hessian_pojo;
mod to_hessian_shapes;
mod to_hessian_stream;
mod to_json;
