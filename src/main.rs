//! The `detsim` binary: the command line over the built-in scenarios.

fn main() -> std::process::ExitCode {
    detsim::cli::main(detsim::scenarios::builtin())
}
