use super::*;
use crate::engine::Resource;

fn inventory() -> Inventory {
    Inventory::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/examples/inventory.json"
    ))
    .unwrap()
}

/// Monday 2026-12-07, 10:00 in China Standard Time.
const MONDAY_10: i64 = 1_796_608_800_000;
const MIN: i64 = 60_000;

fn record(
    seq: u64,
    at: i64,
    user: &str,
    action: Action,
    dataset: &str,
    allow: bool,
) -> AuditRecord {
    let event = Event {
        kind: DECISION_KIND.into(),
        user: Some(user.into()),
        action: Some(action),
        resource: Some(Resource::dataset(dataset)),
        decision: Some(if allow { Verdict::Allow } else { Verdict::Deny }),
        outcome: if allow {
            Outcome::Success
        } else {
            Outcome::Failure
        },
        ..Event::default()
    };
    AuditRecord {
        seq,
        time: Timestamp::from_unix_millis(at),
        event,
    }
}

fn detector() -> AlertDetector {
    AlertDetector::new(AlertThresholds::default(), WorkingCalendar::new())
}

fn kinds(alerts: &[Alert]) -> Vec<AlertKind> {
    alerts.iter().map(|a| a.kind).collect()
}

#[test]
fn the_test_clock_is_a_monday_morning() {
    let d = detector();
    let t = Timestamp::from_unix_millis(MONDAY_10);
    assert_eq!(t.to_string(), "2026-12-07T02:00:00.000Z");
    assert!(d.is_working_time(t));
    assert!(!d.is_working_time(Timestamp::from_unix_millis(MONDAY_10 - 3 * 60 * MIN)));
    assert!(!d.is_working_time(Timestamp::from_unix_millis(MONDAY_10 + 9 * 60 * MIN)));
    assert!(!d.is_working_time(Timestamp::from_unix_millis(MONDAY_10 - 2 * 1440 * MIN)));
}

#[test]
fn a_burst_of_denials_fires_once_and_a_slow_trickle_does_not() {
    let inv = inventory();
    let mut d = detector();
    let mut fired = Vec::new();
    for i in 0..5u64 {
        fired.extend(d.observe(
            &record(
                i + 1,
                MONDAY_10 + i as i64 * MIN,
                "zhang.san",
                Action::Query,
                "hukou",
                false,
            ),
            &inv,
        ));
    }
    assert_eq!(kinds(&fired), vec![AlertKind::DenialBurst]);
    assert_eq!(fired[0].records, vec![1, 2, 3, 4, 5]);
    assert_eq!(fired[0].user.as_deref(), Some("zhang.san"));
    // The sixth denial starts a new window rather than firing again.
    assert!(d
        .observe(
            &record(
                6,
                MONDAY_10 + 5 * MIN,
                "zhang.san",
                Action::Query,
                "hukou",
                false
            ),
            &inv
        )
        .is_empty());

    // Five denials two minutes apart span more than the five-minute window.
    let mut d = detector();
    for i in 0..10u64 {
        let r = record(
            i + 1,
            MONDAY_10 + i as i64 * 2 * MIN,
            "wang.wu",
            Action::Query,
            "hukou",
            false,
        );
        assert!(d.observe(&r, &inv).is_empty(), "{i}");
    }
    // Denials of different users do not add up.
    let mut d = detector();
    for (i, u) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        let r = record(i as u64 + 1, MONDAY_10, u, Action::Query, "hukou", false);
        assert!(d.observe(&r, &inv).is_empty());
    }
}

