//! Loading configuration text (`valkey.conf` syntax), config files with
//! `include`, and the valkey-server command line.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::params::{cstr, lookup, repr, strerror, MULTI_ARG};
use super::{Config, SERVER_VERSION};
use crate::util::glob::glob_match;
use crate::util::split::split_args;

/// Directives Valkey still accepts (and ignores) for compatibility, with the
/// argument count (including the name) they must have.
const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
    "io-threads-do-reads",
];

/// Valkey's IO_THREADS_MAX_NUM: `io-threads` above it (allowed up to 128 by
/// older versions) is lowered to it after loading.
const IO_THREADS_MAX_NUM: usize = 16;

/// Why [`Config::from_cli`] did not produce a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CliExit {
    /// `-v` / `--version`: print the version line and exit 0.
    Version,
    /// `-h` / `--help`: print [`usage`] to stderr and exit 1.
    Help,
    /// Print this to stderr (verbatim, it has its own newlines) and exit 1.
    Fatal(String),
}

impl CliExit {
    /// The process exit status valkey-server uses in this case.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliExit::Version => 0,
            CliExit::Help | CliExit::Fatal(_) => 1,
        }
    }
}

impl fmt::Display for CliExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliExit::Version => f.write_str("version requested"),
            CliExit::Help => f.write_str(&usage()),
            CliExit::Fatal(msg) => f.write_str(msg),
        }
    }
}

/// valkey-server's usage text (printed to stderr for `--help`).
pub fn usage() -> String {
    let p = "./ferrokey-server";
    format!(
        "Usage: {p} [/path/to/valkey.conf] [options] [-]\n\
         \x20      {p} - (read config from stdin)\n\
         \x20      {p} -v or --version\n\
         \x20      {p} -h or --help\n\
         \x20      {p} --test-memory <megabytes>\n\
         \x20      {p} --check-system\n\
         \n\
         Examples:\n\
         \x20      {p} (run the server with default conf)\n\
         \x20      echo 'maxmemory 128mb' | {p} -\n\
         \x20      {p} /etc/valkey/6379.conf\n\
         \x20      {p} --port 7777\n\
         \x20      {p} --port 7777 --replicaof 127.0.0.1 8888\n\
         \x20      {p} /etc/myvalkey.conf --loglevel verbose -\n\
         \x20      {p} /etc/myvalkey.conf --loglevel verbose\n\n\
         Sentinel mode:\n\
         \x20      {p} /etc/sentinel.conf --sentinel\n"
    )
}

/// The message valkey-server prints before exiting on a bad configuration.
fn fatal(at: Option<(usize, &[u8])>, reason: &str) -> String {
    let mut s = format!("\n*** FATAL CONFIG FILE ERROR (Version {SERVER_VERSION}) ***\n");
    if let Some((linenum, line)) = at {
        s.push_str(&format!(
            "Reading the configuration file, at line {linenum}\n>>> '{}'\n",
            String::from_utf8_lossy(line)
        ));
    }
    s.push_str(reason);
    s.push('\n');
    s
}

/// Trims any of `chars` from both ends (`sdstrim`).
fn trim<'a>(s: &'a [u8], chars: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|c| !chars.contains(c)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !chars.contains(c))
        .map_or(start, |i| i + 1);
    &s[start..end]
}

/// Valkey's `getAbsolutePath`: `filename` (trimmed) made absolute against
/// `cwd`, folding leading `../` components into `cwd`.
pub(super) fn absolute_path(filename: &[u8], cwd: &Path) -> PathBuf {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let mut rel = trim(filename, b" \r\n\t");
    if rel.first() == Some(&b'/') {
        return PathBuf::from(OsStr::from_bytes(rel));
    }
    let mut abs = cwd.as_os_str().as_bytes().to_vec();
    if abs.last() != Some(&b'/') {
        abs.push(b'/');
    }
    while rel.starts_with(b"../") {
        rel = &rel[3..];
        if abs.len() > 1 {
            // Drop the last path element of cwd (abs ends with '/').
            let cut = abs[..abs.len() - 1]
                .iter()
                .rposition(|&b| b == b'/')
                .map_or(0, |i| i + 1);
            abs.truncate(cut.max(1));
        }
    }
    abs.extend_from_slice(rel);
    PathBuf::from(OsStr::from_bytes(&abs))
}

