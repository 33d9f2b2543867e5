//! The body of the C ABI fuzz target: arbitrary bytes decoded into calls of the exports
//! with arbitrary strings, buffers, lengths, enum values and NULLs, as a careless or
//! hostile C caller would make them (within the contract: a length never exceeds its
//! buffer, a non-NULL string is NUL-terminated).
//!
//! The libFuzzer target `fuzz/fuzz_targets/c_abi.rs` calls [`c_abi`]; the unit test at the
//! end replays `fuzz/corpus/c_abi/` and `fuzz/regressions/c_abi/` through it. Besides "no
//! crash": no export returns `GD_ERR_PANIC`, every status is a listed one, and after a
//! failure the last error message is one short line without control characters.
//! Compiled for this crate's tests and behind the `fuzzing` feature only.

use crate::audit::{gd_audit, gd_audit_free, gd_audit_open};
use crate::engine::{
    gd_engine, gd_engine_check, gd_engine_decide_json, gd_engine_decide_many_json, gd_engine_free,
    gd_engine_new_default, gd_engine_remove, gd_engine_replace_inventory_json,
    gd_engine_upsert_json,
};
use crate::vault::{gd_vault, gd_vault_decrypt, gd_vault_init, gd_vault_rotate_key};
use crate::{
    gd_buffer_free, gd_last_error_message, gd_status, gd_status_code, gd_status_name,
    gd_string_free,
};
use std::ffi::{c_char, c_int, CStr, CString};
use std::ptr;
use std::sync::OnceLock;

/// The bytes after the first, cut at each 0 byte into arguments (empty once used up).
struct Args<'a> {
    parts: std::vec::IntoIter<&'a [u8]>,
    owned: Vec<CString>,
}

impl<'a> Args<'a> {
    fn new(data: &'a [u8]) -> Args<'a> {
        Args {
            parts: data.split(|b| *b == 0).collect::<Vec<_>>().into_iter(),
            owned: Vec::new(),
        }
    }

    fn next(&mut self) -> &'a [u8] {
        self.parts.next().unwrap_or(&[])
    }

    /// A string argument: an empty part is NULL, `\x01` an empty string, else the part.
    fn string(&mut self) -> *const c_char {
        let part = self.next();
        match part {
            [] => ptr::null(),
            [1] => c"".as_ptr(),
            p => match CString::new(p) {
                Ok(s) => {
                    let at = s.as_ptr();
                    self.owned.push(s);
                    at
                }
                Err(_) => ptr::null(),
            },
        }
    }

    /// A buffer and a length: an empty part is NULL with a length from the next part
    /// (NULL with a length is a caller's mistake the exports must catch), else the part
    /// with a length that may be shorter than it.
    fn buffer(&mut self) -> (*const u8, usize) {
        let part = self.next();
        if part.is_empty() {
            return (ptr::null(), self.number() as usize);
        }
        let cut = self.number() as usize;
        let len = if cut == 0 {
            part.len()
        } else {
            cut % (part.len() + 1)
        };
        (part.as_ptr(), len)
    }

    /// A number: the first up to four bytes of the next part, little-endian.
    fn number(&mut self) -> u32 {
        let mut b = [0u8; 4];
        for (d, s) in b.iter_mut().zip(self.next()) {
            *d = *s;
        }
        u32::from_le_bytes(b)
    }

    /// Whether an out-parameter is passed (most of the time) or NULL.
    fn out(&mut self) -> bool {
        self.next() != b"n"
    }
}

/// Raw handles shared by every input, made once: the exports take them as `const`.
struct Handles {
    engine: usize,
    vault: usize,
}