#[test]
fn bulk_exports_of_highly_graded_data_fire_and_low_grades_do_not() {
    let inv = inventory();
    let mut d = detector();
    let mut fired = Vec::new();
    for (i, ds) in ["hukou", "housing-registry", "medical-records"]
        .iter()
        .enumerate()
    {
        fired.extend(d.observe(
            &record(
                i as u64 + 1,
                MONDAY_10 + i as i64 * 10 * MIN,
                "li.si",
                Action::Export,
                ds,
                true,
            ),
            &inv,
        ));
    }
    assert_eq!(kinds(&fired), vec![AlertKind::BulkExport]);
    assert_eq!(fired[0].records, vec![1, 2, 3]);
    // L3 and below, queries, denied exports, and exports hours apart: nothing.
    let mut d = detector();
    for i in 0..5u64 {
        let at = MONDAY_10 + i as i64 * MIN;
        assert!(d
            .observe(
                &record(i + 1, at, "li.si", Action::Export, "social-insurance", true),
                &inv
            )
            .is_empty());
        assert!(d
            .observe(
                &record(i + 1, at, "li.si", Action::Query, "hukou", true),
                &inv
            )
            .is_empty());
        // Denied exports (by different users, so that no burst of denials forms).
        let user = format!("user{i}");
        assert!(d
            .observe(
                &record(i + 1, at, &user, Action::Export, "hukou", false),
                &inv
            )
            .is_empty());
    }
    let mut d = detector();
    for i in 0..3u64 {
        let at = MONDAY_10 + i as i64 * 70 * MIN;
        let r = record(
            i + 1,
            at.min(MONDAY_10 + 8 * 60 * MIN),
            "li.si",
            Action::Export,
            "hukou",
            true,
        );
        assert!(d.observe(&r, &inv).is_empty());
    }
    // A lower threshold from the configuration counts L3 too.
    let t: AlertThresholds =
        toml::from_str("bulk_export_min_grade = \"L3\"\nbulk_export_count = 2").unwrap();
    let mut d = AlertDetector::new(t, WorkingCalendar::new());
    d.observe(
        &record(
            1,
            MONDAY_10,
            "li.si",
            Action::Export,
            "social-insurance",
            true,
        ),
        &inv,
    );
    let fired = d.observe(
        &record(
            2,
            MONDAY_10 + MIN,
            "li.si",
            Action::Export,
            "subsidy-list",
            true,
        ),
        &inv,
    );
    assert_eq!(kinds(&fired), vec![AlertKind::BulkExport]);
}

#[test]
fn vendor_staff_on_sensitive_personal_information_fire() {
    let inv = inventory();
    let mut d = detector();
    let fired = d.observe(
        &record(1, MONDAY_10, "vendor.wang", Action::Query, "hukou", true),
        &inv,
    );
    assert_eq!(kinds(&fired), vec![AlertKind::VendorSensitive]);
    assert!(fired[0].message.contains("datacloud"));
    assert_eq!(fired[0].dataset.as_deref(), Some("hukou"));
    // Not vendor staff, not sensitive, or denied: nothing.
    assert!(d
        .observe(
            &record(2, MONDAY_10, "zhang.san", Action::Query, "hukou", true),
            &inv
        )
        .is_empty());
    assert!(d
        .observe(
            &record(
                3,
                MONDAY_10,
                "vendor.wang",
                Action::Query,
                "subsidy-list",
                true
            ),
            &inv
        )
        .is_empty());
    assert!(d
        .observe(
            &record(4, MONDAY_10, "vendor.wang", Action::Query, "hukou", false),
            &inv
        )
        .is_empty());
    // Switched off in the configuration.
    let t: AlertThresholds = toml::from_str("vendor_sensitive = false").unwrap();
    let mut d = AlertDetector::new(t, WorkingCalendar::new());
    assert!(d
        .observe(
            &record(1, MONDAY_10, "vendor.wang", Action::Query, "hukou", true),
            &inv
        )
        .is_empty());
}

