//! The per-article policy tests of `policies/tests/`: for every article, the requests
//! the default pack must allow and deny; and every policy of the pack shown deciding.

mod common;

use govdata::policy::testing::{test_files, TestSuite};
use govdata::PolicyPack;
use std::collections::BTreeMap;

#[test]
fn every_article_suite_passes() {
    let pack = PolicyPack::from_dir(common::policies_dir()).unwrap();
    let files = test_files(&common::policies_dir().join("tests")).unwrap();
    assert!(
        files.len() >= 15,
        "expected a suite per article, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    let mut total = 0;
    for file in &files {
        let suite = TestSuite::from_file(file).unwrap();
        assert!(
            suite.article.is_some(),
            "{} names no article",
            file.display()
        );
        let (n, f) = suite.run(&pack, &common::root()).unwrap();
        total += n;
        for fail in f {
            failures.push(format!(
                "{}: {}: {}",
                file.display(),
                fail.name,
                fail.message
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 100, "only {total} cases");
}

#[test]
fn every_suite_shows_both_an_allow_and_a_deny() {
    for file in test_files(&common::policies_dir().join("tests")).unwrap() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("\"decision\": \"allow\""),
            "{} has no allowed request",
            file.display()
        );
        assert!(
            text.contains("\"decision\": \"deny\""),
            "{} has no denied request",
            file.display()
        );
    }
}

/// Every policy of the pack decides at least one case: a permit allows, a forbid denies.
#[test]
fn every_policy_is_shown_deciding() {
    let pack = PolicyPack::from_dir(common::policies_dir()).unwrap();
    let mut seen: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for file in test_files(&common::policies_dir().join("tests")).unwrap() {
        let suite = TestSuite::from_file(&file).unwrap();
        for case in suite.cases {
            if let govdata::policy::testing::Expect::Decision {
                decision, reasons, ..
            } = case.expect
            {
                for r in reasons {
                    let e = seen.entry(r).or_default();
                    if decision == "allow" {
                        e.0 = true;
                    } else {
                        e.1 = true;
                    }
                }
            }
        }
    }
    let mut missing = Vec::new();
    for p in pack.policies() {
        let (allows, denies) = seen.get(p.id()).copied().unwrap_or_default();
        if p.is_forbid() && !denies {
            missing.push(format!("forbid `{}` denies no case", p.id()));
        }
        if !p.is_forbid() && !allows {
            missing.push(format!("permit `{}` allows no case", p.id()));
        }
    }
    assert!(
        seen.get("default-deny").is_some_and(|e| e.1),
        "no default-deny case"
    );
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Every policy cites an article of the regulation, and the suite file of that
/// article exists.
#[test]
fn every_policy_cites_an_article_with_a_suite() {
    let pack = PolicyPack::from_dir(common::policies_dir()).unwrap();
    let suites: Vec<String> = test_files(&common::policies_dir().join("tests"))
        .unwrap()
        .iter()
        .filter_map(|f| TestSuite::from_file(f).ok()?.article)
        .collect();
    for p in pack.policies() {
        assert!(
            p.article().starts_with('第') && p.article().ends_with('条'),
            "{}: {}",
            p.id(),
            p.article()
        );
        assert!(
            suites.iter().any(|a| a == p.article()),
            "no suite for {} ({})",
            p.article(),
            p.id()
        );
        assert!(!p.zh().is_empty() && !p.en().is_empty());
    }
}

/// The compiled-in default pack is the pack on disk.
#[test]
fn compiled_in_pack_matches_the_files() {
    let disk = PolicyPack::from_dir(common::policies_dir()).unwrap();
    let builtin = PolicyPack::default_pack().unwrap();
    let ids = |p: &PolicyPack| {
        p.policies()
            .iter()
            .map(|i| i.id().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&disk), ids(&builtin));
    assert_eq!(disk.version(), builtin.version());
}

/// The README's article table names every policy of the pack, so that it cannot
/// drift from the pack.
#[test]
fn the_readme_table_names_every_policy() {
    let pack = PolicyPack::from_dir(common::policies_dir()).unwrap();
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let missing: Vec<&str> = pack
        .policies()
        .iter()
        .map(|p| p.id())
        .filter(|id| !readme.contains(&format!("`{id}`")))
        .collect();
    assert!(missing.is_empty(), "README.md does not name: {missing:?}");
}
