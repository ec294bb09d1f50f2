//! The default hash function: foldhash with one random seed per process.
//!
//! Keys come from clients, so the seed must be unpredictable (hash flooding),
//! but one seed for the whole process is enough — as in Valkey — and keeps the
//! hasher zero-sized, so a table embedded in every collection value costs no
//! bytes for it.

use core::hash::BuildHasher;
use foldhash::fast::{FoldHasher, RandomState};
use foldhash::SharedSeed;
use std::sync::OnceLock;

/// Zero-sized [`BuildHasher`] for all tables of a process.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultHashBuilder;

fn process_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| RandomState::default().hash_one(0x5eed_u64))
}

impl BuildHasher for DefaultHashBuilder {
    type Hasher = FoldHasher<'static>;

    #[inline]
    fn build_hasher(&self) -> FoldHasher<'static> {
        FoldHasher::with_seed(process_seed(), SharedSeed::global_random())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_hash_within_a_process() {
        let a = DefaultHashBuilder.hash_one(b"key".as_slice());
        let b = DefaultHashBuilder.hash_one(b"key".as_slice());
        assert_eq!(a, b);
        assert_ne!(a, DefaultHashBuilder.hash_one(b"kez".as_slice()));
        assert_eq!(core::mem::size_of::<DefaultHashBuilder>(), 0);
    }
}
