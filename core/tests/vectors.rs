//! The shared conformance vectors of `tests/vectors/`, as the Rust API sees them. The
//! Python, Node and C suites run the same files.

mod common;

use govdata::policy::testing::{test_files, TestSuite};
use govdata::PolicyPack;

#[test]
fn shared_vectors() {
    let pack = PolicyPack::default_pack().unwrap();
    let files = test_files(&common::root().join("tests/vectors")).unwrap();
    assert!(files.len() >= 40, "only {} vectors", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let suite = TestSuite::from_file(file).unwrap();
        assert_eq!(
            suite.cases.len(),
            1,
            "{} must hold one vector",
            file.display()
        );
        let (_, f) = suite.run(&pack, &common::root()).unwrap();
        for fail in f {
            failures.push(format!(
                "{}: {}: {}",
                file.display(),
                fail.name,
                fail.message
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