fn handles() -> &'static Handles {
    static HANDLES: OnceLock<Handles> = OnceLock::new();
    HANDLES.get_or_init(|| {
        let mut engine: *mut gd_engine = ptr::null_mut();
        // SAFETY: `engine` is a writable out-parameter.
        let s = unsafe { gd_engine_new_default(&mut engine) };
        assert_eq!(s, 0, "the default engine");
        let dir = std::env::temp_dir().join(format!("govdata-fuzz-c-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let dir = CString::new(dir.to_string_lossy().into_owned()).unwrap_or_default();
        let key = [0x42u8; 32];
        let mut vault: *mut gd_vault = ptr::null_mut();
        // SAFETY: every pointer is NULL, a live handle, a NUL-terminated string, the
        // 32-byte key with its length, or a writable out-parameter.
        // SAFETY: the pointers are as the comment on `c_abi`'s match says.
        let s = unsafe {
            gd_vault_init(
                dir.as_ptr(),
                key.as_ptr(),
                key.len(),
                engine,
                c"key.admin".as_ptr(),
                ptr::null(),
                ptr::null(),
                &mut vault,
            )
        };
        assert_eq!(s, 0, "the vault");
        // SAFETY: a live handle and NUL-terminated strings.
        let s = unsafe {
            gd_vault_rotate_key(vault, c"key.admin".as_ptr(), ptr::null(), c"hukou".as_ptr())
        };
        assert_eq!(s, 0, "a data key");
        Handles {
            engine: engine as usize,
            vault: vault as usize,
        }
    })
}

/// Checks a status, and after a failure the last error message.
fn check(status: c_int) {
    assert_ne!(
        status,
        gd_status::GD_ERR_PANIC as c_int,
        "an export panicked"
    );
    assert!(
        !gd_status_name(status).is_null(),
        "status {status} is not listed"
    );
    if status <= gd_status::GD_DENIED as c_int {
        return;
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0usize;
    // SAFETY: `buf` holds `buf.len()` writable bytes and `len` is writable.
    let s = unsafe { gd_last_error_message(buf.as_mut_ptr().cast(), buf.len(), &mut len) };
    assert_eq!(s, 0, "the last error message fits in 64 KiB");
    let text = String::from_utf8_lossy(&buf[..len]);
    assert!(!text.is_empty(), "a failure ({status}) without a message");
    assert!(
        !text.chars().any(char::is_control),
        "a control character in {text:?}"
    );
}

/// A fresh engine for the exports that change one.
fn with_fresh_engine(f: impl FnOnce(*mut gd_engine) -> c_int) {
    let mut engine: *mut gd_engine = ptr::null_mut();
    // SAFETY: `engine` is a writable out-parameter.
    assert_eq!(unsafe { gd_engine_new_default(&mut engine) }, 0);
    check(f(engine));
    // SAFETY: a handle from `gd_engine_new_default`, freed once.
    unsafe { gd_engine_free(engine) };
}

/// One call of an export chosen by the first byte, with arguments from the rest.
pub fn c_abi(data: &[u8]) {
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let h = handles();
    let mut a = Args::new(rest);
    // An engine or vault argument is the live handle unless the first part says "null".
    let null_handle = rest.starts_with(b"null");
    let engine = if null_handle {
        ptr::null()
    } else {
        h.engine as *const gd_engine
    };
    let vault = if null_handle {
        ptr::null()
    } else {
        h.vault as *const gd_vault
    };
    let mut out_str: *mut c_char = ptr::null_mut();
    let mut out_buf: *mut u8 = ptr::null_mut();
    let mut out_len = 0usize;
    let mut out_bits = 0u32;
    // SAFETY (for every call below): each pointer is NULL, a live handle from
    // `handles`, a NUL-terminated string or a buffer owned by `a` with a length within
    // it, or a writable local out-parameter; what the library returns is freed once.
    match op % 10 {
        0 | 1 => {
            let json = a.string();
            let out = if a.out() {
                &mut out_str as *mut _
            } else {
                ptr::null_mut()
            };
            let s = if op % 10 == 0 {
                // SAFETY: the pointers are as the comment on `c_abi`'s match says.
                unsafe { gd_engine_decide_json(engine, json, out) }
            } else {
                // SAFETY: the pointers are as the comment on `c_abi`'s match says.
                unsafe { gd_engine_decide_many_json(engine, json, out) }
            };
            check(s);
            // SAFETY: the pointers are as the comment on `c_abi`'s match says.
            unsafe { gd_string_free(out_str) };
        }
        2 => {
            let (p, pl) = a.buffer();
            let (ac, al) = a.buffer();
            let kind = a.number() as c_int;
            let (r, rl) = a.buffer();
            let (pu, pul) = a.buffer();
            let out = if a.out() {
                &mut out_bits as *mut _
            } else {
                ptr::null_mut()
            };
            // SAFETY: the pointers are as the comment on `c_abi`'s match says.
            let s = unsafe {
                gd_engine_check(
                    engine,
                    p.cast(),
                    pl,
                    ac.cast(),
                    al,
                    kind,
                    r.cast(),
                    rl,
                    pu.cast(),
                    pul,
                    out,
                )
            };
            check(s);
        }
        3 => {
            let (kind, json) = (a.string(), a.string());
            // SAFETY: the pointers are as the comment on `c_abi`'s match says.
            with_fresh_engine(|e| unsafe { gd_engine_upsert_json(e, kind, json) });
        }
        4 => {
            let (kind, id) = (a.string(), a.string());
            // SAFETY: the pointers are as the comment on `c_abi`'s match says.
            with_fresh_engine(|e| unsafe { gd_engine_remove(e, kind, id) });
        }
        5 => {
            let json = a.string();
            // SAFETY: the pointers are as the comment on `c_abi`'s match says.
            with_fresh_engine(|e| unsafe { gd_engine_replace_inventory_json(e, json) });
        }
        6 => {
            let dataset = a.string();
            let grade = a.number() as c_int;
            let (c, cl) = a.buffer();
            let (out, len) = if a.out() {
                (&mut out_buf as *mut _, &mut out_len as *mut _)
            } else {
                (ptr::null_mut(), ptr::null_mut())
            };
            // SAFETY: the pointers are as the comment on `c_abi`'s match says.
            check(unsafe { gd_vault_decrypt(vault, dataset, grade, c, cl, out, len) });
            // SAFETY: the pointers are as the comment on `c_abi`'s match says.
            unsafe { gd_buffer_free(out_buf, out_len) };
        }
        7 => {
            let mut buf = vec![0u8; (a.number() % 512) as usize];
            let p = if a.out() {
                buf.as_mut_ptr().cast()
            } else {
                ptr::null_mut()
            };
            let len = (a.number() as usize) % (buf.len() + 1);
            let out = if a.out() {
                &mut out_len as *mut _
            } else {
                ptr::null_mut()
            };
            // SAFETY: the pointers are as the comment on `c_abi`'s match says.
            let s = unsafe {
                gd_last_error_message(p, if p.is_null() { len } else { len.min(buf.len()) }, out)
            };
            assert_ne!(s, gd_status::GD_ERR_PANIC as c_int);
            if s == 0 && !p.is_null() {
                assert!(out_len < buf.len(), "a message longer than its buffer");
                assert_eq!(buf[out_len], 0, "an unterminated message");
            }
        }
        8 => {
            let n = a.number() as c_int;
            for p in [gd_status_name(n), gd_status_code(n)] {
                if !p.is_null() {
                    // SAFETY: the pointers are as the comment on `c_abi`'s match says.
                    let s = unsafe { CStr::from_ptr(p) };
                    assert!(s.to_str().is_ok_and(|s| !s.is_empty()));
                }
            }
        }
        _ => {
            let (key, kl) = a.buffer();
            let mode = a.number() as c_int;
            let dir =
                std::env::temp_dir().join(format!("govdata-fuzz-c-audit-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let dir = CString::new(dir.to_string_lossy().into_owned()).unwrap_or_default();
            let dir_ptr = if a.out() { dir.as_ptr() } else { ptr::null() };
            let mut log: *mut gd_audit = ptr::null_mut();
            let out = if a.out() {
                &mut log as *mut _
            } else {
                ptr::null_mut()
            };
            // SAFETY: the pointers are as the comment on `c_abi`'s match says.
            check(unsafe { gd_audit_open(dir_ptr, key, kl, mode, out) });
            // SAFETY: the pointers are as the comment on `c_abi`'s match says.
            unsafe { gd_audit_free(log) };
        }
    }
}

#[cfg(test)]
mod replay {
    use super::*;
    use std::path::{Path, PathBuf};

    fn inputs(kind: &str) -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz")
            .join(kind)
            .join("c_abi");
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        files
    }

    #[test]
    fn every_c_abi_corpus_file_and_regression_input_replays_without_a_crash() {
        let corpus = inputs("corpus");
        assert!(corpus.len() >= 10, "the c_abi seed corpus is missing");
        for file in corpus.iter().chain(inputs("regressions").iter()) {
            c_abi(&std::fs::read(file).unwrap());
        }
    }

    #[test]
    fn a_null_engine_and_a_null_string_are_argument_errors_with_a_message() {
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: NULL arguments and a writable out-parameter.
        let s = unsafe { gd_engine_decide_json(ptr::null(), ptr::null(), &mut out) };
        assert_eq!(s, gd_status::GD_ERR_NULL_ARGUMENT as c_int);
        assert!(out.is_null());
        check(s);
    }
}
