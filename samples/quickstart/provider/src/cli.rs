//! The command line: `--listen ADDR` (default `127.0.0.1:20880`), `--name NAME` (default
//! `provider-1`), `--slow-ms MS` (default 0), `--help`. Each option also takes `--opt=value`.

use std::net::SocketAddr;
use std::time::Duration;

/// The usage text printed by `--help`.
pub const USAGE: &str = "\
usage: tianlu-sample-provider [--listen ADDR] [--name NAME] [--slow-ms MS]

  --listen ADDR   address to serve Dubbo on (default 127.0.0.1:20880)
  --name NAME     instance name, returned by UserService.whoAmI (default provider-1)
  --slow-ms MS    sleep this long before answering every call (default 0)
";

/// The provider's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The instance name.
    pub name: String,
    /// Added latency per call.
    pub slow: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: SocketAddr::from(([127, 0, 0, 1], 20880)),
            name: "provider-1".to_string(),
            slow: Duration::ZERO,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Serve with these options.
    Run(Options),
    /// Print [`USAGE`].
    Help,
}

/// A command line that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// An argument that is not an option of this program.
    #[error("unknown argument {0:?}\n\n{USAGE}")]
    Unknown(String),
    /// An option without its value.
    #[error("{0} needs a value")]
    MissingValue(String),
    /// An option value that does not parse.
    #[error("invalid value {value:?} for {option}: {reason}")]
    Invalid {
        /// The option.
        option: String,
        /// The value given.
        value: String,
        /// Why it is wrong.
        reason: String,
    },
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, CliError> {
    let mut opts = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let (option, inline) = match arg.split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if !matches!(option.as_str(), "--listen" | "--name" | "--slow-ms") {
            return Err(CliError::Unknown(arg));
        }
        let value = match inline.or_else(|| args.next()) {
            Some(v) => v,
            None => return Err(CliError::MissingValue(option)),
        };
        let invalid = |reason: String| CliError::Invalid {
            option: option.clone(),
            value: value.clone(),
            reason,
        };
        match option.as_str() {
            "--listen" => opts.listen = value.parse().map_err(|e| invalid(format!("{e}")))?,
            "--name" if value.is_empty() => return Err(invalid("empty name".into())),
            "--name" => opts.name = value,
            _ => {
                let ms: u64 = value.parse().map_err(|e| invalid(format!("{e}")))?;
                opts.slow = Duration::from_millis(ms);
            }
        }
    }
    Ok(Command::Run(opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, CliError> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_and_options() {
        assert_eq!(run(&[]), Ok(Command::Run(Options::default())));
        let Ok(Command::Run(o)) =
            run(&["--listen", "0.0.0.0:20881", "--name=p2", "--slow-ms", "25"])
        else {
            panic!("not parsed")
        };
        assert_eq!(o.listen, "0.0.0.0:20881".parse().unwrap());
        assert_eq!(o.name, "p2");
        assert_eq!(o.slow, Duration::from_millis(25));
        assert_eq!(run(&["--name", "a", "--help"]), Ok(Command::Help));
    }

    #[test]
    fn errors() {
        assert!(matches!(run(&["--port", "1"]), Err(CliError::Unknown(_))));
        assert!(matches!(run(&["--listen"]), Err(CliError::MissingValue(_))));
        assert!(matches!(
            run(&["--listen", "nowhere"]),
            Err(CliError::Invalid { .. })
        ));
        assert!(matches!(
            run(&["--slow-ms=-1"]),
            Err(CliError::Invalid { .. })
        ));
        assert!(matches!(run(&["--name="]), Err(CliError::Invalid { .. })));
    }
}
