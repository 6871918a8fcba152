//! Free TCP ports on 127.0.0.1 for peers that must be told their port up front.
//!
//! The port is found by binding `127.0.0.1:0` and releasing it, so another process can in
//! principle take it before the peer binds it; peers started by this crate retry with fresh ports
//! when their bind fails. Within one process a port is never handed out twice.

use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Mutex, OnceLock};

use anyhow::Context;

fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// A TCP port on 127.0.0.1 that was free a moment ago and has not been returned before by this
/// process.
pub fn free_port() -> anyhow::Result<u16> {
    for _ in 0..64 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .context("binding 127.0.0.1:0 to find a free port")?;
        let port = listener.local_addr()?.port();
        drop(listener);
        let mut seen = handed_out()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.insert(port) {
            return Ok(port);
        }
    }
    anyhow::bail!("could not find an unused free port on 127.0.0.1 after 64 attempts")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_bindable_and_distinct() {
        let a = free_port().unwrap();
        let b = free_port().unwrap();
        assert_ne!(a, b);
        TcpListener::bind((Ipv4Addr::LOCALHOST, a)).expect("port a should be free");
        TcpListener::bind((Ipv4Addr::LOCALHOST, b)).expect("port b should be free");
    }
}
