//! Fuzz target `key_store`: the body is `govdata::fuzzing::key_store`, which the library's tests
//! also run on every file of `fuzz/corpus/key_store/` and `fuzz/regressions/key_store/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| govdata::fuzzing::key_store(data));
