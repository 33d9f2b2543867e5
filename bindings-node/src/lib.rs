//! The Node.js module `govdata`: the govdata engine for Node services.
//!
//! A thin layer over the core crate: it reads arguments from JavaScript values, calls
//! the core and hands back plain objects in the wire format of docs/FORMATS.md (snake_case
//! keys, exactly what the core serialises). Errors become JavaScript `Error`s with
//! `.code` (see [`error`]). A single decision, an audit append, a record's
//! encryption and a workflow step are synchronous; work that can take long (a large
//! batch, file encryption, reading or verifying the whole audit log, backups) runs on
//! the libuv thread pool and returns a Promise ([`tasks`]). Every export catches
//! panics, so a bug becomes an exception rather than an abort of the process.
//!
//! The engine is [`Engine`]; the audit log, the vault and the procedures are in
//! [`audit`], [`vault`] and [`workflows`], the obligations carried out on Arrow data
//! in [`mask`], and key arguments in [`keys`].

mod args;
mod audit;
mod convert;
mod error;
mod keys;
pub mod mask;
mod platform;
pub mod report;
mod tasks;
mod vault;
mod workflows;

use crate::args::Options;
use crate::audit::AuditLog;
use crate::error::{guard, invalid_argument, to_js, Result};
use govdata::model::{Record, RecordKind};
use govdata::{Action, Inventory, PolicyPack};
use napi::bindgen_prelude::{AsyncTask, Env, Object, ObjectFinalize, Unknown};
use napi_derive::napi;
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;

/// The version of govdata (the crate, the wheel, the npm package and the C header agree).
#[napi]
pub const VERSION: &str = govdata::VERSION;

/// Every error code: the core's (`govdata::error::ERROR_CODES`) and the module's own
/// `invalid_argument` and `panic`.
#[napi(ts_return_type = "ErrorCode[]")]
pub fn error_codes() -> Vec<&'static str> {
    error::all_codes()
}

/// Where policies come from: one directory, or several (the schema from the first,
/// the `*.cedar` files of all).
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum PolicySource {
    One(String),
    Many(Vec<String>),
}

/// The options of `new Engine(...)`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EngineOptions {
    #[serde(default)]
    policies: Option<PolicySource>,
    #[serde(default)]
    inventory: Option<serde_json::Value>,
    /// An `AuditLog`, read apart from the JSON (where it is an empty object).
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "the log is read from the object itself, not its JSON"
    )]
    audit: Option<serde::de::IgnoredAny>,
}

fn load_pack(source: Option<PolicySource>) -> govdata::Result<PolicyPack> {
    match source {
        None => PolicyPack::default_pack(),
        Some(PolicySource::One(dir)) => PolicyPack::from_dir(dir),
        Some(PolicySource::Many(dirs)) => {
            let paths: Vec<&Path> = dirs.iter().map(Path::new).collect();
            PolicyPack::from_dirs(&paths)
        }
    }
}

fn load_inventory(value: Option<serde_json::Value>) -> govdata::Result<Inventory> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(Inventory::new()),
        Some(serde_json::Value::String(path)) => Inventory::from_file(path),
        Some(value) => Inventory::from_json(&value),
    }
}

/// The policy engine: a policy pack and an inventory, deciding requests.
///
/// Safe to share across the whole process; decisions never block one another, and
/// a reload is atomic (a request sees the old or the new pack, never half of one).
#[napi(custom_finalize)]
#[derive(Debug)]
pub struct Engine {
    pub(crate) inner: Arc<govdata::Engine>,
    pub(crate) stringify: convert::Stringify,
    /// The JavaScript values the decisions of the current pack share.
    decisions: convert::DecisionCache,
}

impl ObjectFinalize for Engine {
    fn finalize(self, env: Env) -> napi::Result<()> {
        self.decisions.clear(&env)
    }
}

