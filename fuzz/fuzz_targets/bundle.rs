//! Fuzz target `bundle` (a signed policy bundle): the body is
//! `govdata::fuzzing::signed::bundle`, which the library's tests also run on every file of
//! `fuzz/corpus/bundle/` and `fuzz/regressions/bundle/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| govdata::fuzzing::signed::bundle(data));
