//! Command-line subcommands other than running the gateway: `validate` and `hessian decode`.

pub mod hessian;
pub mod validate;
