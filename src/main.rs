//! The `sentinel` binary: parses the command line, runs the command, prints
//! an error once and maps it to an exit code (0 ok, 3 rows rejected, 2 usage
//! or input error, 1 other failure).

use std::process::ExitCode;

use clap::Parser;
use sentinel::cmd::{exit_code, run, Cli};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = run(cli);
    sentinel::teardown::wait();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("sentinel: {err:#}");
            ExitCode::from(exit_code(&err))
        }
    }
}
