//! The inventory: every record of the organisation, validated as a whole.
//!
//! The maps are persistent (structural sharing), so an update clones the inventory
//! in O(1), changes the copy and publishes it; readers keep the snapshot they hold.

use super::{Dataset, Department, Grade, PersonalInfo, System, User, Vendor};
use crate::error::{Error, Result};
use crate::quote::quote;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// How many levels of departments a walk up the parents goes at most.
const MAX_DEPARTMENT_DEPTH: usize = 64;

type Map<T> = imbl::HashMap<String, Arc<T>>;

/// A number that changes with every change of an inventory's content.
fn next_generation() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The organisation as the engine sees it: departments, vendors, users, datasets, systems.
#[derive(Clone)]
pub struct Inventory {
    generation: u64,
    departments: Map<Department>,
    vendors: Map<Vendor>,
    users: Map<User>,
    datasets: Map<Dataset>,
    systems: Map<System>,
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory {
            generation: next_generation(),
            departments: Map::default(),
            vendors: Map::default(),
            users: Map::default(),
            datasets: Map::default(),
            systems: Map::default(),
        }
    }
}

impl fmt::Debug for Inventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inventory")
            .field("departments", &self.departments.len())
            .field("vendors", &self.vendors.len())
            .field("users", &self.users.len())
            .field("datasets", &self.datasets.len())
            .field("systems", &self.systems.len())
            .finish()
    }
}

/// The type of an inventory record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// A department.
    Department,
    /// A vendor.
    Vendor,
    /// A user.
    User,
    /// A dataset.
    Dataset,
    /// A system.
    System,
}

impl RecordKind {
    /// The wire name: `department`, `vendor`, `user`, `dataset`, `system`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Department => "department",
            RecordKind::Vendor => "vendor",
            RecordKind::User => "user",
            RecordKind::Dataset => "dataset",
            RecordKind::System => "system",
        }
    }
}

impl FromStr for RecordKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "department" => RecordKind::Department,
            "vendor" => RecordKind::Vendor,
            "user" => RecordKind::User,
            "dataset" => RecordKind::Dataset,
            "system" => RecordKind::System,
            other => {
                return Err(Error::inventory(
                    format!("type `{}`", quote(other)),
                    "expected one of: department, vendor, user, dataset, system",
                ))
            }
        })
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One inventory record of any type, for [`Inventory::upsert`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A department.
    Department(Department),
    /// A vendor.
    Vendor(Vendor),
    /// A user.
    User(User),
    /// A dataset.
    Dataset(Dataset),
    /// A system.
    System(System),
}

impl Record {
    /// Parses a record of `kind` from its JSON object (the inventory format).
    pub fn from_json(kind: RecordKind, value: &Value) -> Result<Record> {
        Ok(match kind {
            RecordKind::Department => Record::Department(parse_record(kind, None, value)?),
            RecordKind::Vendor => Record::Vendor(parse_record(kind, None, value)?),
            RecordKind::User => Record::User(parse_record(kind, None, value)?),
            RecordKind::Dataset => Record::Dataset(parse_record(kind, None, value)?),
            RecordKind::System => Record::System(parse_record(kind, None, value)?),
        })
    }

    /// Parses a record of `kind` from a JSON string.
    pub fn from_json_str(kind: RecordKind, json: &str) -> Result<Record> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| Error::inventory(format!("{kind}"), format!("malformed JSON: {e}")))?;
        Record::from_json(kind, &value)
    }

    /// The type of the record.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Department(_) => RecordKind::Department,
            Record::Vendor(_) => RecordKind::Vendor,
            Record::User(_) => RecordKind::User,
            Record::Dataset(_) => RecordKind::Dataset,
            Record::System(_) => RecordKind::System,
        }
    }

    /// The record's id.
    pub fn id(&self) -> &str {
        match self {
            Record::Department(r) => &r.id,
            Record::Vendor(r) => &r.id,
            Record::User(r) => &r.id,
            Record::Dataset(r) => &r.id,
            Record::System(r) => &r.id,
        }
    }
}

fn record_label(kind: RecordKind, index: Option<usize>, value: &Value) -> String {
    match value.get("id").and_then(Value::as_str) {
        Some(id) => format!("{kind} `{}`", quote(id)),
        None => match index {
            Some(i) => format!("{kind} #{i}"),
            None => kind.to_string(),
        },
    }
}

