//! The AOF manifest: the list of files that make up a multi-part AOF, as
//! Redis 7 / Valkey 8 write it in `<appenddirname>/<appendfilename>.manifest`.
//!
//! ```text
//! file appendonly.aof.2.base.rdb seq 2 type b
//! file appendonly.aof.1.incr.aof seq 1 type h
//! file appendonly.aof.3.incr.aof seq 3 type i
//! ```
//!
//! One line per file: `file <name> seq <n> type <b|h|i>` (more key/value
//! pairs are allowed and ignored, for forward compatibility). The base file
//! (at most one) comes first, then history files (left over from a rewrite,
//! to be deleted), then the incremental files in sequence order. Names that
//! need it are quoted the way `sdscatrepr` does, and read back with
//! `sdssplitargs` rules, so any byte can appear in `appendfilename`.

use crate::util::split::split_args;

/// Valkey's `MANIFEST_MAX_LINE`: longer lines are rejected.
const MAX_LINE: usize = 1024;

/// What a manifest line says a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// `b`: the snapshot of the last rewrite (RDB or command log).
    Base,
    /// `h`: replaced by a rewrite, waiting to be deleted.
    History,
    /// `i`: commands written since the base.
    Incr,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        }
    }
}

/// One file of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    pub name: Vec<u8>,
    pub seq: i64,
    pub kind: FileType,
}

impl FileInfo {
    /// The manifest line for this file (Valkey's `aofInfoFormat`).
    fn format(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"file ");
        if needs_repr(&self.name) {
            crate::server::cat_repr(out, &self.name);
        } else {
            out.extend_from_slice(&self.name);
        }
        out.extend_from_slice(
            format!(" seq {} type {}\n", self.seq, self.kind.letter()).as_bytes(),
        );
    }
}

/// The parsed manifest, plus the sequence counters new file names come
/// from and whether it changed since it was last written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<FileInfo>,
    /// Oldest first is not guaranteed: a rewrite puts the newest history
    /// first, as Valkey does (`listAddNodeHead`).
    pub history: Vec<FileInfo>,
    /// In increasing sequence order.
    pub incr: Vec<FileInfo>,
    pub curr_base_seq: i64,
    pub curr_incr_seq: i64,
    /// Changed since written (Valkey's `am->dirty`).
    pub dirty: bool,
}

/// Why a manifest could not be read, with the line it was read at, as
/// Valkey logs it before exiting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// 1-based line number, and the (trimmed) line, when a line is at fault.
    pub line: Option<(usize, String)>,
    pub msg: &'static str,
}

impl ManifestError {
    /// The lines Valkey logs (`*** FATAL AOF MANIFEST FILE ERROR ***`...).
    pub fn log_lines(&self) -> Vec<String> {
        let mut v = vec!["*** FATAL AOF MANIFEST FILE ERROR ***".to_string()];
        if let Some((n, text)) = &self.line {
            v.push(format!("Reading the manifest file, at line {n}"));
            v.push(format!(">>> '{text}'"));
        }
        v.push(self.msg.to_string());
        v
    }
}

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.msg)
    }
}

/// Valkey's `sdsneedsrepr`: names with quotes, backslashes, blanks or
/// unprintable bytes are written quoted.
fn needs_repr(s: &[u8]) -> bool {
    s.iter()
        .any(|&c| c == b'\\' || c == b'"' || !(0x21..=0x7e).contains(&c))
}

impl Manifest {
    /// Parses manifest text with Valkey's rules and error messages
    /// (`aofLoadManifestFromFile`).
    pub fn parse(text: &[u8]) -> Result<Manifest, ManifestError> {
        let mut am = Manifest::default();
        if text.is_empty() {
            return Err(ManifestError {
                line: None,
                msg: "Found an empty AOF manifest",
            });
        }
        let mut maxseq = 0i64;
        let mut rest = text;
        let mut linenum = 0usize;
        while !rest.is_empty() {
            // `fgets` with a MAX_LINE buffer: at most MAX_LINE bytes, up to
            // and including a newline.
            let take = match rest.iter().take(MAX_LINE).position(|&b| b == b'\n') {
                Some(i) => i + 1,
                None => rest.len().min(MAX_LINE),
            };
            let raw = &rest[..take];
            rest = &rest[take..];
            linenum += 1;
            if raw[0] == b'#' {
                continue;
            }
            let trimmed = trim(raw);
            let shown = || Some((linenum, String::from_utf8_lossy(trimmed).into_owned()));
            let fail = |msg| ManifestError { line: shown(), msg };
            if !raw.ends_with(b"\n") {
                return Err(fail("The AOF manifest file contains too long line"));
            }
            if trimmed.is_empty() {
                return Err(fail("Invalid AOF manifest file format"));
            }
            let argv = match split_args(trimmed) {
                Some(a) if a.len() >= 6 && a.len() % 2 == 0 => a,
                _ => return Err(fail("Invalid AOF manifest file format")),
            };
            let (mut name, mut seq, mut kind) = (None, 0i64, 0u8);
            for pair in argv.chunks(2) {
                let (k, v) = (&pair[0], &pair[1]);
                if k.eq_ignore_ascii_case(b"file") {
                    if v.contains(&b'/') || v.contains(&b'\\') {
                        return Err(fail("File can't be a path, just a filename"));
                    }
                    name = Some(v.clone());
                } else if k.eq_ignore_ascii_case(b"seq") {
                    seq = crate::util::num::atoll(v);
                } else if k.eq_ignore_ascii_case(b"type") {
                    kind = v.first().copied().unwrap_or(0);
                }
            }
            let (Some(name), true, true) = (name, seq != 0, kind != 0) else {
                return Err(fail("Invalid AOF manifest file format"));
            };
            match kind {
                b'b' => {
                    if am.base.is_some() {
                        return Err(fail("Found duplicate base file information"));
                    }
                    am.curr_base_seq = seq;
                    am.base = Some(FileInfo {
                        name,
                        seq,
                        kind: FileType::Base,
                    });
                }
                b'h' => am.history.push(FileInfo {
                    name,
                    seq,
                    kind: FileType::History,
                }),
                b'i' => {
                    if seq <= maxseq {
                        return Err(fail("Found a non-monotonic sequence number"));
                    }
                    am.incr.push(FileInfo {
                        name,
                        seq,
                        kind: FileType::Incr,
                    });
                    am.curr_incr_seq = seq;
                    maxseq = seq;
                }
                _ => return Err(fail("Unknown AOF file type")),
            }
        }
        Ok(am)
    }

