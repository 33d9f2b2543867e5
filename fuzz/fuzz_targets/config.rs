//! Fuzz target `config` (a govdata.toml): the body is `govdata::fuzzing::signed::config`, which
//! the library's tests also run on every file of `fuzz/corpus/config/` and
//! `fuzz/regressions/config/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| govdata::fuzzing::signed::config(data));
