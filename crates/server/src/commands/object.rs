//! OBJECT ENCODING | REFCOUNT | IDLETIME | FREQ | HELP: introspection of
//! one key's value. Lookups never refresh the access clock (Valkey's
//! `LOOKUP_NOTOUCH`), or IDLETIME would always answer 0.

use super::{acl, err, flags::*, reply_help, Command, Ctx};
use crate::config::Config;
use crate::keyspace::access::{idle_seconds, lfu_decayed_counter, lfu_minutes, lru_clock};
use crate::keyspace::{Record, ValueRef};

pub static COMMANDS: &[Command] = &[Command::new("object", -2, 0, 0, container)
    .subcommands(SUBCOMMANDS)
    .doc(
        "generic",
        "2.2.3",
        "A container for object introspection commands.",
        "Depends on subcommand.",
    )];

static SUBCOMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("object|encoding", 3, READONLY, acl::KEYSPACE, encoding)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(2, RO)])
            .doc(
                "generic",
                "2.2.3",
                "Returns the internal encoding of an object.",
                "O(1)",
            ),
        Command::new("object|freq", 3, READONLY, acl::KEYSPACE, freq)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(2, RO)])
            .doc(
                "generic",
                "4.0.0",
                "Returns the logarithmic access frequency counter of an object.",
                "O(1)",
            ),
        Command::new("object|idletime", 3, READONLY, acl::KEYSPACE, idletime)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(2, RO)])
            .doc(
                "generic",
                "2.2.3",
                "Returns the time since the last access to an object.",
                "O(1)",
            ),
        Command::new("object|refcount", 3, READONLY, acl::KEYSPACE, refcount)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(2, RO)])
            .doc(
                "generic",
                "2.2.3",
                "Returns the reference count of a value of a key.",
                "O(1)",
            ),
        Command::new("object|help", 2, LOADING | STALE, acl::KEYSPACE, help).doc(
            "generic",
            "6.2.0",
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
    ]
};

/// Valkey's `OBJ_SHARED_INTEGERS`: values 0..10000 are shared objects.
const SHARED_INTEGERS: i64 = 10_000;
/// The reference count Valkey reports for a shared object (`INT_MAX`).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// Container commands answer only through their subcommands.
fn container(ctx: &mut Ctx<'_>) {
    ctx.out.error(err::SYNTAX);
}

fn help(ctx: &mut Ctx<'_>) {
    reply_help(
        ctx.out,
        "object",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
}

/// Looks the key up without touching it and computes `f` from its record;
/// replies nil (and returns None) when it is absent. Counts as a read.
fn lookup<R>(ctx: &mut Ctx<'_>, f: impl FnOnce(&Record) -> R) -> Option<R> {
    let (key, now) = (ctx.arg(2), ctx.now());
    let r = ctx.db().get_no_touch(key, now).map(|r| f(&r));
    if r.is_some() {
        ctx.srv.stats.keyspace_hits += 1;
    } else {
        ctx.srv.stats.keyspace_misses += 1;
        ctx.out.null();
    }
    r
}

fn encoding(ctx: &mut Ctx<'_>) {
    if let Some(name) = lookup(ctx, Record::encoding_name) {
        ctx.out.bulk(name.as_bytes());
    }
}

/// Whether Valkey would keep small integers as shared objects: not when
/// maxmemory evicts by LRU/LFU, which needs a private access clock per
/// value (`canUseSharedObject`).
fn shares_integers(config: &Config) -> bool {
    config.maxmemory == 0 || !(config.maxmemory_policy.is_lru() || config.maxmemory_policy.is_lfu())
}

/// REFCOUNT: values are never shared here, so 1, except that Valkey
/// answers `INT_MAX` for the small integers it keeps as shared objects; we
/// report what Valkey would for the same value and configuration.
fn refcount(ctx: &mut Ctx<'_>) {
    let Some(small_int) = lookup(
        ctx,
        |r| matches!(r.value(), ValueRef::Int(i) if (0..SHARED_INTEGERS).contains(&i)),
    ) else {
        return;
    };
    let shared = small_int && shares_integers(&ctx.srv.config);
    ctx.out.integer(if shared { SHARED_REFCOUNT } else { 1 });
}

fn idletime(ctx: &mut Ctx<'_>) {
    let now_clock = lru_clock(ctx.now().ms);
    let Some(idle) = lookup(ctx, |r| idle_seconds(now_clock, r.clock())) else {
        return;
    };
    if ctx.srv.config.maxmemory_policy.is_lfu() {
        ctx.out.error(b"ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    ctx.out.integer(idle as i64);
}

fn freq(ctx: &mut Ctx<'_>) {
    let Some(clock) = lookup(ctx, Record::clock) else {
        return;
    };
    if !ctx.srv.config.maxmemory_policy.is_lfu() {
        ctx.out.error(b"ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    let now = lfu_minutes(ctx.now().ms);
    let decay = ctx.srv.config.lfu_decay_time;
    ctx.out
        .integer(i64::from(lfu_decayed_counter(clock, now, decay)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_integers_follow_the_eviction_policy() {
        use crate::config::MaxmemoryPolicy;
        let mut c = Config::default();
        assert!(shares_integers(&c));
        c.maxmemory = 1 << 30;
        c.maxmemory_policy = MaxmemoryPolicy::AllkeysRandom;
        assert!(shares_integers(&c));
        c.maxmemory_policy = MaxmemoryPolicy::VolatileLru;
        assert!(!shares_integers(&c));
        c.maxmemory_policy = MaxmemoryPolicy::AllkeysLfu;
        assert!(!shares_integers(&c));
        c.maxmemory = 0;
        assert!(shares_integers(&c));
    }
}
