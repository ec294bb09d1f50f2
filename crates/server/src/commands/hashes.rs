//! The hash commands. (Filled in by the collections work.)

use super::Command;

pub static COMMANDS: &[Command] = &[];
