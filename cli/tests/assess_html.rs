//! The HTML report of `govdata assess` in a real browser: headless Chromium renders the
//! page (its inline script recounts the findings from the embedded JSON and writes the
//! counts into the page), and the rendered DOM must show the counts of the JSON report,
//! every link must lead to an element of the page, and nothing may come from outside it.
//!
//! Chromium is found through `GOVDATA_CHROMIUM` or on the `PATH` (`chromium`,
//! `chromium-browser`, `google-chrome`). Without one the test passes with a note,
//! unless `GOVDATA_REQUIRE_CHROMIUM=1`: `scripts/test-assess-html.sh` installs Chromium
//! and sets it, so that there the check fails rather than skips.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

#[path = "../../core/tests/assess_support/mod.rs"]
mod assess_support;

use assess_support::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOVDATA_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn required() -> bool {
    std::env::var("GOVDATA_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1")
}

/// Renders `page` headless and returns the DOM after its scripts ran.
fn dump_dom(browser: &Path, page: &Path, scratch: &Path) -> String {
    let profile = scratch.join("chromium-profile");
    std::fs::create_dir_all(&profile).unwrap();
    let out_file = scratch.join("dom.html");
    let err_file = scratch.join("chromium.log");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(std::fs::File::create(&err_file).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", browser.display()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish in 180 s: {}",
                std::fs::read_to_string(&err_file).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let dom = std::fs::read_to_string(&out_file).unwrap();
    assert!(
        status.success() && !dom.is_empty(),
        "chromium failed ({status}): {}",
        std::fs::read_to_string(&err_file).unwrap_or_default()
    );
    dom
}

/// The start tags of the DOM that carry `attr`, each as its attributes.
fn tags_with(dom: &str, attr: &str) -> Vec<BTreeMap<String, String>> {
    let needle = format!(" {attr}=\"");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = dom[from..].find(&needle) {
        let at = from + i;
        let start = dom[..at].rfind('<').unwrap();
        let end = at + dom[at..].find('>').unwrap();
        out.push(attributes(&dom[start..end]));
        from = end;
    }
    out
}

/// The attributes of one start tag (`<name a="x" b="y"`), values unescaped of `&amp;`.
fn attributes(tag: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut rest = tag;
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq]
            .rsplit([' ', '\n', '\t'])
            .next()
            .unwrap()
            .to_owned();
        let after = &rest[eq + 2..];
        let close = after.find('"').unwrap();
        m.insert(name, after[..close].replace("&amp;", "&"));
        rest = &after[close + 1..];
    }
    m
}

/// The counts the page must show, from the JSON report.
fn expected_counts(json: &Value) -> BTreeMap<String, u64> {
    let s = &json["summary"];
    let mut m = BTreeMap::new();
    m.insert("total".to_owned(), s["total"].as_u64().unwrap());
    for sev in ["critical", "high", "medium", "low", "info"] {
        let n = s["by_severity"][sev].as_u64().unwrap();
        m.insert(format!("severity:{sev}"), n);
        m.insert(format!("chart:{sev}"), n);
    }
    for a in s["by_article"].as_array().unwrap() {
        m.insert(
            format!("article:{}", a["article"].as_str().unwrap()),
            a["total"].as_u64().unwrap(),
        );
    }
    for d in s["by_department"].as_array().unwrap() {
        let key = match d["department"].as_str() {
            Some(id) => format!("department:{id}"),
            None => "platform".to_owned(),
        };
        m.insert(key, d["total"].as_u64().unwrap());
    }
    m
}

