//! Glob-style pattern matching with exactly the semantics of Valkey's
//! `stringmatchlen` (used by KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET, ACL key
//! patterns, ...).
//!
//! Supported syntax:
//! - `*` matches any run of bytes (including none),
//! - `?` matches exactly one byte,
//! - `[abc]`, `[a-z]`, `[^a-z]` match one byte from (or not from) a set;
//!   inside brackets `\x` means the literal byte `x`,
//! - `\x` outside brackets matches the literal byte `x`.
//!
//! The matcher reproduces Valkey's quirks on purpose, because clients can
//! observe them:
//! - an empty string matches only the empty pattern (even `*` fails on it);
//! - an unterminated `[` set ends at the end of the pattern (so `[^` matches any
//!   single byte and `[a` matches only `a`);
//! - ranges may be written backwards (`[z-a]` equals `[a-z]`), and bytes are
//!   compared as C `char`, i.e. *signed* on the platforms Valkey ships on, so
//!   bytes >= 0x80 sort before ASCII in ranges;
//! - an escaped byte inside brackets is compared case-sensitively even in
//!   `nocase` mode;
//! - a trailing lone `\` matches a literal backslash;
//! - recursion deeper than 1000 nested `*` fails the match, and once the tail
//!   after a `*` has failed to match at every position, every enclosing `*`
//!   gives up too (Valkey's `skipLongerMatches`), so pathological patterns such
//!   as `*a*a*a*a*...b` fail fast instead of taking exponential time.

/// Valkey stops matching (returns "no match") past this recursion depth.
const MAX_NESTING: u32 = 1000;

/// Returns true if `string` matches the glob `pattern`. With `nocase`, ASCII
/// letters compare case-insensitively (C-locale `tolower`).
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

/// Byte at `i`, or 0 past the end. Valkey's patterns are NUL-terminated sds
/// strings and the C code sometimes peeks one byte past the pattern length;
/// reading a 0 there reproduces what it sees.
#[inline]
fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// C-locale `tolower` on an `int` holding a (possibly negative) `char`.
#[inline]
fn lower(c: i32) -> i32 {
    if (b'A' as i32..=b'Z' as i32).contains(&c) {
        c + 32
    } else {
        c
    }
}

/// A byte as C's (signed) `char` promoted to `int`.
#[inline]
fn schar(b: u8) -> i32 {
    b as i8 as i32
}

#[inline]
fn byte_eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

