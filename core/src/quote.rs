//! Quoting input in error messages so that the messages stay small and cannot forge a log line.
//!
//! Every error that quotes what a caller passed in (an id, a value, a file name) goes through
//! this module: [`quote`] for one quoted value, [`bounded`] for a whole message. A quoted value
//! longer than [`QUOTE_MAX`] characters is cut there and ends in `…` and its length in
//! characters, so an 8 MiB principal id costs a few hundred bytes in a message and on standard
//! error. Control characters (line breaks, escape sequences) and the Unicode line separators
//! and bidirectional overrides are escaped as `\n`, `\u{1b}` and the like, and a backslash as
//! `\\`, so a quoted value can neither start a new line in a log nor pass for an escape.
//!
//! This module owns only the rendering; it must not decide what an error says.

use std::fmt;

/// How many characters of a quoted value a message keeps.
pub const QUOTE_MAX: usize = 256;

/// How many characters of a whole message are kept (a safety net for text from parsers that
/// quote input themselves, such as a JSON parser naming an unknown field).
pub const MESSAGE_MAX: usize = 2048;

/// A value quoted in an error message: escaped and cut at [`QUOTE_MAX`] characters.
pub fn quote(value: &str) -> Quoted<'_> {
    Quoted {
        text: value,
        max: QUOTE_MAX,
        escape_backslash: true,
    }
}

/// A whole error message: control characters escaped, cut at [`MESSAGE_MAX`] characters.
///
/// Backslashes are kept as they are, so a message that already holds a [`quote`]d value
/// renders that value unchanged.
pub fn bounded(message: &str) -> Quoted<'_> {
    Quoted {
        text: message,
        max: MESSAGE_MAX,
        escape_backslash: false,
    }
}

/// The [`fmt::Display`] of [`quote`] and [`bounded`].
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a> {
    text: &'a str,
    max: usize,
    escape_backslash: bool,
}

/// Whether a character could break a log line or disguise text: the C0 and C1 controls, the
/// line and paragraph separators and the bidirectional embeddings, overrides and isolates.
fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (kept, c) in self.text.chars().enumerate() {
            if kept == self.max {
                let total = self.text.chars().count();
                return write!(f, "…({total} chars)");
            }
            match c {
                '\\' if self.escape_backslash => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if is_dangerous(c) => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => fmt::Write::write_char(f, c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_plain_values_are_unchanged() {
        assert_eq!(quote("alice@dept-01").to_string(), "alice@dept-01");
        assert_eq!(bounded("unknown user `x`").to_string(), "unknown user `x`");
    }

    #[test]
    fn long_values_are_cut_with_their_length() {
        let long = "a".repeat(QUOTE_MAX + 1);
        let q = quote(&long).to_string();
        assert_eq!(
            q,
            format!("{}…({} chars)", "a".repeat(QUOTE_MAX), QUOTE_MAX + 1)
        );
        let exact = "b".repeat(QUOTE_MAX);
        assert_eq!(quote(&exact).to_string(), exact);
    }

    #[test]
    fn cutting_counts_characters_not_bytes() {
        let long = "数".repeat(300);
        let q = quote(&long).to_string();
        assert!(q.starts_with(&"数".repeat(QUOTE_MAX)));
        assert!(q.ends_with("…(300 chars)"));
    }

    #[test]
    fn controls_and_separators_are_escaped() {
        let q = quote("a\nb\r\tc\u{1b}[31m\u{2028}\u{202e}d\\").to_string();
        assert_eq!(q, "a\\nb\\r\\tc\\u{1b}[31m\\u{2028}\\u{202e}d\\\\");
        assert!(!q.chars().any(is_dangerous));
    }

    #[test]
    fn a_bounded_message_keeps_backslashes_of_quoted_values() {
        let inner = format!("unknown user `{}`", quote("x\ny"));
        assert_eq!(bounded(&inner).to_string(), inner);
        assert_eq!(bounded("a\nb").to_string(), "a\\nb");
    }
}
