//! (Filled in by the geo work.)

use super::Command;

pub static COMMANDS: &[Command] = &[];
