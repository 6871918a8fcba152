//! Starts the real Java provider through the test kit: READY handling, addresses, stop/kill.

use std::net::TcpStream;

use tianlu_testkit::{JavaProvider, ProviderOptions};

#[test]
fn provider_starts_listens_and_stops() -> anyhow::Result<()> {
    let mut provider = JavaProvider::start(ProviderOptions::default().with_tri())?;
    assert!(provider.pid() > 0);
    let dubbo = provider.dubbo_addr();
    let tri = provider.tri_addr().expect("tri was requested");
    assert_ne!(dubbo.port(), tri.port());
    TcpStream::connect(dubbo)?;
    TcpStream::connect(tri)?;

    provider.stop();
    // stop() waited for the JVM to die, so nothing listens on its ports any more.
    assert!(TcpStream::connect(dubbo).is_err(), "dubbo port still open");
    assert!(TcpStream::connect(tri).is_err(), "tri port still open");
    Ok(())
}

#[test]
fn shared_provider_is_started_once() -> anyhow::Result<()> {
    let a = JavaProvider::shared()?;
    let b = JavaProvider::shared()?;
    assert_eq!(a.pid(), b.pid());
    assert!(a.tri_addr().is_some());
    TcpStream::connect(a.dubbo_addr())?;
    Ok(())
}

#[test]
fn bad_arguments_fail_with_the_jvm_message() {
    let mut opts = ProviderOptions::default();
    opts.args.push("--no-such-flag".into());
    let err = JavaProvider::start(opts).expect_err("unknown flag must fail");
    let text = format!("{err:#}");
    assert!(text.contains("exited before READY"), "{text}");
    assert!(text.contains("unknown argument --no-such-flag"), "{text}");
}
