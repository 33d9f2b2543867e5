//! `gd_engine_explain_json`, `gd_assess_json`, `gd_platform_assess_json`: the core's
//! explanation of a decision and its compliance self-assessment, as the core's JSON
//! text — the very bytes `govdata explain --json` and `govdata assess --json -` print
//! for the same inputs.

use crate::args::{c_str, into_c_string, opt_c_str, out_ptr};
use crate::engine::{engine_ref, gd_engine, malformed, parse_request};
use crate::error::{gd_status, Failure};
use crate::guard::ffi_guard;
use crate::platform::{gd_platform, platform_ref};
use govdata::assess::AssessPeriods;
use govdata::platform::{Overrides, PlatformConfig};
use serde::Deserialize;
use std::os::raw::{c_char, c_int};
use std::path::PathBuf;

/// Decides one request given as JSON in the wire format and explains the decision:
/// writes `{"decision": {…the decision…}, "forbids": […], "permits": […], "errors":
/// […], "closest": […]}` to `*out_json` (free it with `gd_string_free`) — the forbids
/// that fired, the permits that allowed it, the policies that could not be evaluated,
/// and for a default deny the permits that came closest with the condition each
/// lacked. The decision is recorded like any other when a log is attached.
///
/// Errors: as `gd_engine_decide_json`.
///
/// # Safety
/// `engine` is NULL or a live handle; `request_json` is NULL or a NUL-terminated
/// string; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_explain_json(
    engine: *const gd_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        // SAFETY: forwarded contract of this export.
        let json = unsafe { c_str(request_json, "request_json") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let explanation = engine.explain(&parse_request(json)?)?;
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { out_json.write(into_c_string(explanation.to_json_string())) };
        Ok(gd_status::GD_OK)
    }
}

/// Where policies come from: one directory, or several.
#[derive(Deserialize)]
#[serde(untagged)]
enum Dirs {
    One(PathBuf),
    Many(Vec<PathBuf>),
}

/// The options of `gd_assess_json`: the sources, then the periods.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Sources {
    config: Option<PathBuf>,
    inventory: Option<PathBuf>,
    policies: Option<Dirs>,
    audit_dir: Option<PathBuf>,
    audit_key_file: Option<PathBuf>,
    vault_dir: Option<PathBuf>,
    master_key_file: Option<PathBuf>,
    now: Option<String>,
    checkpoint: Option<String>,
    backup_days: Option<u32>,
    key_rotation_days: Option<u32>,
    unused_days: Option<u32>,
    gap_days: Option<u32>,
}

/// Reads an options object (NULL: `{}`); not JSON is `GD_ERR_MALFORMED_JSON`, JSON of
/// the wrong shape `GD_ERR_REQUEST_INVALID`.
fn options<T: serde::de::DeserializeOwned + Default>(text: Option<&str>) -> Result<T, Failure> {
    let Some(text) = text else {
        return Ok(T::default());
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| malformed("options", &e))?;
    serde_json::from_value(value).map_err(|e| {
        Failure::from(govdata::Error::RequestInvalid {
            message: format!("invalid assessment options: {e}"),
        })
    })
}

fn assess(config: &PlatformConfig, periods: &AssessPeriods) -> Result<String, Failure> {
    let (options, checkpoint) = periods.resolve()?;
    Ok(config
        .assess(&options, checkpoint.as_ref())?
        .to_json_string())
}

/// The compliance self-assessment (Art. 20) of a node, as JSON written to `*out_json`
/// (free it with `gd_string_free`): the inventory, policy pack, audit log (verified and
/// read, never written) and vault key store (its status read) that the configuration
/// file `"config"` names, the other options overriding it — as `govdata assess --config
/// … --inventory …` would, with the same report, byte for byte. `options_json` (NULL:
/// `{}`, the example city at the present time) is an object of `"config"`,
/// `"inventory"`, `"policies"` (a directory or an array of them), `"audit_dir"`,
/// `"audit_key_file"`, `"vault_dir"`, `"master_key_file"`, `"checkpoint"`, `"now"`
/// (`"YYYY-MM-DD"` or RFC 3339 UTC), `"backup_days"`, `"key_rotation_days"`,
/// `"unused_days"`, `"gap_days"`. Key files must be readable by their owner only.
///
/// Errors: `GD_ERR_MALFORMED_JSON`, `GD_ERR_REQUEST_INVALID` (an unknown option, a
/// directory without its key file), `GD_ERR_CONFIG_INVALID` (a bad configuration file,
/// a key file others may read), `GD_ERR_IO`, the statuses of reading the sources, and
/// the argument statuses.
///
/// # Safety
/// `options_json` is NULL or a NUL-terminated string; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_assess_json(
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let text = unsafe { opt_c_str(options_json, "options_json") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let o: Sources = options(text)?;
        let overrides = Overrides {
            inventory: o.inventory,
            policies: match o.policies {
                None => Vec::new(),
                Some(Dirs::One(d)) => vec![d],
                Some(Dirs::Many(ds)) => ds,
            },
            audit_dir: o.audit_dir,
            audit_key_file: o.audit_key_file,
            vault_dir: o.vault_dir,
            master_key_file: o.master_key_file,
            lock_wait: None,
        };
        let config = PlatformConfig::layered(o.config.as_deref(), "c", &overrides)?;
        let periods = AssessPeriods {
            now: o.now,
            checkpoint: o.checkpoint,
            backup_days: o.backup_days,
            key_rotation_days: o.key_rotation_days,
            unused_days: o.unused_days,
            gap_days: o.gap_days,
        };
        let text = assess(&config, &periods)?;
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { out_json.write(into_c_string(text)) };
        Ok(gd_status::GD_OK)
    }
}

/// The compliance self-assessment of the node `platform`, from the configuration it
/// was opened with (see `gd_assess_json`; its log is read, not written), as JSON
/// written to `*out_json` (free it with `gd_string_free`). `options_json` (NULL: `{}`)
/// is an object of `"checkpoint"`, `"now"`, `"backup_days"`, `"key_rotation_days"`,
/// `"unused_days"`, `"gap_days"`.
///
/// Errors: as `gd_assess_json`.
///
/// # Safety
/// `platform` is NULL or a live node handle; `options_json` is NULL or a
/// NUL-terminated string; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_platform_assess_json(
    platform: *const gd_platform,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let node = unsafe { platform_ref(platform) }?;
        // SAFETY: forwarded contract of this export.
        let text = unsafe { opt_c_str(options_json, "options_json") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let periods: AssessPeriods = options(text)?;
        let text = assess(node.config(), &periods)?;
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { out_json.write(into_c_string(text)) };
        Ok(gd_status::GD_OK)
    }
}
