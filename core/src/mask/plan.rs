//! The plan of one release of data: from a decision and the dataset's declared
//! fields, what to do with each column, the watermark to place and the obligations
//! left to the host. Making the plan is where the call fails closed.

use super::watermark::{Embedder, Mark};
use super::{Mask, Profile, PseudonymKey, WatermarkKey};
use crate::audit::HashSuite;
use crate::engine::{Decision, Request};
use crate::error::{Error, Result};
use crate::model::{PiType, ResourceKind};
use crate::Inventory;
use std::collections::HashSet;
use std::fmt;
use zeroize::Zeroizing;

/// The obligation that asks for a watermark.
pub(crate) const WATERMARK: &str = "watermark";

/// Obligations about how the host stores or sends the released data; the plan lists
/// them for the host ([`Plan::host_obligations`]) since they are not about the values.
const HOST_OBLIGATIONS: &[&str] = &["encrypt_at_rest", "encrypt_in_transit"];

/// The keys a plan may need: a pseudonym key for the `pseudonymize` profile, a
/// watermark key for `watermark`.
#[derive(Default)]
pub struct MaskKeys {
    /// The key of keyed pseudonyms.
    pub pseudonym: Option<PseudonymKey>,
    /// The key of watermarks.
    pub watermark: Option<WatermarkKey>,
}

impl MaskKeys {
    /// Both keys from one key the caller holds (at least 32 bytes; `key_invalid`
    /// otherwise) under `suite`, or no key at all: what the command line and the
    /// bindings take as their `key` argument.
    pub fn from_bytes(key: Option<&Zeroizing<Vec<u8>>>, suite: HashSuite) -> Result<MaskKeys> {
        let Some(key) = key else {
            return Ok(MaskKeys::default());
        };
        Ok(MaskKeys {
            pseudonym: Some(PseudonymKey::from_bytes(key, suite)?),
            watermark: Some(WatermarkKey::from_bytes(key, suite)?),
        })
    }
}

impl fmt::Debug for MaskKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaskKeys")
            .field("pseudonym", &self.pseudonym.is_some())
            .field("watermark", &self.watermark.is_some())
            .finish()
    }
}

/// What happens to one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnPlan {
    /// The column (field) name.
    pub name: String,
    /// The type of personal information the field holds.
    pub pi_type: PiType,
    /// The mask applied to its values.
    pub mask: Mask,
}

/// What to do to the data a decision releases, column by column.
pub struct Plan {
    columns: Vec<ColumnPlan>,
    profile: Option<Profile>,
    keys: MaskKeys,
    mark: Option<Mark>,
    host_obligations: Vec<String>,
}

impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plan")
            .field("columns", &self.columns)
            .field("profile", &self.profile)
            .field("watermark", &self.mark)
            .field("host_obligations", &self.host_obligations)
            .finish()
    }
}

impl Plan {
    /// The plan for releasing the columns `columns` of the request's dataset under
    /// `decision`. Errors, and no plan, when the decision denies (`access_denied`);
    /// when it carries an obligation that no data call can carry out, such as
    /// `dual_control` (`access_denied`); when the resource is not a dataset or a column
    /// is not one of the dataset's declared fields (`request_invalid`); when a key the
    /// obligations need is missing (`key_not_found`); when a watermark is asked for a
    /// decision that no audit record holds (`request_invalid`).
    pub fn new(
        request: &Request,
        decision: &Decision,
        inventory: &Inventory,
        columns: &[&str],
        keys: MaskKeys,
    ) -> Result<Plan> {
        let refuse = |message: String| Error::AccessDenied {
            principal: request.principal.clone(),
            action: request.action.to_string(),
            resource: request.resource.id.clone(),
            message,
        };
        if !decision.allowed() {
            return Err(refuse(format!(
                "the decision denies ({}), so no data is released",
                decision.reason_ids().join(", ")
            )));
        }
        if request.resource.kind != ResourceKind::Dataset {
            return Err(Error::request(format!(
                "`{}` is not a dataset: only a dataset's data can be masked",
                request.resource.id
            )));
        }
        let dataset =
            inventory
                .dataset(&request.resource.id)
                .ok_or_else(|| Error::UnknownEntity {
                    kind: "dataset",
                    id: request.resource.id.clone(),
                })?;
        let mut profile = None;
        let mut watermark = false;
        let mut host_obligations = Vec::new();
        for o in decision.obligations() {
            if let Some(p) = Profile::from_obligation(o) {
                profile = profile.max(Some(p));
            } else if o == WATERMARK {
                watermark = true;
            } else if HOST_OBLIGATIONS.contains(&o.as_str()) {
                host_obligations.push(o.clone());
            } else {
                return Err(refuse(format!(
                    "obligation `{o}` cannot be carried out on the data by this call, so no data is released"
                )));
            }
        }
        if dataset.fields.is_empty() {
            return Err(Error::request(format!(
                "dataset `{}` declares no `fields`, so its columns cannot be checked or masked",
                dataset.id
            )));
        }
        let mut seen = HashSet::new();
        let mut plan_columns = Vec::with_capacity(columns.len());
        for &name in columns {
            let field = dataset
                .fields
                .iter()
                .find(|f| f.name == name)
                .ok_or_else(|| {
                    Error::request(format!(
                        "column `{name}` is not a declared field of dataset `{}`",
                        dataset.id
                    ))
                })?;
            if !seen.insert(name) {
                return Err(Error::request(format!("column `{name}` appears twice")));
            }
            plan_columns.push(ColumnPlan {
                name: name.to_owned(),
                pi_type: field.pi_type,
                mask: profile.map_or(Mask::Keep, |p| p.mask_for(field)),
            });
        }
        if plan_columns.iter().any(|c| c.mask.needs_key()) && keys.pseudonym.is_none() {
            return Err(Error::KeyNotFound {
                id: "pseudonym".into(),
            });
        }
        let mark = if watermark {
            if keys.watermark.is_none() {
                return Err(Error::KeyNotFound {
                    id: "watermark".into(),
                });
            }
            let seq = decision.audit_seq().ok_or_else(|| {
                Error::request("a watermark names the decision's audit record, and this decision has none: decide with an audit log")
            })?;
            Some(Mark::new(&request.principal, seq))
        } else {
            None
        };
        Ok(Plan {
            columns: plan_columns,
            profile,
            keys,
            mark,
            host_obligations,
        })
    }

