//! Test doubles of the procedures' ports (the `testing` feature).

use super::Shredder;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A shredder over keys held in memory: for tests and demonstrations without a vault.
#[derive(Debug, Default)]
pub struct MemoryShredder {
    keys: Mutex<BTreeMap<String, Vec<String>>>,
}

impl MemoryShredder {
    /// A shredder holding no key.
    pub fn new() -> Self {
        MemoryShredder::default()
    }

    /// Adds a data key for `dataset`.
    pub fn add_key(&self, dataset: &str, key_id: &str) {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.entry(dataset.to_owned())
            .or_default()
            .push(key_id.to_owned());
    }

    /// The live keys of `dataset`.
    pub fn keys(&self, dataset: &str) -> Vec<String> {
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.get(dataset).cloned().unwrap_or_default()
    }
}

impl Shredder for MemoryShredder {
    fn shred(&self, dataset: &str, _operator: &str, _witness: Option<&str>) -> Result<Vec<String>> {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        match keys.remove(dataset) {
            Some(ids) if !ids.is_empty() => Ok(ids),
            _ => Err(Error::KeyNotFound {
                id: dataset.to_owned(),
            }),
        }
    }
}
