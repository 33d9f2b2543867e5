//! `engine.explain`, `assess` and `platform.assess`: the core's explanation of a
//! decision and its compliance self-assessment. The objects are the core's JSON read
//! back as plain values; `explainJson`, `assessJson` (and `platform.assessJson`) hand
//! over the core's text itself, the very bytes `govdata explain --json` and
//! `govdata assess --json -` print for the same inputs.

use crate::args::{self, Options};
use crate::error::{invalid_argument, to_js, Result};
use crate::tasks::{Job, Output};
use govdata::assess::AssessPeriods;
use govdata::platform::{Overrides, PlatformConfig};
use napi::bindgen_prelude::{AsyncTask, Env, Unknown};
use napi_derive::napi;
use std::path::PathBuf;

/// The options that set the periods and time of an assessment.
const PERIODS: &[&str] = &[
    "now",
    "checkpoint",
    "backupDays",
    "keyRotationDays",
    "unusedDays",
    "gapDays",
];

/// The options of `assess`: the sources, then the periods.
const SOURCES: &[&str] = &[
    "config",
    "inventory",
    "policies",
    "auditDir",
    "auditKeyFile",
    "vaultDir",
    "masterKeyFile",
    "now",
    "checkpoint",
    "backupDays",
    "keyRotationDays",
    "unusedDays",
    "gapDays",
];

/// The periods and time of an assessment, read on the JavaScript thread.
pub type Periods = AssessPeriods;

fn days(o: &Options<'_>, name: &str) -> Result<Option<u32>> {
    o.integer(name)?
        .map(|n| {
            u32::try_from(n).map_err(|_| invalid_argument(format!("`options.{name}` is too large")))
        })
        .transpose()
}

fn read_periods(o: &Options<'_>) -> Result<Periods> {
    Ok(AssessPeriods {
        now: o.string("now")?,
        checkpoint: o.string("checkpoint")?,
        backup_days: days(o, "backupDays")?,
        key_rotation_days: days(o, "keyRotationDays")?,
        unused_days: days(o, "unusedDays")?,
        gap_days: days(o, "gapDays")?,
    })
}

/// What a task makes of the assessment.
#[derive(Debug, Clone, Copy)]
pub enum Form {
    /// A plain object.
    Object,
    /// The core's JSON text.
    Json,
    /// The core's HTML page.
    Html,
}

/// The work of an assessment of `config`, on the thread pool.
pub fn work(
    config: PlatformConfig,
    periods: Periods,
    form: Form,
) -> impl FnOnce() -> Result<Output> + Send + 'static {
    move || {
        let (options, checkpoint) = periods.resolve().map_err(to_js)?;
        let report = config
            .assess(&options, checkpoint.as_ref())
            .map_err(to_js)?;
        Ok(match form {
            Form::Object => Output::Json(
                serde_json::to_value(&report).map_err(|e| invalid_argument(e.to_string()))?,
            ),
            Form::Json => Output::Text(report.to_json_string()),
            Form::Html => Output::Text(report.to_html()),
        })
    }
}

/// Reads the periods of `platform.assess(options)`.
pub fn periods(options: Option<Unknown<'_>>) -> Result<Periods> {
    read_periods(&Options::new(options, "options", PERIODS)?)
}

fn path(o: &Options<'_>, name: &str) -> Result<Option<PathBuf>> {
    Ok(o.string(name)?.map(PathBuf::from))
}

fn sources(env: &Env, options: Option<Unknown<'_>>) -> Result<(PlatformConfig, Periods)> {
    let o = Options::new(options, "options", SOURCES)?;
    let policies = match o.value("policies")? {
        None => Vec::new(),
        Some(v) => {
            let dirs: crate::PolicySource = args::json(env, &v, |m| {
                invalid_argument(format!("`options.policies`: {m}"))
            })?;
            match dirs {
                crate::PolicySource::One(d) => vec![PathBuf::from(d)],
                crate::PolicySource::Many(ds) => ds.into_iter().map(PathBuf::from).collect(),
            }
        }
    };
    let overrides = Overrides {
        inventory: path(&o, "inventory")?,
        policies,
        audit_dir: path(&o, "auditDir")?,
        audit_key_file: path(&o, "auditKeyFile")?,
        vault_dir: path(&o, "vaultDir")?,
        master_key_file: path(&o, "masterKeyFile")?,
        lock_wait: None,
    };
    let config = path(&o, "config")?;
    let periods = read_periods(&o)?;
    let config = PlatformConfig::layered(config.as_deref(), "node", &overrides).map_err(to_js)?;
    Ok((config, periods))
}

fn spawn(
    env: &Env,
    options: Option<Unknown<'_>>,
    what: &'static str,
    form: Form,
) -> AsyncTask<Job> {
    Job::spawn(what, || {
        let (config, periods) = sources(env, options)?;
        Ok(work(config, periods, form))
    })
}

/// The compliance self-assessment (Art. 20) of a node, on the thread pool: the
/// inventory, policy pack, audit log (verified and read, never written) and vault key
/// store (its status read) that the configuration file `options.config` names, the
/// other options overriding it — as `govdata assess --config … --inventory …` would,
/// with the same report. Key files must be readable by their owner only. `now` is
/// `'YYYY-MM-DD'` or RFC 3339 UTC (now if omitted).
#[napi(
    catch_unwind,
    ts_args_type = "options?: AssessOptions",
    ts_return_type = "Promise<Assessment>"
)]
pub fn assess(env: Env, options: Option<Unknown<'_>>) -> AsyncTask<Job> {
    spawn(&env, options, "assess", Form::Object)
}

/// `assess` as the core's JSON text: what `govdata assess --json -` prints, byte for
/// byte.
#[napi(
    catch_unwind,
    ts_args_type = "options?: AssessOptions",
    ts_return_type = "Promise<string>"
)]
pub fn assess_json(env: Env, options: Option<Unknown<'_>>) -> AsyncTask<Job> {
    spawn(&env, options, "assessJson", Form::Json)
}

/// `assess` as a self-contained HTML page: what `govdata assess --html` writes.
#[napi(
    catch_unwind,
    ts_args_type = "options?: AssessOptions",
    ts_return_type = "Promise<string>"
)]
pub fn assess_html(env: Env, options: Option<Unknown<'_>>) -> AsyncTask<Job> {
    spawn(&env, options, "assessHtml", Form::Html)
}

/// The explanation of a decision as a plain value.
pub fn explanation<'env>(env: &'env Env, x: &govdata::Explanation) -> Result<Unknown<'env>> {
    crate::convert::json_value(env, x.to_json())
}
