//! `govdata mask` on CSV and JSON Lines, and `govdata watermark detect` on what it
//! wrote: masked values, the mark read back after sampling, and no output at all when
//! the decision denies or the columns are not the dataset's fields.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const INVENTORY: &str = "policies/examples/inventory.json";

fn govdata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govdata"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .unwrap()
}

fn dir(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("govdata-mask-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("audit.key"), [3u8; 32]).unwrap();
    std::fs::set_permissions(
        p.join("audit.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(p.join("mask.key"), [5u8; 32]).unwrap();
    std::fs::set_permissions(
        p.join("mask.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn request(d: &Path, principal: &str) -> PathBuf {
    let p = d.join(format!("{principal}.json"));
    std::fs::write(
        &p,
        format!(
            r#"{{"principal": "{principal}", "action": "query", "resource": "hukou",
                "context": {{"scenario_risk": "low"}}}}"#
        ),
    )
    .unwrap();
    p
}

/// `n` rows of the household register; row `i` has a distinct ID and mobile number.
fn csv(d: &Path, n: usize) -> PathBuf {
    let mut text = String::from("sfzh,xm,sjhm,zz,csrq,hjlb\n");
    for i in 0..n {
        text.push_str(&format!(
            "{:06}1990030{}{:04},欧阳娜娜,138{:08},北京市朝阳区建国路{}号,1990-03-0{},城镇\n",
            110105 + i % 7,
            1 + i % 9,
            i % 10_000,
            i,
            i % 300,
            1 + i % 9
        ));
    }
    let p = d.join("hukou.csv");
    std::fs::write(&p, text).unwrap();
    p
}

/// `govdata mask` for `principal`'s query, recorded in a log, with `rest` after the
/// common options.
fn mask_args(d: &Path, principal: &str, rest: &[&str]) -> Output {
    let req = request(d, principal);
    let log = d.join("log");
    let key = d.join("audit.key");
    let mut args = vec!["mask", "--inventory", INVENTORY, "--request", s(&req)];
    args.extend(["--audit", s(&log), "--audit-key-file", s(&key)]);
    args.extend(rest);
    govdata(&args)
}

fn mask(d: &Path, principal: &str, input: &Path, output: &Path) -> Output {
    let key = d.join("mask.key");
    mask_args(
        d,
        principal,
        &["--key-file", s(&key), s(input), "-o", s(output)],
    )
}

fn detect(d: &Path, file: &Path) -> (Option<i32>, Value) {
    let out = govdata(&[
        "watermark",
        "detect",
        "--key-file",
        s(&d.join("mask.key")),
        "--inventory",
        INVENTORY,
        s(file),
    ]);
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), json)
}

#[test]
fn a_csv_extract_is_masked_and_its_watermark_names_the_analyst_and_the_record() {
    let d = dir("csv");
    let input = csv(&d, 16_000);
    let output = d.join("out.csv");
    let out = mask(&d, "zhang.san", &input, &output);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&output).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("sfzh,xm,sjhm,zz,csrq,hjlb"));
    assert_eq!(
        lines.next(),
        Some("110105********0000,欧阳**,138****0000,北京市朝阳区*****,1990,城镇")
    );
    assert!(
        !text.contains("1380000000"),
        "no mobile number passes unmasked"
    );
    assert!(text.lines().count() > 16_001, "canary rows are added");

    let (code, found) = detect(&d, &output);
    assert_eq!(code, Some(0), "{found}");
    assert_eq!(found["recipient"], "zhang.san");
    assert_eq!(found["audit_seq"], 1);

    // A 10 % sample of the rows, shuffled by taking every tenth from the end, with
    // only the ID column left.
    let body: Vec<&str> = text.lines().skip(1).collect();
    let mut sample = String::from("sfzh\n");
    for line in body.iter().rev().step_by(10) {
        sample.push_str(line.split(',').next().unwrap());
        sample.push('\n');
    }
    let sample_path = d.join("sample.csv");
    std::fs::write(&sample_path, sample).unwrap();
    let (code, found) = detect(&d, &sample_path);
    assert_eq!(code, Some(0), "{found}");
    assert_eq!(found["recipient"], "zhang.san");

    // The input itself carries no mark.
    let (code, found) = detect(&d, &input);
    assert_eq!(code, Some(1));
    assert_eq!(found["marked"], false);
}

#[test]
fn json_lines_keep_their_keys_and_kept_numbers_stay_numbers() {
    let d = dir("jsonl");
    let input = d.join("in.jsonl");
    std::fs::write(
        &input,
        "{\"sfzh\": \"11010519900307123X\", \"xm\": \"张三\", \"hjlb\": 1}\n\n{\"sfzh\": null, \"xm\": \"诸葛亮\", \"hjlb\": 2}\n",
    )
    .unwrap();
    let output = d.join("out.jsonl");
    let out = mask(&d, "zhang.san", &input, &output);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows[0],
        serde_json::json!({"sfzh": "110105********123X", "xm": "张*", "hjlb": 1})
    );
    assert_eq!(
        rows.last().unwrap(),
        &serde_json::json!({"sfzh": null, "xm": "诸葛*", "hjlb": 2})
    );
}

#[test]
fn a_deny_or_an_undeclared_column_writes_nothing() {
    let d = dir("deny");
    let input = csv(&d, 10);
    let output = d.join("out.csv");
    let out = mask(&d, "vendor.li", &input, &output);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[access_denied]"));
    assert!(!output.exists());

    let bad = d.join("bad.csv");
    std::fs::write(&bad, "sfzh,passport\n110105199003071234,E1234567\n").unwrap();
    let out = mask(&d, "zhang.san", &bad, &output);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[request_invalid]"));
    assert!(!output.exists());
}

#[test]
fn a_watermark_without_a_key_is_key_not_found() {
    let d = dir("nokey");
    let input = csv(&d, 10);
    let out = mask_args(&d, "zhang.san", &[s(&input)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[key_not_found]"));
    assert!(out.stdout.is_empty());
}

#[test]
fn without_a_watermark_chunks_of_rows_are_masked_in_parallel_and_keep_their_order() {
    let d = dir("chunks");
    // A pack whose query permit names a masking profile and no watermark.
    let pack = d.join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    std::fs::copy(
        "../policies/schema.cedarschema",
        pack.join("schema.cedarschema"),
    )
    .unwrap();
    std::fs::write(
        pack.join("q.cedar"),
        r#"@id("q") @article("第十三条") @zh("查询") @en("query") @obligations("mask:standard")
permit (principal, action == Action::"query", resource is Dataset);"#,
    )
    .unwrap();
    // More rows than one chunk, so that several chunks and tasks meet.
    let n = 40_000;
    let input = csv(&d, n);
    let output = d.join("out.csv");
    let out = mask_args(
        &d,
        "zhang.san",
        &["--policies", s(&pack), s(&input), "-o", s(&output)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&output).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), n + 1, "no canary rows without a watermark");
    assert_eq!(lines[0], "sfzh,xm,sjhm,zz,csrq,hjlb");
    for (i, line) in lines[1..].iter().enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[1], "欧阳**");
        assert_eq!(
            cells[2],
            format!("138****{:04}", i % 10_000),
            "row {i} in its place"
        );
        assert_eq!(cells[4], "1990");
        assert_eq!(cells[5], "城镇");
    }
    std::fs::remove_dir_all(&d).ok();
}
