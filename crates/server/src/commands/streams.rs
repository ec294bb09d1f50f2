//! (Filled in by the streams work.)

use super::Command;

pub static COMMANDS: &[Command] = &[];
