//! Conversions between JavaScript values and the core's types.
//!
//! Inputs cross as JSON text: the value is serialised by V8's own `JSON.stringify`
//! (held by reference, one call) and parsed by the core's strict parser, so an
//! unknown field or a value of the wrong type is `request_invalid` exactly as in every
//! other language. This is the fastest path measured (see `benches/RESULTS-node.md`):
//! walking the object through napi property by property costs several times more.
//! For a batch, the text is parsed on the thread pool, off the event loop.
//!
//! Decisions are written through the core's own `Serialize` into JavaScript objects,
//! so the object a caller gets is the wire format by construction. `engine.decide`
//! takes a faster road to the same object ([`DecisionCache`]): a decision that holds
//! nothing of its request is made once per outcome of the pack, deeply frozen, and
//! handed out again, which cuts nearly all of the cost of crossing back. Every
//! decision object the module hands out is deeply frozen, whichever road made it.

use crate::error::{invalid_argument, request_invalid, to_js, JsError, Result};
use govdata::engine::Context;
use govdata::{Decision, Request, Resource};
use napi::bindgen_prelude::{
    Env, FromNapiValue, Function, FunctionRef, JsObjectValue, JsValue, Null, Object, ObjectRef,
    Unknown,
};
use napi::{sys, ValueType};
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::collections::HashMap;

fn napi_failure(e: napi::Error) -> JsError {
    invalid_argument(e.reason)
}

/// `JSON.stringify`, looked up once per engine.
pub struct Stringify(FunctionRef<sys::napi_value, Option<String>>);

impl std::fmt::Debug for Stringify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON.stringify")
    }
}

impl Stringify {
    /// Looks `JSON.stringify` up in the global object of `env`.
    pub fn new(env: &Env) -> Result<Self> {
        let json: Object<'_> = env
            .get_global()
            .and_then(|g| g.get_named_property("JSON"))
            .map_err(napi_failure)?;
        let stringify: Function<'_, sys::napi_value, Option<String>> =
            json.get_named_property("stringify").map_err(napi_failure)?;
        Ok(Stringify(stringify.create_ref().map_err(napi_failure)?))
    }

    /// The JSON text of `value`; `None` for a value JSON cannot express
    /// (`undefined`, a function). A value that `JSON.stringify` refuses (a cycle, a
    /// BigInt) is an error of `bad`.
    pub fn text(
        &self,
        env: &Env,
        value: &Unknown<'_>,
        bad: impl FnOnce(String) -> JsError,
    ) -> Result<Option<String>> {
        let stringify = self.0.borrow_back(env).map_err(napi_failure)?;
        stringify.call(value.raw()).map_err(|e| bad(e.reason))
    }

    /// Parses `value` into `T` through its JSON text; a failure is an error of `bad`.
    pub fn parse<T: DeserializeOwned>(
        &self,
        env: &Env,
        value: &Unknown<'_>,
        bad: impl Fn(String) -> JsError,
    ) -> Result<T> {
        let text = self
            .text(env, value, &bad)?
            .ok_or_else(|| bad("expected a JSON value, got `undefined`".into()))?;
        serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
    }

    /// A request from its JavaScript object.
    pub fn request(&self, env: &Env, value: &Unknown<'_>) -> Result<Request> {
        match self.text(env, value, request_invalid)? {
            Some(text) => Request::from_json_str(&text).map_err(to_js),
            None => Err(request_invalid(
                "a request must be an object, got `undefined`",
            )),
        }
    }
}

/// Whether a value is `undefined` or `null`.
pub fn is_nullish(value: &Unknown<'_>) -> Result<bool> {
    let ty = value.get_type().map_err(napi_failure)?;
    Ok(matches!(ty, ValueType::Undefined | ValueType::Null))
}

/// Checks that `value` is an array.
pub fn expect_array(value: &Unknown<'_>, what: &str) -> Result<()> {
    if value.is_array().map_err(napi_failure)? {
        Ok(())
    } else {
        Err(invalid_argument(format!("`{what}` must be an array")))
    }
}

/// One entry of a batch: the request, or why it could not be read.
pub type Entry = std::result::Result<Request, JsError>;

