//! `archsim completions SHELL` and `archsim man`: the command line described for a
//! shell's completion and for `man`, generated from the same clap definition the
//! parser uses, so they cannot drift from the flags.

use std::io::Write;

use clap::CommandFactory;

use super::args::{Args, CompletionsArgs};
use super::output::{EXIT_BAD_INPUT, EXIT_OK};

/// Writes the completion script for the shell asked for to standard output.
pub fn completions_command(args: &CompletionsArgs) -> i32 {
    let mut command = Args::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "archsim", &mut out);
    print_all(&out)
}

/// Writes the manual page to standard output.
pub fn man_command() -> i32 {
    let mut out = Vec::new();
    match clap_mangen::Man::new(Args::command()).render(&mut out) {
        Ok(()) => print_all(&out),
        Err(e) => {
            eprintln!("error: cannot render the manual page: {e}");
            EXIT_BAD_INPUT
        }
    }
}

/// Prints `bytes`; a closed pipe (`| head`) is no error.
fn print_all(bytes: &[u8]) -> i32 {
    let _ = std::io::stdout().lock().write_all(bytes);
    EXIT_OK
}
