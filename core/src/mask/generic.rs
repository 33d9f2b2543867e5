//! Apache Ranger's generic masks, for columns of any type. Like the masks of the
//! types of personal information, each appends its output to the caller's buffer.

use super::pi::{keep_ends, push_hex};
use sha2::{Digest, Sha256};

pub(super) fn show_first(value: &str, n: usize, out: &mut String) {
    if value.chars().count() <= n {
        return out.push_str(value);
    }
    keep_ends(value, n, 0, out)
}

pub(super) fn show_last(value: &str, n: usize, out: &mut String) {
    if value.chars().count() <= n {
        return out.push_str(value);
    }
    keep_ends(value, 0, n, out)
}

pub(super) fn hash(value: &str, out: &mut String) {
    push_hex(&Sha256::digest(value.as_bytes()), out);
}

pub(super) fn redact(value: &str, out: &mut String) {
    out.extend(value.chars().map(|c| match c {
        'A'..='Z' => 'X',
        'a'..='z' => 'x',
        '0'..='9' => 'n',
        c => c,
    }));
}
