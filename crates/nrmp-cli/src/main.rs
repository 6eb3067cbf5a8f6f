//! The `nrmp` binary: parses the command line and hands over to [`nrmp_cli::run`].

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = nrmp_cli::Cli::parse();
    nrmp_cli::init_tracing(cli.verbose);
    match nrmp_cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes.
            eprintln!("error: {}", nrmp_cli::one_line(&e));
            ExitCode::FAILURE
        }
    }
}
