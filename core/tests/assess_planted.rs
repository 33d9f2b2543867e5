//! The planted-problem scenario (`tests/assess/README.md`): the assessment finds
//! exactly the planted problems, and the clean example none of them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod assess_support;

use assess_support::*;
use govdata::assess::{RecordType, Severity};

/// What the example itself gives (its own gaps, and what no audit log covers).
const EXAMPLE_FINDINGS: &[(&str, Severity)] = &[
    ("no_security_officer:jiaotong", Severity::High),
    ("no_security_officer:zhujian", Severity::High),
    ("ungraded_dataset:grid-survey", Severity::Medium),
];

fn planted_expected(s: &Scenario) -> Vec<(String, Severity)> {
    let m = |k: &str| s.mark(k).to_owned();
    let mut v: Vec<(String, Severity)> = vec![
        // Art. 5
        ("no_security_officer:shuiwu".into(), Severity::High),
        // Art. 7, 16
        ("sensitive_data_unencrypted:hukou".into(), Severity::High),
        ("data_unencrypted:traffic-flow".into(), Severity::Low),
        (
            "key_not_rotated:dk-medical-records-1".into(),
            Severity::Medium,
        ),
        // Art. 8
        (
            format!("audit_retention_breach:purge-{}", m("purge")),
            Severity::Critical,
        ),
        ("audit_backup_overdue".into(), Severity::High),
        (
            format!("audit_backup_unverifiable:{}", m("backup")),
            Severity::High,
        ),
        (
            format!("audit_gap:{}-{}", m("gap_from"), m("gap_to")),
            Severity::Low,
        ),
        // Art. 10
        ("ungraded_dataset:legacy-archive".into(), Severity::High),
        (
            "uncatalogued_dataset_used:legacy-archive".into(),
            Severity::High,
        ),
        ("unknown_dataset_used:shadow-copy".into(), Severity::High),
        // Art. 14
        (
            format!("share_without_review:record-{}", m("unreviewed_provision")),
            Severity::High,
        ),
        (
            format!("share_without_review:record-{}", m("unapproved_share")),
            Severity::High,
        ),
        (
            format!("share_past_term:{}", m("past_share")),
            Severity::Medium,
        ),
        // Art. 15
        (
            "destruction_without_approval:employment-stats".into(),
            Severity::Critical,
        ),
        (
            "destruction_without_approval:subsidy-list".into(),
            Severity::Critical,
        ),
        // Art. 16, 17
        ("vendor_beyond_contract:vendor.li".into(), Severity::High),
        ("vendor_beyond_contract:vendor.sun".into(), Severity::High),
        ("vendor_beyond_contract:vendor.zhao".into(), Severity::High),
        ("vendor_superadmin:vendor.li".into(), Severity::Critical),
        ("vendor_superadmin:vendor.zhao".into(), Severity::Critical),
        (
            "superadmin_not_designated:zhang.san:gongan-db".into(),
            Severity::High,
        ),
    ];
    v.sort();
    v
}

fn with_example(
    mut v: Vec<(String, Severity)>,
    extra: &[(&str, Severity)],
) -> Vec<(String, Severity)> {
    v.extend(EXAMPLE_FINDINGS.iter().map(|(i, s)| ((*i).to_owned(), *s)));
    v.extend(extra.iter().map(|(i, s)| ((*i).to_owned(), *s)));
    v.sort();
    v
}

fn found(a: &govdata::Assessment) -> Vec<(String, Severity)> {
    let mut v: Vec<(String, Severity)> = a
        .findings
        .iter()
        .map(|f| (f.id.clone(), f.severity))
        .collect();
    v.sort();
    v
}

#[test]
fn the_planted_scenario_yields_exactly_the_planted_findings() {
    let s = scenario(true);
    let a = s.assess();
    let expected = with_example(
        planted_expected(&s),
        // The log does not reach back over the 200-day window of the scenario.
        &[("unused_window_uncovered", Severity::Info)],
    );
    assert_eq!(found(&a), expected);
    // Most severe first.
    let sev: Vec<Severity> = a.findings.iter().map(|f| f.severity).collect();
    let mut desc = sev.clone();
    desc.sort_by(|x, y| y.cmp(x));
    assert_eq!(sev, desc);
}

#[test]
fn the_clean_example_yields_none_of_the_planted_findings() {
    let planted = scenario(true);
    let planted_ids: Vec<String> = planted_expected(&planted)
        .into_iter()
        .map(|x| x.0)
        .collect();
    let planted_codes: Vec<String> = planted_ids
        .iter()
        .map(|i| i.split(':').next().unwrap().to_owned())
        .collect();

    // The same timeline with the procedures run properly, the example inventory and
    // a key for every dataset.
    let clean = scenario(false);
    let a = clean.assess();
    assert_eq!(
        found(&a),
        with_example(
            Vec::new(),
            &[
                ("unused_window_uncovered", Severity::Info),
                ("vendor_contract_unrecorded:acme", Severity::Info),
                ("vendor_contract_unrecorded:datacloud", Severity::Info),
            ]
        )
    );
    for f in &a.findings {
        assert!(!planted_ids.contains(&f.id), "{}", f.id);
    }
    // Not even a planted kind of finding, apart from the example's own.
    for f in &a.findings {
        let own = EXAMPLE_FINDINGS.iter().any(|(i, _)| *i == f.id);
        assert!(
            own || !planted_codes.contains(&f.code.as_str().to_owned()),
            "{}",
            f.id
        );
    }
    let backup = &a.sources.audit.as_ref().unwrap().latest_backup;
    assert_eq!(backup.as_ref().unwrap().state, "verified");

    // The example inventory alone: no audit log, no key store, and it says so.
    let a = run(&example_inventory(), None, None);
    assert_eq!(
        found(&a),
        with_example(
            Vec::new(),
            &[
                ("audit_not_assessed", Severity::Info),
                ("vault_not_assessed", Severity::Info),
                ("vendor_contract_unrecorded:acme", Severity::Info),
                ("vendor_contract_unrecorded:datacloud", Severity::Info),
            ]
        )
    );
}

