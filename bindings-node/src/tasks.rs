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
use napi::bindgen_prelude::{Env, JsValue, Unknown};
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
