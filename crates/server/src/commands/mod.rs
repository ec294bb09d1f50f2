//! The command table and dispatch.
//!
//! Every command is one [`Command`] entry in one of the family modules'
//! `COMMANDS` slices, and [`TABLE`] lists those slices: that is the only list
//! of commands. It drives lookup, arity errors, authentication and MULTI
//! rules, `COMMAND` / `COMMAND INFO|DOCS|COUNT|LIST|GETKEYS`, and key
//! extraction.

pub mod aof;
pub mod bitops;
pub mod client;
pub mod connection;
pub mod docs;
pub mod dump;
pub mod geo;
pub mod hashes;
pub mod hll;
pub mod introspection;
pub mod keys;
pub mod lists;
pub mod migrate;
pub mod object;
pub mod pubsub;
pub mod server;
pub mod sets;
pub mod sort;
pub mod streams;
pub mod strings;
pub mod typed;
pub mod zsets;

use crate::keyspace::{Db, Now};
use crate::resp::{Args, Reply};
use crate::server::{ClientState, Server};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Command flags, named as `COMMAND INFO` prints them.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 16;
    pub const TOUCHES_ARBITRARY_KEYS: u32 = 1 << 17;
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;
    /// Accepted on a cluster node for a slot being imported without a
    /// preceding ASKING (RESTORE-ASKING).
    pub const ASKING: u32 = 1 << 19;

    /// In the order Valkey's COMMAND INFO lists them.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories. Valkey derives @read, @write, @admin, @dangerous, @fast,
/// @slow, @pubsub and @blocking from the flags; the table lists the rest.
pub mod acl {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const READ: u32 = 1 << 1;
    pub const WRITE: u32 = 1 << 2;
    pub const SET: u32 = 1 << 3;
    pub const SORTEDSET: u32 = 1 << 4;
    pub const LIST: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const STRING: u32 = 1 << 7;
    pub const BITMAP: u32 = 1 << 8;
    pub const HYPERLOGLOG: u32 = 1 << 9;
    pub const GEO: u32 = 1 << 10;
    pub const STREAM: u32 = 1 << 11;
    pub const PUBSUB: u32 = 1 << 12;
    pub const ADMIN: u32 = 1 << 13;
    pub const FAST: u32 = 1 << 14;
    pub const SLOW: u32 = 1 << 15;
    pub const BLOCKING: u32 = 1 << 16;
    pub const DANGEROUS: u32 = 1 << 17;
    pub const CONNECTION: u32 = 1 << 18;
    pub const TRANSACTION: u32 = 1 << 19;
    pub const SCRIPTING: u32 = 1 << 20;

    pub const NAMES: &[(u32, &str)] = &[
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];
}

/// Key specs: where a command's keys are among its arguments and how it uses
/// them, as Valkey's `src/commands/*.json` declare them. COMMAND INFO prints
/// them, the legacy (first, last, step) range and "movablekeys" are derived
/// from them, and key extraction follows them (Valkey's
/// `getKeysUsingKeySpecs`).
pub mod keyspec {
    use crate::resp::Args;

    // Key flags. The first four say what happens to the key's value: read
    // only, read and written, overwritten (not read), removed; the next
    // four what happens to the user data in it. NOT_KEY marks a shard
    // channel: routed like a key but not one. INCOMPLETE: the spec may
    // miss keys. VARIABLE_FLAGS: the flags depend on the arguments.
    pub const RO: u32 = 1 << 0;
    pub const RW: u32 = 1 << 1;
    pub const OW: u32 = 1 << 2;
    pub const RM: u32 = 1 << 3;
    pub const ACCESS: u32 = 1 << 4;
    pub const UPDATE: u32 = 1 << 5;
    pub const INSERT: u32 = 1 << 6;
    pub const DELETE: u32 = 1 << 7;
    pub const NOT_KEY: u32 = 1 << 8;
    pub const INCOMPLETE: u32 = 1 << 9;
    pub const VARIABLE_FLAGS: u32 = 1 << 10;

    /// In the order and spelling of Valkey's replies.
    pub const NAMES: &[(u32, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];

    /// Where the search for the first key starts.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum BeginSearch {
        /// At this argument index.
        Index(i32),
        /// After the first argument equal to `keyword` (case-insensitively),
        /// searched from index `startfrom` towards the end, or when negative
        /// from `argc + startfrom` towards the start.
        Keyword {
            keyword: &'static str,
            startfrom: i32,
        },
        Unknown,
    }

    /// Which arguments from the first key on are keys.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum FindKeys {
        /// Every `keystep`-th up to the first key + `lastkey`; a negative
        /// `lastkey` counts from the end, or with a `limit` stops at the
        /// 1/`limit` part of the remaining arguments (XREAD's keys then IDs).
        Range {
            lastkey: i32,
            keystep: i32,
            limit: i32,
        },
        /// The argument at first key + `keynumidx` is the number of keys,
        /// which start at first key + `firstkey`, every `keystep`-th.
        Keynum {
            keynumidx: i32,
            firstkey: i32,
            keystep: i32,
        },
        Unknown,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct KeySpec {
        pub flags: u32,
        pub begin_search: BeginSearch,
        pub find_keys: FindKeys,
        pub notes: Option<&'static str>,
    }

    impl KeySpec {
        /// One key at argument `index`; widen with [`KeySpec::range`] or
        /// [`KeySpec::keynum`].
        pub const fn at(index: i32, flags: u32) -> KeySpec {
            KeySpec {
                flags,
                begin_search: BeginSearch::Index(index),
                find_keys: FindKeys::Range {
                    lastkey: 0,
                    keystep: 1,
                    limit: 0,
                },
                notes: None,
            }
        }

