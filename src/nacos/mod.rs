//! What the gateway does with Nacos besides discovery (which is in [`crate::discovery`]):
//! registering its own instance ([`registration`]) and reading api_config from a Nacos config
//! ([`remote_config`]).

pub mod registration;
pub mod remote_config;
