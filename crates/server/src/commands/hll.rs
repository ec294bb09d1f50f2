//! (Filled in by the hll work.)

use super::Command;

pub static COMMANDS: &[Command] = &[];