        /// One key right after `keyword`.
        pub const fn keyword(keyword: &'static str, startfrom: i32, flags: u32) -> KeySpec {
            KeySpec {
                begin_search: BeginSearch::Keyword { keyword, startfrom },
                ..KeySpec::at(0, flags)
            }
        }

        /// Keys that only the command's own key finder can locate.
        pub const fn unknown(flags: u32) -> KeySpec {
            KeySpec {
                flags,
                begin_search: BeginSearch::Unknown,
                find_keys: FindKeys::Unknown,
                notes: None,
            }
        }

        pub const fn range(mut self, lastkey: i32, keystep: i32, limit: i32) -> KeySpec {
            self.find_keys = FindKeys::Range {
                lastkey,
                keystep,
                limit,
            };
            self
        }

        pub const fn keynum(mut self, keynumidx: i32, firstkey: i32, keystep: i32) -> KeySpec {
            self.find_keys = FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            };
            self
        }

        pub const fn notes(mut self, notes: &'static str) -> KeySpec {
            self.notes = Some(notes);
            self
        }
    }

    /// The (first, last, step) COMMAND INFO prints and whether the command
    /// has "movablekeys".
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct LegacyRange {
        pub first: i32,
        pub last: i32,
        pub step: i32,
        pub movable: bool,
    }

    /// (index, lastkey, keystep) of an index + range spec.
    const fn index_range(spec: &KeySpec) -> Option<(i32, i32, i32)> {
        let BeginSearch::Index(index) = spec.begin_search else {
            return None;
        };
        match spec.find_keys {
            FindKeys::Range {
                lastkey, keystep, ..
            } => Some((index, lastkey, keystep)),
            _ => None,
        }
    }

    /// A range's last key as an argument index (negative: from the end).
    const fn absolute_last(index: i32, lastkey: i32) -> i32 {
        if lastkey >= 0 {
            index + lastkey
        } else {
            lastkey
        }
    }

    /// Valkey's `populateCommandLegacyRangeSpec`: the index + range specs
    /// with step 1 that follow each other glued into one range; any other
    /// spec, or an incomplete one, makes the keys "movable".
    pub const fn legacy_range(specs: &[KeySpec]) -> LegacyRange {
        let mut r = LegacyRange {
            first: 0,
            last: 0,
            step: 0,
            movable: false,
        };
        if specs.is_empty() {
            return r;
        }
        if let [only] = specs {
            if let Some((index, lastkey, keystep)) = index_range(only) {
                r.first = index;
                r.last = absolute_last(index, lastkey);
                r.step = keystep;
                r.movable = only.flags & INCOMPLETE != 0;
                return r;
            }
        }
        let mut first = i32::MAX;
        let mut last = 0i32;
        let mut prev_last = 0i32;
        let mut i = 0;
        while i < specs.len() {
            let spec = &specs[i];
            i += 1;
            let Some((index, lastkey, keystep)) = index_range(spec) else {
                r.movable = true;
                continue;
            };
            if keystep != 1 || (prev_last != 0 && prev_last != index - 1) {
                r.movable = true;
                continue;
            }
            if spec.flags & INCOMPLETE != 0 {
                r.movable = true;
            }
            if index < first {
                first = index;
            }
            let abs_last = absolute_last(index, lastkey);
            // Compared unsigned, as Valkey does: a negative (from the end)
            // last key is beyond any absolute one.
            if abs_last as u32 > last as u32 {
                last = abs_last;
            }
            prev_last = last;
        }
        if first == i32::MAX {
            r.movable = true;
            return r;
        }
        r.first = first;
        r.last = last;
        r.step = 1;
        r
    }

    /// A key argument and how the command uses it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct KeyRef {
        pub pos: usize,
        pub flags: u32,
    }

    /// Flags for a key finder's keys: `first` for the first key, `rest` for
    /// the others (SORT reads its first key and overwrites the STORE one).
    pub fn with_flags(positions: Vec<usize>, first: u32, rest: u32) -> Vec<KeyRef> {
        positions
            .into_iter()
            .enumerate()
            .map(|(i, pos)| KeyRef {
                pos,
                flags: if i == 0 { first } else { rest },
            })
            .collect()
    }

    /// The keys the specs find in `args` (Valkey's `getKeysUsingKeySpecs`),
    /// or `None` when a spec cannot be followed: unknown, incomplete, a bad
    /// key count, or keys beyond the arguments. A keyword that is absent
    /// just finds no keys. Shard channels (`NOT_KEY`) count only with
    /// `include_not_keys`.
    pub fn find_keys(
        specs: &[KeySpec],
        args: &Args<'_>,
        include_not_keys: bool,
    ) -> Option<Vec<KeyRef>> {
        // Valkey computes in C ints; arguments never number 2^31.
        let argc = i32::try_from(args.len()).ok()?;
        let mut keys = Vec::new();
        for spec in specs {
            if spec.flags & NOT_KEY != 0 && !include_not_keys {
                continue;
            }
            let mut first = match spec.begin_search {
                BeginSearch::Index(index) => index,
                BeginSearch::Keyword { keyword, startfrom } => {
                    let (start, end) = if startfrom > 0 {
                        (startfrom, argc - 1)
                    } else {
                        (argc + startfrom, 1)
                    };
                    // `end` itself is never looked at: a keyword there
                    // would have no key after it.
                    let mut found = 0;
                    let mut i = start;
                    while i != end && (1..argc).contains(&i) {
                        // Compared as C strings, as Valkey does.
                        if super::strings::is_kw(args.get(i as usize), keyword) {
                            found = i + 1;
                            break;
                        }
                        i += if start <= end { 1 } else { -1 };
                    }
                    if found == 0 {
                        continue;
                    }
                    found
                }
                BeginSearch::Unknown => return None,
            };
            let (last, step) = match spec.find_keys {
                FindKeys::Range {
                    lastkey,
                    keystep,
                    limit,
                } => {
                    let last = if lastkey >= 0 {
                        first.checked_add(lastkey)?
                    } else if limit == 0 {
                        argc + lastkey
                    } else {
                        first + ((argc - first) / limit + lastkey)
                    };
                    (last, keystep)
                }
                FindKeys::Keynum {
                    keynumidx,
                    firstkey,
                    keystep,
                } => {
                    let at = usize::try_from(first.checked_add(keynumidx)?).ok()?;
                    let numkeys = crate::util::num::parse_i64(args.try_get(at)?)?;
                    if numkeys < 0 {
                        return None;
                    }
                    first = first.checked_add(firstkey)?;
                    // Valkey narrows the count to an int the same way.
                    (first.wrapping_add(numkeys as i32).wrapping_sub(1), keystep)
                }
                FindKeys::Unknown => return None,
            };
            if last >= argc || last < first || first >= argc || first < 0 {
                return None;
            }
            let mut i = first;
            while i <= last {
                keys.push(KeyRef {
                    pos: i as usize,
                    flags: spec.flags,
                });
                i = i.checked_add(step.max(1))?;
            }
            if spec.flags & INCOMPLETE != 0 {
                return None;
            }
        }
        Some(keys)
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::commands::{all, Command, GetKeys};
        use crate::resp::OwnedArgs;

        fn args(words: &[&str]) -> OwnedArgs {
            let parts: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
            OwnedArgs::from_slices(&parts)
        }

        fn positions(specs: &[KeySpec], words: &[&str], not_keys: bool) -> Option<Vec<usize>> {
            let a = args(words);
            find_keys(specs, &a.as_args(), not_keys).map(|k| k.iter().map(|k| k.pos).collect())
        }

        fn range(first: i32, last: i32, step: i32, movable: bool) -> LegacyRange {
            LegacyRange {
                first,
                last,
                step,
                movable,
            }
        }

        #[test]
        fn legacy_range_like_valkey() {
            // One index + range spec is the range itself, step included (MSET).
            let mset = [KeySpec::at(1, OW | UPDATE).range(-1, 2, 0)];
            assert_eq!(legacy_range(&mset), range(1, -1, 2, false));
            // Consecutive specs glue; a range to the end (-1) wins the
            // unsigned comparison (BITOP: dest, then sources).
            let bitop = [
                KeySpec::at(2, OW | UPDATE),
                KeySpec::at(3, RO | ACCESS).range(-1, 1, 0),
            ];
            assert_eq!(legacy_range(&bitop), range(2, -1, 1, false));
            // Unknown specs only add "movablekeys" (SORT).
            let sort = [
                KeySpec::at(1, RO | ACCESS),
                KeySpec::unknown(RO | ACCESS),
                KeySpec::unknown(OW | UPDATE),
            ];
            assert_eq!(legacy_range(&sort), range(1, 1, 1, true));
            // Keynum alone: no legacy range at all (LMPOP).
            let lmpop = [KeySpec::at(1, RW | ACCESS | DELETE).keynum(0, 1, 1)];
            assert_eq!(legacy_range(&lmpop), range(0, 0, 0, true));
            // An index spec after a keynum one still counts (ZUNIONSTORE
            // has its index spec first).
            let zunionstore = [
                KeySpec::at(1, OW | UPDATE),
                KeySpec::at(2, RO | ACCESS).keynum(0, 1, 1),
            ];
            assert_eq!(legacy_range(&zunionstore), range(1, 1, 1, true));
            // Incomplete, single: the range with "movablekeys".
            let single = [KeySpec::at(1, RW | INCOMPLETE)];
            assert_eq!(legacy_range(&single), range(1, 1, 1, true));
            // Not consecutive: the later spec is left out.
            let gap = [KeySpec::at(1, RO), KeySpec::at(3, RO)];
            assert_eq!(legacy_range(&gap), range(1, 1, 1, true));
            // Shard channels are in the legacy range (SPUBLISH).
            assert_eq!(
                legacy_range(&[KeySpec::at(1, NOT_KEY)]),
                range(1, 1, 1, false)
            );
            assert_eq!(legacy_range(&[]), range(0, 0, 0, false));
        }

        #[test]
        fn keyword_search() {
            let xread = [KeySpec::keyword("STREAMS", 1, RO | ACCESS).range(-1, 1, 2)];
            let w = ["xread", "COUNT", "1", "streams", "a", "b", "0", "0"];
            assert_eq!(positions(&xread, &w, false), Some(vec![4, 5]));
            // Keys then as many IDs: an odd count rounds the keys down.
            let w = ["xread", "STREAMS", "a", "b", "0"];
            assert_eq!(positions(&xread, &w, false), Some(vec![2]));
            // No keyword: the spec finds nothing, which is not an error.
            assert_eq!(positions(&xread, &["xread", "a", "b"], false), Some(vec![]));
            // The last argument is never taken for the keyword.
            assert_eq!(
                positions(&xread, &["xread", "x", "STREAMS"], false),
                Some(vec![])
            );
            // A C string comparison: the keyword ends at a NUL byte.
            let w = ["xread", "STREAMS\0junk", "a", "0"];
            assert_eq!(positions(&xread, &w, false), Some(vec![2]));
            // Backwards from the end (MIGRATE ... KEYS): the last KEYS wins.
            let keys = [KeySpec::keyword("KEYS", -2, RW).range(-1, 1, 0)];
            let w = ["migrate", "h", "1", "", "0", "5", "KEYS", "KEYS", "b"];
            assert_eq!(positions(&keys, &w, false), Some(vec![8]));
            // A keyword found as the last argument leaves no room for keys.
            let store = [KeySpec::keyword("STORE", 2, OW)];
            assert_eq!(
                positions(&store, &["x", "k", "STORE", "d"], false),
                Some(vec![3])
            );
            assert_eq!(
                positions(&store, &["x", "k", "d", "STORE"], false),
                Some(vec![])
            );
        }

        #[test]
        fn keynum_and_bounds() {
            let zunionstore = [
                KeySpec::at(1, OW | UPDATE),
                KeySpec::at(2, RO | ACCESS).keynum(0, 1, 1),
            ];
            let w = ["zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"];
            assert_eq!(positions(&zunionstore, &w, false), Some(vec![1, 3, 4]));
            // Too many keys, none, a negative or unparsable count: invalid.
            for n in ["3", "0", "-1", "2abc", "01", ""] {
                let w = ["zunionstore", "d", n, "a", "b"];
                assert_eq!(positions(&zunionstore, &w, false), None, "{n}");
            }
            // An index beyond the arguments is invalid too.
            assert_eq!(positions(&[KeySpec::at(3, RO)], &["x", "a"], false), None);
            assert_eq!(positions(&[KeySpec::unknown(RO)], &["x", "a"], false), None);
            // Incomplete specs find their keys but fail the whole search.
            assert_eq!(
                positions(&[KeySpec::at(1, RO | INCOMPLETE)], &["x", "a"], false),
                None
            );
            // Flags follow their spec.
            let a = args(&["zunionstore", "d", "1", "a"]);
            let found = find_keys(&zunionstore, &a.as_args(), false).unwrap();
            assert_eq!(
                found,
                [
                    KeyRef {
                        pos: 1,
                        flags: OW | UPDATE
                    },
                    KeyRef {
                        pos: 3,
                        flags: RO | ACCESS
                    }
                ]
            );
        }

        #[test]
        fn shard_channels_only_on_request() {
            let spublish = [KeySpec::at(1, NOT_KEY)];
            assert_eq!(
                positions(&spublish, &["spublish", "c", "m"], false),
                Some(vec![])
            );
            assert_eq!(
                positions(&spublish, &["spublish", "c", "m"], true),
                Some(vec![1])
            );
        }

        fn every_command() -> Vec<&'static Command> {
            all()
                .flat_map(|c| std::iter::once(c).chain(c.subcommands))
                .collect()
        }

        /// Valkey panics at start-up when a fixed-arity command's key specs
        /// point past its arguments; the same check over our table.
        #[test]
        fn specs_fit_the_arity() {
            for c in every_command() {
                if c.arity <= 0 || c.key_specs.iter().any(|s| s.flags & INCOMPLETE != 0) {
                    continue;
                }
                let words: Vec<String> = (0..c.arity).map(|i| format!("a{i}")).collect();
                let words: Vec<&str> = words.iter().map(String::as_str).collect();
                if let Some(found) = positions(c.key_specs, &words, true) {
                    assert!(
                        found.iter().all(|&p| p > 0 && p < words.len()),
                        "{}",
                        c.name
                    );
                } else {
                    assert!(
                        c.key_specs.iter().any(|s| !matches!(
                            (s.begin_search, s.find_keys),
                            (BeginSearch::Index(_), FindKeys::Range { .. })
                        )),
                        "{}: plain specs must fit",
                        c.name
                    );
                }
            }
        }

        /// Without a key finder, key positions come from the legacy range
        /// (as Valkey's tracking and cluster routing get them): the same
        /// keys the specs find whenever the specs can be followed.
        #[test]
        fn legacy_range_agrees_with_the_specs() {
            let mut compared = 0;
            for c in every_command() {
                if c.getkeys.is_some() || c.movable_keys {
                    continue;
                }
                let min = c.arity.unsigned_abs() as usize;
                let max = if c.arity < 0 { min + 5 } else { min };
                for argc in min.max(1)..=max {
                    let words: Vec<String> = (0..argc).map(|i| format!("a{i}")).collect();
                    let words: Vec<&str> = words.iter().map(String::as_str).collect();
                    if let Some(found) = positions(c.key_specs, &words, true) {
                        let a = args(&words);
                        assert_eq!(c.key_positions(&a.as_args()), found, "{} {argc}", c.name);
                        compared += 1;
                    }
                }
            }
            assert!(compared > 500, "{compared}");
            // Where they differ: the legacy range reaches the destination
            // of a PFMERGE without sources, the specs fail.
            let pfmerge = crate::commands::lookup(b"pfmerge").unwrap();
            let a = args(&["pfmerge", "d"]);
            assert_eq!(pfmerge.key_positions(&a.as_args()), [1]);
            assert!(pfmerge.keys_with_flags(&a.as_args()).is_empty());
        }

        /// Every command Valkey gives a key finder has one here, and only
        /// those (SET, BITFIELD and the numkeys / option-scanning ones).
        #[test]
        fn key_finders_where_valkey_has_them() {
            let mut with: Vec<&str> = every_command()
                .iter()
                .filter(|c| c.getkeys.is_some())
                .map(|c| c.name)
                .collect();
            with.sort_unstable();
            assert_eq!(
                with,
                [
                    "bitfield",
                    "blmpop",
                    "bzmpop",
                    "georadius",
                    "georadiusbymember",
                    "lmpop",
                    "migrate",
                    "set",
                    "sintercard",
                    "sort",
                    "sort_ro",
                    "xread",
                    "xreadgroup",
                    "zdiff",
                    "zdiffstore",
                    "zinter",
                    "zintercard",
                    "zinterstore",
                    "zmpop",
                    "zunion",
                    "zunionstore",
                ]
            );
            let flagged = |name: &str| {
                let c = crate::commands::lookup(name.as_bytes()).unwrap();
                matches!(c.getkeys, Some(GetKeys::Flagged(_)))
            };
            for name in ["set", "bitfield", "sort", "sort_ro", "migrate"] {
                assert!(flagged(name), "{name}");
            }
        }
    }
}

