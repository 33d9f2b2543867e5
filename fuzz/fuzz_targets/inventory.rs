//! Fuzz target `inventory`: the body is `govdata::fuzzing::inventory`, which the library's tests
//! also run on every file of `fuzz/corpus/inventory/` and `fuzz/regressions/inventory/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| govdata::fuzzing::inventory(data));
