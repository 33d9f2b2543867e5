//! `Platform.open(path)`: one node opened from its `govdata.toml` by the core's
//! composition root. The binding wires nothing itself: it hands out the parts the core
//! opened and connected, as the classes a service already knows.

use crate::audit::AuditLog;
use crate::error::{guard, to_js, Result};
use crate::vault::Vault;
use crate::workflows::Workflows;
use crate::Engine;
use napi::bindgen_prelude::{Env, Unknown};
use napi_derive::napi;
use std::sync::Arc;

/// One node of the platform: its engine, audit log, procedures and vault, opened from
/// one `govdata.toml` and wired once.
#[napi]
pub struct Platform {
    inner: Arc<govdata::Platform>,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("node_id", &self.inner.node_id())
            .finish_non_exhaustive()
    }
}

#[napi]
impl Platform {
    /// Opens the node that the configuration file at `path` describes (on the calling
    /// thread: the procedures are rebuilt from the log).
    #[napi(factory, catch_unwind)]
    pub fn open(path: String) -> Result<Self> {
        guard(|| {
            Ok(Platform {
                inner: Arc::new(govdata::Platform::open(&path).map_err(to_js)?),
            })
        })
    }

    /// The node's id.
    #[napi(getter, catch_unwind)]
    pub fn node_id(&self) -> Result<String> {
        guard(|| Ok(self.inner.node_id().to_owned()))
    }

    /// The engine, recording into the node's audit log when it keeps one (a new
    /// handle on the same engine at each call).
    #[napi(catch_unwind)]
    pub fn engine(&self, env: Env) -> Result<Engine> {
        guard(|| Engine::from_shared(&env, self.inner.engine().clone()))
    }

    /// The audit log, or `null` when the configuration has no `[audit]` section.
    #[napi(catch_unwind)]
    pub fn audit_log(&self) -> Result<Option<AuditLog>> {
        guard(|| {
            Ok(self
                .inner
                .audit_log()
                .map(|l| AuditLog { inner: l.clone() }))
        })
    }

    /// The sharing and destruction procedures (they need the audit log), or `null`.
    #[napi(catch_unwind)]
    pub fn workflows(&self) -> Result<Option<Workflows>> {
        guard(|| Ok(self.inner.workflows().cloned().map(Workflows::from_shared)))
    }

    /// The vault, or `null` when the configuration has no `[vault]` section.
    #[napi(catch_unwind)]
    pub fn vault(&self) -> Result<Option<Vault>> {
        guard(|| Ok(self.inner.vault().map(|v| Vault { inner: v.clone() })))
    }

    /// What the node reports about itself: `node_id`, `policy_version`, `audit`,
    /// `vault`.
    #[napi(catch_unwind, ts_return_type = "PlatformStatus")]
    pub fn status<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        guard(|| crate::convert::serialized(env, &self.inner.status()))
    }

    /// Syncs and closes the audit log, letting go of its lock.
    #[napi(catch_unwind)]
    pub fn close(&self) -> Result<()> {
        guard(|| self.inner.close().map_err(to_js))
    }
}
