//! The `tianlu` binary: command line → telemetry → config → run until shutdown.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use std::io::{Read, Write};
use std::path::PathBuf;
use tianlu::cli::hessian::{decode_to_json, parse_hex};
use tianlu::cli::validate::validate;

/// mimalloc instead of the system allocator: the request path builds many small short-lived
/// trees (JSON and hessian values), where glibc malloc showed up as a third of CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "tianlu",
    version,
    about = "HTTP/JSON gateway for Apache Dubbo services"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Run(ConfigArg),
    /// Check a configuration and list every problem in it.
    Validate(ConfigArg),
    /// pixiu-compatible form: `tianlu gateway start -c conf.yaml`.
    Gateway {
        #[command(subcommand)]
        action: GatewayAction,
    },
    /// Hessian2 tools.
    Hessian {
        #[command(subcommand)]
        action: HessianAction,
    },
}

#[derive(Subcommand)]
enum GatewayAction {
    /// Start the gateway.
    Start(ConfigArg),
}

#[derive(Subcommand)]
enum HessianAction {
    /// Decode one hessian2 value from stdin and print it as JSON.
    Decode {
        /// Read hex text instead of raw bytes.
        #[arg(long)]
        hex: bool,
    },
}

#[derive(Args)]
struct ConfigArg {
    /// The bootstrap file (conf.yaml).
    #[arg(short = 'c', long = "config")]
    config: PathBuf,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(c)
        | Command::Gateway {
            action: GatewayAction::Start(c),
        } => run(c.config),
        Command::Validate(c) => {
            let report = validate(&c.config);
            if report.ok {
                for l in &report.lines {
                    println!("{l}");
                }
                Ok(())
            } else {
                for l in &report.lines {
                    eprintln!("{l}");
                }
                std::process::exit(1);
            }
        }
        Command::Hessian {
            action: HessianAction::Decode { hex },
        } => {
            let mut input = Vec::new();
            std::io::stdin()
                .read_to_end(&mut input)
                .context("reading stdin")?;
            let bytes = if hex {
                let text = String::from_utf8(input).context("hex input is not text")?;
                match parse_hex(&text) {
                    Ok(b) => b,
                    Err(e) => bail!("{e}"),
                }
            } else {
                input
            };
            match decode_to_json(&bytes) {
                Ok(json) => {
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{json}")?;
                    Ok(())
                }
                Err(e) => {
                    eprintln!("tianlu hessian decode: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
}

/// mimalloc commits its first arena (8 MiB) eagerly on Linux, which is a third of an idle
/// gateway's memory. The switch (`MIMALLOC_ARENA_EAGER_COMMIT`) is read from the environment
/// when the allocator starts, before `main`, so setting it from here is too late: when it is
/// unset, the gateway re-executes itself once with it off (same process id; an explicit value,
/// or a failed re-exec, leaves things as they are). Idle RSS drops from ~24 to ~14 MiB
/// (docs/bench.md).
#[cfg(target_os = "linux")]
fn lazy_allocator_arena() {
    use std::os::unix::process::CommandExt;
    const SWITCH: &str = "MIMALLOC_ARENA_EAGER_COMMIT";
    if std::env::var_os(SWITCH).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(SWITCH, "0")
        .exec();
    // Only reached when the exec failed; run as we are.
    eprintln!("tianlu: could not re-execute with {SWITCH}=0 ({err}); continuing");
}

fn run(config: PathBuf) -> Result<()> {
    #[cfg(target_os = "linux")]
    lazy_allocator_arena();
    tianlu::telemetry::init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(tianlu::gateway::run(&config))
}
