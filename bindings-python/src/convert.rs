//! Python values into the core's types, through the core's own serde definitions
//! (`pythonize`): the binding adds no parsing rules of its own, so a dict is accepted
//! or rejected exactly as the same JSON would be.

use crate::error::{inventory_invalid, request_invalid};
use govdata::engine::{Context, Resource};
use govdata::model::{Inventory, Record, RecordKind};
use govdata::{Action, Error, PolicyPack, Request};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::path::{Path, PathBuf};

type CoreResult<T> = Result<T, Error>;

/// A request given as a mapping in the wire format.
pub fn request(obj: &Bound<'_, PyAny>) -> CoreResult<Request> {
    crate::de::from_py::<Request>(obj).map_err(request_invalid)
}

/// A request given as its four parts (keyword form).
pub fn request_from_parts(
    principal: Option<&Bound<'_, PyAny>>,
    action: Option<&Bound<'_, PyAny>>,
    resource: Option<&Bound<'_, PyAny>>,
    context: Option<&Bound<'_, PyAny>>,
) -> CoreResult<Request> {
    let principal = principal.ok_or_else(|| request_invalid("missing field `principal`"))?;
    let principal: String =
        crate::de::from_py(principal).map_err(|e| request_invalid(format!("`principal`: {e}")))?;
    let action = self::action(action.ok_or_else(|| request_invalid("missing field `action`"))?)?;
    let resource =
        self::resource(resource.ok_or_else(|| request_invalid("missing field `resource`"))?)?;
    let context = self::context(context)?;
    Ok(Request {
        principal,
        action,
        resource,
        context,
    })
}

/// An action name.
pub fn action(obj: &Bound<'_, PyAny>) -> CoreResult<Action> {
    crate::de::from_py::<Action>(obj).map_err(|e| request_invalid(format!("`action`: {e}")))
}

/// A resource: a dataset id, or a mapping `{"type": ..., "id": ...}`.
pub fn resource(obj: &Bound<'_, PyAny>) -> CoreResult<Resource> {
    crate::de::from_py::<Resource>(obj).map_err(|e| request_invalid(format!("`resource`: {e}")))
}

/// A context mapping; `None` is the empty context.
pub fn context(obj: Option<&Bound<'_, PyAny>>) -> CoreResult<Context> {
    match obj {
        None => Ok(Context::default()),
        Some(o) if o.is_none() => Ok(Context::default()),
        Some(o) => {
            crate::de::from_py::<Context>(o).map_err(|e| request_invalid(format!("`context`: {e}")))
        }
    }
}

/// An inventory record kind: `department`, `vendor`, `user`, `dataset`, `system`.
pub fn record_kind(kind: &str) -> CoreResult<RecordKind> {
    kind.parse::<RecordKind>()
}

/// One inventory record of `kind`, given as a mapping.
pub fn record(kind: RecordKind, obj: &Bound<'_, PyAny>) -> CoreResult<Record> {
    let value: serde_json::Value = crate::de::from_py(obj)
        .map_err(|e| inventory_invalid(kind, format!("not a JSON object: {e}")))?;
    Record::from_json(kind, &value)
}

/// Where an inventory comes from: a file path or an inventory mapping.
#[derive(Debug)]
pub enum InventorySource {
    /// A JSON file.
    File(PathBuf),
    /// An inventory document.
    Value(serde_json::Value),
}

impl InventorySource {
    /// Reads the argument (with the GIL held).
    pub fn extract(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyDict>() {
            let value: serde_json::Value = crate::de::from_py(obj).map_err(|e| {
                crate::error::to_py(inventory_invalid("document", format!("not JSON: {e}")))
            })?;
            return Ok(InventorySource::Value(value));
        }
        Ok(InventorySource::File(obj.extract::<PathBuf>()?))
    }

    /// Loads and validates the inventory (without the GIL).
    pub fn load(&self) -> CoreResult<Inventory> {
        match self {
            InventorySource::File(p) => Inventory::from_file(p),
            InventorySource::Value(v) => Inventory::from_json(v),
        }
    }
}

/// Where a policy pack comes from: one directory or several.
#[derive(Debug)]
pub struct PolicySource(Vec<PathBuf>);

impl PolicySource {
    /// Reads the argument: a path, or a list or tuple of paths (with the GIL held).
    pub fn extract(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
            return Ok(PolicySource(obj.extract::<Vec<PathBuf>>()?));
        }
        if obj.is_instance_of::<PyString>() {
            return Ok(PolicySource(vec![obj.extract::<PathBuf>()?]));
        }
        Ok(PolicySource(vec![obj.extract::<PathBuf>()?]))
    }

    /// The directories.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.0
    }

    /// Loads and validates the pack (without the GIL).
    pub fn load(&self) -> CoreResult<PolicyPack> {
        let dirs: Vec<&Path> = self.0.iter().map(PathBuf::as_path).collect();
        PolicyPack::from_dirs(&dirs)
    }
}

/// A number of seconds (a wait, a timeout) as a duration.
pub fn seconds(value: f64, what: &str) -> CoreResult<std::time::Duration> {
    std::time::Duration::try_from_secs_f64(value).map_err(|_| {
        request_invalid(format!(
            "`{what}` must be a non-negative number of seconds, not {value}"
        ))
    })
}