    /// The manifest text: base, history, then incremental files.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for f in self.base.iter().chain(&self.history).chain(&self.incr) {
            f.format(&mut out);
        }
        out
    }

    /// Whether the manifest lists no file to load.
    pub fn is_empty(&self) -> bool {
        self.base.is_none() && self.incr.is_empty()
    }

    /// Names a new base file (`<prefix>.<seq>.base.rdb|aof`) and turns the
    /// current one, if any, into history (Valkey's
    /// `getNewBaseFileNameAndMarkPreAsHistory`).
    pub fn new_base(&mut self, prefix: &str, rdb: bool) -> Vec<u8> {
        if let Some(mut old) = self.base.take() {
            old.kind = FileType::History;
            self.history.insert(0, old);
        }
        self.curr_base_seq += 1;
        let suffix = if rdb { ".rdb" } else { ".aof" };
        let name = format!("{prefix}.{}.base{suffix}", self.curr_base_seq).into_bytes();
        self.base = Some(FileInfo {
            name: name.clone(),
            seq: self.curr_base_seq,
            kind: FileType::Base,
        });
        self.dirty = true;
        name
    }

    /// Names and appends a new incremental file (`<prefix>.<seq>.incr.aof`).
    pub fn new_incr(&mut self, prefix: &str) -> Vec<u8> {
        self.curr_incr_seq += 1;
        let name = format!("{prefix}.{}.incr.aof", self.curr_incr_seq).into_bytes();
        self.incr.push(FileInfo {
            name: name.clone(),
            seq: self.curr_incr_seq,
            kind: FileType::Incr,
        });
        self.dirty = true;
        name
    }

    /// The incremental file being appended to, created if there is none.
    pub fn last_incr(&mut self, prefix: &str) -> Vec<u8> {
        match self.incr.last() {
            Some(f) => f.name.clone(),
            None => self.new_incr(prefix),
        }
    }

    /// After a rewrite: every incremental file but the one being written
    /// (when `keep_last`, i.e. the AOF is open) becomes history, newest
    /// first (Valkey's `markRewrittenIncrAofAsHistory`).
    pub fn mark_rewritten_incr_as_history(&mut self, keep_last: bool) {
        if self.incr.is_empty() {
            return;
        }
        let keep = if keep_last { self.incr.pop() } else { None };
        // Each one goes to the front, walking from the newest: the history
        // list then starts with these files in sequence order.
        for mut f in std::mem::take(&mut self.incr).into_iter().rev() {
            f.kind = FileType::History;
            self.history.insert(0, f);
        }
        self.incr.extend(keep);
        self.dirty = true;
    }
}

