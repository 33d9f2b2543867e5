//! Work that runs on the libuv thread pool and settles a Promise (`AsyncTask`).
//!
//! The arguments are read into owned Rust data on the JavaScript thread; `compute`
//! runs on a pool thread (and fans a large batch out over the core's rayon pool), so
//! the event loop keeps serving meanwhile; `resolve` builds the JavaScript result.
//! A panic in `compute` is caught and rejects the Promise with `.code = "panic"`.
//!
//! Each long operation of the core (audit verification, file encryption, backups)
//! gets one task type here, built the same way.

use crate::convert::{self, Entry};
use crate::error::{self, to_js, JsError, Result};
use govdata::engine::Context;
use govdata::{Action, Decision, Engine, Resource};
use napi::bindgen_prelude::{ClassInstance, Env, JavaScriptClassExt, JsValue, Unknown};
use napi::ScopedTask;
use std::sync::Arc;

/// Decides a batch whose entries may already hold an error (a request that could not
/// be read): the readable requests go to the core's `decide_many` together, and
/// the results come back in the order of the entries.
pub fn decide_entries(
    engine: &Engine,
    entries: Vec<Entry>,
) -> Vec<std::result::Result<Decision, JsError>> {
    let mut requests = Vec::with_capacity(entries.len());
    let mut slots: Vec<std::result::Result<usize, JsError>> = Vec::with_capacity(entries.len());
    for entry in entries {
        slots.push(entry.map(|r| {
            requests.push(r);
            requests.len() - 1
        }));
    }
    let mut decided: Vec<Option<govdata::Result<Decision>>> = engine
        .decide_many(&requests)
        .into_iter()
        .map(Some)
        .collect();
    slots
        .into_iter()
        .map(|slot| {
            let i = slot?;
            match decided.get_mut(i).and_then(Option::take) {
                Some(result) => result.map_err(to_js),
                None => Err(error::from_panic(&"a batch result is missing")),
            }
        })
        .collect()
}

/// `engine.decideMany(requests)`.
#[derive(Debug)]
pub struct DecideMany {
    engine: Arc<Engine>,
    /// The JSON text of the requests' array: parsed here, on the pool.
    requests: String,
}

impl DecideMany {
    pub fn new(engine: Arc<Engine>, requests: String) -> Self {
        DecideMany { engine, requests }
    }
}

impl<'task> ScopedTask<'task> for DecideMany {
    type Output = Result<Vec<std::result::Result<Decision, JsError>>>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> napi::Result<<Self as ScopedTask<'task>>::Output> {
        let engine = &self.engine;
        let text = std::mem::take(&mut self.requests);
        Ok(error::guard(|| {
            Ok(decide_entries(engine, convert::parse_batch(&text)?))
        }))
    }

    fn resolve(
        &mut self,
        env: &'task Env,
        output: <Self as ScopedTask<'task>>::Output,
    ) -> napi::Result<Unknown<'task>> {
        let settle = output.and_then(|results| convert::outcomes(env, &results));
        match settle {
            Ok(array) => Ok(array.to_unknown()),
            Err(err) => Err(error::into_napi(env, &err)),
        }
    }
}

/// `engine.allowedResources(principal, action, resources, context)`.
#[derive(Debug)]
pub struct AllowedResources {
    engine: Arc<Engine>,
    principal: String,
    action: Action,
    resources: Vec<Resource>,
    context: Context,
}

impl AllowedResources {
    pub fn new(
        engine: Arc<Engine>,
        principal: String,
        action: Action,
        resources: Vec<Resource>,
        context: Context,
    ) -> Self {
        AllowedResources {
            engine,
            principal,
            action,
            resources,
            context,
        }
    }
}

