//! The adapters between the parts: each implements one part's port with another
//! part, here in the composition root, so that the engine, the audit log, the vault
//! and the procedures never import one another to implement a port.
//!
//! | port (owned by) | implemented by |
//! |---|---|
//! | [`DecisionSink`] (engine) | the audit log: a decision becomes a record, within the log's scope |
//! | [`KeyEventSink`] (vault) | the audit log: a key operation becomes a `key.<operation>` record |
//! | [`KeyAuthorizer`] (vault) | the engine: a `manage_keys` decision |
//! | [`Shredder`] (procedures) | the vault: crypto-shredding as a destruction's execution |

use crate::audit::{AuditLog, Event};
use crate::engine::{Decision, DecisionSink, Engine, Request, Resource};
use crate::error::Result;
use crate::model::{Action, Inventory};
use crate::vault::{Authorization, KeyAuthorizer, KeyEvent, KeyEventSink, Operator, Vault};
use crate::workflow::Shredder;

/// The log as the engine's sink records the decisions its scope names
/// ([`RecordScope`](crate::audit::RecordScope)).
impl DecisionSink for AuditLog {
    fn record(
        &self,
        request: &Request,
        inventory: &Inventory,
        decision: &Decision,
    ) -> Result<Option<u64>> {
        if !self.scope().records(request.action, decision.allowed()) {
            return Ok(None);
        }
        self.record_decision(request, inventory, decision).map(Some)
    }
}

/// Key events (creation, rotation, shredding — Art. 7, 15) become audit records of
/// kind `key.<operation>`, with the key ids, operator, witness and master key id;
/// never key material.
impl KeyEventSink for AuditLog {
    fn record_key_event(&self, event: &KeyEvent) -> Result<u64> {
        let mut e = Event::new(format!("key.{}", event.operation.as_str()))
            .user(event.operator.clone())
            .action(Action::ManageKeys)
            .field("key_ids", event.key_ids.clone())
            .field("policy_version", event.policy_version.clone())
            .field("master_key_id", event.master_key_id.clone())
            .field("time_unix", event.time);
        if let Some(d) = &event.dataset {
            e = e.resource(Resource::dataset(d.clone()));
        }
        if let Some(w) = &event.witness {
            e = e.field("witness", w.clone());
        }
        if let Some(seq) = event.decision_seq {
            e = e.field("decision_seq", seq);
        }
        self.append(&e)
    }
}

/// The engine authorizes key operations with the loaded pack: a `manage_keys`
/// decision, recorded like any other when the engine has a sink.
impl KeyAuthorizer for Engine {
    fn authorize_keys(&self, principal: &str, resource: &Resource) -> Result<Authorization> {
        let request = Request::new(principal, Action::ManageKeys, resource.clone());
        let d = self.decide(&request)?;
        Ok(Authorization {
            allowed: d.allowed(),
            reasons: d.reason_ids().into_iter().map(str::to_owned).collect(),
            obligations: d.obligations().to_vec(),
            policy_version: d.policy_version().to_owned(),
            audit_seq: d.audit_seq(),
        })
    }
}

/// Crypto-erasure through the vault: its shred destroys every copy of the dataset's
/// data keys (the live store and its backups), itself a `manage_keys` decision for
/// `operator` (and `witness`, under dual control) and a key event.
impl Shredder for Vault {
    fn shred(&self, dataset: &str, operator: &str, witness: Option<&str>) -> Result<Vec<String>> {
        let mut op = Operator::new(operator);
        if let Some(w) = witness {
            op = op.with_witness(w);
        }
        Ok(Vault::shred(self, &op, dataset)?.key_ids)
    }
}
