//! The policy pack: the Cedar schema and policies, loaded, validated and indexed.
//!
//! This module owns loading a pack from files (strict validation; an error names
//! file, line and column), the annotations every policy must carry (`@id`,
//! `@article`, `@zh`, `@en`, optional `@obligations`), the pack's version hash and
//! the index of which policies can apply to each action and resource type. It does
//! not evaluate requests: that is the engine's job.

mod citation;
pub(crate) mod specialize;
pub mod testing;

pub use citation::Citation;

use crate::error::{Error, Result, SourceError};
use crate::model::{Action, ResourceKind};
use cedar_policy::{
    ActionConstraint, Effect, EntityUid, Policy, PolicyId, PolicySet, ResourceConstraint, Schema,
    ValidationMode, Validator,
};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// The obligations a permit may attach; the host must apply each one it receives.
pub const KNOWN_OBLIGATIONS: &[&str] = &[
    "mask_personal_info",
    "watermark",
    "encrypt_at_rest",
    "encrypt_in_transit",
    "dual_control",
];

/// The file name of the schema inside a pack directory.
pub const SCHEMA_FILE: &str = "schema.cedarschema";

/// The default pack's files, compiled in so that every binding carries them.
pub(crate) const DEFAULT_SCHEMA: &str = include_str!("../../../policies/schema.cedarschema");
const DEFAULT_FILES: &[(&str, &str)] = &[
    (
        "art03-roles.cedar",
        include_str!("../../../policies/art03-roles.cedar"),
    ),
    (
        "art05-responsibilities.cedar",
        include_str!("../../../policies/art05-responsibilities.cedar"),
    ),
    (
        "art06-transmission.cedar",
        include_str!("../../../policies/art06-transmission.cedar"),
    ),
    (
        "art07-keys.cedar",
        include_str!("../../../policies/art07-keys.cedar"),
    ),
    (
        "art08-audit.cedar",
        include_str!("../../../policies/art08-audit.cedar"),
    ),
    (
        "art09-aggregation.cedar",
        include_str!("../../../policies/art09-aggregation.cedar"),
    ),
    (
        "art10-grading.cedar",
        include_str!("../../../policies/art10-grading.cedar"),
    ),
    (
        "art12-backup.cedar",
        include_str!("../../../policies/art12-backup.cedar"),
    ),
    (
        "art13-processing.cedar",
        include_str!("../../../policies/art13-processing.cedar"),
    ),
    (
        "art14-sharing.cedar",
        include_str!("../../../policies/art14-sharing.cedar"),
    ),
    (
        "art15-destruction.cedar",
        include_str!("../../../policies/art15-destruction.cedar"),
    ),
    (
        "art16-vendors.cedar",
        include_str!("../../../policies/art16-vendors.cedar"),
    ),
    (
        "art17-superadmin.cedar",
        include_str!("../../../policies/art17-superadmin.cedar"),
    ),
];

/// What a policy says of itself: its id, the article it enforces and its text in
/// both languages — what a decision's reasons show.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyInfo {
    pub(crate) citation: Citation,
    pub(crate) forbid: bool,
    pub(crate) obligations: Vec<String>,
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) text: String,
    /// The principal guard and residual, when the policy has a guard.
    pub(crate) split: Option<specialize::Split>,
    /// The policy with the scope its slots guarantee opened up.
    pub(crate) unscoped: Option<serde_json::Value>,
}

impl PolicyInfo {
    /// The policy id (`@id`).
    pub fn id(&self) -> &str {
        self.citation.policy()
    }
    /// The article it enforces (`@article`), such as `第十七条`.
    pub fn article(&self) -> &str {
        self.citation.article()
    }
    /// The rule in Chinese (`@zh`).
    pub fn zh(&self) -> &str {
        self.citation.zh()
    }
    /// The rule in English (`@en`).
    pub fn en(&self) -> &str {
        self.citation.en()
    }
    /// What a reason given by this policy cites.
    pub fn citation(&self) -> &Citation {
        &self.citation
    }
    /// Whether the policy is a forbid.
    pub fn is_forbid(&self) -> bool {
        self.forbid
    }
    /// The obligations a permit attaches (`@obligations`).
    pub fn obligations(&self) -> &[String] {
        &self.obligations
    }
    /// The file the policy came from.
    pub fn file(&self) -> &str {
        &self.file
    }
    /// The 1-based line the policy starts on.
    pub fn line(&self) -> usize {
        self.line
    }
    /// The policy's Cedar source text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// A validated policy pack: schema, policies and their index. Cheap to clone.
#[derive(Clone)]
pub struct PolicyPack {
    inner: Arc<PackInner>,
}

struct PackInner {
    schema: Schema,
    set: PolicySet,
    policies: Vec<PolicyInfo>,
    version: String,
    /// For each (action, resource kind) slot, the policies that can apply.
    slots: Vec<SlotIndex>,
}

impl fmt::Debug for PolicyPack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyPack")
            .field("policies", &self.inner.policies.len())
            .field("version", &self.inner.version)
            .finish()
    }
}

