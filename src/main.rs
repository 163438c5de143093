//! The `archsim` binary: everything happens in `archsim::cli`.

fn main() {
    std::process::exit(archsim::cli::main());
}
