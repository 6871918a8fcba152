//! One provider connection, whatever protocol the provider speaks: a multiplexed Dubbo2
//! connection, a multiplexed Triple (HTTP/2) connection, or pooled HTTP/1.1 keep-alive
//! connections of a plain HTTP upstream (used by forwarding routes only). Both answer the same
//! [`Invocation`] with the same [`RpcResponse`] and [`CallError`], so balancing, failover,
//! error mapping and response shaping do not care which one a call used.

use std::net::SocketAddr;
use std::time::Duration;
use tianlu_api_config::Protocol;
use tianlu_protocol::dubbo::{
    decode_response_body, read_response_value, CallError, Endpoint, RpcResponse,
};
use tianlu_protocol::generic::{transcode_json_text, OutputOptions};
use tianlu_protocol::invocation::Invocation;
use tianlu_protocol::triple::TripleEndpoint;

/// A provider's answer to a generic call.
pub enum Reply {
    /// The result value, already written as JSON text.
    Json(Vec<u8>),
    /// The decoded response (exceptions, `null`, and values read as a tree).
    Decoded(RpcResponse),
}

/// A provider connection.
#[derive(Clone)]
pub enum Client {
    /// Dubbo2 over TCP.
    Dubbo(Endpoint),
    /// Triple over HTTP/2.
    Triple(TripleEndpoint),
    /// A plain HTTP service (`protocol: http`); takes forwarded requests, never Dubbo calls.
    Http(crate::call::forward::HttpEndpoint),
}

impl Client {
    /// Calls the provider with a deadline.
    pub async fn call(
        &self,
        invocation: &Invocation,
        timeout: Duration,
    ) -> Result<RpcResponse, CallError> {
        match self {
            Client::Dubbo(e) => e.call(invocation, timeout).await,
            Client::Triple(e) => e.call(invocation, timeout).await,
            Client::Http(e) => Err(CallError::Unavailable {
                addr: e.addr(),
                reason: "the endpoint speaks plain HTTP, not Dubbo",
            }),
        }
    }

    /// Calls the provider for a generic call's HTTP answer: a Dubbo2 value is written as JSON
    /// text straight from the response bytes (`output` shapes it); anything else, or a value
    /// that needs the whole tree (see `transcode_json_text`), comes back decoded.
    pub async fn call_reply(
        &self,
        invocation: &Invocation,
        timeout: Duration,
        output: &OutputOptions,
    ) -> Result<Reply, CallError> {
        match self {
            Client::Dubbo(e) => {
                e.call_with(invocation, timeout, |status, body| {
                    if status.is_ok() {
                        let json = read_response_value(body, |events| {
                            let mut out = Vec::with_capacity(body.len() + body.len() / 4);
                            transcode_json_text(events, output, &mut out).then_some(out)
                        });
                        if let Some(json) = json {
                            return Ok(Reply::Json(json));
                        }
                    }
                    decode_response_body(status, body).map(Reply::Decoded)
                })
                .await
            }
            other => other.call(invocation, timeout).await.map(Reply::Decoded),
        }
    }

    /// The Triple endpoint, for calls only Triple can make (protobuf IDL methods).
    pub fn triple(&self) -> Option<&TripleEndpoint> {
        match self {
            Client::Triple(e) => Some(e),
            Client::Dubbo(_) | Client::Http(_) => None,
        }
    }

    /// Calls in flight.
    pub fn in_flight(&self) -> usize {
        match self {
            Client::Dubbo(e) => e.in_flight(),
            Client::Triple(e) => e.in_flight(),
            Client::Http(e) => e.in_flight(),
        }
    }

    /// Whether a connection is up.
    pub fn is_connected(&self) -> bool {
        match self {
            Client::Dubbo(e) => e.is_connected(),
            Client::Triple(e) => e.is_connected(),
            Client::Http(e) => e.is_connected(),
        }
    }

    /// Closes the connection (calls in flight fail; the next call reconnects).
    pub fn close(&self) {
        match self {
            Client::Dubbo(e) => e.close(),
            Client::Triple(e) => e.close(),
            // Idle keep-alive connections close when the endpoint is dropped.
            Client::Http(_) => {}
        }
    }

    /// How many handles share this connection.
    pub fn handles(&self) -> usize {
        match self {
            Client::Dubbo(e) => e.handles(),
            Client::Triple(e) => e.handles(),
            Client::Http(e) => e.handles(),
        }
    }

    /// The protocol spoken.
    pub fn protocol(&self) -> Protocol {
        match self {
            Client::Dubbo(_) => Protocol::Dubbo,
            Client::Triple(_) => Protocol::Triple,
            Client::Http(_) => Protocol::Http,
        }
    }

    /// The provider's address.
    pub fn addr(&self) -> SocketAddr {
        match self {
            Client::Dubbo(e) => e.addr(),
            Client::Triple(e) => e.addr(),
            Client::Http(e) => e.addr(),
        }
    }
}
