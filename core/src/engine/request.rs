//! The request of the wire format (docs/FORMATS.md): who asks to do what to which resource,
//! with which context. Parsing is strict: an unknown field or a value of the wrong
//! type is `request_invalid`.

use crate::error::{Error, Result};
use crate::model::{Action, ResourceKind, ScenarioRisk};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A request for a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The id of the acting user.
    pub principal: String,
    /// The action asked for.
    pub action: Action,
    /// The resource acted on.
    pub resource: Resource,
    /// The context of the request.
    #[serde(default, deserialize_with = "map_only")]
    pub context: Context,
}

/// The resource of a request: a dataset, a system or the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource {
    /// The type of resource.
    pub kind: ResourceKind,
    /// Its id.
    pub id: String,
}

impl Resource {
    /// A dataset by id.
    pub fn dataset(id: impl Into<String>) -> Self {
        Resource {
            kind: ResourceKind::Dataset,
            id: id.into(),
        }
    }
    /// A system by id.
    pub fn system(id: impl Into<String>) -> Self {
        Resource {
            kind: ResourceKind::System,
            id: id.into(),
        }
    }
    /// The audit log by id (the platform's is `main`).
    pub fn audit_log(id: impl Into<String>) -> Self {
        Resource {
            kind: ResourceKind::AuditLog,
            id: id.into(),
        }
    }
}

impl Serialize for Resource {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if self.kind == ResourceKind::Dataset {
            return s.serialize_str(&self.id);
        }
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", self.kind.as_str())?;
        m.serialize_entry("id", &self.id)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Resource;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a dataset id or an object {\"type\": \"System\" | \"AuditLog\" | \"Dataset\", \"id\": ...}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Resource, E> {
                Ok(Resource::dataset(v))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Resource, A::Error> {
                let mut kind: Option<String> = None;
                let mut id: Option<String> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "type" => kind = Some(map.next_value()?),
                        "id" => id = Some(map.next_value()?),
                        other => {
                            return Err(de::Error::unknown_field(other, &["type", "id"]));
                        }
                    }
                }
                let kind = kind.ok_or_else(|| de::Error::missing_field("type"))?;
                let id = id.ok_or_else(|| de::Error::missing_field("id"))?;
                let kind: ResourceKind = kind.parse().map_err(de::Error::custom)?;
                Ok(Resource { kind, id })
            }
        }
        d.deserialize_any(V)
    }
}

/// Deserializes a struct from a JSON object only (serde would also take an array).
fn map_only<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<T, D::Error> {
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<T, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(V(std::marker::PhantomData))
}

fn some_map<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    map_only(d).map(Some)
}

/// The channel a transmission uses (Art. 6, 11).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// The channel is encrypted.
    #[serde(default)]
    pub encrypted: bool,
    /// Both ends are authenticated.
    #[serde(default)]
    pub authenticated: bool,
    /// The payload carries an integrity check.
    #[serde(default)]
    pub integrity_checked: bool,
}

/// The context of a request; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// The declared purpose (Art. 9, 13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The legal basis (Art. 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    /// The intended use (Art. 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intended_use: Option<String>,
    /// The risk level of the usage scenario (Art. 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_risk: Option<ScenarioRisk>,
    /// The transmission channel (Art. 6, 11).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_map"
    )]
    pub channel: Option<Channel>,
    /// A workflow approval id; the engine resolves it and never trusts it as a claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
    /// The user who would receive a right (Art. 17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grantee: Option<String>,
    /// The department that would receive shared data (Art. 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_department: Option<String>,
    /// The department whose audit trail is reviewed (Art. 18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_department: Option<String>,
}

impl Request {
    /// A request with an empty context.
    pub fn new(principal: impl Into<String>, action: Action, resource: Resource) -> Self {
        Request {
            principal: principal.into(),
            action,
            resource,
            context: Context::default(),
        }
    }

    /// Parses a request from its JSON text.
    pub fn from_json_str(json: &str) -> Result<Self> {
        let mut de = serde_json::Deserializer::from_str(json);
        let request: Request = map_only(&mut de).map_err(Error::request)?;
        de.end().map_err(Error::request)?;
        Ok(request)
    }

    /// Parses a request from a JSON value.
    pub fn from_json(value: &serde_json::Value) -> Result<Self> {
        map_only(value).map_err(Error::request)
    }

    /// The request as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Checks what parsing cannot: the action applies to the resource type, and no id is empty.
    pub(crate) fn check_shape(&self) -> Result<()> {
        if self.principal.is_empty() {
            return Err(Error::request("`principal` is empty"));
        }
        if self.resource.id.is_empty() {
            return Err(Error::request("`resource` id is empty"));
        }
        if !self.action.applies_to(self.resource.kind) {
            let kinds: Vec<&str> = self
                .action
                .resource_kinds()
                .iter()
                .map(|k| k.as_str())
                .collect();
            return Err(Error::request(format!(
                "action `{}` does not apply to a {}; it applies to: {}",
                self.action,
                self.resource.kind,
                kinds.join(", ")
            )));
        }
        Ok(())
    }
}
