//! Who may operate keys (a `manage_keys` decision) and what is recorded when they do.

use crate::engine::Resource;
use crate::error::{Error, Result};
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// The user who performs a key operation, with a second key administrator where the
/// policies demand dual control (important and core data, Art. 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    id: String,
    witness: Option<String>,
}

impl Operator {
    /// A user by inventory id.
    pub fn new(id: impl Into<String>) -> Self {
        Operator {
            id: id.into(),
            witness: None,
        }
    }

    /// Adds the second user of a dual-control operation.
    pub fn with_witness(mut self, witness: impl Into<String>) -> Self {
        self.witness = Some(witness.into());
        self
    }

    /// The acting user.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The witness, if any.
    pub fn witness(&self) -> Option<&str> {
        self.witness.as_deref()
    }
}

/// An allowed key operation: the policy version that allowed it, the decision's audit
/// sequence number and the obligations that came with it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Authorization {
    /// Whether the policies allow it.
    pub allowed: bool,
    /// The deciding policies' ids (for a refusal message).
    pub reasons: Vec<String>,
    /// The obligations the caller must meet (`dual_control`).
    pub obligations: Vec<String>,
    /// The hash of the policy pack that decided.
    pub policy_version: String,
    /// The audit sequence number of the decision, if the engine recorded it.
    pub audit_seq: Option<u64>,
}

/// Decides whether a user may manage the keys of a resource (`manage_keys`): the
/// vault's port to the policies. The engine implements it (in the composition root,
/// `platform`) with the loaded policy pack.
pub trait KeyAuthorizer: Send + Sync {
    /// The decision for `principal` doing `manage_keys` on `resource`.
    fn authorize_keys(&self, principal: &str, resource: &Resource) -> Result<Authorization>;
}

impl<T: KeyAuthorizer + ?Sized> KeyAuthorizer for Arc<T> {
    fn authorize_keys(&self, principal: &str, resource: &Resource) -> Result<Authorization> {
        (**self).authorize_keys(principal, resource)
    }
}

fn resource_name(resource: &Resource) -> String {
    format!("{} {}", resource.kind.as_str(), resource.id)
}

/// Asks the authorizer, and meets the obligations the vault can meet: `dual_control`
/// needs a witness, another user whom the policies also allow. Any other obligation
/// cannot be met by the vault, so the operation is refused.
pub(crate) fn authorize(
    authorizer: &dyn KeyAuthorizer,
    operator: &Operator,
    resource: &Resource,
) -> Result<Authorization> {
    let denied = |principal: &str, message: String| Error::AccessDenied {
        principal: principal.to_owned(),
        action: "manage_keys".into(),
        resource: resource_name(resource),
        message,
    };
    let auth = authorizer.authorize_keys(operator.id(), resource)?;
    if !auth.allowed {
        return Err(denied(
            operator.id(),
            format!("denied by {}", auth.reasons.join(", ")),
        ));
    }
    for obligation in &auth.obligations {
        match obligation.as_str() {
            "dual_control" => {
                let Some(witness) = operator.witness() else {
                    return Err(denied(
                        operator.id(),
                        "dual control: a second key administrator must witness this operation"
                            .into(),
                    ));
                };
                if witness == operator.id() {
                    return Err(denied(
                        operator.id(),
                        "dual control: the witness must be another user".into(),
                    ));
                }
                let second = authorizer.authorize_keys(witness, resource)?;
                if !second.allowed {
                    return Err(denied(
                        witness,
                        format!(
                            "dual control: the witness is denied by {}",
                            second.reasons.join(", ")
                        ),
                    ));
                }
            }
            other => {
                return Err(denied(
                    operator.id(),
                    format!(
                        "the obligation `{}` cannot be met by the vault",
                        crate::quote::quote(other)
                    ),
                ))
            }
        }
    }
    Ok(auth)
}

/// The kinds of key operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyOperation {
    /// A key store was created.
    InitStore,
    /// A dataset's first data key was made.
    CreateKey,
    /// A dataset's data key was replaced by a new version.
    RotateKey,
    /// Every data key was rewrapped under a new master key.
    RotateMasterKey,
    /// A dataset's data keys were destroyed (crypto-shredding, Art. 15).
    Shred,
}

impl KeyOperation {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyOperation::InitStore => "init_store",
            KeyOperation::CreateKey => "create_key",
            KeyOperation::RotateKey => "rotate_key",
            KeyOperation::RotateMasterKey => "rotate_master_key",
            KeyOperation::Shred => "shred",
        }
    }
}

/// One key operation as the audit log records it. Holds ids and names, never key
/// material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyEvent {
    /// When, in seconds since the Unix epoch.
    pub time: u64,
    /// What was done.
    pub operation: KeyOperation,
    /// The dataset, for per-dataset operations.
    pub dataset: Option<String>,
    /// The data keys made or destroyed.
    pub key_ids: Vec<String>,
    /// Who did it.
    pub operator: String,
    /// Who witnessed it (dual control).
    pub witness: Option<String>,
    /// The policy pack that allowed it.
    pub policy_version: String,
    /// The audit sequence number of the `manage_keys` decision, if it was recorded.
    pub decision_seq: Option<u64>,
    /// The fingerprint of the master key the store is sealed by afterwards.
    pub master_key_id: String,
}

/// Receives key events (the audit log implements it). An error refuses the operation.
pub trait KeyEventSink: Send + Sync {
    /// Records the event and returns its sequence number.
    fn record_key_event(&self, event: &KeyEvent) -> Result<u64>;
}

/// A sink that keeps key events in memory: for tests and for hosts without an audit
/// log yet.
#[derive(Debug, Default)]
pub struct MemoryKeyEventSink {
    events: Mutex<Vec<KeyEvent>>,
}

impl MemoryKeyEventSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the events recorded so far, oldest first.
    pub fn events(&self) -> Vec<KeyEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl KeyEventSink for MemoryKeyEventSink {
    fn record_key_event(&self, event: &KeyEvent) -> Result<u64> {
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        events.push(event.clone());
        Ok(events.len() as u64)
    }
}
