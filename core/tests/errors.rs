//! Every error code of the policy, inventory and request layers, provoked by a bad
//! input and asserted by its code; and bad input never changes what was loaded.

mod common;

use govdata::model::{Record, RecordKind};
use govdata::{Engine, Error, Inventory, PolicyPack};
use std::path::Path;

const SCHEMA: &str = include_str!("../../policies/schema.cedarschema");

fn pack_with(policy: &str) -> Result<PolicyPack, Error> {
    PolicyPack::from_sources(
        ("schema.cedarschema", SCHEMA),
        &[("dept.cedar".to_owned(), policy.to_owned())],
    )
}

const OK_POLICY: &str = r#"@id("p1") @article("第三条") @zh("甲") @en("a")
permit (principal, action == Action::"query", resource is Dataset);"#;

#[test]
fn a_policy_that_does_not_parse_is_policy_parse_with_line_and_column() {
    let text = "@id(\"p1\") @article(\"第三条\") @zh(\"甲\") @en(\"a\")\npermit (principal, action == Action::\"query\", resource is Dataset)\nwhen { resource.level >>> 3 };";
    let e = pack_with(text).unwrap_err();
    assert_eq!(e.code(), "policy_parse");
    let Error::PolicyParse(src) = &e else {
        unreachable!()
    };
    assert_eq!(src.file(), "dept.cedar");
    assert_eq!(src.line(), 3, "{e}");
    assert!(src.column() > 1, "{e}");
}

#[test]
fn a_policy_that_does_not_type_check_is_policy_validation_naming_file_line_and_column() {
    let text = format!(
        "{OK_POLICY}\n\n@id(\"p2\") @article(\"第三条\") @zh(\"乙\") @en(\"b\")\npermit (principal, action == Action::\"query\", resource is Dataset)\nwhen {{ resource.levl > 3 }};"
    );
    let e = pack_with(&text).unwrap_err();
    assert_eq!(e.code(), "policy_validation");
    let Error::PolicyValidation(src) = &e else {
        unreachable!()
    };
    assert_eq!(
        (src.file(), src.policy(), src.line()),
        ("dept.cedar", "p2", 6),
        "{e}"
    );
    assert!(src.column() >= 8, "{e}");
}

#[test]
fn an_optional_attribute_used_without_has_is_policy_validation() {
    let text = r#"@id("p1") @article("第十七条") @zh("甲") @en("a")
forbid (principal, action == Action::"grant_superadmin", resource is System)
when { context.grantee has vendor };"#;
    assert_eq!(pack_with(text).unwrap_err().code(), "policy_validation");
}

#[test]
fn missing_annotations_duplicate_ids_and_unknown_obligations_are_policy_annotation() {
    let no_article = r#"@id("p1") @zh("甲") @en("a") permit (principal, action, resource);"#;
    let e = pack_with(no_article).unwrap_err();
    assert_eq!(e.code(), "policy_annotation");
    assert!(e.to_string().contains("@article"), "{e}");

    let no_id = r#"@article("第三条") @zh("甲") @en("a") permit (principal, action, resource);"#;
    assert_eq!(pack_with(no_id).unwrap_err().code(), "policy_annotation");

    let dup = format!("{OK_POLICY}\n{OK_POLICY}");
    let e = pack_with(&dup).unwrap_err();
    assert_eq!(e.code(), "policy_annotation");
    assert!(e.to_string().contains("duplicate"), "{e}");

    let unknown = r#"@id("p1") @article("第三条") @zh("甲") @en("a") @obligations("watermark,teleport")
permit (principal, action == Action::"query", resource is Dataset);"#;
    let e = pack_with(unknown).unwrap_err();
    assert_eq!(e.code(), "policy_annotation");
    assert!(e.to_string().contains("teleport"), "{e}");

    let forbid_obl = r#"@id("p1") @article("第三条") @zh("甲") @en("a") @obligations("watermark")
forbid (principal, action == Action::"query", resource is Dataset);"#;
    assert_eq!(
        pack_with(forbid_obl).unwrap_err().code(),
        "policy_annotation"
    );
}

#[test]
fn a_bad_schema_is_schema_invalid() {
    let e = PolicyPack::from_sources(
        ("schema.cedarschema", "entity User = { name: Strin };"),
        &[],
    )
    .unwrap_err();
    assert_eq!(e.code(), "schema_invalid");
}