pub type Handler = fn(&mut Ctx<'_>);

/// A command's own key finder (Valkey's `getkeys_proc`), for commands whose
/// key specs cannot say exactly where the keys are (SORT ... STORE, MIGRATE
/// ... KEYS) or how they are used (SET ... GET). Returns argument indexes.
pub type KeysFn = fn(&Args<'_>) -> Vec<usize>;

/// glibc's `atoi`, `(int) strtol(s, NULL, 10)`, which Valkey's numkeys key
/// finders use: leading white space, a sign, the digits up to the first
/// other byte (none: 0), saturated to 64 bits and then truncated to 32, so
/// "4294967297" is 1 and "99999999999999999999" is -1.
pub fn atoi(s: &[u8]) -> i32 {
    crate::util::num::atoll(s) as i32
}

/// Valkey's `genericGetKeys`, the key finder of the numkeys commands
/// (ZUNIONSTORE, LMPOP, SINTERCARD...): the count at `count_at` read with
/// [`atoi`], then that many keys from `first` every `step`-th, then the
/// destination at `store` if the command has one. A count below 1 or
/// beyond the arguments finds no key at all, the destination included.
/// COMMAND GETKEYS reaches it only when the key specs cannot be followed
/// (a count the specs' strict parsing refuses, like "01").
pub fn numkeys_getkeys(
    args: &Args<'_>,
    store: Option<usize>,
    count_at: usize,
    first: usize,
    step: usize,
) -> Vec<usize> {
    let num = i64::from(args.try_get(count_at).map_or(0, atoi));
    // Valkey's int arithmetic, with C's division rounding towards zero.
    let room = (args.len() as i64 - first as i64) / step.max(1) as i64;
    if num < 1 || num > room {
        return Vec::new();
    }
    let mut keys: Vec<usize> = (0..num as usize).map(|i| first + i * step).collect();
    keys.extend(store);
    keys
}

#[cfg(test)]
mod numkeys_tests {
    use super::*;
    use crate::resp::OwnedArgs;

    #[test]
    fn atoi_like_glibc() {
        for (s, want) in [
            ("12", 12),
            ("  \t\n\x0b\x0c\r-7x", -7),
            ("+3", 3),
            ("01", 1),
            ("", 0),
            ("x1", 0),
            ("- 1", 0),
            ("1\0 2", 1),
            ("2147483647", i32::MAX),
            ("2147483648", i32::MIN),
            ("4294967297", 1),
            ("-4294967295", 1),
            // strtol saturates at LONG_MAX / LONG_MIN, then the cast.
            ("99999999999999999999", -1),
            ("-99999999999999999999", 0),
            ("9223372036854775807", -1),
            ("-9223372036854775808", 0),
        ] {
            assert_eq!(atoi(s.as_bytes()), want, "{s:?}");
        }
    }

    #[test]
    fn generic_getkeys() {
        let keys = |words: &[&str], store, count_at, first| {
            let parts: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
            numkeys_getkeys(
                &OwnedArgs::from_slices(&parts).as_args(),
                store,
                count_at,
                first,
                1,
            )
        };
        let w = ["zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "1"];
        assert_eq!(keys(&w, Some(1), 2, 3), [3, 4, 1]);
        // Exactly the arguments left is fine, one more is not.
        assert_eq!(keys(&["zunion", "2", "a", "b"], None, 1, 2), [2, 3]);
        assert!(keys(&["zunion", "3", "a", "b"], None, 1, 2).is_empty());
        assert!(keys(&["zunionstore", "d", "0", "a"], Some(1), 2, 3).is_empty());
        // A missing count reads as 0.
        assert!(keys(&["zunion"], None, 1, 2).is_empty());
    }
}

/// A key finder that also says how each key is used, for the commands whose
/// Valkey `getkeys_proc` reports flags (COMMAND GETKEYSANDFLAGS shows them).
pub type KeyRefsFn = fn(&Args<'_>) -> Vec<keyspec::KeyRef>;

/// A command's key finder; see [`KeysFn`] and [`KeyRefsFn`].
#[derive(Clone, Copy)]
pub enum GetKeys {
    /// Keys without flags, like Valkey's procs for commands whose key specs
    /// are complete (ZUNIONSTORE, XREAD, GEORADIUS...).
    Positions(KeysFn),
    Flagged(KeyRefsFn),
}

/// One command (or subcommand) of the table.
pub struct Command {
    /// Lower case, as COMMAND reports it (subcommands: "config|get").
    pub name: &'static str,
    /// Exact argument count including the name if positive, minimum if negative.
    pub arity: i32,
    pub flags: u32,
    /// Data-type categories; the flag-derived ones are added by [`Command::acl_categories`].
    pub acl: u32,
    /// Where the keys are and how they are used (Valkey's key specs).
    pub key_specs: &'static [keyspec::KeySpec],
    /// The legacy (first, last, step) of COMMAND INFO, derived from
    /// `key_specs` by [`Command::key_specs`] as Valkey does.
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    /// The "movablekeys" flag: the legacy range does not find every key.
    pub movable_keys: bool,
    pub getkeys: Option<GetKeys>,
    pub handler: Handler,
    pub subcommands: &'static [Command],
    /// COMMAND INFO's tips for clients and cluster proxies, as Valkey
    /// spells them: "nondeterministic_output", "request_policy:all_shards"...
    pub tips: &'static [&'static str],
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
}

impl Command {
    /// A command with no keys; refine with the `const fn` builders.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        acl: u32,
        handler: Handler,
    ) -> Command {
        Command {
            name,
            arity,
            flags,
            acl,
            key_specs: &[],
            first_key: 0,
            last_key: 0,
            key_step: 0,
            movable_keys: false,
            getkeys: None,
            handler,
            subcommands: &[],
            tips: &[],
            group: "generic",
            since: "1.0.0",
            summary: "",
            complexity: "",
        }
    }

    /// Sets the key specs, and the legacy range and "movablekeys" flag
    /// derived from them.
    pub const fn key_specs(mut self, specs: &'static [keyspec::KeySpec]) -> Command {
        let legacy = keyspec::legacy_range(specs);
        self.key_specs = specs;
        self.first_key = legacy.first;
        self.last_key = legacy.last;
        self.key_step = legacy.step;
        self.movable_keys = legacy.movable;
        self
    }

    pub const fn keys_fn(mut self, f: KeysFn) -> Command {
        self.getkeys = Some(GetKeys::Positions(f));
        self
    }

    pub const fn key_refs_fn(mut self, f: KeyRefsFn) -> Command {
        self.getkeys = Some(GetKeys::Flagged(f));
        self
    }

    pub const fn subcommands(mut self, subs: &'static [Command]) -> Command {
        self.subcommands = subs;
        self
    }

    pub const fn tips(mut self, tips: &'static [&'static str]) -> Command {
        self.tips = tips;
        self
    }

    pub const fn doc(
        mut self,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
        complexity: &'static str,
    ) -> Command {
        self.group = group;
        self.since = since;
        self.summary = summary;
        self.complexity = complexity;
        self
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// All ACL categories, with the ones Valkey derives from flags.
    pub fn acl_categories(&self) -> u32 {
        let mut c = self.acl;
        if self.has(flags::WRITE) {
            c |= acl::WRITE;
        }
        if self.has(flags::READONLY) && c & acl::SCRIPTING == 0 {
            c |= acl::READ;
        }
        if self.has(flags::ADMIN) {
            c |= acl::ADMIN | acl::DANGEROUS;
        }
        if self.has(flags::PUBSUB) {
            c |= acl::PUBSUB;
        }
        if self.has(flags::FAST) {
            c |= acl::FAST;
        }
        if self.has(flags::BLOCKING) {
            c |= acl::BLOCKING;
        }
        if c & acl::FAST == 0 {
            c |= acl::SLOW;
        }
        c
    }

    /// The argument indexes that are keys (Valkey's `getKeysFromCommand`,
    /// what client tracking and cluster routing use): the command's own key
    /// finder if it has one, else the legacy range its key specs make,
    /// shard channels included. That range may find keys the specs alone
    /// would not (PFMERGE with only a destination). Nothing when a key
    /// position is past the arguments (the command will reply an error).
    pub fn key_positions(&self, args: &Args<'_>) -> Vec<usize> {
        match self.getkeys {
            Some(GetKeys::Positions(f)) => f(args),
            Some(GetKeys::Flagged(f)) => f(args).into_iter().map(|k| k.pos).collect(),
            None => self.legacy_key_positions(args.len()),
        }
    }

    /// Valkey's `getKeysUsingLegacyRangeSpec`.
    fn legacy_key_positions(&self, argc: usize) -> Vec<usize> {
        if self.first_key <= 0 {
            return Vec::new();
        }
        let Ok(argc) = i32::try_from(argc) else {
            return Vec::new();
        };
        let last = if self.last_key < 0 {
            argc + self.last_key
        } else {
            self.last_key
        };
        if last >= argc {
            return Vec::new();
        }
        let step = self.key_step.max(1) as usize;
        (self.first_key..=last)
            .step_by(step)
            .map(|i| i as usize)
            .collect()
    }

    /// The keys and how the command uses them, as COMMAND GETKEYS and
    /// GETKEYSANDFLAGS report them (Valkey's `getKeysFromCommandWithSpecs`):
    /// from the key specs when they are complete and their flags do not
    /// depend on the arguments, else from the command's own key finder
    /// (whose keys carry no flags unless it reports them).
    pub fn keys_with_flags(&self, args: &Args<'_>) -> Vec<keyspec::KeyRef> {
        let specs = self.key_specs;
        let has_keys = specs.iter().any(|s| s.flags & keyspec::NOT_KEY == 0);
        let variable = specs.iter().any(|s| s.flags & keyspec::VARIABLE_FLAGS != 0);
        if has_keys && !variable {
            if let Some(keys) = keyspec::find_keys(specs, args, false) {
                return keys;
            }
        }
        match self.getkeys {
            Some(GetKeys::Positions(f)) => f(args)
                .into_iter()
                .map(|pos| keyspec::KeyRef { pos, flags: 0 })
                .collect(),
            Some(GetKeys::Flagged(f)) => f(args),
            None => Vec::new(),
        }
    }

    /// Whether the command may have key arguments at all (Valkey's
    /// `doesCommandHaveKeys`): shard channels are not keys.
    pub fn has_keys(&self) -> bool {
        self.getkeys.is_some()
            || self
                .key_specs
                .iter()
                .any(|s| s.flags & keyspec::NOT_KEY == 0)
    }

    pub fn is_arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }

    /// The subcommand named by `name`, case-insensitively.
    pub fn subcommand(&self, name: &[u8]) -> Option<&'static Command> {
        self.subcommands.iter().find(|s| {
            let short = s.name.rsplit('|').next().unwrap_or(s.name);
            short.as_bytes().eq_ignore_ascii_case(name)
        })
    }
}

