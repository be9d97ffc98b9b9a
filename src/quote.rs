//! User-given text inside messages: quoted, control characters escaped, long text cut.
//!
//! Error messages echo what the user or a file gave (a token, a scenario name, a line).
//! Echoed raw, a control character could rewrite the terminal (an escape sequence) or
//! break the one-line error format, and a megabyte-long token would bury the message. So
//! every echo goes through [`quoted`].

/// Characters of a quoted text shown before it is cut.
const SHOWN: usize = 60;

/// `s` in single quotes, control characters escaped (`\n`, `\u{1b}`), and cut after
/// [`SHOWN`] characters with its length in bytes: `'aaaa…' (1048576 bytes)`.
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::from("'");
    let mut chars = s.chars();
    for c in chars.by_ref().take(SHOWN) {
        push_printable(&mut out, c);
    }
    if chars.next().is_some() {
        return format!("{out}…' ({} bytes)", s.len());
    }
    out.push('\'');
    out
}

/// `s` with every control character escaped (the text stays on one line).
pub(crate) fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_printable(&mut out, c);
    }
    out
}

fn push_printable(out: &mut String, c: char) {
    if c.is_control() {
        out.extend(c.escape_default());
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_escapes_and_cuts() {
        assert_eq!(quoted("bank"), "'bank'");
        assert_eq!(quoted("a\x1b[31mb\n"), "'a\\u{1b}[31mb\\n'");
        let long = "x".repeat(1 << 20);
        let q = quoted(&long);
        assert_eq!(q, format!("'{}…' (1048576 bytes)", "x".repeat(SHOWN)));
        assert_eq!(printable("tab\there"), "tab\\there");
    }
}