/// Resolves `p` against the configuration's working directory.
fn resolve(dir: &Path, p: &[u8]) -> PathBuf {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let path = Path::new(OsStr::from_bytes(p));
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

/// Expands a glob pattern over the file system like glob(3): component by
/// component, hidden entries only when the component starts with `.`, the
/// result sorted.
fn glob_paths(dir: &Path, pattern: &[u8]) -> Vec<PathBuf> {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let has_magic = |c: &[u8]| c.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
    let mut current: Vec<PathBuf> = vec![if pattern.first() == Some(&b'/') {
        PathBuf::from("/")
    } else {
        dir.to_path_buf()
    }];
    let components: Vec<&[u8]> = pattern
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .collect();
    for comp in components {
        let mut next = Vec::new();
        for base in &current {
            if !has_magic(comp) {
                let candidate = base.join(OsStr::from_bytes(comp));
                if std::fs::symlink_metadata(&candidate).is_ok() {
                    next.push(candidate);
                }
                continue;
            }
            let Ok(entries) = std::fs::read_dir(base) else {
                continue;
            };
            let mut names: Vec<Vec<u8>> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().as_bytes().to_vec())
                .filter(|n| comp.first() == Some(&b'.') || n.first() != Some(&b'.'))
                .filter(|n| glob_match(comp, n, false))
                .collect();
            names.sort();
            next.extend(names.iter().map(|n| base.join(OsStr::from_bytes(n))));
        }
        current = next;
    }
    current.sort();
    current
}

fn cant_open(name: &Path, e: &std::io::Error) -> String {
    format!(
        "Fatal error, can't open config file '{}': {}\n",
        name.display(),
        strerror(e)
    )
}

impl Config {
    /// Loads configuration text in `valkey.conf` syntax (Valkey's
    /// `loadServerConfigFromString`) on top of the current values.
    ///
    /// On error returns what valkey-server prints before exiting, e.g.
    /// `"\n*** FATAL CONFIG FILE ERROR (Version 0.1.0) ***\nReading the
    /// configuration file, at line 2\n>>> 'port abc'\nargument couldn't be
    /// parsed into an integer\n"`. The configuration may then be partially
    /// updated (the server exits anyway).
    pub fn load_from_str(&mut self, text: &str) -> Result<(), String> {
        self.load_from_bytes(text.as_bytes())
    }

