//! Policy tests: requests with the decision, reasons and obligations they must get.
//!
//! One format serves the per-article suites of `policies/tests/` (a suite holds many
//! cases) and the cross-language vectors of `tests/vectors/` (one case a file):
//!
//! ```json
//! {"name": "…", "inventory": "policies/examples/inventory.json",
//!  "request": {"principal": "…", "action": "…", "resource": "…", "context": {}},
//!  "expect": {"decision": "deny", "reasons": ["art17-no-vendor-superadmin"], "obligations": []}}
//! ```
//!
//! `inventory` is a path from the repository root or an inline inventory object;
//! `approvals` (on a suite or a case) lists workflow approvals the case may cite, as
//! the workflow records would resolve them: `{"id", "approver", "principal",
//! "action", "resource"}` — an approval resolves only for that principal, action and
//! dataset;
//! `request` is a request object or, to test malformed input, the raw JSON text as a
//! string; `expect` is a decision (reasons and obligations compared as sets) or
//! `{"error": "code"}`.

use crate::engine::{ApprovalResolver, Engine, Request, ResolvedApproval};
use crate::error::{Error, Result};
use crate::model::Inventory;
use crate::model::{Action, ResourceKind};
use crate::policy::PolicyPack;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a case expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Expect {
    /// A decision.
    Decision {
        /// `allow` or `deny`.
        decision: String,
        /// The policy ids of the reasons, in any order.
        #[serde(default)]
        reasons: Vec<String>,
        /// The obligations, in any order.
        #[serde(default)]
        obligations: Vec<String>,
    },
    /// An error with this code.
    Error {
        /// The error code.
        error: String,
    },
}

/// One test case: a request and what it must get.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// What the case shows.
    pub name: String,
    /// The case's own inventory (path or inline), overriding the suite's.
    #[serde(default)]
    pub inventory: Option<Value>,
    /// Approvals the case may cite, in addition to the suite's.
    #[serde(default)]
    pub approvals: Vec<Approval>,
    /// The request object, or raw JSON text.
    pub request: Value,
    /// The expected outcome.
    pub expect: Expect,
}

/// A file of cases (a per-article suite), or one case (a vector).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSuite {
    /// The article the suite covers, such as `第十七条`.
    #[serde(default)]
    pub article: Option<String>,
    /// The inventory of every case (path or inline).
    #[serde(default)]
    pub inventory: Option<Value>,
    /// Approvals every case may cite.
    #[serde(default)]
    pub approvals: Vec<Approval>,
    /// The cases.
    pub cases: Vec<TestCase>,
}

/// A workflow approval as the records would resolve it, for policy tests.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The approval id a request cites.
    pub id: String,
    /// The user who approved.
    pub approver: String,
    /// The user the approval is for.
    pub principal: String,
    /// The action it approves.
    pub action: Action,
    /// The dataset it approves.
    pub resource: String,
}

/// Resolves exactly the listed approvals, each for its own principal, action and dataset.
#[derive(Debug)]
struct FixedApprovals(Vec<Approval>);

impl ApprovalResolver for FixedApprovals {
    fn resolve(&self, id: &str, request: &Request) -> Option<ResolvedApproval> {
        self.0
            .iter()
            .find(|a| {
                a.id == id
                    && a.principal == request.principal
                    && a.action == request.action
                    && request.resource.kind == ResourceKind::Dataset
                    && a.resource == request.resource.id
            })
            .map(|a| ResolvedApproval {
                id: a.id.clone(),
                approver: a.approver.clone(),
            })
    }
}

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The case name.
    pub name: String,
    /// What differed: expected and actual.
    pub message: String,
}

