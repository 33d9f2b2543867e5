//! The fields a dataset declares: loaded, round-tripped, and checked against the
//! dataset's grade and personal-information flag, with inventories that declare no
//! fields loading as before.

use govdata::model::{PiType, Record, RecordKind};
use govdata::{Error, Inventory};

fn inventory(dataset: &str) -> Result<Inventory, Error> {
    Inventory::from_json_str(&format!(
        r#"{{"departments": [{{"id": "gongan", "kind": "user"}}], "datasets": [{dataset}]}}"#
    ))
}

fn dataset(grade: &str, personal_info: &str, fields: &str) -> String {
    format!(
        r#"{{"id": "hukou", "owner": "gongan", "grade": "{grade}", "stage": "storage",
            "personal_info": "{personal_info}", "share_type": "conditional", "fields": {fields}}}"#
    )
}

fn refusal(e: Error) -> String {
    assert_eq!(e.code(), "inventory_invalid", "{e}");
    e.to_string()
}

#[test]
fn a_dataset_without_fields_still_loads_and_has_none() {
    let inv = inventory(
        r#"{"id": "hukou", "owner": "gongan", "grade": "L2", "stage": "storage",
            "personal_info": "none", "share_type": "unconditional"}"#,
    )
    .unwrap();
    let d = inv.dataset("hukou").unwrap();
    assert!(d.fields.is_empty());
    assert!(inv.to_json()["datasets"][0].get("fields").is_none());
}

#[test]
fn declared_fields_load_with_their_types_and_round_trip() {
    let inv = inventory(&dataset(
        "L4",
        "sensitive",
        r#"[{"name": "sfzh", "type": "resident_id", "sensitivity": "sensitive"},
            {"name": "xm", "type": "name", "sensitivity": "personal"},
            {"name": "hjlb"}]"#,
    ))
    .unwrap();
    let d = inv.dataset("hukou").unwrap();
    let types: Vec<PiType> = d.fields.iter().map(|f| f.pi_type).collect();
    assert_eq!(types, [PiType::ResidentId, PiType::Name, PiType::None]);
    let again = Inventory::from_json(&inv.to_json()).unwrap();
    assert_eq!(again.dataset("hukou").unwrap().fields, d.fields);
}

#[test]
fn the_example_inventory_declares_the_fields_of_the_household_register() {
    let inv = Inventory::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/examples/inventory.json"
    ))
    .unwrap();
    let d = inv.dataset("hukou").unwrap();
    assert!(d
        .fields
        .iter()
        .any(|f| f.name == "sfzh" && f.pi_type == PiType::ResidentId));
}

#[test]
fn a_sensitive_field_in_a_dataset_below_l4_is_refused() {
    let e = inventory(&dataset(
        "L3",
        "sensitive",
        r#"[{"name": "sfzh", "type": "resident_id", "sensitivity": "sensitive"}]"#,
    ))
    .unwrap_err();
    let m = refusal(e);
    assert!(
        m.contains("`hukou`") && m.contains("`sfzh`") && m.contains("L4"),
        "{m}"
    );
}

#[test]
fn a_field_more_sensitive_than_its_dataset_is_refused() {
    let m = refusal(
        inventory(&dataset(
            "L4",
            "personal",
            r#"[{"name": "sfzh", "type": "resident_id", "sensitivity": "sensitive"}]"#,
        ))
        .unwrap_err(),
    );
    assert!(m.contains("`sfzh`") && m.contains("personal_info"), "{m}");
}

#[test]
fn a_personal_information_type_without_a_sensitivity_is_refused() {
    let m = refusal(
        inventory(&dataset(
            "L2",
            "personal",
            r#"[{"name": "sjhm", "type": "mobile"}]"#,
        ))
        .unwrap_err(),
    );
    assert!(m.contains("`sjhm`") && m.contains("sensitivity"), "{m}");
}

#[test]
fn duplicate_empty_and_unknown_fields_are_refused() {
    for fields in [
        r#"[{"name": "a"}, {"name": "a"}]"#,
        r#"[{"name": ""}]"#,
        r#"[{"name": "a", "type": "passport"}]"#,
        r#"[{"name": "a", "colour": "red"}]"#,
    ] {
        refusal(inventory(&dataset("L2", "personal", fields)).unwrap_err());
    }
}

#[test]
fn an_upsert_that_lowers_the_grade_under_a_sensitive_field_changes_nothing() {
    let mut inv = inventory(&dataset(
        "L4",
        "sensitive",
        r#"[{"name": "sfzh", "type": "resident_id", "sensitivity": "sensitive"}]"#,
    ))
    .unwrap();
    let lowered = Record::from_json_str(
        RecordKind::Dataset,
        &dataset(
            "L2",
            "sensitive",
            r#"[{"name": "sfzh", "type": "resident_id", "sensitivity": "sensitive"}]"#,
        ),
    )
    .unwrap();
    refusal(inv.upsert(lowered).unwrap_err());
    assert_eq!(
        inv.dataset("hukou").unwrap().grade,
        Some(govdata::model::Grade::L4)
    );
}
