//! The decision of the wire format (docs/FORMATS.md): allow or deny, the reasons with the
//! article behind each, the obligations the host must apply, the pack version and the
//! audit sequence number.

use crate::policy::Citation;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::sync::Arc;

/// The id of the reason given when no policy permits a request.
pub const DEFAULT_DENY: &str = "default-deny";
/// The id of the reason given when the engine could not evaluate a request.
pub const ENGINE_ERROR: &str = "engine-error";

/// The reason given when no policy permits a request.
pub(crate) const DEFAULT_DENY_CITATION: Citation = Citation::fixed(
    DEFAULT_DENY,
    "第三条",
    "最小授权：没有任何策略允许该操作，默认拒绝",
    "least privilege: no policy permits this request, so it is denied by default",
);

/// The reason given when the engine could not evaluate a request.
pub(crate) const ENGINE_ERROR_CITATION: Citation = Citation::fixed(
    ENGINE_ERROR,
    "第三条",
    "引擎无法完成判定，按失败即拒绝处理",
    "the engine could not evaluate the request, so it fails closed",
);

/// Why a decision came out as it did: one policy and the article behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub(crate) text: Arc<Citation>,
    pub(crate) error: Option<String>,
}

impl Reason {
    /// The policy id, or `default-deny` / `engine-error`.
    pub fn policy(&self) -> &str {
        self.text.policy()
    }
    /// The article, such as `第十七条`.
    pub fn article(&self) -> &str {
        self.text.article()
    }
    /// The rule in Chinese.
    pub fn zh(&self) -> &str {
        self.text.zh()
    }
    /// The rule in English.
    pub fn en(&self) -> &str {
        self.text.en()
    }
    /// What the reason cites: policy, article and rule.
    pub fn citation(&self) -> &Citation {
        &self.text
    }
    /// For a policy that failed to evaluate (which denies), the evaluation error.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("policy", self.policy())?;
        m.serialize_entry("article", self.article())?;
        m.serialize_entry("zh", self.zh())?;
        m.serialize_entry("en", self.en())?;
        if let Some(e) = &self.error {
            m.serialize_entry("error", e)?;
        }
        m.end()
    }
}

/// The outcome of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub(crate) allowed: bool,
    pub(crate) reasons: Vec<Reason>,
    pub(crate) obligations: Vec<String>,
    pub(crate) policy_version: Arc<str>,
    pub(crate) audit_seq: Option<u64>,
}

impl Decision {
    /// Whether the request is allowed.
    pub fn allowed(&self) -> bool {
        self.allowed
    }
    /// `"allow"` or `"deny"`.
    pub fn decision(&self) -> &'static str {
        if self.allowed {
            "allow"
        } else {
            "deny"
        }
    }
    /// The determining policies: the permits of an allow, the forbids of a deny, or
    /// `default-deny` when nothing permits.
    pub fn reasons(&self) -> &[Reason] {
        &self.reasons
    }
    /// The obligations the host must apply before acting on an allow.
    pub fn obligations(&self) -> &[String] {
        &self.obligations
    }
    /// The version (hash) of the policy pack that decided.
    pub fn policy_version(&self) -> &str {
        &self.policy_version
    }
    /// The sequence number of the audit record, when an audit log recorded the decision.
    pub fn audit_seq(&self) -> Option<u64> {
        self.audit_seq
    }
    /// The policy ids of the reasons.
    pub fn reason_ids(&self) -> Vec<&str> {
        self.reasons.iter().map(Reason::policy).collect()
    }
    /// The decision as JSON in the wire format.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
    /// The decision as a JSON string in the wire format.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"decision\":\"deny\"}"))
    }

    pub(crate) fn set_audit_seq(&mut self, seq: u64) {
        self.audit_seq = Some(seq);
    }
}

impl Serialize for Decision {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("decision", self.decision())?;
        m.serialize_entry("reasons", &self.reasons)?;
        m.serialize_entry("obligations", &self.obligations)?;
        m.serialize_entry("policy_version", &*self.policy_version)?;
        m.serialize_entry("audit_seq", &self.audit_seq)?;
        m.end()
    }
}

impl Decision {
    /// A deny that a procedure's own rule gives (a workflow step that no policy of the
    /// pack can see, such as the requester approving their own request).
    pub(crate) fn refusal(rule: &Citation, policy_version: &str) -> Decision {
        Decision {
            allowed: false,
            reasons: vec![Reason {
                text: Arc::new(rule.clone()),
                error: None,
            }],
            obligations: Vec::new(),
            policy_version: Arc::from(policy_version),
            audit_seq: None,
        }
    }
}
