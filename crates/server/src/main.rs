//! `ferrokey-server [config-file] [--name value ...]`: the same command line
//! as valkey-server.

use ferrokey_server::config::{CliExit, Config};
use ferrokey_server::server::net::{log, EventLoop};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_cli(&args) {
        Ok(c) => c,
        Err(exit) => exit_cli(exit),
    };
    ferrokey_server::util::clock::init();
    // Before any data is loaded, as Valkey does (its linuxMemoryWarnings).
    if config.disable_thp {
        if let Err(warning) = ferrokey_server::alloc::disable_thp() {
            log::warning(warning);
        }
    }
    let mut ev = match EventLoop::new(config) {
        Ok(ev) => ev,
        Err(e) => {
            log::warning(&e.to_string());
            std::process::exit(1);
        }
    };
    log::notice(&format!(
        "Ferrokey {} (Redis {} compatible) started, pid={}",
        env!("CARGO_PKG_VERSION"),
        ferrokey_server::REDIS_VERSION,
        std::process::id()
    ));
    for a in ev.local_addrs() {
        log::notice(&format!("Ready to accept connections tcp {a}"));
    }
    if let Err(e) = ev.run() {
        log::warning(&format!("Event loop failed: {e}"));
        std::process::exit(1);
    }
    log::notice("Ferrokey is now ready to exit, bye bye...");
}

fn exit_cli(exit: CliExit) -> ! {
    match &exit {
        CliExit::Version => println!(
            "Ferrokey server v={} (redis_version={})",
            env!("CARGO_PKG_VERSION"),
            ferrokey_server::REDIS_VERSION
        ),
        other => eprint!("{other}"),
    }
    std::process::exit(exit.exit_code())
}
