//! Fuzz target `request`: the body is `govdata::fuzzing::request`, which the library's tests
//! also run on every file of `fuzz/corpus/request/` and `fuzz/regressions/request/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| govdata::fuzzing::request(data));