/// The slot of an (action, resource kind) pair in the index.
pub(crate) fn slot(action: Action, kind: ResourceKind) -> usize {
    action.index() * ResourceKind::ALL.len() + kind.index()
}

impl PolicyPack {
    /// The default pack of govdata (`policies/`), compiled into the library.
    pub fn default_pack() -> Result<Self> {
        let files: Vec<(String, String)> = DEFAULT_FILES
            .iter()
            .map(|(n, t)| (format!("policies/{n}"), (*t).to_owned()))
            .collect();
        Self::from_sources(("policies/schema.cedarschema", DEFAULT_SCHEMA), &files)
    }

    /// Loads a pack from a directory: `schema.cedarschema` and every `*.cedar` file in it.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        Self::from_dirs(&[dir.as_ref()])
    }

    /// Loads a pack from several directories: the schema from the first, the `*.cedar`
    /// files of all of them. A department's own policies are added this way beside the
    /// default pack, whose forbids keep applying.
    pub fn from_dirs(dirs: &[&Path]) -> Result<Self> {
        let first = dirs.first().ok_or_else(|| {
            Error::SchemaInvalid(SourceError {
                file: String::new(),
                policy: String::new(),
                line: 0,
                column: 0,
                message: "no policy directory given".into(),
            })
        })?;
        let schema_path = first.join(SCHEMA_FILE);
        let schema_text =
            std::fs::read_to_string(&schema_path).map_err(|e| Error::io(&schema_path, e))?;
        let mut files = Vec::new();
        for dir in dirs {
            files.extend(read_cedar_files(dir)?);
        }
        Self::from_sources((&schema_path.display().to_string(), &schema_text), &files)
    }

    /// Builds a pack from source texts: the schema `(file name, text)` and the policy
    /// files `(file name, text)`.
    pub fn from_sources(schema: (&str, &str), files: &[(String, String)]) -> Result<Self> {
        let (schema_name, schema_text) = schema;
        let parsed_schema = Schema::from_cedarschema_str(schema_text).map_err(|e| {
            let (line, column) = first_label(&e, schema_text);
            Error::SchemaInvalid(SourceError {
                file: schema_name.to_owned(),
                policy: String::new(),
                line,
                column,
                message: one_line(&e.to_string()),
            })
        })?;
        let schema = parsed_schema.0;

        let mut set = PolicySet::new();
        let mut policies = Vec::new();
        let mut ids = HashSet::new();
        let mut hasher = Sha256::new();
        hash_part(&mut hasher, schema_text);
        for (file, text) in files {
            hash_part(&mut hasher, file.rsplit('/').next().unwrap_or(file));
            hash_part(&mut hasher, text);
            let file_set = PolicySet::from_str(text).map_err(|e| {
                let (line, column) = first_label(&e, text);
                Error::PolicyParse(SourceError {
                    file: file.clone(),
                    policy: String::new(),
                    line,
                    column,
                    message: one_line(&e.to_string()),
                })
            })?;
            if let Some(t) = file_set.templates().next() {
                return Err(annotation_error(
                    file,
                    text,
                    &t.to_string(),
                    "",
                    "templates are not supported in a pack",
                ));
            }
            let mut in_file: Vec<&Policy> = file_set.policies().collect();
            // Keep the order of the file, so that reasons come out in a stable order.
            let offset_of = |p: &Policy| text.find(&p.to_string()).unwrap_or(0);
            in_file.sort_by_key(|p| offset_of(p));
            for policy in in_file {
                let info = policy_info(file, text, policy)?;
                if !ids.insert(info.id().to_owned()) {
                    return Err(annotation_error(
                        file,
                        text,
                        &info.text,
                        info.id(),
                        "duplicate policy id",
                    ));
                }
                let renamed = policy.new_id(PolicyId::new(info.id()));
                set.add(renamed).map_err(|e| {
                    annotation_error(file, text, &info.text, info.id(), &e.to_string())
                })?;
                policies.push(info);
            }
        }

        let validator = Validator::new(schema.clone());
        let result = validator.validate(&set, ValidationMode::Strict);
        if let Some(err) = result.validation_errors().next() {
            let id = err.policy_id().to_string();
            let info = policies.iter().find(|p| p.id() == id);
            let (file, text) = info
                .and_then(|i| files.iter().find(|(f, _)| *f == i.file))
                .map(|(f, t)| (f.as_str(), t.as_str()))
                .unwrap_or(("", ""));
            let (line, column) = first_label(err, text);
            return Err(Error::PolicyValidation(SourceError {
                file: file.to_owned(),
                policy: id,
                line,
                column,
                message: one_line(&err.to_string()),
            }));
        }

        let slots = index_policies(&schema, &set, &policies);
        let version = format!("sha256:{}", hex::encode(hasher.finalize()));
        Ok(PolicyPack {
            inner: Arc::new(PackInner {
                schema,
                set,
                policies,
                version,
                slots,
            }),
        })
    }

    /// The pack's version: `sha256:` and the hash of the schema and every policy file.
    pub fn version(&self) -> &str {
        &self.inner.version
    }

    /// Every policy of the pack, in load order.
    pub fn policies(&self) -> &[PolicyInfo] {
        &self.inner.policies
    }

    /// A policy by id.
    pub fn policy(&self, id: &str) -> Option<&PolicyInfo> {
        self.inner.policies.iter().find(|p| p.id() == id)
    }

    /// The policies that can apply to `action` on a resource of `kind`.
    pub fn applicable(
        &self,
        action: Action,
        kind: ResourceKind,
    ) -> impl Iterator<Item = &PolicyInfo> {
        let index = &self.inner.slots[slot(action, kind)];
        let mut all: Vec<usize> = index
            .generic
            .iter()
            .chain(index.by_resource.values().flatten())
            .copied()
            .collect();
        all.sort_unstable();
        all.into_iter().map(|i| &self.inner.policies[i])
    }

    pub(crate) fn slot_index(&self, slot: usize) -> &SlotIndex {
        &self.inner.slots[slot]
    }

    /// The whole Cedar policy set, as plain Cedar would evaluate it.
    pub fn cedar_policy_set(&self) -> &PolicySet {
        &self.inner.set
    }

    /// The Cedar schema.
    pub fn cedar_schema(&self) -> &Schema {
        &self.inner.schema
    }
}