    /// [`Config::load_from_str`] for text that may not be UTF-8.
    pub fn load_from_bytes(&mut self, text: &[u8]) -> Result<(), String> {
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let linenum = i + 1;
            let line = trim(raw, b" \t\r\n");
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let fail = |reason: &str| fatal(Some((linenum, line)), reason);
            let Some(argv) = split_args(line) else {
                return Err(fail("Unbalanced quotes in configuration line"));
            };
            if argv.is_empty() {
                continue;
            }
            let name = argv[0].to_ascii_lowercase();

            if let Some((p, _)) = lookup(&name) {
                let multi = p.has(MULTI_ARG);
                if !multi && argv.len() != 2 {
                    return Err(fail("wrong number of arguments"));
                }
                let result = if multi && argv.len() == 2 && !argv[1].is_empty() {
                    // `--save "900 1 300 10"` on the command line arrives as
                    // one argument: split it again (a quoting error leaves no
                    // arguments, as in Valkey).
                    let sub = split_args(&argv[1]).unwrap_or_default();
                    let refs: Vec<&[u8]> = sub.iter().map(Vec::as_slice).collect();
                    p.set(self, &refs, true)
                } else {
                    let refs: Vec<&[u8]> = argv[1..].iter().map(Vec::as_slice).collect();
                    p.set(self, &refs, true)
                };
                if let Err(e) = result {
                    return Err(fail(&e));
                }
                continue;
            }
            if argv.len() == 2 && DEPRECATED.iter().any(|d| d.as_bytes() == name.as_slice()) {
                continue;
            }

            match name.as_slice() {
                b"include" if argv.len() == 2 => self.load_file(&argv[1])?,
                b"rename-command" if argv.len() == 3 => {
                    self.rename_commands
                        .push((argv[1].clone(), argv[2].clone()));
                }
                b"user" if argv.len() >= 2 => self.user_directives.push(argv[1..].to_vec()),
                b"loadmodule" if argv.len() >= 2 => {
                    return Err(fail(&format!(
                        "Can't load module from {}: modules are not supported",
                        String::from_utf8_lossy(&argv[1])
                    )));
                }
                n if n.contains(&b'.') => {
                    if argv.len() < 2 {
                        return Err(fail("Module config specified without value"));
                    }
                    // No module can ever claim it: Valkey aborts with this.
                    return Err(fail(
                        "Module Configuration detected without loadmodule directive or no \
                         ApplyConfig call: aborting",
                    ));
                }
                b"sentinel" => {
                    // A bare `sentinel` selects sentinel mode (decided before
                    // loading); anything else needs sentinel mode.
                    if argv.len() != 1 {
                        return Err(fail("sentinel directive while not in sentinel mode"));
                    }
                }
                _ => return Err(fail("Bad directive or wrong number of arguments")),
            }
        }
        self.after_load()
    }

    /// The checks and adjustments Valkey makes once the text is loaded.
    fn after_load(&mut self) -> Result<(), String> {
        if !self.logfile.is_empty() {
            // Valkey makes sure it can open the log file before going on.
            let path = resolve(&self.dir, self.logfile.as_bytes());
            if let Err(e) = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
            {
                return Err(fatal(
                    None,
                    &format!("Can't open the log file: {}", strerror(&e)),
                ));
            }
        }
        if self.cluster_enabled && self.replicaof.is_some() {
            return Err(fatal(
                None,
                "replicaof directive not allowed in cluster mode",
            ));
        }
        if self.cluster_enabled && self.databases > 1 {
            self.load_warnings.push(format!(
                "WARNING: Changing databases number from {} to 1 since we are in cluster mode",
                self.databases
            ));
            self.databases = 1;
        }
        self.clamp_hz();
        self.io_threads = self.io_threads.min(IO_THREADS_MAX_NUM);
        Ok(())
    }

    /// Reads a config file named in an `include` directive or on the command
    /// line (relative to `dir`) and loads it. A name with glob characters
    /// loads every matching file, and matching nothing is fine.
    pub fn load_file(&mut self, name: &[u8]) -> Result<(), String> {
        let content = self.read_config_file(name)?;
        self.load_from_bytes(&content)
    }

    fn read_config_file(&self, name: &[u8]) -> Result<Vec<u8>, String> {
        let name = cstr(name);
        if name.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
            let mut content = Vec::new();
            for path in glob_paths(&self.dir, name) {
                if path.is_dir() {
                    // fopen() of a directory succeeds and reads nothing.
                    continue;
                }
                match std::fs::read(&path) {
                    Ok(data) => content.extend_from_slice(&data),
                    Err(e) => return Err(cant_open(&path, &e)),
                }
            }
            Ok(content)
        } else {
            let path = resolve(&self.dir, name);
            std::fs::read(&path).map_err(|e| {
                use std::os::unix::ffi::OsStrExt;
                cant_open(Path::new(std::ffi::OsStr::from_bytes(name)), &e)
            })
        }
    }

    /// Builds the configuration from the command-line arguments (without the
    /// program name) exactly like valkey-server: `[config-file] [--name value
    /// ...] [-]`. Options are appended to the file as config lines (so they
    /// win), `-` as the first or last argument reads more config from stdin,
    /// `--save` with no value means `save ""`.
    pub fn from_cli(args: &[String]) -> Result<Config, CliExit> {
        Self::from_cli_with_stdin(args, || {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map(|_| buf)
        })
    }

    /// [`Config::from_cli`] with the stdin reader supplied by the caller.
    pub fn from_cli_with_stdin(
        args: &[String],
        read_stdin: impl FnOnce() -> std::io::Result<Vec<u8>>,
    ) -> Result<Config, CliExit> {
        let mut config = Config::default();
        let Some(first) = args.first() else {
            return Ok(config);
        };
        match first.as_str() {
            "-v" | "--version" => return Err(CliExit::Version),
            "-h" | "--help" => return Err(CliExit::Help),
            "--test-memory" | "--check-system" => {
                return Err(CliExit::Fatal(format!(
                    "{first} is not supported by this server\n"
                )))
            }
            _ => {}
        }

        let mut j = 0;
        if !first.starts_with('-') {
            config.config_file = Some(absolute_path(first.as_bytes(), &config.dir));
            j = 1;
        }

        // Turn the options into config lines: "--port 7000 --save" becomes
        // "port \"7000\" \nsave \"\"".
        let n = args.len();
        let mut options = String::new();
        let mut from_stdin = false;
        let mut handled_last_arg = true;
        while j < n {
            let arg = &args[j];
            let next_is_option = j + 1 < n && args[j + 1].starts_with("--");
            if arg == "-" && (j == 0 || j == n - 1) {
                from_stdin = true;
            } else if handled_last_arg && arg.starts_with("--") {
                if !options.is_empty() {
                    options.push('\n');
                }
                options.push_str(&arg[2..]);
                options.push(' ');
                let words = split_args(arg.as_bytes()).map_or(0, |v| v.len());
                if words == 1 {
                    // A bare option name: its value is the next argument.
                    handled_last_arg = false;
                    let is_save = arg.eq_ignore_ascii_case("--save");
                    let is_sentinel = arg.eq_ignore_ascii_case("--sentinel");
                    if is_save && (next_is_option || j == n - 1) {
                        // `--save` followed by an option or nothing: no save
                        // points, as before Valkey 7.0.1.
                        options.push_str("\"\"");
                        handled_last_arg = next_is_option;
                    } else if is_sentinel && next_is_option {
                        // `--sentinel` takes no value.
                        handled_last_arg = true;
                    }
                } else {
                    // "--port 6380" as one argument carries its value.
                    handled_last_arg = true;
                }
            } else {
                options.push_str(&repr(arg.as_bytes()));
                options.push(' ');
                handled_last_arg = true;
            }
            j += 1;
        }

        let mut content = Vec::new();
        if let Some(path) = &config.config_file {
            content = std::fs::read(path).map_err(|e| CliExit::Fatal(cant_open(path, &e)))?;
        }
        if from_stdin {
            let data = read_stdin().map_err(|e| {
                CliExit::Fatal(format!(
                    "Error reading config from stdin: {}\n",
                    strerror(&e)
                ))
            })?;
            content.extend_from_slice(&data);
        }
        content.push(b'\n');
        content.extend_from_slice(options.as_bytes());
        config.load_from_bytes(&content).map_err(CliExit::Fatal)?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::TempDir;
    use super::*;

    fn load(text: &str) -> Result<Config, String> {
        let mut c = Config::default();
        c.load_from_str(text).map(|_| c)
    }

    fn fatal_at(line: usize, text: &str, reason: &str) -> String {
        format!(
            "\n*** FATAL CONFIG FILE ERROR (Version {SERVER_VERSION}) ***\n\
             Reading the configuration file, at line {line}\n>>> '{text}'\n{reason}\n"
        )
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn no_stdin() -> std::io::Result<Vec<u8>> {
        panic!("stdin must not be read")
    }

    #[test]
    fn parses_valkey_conf_syntax() {
        let c = load(
            "# a comment\n\
             \n\
             \x20  PORT 7000   \r\n\
             requirepass \"a b\\x41\"\n\
             dbfilename 'my file.rdb'\n\
             maxmemory 100mb\n\
             maxmemory-policy allkeys-lfu\n\
             save 900 1\n\
             save 300 10\n\
             slaveof 127.0.0.1 6380\n\
             hash-max-ziplist-entries 100\n\
             client-output-buffer-limit pubsub 64mb 16mb 90\n\
             notify-keyspace-events Ex\n\
             bind 127.0.0.1 -::1\n\
             list-max-ziplist-entries 512\n\
             rename-command CONFIG \"\"\n\
             user alice on >pw ~* +@all\n\
             unixsocketperm 700\n\
             sentinel\n",
        )
        .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.requirepass.as_deref(), Some(&b"a bA"[..]));
        assert_eq!(c.dbfilename, "my file.rdb");
        assert_eq!(c.maxmemory, 100 << 20);
        assert_eq!(
            c.maxmemory_policy,
            super::super::MaxmemoryPolicy::AllkeysLfu
        );
        // The first `save` line replaces the defaults, the next adds to it.
        assert_eq!(c.save, vec![(900, 1), (300, 10)]);
        assert_eq!(c.replicaof, Some(("127.0.0.1".to_string(), 6380)));
        assert_eq!(c.hash_max_listpack_entries, 100);
        assert_eq!(
            c.get_value("client-output-buffer-limit").unwrap(),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 90"
        );
        assert_eq!(c.get_value("notify-keyspace-events").unwrap(), "xE");
        assert_eq!(c.bind, vec!["127.0.0.1".to_string(), "-::1".to_string()]);
        assert_eq!(c.rename_commands, vec![(b"CONFIG".to_vec(), Vec::new())]);
        assert_eq!(c.user_directives.len(), 1);
        assert_eq!(c.user_directives[0][0], b"alice");
        assert_eq!(c.unixsocketperm, 0o700);
        assert_eq!(c.get_value("unixsocketperm").unwrap(), "700");
    }

    #[test]
    fn save_variants() {
        assert!(load("save \"\"\n").unwrap().save.is_empty());
        assert_eq!(load("save \"\"\nsave 10 1\n").unwrap().save, vec![(10, 1)]);
        assert_eq!(
            load("save \"900 1 300 10\"\n").unwrap().save,
            vec![(900, 1), (300, 10)]
        );
        assert_eq!(
            load("save 900 1 300 10\n").unwrap().save,
            vec![(900, 1), (300, 10)]
        );
        assert_eq!(
            load("port 1\n").unwrap().save,
            super::super::DEFAULT_SAVE.to_vec()
        );
    }

    #[test]
    fn errors_report_the_line() {
        assert_eq!(
            load("port 7000\nport abc\n").unwrap_err(),
            fatal_at(2, "port abc", "argument couldn't be parsed into an integer")
        );
        assert_eq!(
            load("# x\nport 1 2").unwrap_err(),
            fatal_at(2, "port 1 2", "wrong number of arguments")
        );
        assert_eq!(
            load("foo bar").unwrap_err(),
            fatal_at(1, "foo bar", "Bad directive or wrong number of arguments")
        );
        assert_eq!(
            load("  requirepass \"abc  ").unwrap_err(),
            fatal_at(
                1,
                "requirepass \"abc",
                "Unbalanced quotes in configuration line"
            )
        );
        assert_eq!(
            load("maxmemory-policy lru").unwrap_err(),
            fatal_at(
                1,
                "maxmemory-policy lru",
                "argument(s) must be one of the following: volatile-lru, volatile-lfu, \
                 volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, \
                 noeviction"
            )
        );
        assert_eq!(
            load("unixsocketperm 1000").unwrap_err(),
            fatal_at(
                1,
                "unixsocketperm 1000",
                "argument must be between 0 and 777 inclusive"
            )
        );
        assert_eq!(
            load("unixsocketperm 8").unwrap_err(),
            fatal_at(
                1,
                "unixsocketperm 8",
                "argument couldn't be parsed as an octal number"
            )
        );
        assert_eq!(
            load("sentinel monitor x").unwrap_err(),
            fatal_at(
                1,
                "sentinel monitor x",
                "sentinel directive while not in sentinel mode"
            )
        );
        assert_eq!(
            load("save 0 1").unwrap_err(),
            fatal_at(1, "save 0 1", "Invalid save parameters")
        );
        // Checks made after the whole text are not tied to a line.
        assert_eq!(
            load("cluster-enabled yes\nreplicaof 127.0.0.1 6379\n").unwrap_err(),
            format!(
                "\n*** FATAL CONFIG FILE ERROR (Version {SERVER_VERSION}) ***\n\
                 replicaof directive not allowed in cluster mode\n"
            )
        );
    }

    #[test]
    fn adjustments_after_loading() {
        let c = load("cluster-enabled yes\ndatabases 16\nhz 0\nio-threads 100\n").unwrap();
        assert_eq!(c.databases, 1);
        assert_eq!(
            c.load_warnings,
            ["WARNING: Changing databases number from 16 to 1 since we are in cluster mode"]
        );
        assert_eq!(c.hz, 1);
        assert_eq!(c.io_threads, 16);
        assert_eq!(load("hz 1000").unwrap().hz, 500);
    }

    #[test]
    fn include_files() {
        let tmp = TempDir::new("include");
        tmp.write("base.conf", "port 7001\nmaxmemory 1mb\n");
        std::fs::create_dir(tmp.path().join("conf.d")).unwrap();
        tmp.write("conf.d/a.conf", "timeout 10\n");
        tmp.write("conf.d/b.conf", "timeout 20\nhz 20\n");
        let main = tmp.write(
            "main.conf",
            &format!(
                "include {}/base.conf\ninclude {}/conf.d/*.conf\ninclude {}/none/*.conf\nport 7002\n",
                tmp.path().display(),
                tmp.path().display(),
                tmp.path().display()
            ),
        );
        let mut c = Config::default();
        c.load_file(main.to_str().unwrap().as_bytes()).unwrap();
        assert_eq!(c.port, 7002);
        assert_eq!(c.maxmemory, 1 << 20);
        // Glob matches load in sorted order.
        assert_eq!((c.timeout, c.hz), (20, 20));

        // Relative includes resolve against `dir`.
        let mut c = Config {
            dir: tmp.path().to_path_buf(),
            ..Config::default()
        };
        c.load_from_str("include base.conf").unwrap();
        assert_eq!(c.port, 7001);

        // Errors inside an included file report that file's line.
        tmp.write("bad.conf", "\n\nport x\n");
        let err = load(&format!("include {}/bad.conf", tmp.path().display())).unwrap_err();
        assert_eq!(
            err,
            fatal_at(3, "port x", "argument couldn't be parsed into an integer")
        );

        let missing = tmp.path().join("missing.conf");
        let err = load(&format!("include {}", missing.display())).unwrap_err();
        assert_eq!(
            err,
            format!(
                "Fatal error, can't open config file '{}': No such file or directory\n",
                missing.display()
            )
        );
    }

    #[test]
    fn logfile_must_be_writable() {
        let tmp = TempDir::new("logfile");
        let log = tmp.path().join("server.log");
        let c = load(&format!("logfile {}", log.display())).unwrap();
        assert_eq!(c.logfile, log.to_string_lossy());
        assert!(log.exists());
        let err = load("logfile /nonexistent-dir/ferrokey.log").unwrap_err();
        assert!(
            err.ends_with("***\nCan't open the log file: No such file or directory\n"),
            "{err:?}"
        );
    }

    #[test]
    fn command_line_options() {
        let c = Config::from_cli_with_stdin(&args(&["--port", "7000", "--save", ""]), no_stdin)
            .unwrap();
        assert_eq!(c.port, 7000);
        assert!(c.save.is_empty());
        assert_eq!(c.config_file, None);

        // `--save` without a value, last or followed by another option.
        let c = Config::from_cli_with_stdin(&args(&["--save"]), no_stdin).unwrap();
        assert!(c.save.is_empty());
        let c =
            Config::from_cli_with_stdin(&args(&["--save", "--port", "7001"]), no_stdin).unwrap();
        assert!(c.save.is_empty());
        assert_eq!(c.port, 7001);
        // Several values, and a value in the same argument as the name.
        let c = Config::from_cli_with_stdin(
            &args(&[
                "--bind",
                "127.0.0.1",
                "::1",
                "--port 7002",
                "--save",
                "60 5 30 2",
            ]),
            no_stdin,
        )
        .unwrap();
        assert_eq!(c.bind, vec!["127.0.0.1".to_string(), "::1".to_string()]);
        assert_eq!(c.port, 7002);
        assert_eq!(c.save, vec![(60, 5), (30, 2)]);
        // Values are quoted, so they can hold anything.
        let c =
            Config::from_cli_with_stdin(&args(&["--requirepass", "a \"b\"\n"]), no_stdin).unwrap();
        assert_eq!(c.requirepass.as_deref(), Some(&b"a \"b\"\n"[..]));
        let c = Config::from_cli_with_stdin(&args(&["--slaveof", "10.0.0.1", "6379"]), no_stdin)
            .unwrap();
        assert_eq!(c.replicaof, Some(("10.0.0.1".to_string(), 6379)));

        assert_eq!(
            Config::from_cli_with_stdin(&args(&["--port", "abc"]), no_stdin),
            Err(CliExit::Fatal(fatal_at(
                2,
                "port \"abc\"",
                "argument couldn't be parsed into an integer"
            )))
        );
        assert_eq!(
            Config::from_cli_with_stdin(&args(&["--foo", "bar"]), no_stdin),
            Err(CliExit::Fatal(fatal_at(
                2,
                "foo \"bar\"",
                "Bad directive or wrong number of arguments"
            )))
        );
        assert_eq!(
            Config::from_cli_with_stdin(&args(&["-v"]), no_stdin),
            Err(CliExit::Version)
        );
        assert_eq!(
            Config::from_cli_with_stdin(&args(&["--version"]), no_stdin),
            Err(CliExit::Version)
        );
        assert_eq!(
            Config::from_cli_with_stdin(&args(&["-h"]), no_stdin),
            Err(CliExit::Help)
        );
        assert_eq!(CliExit::Help.exit_code(), 1);
        assert_eq!(CliExit::Version.exit_code(), 0);
        assert_eq!(
            Config::from_cli_with_stdin(&[], no_stdin),
            Ok(Config::default())
        );
    }

    #[test]
    fn command_line_with_file_and_stdin() {
        let tmp = TempDir::new("cli");
        let file = tmp.write("valkey.conf", "port 7000\nmaxmemory 1mb\nsave 900 1\n");
        let file_arg = file.to_str().unwrap();
        let c =
            Config::from_cli_with_stdin(&args(&[file_arg, "--port", "7001"]), no_stdin).unwrap();
        assert_eq!(c.port, 7001);
        assert_eq!(c.maxmemory, 1 << 20);
        assert_eq!(c.save, vec![(900, 1)]);
        assert_eq!(c.config_file.as_deref(), Some(file.as_path()));

        // stdin comes after the file and before the options.
        let c = Config::from_cli_with_stdin(&args(&[file_arg, "-"]), || {
            Ok(b"port 7005\ntimeout 3\n".to_vec())
        })
        .unwrap();
        assert_eq!((c.port, c.timeout), (7005, 3));
        let c = Config::from_cli_with_stdin(&args(&["-", "--timeout", "4"]), || {
            Ok(b"timeout 3\n".to_vec())
        })
        .unwrap();
        assert_eq!(c.timeout, 4);

        let missing = tmp.path().join("nope.conf");
        assert_eq!(
            Config::from_cli_with_stdin(&args(&[missing.to_str().unwrap()]), no_stdin),
            Err(CliExit::Fatal(format!(
                "Fatal error, can't open config file '{}': No such file or directory\n",
                missing.display()
            )))
        );
    }

    #[test]
    fn absolute_paths_like_valkey() {
        let cwd = Path::new("/home/user/valkey");
        assert_eq!(absolute_path(b"/etc/v.conf", cwd), Path::new("/etc/v.conf"));
        assert_eq!(
            absolute_path(b" v.conf\n", cwd),
            Path::new("/home/user/valkey/v.conf")
        );
        assert_eq!(
            absolute_path(b"../v.conf", cwd),
            Path::new("/home/user/v.conf")
        );
        assert_eq!(
            absolute_path(b"../../../../v.conf", cwd),
            Path::new("/v.conf")
        );
        assert_eq!(
            absolute_path(b"./v.conf", Path::new("/")),
            Path::new("/./v.conf")
        );
    }
}