fn check_page(browser: &Path, dir: &Path, json: &Value, html_path: &Path) {
    let html = std::fs::read_to_string(html_path).unwrap();
    // Self-contained: no external stylesheet, script, image, font or frame.
    for banned in [
        "<link",
        " src=",
        "url(",
        "@import",
        "<iframe",
        "href=\"http",
    ] {
        assert!(
            !html.contains(banned),
            "the page refers outside itself: `{banned}`"
        );
    }
    assert!(html.contains("<svg") && html.contains("<style>"));

    let dom = dump_dom(browser, html_path, dir);
    let body = &tags_with(&dom, "data-format")[0];
    assert_eq!(body["data-ready"], "true", "the page's script did not run");
    let findings = json["findings"].as_array().unwrap().len();
    assert_eq!(body["data-findings-rendered"], findings.to_string());

    let expected = expected_counts(json);
    let mut shown: BTreeMap<String, u64> = BTreeMap::new();
    for tag in tags_with(&dom, "data-fill") {
        let key = tag["data-fill"].clone();
        let count = tag
            .get("data-count")
            .unwrap_or_else(|| panic!("`{key}` was not filled by the page's script"));
        assert_eq!(count, &tag["data-expected"], "`{key}`");
        let n: u64 = count.parse().unwrap();
        assert!(shown.insert(key.clone(), n).is_none(), "`{key}` twice");
    }
    assert_eq!(
        shown, expected,
        "the page's counts differ from the JSON report"
    );

    // Every link of the page leads to an element of the page; every finding and
    // every record involved has its anchor.
    let ids: BTreeSet<String> = tags_with(&dom, "id")
        .into_iter()
        .map(|t| t["id"].clone())
        .collect();
    for tag in tags_with(&dom, "href") {
        let href = &tag["href"];
        let target = href
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("link outside the page: {href}"));
        assert!(ids.contains(target), "no element `{target}`");
    }
    for r in json["records"].as_array().unwrap() {
        assert!(ids.contains(r["anchor"].as_str().unwrap()));
    }
    let finding_tags = tags_with(&dom, "data-code");
    assert_eq!(finding_tags.len(), findings);
    for (tag, f) in finding_tags
        .iter()
        .zip(json["findings"].as_array().unwrap())
    {
        assert_eq!(tag["data-code"], f["code"].as_str().unwrap());
        assert_eq!(tag["data-severity"], f["severity"].as_str().unwrap());
    }
}

fn assess_to(dir: &Path, extra: &[&str]) -> (Value, PathBuf) {
    let json_path = dir.join("report.json");
    let html_path = dir.join("report.html");
    let mut args = vec![
        "assess",
        "--now",
        NOW,
        "--json",
        json_path.to_str().unwrap(),
        "--html",
        html_path.to_str().unwrap(),
        "--fail-on",
        "none",
    ];
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_govdata"))
        .args(&args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let json = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    (json, html_path)
}

#[test]
fn the_html_report_renders_in_chromium_with_the_counts_of_the_json_report() {
    let Some(browser) = chromium() else {
        assert!(
            !required(),
            "GOVDATA_REQUIRE_CHROMIUM=1 but no Chromium was found (set GOVDATA_CHROMIUM)"
        );
        eprintln!("note: no Chromium found; the HTML report was not rendered (scripts/test-assess-html.sh installs one)");
        return;
    };

    // The planted scenario, with its audit log.
    let s = scenario(true);
    s.timeline.log.sync().unwrap();
    let dir = s.timeline.dir.path().join("html");
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = s.timeline.dir.path().join("seal.key");
    std::fs::write(&key_file, SEALING_KEY).unwrap();
    std::fs::set_permissions(
        &key_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let log = s.timeline.log_dir();
    let (json, html) = assess_to(
        &dir,
        &[
            "--inventory",
            "tests/assess/inventory-planted.json",
            "--audit-dir",
            log.to_str().unwrap(),
            "--audit-key-file",
            key_file.to_str().unwrap(),
        ],
    );
    assert!(json["summary"]["total"].as_u64().unwrap() > 20);
    check_page(&browser, &dir, &json, &html);

    // The example inventory alone.
    let dir = s.timeline.dir.path().join("html-example");
    std::fs::create_dir_all(&dir).unwrap();
    let (json, html) = assess_to(&dir, &["--inventory", "policies/examples/inventory.json"]);
    check_page(&browser, &dir, &json, &html);
}