/// The command table: each family's commands.
pub static TABLE: &[&[Command]] = &[
    connection::COMMANDS,
    strings::COMMANDS,
    bitops::COMMANDS,
    keys::COMMANDS,
    dump::COMMANDS,
    migrate::COMMANDS,
    lists::COMMANDS,
    hashes::COMMANDS,
    sets::COMMANDS,
    zsets::COMMANDS,
    sort::COMMANDS,
    pubsub::COMMANDS,
    streams::COMMANDS,
    hll::COMMANDS,
    geo::COMMANDS,
    object::COMMANDS,
    introspection::COMMANDS,
    client::COMMANDS,
    server::COMMANDS,
    aof::COMMANDS,
];

/// Every top-level command.
pub fn all() -> impl Iterator<Item = &'static Command> {
    TABLE.iter().flat_map(|family| family.iter())
}

/// Name -> command. Looked up once per request, so it uses the fast
/// process-seeded hash rather than std's SipHash.
type Index = HashMap<&'static str, &'static Command, ferrokey_table::DefaultHashBuilder>;

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| all().map(|c| (c.name, c)).collect())
}

/// Finds a top-level command by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    index().get(std::str::from_utf8(lower).ok()?).copied()
}

/// Finds a command by its full name, "get" or "config|get" (Valkey's
/// `lookupCommandBySds`): case-insensitive, at most one `|`.
pub fn lookup_fullname(name: &[u8]) -> Option<&'static Command> {
    match name.iter().position(|&b| b == b'|') {
        Some(i) => {
            let (parent, sub) = (&name[..i], &name[i + 1..]);
            if sub.contains(&b'|') {
                return None;
            }
            lookup(parent)?.subcommand(sub)
        }
        None => lookup(name),
    }
}