impl TestSuite {
    /// Reads a suite file, or a single-case vector file as a suite of one.
    pub fn from_file(path: &Path) -> Result<TestSuite> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| Error::request(format!("test file `{}`: {e}", path.display())))?;
        if value.get("cases").is_some() {
            TestSuite::deserialize(&value)
                .map_err(|e| Error::request(format!("test file `{}`: {e}", path.display())))
        } else {
            let case = TestCase::deserialize(&value)
                .map_err(|e| Error::request(format!("test file `{}`: {e}", path.display())))?;
            Ok(TestSuite {
                article: None,
                inventory: None,
                approvals: Vec::new(),
                cases: vec![case],
            })
        }
    }

    /// Runs every case against `pack`, with inventories resolved from `root`.
    /// Returns the number of cases run and the failures.
    pub fn run(&self, pack: &PolicyPack, root: &Path) -> Result<(usize, Vec<Failure>)> {
        let results = self.run_cases(pack, &[root])?;
        let failures = results
            .iter()
            .filter(|r| !r.passed())
            .map(|r| Failure {
                name: r.name.clone(),
                message: r.message(),
            })
            .collect();
        Ok((results.len(), failures))
    }

    /// Runs every case against `pack` and returns the outcome of each, in order.
    ///
    /// An inventory given as a path is looked up under each of `roots` in turn (the
    /// first that holds it wins). An inventory that cannot be loaded is an error for
    /// the whole suite; a request the engine rejects is the case's outcome.
    pub fn run_cases(&self, pack: &PolicyPack, roots: &[&Path]) -> Result<Vec<CaseResult>> {
        let mut results = Vec::with_capacity(self.cases.len());
        let mut engines: Vec<(Value, Engine)> = Vec::new();
        for case in &self.cases {
            let inv_ref = case
                .inventory
                .as_ref()
                .or(self.inventory.as_ref())
                .ok_or_else(|| {
                    Error::request(format!(
                        "case `{}` has no inventory",
                        crate::quote::quote(&case.name)
                    ))
                })?;
            let engine = match engines.iter().position(|(v, _)| v == inv_ref) {
                Some(i) => &engines[i].1,
                None => {
                    let inventory = load_inventory_from(inv_ref, roots)?;
                    engines.push((inv_ref.clone(), Engine::new(pack.clone(), inventory)));
                    &engines[engines.len() - 1].1
                }
            };
            let approvals: Vec<Approval> = self
                .approvals
                .iter()
                .chain(&case.approvals)
                .cloned()
                .collect();
            engine.set_approval_resolver(if approvals.is_empty() {
                None
            } else {
                Some(Arc::new(FixedApprovals(approvals)))
            });
            results.push(CaseResult {
                name: case.name.clone(),
                expected: case.expect.clone(),
                actual: outcome(engine, &case.request),
            });
        }
        Ok(results)
    }
}

/// Loads an inventory given as a path (from `root`) or inline.
pub fn load_inventory(reference: &Value, root: &Path) -> Result<Inventory> {
    load_inventory_from(reference, &[root])
}

/// Loads an inventory given inline, or as a path looked up under each of `roots` in
/// turn (the first root is used when none holds the file, so the error names it).
fn load_inventory_from(reference: &Value, roots: &[&Path]) -> Result<Inventory> {
    match reference {
        Value::String(path) => {
            let found = roots
                .iter()
                .map(|r| r.join(path))
                .find(|p| p.is_file())
                .or_else(|| roots.first().map(|r| r.join(path)))
                .unwrap_or_else(|| PathBuf::from(path));
            Inventory::from_file(found)
        }
        other => Inventory::from_json(other),
    }
}

/// What a request actually got: a decision, or an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    /// A decision.
    Decision {
        /// `allow` or `deny`.
        decision: String,
        /// The policy ids of the reasons, in the engine's order.
        reasons: Vec<String>,
        /// The obligations, in the engine's order.
        obligations: Vec<String>,
    },
    /// An error.
    Error {
        /// The error code.
        error: String,
        /// The error message.
        message: String,
    },
}

/// Decides `request` (an object, or raw JSON text) with `engine`.
fn outcome(engine: &Engine, request: &Value) -> Outcome {
    let decided = match request {
        Value::String(text) => engine.decide_json(text),
        other => Request::from_json(other).and_then(|r| engine.decide(&r)),
    };
    match decided {
        Ok(d) => Outcome::Decision {
            decision: d.decision().to_owned(),
            reasons: d.reason_ids().into_iter().map(str::to_owned).collect(),
            obligations: d.obligations().to_vec(),
        },
        Err(e) => Outcome::Error {
            error: e.code().to_owned(),
            message: e.to_string(),
        },
    }
}

/// Expected reasons and obligations, then actual reasons and obligations.
type Lists<'a> = (&'a [String], &'a [String], &'a [String], &'a [String]);

/// The outcome of one case against what it expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The case name.
    pub name: String,
    /// What the case expects.
    pub expected: Expect,
    /// What the request got.
    pub actual: Outcome,
}

