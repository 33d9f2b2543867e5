//! From a decision to a plan for the data: the profile its obligations name, the mask
//! of every declared field, and every way the call fails closed with no data out.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test loudly"
)]

mod mask_support;

use govdata::mask::{Mask, MaskKeys, Plan, Profile};
use govdata::model::PiType;
use mask_support::*;

fn plan(
    engine: &govdata::Engine,
    principal: &str,
    columns: &[&str],
    keys: MaskKeys,
) -> govdata::Result<Plan> {
    let request = query(principal, "hukou");
    let decision = engine.decide(&request)?;
    Plan::new(&request, &decision, &engine.inventory(), columns, keys)
}

#[test]
fn the_default_pack_masks_an_analyst_s_query_with_the_standard_profile() {
    let engine = default_engine();
    let p = plan(&engine, "zhang.san", &["sfzh", "xm", "hjlb"], keys(1)).unwrap();
    assert_eq!(p.profile(), Some(Profile::Standard));
    let masks: Vec<Mask> = p.columns().iter().map(|c| c.mask).collect();
    assert_eq!(
        masks,
        [
            Mask::Type(PiType::ResidentId),
            Mask::Type(PiType::Name),
            Mask::Keep
        ]
    );
    assert_eq!(
        p.mask_value(0, Some("11010519900307123X")).as_deref(),
        Some("110105********123X")
    );
    assert_eq!(p.mask_value(2, Some("城镇")).as_deref(), Some("城镇"));
    let mark = p.mark().unwrap();
    assert_eq!(mark.recipient(), "zhang.san");
    assert!(mark.audit_seq() >= 1000);
}

#[test]
fn a_deny_is_access_denied_and_gives_no_plan() {
    let engine = default_engine();
    let e = plan(&engine, "vendor.li", &["sfzh"], keys(1)).unwrap_err();
    assert_eq!(e.code(), "access_denied", "{e}");
}

#[test]
fn an_obligation_a_data_call_cannot_carry_out_is_access_denied() {
    let engine = engine_with("mask:standard,dual_control").unwrap();
    let e = plan(&engine, "zhang.san", &["sfzh"], keys(1)).unwrap_err();
    assert_eq!(e.code(), "access_denied");
    assert!(e.to_string().contains("dual_control"), "{e}");
}

#[test]
fn columns_that_are_not_the_dataset_s_declared_fields_are_request_invalid() {
    let engine = engine_with("mask:standard").unwrap();
    for columns in [&["sfzh", "passport_no"][..], &["sfzh", "sfzh"][..]] {
        let e = plan(&engine, "zhang.san", columns, keys(1)).unwrap_err();
        assert_eq!(e.code(), "request_invalid", "{columns:?}");
    }
    // A dataset that declares no fields cannot be checked at all.
    let request = query("zhang.san", "medical-records");
    let decision = engine.decide(&request).unwrap();
    let e = Plan::new(&request, &decision, &engine.inventory(), &["x"], keys(1)).unwrap_err();
    assert_eq!(e.code(), "request_invalid");
}

#[test]
fn the_strict_profile_nulls_sensitive_fields_and_masks_the_others() {
    let engine = engine_with("mask:strict").unwrap();
    let p = plan(
        &engine,
        "zhang.san",
        &["sfzh", "xm", "csrq"],
        MaskKeys::default(),
    )
    .unwrap();
    assert_eq!(p.profile(), Some(Profile::Strict));
    assert_eq!(p.mask_value(0, Some("110105199003071234")), None);
    assert_eq!(p.mask_value(1, Some("欧阳娜娜")).as_deref(), Some("欧阳**"));
    assert_eq!(p.mask_value(2, Some("1990-05-17")).as_deref(), Some("1990"));
}

#[test]
fn the_most_restrictive_of_several_profiles_applies() {
    let engine = engine_with("mask_personal_info,mask:strict").unwrap();
    let p = plan(&engine, "zhang.san", &["sfzh"], MaskKeys::default()).unwrap();
    assert_eq!(p.profile(), Some(Profile::Strict));
}

#[test]
fn the_pseudonymize_profile_needs_a_key_and_keeps_joins() {
    let engine = engine_with("mask:pseudonymize").unwrap();
    let e = plan(&engine, "zhang.san", &["sfzh"], MaskKeys::default()).unwrap_err();
    assert_eq!(e.code(), "key_not_found");
    let p = plan(&engine, "zhang.san", &["sfzh", "csrq"], keys(3)).unwrap();
    let a = p.mask_value(0, Some("110105199003071234")).unwrap();
    assert_eq!(a, pseudonym_key(3).pseudonym("110105199003071234"));
    assert_ne!(a, "110105199003071234");
    assert_eq!(p.mask_value(1, Some("1990-05-17")).as_deref(), Some("1990"));
}

#[test]
fn a_watermark_needs_its_key_and_an_audit_record() {
    let engine = engine_with("watermark").unwrap();
    let no_key = MaskKeys {
        pseudonym: None,
        watermark: None,
    };
    assert_eq!(
        plan(&engine, "zhang.san", &["sfzh"], no_key)
            .unwrap_err()
            .code(),
        "key_not_found"
    );
    engine.set_decision_sink(None);
    assert_eq!(
        plan(&engine, "zhang.san", &["sfzh"], keys(1))
            .unwrap_err()
            .code(),
        "request_invalid"
    );
}

#[test]
fn storage_and_transport_obligations_are_left_to_the_host_and_listed() {
    let engine = engine_with("encrypt_in_transit").unwrap();
    let p = plan(&engine, "zhang.san", &["sfzh"], MaskKeys::default()).unwrap();
    assert_eq!(p.host_obligations(), ["encrypt_in_transit"]);
    assert_eq!(p.profile(), None);
    assert_eq!(
        p.mask_value(0, Some("110105199003071234")).as_deref(),
        Some("110105199003071234")
    );
}

#[test]
fn an_unknown_masking_profile_is_a_load_time_error() {
    let e = engine_with("mask:lenient").err().unwrap();
    assert_eq!(e.code(), "policy_annotation");
    assert!(e.to_string().contains("lenient"), "{e}");
}

#[test]
fn a_row_of_the_wrong_length_is_request_invalid_and_nothing_comes_out() {
    let engine = engine_with("mask:standard").unwrap();
    let p = plan(&engine, "zhang.san", &["sfzh", "xm"], MaskKeys::default()).unwrap();
    let mut out = Vec::new();
    let e = p
        .release()
        .push(&[Some("110105199003071234")], &mut |r| {
            out.push(r);
            Ok(())
        })
        .unwrap_err();
    assert_eq!(e.code(), "request_invalid");
    assert!(out.is_empty());
}