impl Engine {
    /// Shares an engine the core has opened (a node's).
    pub(crate) fn from_shared(env: &Env, inner: Arc<govdata::Engine>) -> Result<Self> {
        Ok(Engine {
            inner,
            stringify: convert::Stringify::new(env)?,
            decisions: convert::DecisionCache::default(),
        })
    }

    /// Records the engine's decisions in `log` (`None`: records nothing).
    fn set_audit(&self, log: Option<&AuditLog>) {
        govdata::platform::record_decisions(&self.inner, log.map(|l| &l.inner));
    }
}

#[napi]
impl Engine {
    /// An engine over a policy pack and an inventory.
    ///
    /// `policies` is a directory holding `schema.cedarschema` and `*.cedar` files, or
    /// several directories (a department's own policies beside the default pack);
    /// without it, the default pack. `inventory` is the inventory object or the path
    /// of its JSON file; without it, an empty inventory. With `audit`, every decision
    /// is recorded in that log (see `attachAudit`).
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "options?: { policies?: string | string[]; inventory?: string | Inventory; audit?: AuditLog }"
    )]
    pub fn new(env: Env, options: Option<Unknown<'_>>) -> Result<Self> {
        guard(|| {
            let stringify = convert::Stringify::new(&env)?;
            let audit = Options::new(options, "options", &["policies", "inventory", "audit"])?
                .instance::<AuditLog>("audit", "AuditLog")?;
            let options: EngineOptions = match options {
                Some(value) if !convert::is_nullish(&value)? => {
                    stringify.parse(&env, &value, |m| {
                        invalid_argument(format!("invalid engine options: {m}"))
                    })?
                }
                _ => EngineOptions::default(),
            };
            let pack = load_pack(options.policies).map_err(to_js)?;
            let inventory = load_inventory(options.inventory).map_err(to_js)?;
            let engine = Engine {
                inner: Arc::new(govdata::Engine::new(pack, inventory)),
                stringify,
                decisions: convert::DecisionCache::default(),
            };
            engine.set_audit(audit.as_deref());
            Ok(engine)
        })
    }

    /// The default policy pack and the example inventory: a city to try the engine on.
    /// With `audit`, every decision is recorded in that log.
    #[napi(
        factory,
        js_name = "default",
        catch_unwind,
        ts_args_type = "options?: { audit?: AuditLog }"
    )]
    pub fn with_defaults(env: Env, options: Option<Unknown<'_>>) -> Result<Self> {
        guard(|| {
            let audit = Options::new(options, "options", &["audit"])?
                .instance::<AuditLog>("audit", "AuditLog")?;
            let engine = Engine {
                inner: Arc::new(govdata::Engine::with_defaults().map_err(to_js)?),
                stringify: convert::Stringify::new(&env)?,
                decisions: convert::DecisionCache::default(),
            };
            engine.set_audit(audit.as_deref());
            Ok(engine)
        })
    }

    /// Records every later decision in `log` (replacing any log attached before):
    /// each decision then carries its record's `audit_seq`, and a decision that cannot
    /// be recorded is a deny.
    #[napi(catch_unwind, ts_args_type = "log: AuditLog")]
    pub fn attach_audit(&self, log: Unknown<'_>) -> Result<()> {
        guard(|| {
            let log = args::instance::<AuditLog>(log, "log", "AuditLog")?;
            self.set_audit(Some(&log));
            Ok(())
        })
    }

    /// Stops recording decisions.
    #[napi(catch_unwind)]
    pub fn detach_audit(&self) -> Result<()> {
        guard(|| {
            self.set_audit(None);
            Ok(())
        })
    }

    /// Whether an audit log records this engine's decisions.
    #[napi(getter, catch_unwind)]
    pub fn audited(&self) -> Result<bool> {
        guard(|| Ok(self.inner.has_decision_sink()))
    }

    /// Decides one request (the wire format) and returns the decision as a plain
    /// object in the wire format. Throws `request_invalid` or `unknown_entity` when no
    /// decision can be made; the caller must treat that as a deny.
    #[napi(
        catch_unwind,
        ts_args_type = "request: Request",
        ts_return_type = "Decision"
    )]
    pub fn decide<'env>(&self, env: &'env Env, request: Unknown<'_>) -> Result<Unknown<'env>> {
        guard(|| {
            let request = self.stringify.request(env, &request)?;
            let decision = self.inner.decide(&request).map_err(to_js)?;
            self.decisions.decision(env, &decision)
        })
    }

    /// Decides one request given as JSON text and returns the decision as JSON text:
    /// for a service that already holds the request body as a string.
    #[napi(catch_unwind, ts_args_type = "request: string")]
    pub fn decide_json(&self, request: Unknown<'_>) -> Result<String> {
        guard(|| {
            let request = args::string(request, "request")?;
            let decision = self.inner.decide_json(&request).map_err(to_js)?;
            Ok(decision.to_json_string())
        })
    }

    /// Decides one request (the wire format) and explains the decision: the forbids
    /// that fired, the permits that allowed it, the policies that could not be
    /// evaluated, or for a default deny the permits that came closest and the
    /// condition each lacked. A plain object; the decision is recorded like any other.
    #[napi(
        catch_unwind,
        ts_args_type = "request: Request",
        ts_return_type = "Explanation"
    )]
    pub fn explain<'env>(&self, env: &'env Env, request: Unknown<'_>) -> Result<Unknown<'env>> {
        guard(|| {
            let request = self.stringify.request(env, &request)?;
            let explanation = self.inner.explain(&request).map_err(to_js)?;
            report::explanation(env, &explanation)
        })
    }

    /// Explains one request given as JSON text and returns the explanation as JSON
    /// text: what `govdata explain --json` prints, byte for byte.
    #[napi(catch_unwind, ts_args_type = "request: string")]
    pub fn explain_json(&self, request: Unknown<'_>) -> Result<String> {
        guard(|| {
            let request = args::string(request, "request")?;
            let explanation = self.inner.explain_json(&request).map_err(to_js)?;
            Ok(explanation.to_json_string())
        })
    }

    /// Decides many requests on the thread pool, off the event loop. The Promise
    /// resolves to one entry per request, in order: the decision, or an `Error` with
    /// `.code` for a request that could not be decided (which counts as a deny).
    #[napi(
        catch_unwind,
        ts_args_type = "requests: Request[]",
        ts_return_type = "Promise<Array<Decision | GovdataError>>"
    )]
    pub fn decide_many(&self, env: &Env, requests: Unknown<'_>) -> AsyncTask<tasks::Job> {
        tasks::Job::spawn("decideMany", || {
            convert::expect_array(&requests, "requests")?;
            let text = self
                .stringify
                .text(env, &requests, invalid_argument)?
                .unwrap_or_default();
            let engine = Arc::clone(&self.inner);
            Ok(move || {
                let entries = convert::parse_batch(&text)?;
                Ok(tasks::Output::Outcomes(tasks::decide_entries(
                    &engine, entries,
                )))
            })
        })
    }

    /// `decideMany` on the calling thread: the same results, synchronously.
    #[napi(
        catch_unwind,
        ts_args_type = "requests: Request[]",
        ts_return_type = "Array<Decision | GovdataError>"
    )]
    pub fn decide_many_sync<'env>(
        &self,
        env: &'env Env,
        requests: Unknown<'_>,
    ) -> Result<Object<'env>> {
        guard(|| {
            convert::expect_array(&requests, "requests")?;
            let text = self
                .stringify
                .text(env, &requests, invalid_argument)?
                .unwrap_or_default();
            let results = tasks::decide_entries(&self.inner, convert::parse_batch(&text)?);
            convert::outcomes(env, &results, Some(&self.decisions))
        })
    }

    /// The resources among `resources` that `principal` may act on with `action` in
    /// `context`, in their order: the filter a job applies to a batch. Runs off the
    /// event loop. Any bad input rejects the whole batch, so nothing is dropped for
    /// the wrong reason.
    #[napi(
        catch_unwind,
        ts_args_type = "principal: string, action: Action, resources: Resource[], context?: Context",
        ts_return_type = "Promise<Resource[]>"
    )]
    pub fn allowed_resources(
        &self,
        env: &Env,
        principal: Unknown<'_>,
        action: Unknown<'_>,
        resources: Unknown<'_>,
        context: Option<Unknown<'_>>,
    ) -> AsyncTask<tasks::Job> {
        tasks::Job::spawn("allowedResources", || {
            let principal = args::string(principal, "principal")?;
            let action: Action = args::string(action, "action")?
                .parse()
                .map_err(error::request_invalid)?;
            let resources = convert::resource_list(&self.stringify, env, &resources)?;
            let context = convert::context(&self.stringify, env, context)?;
            let engine = Arc::clone(&self.inner);
            Ok(move || {
                let allowed = engine
                    .allowed_resources(&principal, action, &resources, &context)
                    .map_err(to_js)?;
                Ok(tasks::Output::Resources(allowed))
            })
        })
    }

    /// `allowedResources` on the calling thread.
    #[napi(
        catch_unwind,
        ts_args_type = "principal: string, action: Action, resources: Resource[], context?: Context",
        ts_return_type = "Resource[]"
    )]
    pub fn allowed_resources_sync<'env>(
        &self,
        env: &'env Env,
        principal: Unknown<'_>,
        action: Unknown<'_>,
        resources: Unknown<'_>,
        context: Option<Unknown<'_>>,
    ) -> Result<Unknown<'env>> {
        guard(|| {
            let principal = args::string(principal, "principal")?;
            let action: Action = args::string(action, "action")?
                .parse()
                .map_err(error::request_invalid)?;
            let resources = convert::resource_list(&self.stringify, env, &resources)?;
            let context = convert::context(&self.stringify, env, context)?;
            let allowed = self
                .inner
                .allowed_resources(&principal, action, &resources, &context)
                .map_err(to_js)?;
            convert::resources(env, &allowed)
        })
    }

    /// Adds or replaces one inventory record of `kind` (`department`, `vendor`,
    /// `user`, `dataset`, `system`). On `inventory_invalid` nothing changes.
    #[napi(catch_unwind, ts_args_type = "kind: RecordKind, record: object")]
    pub fn upsert(&self, env: &Env, kind: Unknown<'_>, record: Unknown<'_>) -> Result<()> {
        guard(|| {
            let kind: RecordKind = args::string(kind, "kind")?.parse().map_err(to_js)?;
            let value: serde_json::Value = self.stringify.parse(env, &record, |m| {
                error::to_js(govdata::Error::InventoryInvalid {
                    record: kind.to_string(),
                    message: m,
                })
            })?;
            let record = Record::from_json(kind, &value).map_err(to_js)?;
            self.inner.upsert(record).map_err(to_js)
        })
    }

    /// Removes the inventory record of `kind` with `id`. On error nothing changes.
    #[napi(catch_unwind, ts_args_type = "kind: RecordKind, id: string")]
    pub fn remove(&self, kind: Unknown<'_>, id: Unknown<'_>) -> Result<()> {
        guard(|| {
            let kind: RecordKind = args::string(kind, "kind")?.parse().map_err(to_js)?;
            let id = args::string(id, "id")?;
            self.inner.remove(kind, &id).map_err(to_js)
        })
    }

    /// Replaces the whole inventory atomically: an inventory object or the path of
    /// its JSON file. On error the old inventory stays.
    #[napi(catch_unwind, ts_args_type = "inventory: string | Inventory")]
    pub fn replace_inventory(&self, env: &Env, inventory: Unknown<'_>) -> Result<()> {
        guard(|| {
            let value: serde_json::Value = self.stringify.parse(env, &inventory, |m| {
                invalid_argument(format!("invalid inventory: {m}"))
            })?;
            if value.is_null() {
                return Err(invalid_argument(
                    "invalid inventory: expected an object or a path",
                ));
            }
            let inventory = load_inventory(Some(value)).map_err(to_js)?;
            self.inner.replace_inventory(inventory);
            Ok(())
        })
    }

    /// Replaces the policy pack atomically: a directory, several directories, or
    /// nothing for the default pack. A pack that does not load leaves the old one.
    #[napi(catch_unwind, ts_args_type = "policies?: string | string[]")]
    pub fn reload_policies(&self, env: &Env, policies: Option<Unknown<'_>>) -> Result<()> {
        guard(|| {
            let source: Option<PolicySource> = match policies {
                Some(value) if !convert::is_nullish(&value)? => {
                    Some(self.stringify.parse(env, &value, |m| {
                        invalid_argument(format!("invalid policies: {m}"))
                    })?)
                }
                _ => None,
            };
            let pack = load_pack(source).map_err(to_js)?;
            self.inner.reload_policies(pack);
            Ok(())
        })
    }

    /// The version (hash) of the loaded policy pack, as in every decision's
    /// `policy_version`.
    #[napi(getter, catch_unwind)]
    pub fn policy_version(&self) -> Result<String> {
        guard(|| Ok(self.inner.policy_version()))
    }
}