#[test]
fn a_missing_pack_directory_is_io() {
    let e = PolicyPack::from_dir(Path::new("/nonexistent/govdata-pack")).unwrap_err();
    assert_eq!(e.code(), "io");
}

#[test]
fn a_department_may_add_its_own_policies_beside_the_default_pack() {
    let dir = std::env::temp_dir().join(format!("govdata-dept-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("renshe.cedar"),
        r#"@id("renshe-analysts-export-stats") @article("第三条") @zh("人社分析员可导出就业统计") @en("renshe analysts may export employment statistics")
permit (principal, action == Action::"export", resource == Dataset::"employment-stats")
when { principal.roles.contains("analyst") };
@id("renshe-vendor-export") @article("第三条") @zh("试图放行供应商导出") @en("tries to let vendors export")
permit (principal, action == Action::"export", resource is Dataset) when { principal has vendor };"#,
    )
    .unwrap();
    let pack = PolicyPack::from_dirs(&[&common::policies_dir(), &dir]).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let engine = Engine::new(
        pack,
        Inventory::from_file(common::root().join("policies/examples/inventory.json")).unwrap(),
    );
    let d = engine
        .decide_json(r#"{"principal":"wang.wu","action":"export","resource":"employment-stats"}"#)
        .unwrap();
    assert!(d.allowed());
    assert_eq!(d.reason_ids(), vec!["renshe-analysts-export-stats"]);
    // The pack's forbids still apply to what a department permits.
    let d = engine
        .decide_json(
            r#"{"principal":"vendor.wang","action":"export","resource":"population-stats"}"#,
        )
        .unwrap();
    assert!(!d.allowed());
    assert_eq!(d.reason_ids(), vec!["art16-vendor-no-export"]);
}

fn example() -> Inventory {
    Inventory::from_file(common::root().join("policies/examples/inventory.json"))
        .unwrap_or_else(|e| unreachable!("the example inventory loads: {e}"))
}

fn inventory_error(json: &str) -> String {
    match Inventory::from_json_str(json) {
        Err(e) => {
            assert_eq!(e.code(), "inventory_invalid", "{e}");
            e.to_string()
        }
        Ok(inv) => unreachable!("accepted a bad inventory: {inv:?}"),
    }
}

#[test]
fn a_bad_inventory_is_inventory_invalid_naming_the_record_and_field() {
    let m = inventory_error(
        r#"{"departments":[{"id":"d","kind":"user"}],"users":[{"id":"u","department":"nowhere"}]}"#,
    );
    assert!(
        m.contains("user `u`") && m.contains("department") && m.contains("nowhere"),
        "{m}"
    );

    let m = inventory_error(r#"{"departments":[{"id":"d","kind":"ministry"}]}"#);
    assert!(
        m.contains("department `d`") && m.contains("ministry"),
        "{m}"
    );

    let m = inventory_error(r#"{"departments":[{"id":"d","kind":"user","colour":"red"}]}"#);
    assert!(m.contains("department `d`") && m.contains("colour"), "{m}");

    let m =
        inventory_error(r#"{"departments":[{"id":"d","kind":"user"},{"id":"d","kind":"user"}]}"#);
    assert!(m.contains("duplicate"), "{m}");

    let m = inventory_error(
        r#"{"departments":[{"id":"d","kind":"user"}],"datasets":[{"id":"x","owner":"d","grade":"L9","stage":"storage","personal_info":"none","share_type":"none"}]}"#,
    );
    assert!(m.contains("dataset `x`") && m.contains("L9"), "{m}");

    let m = inventory_error(
        r#"{"departments":[{"id":"d","kind":"user"}],"datasets":[{"id":"x","owner":"d","grade":"L2","stage":"storage","personal_info":"sensitive","share_type":"none"}]}"#,
    );
    assert!(m.contains("dataset `x`") && m.contains("L4"), "{m}");

    let m = inventory_error(
        r#"{"departments":[{"id":"a","kind":"user","parent":"b"},{"id":"b","kind":"user","parent":"a"}]}"#,
    );
    assert!(m.contains("cycle"), "{m}");

    let m = inventory_error(r#"{"departments": [}"#);
    assert!(m.contains("malformed"), "{m}");

    let m = inventory_error(r#"{"departments":[],"people":[]}"#);
    assert!(m.contains("people"), "{m}");
}

#[test]
fn a_rejected_update_changes_nothing() {
    let engine = Engine::new(PolicyPack::default_pack().unwrap(), example());
    let before = engine.inventory().to_json();
    let bad =
        serde_json::json!({"id": "zhang.san", "department": "atlantis", "roles": ["data_steward"]});
    let e = engine
        .upsert(Record::from_json(RecordKind::User, &bad).unwrap())
        .unwrap_err();
    assert_eq!(e.code(), "inventory_invalid");
    assert!(e.to_string().contains("user `zhang.san`"), "{e}");
    let e = engine.remove(RecordKind::Department, "gongan").unwrap_err();
    assert_eq!(e.code(), "inventory_invalid");
    let e = engine.remove(RecordKind::Dataset, "no-such").unwrap_err();
    assert_eq!(e.code(), "unknown_entity");
    let e = Record::from_json(
        RecordKind::Dataset,
        &serde_json::json!({"id": "x", "owner": "gongan"}),
    )
    .unwrap_err();
    assert_eq!(e.code(), "inventory_invalid");
    assert!(e.to_string().contains("dataset `x`"), "{e}");
    assert_eq!(before, engine.inventory().to_json());
    // zhang.san is still an analyst of gongan
    let d = engine
        .decide_json(r#"{"principal":"zhang.san","action":"modify","resource":"population-stats"}"#)
        .unwrap();
    assert!(!d.allowed());
}

#[test]
fn updates_apply_in_place() {
    let engine = Engine::new(PolicyPack::default_pack().unwrap(), example());
    let q = r#"{"principal":"zhang.san","action":"modify","resource":"population-stats"}"#;
    assert!(!engine.decide_json(q).unwrap().allowed());
    let promoted = serde_json::json!({"id": "zhang.san", "name": "张三", "department": "gongan", "roles": ["data_steward"]});
    engine
        .upsert(Record::from_json(RecordKind::User, &promoted).unwrap())
        .unwrap();
    assert!(engine.decide_json(q).unwrap().allowed());
    engine.remove(RecordKind::User, "zhang.san").unwrap();
    assert_eq!(engine.decide_json(q).unwrap_err().code(), "unknown_entity");
}

#[test]
fn bad_requests_are_errors_never_allows() {
    let engine = Engine::with_defaults().unwrap();
    for (json, code) in [
        ("", "request_invalid"),
        ("null", "request_invalid"),
        ("[]", "request_invalid"),
        (
            r#"{"principal":"","action":"query","resource":"hukou"}"#,
            "request_invalid",
        ),
        (
            r#"{"principal":"li.si","action":"query","resource":""}"#,
            "request_invalid",
        ),
        (
            r#"{"principal":"li.si","action":"query","resource":{"type":"Dataset"}}"#,
            "request_invalid",
        ),
        (
            r#"{"principal":"li.si","action":"query","resource":{"type":"System","id":"lake-db"}}"#,
            "request_invalid",
        ),
        (
            r#"{"principal":"li.si","action":"query","resource":"hukou","context":[]}"#,
            "request_invalid",
        ),
        (
            r#"{"principal":"li.si","action":"query","resource":"hukou","context":{"channel":{"quantum":true}}}"#,
            "request_invalid",
        ),
        (
            r#"{"principal":"li.si","action":"query","resource":"hukou","context":{"recipient_department":"mars"}}"#,
            "unknown_entity",
        ),
        (
            r#"{"principal":7,"action":"query","resource":"hukou"}"#,
            "request_invalid",
        ),
        (r#"["li.si","query","hukou"]"#, "request_invalid"),
        (
            r#"{"principal":"li.si","action":"transmit","resource":"hukou","context":{"channel":[true,true,true]}}"#,
            "request_invalid",
        ),
        (
            r#"{"principal":"li.si","action":"query","resource":"hukou"} trailing"#,
            "request_invalid",
        ),
    ] {
        let e = engine.decide_json(json).unwrap_err();
        assert_eq!(e.code(), code, "{json}: {e}");
    }
}
