//! Fuzz target `policy_pack`: the body is `govdata::fuzzing::policy_pack`, which the library's tests
//! also run on every file of `fuzz/corpus/policy_pack/` and `fuzz/regressions/policy_pack/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| govdata::fuzzing::policy_pack(data));