fn set_of(items: &[String]) -> BTreeSet<&str> {
    items.iter().map(String::as_str).collect()
}

/// The items of `a` that `b` lacks, each once, in the order of `a`.
fn minus<'a>(a: &'a [String], b: &[String]) -> Vec<&'a str> {
    let b = set_of(b);
    let mut seen = BTreeSet::new();
    a.iter()
        .map(String::as_str)
        .filter(|x| !b.contains(x) && seen.insert(*x))
        .collect()
}

impl CaseResult {
    /// Whether the request got what the case expects (reasons and obligations are
    /// compared as sets).
    pub fn passed(&self) -> bool {
        match (&self.expected, &self.actual) {
            (Expect::Error { error }, Outcome::Error { error: got, .. }) => error == got,
            (
                Expect::Decision {
                    decision,
                    reasons,
                    obligations,
                },
                Outcome::Decision {
                    decision: d,
                    reasons: r,
                    obligations: o,
                },
            ) => decision == d && set_of(reasons) == set_of(r) && set_of(obligations) == set_of(o),
            _ => false,
        }
    }

    /// Expected reason policy ids that the decision does not give.
    pub fn missing_reasons(&self) -> Vec<&str> {
        self.lists()
            .map_or_else(Vec::new, |(er, _, ar, _)| minus(er, ar))
    }

    /// Reason policy ids that the decision gives and the case does not expect.
    pub fn unexpected_reasons(&self) -> Vec<&str> {
        self.lists()
            .map_or_else(Vec::new, |(er, _, ar, _)| minus(ar, er))
    }

    /// Expected obligations that the decision does not carry.
    pub fn missing_obligations(&self) -> Vec<&str> {
        self.lists()
            .map_or_else(Vec::new, |(_, eo, _, ao)| minus(eo, ao))
    }

    /// Obligations that the decision carries and the case does not expect.
    pub fn unexpected_obligations(&self) -> Vec<&str> {
        self.lists()
            .map_or_else(Vec::new, |(_, eo, _, ao)| minus(ao, eo))
    }

    /// Expected reasons and obligations, then actual ones, when both are decisions.
    fn lists(&self) -> Option<Lists<'_>> {
        match (&self.expected, &self.actual) {
            (
                Expect::Decision {
                    reasons,
                    obligations,
                    ..
                },
                Outcome::Decision {
                    reasons: r,
                    obligations: o,
                    ..
                },
            ) => Some((reasons, obligations, r, o)),
            _ => None,
        }
    }

    /// One line saying what differed: expected and actual, with the policy ids and
    /// obligations that are missing or unexpected. Empty for a case that passed.
    pub fn message(&self) -> String {
        if self.passed() {
            return String::new();
        }
        let mut text = format!("expected {}, got {}", self.expected, self.actual);
        let mut parts = Vec::new();
        for (label, items) in [
            ("missing reasons", self.missing_reasons()),
            ("unexpected reasons", self.unexpected_reasons()),
            ("missing obligations", self.missing_obligations()),
            ("unexpected obligations", self.unexpected_obligations()),
        ] {
            if !items.is_empty() {
                parts.push(format!("{label}: {}", items.join(", ")));
            }
        }
        if !parts.is_empty() {
            text.push_str(" (");
            text.push_str(&parts.join("; "));
            text.push(')');
        }
        text
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Decision {
                decision,
                reasons,
                obligations,
            } => write_decision(f, decision, reasons, obligations),
            Expect::Error { error } => write!(f, "error `{error}`"),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Decision {
                decision,
                reasons,
                obligations,
            } => write_decision(f, decision, reasons, obligations),
            Outcome::Error { error, message } => write!(f, "error `{error}` ({message})"),
        }
    }
}

fn write_decision(
    f: &mut fmt::Formatter<'_>,
    decision: &str,
    reasons: &[String],
    obligations: &[String],
) -> fmt::Result {
    write!(f, "{decision} [{}]", reasons.join(", "))?;
    if !obligations.is_empty() {
        write!(f, " with obligations [{}]", obligations.join(", "))?;
    }
    Ok(())
}

/// Decides `request` with `engine` and compares the outcome with `expect`.
pub fn check(engine: &Engine, request: &Value, expect: &Expect) -> std::result::Result<(), String> {
    let result = CaseResult {
        name: String::new(),
        expected: expect.clone(),
        actual: outcome(engine, request),
    };
    if result.passed() {
        Ok(())
    } else {
        Err(result.message())
    }
}