/// The requests of a batch from the JSON text of their array, each read on its own
/// so that one malformed request does not cost the others their decision.
pub fn parse_batch(text: &str) -> Result<Vec<Entry>> {
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(text)
        .map_err(|e| invalid_argument(format!("`requests` must be an array: {e}")))?;
    Ok(items
        .into_iter()
        .map(|raw| Request::from_json_str(raw.get()).map_err(to_js))
        .collect())
}

/// The context argument of `allowedResources` (absent means empty).
pub fn context(stringify: &Stringify, env: &Env, value: Option<Unknown<'_>>) -> Result<Context> {
    match value {
        Some(value) if !is_nullish(&value)? => {
            stringify.parse(env, &value, |m| request_invalid(format!("`context`: {m}")))
        }
        _ => Ok(Context::default()),
    }
}

/// The resources argument of `allowedResources`.
pub fn resource_list(
    stringify: &Stringify,
    env: &Env,
    value: &Unknown<'_>,
) -> Result<Vec<Resource>> {
    expect_array(value, "resources")?;
    stringify.parse(env, value, |m| request_invalid(format!("`resources`: {m}")))
}

/// A decision as a deeply frozen object in the wire format, like every decision
/// the module hands out (see [`DecisionCache`]).
pub fn decision<'env>(env: &'env Env, decision: &Decision) -> Result<Unknown<'env>> {
    let frozen = || -> napi::Result<Unknown<'env>> {
        let mut object = Object::from_unknown(env.to_js_value(decision)?)?;
        let mut reasons: Object<'env> = object.get_named_property("reasons")?;
        for i in 0..decision.reasons().len() as u32 {
            reasons.get_element::<Object<'env>>(i)?.freeze()?;
        }
        reasons.freeze()?;
        object
            .get_named_property::<Object<'env>>("obligations")?
            .freeze()?;
        object.freeze()?;
        Ok(object.to_unknown())
    };
    frozen().map_err(napi_failure)
}

/// The slots of a [`DecisionCache`]'s table that hold its fixed values.
const VERSION: u32 = 0;
const ALLOW: u32 = 1;
const DENY: u32 = 2;
const NULL: u32 = 3;
/// The keys of a decision object, in the wire format's order, from this slot on.
const KEYS: u32 = 4;
const KEY_NAMES: [&str; 5] = [
    "decision",
    "reasons",
    "obligations",
    "policy_version",
    "audit_seq",
];
/// The reason objects, from this slot on.
const REASONS: u32 = KEYS + KEY_NAMES.len() as u32;
/// How many decision objects a pack's table keeps; when full, it starts afresh.
/// A pack has far fewer outcomes in practice (one per set of determining policies
/// and obligations), so the bound only matters against an unusual pack.
const OUTCOMES: u32 = 1024;

/// The JavaScript values of one policy pack's decisions, made once: the pack's
/// version string, `'allow'`, `'deny'` and `null`, the keys of a decision object, one
/// frozen reason object per policy (its text is the pack's, so it is the same in
/// every decision), and one frozen decision object per outcome.
///
/// A decision holds nothing of its request unless an audit log recorded it (its
/// `audit_seq`) or a policy failed to evaluate (the error in its reason): otherwise
/// its content follows from its outcome alone — allow or deny, the determining
/// policies, the obligations — and the pack. Such a decision is made once per
/// outcome, deeply frozen, and handed out again for every later request with the
/// same outcome, which makes building it nearly free. A recorded decision, or one
/// with an evaluation error, is made afresh from the shared values, and frozen too,
/// so every decision is an immutable value whichever way it was made.
///
/// The values live in JavaScript arrays held by reference; a decision of another
/// pack (after a reload) replaces the table. [`DecisionCache::clear`] releases it
/// when the engine is collected.
#[derive(Default)]
pub struct DecisionCache(RefCell<Option<Table>>);

struct Table {
    version: String,
    values: ObjectRef<false>,
    /// Policy id → slot of its reason object.
    reasons: HashMap<String, u32>,
    next: u32,
    /// The decision objects made so far, in one array (made at the first).
    decisions: Option<ObjectRef<false>>,
    /// Hash of an outcome → the outcomes with that hash and their slots in `decisions`.
    outcomes: HashMap<u64, Vec<Outcome>>,
    /// How many slots of `decisions` are taken.
    taken: u32,
}

/// What a decision object without request-specific content depends on.
struct Outcome {
    allowed: bool,
    policies: Vec<String>,
    obligations: Vec<String>,
    slot: u32,
}