/// Standard error replies, byte for byte Valkey's.
pub mod err {
    pub const WRONGTYPE: &[u8] =
        b"WRONGTYPE Operation against a key holding the wrong kind of value";
    pub const SYNTAX: &[u8] = b"ERR syntax error";
    pub const NOT_INTEGER: &[u8] = b"ERR value is not an integer or out of range";
    pub const NOT_FLOAT: &[u8] = b"ERR value is not a valid float";
    pub const OVERFLOW: &[u8] = b"ERR increment or decrement would overflow";
    pub const NOAUTH: &[u8] = b"NOAUTH Authentication required.";
    pub const OOM: &[u8] = b"OOM command not allowed when used memory > 'maxmemory'.";
    pub const NO_SUCH_KEY: &[u8] = b"ERR no such key";
    pub const DB_INDEX: &[u8] = b"ERR DB index is out of range";
    pub const INVALID_EXPIRE: &[u8] = b"ERR invalid expire time in 'set' command";
}

/// What a handler works with: its arguments, its reply buffer, its client's
/// state and the server (keyspace, config, stats).
pub struct Ctx<'a> {
    pub args: Args<'a>,
    pub out: &'a mut Reply,
    pub client: &'a mut ClientState,
    pub srv: &'a mut Server,
    pub cmd: &'static Command,
}