fn hash_part(hasher: &mut Sha256, part: &str) {
    hasher.update((part.len() as u64).to_le_bytes());
    hasher.update(part.as_bytes());
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The 1-based line and column of a byte offset in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn first_label(diag: &dyn miette::Diagnostic, text: &str) -> (usize, usize) {
    let offset = diag
        .labels()
        .and_then(|mut labels| labels.next())
        .map(|l| l.offset())
        .or_else(|| {
            diag.related()
                .and_then(|mut r| r.next())
                .and_then(|d| d.labels())
                .and_then(|mut l| l.next())
                .map(|l| l.offset())
        })
        .unwrap_or(0);
    line_col(text, offset)
}

fn annotation_error(file: &str, text: &str, policy_text: &str, id: &str, message: &str) -> Error {
    let (line, column) = line_col(text, text.find(policy_text).unwrap_or(0));
    Error::PolicyAnnotation(SourceError {
        file: file.to_owned(),
        policy: id.to_owned(),
        line,
        column,
        message: message.to_owned(),
    })
}

fn policy_info(file: &str, text: &str, policy: &Policy) -> Result<PolicyInfo> {
    let policy_text = policy.to_string();
    let need = |key: &str, id: &str| -> Result<String> {
        match policy.annotation(key) {
            Some(v) if !v.trim().is_empty() => Ok(v.to_owned()),
            _ => Err(annotation_error(
                file,
                text,
                &policy_text,
                id,
                &format!("missing annotation `@{key}`"),
            )),
        }
    };
    let id = need("id", "")?;
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(annotation_error(
            file,
            text,
            &policy_text,
            &id,
            "`@id` may hold only ASCII letters, digits, `-`, `_` and `.`",
        ));
    }
    let article = need("article", &id)?;
    let zh = need("zh", &id)?;
    let en = need("en", &id)?;
    let forbid = policy.effect() == Effect::Forbid;
    let mut obligations = Vec::new();
    if let Some(list) = policy.annotation("obligations") {
        if forbid {
            return Err(annotation_error(
                file,
                text,
                &policy_text,
                &id,
                "a forbid cannot carry `@obligations`",
            ));
        }
        for o in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            if let Some(Err(message)) = crate::mask::is_mask_obligation(o) {
                return Err(annotation_error(file, text, &policy_text, &id, &message));
            }
            if !KNOWN_OBLIGATIONS.contains(&o) && crate::mask::is_mask_obligation(o).is_none() {
                return Err(annotation_error(
                    file,
                    text,
                    &policy_text,
                    &id,
                    &format!(
                        "unknown obligation `{}`, expected one of: {}, or `mask:<profile>`",
                        crate::quote::quote(o),
                        KNOWN_OBLIGATIONS.join(", ")
                    ),
                ));
            }
            obligations.push(o.to_owned());
        }
    }
    let (line, _) = line_col(text, text.find(&policy_text).unwrap_or(0));
    let est = policy.to_json().ok();
    Ok(PolicyInfo {
        citation: Citation::new(id, article, zh, en),
        forbid,
        obligations,
        file: file.to_owned(),
        line,
        text: policy_text,
        split: est.as_ref().and_then(specialize::split).map(|mut split| {
            if let Some(r) = specialize::unscoped(&split.residual) {
                split.residual = r;
            }
            split
        }),
        unscoped: est.as_ref().and_then(specialize::unscoped),
    })
}

