//! BGREWRITEAOF: rewrites the append-only file in a background child (see
//! `persistence::aof`).

use super::{flags::*, Command, Ctx};
use crate::persistence::aof::{self, BgRewrite};

pub static COMMANDS: &[Command] = &[Command::new(
    "bgrewriteaof",
    1,
    NO_ASYNC_LOADING | ADMIN | NOSCRIPT,
    0,
    bgrewriteaof,
)
.doc(
    "server",
    "1.0.0",
    "Asynchronously rewrites the append-only file to disk.",
    "O(1)",
)];

/// Valkey's `bgrewriteaofCommand`: starts the rewrite, or schedules it when
/// another child runs or inside a transaction (the fork waits for the
/// cron), or refuses when one already runs.
fn bgrewriteaof(ctx: &mut Ctx<'_>) {
    let in_exec = crate::server::exec::in_exec();
    match aof::bgrewriteaof(ctx.srv, in_exec) {
        BgRewrite::AlreadyInProgress => ctx
            .out
            .error(b"ERR Background append only file rewriting already in progress"),
        BgRewrite::Scheduled => ctx
            .out
            .simple(b"Background append only file rewriting scheduled"),
        BgRewrite::Started => ctx
            .out
            .simple(b"Background append only file rewriting started"),
        BgRewrite::Failed => ctx.out.error(
            b"ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::strings::tests::Harness;

    #[test]
    fn scheduled_inside_a_transaction() {
        let mut h = Harness::new();
        let dir = std::env::temp_dir().join(format!("ferrokey-bgrw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        h.srv.config.dir = dir.clone();
        assert_eq!(h.cmd("MULTI"), "+OK\r\n");
        assert_eq!(h.cmd("BGREWRITEAOF"), "+QUEUED\r\n");
        assert_eq!(
            h.cmd("EXEC"),
            "*1\r\n+Background append only file rewriting scheduled\r\n"
        );
        assert!(crate::persistence::aof::info(&h.srv).rewrite_scheduled);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn command_info_matches_valkey() {
        let c = crate::commands::lookup(b"BGREWRITEAOF").unwrap();
        assert_eq!(c.arity, 1);
        let mut h = Harness::new();
        assert_eq!(
            h.cmd("BGREWRITEAOF x"),
            "-ERR wrong number of arguments for 'bgrewriteaof' command\r\n"
        );
    }
}
