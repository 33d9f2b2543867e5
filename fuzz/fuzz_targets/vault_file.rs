//! Fuzz target `vault_file`: the body is `govdata::fuzzing::vault_file`, which the library's tests
//! also run on every file of `fuzz/corpus/vault_file/` and `fuzz/regressions/vault_file/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| govdata::fuzzing::vault_file(data));
