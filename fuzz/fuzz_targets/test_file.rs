//! Fuzz target `test_file`: the body is `govdata::fuzzing::test_file`, which the library's tests
//! also run on every file of `fuzz/corpus/test_file/` and `fuzz/regressions/test_file/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| govdata::fuzzing::test_file(data));
