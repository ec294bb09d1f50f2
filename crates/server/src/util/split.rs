//! Splitting of a text line into arguments with exactly the semantics of
//! Valkey's `sdssplitargs` (inline commands, config files, `valkey-cli`).
//!
//! Rules:
//! - arguments are separated by whitespace (C `isspace`: space, `\t`, `\n`,
//!   `\v`, `\f`, `\r`);
//! - `"double quoted"` arguments understand `\xHH` (two hex digits), `\n`,
//!   `\r`, `\t`, `\b`, `\a`, and `\<any>` meaning that byte;
//! - `'single quoted'` arguments only understand `\'`;
//! - a closing quote must be followed by whitespace or the end of the line,
//!   and an unterminated quote is an error: both return `None`;
//! - a NUL byte ends the line (the C code works on NUL-terminated strings).
//!
//! Quirks kept on purpose: quotes may start in the middle of a token
//! (`ab"cd"` is the single argument `abcd`), and an unquoted token ends only at
//! space, `\t`, `\n`, `\r` or the end, not at `\v`/`\f` (which are skipped only
//! between tokens).

/// C-locale `isspace`.
#[inline]
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

#[inline]
fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits `line` into arguments; `None` on unbalanced quotes or a closing
/// quote followed by something other than whitespace.
///
/// An empty or all-blank line gives `Some(vec![])`.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut buf = Vec::new();
    let mut ranges = Vec::new();
    split_args_into(line, &mut buf, |start, end| ranges.push((start, end)))?;
    Some(
        ranges
            .into_iter()
            .map(|(s, e)| buf[s..e].to_vec())
            .collect(),
    )
}

/// Allocation-free core of [`split_args`] for callers that keep a reusable
/// buffer (the inline request parser): appends the unescaped bytes of every
/// argument to `buf` and calls `on_arg(start, end)` with each argument's range
/// inside `buf`. Returns the number of arguments, or `None` on a quoting error
/// (then `buf` may hold partial output and recorded ranges must be discarded).
pub fn split_args_into(
    line: &[u8],
    buf: &mut Vec<u8>,
    mut on_arg: impl FnMut(usize, usize),
) -> Option<usize> {
    // The C code sees a NUL-terminated string: anything after a NUL is gone.
    let line = match line.iter().position(|&b| b == 0) {
        Some(n) => &line[..n],
        None => line,
    };
    // Byte at `i`, or 0 at/after the end (the C terminator).
    let at = |i: usize| -> u8 { line.get(i).copied().unwrap_or(0) };
    let mut count = 0usize;
    let mut p = 0usize;
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(count);
        }
        let start = buf.len();
        let mut in_dq = false;
        let mut in_sq = false;
        let mut done = false;
        while !done {
            let c = at(p);
            if in_dq {
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(hi), Some(lo)) = (hex_val(at(p + 2)), hex_val(at(p + 3))) {
                        buf.push(hi * 16 + lo);
                        p += 4;
                        continue;
                    }
                }
                if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    buf.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    let next = at(p + 1);
                    if next != 0 && !is_space(next) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None; // unterminated "
                } else {
                    buf.push(c);
                }
            } else if in_sq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    buf.push(b'\'');
                } else if c == b'\'' {
                    let next = at(p + 1);
                    if next != 0 && !is_space(next) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None; // unterminated '
                } else {
                    buf.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    _ => buf.push(c),
                }
            }
            if p < line.len() {
                p += 1;
            }
        }
        on_arg(start, buf.len());
        count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(s: &[u8]) -> Option<Vec<Vec<u8>>> {
        split_args(s)
    }

    fn v(items: &[&[u8]]) -> Option<Vec<Vec<u8>>> {
        Some(items.iter().map(|s| s.to_vec()).collect())
    }

    #[test]
    fn plain() {
        assert_eq!(sp(b""), v(&[]));
        assert_eq!(sp(b"   \t "), v(&[]));
        assert_eq!(sp(b"set a b"), v(&[b"set", b"a", b"b"]));
        assert_eq!(sp(b"  set   a\tb  "), v(&[b"set", b"a", b"b"]));
        assert_eq!(sp(b"a\r\nb"), v(&[b"a", b"b"]));
    }

    #[test]
    fn double_quotes() {
        assert_eq!(sp(b"set \"a b\" c"), v(&[b"set", b"a b", b"c"]));
        assert_eq!(sp(b"\"\""), v(&[b""]));
        assert_eq!(sp(b"\"\\x41\\x4a\\x4A\""), v(&[b"AJJ"]));
        assert_eq!(sp(b"\"\\x4\""), v(&[b"x4"])); // not two hex digits: \x is x
        assert_eq!(sp(b"\"\\xzz\""), v(&[b"xzz"]));
        assert_eq!(
            sp(b"\"\\n\\r\\t\\b\\a\\\\\\\"\\q\""),
            v(&[b"\n\r\t\x08\x07\\\"q"])
        );
        assert_eq!(sp(b"\"a\"\tb"), v(&[b"a", b"b"]));
        assert_eq!(sp(b"\"\\x00\""), v(&[b"\0"]));
    }

    #[test]
    fn single_quotes() {
        assert_eq!(sp(b"'a b' c"), v(&[b"a b", b"c"]));
        assert_eq!(sp(b"'it\\'s'"), v(&[b"it's"]));
        assert_eq!(sp(b"'a\\nb'"), v(&[b"a\\nb"]));
        assert_eq!(sp(b"''"), v(&[b""]));
    }

    #[test]
    fn quote_inside_token() {
        assert_eq!(sp(b"ab\"cd\""), v(&[b"abcd"]));
        assert_eq!(sp(b"ab'c d'"), v(&[b"abc d"]));
    }

    #[test]
    fn errors() {
        assert_eq!(sp(b"\"abc"), None);
        assert_eq!(sp(b"'abc"), None);
        assert_eq!(sp(b"\"abc\"d"), None);
        assert_eq!(sp(b"'abc'd"), None);
        assert_eq!(sp(b"set \"a"), None);
        assert_eq!(sp(b"\"abc\\"), None);
        assert_eq!(sp(b"'abc\\'"), None);
    }

    #[test]
    fn whitespace_quirks() {
        // \v and \f are skipped between tokens but do not end a token.
        assert_eq!(sp(b"\x0ba\x0bb c"), v(&[b"a\x0bb", b"c"]));
        assert_eq!(sp(b"\"a\"\x0c"), v(&[b"a"]));
    }

    #[test]
    fn nul_ends_line() {
        assert_eq!(sp(b"a b\0c d"), v(&[b"a", b"b"]));
        assert_eq!(sp(b"\"a\0\""), None);
        assert_eq!(sp(b"\"a\"\0x"), v(&[b"a"]));
    }

    #[test]
    fn into_variant_appends() {
        let mut buf = b"keep".to_vec();
        let mut ranges = Vec::new();
        let n = split_args_into(b"x 'yy' \"\"", &mut buf, |s, e| ranges.push((s, e)));
        assert_eq!(n, Some(3));
        assert_eq!(buf, b"keepxyy");
        assert_eq!(ranges, vec![(4, 5), (5, 7), (7, 7)]);
    }
}
