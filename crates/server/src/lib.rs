//! Ferrokey server library: everything the `ferrokey-server` binary runs, exposed as a
//! library so integration tests and benches can reach the pieces.

pub mod alloc;
pub mod commands;
pub mod config;
pub mod keyspace;
pub mod lazyfree;
pub mod persistence;
pub mod resp;
pub mod server;
pub mod util;

#[global_allocator]
static GLOBAL: alloc::CountingAlloc = alloc::CountingAlloc;

/// The Redis version Ferrokey reports, so version-gated clients enable what
/// it supports.
pub const REDIS_VERSION: &str = "7.2.4";