#[test]
fn findings_cite_their_article_name_their_records_and_say_what_to_do() {
    let s = scenario(true);
    let a = s.assess();
    for f in &a.findings {
        assert!(!f.title.zh.is_empty() && !f.title.en.is_empty(), "{}", f.id);
        assert!(
            !f.detail.zh.is_empty() && !f.detail.en.is_empty(),
            "{}",
            f.id
        );
        assert!(
            !f.remediation.zh.is_empty() && !f.remediation.en.is_empty(),
            "{}",
            f.id
        );
        assert!(f.article.zh.starts_with('第'), "{}", f.id);
        assert!(f.article.source.contains("measures.zh.txt"), "{}", f.id);
        assert!(f.id.starts_with(f.code.as_str()), "{}", f.id);
        // Every record a finding names is in the report, linked back to it.
        for r in &f.records {
            let info = a
                .records
                .iter()
                .find(|x| x.kind == r.kind && x.id == r.id)
                .unwrap_or_else(|| panic!("{}: {r:?} not in the report", f.id));
            assert!(info.findings.contains(&f.id));
            assert_eq!(info.anchor, r.anchor());
        }
    }

    let provision = s.mark("unreviewed_provision");
    let f = a
        .finding(&format!("share_without_review:record-{provision}"))
        .unwrap();
    assert_eq!(f.article.zh, "第十四条");
    let refs: Vec<(RecordType, &str)> = f.records.iter().map(|r| (r.kind, r.id.as_str())).collect();
    assert!(refs.contains(&(RecordType::AuditRecord, provision)));
    assert!(refs.contains(&(RecordType::Dataset, "hukou")));
    assert!(refs.contains(&(RecordType::Share, "shr-000003")));
    assert_eq!(f.departments, ["gongan", "minzheng"]);

    let f = a
        .finding("destruction_without_approval:subsidy-list")
        .unwrap();
    assert_eq!(f.article.zh, "第十五条");
    let refs: Vec<(RecordType, &str)> = f.records.iter().map(|r| (r.kind, r.id.as_str())).collect();
    // The shred's record and the key, which the key store shows destroyed too, once.
    assert_eq!(
        refs.iter().filter(|r| r.0 == RecordType::Key).count(),
        1,
        "{refs:?}"
    );
    assert!(refs.contains(&(RecordType::Key, "dk-subsidy-list-1")));
    assert_eq!(f.departments, ["minzheng"]);

    let f = a.finding("vendor_superadmin:vendor.li").unwrap();
    assert_eq!(f.article.zh, "第十七条");
    assert_eq!(f.related_articles[0].zh, "第十六条");
    let info = a
        .records
        .iter()
        .find(|r| r.kind == RecordType::User && r.id == "vendor.li")
        .unwrap();
    assert_eq!(info.facts["vendor"], "acme");
    assert_eq!(info.anchor, "rec-user-vendor_2eli");

    // The audit findings fall to the operator (Art. 7, 8).
    assert_eq!(
        a.finding("audit_backup_overdue").unwrap().departments,
        ["yunying"]
    );
}

#[test]
fn the_summary_counts_the_findings() {
    let a = scenario(true).assess();
    let s = &a.summary;
    assert_eq!(s.total, a.findings.len());
    assert_eq!(s.max_severity, Some(Severity::Critical));
    let by_sev: usize = Severity::ALL.iter().map(|x| s.by_severity.get(*x)).sum();
    assert_eq!(by_sev, s.total);
    for sev in Severity::ALL {
        assert_eq!(
            s.by_severity.get(*sev),
            a.findings.iter().filter(|f| f.severity == *sev).count()
        );
    }
    assert_eq!(s.by_article.iter().map(|x| x.total).sum::<usize>(), s.total);
    let art8 = s.by_article.iter().find(|x| x.article == "art8").unwrap();
    assert_eq!(art8.total, 4);
    assert_eq!(art8.by_severity.critical, 1);
    for d in &s.by_department {
        let n = a
            .findings
            .iter()
            .filter(|f| match &d.department {
                Some(id) => f.departments.contains(id),
                None => f.departments.is_empty(),
            })
            .count();
        assert_eq!(d.total, n, "{:?}", d.department);
    }
    let shuiwu = s
        .by_department
        .iter()
        .find(|d| d.department.as_deref() == Some("shuiwu"))
        .unwrap();
    // Its missing officer and its vendor officer.
    assert_eq!(shuiwu.total, 2);
    assert_eq!(s.by_code["vendor_beyond_contract"], 3);
    assert_eq!(a.findings_at_or_above(Severity::Critical), 5);
}

#[test]
fn the_same_sources_and_time_give_the_same_report() {
    let s = scenario(true);
    let one = s.assess();
    let two = s.assess();
    assert_eq!(one.to_json_string(), two.to_json_string());
    assert_eq!(one.to_html(), two.to_html());
    let json = one.to_json();
    assert_eq!(json["format"], "govdata-assessment/1");
    assert_eq!(json["now"], "2026-01-15T00:00:00.000Z");
    assert_eq!(json["findings"][0]["severity"], "critical");
    assert!(json["findings"][0]["article"]["quote_zh"].is_string());
}