/// `sdstrim(line, " \t\r\n")`.
fn trim(s: &[u8]) -> &[u8] {
    let blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|c| !blank(c)).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !blank(c)).map_or(start, |i| i + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> &'static str {
        Manifest::parse(text.as_bytes()).unwrap_err().msg
    }

    #[test]
    fn parses_and_writes_valkey_syntax() {
        let text = "file appendonly.aof.2.base.rdb seq 2 type b\n\
                    file appendonly.aof.1.incr.aof seq 1 type h\n\
                    file appendonly.aof.3.incr.aof seq 3 type i\n\
                    file appendonly.aof.4.incr.aof seq 4 type i\n";
        let m = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, b"appendonly.aof.2.base.rdb");
        assert_eq!(m.curr_base_seq, 2);
        assert_eq!(m.curr_incr_seq, 4);
        assert_eq!(m.history.len(), 1);
        assert_eq!(m.incr.len(), 2);
        assert_eq!(m.to_bytes(), text.as_bytes());
    }

    #[test]
    fn extra_pairs_comments_and_case_are_accepted() {
        let m = Manifest::parse(
            b"# a comment\nFILE appendonly.aof.1.base.aof SEQ 1 TYPE b newkey newvalue\n\
              file appendonly.aof.1.incr.aof seq 1 type i\n\
              file appendonly.aof.3.incr.aof seq 3 type i\n",
        )
        .unwrap();
        assert_eq!(m.incr.iter().map(|f| f.seq).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(
            m.to_bytes(),
            b"file appendonly.aof.1.base.aof seq 1 type b\n\
              file appendonly.aof.1.incr.aof seq 1 type i\n\
              file appendonly.aof.3.incr.aof seq 3 type i\n"
        );
    }

    #[test]
    fn errors_like_valkey() {
        assert_eq!(err(""), "Found an empty AOF manifest");
        assert_eq!(
            err("file a.2.incr.aof seq 2 type i\nfile a.1.incr.aof seq 1 type i\n"),
            "Found a non-monotonic sequence number"
        );
        assert_eq!(
            err("file a seq 1 type i\n\nfile b seq 3 type i\n"),
            "Invalid AOF manifest file format"
        );
        assert_eq!(
            err("file a seq 1 type b\nfile b seq 2 type b\n"),
            "Found duplicate base file information"
        );
        assert_eq!(err("file a seq 1 type x\n"), "Unknown AOF file type");
        assert_eq!(
            err("filx a seq 1 type b\n"),
            "Invalid AOF manifest file format"
        );
        assert_eq!(err("file a type i\n"), "Invalid AOF manifest file format");
        assert_eq!(
            err("file a seq 1 type i newkey\n"),
            "Invalid AOF manifest file format"
        );
        assert_eq!(
            err("file a seq x type i\n"),
            "Invalid AOF manifest file format"
        );
        assert_eq!(
            err("file dir/a seq 1 type i\n"),
            "File can't be a path, just a filename"
        );
        let long = format!("{}\n", "file a seq 1 type b ".repeat(60));
        assert_eq!(err(&long), "The AOF manifest file contains too long line");
        // fgets needs the newline: a last line without one reads as too long.
        assert_eq!(
            err("file a seq 1 type b"),
            "The AOF manifest file contains too long line"
        );
        let e = Manifest::parse(b"file a seq 1 type b\nfile a seq 1 type x\n").unwrap_err();
        assert_eq!(
            e.log_lines(),
            [
                "*** FATAL AOF MANIFEST FILE ERROR ***",
                "Reading the manifest file, at line 2",
                ">>> 'file a seq 1 type x'",
                "Unknown AOF file type"
            ]
        );
    }

    #[test]
    fn names_with_blanks_are_quoted_and_read_back() {
        let mut m = Manifest::default();
        let prefix = " file seq \n\n.aof ";
        m.new_base(prefix, true);
        m.new_incr(prefix);
        m.new_base(prefix, true);
        m.mark_rewritten_incr_as_history(false);
        m.new_incr(prefix);
        let text = m.to_bytes();
        assert_eq!(
            text,
            b"file \" file seq \\n\\n.aof .2.base.rdb\" seq 2 type b\n\
              file \" file seq \\n\\n.aof .1.incr.aof\" seq 1 type h\n\
              file \" file seq \\n\\n.aof .1.base.rdb\" seq 1 type h\n\
              file \" file seq \\n\\n.aof .2.incr.aof\" seq 2 type i\n"
        );
        let back = Manifest::parse(&text).unwrap();
        assert_eq!(back.base, m.base);
        assert_eq!(back.incr, m.incr);
        assert_eq!(back.history, m.history);
    }

    #[test]
    fn rewrite_bookkeeping() {
        let mut m = Manifest::default();
        assert_eq!(m.last_incr("appendonly.aof"), b"appendonly.aof.1.incr.aof");
        assert_eq!(m.last_incr("appendonly.aof"), b"appendonly.aof.1.incr.aof");
        // A rewrite starts: a new incr file; when it ends, a new base and
        // the old incr files are history, the one being written stays.
        m.new_incr("appendonly.aof");
        assert_eq!(
            m.new_base("appendonly.aof", true),
            b"appendonly.aof.1.base.rdb"
        );
        m.mark_rewritten_incr_as_history(true);
        assert_eq!(
            m.to_bytes(),
            b"file appendonly.aof.1.base.rdb seq 1 type b\n\
              file appendonly.aof.1.incr.aof seq 1 type h\n\
              file appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        assert!(m.dirty);
        // Several covered files: oldest first, ahead of the old base.
        m.history.clear();
        m.new_incr("appendonly.aof");
        m.new_incr("appendonly.aof");
        m.new_base("appendonly.aof", false);
        m.mark_rewritten_incr_as_history(true);
        assert_eq!(
            m.to_bytes(),
            b"file appendonly.aof.2.base.aof seq 2 type b\n\
              file appendonly.aof.2.incr.aof seq 2 type h\n\
              file appendonly.aof.3.incr.aof seq 3 type h\n\
              file appendonly.aof.1.base.rdb seq 1 type h\n\
              file appendonly.aof.4.incr.aof seq 4 type i\n"
        );
    }
}
