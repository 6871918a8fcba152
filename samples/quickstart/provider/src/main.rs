//! `tianlu-sample-provider`: serves the sample services over Dubbo2 until Ctrl-C or SIGTERM,
//! then stops gracefully (read-only event to consumers, in-flight calls finished).

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use tianlu_protocol::dubbo::{serve_with_shutdown, ServerConfig};
use tianlu_sample_provider::cli::{self, Command, USAGE};
use tianlu_sample_provider::SampleProvider;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let opts = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            return Ok(());
        }
        Ok(Command::Run(opts)) => opts,
        Err(e) => {
            eprintln!("tianlu-sample-provider: {e}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let listener = TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    let addr = listener.local_addr().context("listener address")?;
    let provider = Arc::new(SampleProvider::new(opts.name.clone(), opts.slow));
    println!("sample provider {} listening on {addr}", opts.name);
    std::io::stdout().flush().context("stdout")?;

    serve_with_shutdown(
        listener,
        provider,
        ServerConfig::default(),
        shutdown_signal(),
    )
    .await
    .context("server failed")?;
    tracing::info!("sample provider {} stopped", opts.name);
    Ok(())
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown requested");
}
