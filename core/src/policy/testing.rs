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
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a case expects.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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
        let mut failures = Vec::new();
        let mut engines: Vec<(Value, Engine)> = Vec::new();
        for case in &self.cases {
            let inv_ref = case
                .inventory
                .as_ref()
                .or(self.inventory.as_ref())
                .ok_or_else(|| Error::request(format!("case `{}` has no inventory", case.name)))?;
            let engine = match engines.iter().position(|(v, _)| v == inv_ref) {
                Some(i) => &engines[i].1,
                None => {
                    let inventory = load_inventory(inv_ref, root)?;
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
            if let Err(message) = check(engine, &case.request, &case.expect) {
                failures.push(Failure {
                    name: case.name.clone(),
                    message,
                });
            }
        }
        Ok((self.cases.len(), failures))
    }
}

/// Loads an inventory given as a path (from `root`) or inline.
pub fn load_inventory(reference: &Value, root: &Path) -> Result<Inventory> {
    match reference {
        Value::String(path) => Inventory::from_file(root.join(path)),
        other => Inventory::from_json(other),
    }
}

/// Decides `request` with `engine` and compares the outcome with `expect`.
pub fn check(engine: &Engine, request: &Value, expect: &Expect) -> std::result::Result<(), String> {
    let outcome = match request {
        Value::String(text) => engine.decide_json(text),
        other => Request::from_json(other).and_then(|r| engine.decide(&r)),
    };
    match (expect, outcome) {
        (Expect::Error { error }, Err(e)) if e.code() == error => Ok(()),
        (Expect::Error { error }, Err(e)) => Err(format!(
            "expected error `{error}`, got error `{}`: {e}",
            e.code()
        )),
        (Expect::Error { error }, Ok(d)) => Err(format!(
            "expected error `{error}`, got {}",
            d.to_json_string()
        )),
        (Expect::Decision { .. }, Err(e)) => Err(format!(
            "expected a decision, got error `{}`: {e}",
            e.code()
        )),
        (
            Expect::Decision {
                decision,
                reasons,
                obligations,
            },
            Ok(d),
        ) => {
            let want_reasons: BTreeSet<&str> = reasons.iter().map(String::as_str).collect();
            let got_reasons: BTreeSet<&str> = d.reason_ids().into_iter().collect();
            let want_obl: BTreeSet<&str> = obligations.iter().map(String::as_str).collect();
            let got_obl: BTreeSet<&str> = d.obligations().iter().map(String::as_str).collect();
            if d.decision() == decision && want_reasons == got_reasons && want_obl == got_obl {
                Ok(())
            } else {
                Err(format!(
                    "expected {decision} {want_reasons:?} {want_obl:?}, got {} {got_reasons:?} {got_obl:?}",
                    d.decision()
                ))
            }
        }
    }
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