/// The policies of one (action, resource kind) slot: those that can apply to any
/// resource, and those whose scope names one resource (`resource == Dataset::"x"`).
#[derive(Debug, Clone, Default)]
pub(crate) struct SlotIndex {
    pub(crate) generic: Vec<usize>,
    pub(crate) by_resource: std::collections::HashMap<String, Vec<usize>>,
}

/// For each (action, resource kind) slot, the policies whose scope can match it.
/// The test is conservative: a policy is left out only when its scope rules it out.
fn index_policies(schema: &Schema, set: &PolicySet, infos: &[PolicyInfo]) -> Vec<SlotIndex> {
    let action_entities = schema.action_entities().ok();
    let action_uid = |a: Action| EntityUid::from_str(&format!("Action::\"{}\"", a.as_str())).ok();
    // The action itself and its action groups.
    let lineage: Vec<Vec<EntityUid>> = Action::ALL
        .iter()
        .map(|&a| {
            let mut v = Vec::new();
            if let Some(uid) = action_uid(a) {
                if let Some(anc) = action_entities.as_ref().and_then(|e| e.ancestors(&uid)) {
                    v.extend(anc.cloned());
                }
                v.push(uid);
            }
            v
        })
        .collect();
    let mut slots = vec![SlotIndex::default(); Action::ALL.len() * ResourceKind::ALL.len()];
    for (i, info) in infos.iter().enumerate() {
        let Some(policy) = set.policy(&PolicyId::new(info.id())) else {
            continue;
        };
        let action_ok = |a: Action| match policy.action_constraint() {
            ActionConstraint::Any => true,
            ActionConstraint::Eq(uid) => lineage[a.index()].contains(&uid),
            ActionConstraint::In(uids) => uids.iter().any(|u| lineage[a.index()].contains(u)),
        };
        let kind_ok = |k: ResourceKind| match policy.resource_constraint() {
            ResourceConstraint::Any | ResourceConstraint::In(_) => true,
            ResourceConstraint::Eq(uid) => uid.type_name().to_string() == k.as_str(),
            ResourceConstraint::Is(t) | ResourceConstraint::IsIn(t, _) => {
                t.to_string() == k.as_str()
            }
        };
        for &a in Action::ALL {
            if !action_ok(a) {
                continue;
            }
            for &k in a.resource_kinds() {
                if !kind_ok(k) {
                    continue;
                }
                let index = &mut slots[slot(a, k)];
                match policy.resource_constraint() {
                    ResourceConstraint::Eq(uid) => index
                        .by_resource
                        .entry(uid.id().unescaped().to_owned())
                        .or_default()
                        .push(i),
                    _ => index.generic.push(i),
                }
            }
        }
    }
    slots
}

/// The `.cedar` files of `dir` in name order, each as its path and its text.
pub(crate) fn read_cedar_files(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cedar") && p.is_file())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            Ok((path.display().to_string(), text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