#[test]
fn activity_outside_working_hours_fires_once_per_cooldown() {
    let inv = inventory();
    let mut d = detector();
    let night = MONDAY_10 + 13 * 60 * MIN; // 23:00 local
    let fired = d.observe(
        &record(1, night, "zhang.san", Action::Query, "traffic-flow", true),
        &inv,
    );
    assert_eq!(kinds(&fired), vec![AlertKind::OffHours]);
    // Again ten minutes later: within the cooldown.
    assert!(d
        .observe(
            &record(
                2,
                night + 10 * MIN,
                "zhang.san",
                Action::Query,
                "traffic-flow",
                true
            ),
            &inv
        )
        .is_empty());
    // Two hours later: a new alert.
    assert_eq!(
        kinds(&d.observe(
            &record(
                3,
                night + 120 * MIN,
                "zhang.san",
                Action::Query,
                "traffic-flow",
                true
            ),
            &inv
        )),
        vec![AlertKind::OffHours]
    );
    // A Saturday at noon, and a holiday from the procedures' calendar.
    let saturday = MONDAY_10 - 2 * 1440 * MIN + 2 * 60 * MIN;
    assert_eq!(
        kinds(&d.observe(
            &record(4, saturday, "wang.wu", Action::Query, "traffic-flow", true),
            &inv
        )),
        vec![AlertKind::OffHours]
    );
    let cal = WorkingCalendar::new().with_holidays([crate::time::Date::new(2026, 12, 7).unwrap()]);
    let mut h = AlertDetector::new(AlertThresholds::default(), cal);
    assert_eq!(
        kinds(&h.observe(
            &record(1, MONDAY_10, "wang.wu", Action::Query, "traffic-flow", true),
            &inv
        )),
        vec![AlertKind::OffHours]
    );
    // Working hours, or a denial at night: nothing.
    assert!(d
        .observe(
            &record(5, MONDAY_10, "chen.yi", Action::Query, "traffic-flow", true),
            &inv
        )
        .is_empty());
    assert!(d
        .observe(
            &record(6, night, "chen.yi", Action::Query, "traffic-flow", false),
            &inv
        )
        .is_empty());
}

#[test]
fn a_silent_node_is_reported() {
    let d = detector();
    let now = Timestamp::from_unix_millis(MONDAY_10);
    let seen = [
        ("etl-01", Timestamp::from_unix_millis(MONDAY_10 - 2 * MIN)),
        ("etl-02", Timestamp::from_unix_millis(MONDAY_10 - 16 * MIN)),
    ];
    let fired = d.check_nodes(seen.iter().map(|(n, t)| (*n, *t)), now);
    assert_eq!(kinds(&fired), vec![AlertKind::NodeSilent]);
    assert_eq!(fired[0].node.as_deref(), Some("etl-02"));
    assert!(d
        .check_nodes(
            [("etl-01", Timestamp::from_unix_millis(MONDAY_10 - 14 * MIN))],
            now
        )
        .is_empty());
}

#[test]
fn alerts_become_audit_events_and_other_records_are_ignored() {
    let inv = inventory();
    let mut d = detector();
    let fired = d.observe(
        &record(9, MONDAY_10, "vendor.wang", Action::Query, "hukou", true),
        &inv,
    );
    let event = fired[0].to_event();
    assert_eq!(event.kind, "alert.vendor_sensitive");
    assert_eq!(event.user.as_deref(), Some("vendor.wang"));
    assert_eq!(event.fields["records"], serde_json::json!([9]));
    assert_eq!(event.fields["dataset"], "hukou");
    // The event is one the log accepts as it is.
    let text = serde_json::to_string(&event).unwrap();
    let back: Event = serde_json::from_str(&text).unwrap();
    assert_eq!(back, event);
    // An alert's own record, or a procedure's step, raises nothing.
    let mut own = record(10, MONDAY_10, "vendor.wang", Action::Query, "hukou", true);
    own.event.kind = "alert.vendor_sensitive".into();
    assert!(d.observe(&own, &inv).is_empty());
    // Unknown fields in the configuration are refused.
    assert!(toml::from_str::<AlertThresholds>("denial_burst = 3").is_err());
    assert_eq!(
        toml::from_str::<AlertThresholds>("").unwrap(),
        AlertThresholds::default()
    );
}

#[test]
fn govdata_toml_carries_the_thresholds() {
    let base = std::env::temp_dir();
    let config = crate::platform::PlatformConfig::from_toml_str(
        "node_id = \"a\"\n[alerts]\ndenial_burst_count = 3\nwork_end_hour = 18\n",
        &base,
    )
    .unwrap();
    assert_eq!(config.alerts.denial_burst_count, 3);
    assert_eq!(config.alerts.work_end_hour, 18);
    assert_eq!(config.alerts.bulk_export_count, 3);
    let plain = crate::platform::PlatformConfig::from_toml_str("node_id = \"a\"\n", &base).unwrap();
    assert_eq!(plain.alerts, AlertThresholds::default());
    let bad = crate::platform::PlatformConfig::from_toml_str(
        "node_id = \"a\"\n[alerts]\nburst = 3\n",
        &base,
    );
    assert_eq!(bad.unwrap_err().code(), "config_invalid");
}
