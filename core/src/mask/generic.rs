//! Apache Ranger's generic masks, for columns of any type.

use super::pi::keep_ends;
use sha2::{Digest, Sha256};

pub(super) fn show_first(value: &str, n: usize) -> String {
    let len = value.chars().count();
    if len <= n {
        return value.to_owned();
    }
    keep_ends(value, n, 0)
}

pub(super) fn show_last(value: &str, n: usize) -> String {
    let len = value.chars().count();
    if len <= n {
        return value.to_owned();
    }
    keep_ends(value, 0, n)
}

pub(super) fn hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

pub(super) fn redact(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            'A'..='Z' => 'X',
            'a'..='z' => 'x',
            '0'..='9' => 'n',
            c => c,
        })
        .collect()
}