impl<'a> Ctx<'a> {
    #[inline]
    pub fn arg(&self, i: usize) -> &'a [u8] {
        self.args.get(i)
    }

    #[inline]
    pub fn argc(&self) -> usize {
        self.args.len()
    }

    #[inline]
    pub fn now(&self) -> Now {
        self.srv.now
    }

    /// The client's selected database.
    #[inline]
    pub fn db(&mut self) -> &mut Db {
        &mut self.srv.keyspace.dbs[self.client.db]
    }

    /// Starts loading the table lines of the keys at arguments `first`,
    /// `first + step`, ... (at most 16): a multi-key command then waits for
    /// its keys' cache misses together instead of one after another.
    pub fn prefetch_keys(&mut self, first: usize, step: usize) {
        // One key gains nothing: its own lookup takes the same misses.
        if self.argc() > first + step {
            let args = self.args;
            let keys = (first..args.len()).step_by(step).map(|i| args.get(i));
            self.srv.keyspace.dbs[self.client.db].prefetch(keys);
        }
    }

    /// Parses argument `i` as an integer, replying with Valkey's error if it
    /// is not one.
    pub fn arg_i64(&mut self, i: usize) -> Option<i64> {
        let v = crate::util::num::parse_i64(self.arg(i));
        if v.is_none() {
            self.out.error(err::NOT_INTEGER);
        }
        v
    }

    pub fn arg_f64(&mut self, i: usize) -> Option<f64> {
        let v = crate::util::num::parse_f64(self.arg(i));
        if v.is_none() {
            self.out.error(err::NOT_FLOAT);
        }
        v
    }

    /// Records a change to `key` in the selected database: invalidates
    /// WATCHes and counts towards the dirty counter (save points).
    pub fn modified(&mut self, key: &[u8]) {
        let db = self.client.db;
        self.srv.key_modified(db, key);
        self.srv.dirty += 1;
    }

    /// Reports a change to `key` that touched `n` elements: WATCH
    /// invalidation once, `n` towards the dirty counter (Valkey's
    /// `server.dirty += n`). Nothing when `n` is 0.
    pub fn modified_n(&mut self, key: &[u8], n: usize) {
        if n == 0 {
            return;
        }
        self.modified(key);
        self.srv.dirty += n as u64 - 1;
    }

    /// A generator of random numbers for one command (xorshift64*), seeded
    /// from the server's: closures that hold a value cannot borrow the
    /// server again.
    pub fn rng(&mut self) -> impl FnMut() -> u64 {
        let mut x = self.srv.random() | 1;
        move || {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    /// Publishes a keyspace notification for `key` of the selected
    /// database (see [`Server::notify`]); `class` is one of
    /// `crate::config::notify`'s flags.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        let db = self.client.db;
        keys::notify_db(self.srv, class, event, key, db);
    }

    /// Marks `key` of the selected database ready for clients blocked on
    /// it, for writes that add to an existing value without creating the
    /// key (XADD to a stream that XREAD BLOCK waits on). Creating a key
    /// signals by itself.
    pub fn signal_key_ready(&mut self, key: &[u8]) {
        let db = self.client.db;
        let d = &mut self.srv.keyspace.dbs[db];
        if !d.blocking.is_empty() {
            d.blocking.signal(key);
        }
    }

    /// Makes this command reach the AOF (and replicas) as `argv` instead of
    /// as it was called (Valkey's `rewriteClientCommandVector`): for
    /// commands whose effect depends on the clock or on chance (relative
    /// expires become absolute, SPOP becomes SREM, ...). Calling it again
    /// replaces the earlier rewrite; an empty `argv` propagates nothing.
    pub fn propagate_as(&mut self, argv: &[&[u8]]) {
        let p = &mut self.srv.propagation;
        p.replaced = true;
        p.rewritten = argv.iter().map(|a| a.to_vec()).collect();
    }

    /// Propagates `argv` (in the client's database) in addition to, and
    /// after, the command itself (Valkey's `alsoPropagate`), e.g. the
    /// XCLAIMs of an XREADGROUP, which itself is not propagated
    /// (`propagate_as(&[])`).
    pub fn also_propagate(&mut self, argv: &[&[u8]]) {
        let db = self.client.db;
        self.srv
            .propagation
            .also
            .push((db, argv.iter().map(|a| a.to_vec()).collect()));
    }

    /// The arity error for this command.
    pub fn wrong_arity(&mut self) {
        reply_arity_error(self.out, self.cmd.name);
    }
}

