//! detsim's command line over this crate's leaking programs (`hashmap-fanout`,
//! `tokio-watch`), with the std guards on when the crate's `guards` feature is: the
//! tests run `check-determinism --isolate` through it, as a user would.

use std::process::ExitCode;

fn main() -> ExitCode {
    detsim::cli::main(vec![
        detsim_guards_tests::hashmap_fanout(),
        detsim_guards_tests::tokio_watch_fanout(),
    ])
}