impl Outcome {
    fn of(decision: &Decision) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        decision.allowed().hash(&mut h);
        decision.reasons().len().hash(&mut h);
        for reason in decision.reasons() {
            reason.policy().hash(&mut h);
        }
        decision.obligations().hash(&mut h);
        h.finish()
    }

    fn matches(&self, decision: &Decision) -> bool {
        self.allowed == decision.allowed()
            && self
                .policies
                .iter()
                .map(String::as_str)
                .eq(decision.reasons().iter().map(|r| r.policy()))
            && self.obligations == decision.obligations()
    }
}

impl Table {
    fn release(self, env: &Env) -> napi::Result<()> {
        self.values.unref(env)?;
        match self.decisions {
            Some(decisions) => decisions.unref(env),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for DecisionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecisionCache")
    }
}

/// Whether a decision's content follows from its outcome and pack alone.
fn shareable(decision: &Decision) -> bool {
    decision.audit_seq().is_none() && decision.reasons().iter().all(|r| r.error().is_none())
}

impl DecisionCache {
    /// Releases the table (the engine is being collected).
    pub fn clear(&self, env: &Env) -> napi::Result<()> {
        match self.0.borrow_mut().take() {
            Some(table) => table.release(env),
            None => Ok(()),
        }
    }

    /// A decision as a frozen object in the wire format, like [`decision`], made of
    /// the shared values of its pack: the same object for every decision with the
    /// same outcome, unless it holds something of its own request.
    pub fn decision<'env>(&self, env: &'env Env, decision: &Decision) -> Result<Unknown<'env>> {
        self.get(env, decision).map_err(napi_failure)
    }

    fn table(&self, env: &Env, version: &str) -> napi::Result<()> {
        let mut slot = self.0.borrow_mut();
        if slot.as_ref().is_some_and(|t| t.version == version) {
            return Ok(());
        }
        if let Some(old) = slot.take() {
            old.release(env)?;
        }
        let mut values = env.create_array(REASONS)?;
        values.set(VERSION, version)?;
        values.set(ALLOW, "allow")?;
        values.set(DENY, "deny")?;
        values.set(NULL, Null)?;
        for (i, key) in KEY_NAMES.iter().enumerate() {
            values.set(KEYS + i as u32, *key)?;
        }
        let values = values.coerce_to_object()?.create_ref::<false>()?;
        *slot = Some(Table {
            version: version.to_owned(),
            values,
            reasons: HashMap::new(),
            next: REASONS,
            decisions: None,
            outcomes: HashMap::new(),
            taken: 0,
        });
        Ok(())
    }

    fn get<'env>(&self, env: &'env Env, decision: &Decision) -> napi::Result<Unknown<'env>> {
        self.table(env, decision.policy_version())?;
        let mut slot = self.0.borrow_mut();
        let Some(table) = slot.as_mut() else {
            return Err(napi::Error::from_reason("the decision table is missing"));
        };
        if !shareable(decision) {
            return build(env, table, decision);
        }
        let hash = Outcome::of(decision);
        if let (Some(decisions), Some(found)) = (
            table.decisions.as_ref(),
            table
                .outcomes
                .get(&hash)
                .and_then(|o| o.iter().find(|o| o.matches(decision))),
        ) {
            return decisions
                .get_value(env)?
                .get_element::<Unknown<'env>>(found.slot);
        }
        let object = build(env, table, decision)?;
        if table.taken == OUTCOMES {
            if let Some(old) = table.decisions.take() {
                old.unref(env)?;
            }
            table.outcomes.clear();
            table.taken = 0;
        }
        let mut decisions = match table.decisions.as_ref() {
            Some(decisions) => decisions.get_value(env)?,
            None => {
                let array = env.create_array(0)?.coerce_to_object()?;
                table.decisions = Some(array.create_ref::<false>()?);
                array
            }
        };
        decisions.set_element(table.taken, object)?;
        table.outcomes.entry(hash).or_default().push(Outcome {
            allowed: decision.allowed(),
            policies: decision
                .reasons()
                .iter()
                .map(|r| r.policy().to_owned())
                .collect(),
            obligations: decision.obligations().to_vec(),
            slot: table.taken,
        });
        table.taken += 1;
        Ok(object)
    }
}

