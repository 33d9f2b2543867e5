//! Masking profiles: which mask each declared field gets, named by the pack's
//! obligations (`@obligations("mask:strict")`; `mask_personal_info` is
//! `mask:standard`).

use super::Mask;
use crate::model::{Field, PersonalInfo, PiType};
use std::fmt;
use std::str::FromStr;

/// The prefix of an obligation that names a masking profile: `mask:strict`.
pub const MASK_OBLIGATION_PREFIX: &str = "mask:";

/// The obligation that means the standard profile.
pub(crate) const MASK_PERSONAL_INFO: &str = "mask_personal_info";

/// A masking profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// Each type's own mask (an ID keeps region and last 4, a name its surname …);
    /// free text and personal fields of no known type become null.
    Standard,
    /// Keyed pseudonyms for every identifier, so that joins still work while no value
    /// is revealed; dates of birth keep the year; free text becomes null.
    Pseudonymize,
    /// Sensitive fields and free text become null; other personal fields get their
    /// type's mask.
    Strict,
}

impl Profile {
    /// Every profile, from least to most restrictive.
    pub const ALL: &'static [Profile] =
        &[Profile::Standard, Profile::Pseudonymize, Profile::Strict];

    /// The name used in an obligation after `mask:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Standard => "standard",
            Profile::Pseudonymize => "pseudonymize",
            Profile::Strict => "strict",
        }
    }

    /// The profile an obligation names, if it names one.
    pub fn from_obligation(obligation: &str) -> Option<Profile> {
        if obligation == MASK_PERSONAL_INFO {
            return Some(Profile::Standard);
        }
        obligation
            .strip_prefix(MASK_OBLIGATION_PREFIX)?
            .parse()
            .ok()
    }

    /// The mask this profile gives a field.
    pub fn mask_for(self, field: &Field) -> Mask {
        let personal = field.sensitivity != PersonalInfo::None;
        match (self, field.pi_type) {
            (_, PiType::None) if !personal => Mask::Keep,
            (_, PiType::FreeText) => Mask::Null,
            (Profile::Strict, _) if field.sensitivity == PersonalInfo::Sensitive => Mask::Null,
            (_, PiType::DateOfBirth) => Mask::DateYear,
            (Profile::Pseudonymize, _) => Mask::Pseudonym,
            // Personal information of no type this module knows how to mask.
            (_, PiType::None) => Mask::Null,
            (_, t) => Mask::Type(t),
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Profile::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Profile::ALL.iter().map(|p| p.as_str()).collect();
                format!(
                    "unknown masking profile `{s}`, expected one of: {}",
                    names.join(", ")
                )
            })
    }
}

/// Whether `obligation` names a masking profile (`mask_personal_info` or
/// `mask:<profile>`), and if it is of the `mask:` form, whether the profile exists:
/// `Some(Err(message))` for an unknown profile.
pub fn is_mask_obligation(obligation: &str) -> Option<Result<Profile, String>> {
    if obligation == MASK_PERSONAL_INFO {
        return Some(Ok(Profile::Standard));
    }
    obligation
        .strip_prefix(MASK_OBLIGATION_PREFIX)
        .map(str::parse)
}