fn match_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    // `p` and `i` are cursors; the remaining lengths are `pat.len() - p` and
    // `s.len() - i`.
    let mut p = 0usize;
    let mut i = 0usize;
    while p < pat.len() && i < s.len() {
        match pat[p] {
            b'*' => {
                // Collapse runs of stars: `**` means the same as `*`.
                while p + 1 < pat.len() && pat[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pat.len() {
                    return true; // trailing star matches the rest
                }
                while i < s.len() {
                    if match_impl(&pat[p + 1..], &s[i..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    i += 1;
                }
                // The rest of the pattern matched at no position of the rest
                // of the string: no longer match for an earlier star can help.
                *skip_longer = true;
                return false;
            }
            b'?' => {
                i += 1;
            }
            b'[' => {
                p += 1;
                let not_op = at(pat, p) == b'^';
                if not_op {
                    p += 1;
                }
                let c = s[i];
                let mut matched = false;
                loop {
                    let rem = pat.len().saturating_sub(p);
                    let pc = at(pat, p);
                    if pc == b'\\' && rem >= 2 {
                        // Escaped byte: literal, compared case-sensitively.
                        p += 1;
                        if pat[p] == c {
                            matched = true;
                        }
                    } else if pc == b']' && rem > 0 {
                        break;
                    } else if rem == 0 {
                        // Unterminated set: step back so the common
                        // "advance one" below lands exactly at the end.
                        p -= 1;
                        break;
                    } else if rem >= 3 && pat[p + 1] == b'-' {
                        let mut start = schar(pat[p]);
                        let mut end = schar(pat[p + 2]);
                        let mut cc = schar(c);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower(start);
                            end = lower(end);
                            cc = lower(cc);
                        }
                        p += 2;
                        if cc >= start && cc <= end {
                            matched = true;
                        }
                    } else if byte_eq(pc, c, nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not_op {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                i += 1;
            }
            first => {
                let mut pc = first;
                if first == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    pc = pat[p];
                }
                if !byte_eq(pc, s[i], nocase) {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
        if i == s.len() {
            // String exhausted: trailing stars can still match the empty rest.
            while p < pat.len() && pat[p] == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= pat.len() && i == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
        // Valkey quirk: the matching loop never runs for an empty string, so
        // a non-empty pattern (even `*`) does not match it. KEYS/SCAN avoid
        // this by special-casing the `*` pattern themselves.
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(m("*", "anything"));
        assert!(m("hello", "hello"));
        assert!(!m("hello", "hell"));
        assert!(!m("hell", "hello"));
        assert!(m("h?llo", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(m("*a", "ba"));
        assert!(!m("*a", "ab"));
        assert!(m("*b*", "abc"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(!m("a*b*c", "aXbY"));
        assert!(!m("?", ""));
        assert!(m("??", "ab"));
        assert!(!m("a?", "a"));
    }

    #[test]
    fn brackets() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        // Backwards ranges are swapped.
        assert!(m("[z-a]", "q"));
        // `[a-]` is the range `]`..=`a` (backwards, swapped) that also eats
        // the closing bracket, exactly as in Valkey.
        assert!(!m("[a-]", "-"));
        assert!(m("[a-]", "_"));
        assert!(m("[a-]", "]"));
        // `]` right after `[` closes an empty set.
        assert!(!m("[]]", "]"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        // Unterminated sets run to the end of the pattern.
        assert!(m("[a", "a"));
        assert!(!m("[a", "b"));
        assert!(m("[^", "x"));
        assert!(!m("[", "x"));
        assert!(m("[abc", "c"));
        assert!(!m("x[", "x"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("\\?", "?"));
        assert!(m("a\\[b", "a[b"));
        // A lone trailing backslash is a literal backslash.
        assert!(m("a\\", "a\\"));
        assert!(!m("a\\", "a"));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(!glob_match(b"HeLLo", b"hello", false));
        assert!(glob_match(b"h[A-Z]llo", b"hello", true));
        assert!(glob_match(b"h[E]llo", b"hello", true));
        // Escaped bytes in a set stay case-sensitive, as in Valkey.
        assert!(!glob_match(b"h[\\E]llo", b"hello", true));
        assert!(glob_match(b"h[\\e]llo", b"hello", true));
    }

    #[test]
    fn signed_char_ranges() {
        // 0xff is -1 as a C char, so [a-\xff] is the range -1..='a'.
        assert!(glob_match(b"[a-\xff]", b"A", false));
        assert!(glob_match(b"[a-\xff]", b"\xff", false));
        assert!(!glob_match(b"[a-\xff]", b"b", false));
        assert!(!glob_match(b"[a-\xff]", b"\x80", false));
        assert!(glob_match(b"\xc3\xa9*", b"\xc3\xa9t\xc3\xa9", false));
    }

    #[test]
    fn binary_and_nul() {
        assert!(glob_match(b"a\0*", b"a\0bc", false));
        assert!(glob_match(b"?\0", b"x\0", false));
        assert!(!glob_match(b"a\0", b"a", false));
    }

    #[test]
    fn pathological_patterns_fail_fast() {
        // Valkey's test: this must not take exponential time.
        let s = "a".repeat(50);
        let p = format!("{}b", "*a".repeat(50));
        let start = std::time::Instant::now();
        assert!(!m(&p, &s));
        assert!(start.elapsed().as_secs() < 2);

        // Deeply nested stars: beyond the nesting limit the match fails.
        let p: String = "*a".repeat(1100);
        let s = "a".repeat(1100);
        assert!(!m(&p, &s));
        let p: String = "*a".repeat(900);
        let s = "a".repeat(900);
        assert!(m(&p, &s));
    }

    #[test]
    fn skip_longer_matches_is_sticky() {
        // Once a later star fails everywhere, earlier stars give up too; this
        // never changes the answer for real matches.
        assert!(m("*a*b", "xaxxb"));
        assert!(!m("*a*b", "xaxxc"));
        assert!(m("*?*?", "ab"));
    }

    #[test]
    fn fuzz_no_panic() {
        // Cheap deterministic fuzz: no panics on arbitrary input.
        let mut x: u32 = 12345;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let alphabet = b"*?[]^-\\ab\0\xff";
        for _ in 0..20000 {
            let pl = (next() % 12) as usize;
            let sl = (next() % 12) as usize;
            let p: Vec<u8> = (0..pl)
                .map(|_| alphabet[(next() as usize) % alphabet.len()])
                .collect();
            let s: Vec<u8> = (0..sl)
                .map(|_| alphabet[(next() as usize) % alphabet.len()])
                .collect();
            let _ = glob_match(&p, &s, next() % 2 == 0);
        }
    }
}