pub fn reply_arity_error(out: &mut Reply, name: &str) {
    let msg = format!("ERR wrong number of arguments for '{name}' command");
    out.error(msg.as_bytes());
}

/// Valkey's reply to an unknown command: the name and the first arguments.
pub fn reply_unknown_command(out: &mut Reply, args: &Args<'_>) {
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(&sanitize(args.get(0), 128));
    msg.extend_from_slice(b"', with args beginning with: ");
    for i in 1..args.len() {
        if msg.len() >= 128 {
            break;
        }
        msg.push(b'\'');
        msg.extend_from_slice(&sanitize(args.get(i), 128 - msg.len().min(128)));
        msg.extend_from_slice(b"' ");
    }
    out.error(&msg);
}

/// Valkey's reply to an unknown subcommand.
pub fn reply_unknown_subcommand(out: &mut Reply, cmd: &str, sub: &[u8]) {
    let mut msg = b"ERR unknown subcommand '".to_vec();
    msg.extend_from_slice(&sanitize(sub, 128));
    msg.extend_from_slice(format!("'. Try {} HELP.", cmd.to_ascii_uppercase()).as_bytes());
    out.error(&msg);
}

/// Client-provided text in an error: bounded, with unprintable bytes replaced.
fn sanitize(s: &[u8], max: usize) -> Vec<u8> {
    s.iter()
        .take(max)
        .map(|&b| if (b' '..=b'~').contains(&b) { b } else { b' ' })
        .collect()
}

/// The handler of a container command (CLIENT, CONFIG, PUBSUB...): never
/// reached with a known subcommand, which dispatch resolves first.
pub fn container(ctx: &mut Ctx<'_>) {
    ctx.out.error(err::SYNTAX);
}

/// Writes a HELP subcommand reply: the header line, then `lines`.
pub fn reply_help(out: &mut Reply, cmd: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(
        format!(
            "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            cmd.to_ascii_uppercase()
        )
        .as_bytes(),
    );
    for l in lines {
        out.simple(l.as_bytes());
    }
    out.simple(b"HELP");
    out.simple(b"    Print this help.");
}