/// The outcome of one test file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteResult {
    /// The file.
    pub file: PathBuf,
    /// The article the suite covers, when it names one.
    pub article: Option<String>,
    /// The outcome of each case, in the file's order.
    pub cases: Vec<CaseResult>,
}

/// The outcome of a run over several test files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestReport {
    /// One result per file, in the order run.
    pub suites: Vec<SuiteResult>,
}

impl TestReport {
    /// The number of cases that passed.
    pub fn passed(&self) -> usize {
        self.cases().filter(|(_, c)| c.passed()).count()
    }

    /// The number of cases that failed.
    pub fn failed(&self) -> usize {
        self.cases().filter(|(_, c)| !c.passed()).count()
    }

    /// Every case with the file it is in.
    pub fn cases(&self) -> impl Iterator<Item = (&Path, &CaseResult)> {
        self.suites
            .iter()
            .flat_map(|s| s.cases.iter().map(move |c| (s.file.as_path(), c)))
    }

    /// The report as JSON: every case with its file, expected and actual outcome,
    /// and the totals.
    pub fn to_json(&self) -> Value {
        let suites: Vec<Value> = self
            .suites
            .iter()
            .map(|s| {
                let cases: Vec<Value> = s
                    .cases
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "name": c.name,
                            "passed": c.passed(),
                            "expected": c.expected,
                            "actual": c.actual,
                            "missing_reasons": c.missing_reasons(),
                            "unexpected_reasons": c.unexpected_reasons(),
                            "missing_obligations": c.missing_obligations(),
                            "unexpected_obligations": c.unexpected_obligations(),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "file": s.file.display().to_string(),
                    "article": s.article,
                    "cases": cases,
                })
            })
            .collect();
        serde_json::json!({
            "suites": suites,
            "passed": self.passed(),
            "failed": self.failed(),
        })
    }
}

/// A test file that could not be run: unreadable, malformed, or naming an inventory
/// that does not load.
#[derive(Debug)]
pub struct FileError {
    file: PathBuf,
    error: Error,
}

impl FileError {
    /// The file.
    pub fn file(&self) -> &Path {
        &self.file
    }
    /// What went wrong; its [`Error::code`] is the stable code.
    pub fn error(&self) -> &Error {
        &self.error
    }
    /// Takes the error out.
    pub fn into_error(self) -> Error {
        self.error
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.file.display(), self.error)
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Runs test files against `pack`, the way `govdata test` does.
///
/// An inventory given as a path is looked up under `root`, then under the file's own
/// directory and each directory above it, so that suites run from anywhere. Stops at
/// the first file that cannot be run.
pub fn run_files(
    pack: &PolicyPack,
    files: &[PathBuf],
    root: &Path,
) -> std::result::Result<TestReport, FileError> {
    let mut report = TestReport::default();
    for file in files {
        let fail = |error| FileError {
            file: file.clone(),
            error,
        };
        let suite = TestSuite::from_file(file).map_err(fail)?;
        let mut roots: Vec<&Path> = vec![root];
        roots.extend(file.parent().into_iter().flat_map(Path::ancestors));
        let cases = suite.run_cases(pack, &roots).map_err(fail)?;
        report.suites.push(SuiteResult {
            file: file.clone(),
            article: suite.article,
            cases,
        });
    }
    Ok(report)
}

/// The test files of a directory (`*.json`), sorted.
pub fn test_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// The built-in default pack with the `*.cedar` files of each of `extra` added (in
/// name order): a department's own policies beside the default pack, whose forbids
/// keep applying — what `govdata test` and `govdata prove` check when no pack
/// directory is given.
pub fn default_pack_with(extra: &[&Path]) -> Result<PolicyPack> {
    if extra.is_empty() {
        return PolicyPack::default_pack();
    }
    let mut files: Vec<(String, String)> = super::DEFAULT_FILES
        .iter()
        .map(|(n, t)| (format!("policies/{n}"), (*t).to_owned()))
        .collect();
    for dir in extra {
        files.extend(super::read_cedar_files(dir)?);
    }
    PolicyPack::from_sources(
        ("policies/schema.cedarschema", super::DEFAULT_SCHEMA),
        &files,
    )
}