/// Times `iterations` decisions of `request` made by the core directly, in Rust, in
/// this process: the reference the benchmarks compare `engine.decide` against.
/// Returns nanoseconds per decision. Not part of the typed API.
#[napi(js_name = "__timeDecideInRust", skip_typescript, catch_unwind)]
pub fn time_decide_in_rust(
    env: Env,
    engine: &Engine,
    request: Unknown<'_>,
    iterations: u32,
) -> Result<f64> {
    guard(|| {
        let request = engine.stringify.request(&env, &request)?;
        let iterations = iterations.max(1);
        let start = std::time::Instant::now();
        for _ in 0..iterations {
            std::hint::black_box(
                engine
                    .inner
                    .decide(std::hint::black_box(&request))
                    .map_err(to_js)?,
            );
        }
        Ok(start.elapsed().as_nanos() as f64 / f64::from(iterations))
    })
}

/// Panics inside a guarded export: `'call'` in a synchronous call, `'arguments'`
/// while a Promise-returning call reads its arguments, `'task'` on the thread pool.
/// The proof that a panic becomes an exception (or a rejection) with `.code =
/// "panic"` and never aborts the process. Not part of the typed API.
#[napi(js_name = "__panicForTesting", skip_typescript, catch_unwind)]
pub fn panic_for_testing(place: String) -> Result<AsyncTask<tasks::Job>> {
    #[expect(clippy::panic, reason = "the panic is the point: it proves the guard")]
    let boom = || -> ! { panic!("deliberate panic for testing") };
    guard(|| match place.as_str() {
        "arguments" => Ok(tasks::Job::spawn(
            "panic",
            || -> Result<fn() -> Result<tasks::Output>> { boom() },
        )),
        "task" => Ok(tasks::Job::spawn("panic", || {
            Ok(move || -> Result<tasks::Output> { boom() })
        })),
        _ => boom(),
    })
}

/// The engine's inventory as Cedar's entity JSON (text), as plain Cedar is given it:
/// for the benchmarks against other Cedar bindings. Not part of the typed API.
#[napi(js_name = "__cedarEntities", skip_typescript, catch_unwind)]
pub fn cedar_entities(engine: &Engine) -> Result<String> {
    guard(|| {
        let plain = engine.inner.plain_cedar().map_err(to_js)?;
        let json = plain.entities_json().map_err(to_js)?;
        Ok(json.to_string())
    })
}
