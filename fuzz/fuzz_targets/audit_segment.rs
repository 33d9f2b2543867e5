//! Fuzz target `audit_segment`: the body is `govdata::fuzzing::audit_segment`, which the library's tests
//! also run on every file of `fuzz/corpus/audit_segment/` and `fuzz/regressions/audit_segment/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| govdata::fuzzing::audit_segment(data));