/// A new frozen decision object from the shared values of `table`.
fn build<'env>(
    env: &'env Env,
    table: &mut Table,
    decision: &Decision,
) -> napi::Result<Unknown<'env>> {
    let mut values = table.values.get_value(env)?;
    let get = |values: &Object<'env>, i: u32| values.get_element::<Unknown<'env>>(i);

    let mut reasons = env.create_array(decision.reasons().len() as u32)?;
    for (i, reason) in decision.reasons().iter().enumerate() {
        let value = if reason.error().is_some() {
            // An evaluation error is this decision's own: never shared.
            let mut object = Object::from_unknown(env.to_js_value(reason)?)?;
            object.freeze()?;
            object.to_unknown()
        } else if let Some(&at) = table.reasons.get(reason.policy()) {
            get(&values, at)?
        } else {
            let mut object = Object::from_unknown(env.to_js_value(reason)?)?;
            object.freeze()?;
            values.set_element(table.next, object)?;
            table.reasons.insert(reason.policy().to_owned(), table.next);
            table.next += 1;
            object.to_unknown()
        };
        reasons.set(i as u32, value)?;
    }
    let mut reasons = reasons.coerce_to_object()?;
    reasons.freeze()?;
    let mut obligations = env.create_array(decision.obligations().len() as u32)?;
    for (i, o) in decision.obligations().iter().enumerate() {
        obligations.set(i as u32, o.as_str())?;
    }
    let mut obligations = obligations.coerce_to_object()?;
    obligations.freeze()?;

    let mut object = Object::new(env)?;
    let key = |i: u32| get(&values, KEYS + i);
    object.set_property(
        key(0)?,
        get(&values, if decision.allowed() { ALLOW } else { DENY })?,
    )?;
    object.set_property(key(1)?, reasons.to_unknown())?;
    object.set_property(key(2)?, obligations.to_unknown())?;
    object.set_property(key(3)?, get(&values, VERSION)?)?;
    match decision.audit_seq() {
        Some(seq) => object.set_property(key(4)?, env.create_double(seq as f64)?)?,
        None => object.set_property(key(4)?, get(&values, NULL)?)?,
    }
    object.freeze()?;
    Ok(object.to_unknown())
}

/// The results of a batch: each entry the decision or an `Error` with `.code`; with
/// the engine's cache when the batch is settled on the engine's own thread.
pub fn outcomes<'env>(
    env: &'env Env,
    results: &[std::result::Result<Decision, JsError>],
    cache: Option<&DecisionCache>,
) -> Result<Object<'env>> {
    let mut array = env
        .create_array(results.len() as u32)
        .map_err(napi_failure)?;
    for (i, result) in results.iter().enumerate() {
        let set = match result {
            Ok(d) => array.set(
                i as u32,
                match cache {
                    Some(c) => c.decision(env, d)?,
                    None => decision(env, d)?,
                },
            ),
            Err(err) => array.set(
                i as u32,
                crate::error::error_object(env, err).map_err(napi_failure)?,
            ),
        };
        set.map_err(napi_failure)?;
    }
    array.coerce_to_object().map_err(napi_failure)
}

/// Resources as the wire format writes them: a dataset as its id, anything else as
/// `{type, id}`.
pub fn resources<'env>(env: &'env Env, resources: &[Resource]) -> Result<Unknown<'env>> {
    env.to_js_value(&resources).map_err(napi_failure)
}

/// A JSON value (a report, records) as a plain JavaScript value. Every integer is a
/// JavaScript number (napi's serializer would make a BigInt of any integer above
/// 2^32, such as a time in milliseconds).
pub fn json_value<'env>(env: &'env Env, mut value: serde_json::Value) -> Result<Unknown<'env>> {
    fn numbers(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Number(n) if n.as_u64().is_some_and(|u| u > u64::from(u32::MAX)) => {
                if let Some(f) = n.as_f64().and_then(serde_json::Number::from_f64) {
                    *n = f;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(numbers),
            serde_json::Value::Object(map) => map.values_mut().for_each(numbers),
            _ => {}
        }
    }
    numbers(&mut value);
    env.to_js_value(&value).map_err(napi_failure)
}

/// A value of the core (a key's state, a workflow record) as a plain JavaScript
/// value, through its JSON form.
pub fn serialized<'env>(env: &'env Env, value: &impl serde::Serialize) -> Result<Unknown<'env>> {
    let value = serde_json::to_value(value).map_err(|e| invalid_argument(e.to_string()))?;
    json_value(env, value)
}
