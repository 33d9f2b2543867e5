//! Fuzz target `mask` (every mask on a value): the body is `govdata::fuzzing::mask::mask`,
//! which the library's tests also run on every file of `fuzz/corpus/mask/` and
//! `fuzz/regressions/mask/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| govdata::fuzzing::mask::mask(data));
