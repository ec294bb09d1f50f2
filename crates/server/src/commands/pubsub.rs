//! Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH
//! and PUBSUB. The subscription state and delivery live in
//! `server/pubsub.rs`; the RESP2 "subscribed mode" restrictions are applied
//! by the dispatcher (exec.rs).

use super::{flags::*, reply_help, Command, Ctx};
use crate::resp::Reply;
use crate::server::client::ReplyMode;
use crate::server::pubsub::{self, Kind};

const SUB_FLAGS: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;
const PUB_FLAGS: u32 = PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE;
const INFO_FLAGS: u32 = PUBSUB | LOADING | STALE;

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("subscribe", -2, SUB_FLAGS, 0, subscribe).doc(
            "pubsub",
            "2.0.0",
            "Listens for messages published to channels.",
            "O(N) where N is the number of channels to subscribe to.",
        ),
        Command::new("unsubscribe", -1, SUB_FLAGS, 0, unsubscribe).doc(
            "pubsub",
            "2.0.0",
            "Stops listening to messages posted to channels.",
            "O(N) where N is the number of channels to unsubscribe.",
        ),
        Command::new("psubscribe", -2, SUB_FLAGS, 0, psubscribe).doc(
            "pubsub",
            "2.0.0",
            "Listens for messages published to channels that match one or more patterns.",
            "O(N) where N is the number of patterns to subscribe to.",
        ),
        Command::new("punsubscribe", -1, SUB_FLAGS, 0, punsubscribe).doc(
            "pubsub",
            "2.0.0",
            "Stops listening to messages published to channels that match one or more patterns.",
            "O(N) where N is the number of patterns to unsubscribe.",
        ),
        Command::new("ssubscribe", -2, SUB_FLAGS, 0, ssubscribe)
            .key_specs(&[KeySpec::at(1, NOT_KEY).range(-1, 1, 0)])
            .doc(
                "pubsub",
                "7.0.0",
                "Listens for messages published to shard channels.",
                "O(N) where N is the number of shard channels to subscribe to.",
            ),
        Command::new("sunsubscribe", -1, SUB_FLAGS, 0, sunsubscribe)
            .key_specs(&[KeySpec::at(1, NOT_KEY).range(-1, 1, 0)])
            .doc(
                "pubsub",
                "7.0.0",
                "Stops listening to messages posted to shard channels.",
                "O(N) where N is the number of shard channels to unsubscribe.",
            ),
        Command::new("publish", 3, PUB_FLAGS, 0, publish).doc(
            "pubsub",
            "2.0.0",
            "Posts a message to a channel.",
            "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
        ),
        Command::new("spublish", 3, PUB_FLAGS, 0, spublish)
            .key_specs(&[KeySpec::at(1, NOT_KEY)])
            .doc(
                "pubsub",
                "7.0.0",
                "Post a message to a shard channel",
                "O(N) where N is the number of clients subscribed to the receiving shard channel.",
            ),
        Command::new("pubsub", -2, 0, 0, super::container)
            .subcommands(PUBSUB_SUBCOMMANDS)
            .doc("pubsub", "2.8.0", "A container for Pub/Sub commands.", "Depends on subcommand."),
    ]
};

static PUBSUB_SUBCOMMANDS: &[Command] = &[
    Command::new("pubsub|channels", -2, INFO_FLAGS, 0, channels).doc(
        "pubsub",
        "2.8.0",
        "Returns the active channels.",
        "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
    ),
    Command::new("pubsub|help", 2, LOADING | STALE, 0, help).doc(
        "pubsub",
        "6.2.0",
        "Returns helpful text about the different subcommands.",
        "O(1)",
    ),
    Command::new("pubsub|numpat", 2, INFO_FLAGS, 0, numpat).doc(
        "pubsub",
        "2.8.0",
        "Returns a count of unique pattern subscriptions.",
        "O(1)",
    ),
    Command::new("pubsub|numsub", -2, INFO_FLAGS, 0, numsub).doc(
        "pubsub",
        "2.8.0",
        "Returns a count of subscribers to channels.",
        "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
    ),
    Command::new("pubsub|shardchannels", -2, INFO_FLAGS, 0, shardchannels).doc(
        "pubsub",
        "7.0.0",
        "Returns the active shard channels.",
        "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
    ),
    Command::new("pubsub|shardnumsub", -2, INFO_FLAGS, 0, shardnumsub).doc(
        "pubsub",
        "7.0.0",
        "Returns the count of subscribers of shard channels.",
        "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
    ),
];

/// The count a (un)subscribe confirmation carries: channels and patterns
/// together, shard channels on their own (Valkey's `subscriptionCount`).
fn count_for(ctx: &Ctx<'_>, kind: Kind) -> usize {
    let (ch, pat, shard) = ctx.srv.pubsub.count_of(ctx.client.id);
    match kind {
        Kind::Shard => shard,
        _ => ch + pat,
    }
}

/// Keeps the client's counters (CLIENT LIST sub/psub/ssub, subscribed
/// mode) in step with the server's registry.
fn sync_counts(ctx: &mut Ctx<'_>) {
    let (ch, pat, shard) = ctx.srv.pubsub.count_of(ctx.client.id);
    ctx.client.sub_channels = ch;
    ctx.client.sub_patterns = pat;
    ctx.client.sub_shard_channels = shard;
}

