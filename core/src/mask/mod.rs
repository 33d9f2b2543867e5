//! Obligations carried out on the data itself: masks, keyed pseudonyms and
//! traceable watermarks.
//!
//! This module owns the masks for each type of personal information and Ranger's
//! generic masks ([`Mask`]), the masking profiles that a pack's obligations name
//! ([`Profile`]), the keys of pseudonyms and watermarks ([`PseudonymKey`],
//! [`WatermarkKey`]), the plan that turns a decision and a dataset's declared fields
//! into what to do with each column ([`Plan`]) and the watermark ([`watermark`]). It
//! fails closed: a deny, an obligation it cannot carry out or a column it does not
//! know is an error and no data comes out. It does not decide anything: the engine
//! does, and this module only carries out what the decision says.

#[cfg(feature = "arrow")]
pub mod arrow;
mod generic;
mod keys;
mod pi;
mod plan;
mod profile;
pub mod watermark;

pub use keys::{PseudonymKey, WatermarkKey, MIN_KEY_LEN};
pub use plan::{ColumnPlan, MaskKeys, Plan, Release};
pub use profile::{is_mask_obligation, Profile, MASK_OBLIGATION_PREFIX};

use crate::audit::HashSuite;
use crate::model::PiType;
use zeroize::Zeroizing;

/// The character that replaces a masked character.
pub const MASK_CHAR: char = '*';

/// What to do with the values of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// Keep the value as it is.
    Keep,
    /// Replace the value by null (Ranger's `MASK_NULL`).
    Null,
    /// The mask of a type of personal information (see [`PiType`]).
    Type(PiType),
    /// Keep the first `n` characters, mask the rest (Ranger's `MASK_SHOW_FIRST_4`, for any `n`).
    ShowFirst(usize),
    /// Keep the last `n` characters, mask the rest (Ranger's `MASK_SHOW_LAST_4`, for any `n`).
    ShowLast(usize),
    /// The SHA-256 of the value in hex (Ranger's `MASK_HASH`): unkeyed, so equal values
    /// stay equal and anyone can test a guess; prefer [`Mask::Pseudonym`].
    Hash,
    /// Keep only the year of a date (Ranger's `MASK_DATE_SHOW_YEAR`).
    DateYear,
    /// Letters become `x`/`X`, digits `n`, other characters stay (Ranger's `MASK`).
    Redact,
    /// A keyed pseudonym (HMAC-SHA-256 or HMAC-SM3) that keeps joins possible.
    Pseudonym,
}

impl Mask {
    /// Applies the mask to one value; `None` is a null. A null stays null. A
    /// [`Mask::Pseudonym`] without a key gives null (a [`Plan`] refuses to be made
    /// without the key, so through a plan this never happens).
    pub fn apply(&self, value: Option<&str>, key: Option<&PseudonymKey>) -> Option<String> {
        let v = value?;
        let mut out = String::with_capacity(v.len());
        self.apply_into(v, key, &mut out).then_some(out)
    }

    /// Applies the mask to one (non-null) value and appends the result to `out`, a
    /// column's values buffer: no allocation per value. Returns `false`, and appends
    /// nothing, when the result is null (a null mask, free text, a pseudonym without
    /// its key).
    pub fn apply_into(&self, v: &str, key: Option<&PseudonymKey>, out: &mut String) -> bool {
        match self {
            Mask::Keep | Mask::Type(PiType::None) => out.push_str(v),
            Mask::Null | Mask::Type(PiType::FreeText) => return false,
            Mask::Type(PiType::ResidentId) => pi::resident_id(v, out),
            Mask::Type(PiType::Mobile) => pi::mobile(v, out),
            Mask::Type(PiType::Name) => pi::name(v, out),
            Mask::Type(PiType::Address) => pi::address(v, out),
            Mask::Type(PiType::BankCard) => pi::bank_card(v, out),
            Mask::Type(PiType::Email) => pi::email(v, out),
            Mask::Type(PiType::DateOfBirth) | Mask::DateYear => pi::year(v, out),
            Mask::Type(PiType::LicencePlate) => pi::licence_plate(v, out),
            Mask::ShowFirst(n) => generic::show_first(v, *n, out),
            Mask::ShowLast(n) => generic::show_last(v, *n, out),
            Mask::Hash => generic::hash(v, out),
            Mask::Redact => generic::redact(v, out),
            Mask::Pseudonym => match key {
                Some(k) => k.pseudonym_into(v, out),
                None => return false,
            },
        }
        true
    }

    /// Whether the mask needs a [`PseudonymKey`].
    pub fn needs_key(&self) -> bool {
        matches!(self, Mask::Pseudonym)
    }
}

/// Applies the mask named `mask` (`resident_id`, `show_first:4`, `pseudonym` …) to
/// each value: what the bindings' `mask_values` calls, and the entry point of the
/// shared vectors. `key` (at least 32 bytes) keys a pseudonym under `suite`; a
/// pseudonym without a key is `key_not_found`, an unknown mask `request_invalid`.
pub fn mask_values<'v>(
    mask: &str,
    values: impl IntoIterator<Item = Option<&'v str>>,
    key: Option<&Zeroizing<Vec<u8>>>,
    suite: HashSuite,
) -> crate::Result<Vec<Option<String>>> {
    let mask: Mask = mask.parse()?;
    let key = key
        .map(|k| PseudonymKey::from_bytes(k, suite))
        .transpose()?;
    if mask.needs_key() && key.is_none() {
        return Err(crate::Error::KeyNotFound {
            id: "pseudonym".into(),
        });
    }
    Ok(values
        .into_iter()
        .map(|v| mask.apply(v, key.as_ref()))
        .collect())
}

impl std::str::FromStr for Mask {
    type Err = crate::Error;
    /// Parses a mask's name: `keep`, `null`, a type of personal information
    /// (`resident_id`, `mobile` …), `show_first:N`, `show_last:N`, `hash`,
    /// `date_year`, `redact` or `pseudonym`.
    fn from_str(s: &str) -> crate::Result<Mask> {
        let count = |n: &str| {
            n.parse::<usize>()
                .map_err(|_| crate::Error::request(format!("mask `{s}`: `{n}` is not a count")))
        };
        Ok(match s {
            "keep" => Mask::Keep,
            "null" => Mask::Null,
            "hash" => Mask::Hash,
            "date_year" => Mask::DateYear,
            "redact" => Mask::Redact,
            "pseudonym" => Mask::Pseudonym,
            _ => {
                if let Some(n) = s.strip_prefix("show_first:") {
                    Mask::ShowFirst(count(n)?)
                } else if let Some(n) = s.strip_prefix("show_last:") {
                    Mask::ShowLast(count(n)?)
                } else {
                    Mask::Type(s.parse::<PiType>().map_err(crate::Error::request)?)
                }
            }
        })
    }
}
