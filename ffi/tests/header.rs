//! The committed header matches the sources, its version macros match the crate,
//! and every export runs inside the panic guard.

#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "a test reports a failure by panicking"
)]

use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate() -> String {
    let dir = crate_dir();
    let config =
        cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml loads");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn header_is_up_to_date() {
    let path = crate_dir().join("include/govdata.h");
    let fresh = generate();
    if std::env::var_os("GOVDATA_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("header written");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        let first = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(fresh.lines().count()));
        panic!(
            "ffi/include/govdata.h is out of date (first difference at line {}); regenerate it with \
             `GOVDATA_BLESS=1 cargo test -p govdata-ffi --test header` and commit it",
            first + 1
        );
    }
}

fn define(header: &str, name: &str) -> String {
    let prefix = format!("#define {name} ");
    header
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("the header has no {name}"))
}

#[test]
fn version_macros_match_the_crate() {
    let header = std::fs::read_to_string(crate_dir().join("include/govdata.h")).expect("header");
    let version = env!("CARGO_PKG_VERSION");
    let mut parts = version
        .split(['.', '-', '+'])
        .map(|p| p.parse::<u32>().expect("numeric"));
    let (major, minor, patch) = (
        parts.next().expect("major"),
        parts.next().expect("minor"),
        parts.next().expect("patch"),
    );
    assert_eq!(
        define(&header, "GD_VERSION_STRING"),
        format!("\"{version}\"")
    );
    assert_eq!(define(&header, "GD_VERSION_MAJOR"), major.to_string());
    assert_eq!(define(&header, "GD_VERSION_MINOR"), minor.to_string());
    assert_eq!(define(&header, "GD_VERSION_PATCH"), patch.to_string());
    assert_eq!(
        define(&header, "GD_VERSION_NUMBER"),
        (major * 10000 + minor * 100 + patch).to_string()
    );
    // One version for the whole workspace: the core crate's is the same.
    assert_eq!(version, govdata_version_of_core());
}

fn govdata_version_of_core() -> String {
    let manifest =
        std::fs::read_to_string(crate_dir().join("../Cargo.toml")).expect("root manifest");
    let in_package = manifest
        .split("[workspace.package]")
        .nth(1)
        .expect("[workspace.package]");
    in_package
        .lines()
        .find_map(|l| l.trim().strip_prefix("version = "))
        .map(|v| v.trim_matches('"').to_owned())
        .expect("workspace version")
}

/// Every `extern "C" fn` of the sources, with its body.
fn exports(dir: &Path) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            let mut rest = text.as_str();
            while let Some(at) = rest.find("extern \"C\" fn ") {
                let after = &rest[at + "extern \"C\" fn ".len()..];
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                // The body: from the first `{` after the signature to its matching `}`;
                // a declaration (in an `extern` block) ends at `;` and has none.
                let open = after.find('{').expect("a body");
                if after.find(';').is_some_and(|semi| semi < open) {
                    rest = after;
                    continue;
                }
                let end = open + matching_brace(&after[open..]);
                let body = after[open + 1..end].to_owned();
                found.push((path.display().to_string(), name, body));
                rest = &after[end..];
            }
        }
    }
    found
}

/// The offset of the `}` that closes the `{` at the start of `text`, skipping string
/// and character literals and comments.
fn matching_brace(text: &str) -> usize {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' => {
                // A character literal ('{', '\'', '\\'), not a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    i += 3;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 2;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unbalanced braces");
}

#[test]
fn every_export_runs_inside_the_panic_guard() {
    let found = exports(&crate_dir().join("src"));
    assert!(
        found.len() >= 15,
        "the scan found only {} exports",
        found.len()
    );
    for (file, name, body) in &found {
        let body = body.trim();
        assert!(
            body.starts_with("ffi_guard! {") && body.ends_with('}'),
            "{file}: `{name}` must consist of one `ffi_guard! {{ … }}`"
        );
        // Nothing after the guard's closing brace: the guard is the whole body.
        let open = "ffi_guard! ".len();
        assert_eq!(
            open + matching_brace(&body[open..]),
            body.len() - 1,
            "{file}: `{name}` has code outside its `ffi_guard!`"
        );
    }
}

#[test]
fn every_export_in_the_header_is_a_guarded_export() {
    let header = std::fs::read_to_string(crate_dir().join("include/govdata.h")).expect("header");
    let exported: Vec<String> = exports(&crate_dir().join("src"))
        .into_iter()
        .map(|(_, name, _)| name)
        .collect();
    for name in &exported {
        if name.starts_with("gd_testing_") {
            assert!(
                !header.contains(name.as_str()),
                "`{name}` leaked into the header"
            );
        } else {
            assert!(
                header.contains(&format!("{name}(")),
                "`{name}` is missing from the header"
            );
        }
    }
}