/// A (un)subscribe confirmation. Like every pub/sub reply it is sent even
/// under CLIENT REPLY OFF|SKIP (Valkey's "pushing" replies): then it goes
/// with the push messages that survive the silencing.
fn confirm(ctx: &mut Ctx<'_>, word: &[u8], name: Option<&[u8]>, count: usize) {
    let write = |out: &mut Reply| {
        pubsub::write_header(out, 3);
        out.bulk(word);
        match name {
            Some(n) => out.bulk(n),
            None => out.null(),
        }
        out.integer(count as i64);
    };
    if ctx.client.reply_mode == ReplyMode::On {
        write(ctx.out);
    } else {
        let mut r = Reply::new(ctx.out.protocol());
        write(&mut r);
        ctx.srv.pending_push.extend_from_slice(r.buf());
    }
}

fn subscribe_generic(ctx: &mut Ctx<'_>, kind: Kind) {
    let (word, _, _) = kind.words();
    let id = ctx.client.id;
    for j in 1..ctx.argc() {
        let name = ctx.arg(j);
        ctx.srv.pubsub.subscribe(id, kind, name);
        sync_counts(ctx);
        let n = count_for(ctx, kind);
        confirm(ctx, word, Some(name), n);
    }
}

fn unsubscribe_generic(ctx: &mut Ctx<'_>, kind: Kind) {
    let (_, word, _) = kind.words();
    let id = ctx.client.id;
    let names: Vec<Vec<u8>> = if ctx.argc() == 1 {
        ctx.srv.pubsub.names_of(id, kind)
    } else {
        (1..ctx.argc()).map(|j| ctx.arg(j).to_vec()).collect()
    };
    if names.is_empty() {
        let n = count_for(ctx, kind);
        confirm(ctx, word, None, n);
        return;
    }
    for name in names {
        ctx.srv.pubsub.unsubscribe(id, kind, &name);
        sync_counts(ctx);
        let n = count_for(ctx, kind);
        confirm(ctx, word, Some(&name), n);
    }
}

fn subscribe(ctx: &mut Ctx<'_>) {
    subscribe_generic(ctx, Kind::Channel);
}

fn psubscribe(ctx: &mut Ctx<'_>) {
    subscribe_generic(ctx, Kind::Pattern);
}

fn ssubscribe(ctx: &mut Ctx<'_>) {
    subscribe_generic(ctx, Kind::Shard);
}

fn unsubscribe(ctx: &mut Ctx<'_>) {
    unsubscribe_generic(ctx, Kind::Channel);
}

fn punsubscribe(ctx: &mut Ctx<'_>) {
    unsubscribe_generic(ctx, Kind::Pattern);
}

fn sunsubscribe(ctx: &mut Ctx<'_>) {
    unsubscribe_generic(ctx, Kind::Shard);
}

fn publish_generic(ctx: &mut Ctx<'_>, shard: bool) {
    let (channel, msg) = (ctx.arg(1), ctx.arg(2));
    // A message to itself goes after the reply (after EXEC's whole reply
    // inside a transaction), as in Valkey 8 (`pending_push_messages`).
    let n = pubsub::publish(ctx.srv, shard, channel, msg);
    ctx.out.integer(n as i64);
}

fn publish(ctx: &mut Ctx<'_>) {
    publish_generic(ctx, false);
}

fn spublish(ctx: &mut Ctx<'_>) {
    publish_generic(ctx, true);
}

fn channel_list(ctx: &mut Ctx<'_>, kind: Kind) {
    if ctx.argc() > 3 {
        return super::client::reply_subcommand_syntax_error(ctx);
    }
    let pattern = (ctx.argc() == 3).then(|| ctx.arg(2));
    let names: Vec<Vec<u8>> = ctx
        .srv
        .pubsub
        .map_ref(kind)
        .keys()
        .filter(|c| pattern.is_none_or(|p| crate::util::glob::glob_match(p, c, false)))
        .cloned()
        .collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(&n);
    }
}

fn channels(ctx: &mut Ctx<'_>) {
    channel_list(ctx, Kind::Channel);
}

fn shardchannels(ctx: &mut Ctx<'_>) {
    channel_list(ctx, Kind::Shard);
}

fn numsub_generic(ctx: &mut Ctx<'_>, kind: Kind) {
    ctx.out.array((ctx.argc() - 2) * 2);
    for j in 2..ctx.argc() {
        let name = ctx.arg(j);
        let n = ctx.srv.pubsub.map_ref(kind).get(name).map_or(0, Vec::len);
        ctx.out.bulk(name);
        ctx.out.integer(n as i64);
    }
}

fn numsub(ctx: &mut Ctx<'_>) {
    numsub_generic(ctx, Kind::Channel);
}

fn shardnumsub(ctx: &mut Ctx<'_>) {
    numsub_generic(ctx, Kind::Shard);
}

fn numpat(ctx: &mut Ctx<'_>) {
    let n = ctx.srv.pubsub.patterns.len();
    ctx.out.integer(n as i64);
}

fn help(ctx: &mut Ctx<'_>) {
    reply_help(
        ctx.out,
        "pubsub",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
}