impl<'task> ScopedTask<'task> for AllowedResources {
    type Output = Result<Vec<Resource>>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> napi::Result<<Self as ScopedTask<'task>>::Output> {
        Ok(error::guard(|| {
            self.engine
                .allowed_resources(&self.principal, self.action, &self.resources, &self.context)
                .map_err(to_js)
        }))
    }

    fn resolve(
        &mut self,
        env: &'task Env,
        output: <Self as ScopedTask<'task>>::Output,
    ) -> napi::Result<Unknown<'task>> {
        match output.and_then(|allowed| convert::resources(env, &allowed)) {
            Ok(value) => Ok(value),
            Err(err) => Err(error::into_napi(env, &err)),
        }
    }
}

/// A task whose computation panics (see `__panicForTesting`).
#[derive(Debug)]
pub struct PanicForTesting;

impl<'task> ScopedTask<'task> for PanicForTesting {
    type Output = Result<()>;
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<<Self as ScopedTask<'task>>::Output> {
        #[expect(clippy::panic, reason = "the panic is the point: it proves the guard")]
        let result = error::guard(|| panic!("deliberate panic for testing"));
        Ok(result)
    }

    fn resolve(
        &mut self,
        env: &'task Env,
        output: <Self as ScopedTask<'task>>::Output,
    ) -> napi::Result<()> {
        output.map_err(|err| error::into_napi(env, &err))
    }
}

/// The work of a task that runs on the thread pool: a call into the core whose
/// result crosses back as JSON (a report, records).
type Work = Box<dyn FnOnce() -> govdata::Result<serde_json::Value> + Send>;

/// A long call of the audit log or the vault (verification, queries, backups,
/// restores, file encryption): `compute` runs the call on a pool thread, `resolve`
/// hands its result to JavaScript.
pub struct Job {
    what: &'static str,
    work: Option<Work>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("what", &self.what).finish()
    }
}

impl Job {
    /// A task that runs `work`; `what` names it for debugging.
    pub fn new(
        what: &'static str,
        work: impl FnOnce() -> govdata::Result<serde_json::Value> + Send + 'static,
    ) -> Self {
        Job {
            what,
            work: Some(Box::new(work)),
        }
    }
}

impl<'task> ScopedTask<'task> for Job {
    type Output = Result<serde_json::Value>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> napi::Result<<Self as ScopedTask<'task>>::Output> {
        let work = self.work.take();
        Ok(error::guard(|| match work {
            Some(work) => work().map_err(to_js),
            None => Err(error::from_panic(&"a task was computed twice")),
        }))
    }

    fn resolve(
        &mut self,
        env: &'task Env,
        output: <Self as ScopedTask<'task>>::Output,
    ) -> napi::Result<Unknown<'task>> {
        match output.and_then(|value| convert::json_value(env, &value)) {
            Ok(value) => Ok(value),
            Err(err) => Err(error::into_napi(env, &err)),
        }
    }
}

/// `Workflows.open(engine, log)`: the state rebuilt from the log on a pool thread.
pub struct OpenWorkflows {
    engine: Arc<Engine>,
    log: Arc<govdata::AuditLog>,
}

impl std::fmt::Debug for OpenWorkflows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenWorkflows").finish_non_exhaustive()
    }
}

impl OpenWorkflows {
    pub fn new(engine: Arc<Engine>, log: Arc<govdata::AuditLog>) -> Self {
        OpenWorkflows { engine, log }
    }
}

impl<'task> ScopedTask<'task> for OpenWorkflows {
    type Output = Result<govdata::Workflows>;
    type JsValue = ClassInstance<'task, crate::workflows::Workflows>;

    fn compute(&mut self) -> napi::Result<<Self as ScopedTask<'task>>::Output> {
        let (engine, log) = (Arc::clone(&self.engine), Arc::clone(&self.log));
        Ok(error::guard(|| {
            crate::workflows::open(engine, log).map_err(to_js)
        }))
    }

    fn resolve(
        &mut self,
        env: &'task Env,
        output: <Self as ScopedTask<'task>>::Output,
    ) -> napi::Result<ClassInstance<'task, crate::workflows::Workflows>> {
        match output {
            Ok(inner) => crate::workflows::Workflows::from_core(inner).into_instance(env),
            Err(err) => Err(error::into_napi(env, &err)),
        }
    }
}
