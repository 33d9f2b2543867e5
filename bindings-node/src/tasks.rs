//! Work that runs on the libuv thread pool and settles a Promise (`AsyncTask`).
//!
//! The arguments are read into owned Rust data on the JavaScript thread; the work
//! runs on a pool thread (a large batch fans out further over the core's rayon pool),
//! so the event loop keeps serving meanwhile; `resolve` builds the JavaScript result.
//!
//! Every call that returns a Promise reports every failure through it: an argument
//! that cannot be read becomes a task that rejects at once ([`Job::spawn`]), and a
//! panic, on either thread, rejects with `.code = "panic"`. A caller never has to
//! guard such a call with both `try` and `.catch`.

use crate::convert;
use crate::error::{self, JsError, Result};
use govdata::{Decision, Engine};
use napi::bindgen_prelude::{
    AsyncTask, Buffer, Env, JavaScriptClassExt, JsValue, ToNapiValue, Unknown,
};
use napi::ScopedTask;

/// Decides a batch whose entries may already hold an error (a request that could not
/// be read): the readable requests go to the core's `decide_many` together, and
/// the results come back in the order of the entries.
pub fn decide_entries(
    engine: &Engine,
    entries: Vec<convert::Entry>,
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
                Some(result) => result.map_err(error::to_js),
                None => Err(error::from_panic(&"a batch result is missing")),
            }
        })
        .collect()
}

/// What a task hands back to JavaScript.
#[derive(Debug)]
pub enum Output {
    /// A report or records: crosses as a plain value.
    Json(serde_json::Value),
    /// Text the core wrote (a report's JSON or HTML): crosses as a string.
    Text(String),
    /// Bytes the core wrote (a masked Arrow IPC stream): a `Buffer` that takes them
    /// over without a copy.
    Bytes(Vec<u8>),
    /// A batch: each entry a decision or an `Error` with `.code`.
    Outcomes(Vec<std::result::Result<Decision, JsError>>),
    /// The resources a filter kept.
    Resources(Vec<govdata::Resource>),
    /// Procedures opened over a log: a `Workflows` instance.
    Workflows(govdata::Workflows),
}

/// The work of a task, run on a pool thread.
type Work = Box<dyn FnOnce() -> Result<Output> + Send>;

/// One call that returns a Promise.
pub struct Job {
    what: &'static str,
    work: Option<Work>,
    /// Why the call failed before any work could start.
    failed: Option<JsError>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("what", &self.what).finish()
    }
}

impl Job {
    /// The task of a call: `prepare` reads the arguments on the JavaScript thread and
    /// returns the work; an error or a panic there makes a task that rejects.
    /// `what` names the call for debugging.
    pub fn spawn<W>(what: &'static str, prepare: impl FnOnce() -> Result<W>) -> AsyncTask<Job>
    where
        W: FnOnce() -> Result<Output> + Send + 'static,
    {
        let job = match error::guard(|| prepare().map(|w| Box::new(w) as Work)) {
            Ok(work) => Job {
                what,
                work: Some(work),
                failed: None,
            },
            Err(err) => Job {
                what,
                work: None,
                failed: Some(err),
            },
        };
        AsyncTask::new(job)
    }
}

impl<'task> ScopedTask<'task> for Job {
    type Output = Result<Output>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> napi::Result<<Self as ScopedTask<'task>>::Output> {
        if let Some(err) = self.failed.take() {
            return Ok(Err(err));
        }
        let work = self.work.take();
        Ok(error::guard(|| match work {
            Some(work) => work(),
            None => Err(error::from_panic(&"a task was computed twice")),
        }))
    }

    fn resolve(
        &mut self,
        env: &'task Env,
        output: <Self as ScopedTask<'task>>::Output,
    ) -> napi::Result<Unknown<'task>> {
        let value = output.and_then(|output| match output {
            Output::Json(value) => convert::json_value(env, value),
            Output::Text(text) => env
                .create_string(&text)
                .map(|s| s.to_unknown())
                .map_err(|e| error::invalid_argument(e.reason)),
            Output::Bytes(bytes) => Buffer::from(bytes)
                .into_unknown(env)
                .map_err(|e| error::invalid_argument(e.reason)),
            Output::Outcomes(results) => {
                convert::outcomes(env, &results, None).map(|o| o.to_unknown())
            }
            Output::Resources(resources) => convert::resources(env, &resources),
            Output::Workflows(inner) => crate::workflows::Workflows::from_core(inner)
                .into_instance(env)
                .map(|i| i.to_unknown())
                .map_err(|e| error::invalid_argument(e.reason)),
        });
        value.map_err(|err| error::into_napi(env, &err))
    }
}

/// Work of the core whose result crosses as JSON.
pub fn json(
    work: impl FnOnce() -> govdata::Result<serde_json::Value> + Send + 'static,
) -> impl FnOnce() -> Result<Output> + Send + 'static {
    move || work().map(Output::Json).map_err(error::to_js)
}