fn parse_record<T: DeserializeOwned>(
    kind: RecordKind,
    index: Option<usize>,
    value: &Value,
) -> Result<T> {
    T::deserialize(value).map_err(|e| Error::inventory(record_label(kind, index, value), e))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document<D, V, U, S, Y> {
    #[serde(default = "Vec::new")]
    departments: Vec<D>,
    #[serde(default = "Vec::new")]
    vendors: Vec<V>,
    #[serde(default = "Vec::new")]
    users: Vec<U>,
    #[serde(default = "Vec::new")]
    datasets: Vec<S>,
    #[serde(default = "Vec::new")]
    systems: Vec<Y>,
}

type TypedDocument = Document<Department, Vendor, User, Dataset, System>;
type LooseDocument = Document<Value, Value, Value, Value, Value>;

impl Inventory {
    /// An empty inventory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses and validates an inventory from its JSON text.
    pub fn from_json_str(json: &str) -> Result<Self> {
        match serde_json::from_str::<TypedDocument>(json) {
            Ok(doc) => Self::from_document(doc),
            // The fast path failed: parse loosely to name the offending record.
            Err(fast) => {
                let loose: LooseDocument = serde_json::from_str(json)
                    .map_err(|e| Error::inventory("document", format!("malformed: {e}")))?;
                Self::from_document(type_document(loose)?)
                    .and_then(|_| Err(Error::inventory("document", format!("malformed: {fast}"))))
            }
        }
    }

    /// Validates an inventory given as a JSON value.
    pub fn from_json(value: &Value) -> Result<Self> {
        let loose = LooseDocument::deserialize(value)
            .map_err(|e| Error::inventory("document", format!("malformed: {e}")))?;
        Self::from_document(type_document(loose)?)
    }

    /// Reads and validates an inventory file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let text = std::fs::read_to_string(path.as_ref()).map_err(|e| Error::io(&path, e))?;
        Self::from_json_str(&text)
    }

    fn from_document(doc: TypedDocument) -> Result<Self> {
        let mut inv = Inventory::default();
        fn insert_all<T>(
            map: &mut Map<T>,
            kind: RecordKind,
            items: Vec<T>,
            id: impl Fn(&T) -> &str,
        ) -> Result<()> {
            for item in items {
                let key = id(&item).to_owned();
                if key.is_empty() {
                    return Err(Error::inventory(kind.to_string(), "empty `id`"));
                }
                if map.insert(key.clone(), Arc::new(item)).is_some() {
                    return Err(Error::inventory(
                        format!("{kind} `{}`", quote(&key)),
                        "duplicate id",
                    ));
                }
            }
            Ok(())
        }
        insert_all(
            &mut inv.departments,
            RecordKind::Department,
            doc.departments,
            |r| &r.id,
        )?;
        insert_all(&mut inv.vendors, RecordKind::Vendor, doc.vendors, |r| &r.id)?;
        insert_all(&mut inv.users, RecordKind::User, doc.users, |r| &r.id)?;
        insert_all(&mut inv.datasets, RecordKind::Dataset, doc.datasets, |r| {
            &r.id
        })?;
        insert_all(&mut inv.systems, RecordKind::System, doc.systems, |r| &r.id)?;
        inv.validate_all()?;
        Ok(inv)
    }

    fn validate_all(&self) -> Result<()> {
        for v in self.vendors.values() {
            check_vendor(v)?;
        }
        for d in self.departments.values() {
            self.check_department(d)?;
        }
        for u in self.users.values() {
            self.check_user(u)?;
        }
        for d in self.datasets.values() {
            self.check_dataset(d)?;
        }
        for s in self.systems.values() {
            self.check_system(s)?;
        }
        Ok(())
    }

    fn check_department(&self, d: &Department) -> Result<()> {
        let label = || format!("department `{}`", quote(&d.id));
        let mut seen = vec![d.id.as_str()];
        let mut next = d.parent.as_deref();
        while let Some(p) = next {
            let parent = self.departments.get(p).ok_or_else(|| {
                Error::inventory(
                    label(),
                    format!("field `parent`: no department `{}`", quote(p)),
                )
            })?;
            if seen.contains(&p) {
                return Err(Error::inventory(
                    label(),
                    "field `parent`: the parents form a cycle",
                ));
            }
            seen.push(p);
            next = parent.parent.as_deref();
        }
        Ok(())
    }

    fn check_user(&self, u: &User) -> Result<()> {
        let label = || format!("user `{}`", quote(&u.id));
        if !self.departments.contains_key(&u.department) {
            return Err(Error::inventory(
                label(),
                format!(
                    "field `department`: no department `{}`",
                    quote(&u.department)
                ),
            ));
        }
        if let Some(v) = &u.vendor {
            if !self.vendors.contains_key(v) {
                return Err(Error::inventory(
                    label(),
                    format!("field `vendor`: no vendor `{}`", quote(v)),
                ));
            }
        }
        if let Some(r) = u.roles.iter().find(|r| r.is_empty()) {
            return Err(Error::inventory(
                label(),
                format!("field `roles`: invalid role `{}`", quote(r)),
            ));
        }
        Ok(())
    }

    fn check_dataset(&self, d: &Dataset) -> Result<()> {
        let label = || format!("dataset `{}`", quote(&d.id));
        if !self.departments.contains_key(&d.owner) {
            return Err(Error::inventory(
                label(),
                format!("field `owner`: no department `{}`", quote(&d.owner)),
            ));
        }
        super::fields::check_fields(&label, d.personal_info, d.grade, &d.fields)?;
        if d.personal_info == PersonalInfo::Sensitive {
            if let Some(g) = d.grade {
                if g < Grade::L4 {
                    return Err(Error::inventory(
                        label(),
                        format!(
                            "field `grade`: `{g}` is too low for sensitive personal information, which is at least `L4`"
                        ),
                    ));
                }
            }
        }
        if d.cataloged && d.grade.is_none() {
            return Err(Error::inventory(
                label(),
                "field `cataloged`: an ungraded dataset cannot be in the catalogue (Art. 10)",
            ));
        }
        Ok(())
    }

    fn check_system(&self, s: &System) -> Result<()> {
        if !self.departments.contains_key(&s.owner) {
            return Err(Error::inventory(
                format!("system `{}`", quote(&s.id)),
                format!("field `owner`: no department `{}`", quote(&s.owner)),
            ));
        }
        Ok(())
    }

    /// Adds or replaces one record. On error nothing changes.
    pub fn upsert(&mut self, record: Record) -> Result<()> {
        if record.id().is_empty() {
            return Err(Error::inventory(record.kind().to_string(), "empty `id`"));
        }
        let mut next = self.clone();
        match record {
            Record::Department(d) => {
                next.departments.insert(d.id.clone(), Arc::new(d.clone()));
                // A new parent may close a cycle through any descendant.
                for dep in next.departments.values() {
                    next.check_department(dep)?;
                }
            }
            Record::Vendor(v) => {
                check_vendor(&v)?;
                next.vendors.insert(v.id.clone(), Arc::new(v));
            }
            Record::User(u) => {
                next.check_user(&u)?;
                next.users.insert(u.id.clone(), Arc::new(u));
            }
            Record::Dataset(d) => {
                next.check_dataset(&d)?;
                next.datasets.insert(d.id.clone(), Arc::new(d));
            }
            Record::System(s) => {
                next.check_system(&s)?;
                next.systems.insert(s.id.clone(), Arc::new(s));
            }
        }
        next.generation = next_generation();
        *self = next;
        Ok(())
    }

    /// Removes one record. A record that others refer to cannot be removed.
    pub fn remove(&mut self, kind: RecordKind, id: &str) -> Result<()> {
        let label = format!("{kind} `{}`", quote(id));
        let missing = || Error::UnknownEntity {
            kind: kind.as_str(),
            id: id.to_owned(),
        };
        match kind {
            RecordKind::Department => {
                if !self.departments.contains_key(id) {
                    return Err(missing());
                }
                let referrer = self
                    .departments
                    .values()
                    .find(|d| d.parent.as_deref() == Some(id))
                    .map(|d| format!("department `{}`", quote(&d.id)))
                    .or_else(|| {
                        self.users
                            .values()
                            .find(|u| u.department == id)
                            .map(|u| format!("user `{}`", quote(&u.id)))
                    })
                    .or_else(|| {
                        self.datasets
                            .values()
                            .find(|d| d.owner == id)
                            .map(|d| format!("dataset `{}`", quote(&d.id)))
                    })
                    .or_else(|| {
                        self.systems
                            .values()
                            .find(|s| s.owner == id)
                            .map(|s| format!("system `{}`", quote(&s.id)))
                    });
                if let Some(r) = referrer {
                    return Err(Error::inventory(label, format!("still referred to by {r}")));
                }
                self.departments.remove(id);
            }
            RecordKind::Vendor => {
                if !self.vendors.contains_key(id) {
                    return Err(missing());
                }
                if let Some(u) = self
                    .users
                    .values()
                    .find(|u| u.vendor.as_deref() == Some(id))
                {
                    return Err(Error::inventory(
                        label,
                        format!("still referred to by user `{}`", quote(&u.id)),
                    ));
                }
                self.vendors.remove(id);
            }
            RecordKind::User => {
                self.users.remove(id).ok_or_else(missing)?;
            }
            RecordKind::Dataset => {
                self.datasets.remove(id).ok_or_else(missing)?;
            }
            RecordKind::System => {
                self.systems.remove(id).ok_or_else(missing)?;
            }
        }
        self.generation = next_generation();
        Ok(())
    }

    /// A number that identifies this content: equal generations mean equal content.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// A department by id.
    pub fn department(&self, id: &str) -> Option<&Department> {
        self.departments.get(id).map(|r| &**r)
    }
    /// The department `id` and then its parents, nearest first, as far up as the
    /// inventory knows them (`id` itself comes first even when it is not known).
    pub fn department_and_parents<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a str> {
        std::iter::successors(Some(id), |d| {
            self.department(d).and_then(|d| d.parent.as_deref())
        })
        // Parents form no cycle in a validated inventory; the bound is a second guard.
        .take(MAX_DEPARTMENT_DEPTH)
    }
    /// Whether department `dept` is `root` or one of its sub-departments.
    pub fn is_within(&self, dept: &str, root: &str) -> bool {
        self.department_and_parents(dept).any(|d| d == root)
    }
    /// A vendor by id.
    pub fn vendor(&self, id: &str) -> Option<&Vendor> {
        self.vendors.get(id).map(|r| &**r)
    }
    /// A user by id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.get(id).map(|r| &**r)
    }
    /// A dataset by id.
    pub fn dataset(&self, id: &str) -> Option<&Dataset> {
        self.datasets.get(id).map(|r| &**r)
    }
    /// A system by id.
    pub fn system(&self, id: &str) -> Option<&System> {
        self.systems.get(id).map(|r| &**r)
    }

    /// All departments, in no particular order.
    pub fn departments(&self) -> impl Iterator<Item = &Department> {
        self.departments.values().map(|r| &**r)
    }
    /// All vendors, in no particular order.
    pub fn vendors(&self) -> impl Iterator<Item = &Vendor> {
        self.vendors.values().map(|r| &**r)
    }
    /// All users, in no particular order.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values().map(|r| &**r)
    }
    /// All datasets, in no particular order.
    pub fn datasets(&self) -> impl Iterator<Item = &Dataset> {
        self.datasets.values().map(|r| &**r)
    }
    /// All systems, in no particular order.
    pub fn systems(&self) -> impl Iterator<Item = &System> {
        self.systems.values().map(|r| &**r)
    }

    /// The inventory as JSON in the format it loads from, each list sorted by id.
    pub fn to_json(&self) -> Value {
        fn sorted<T: serde::Serialize>(map: &Map<T>) -> Value {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Array(
                keys.into_iter()
                    .filter_map(|k| map.get(k))
                    .filter_map(|r| serde_json::to_value(&**r).ok())
                    .collect(),
            )
        }
        serde_json::json!({
            "departments": sorted(&self.departments),
            "vendors": sorted(&self.vendors),
            "users": sorted(&self.users),
            "datasets": sorted(&self.datasets),
            "systems": sorted(&self.systems),
        })
    }
}

fn check_vendor(v: &Vendor) -> Result<()> {
    if let Some(r) = v.contract_roles.iter().flatten().find(|r| r.is_empty()) {
        return Err(Error::inventory(
            format!("vendor `{}`", quote(&v.id)),
            format!("field `contract_roles`: invalid role `{}`", quote(r)),
        ));
    }
    Ok(())
}

fn type_document(loose: LooseDocument) -> Result<TypedDocument> {
    fn each<T: DeserializeOwned>(kind: RecordKind, items: Vec<Value>) -> Result<Vec<T>> {
        items
            .iter()
            .enumerate()
            .map(|(i, v)| parse_record(kind, Some(i), v))
            .collect()
    }
    Ok(Document {
        departments: each(RecordKind::Department, loose.departments)?,
        vendors: each(RecordKind::Vendor, loose.vendors)?,
        users: each(RecordKind::User, loose.users)?,
        datasets: each(RecordKind::Dataset, loose.datasets)?,
        systems: each(RecordKind::System, loose.systems)?,
    })
}
