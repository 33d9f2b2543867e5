//! Plain Cedar over the same pack and inventory: the reference the engine is tested
//! and measured against (the `testing` feature), and the view explanations probe.

use super::{cedar, Request};
use crate::error::{Error, Result};
use crate::model::Inventory;
use crate::policy::PolicyPack;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Plain Cedar over the same pack and inventory: the whole policy set and a whole
/// entity store, as a Cedar user would evaluate them. The reference the engine is
/// tested and measured against.
pub struct PlainCedar {
    pub(super) pack: PolicyPack,
    pub(super) inventory: Arc<Inventory>,
    pub(super) entities: cedar_policy::Entities,
}

impl fmt::Debug for PlainCedar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainCedar")
            .field("pack", &self.pack)
            .finish()
    }
}

impl PlainCedar {
    /// Builds the Cedar request for `request` (the cost a Cedar user pays per request
    /// when the entity store is resident).
    pub fn cedar_request(&self, request: &Request) -> Result<cedar_policy::Request> {
        request.check_shape()?;
        let types = cedar::TypeNames::new()?;
        let action = cedar_policy::EntityUid::from_str(&format!("Action::\"{}\"", request.action))
            .map_err(|e| Error::request(e.to_string()))?;
        let mut cache = cedar::EntityCache::default();
        let input = cedar::to_cedar(request, &self.inventory, &types, &action, None, &mut cache)?;
        let request = input.request;
        let ctx = request
            .context()
            .cloned()
            .unwrap_or_else(cedar_policy::Context::empty);
        let (Some(p), Some(r)) = (request.principal().cloned(), request.resource().cloned()) else {
            return Err(Error::request(
                "internal: request without principal or resource",
            ));
        };
        cedar_policy::Request::new(p, action, r, ctx, Some(self.pack.cedar_schema()))
            .map_err(|e| Error::request(e.to_string()))
    }

    /// The whole entity store in Cedar's entities JSON format (parseable without a
    /// schema), for peers such as a Cedar binding in another language.
    pub fn entities_json(&self) -> Result<serde_json::Value> {
        self.entities
            .to_json_value()
            .map_err(|e| Error::inventory("store", e))
    }

    /// Every policy of the pack as Cedar text, in load order.
    #[cfg(feature = "testing")]
    pub fn policies_text(&self) -> String {
        let mut text = String::new();
        for p in self.pack.policies() {
            text.push_str(p.text());
            text.push('\n');
        }
        text
    }

    /// The Cedar request for `request` in the JSON form Cedar bindings take:
    /// `principal`, `action` and `resource` as entity uid strings, `context` as JSON.
    #[cfg(feature = "testing")]
    pub fn request_json(&self, request: &Request) -> Result<serde_json::Value> {
        let r = self.cedar_request(request)?;
        let uid = |u: Option<&cedar_policy::EntityUid>| {
            u.map(|u| serde_json::Value::String(u.to_string()))
                .unwrap_or(serde_json::Value::Null)
        };
        let context = match r.context() {
            Some(c) => c.to_json_value().map_err(Error::request)?,
            None => serde_json::Value::Object(serde_json::Map::new()),
        };
        Ok(serde_json::json!({
            "principal": uid(r.principal()),
            "action": uid(r.action()),
            "resource": uid(r.resource()),
            "context": context,
        }))
    }

    /// Plain Cedar's answer: `is_authorized` over the whole set and store.
    #[cfg(feature = "testing")]
    pub fn is_authorized(&self, request: &cedar_policy::Request) -> cedar_policy::Response {
        cedar_policy::Authorizer::new().is_authorized(
            request,
            self.pack.cedar_policy_set(),
            &self.entities,
        )
    }

    /// Whether plain Cedar allows `request`, with the policy ids behind its answer
    /// (sorted) and whether any policy failed to evaluate.
    #[cfg(feature = "testing")]
    pub fn decide(&self, request: &Request) -> Result<(bool, Vec<String>, bool)> {
        let r = self.cedar_request(request)?;
        let resp = self.is_authorized(&r);
        let mut ids: Vec<String> = resp
            .diagnostics()
            .reason()
            .map(|id| id.to_string())
            .collect();
        ids.sort();
        let errored = resp.diagnostics().errors().next().is_some();
        Ok((
            resp.decision() == cedar_policy::Decision::Allow,
            ids,
            errored,
        ))
    }
}
