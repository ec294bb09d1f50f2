//! Small, dependency-free helpers that reproduce Valkey's `util.c`/`sds.c`
//! behaviour exactly: glob matching, number parsing/formatting, and
//! `sdssplitargs`-style argument splitting.

pub mod clock;
pub mod glob;
pub mod num;
pub mod slot;
pub mod split;
