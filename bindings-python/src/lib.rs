//! The native module of the `govdata` Python package (`govdata._native`).
//!
//! Thin by design: arguments are read into the core's own types (through the core's
//! serde definitions), the core decides, and results and errors are mapped back. No
//! rule of the engine lives here. Batches, loading, encryption, key operations and
//! everything that reads or writes the audit log run without the GIL.

mod audit;
mod convert;
mod de;
mod decision;
mod engine;
mod error;
mod keys;
mod mask;
mod platform;
mod report;
mod vault;
mod workflows;

use govdata::model::{Action, Grade, PersonalInfo, ScenarioRisk, ShareType, Stage};
use pyo3::prelude::*;

fn names(all: impl IntoIterator<Item = &'static str>) -> Vec<&'static str> {
    all.into_iter().collect()
}

/// For the test that shows no panic reaches a caller: panics inside the guard.
#[pyfunction]
fn _panic_for_test() -> PyResult<()> {
    error::guard(|| -> PyResult<()> {
        #[expect(clippy::panic, reason = "the test of the panic guard needs a panic")]
        {
            panic!("a panic raised on purpose by _panic_for_test")
        }
    })
}

/// For benchmarks: reads a request dict into the core's `Request` and drops it (the
/// cost of the Python boundary on the way in).
#[pyfunction]
fn _parse_request(request: &Bound<'_, PyAny>) -> PyResult<()> {
    error::guard(|| {
        convert::request(request).map_err(error::to_py)?;
        Ok(())
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", govdata::VERSION)?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<engine::Decision>()?;
    m.add_class::<engine::Reason>()?;
    m.add_class::<audit::AuditLog>()?;
    m.add_class::<audit::AuditView>()?;
    m.add_class::<vault::Vault>()?;
    m.add_class::<workflows::Workflows>()?;
    m.add_class::<workflows::StepResult>()?;
    m.add_class::<platform::Platform>()?;
    m.add_class::<report::Explanation>()?;
    m.add_class::<report::Assessment>()?;
    m.add_function(wrap_pyfunction!(report::assess, m)?)?;
    error::register(m)?;
    m.add(
        "ERROR_CODES",
        names(govdata::error::ERROR_CODES.iter().copied()),
    )?;
    m.add("ACTIONS", names(Action::ALL.iter().map(|a| a.as_str())))?;
    m.add("GRADES", names(Grade::ALL.iter().map(|a| a.as_str())))?;
    m.add("STAGES", names(Stage::ALL.iter().map(|a| a.as_str())))?;
    m.add(
        "PERSONAL_INFO",
        names(PersonalInfo::ALL.iter().map(|a| a.as_str())),
    )?;
    m.add(
        "SHARE_TYPES",
        names(ShareType::ALL.iter().map(|a| a.as_str())),
    )?;
    m.add(
        "SCENARIO_RISKS",
        names(ScenarioRisk::ALL.iter().map(|a| a.as_str())),
    )?;
    m.add("DECISIONS", vec!["allow", "deny"])?;
    m.add(
        "VAULT_SUITES",
        names(govdata::vault::Suite::ALL.iter().map(|s| s.as_str())),
    )?;
    m.add("AUDIT_SUITES", vec!["sha256", "sm3"])?;
    m.add(
        "DESTRUCTION_METHODS",
        names(
            govdata::workflow::DestructionMethod::ALL
                .iter()
                .map(|m| m.as_str()),
        ),
    )?;
    m.add("SYNC_MODES", vec!["always", "batch", "none"])?;
    m.add(
        "RECORD_KINDS",
        vec!["department", "vendor", "user", "dataset", "system"],
    )?;
    m.add_function(wrap_pyfunction!(mask::_mask_stream, m)?)?;
    m.add_function(wrap_pyfunction!(mask::mask_values, m)?)?;
    m.add_function(wrap_pyfunction!(mask::_watermark_detect_stream, m)?)?;
    m.add(
        "PI_TYPES",
        names(govdata::model::PiType::ALL.iter().map(|t| t.as_str())),
    )?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add_function(wrap_pyfunction!(_parse_request, m)?)?;
    Ok(())
}
