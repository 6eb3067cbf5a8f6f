//! The `nrmp-bench` binary: parses the command line and hands over to [`nrmp_bench::run`].

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = nrmp_bench::Cli::parse();
    nrmp_cli::init_tracing(cli.verbose);
    match nrmp_bench::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", nrmp_cli::one_line(&e));
            ExitCode::FAILURE
        }
    }
}
