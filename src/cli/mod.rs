//! The command line: argument parsing and the commands. The only place that reads the
//! wall clock (for the "events per second" figure), and the only place that maps
//! outcomes to exit codes.

pub mod args;
pub mod commands;
pub mod diff_command;
pub mod docs_command;
pub mod hunt_command;
pub mod merge_command;
pub mod output;
pub mod shrink_command;
pub mod sweep_command;

pub use commands::main;
