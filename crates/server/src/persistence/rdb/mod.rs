//! The RDB format. See `file.rs` for the layout of a whole file.

pub mod codec;
pub mod file;
pub mod legacy;
pub mod object;

pub use codec::{RdbError, Reader};

/// The RDB version Ferrokey writes (Redis 7.2 / Valkey 7.2–8.x).
pub const RDB_VERSION: u16 = 11;
/// The newest version it reads: 12 is written by Redis 7.4 and later.
pub const RDB_MAX_READ_VERSION: u16 = 12;