    /// The columns, in the order given.
    pub fn columns(&self) -> &[ColumnPlan] {
        &self.columns
    }

    /// The masking profile the obligations name (the most restrictive when several
    /// do), or `None` when the data is released unmasked.
    pub fn profile(&self) -> Option<Profile> {
        self.profile
    }

    /// The mark a watermark places: recipient and audit record.
    pub fn mark(&self) -> Option<&Mark> {
        self.mark.as_ref()
    }

    /// The obligations about storing or sending the data that the host must still
    /// meet (`encrypt_at_rest`, `encrypt_in_transit`).
    pub fn host_obligations(&self) -> &[String] {
        &self.host_obligations
    }

    /// Masks one value of column `column` (an index into [`Plan::columns`]).
    pub fn mask_value(&self, column: usize, value: Option<&str>) -> Option<String> {
        match self.columns.get(column) {
            Some(c) => c.mask.apply(value, self.keys.pseudonym.as_ref()),
            None => None,
        }
    }

    /// The key of the pseudonyms, if the plan was given one.
    #[cfg(feature = "arrow")]
    pub(super) fn pseudonym_key(&self) -> Option<&PseudonymKey> {
        self.keys.pseudonym.as_ref()
    }

    /// Masks one (non-null) value of column `column` and appends the result to `out`;
    /// `false`, with nothing appended, when the result is null.
    pub fn mask_into(&self, column: usize, value: &str, out: &mut String) -> bool {
        match self.columns.get(column) {
            Some(c) => c.mask.apply_into(value, self.keys.pseudonym.as_ref(), out),
            None => false,
        }
    }

    /// The watermark embedder for one extract, when the decision asks for one.
    pub fn embedder(&self) -> Option<Embedder<'_>> {
        let mark = self.mark.as_ref()?;
        let key = self.keys.watermark.as_ref()?;
        Some(Embedder::new(key, mark, self))
    }
}

impl Plan {
    /// Starts releasing one extract row by row (masks, then canary rows when the
    /// decision asks for a watermark).
    pub fn release(&self) -> Release<'_> {
        Release {
            plan: self,
            embedder: self.embedder(),
        }
    }
}

/// One extract being released, row by row, in the order of [`Plan::columns`].
#[derive(Debug)]
pub struct Release<'p> {
    pub(super) plan: &'p Plan,
    pub(super) embedder: Option<Embedder<'p>>,
}

impl Release<'_> {
    /// Masks one row and hands the output rows to `out`: the masked row, and a canary
    /// row after it when the watermark places one there. A row whose length is not
    /// the number of columns is `request_invalid` and nothing of it is handed out.
    pub fn push(
        &mut self,
        row: &[Option<&str>],
        out: &mut dyn FnMut(Vec<Option<String>>) -> Result<()>,
    ) -> Result<()> {
        if row.len() != self.plan.columns.len() {
            return Err(Error::request(format!(
                "a row has {} values for {} columns",
                row.len(),
                self.plan.columns.len()
            )));
        }
        let masked: Vec<Option<String>> = row
            .iter()
            .enumerate()
            .map(|(i, v)| self.plan.mask_value(i, *v))
            .collect();
        let mut canary = None;
        if let Some(e) = self.embedder.as_mut() {
            if e.canary_follows() {
                let row: Vec<Option<String>> = e
                    .canary()
                    .into_iter()
                    .zip(&masked)
                    .map(|(generated, previous)| generated.unwrap_or_else(|| previous.clone()))
                    .collect();
                canary = Some(row);
            }
        }
        out(masked)?;
        if let Some(c) = canary {
            out(c)?;
        }
        Ok(())
    }

    /// The number of canary rows placed so far.
    pub fn canaries(&self) -> u64 {
        self.embedder.as_ref().map_or(0, Embedder::canaries)
    }
}
