//! The proofs range over the requests the engine can pose. This checks that the
//! well-formedness condition they assume holds for every request of the policy
//! suites and the shared vectors, as the engine turns them into Cedar: were it too
//! strong, a proof could miss a real request.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use cedar_policy::{Authorizer, Decision, Entities, PolicySet, RequestEnv};
use govdata::policy::testing::{load_inventory, test_files, TestSuite};
use govdata::{Engine, PolicyPack, Request};
use govdata_prove::well_formed_condition;
use std::path::{Path, PathBuf};
use std::str::FromStr;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_request_of_the_suites_and_vectors_is_well_formed() {
    let pack = PolicyPack::default_pack().unwrap();
    let mut files = test_files(&root().join("policies/tests")).unwrap();
    files.extend(test_files(&root().join("tests/vectors")).unwrap());
    let mut checked = 0;
    for file in files {
        let suite = TestSuite::from_file(&file).unwrap();
        for case in &suite.cases {
            let Ok(request) = Request::from_json(&case.request) else {
                continue;
            };
            let inv = case
                .inventory
                .as_ref()
                .or(suite.inventory.as_ref())
                .unwrap();
            let engine = Engine::new(pack.clone(), load_inventory(inv, &root()).unwrap());
            let plain = engine.plain_cedar().unwrap();
            let Ok(cedar_request) = plain.cedar_request(&request) else {
                continue; // a case about bad input
            };
            let entities = Entities::from_json_value(plain.entities_json().unwrap(), None).unwrap();
            let env = RequestEnv::new(
                cedar_request.principal().unwrap().type_name().clone(),
                cedar_request.action().unwrap().clone(),
                cedar_request.resource().unwrap().type_name().clone(),
            );
            let condition = well_formed_condition(&env);
            let policy = PolicySet::from_str(&format!(
                "permit (principal, action, resource) when {{ {condition} }};"
            ))
            .unwrap();
            let response = Authorizer::new().is_authorized(&cedar_request, &policy, &entities);
            assert!(
                response.decision() == Decision::Allow,
                "{}: {}: not well formed ({:?})\n{condition}",
                file.display(),
                case.name,
                response.diagnostics().errors().collect::<Vec<_>>()
            );
            checked += 1;
        }
    }
    assert!(checked >= 150, "only {checked} requests checked");
}
