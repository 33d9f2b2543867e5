//! Fuzz target `checkpoint` (a signed checkpoint and Merkle proofs): the body is
//! `govdata::fuzzing::signed::checkpoint`, which the library's tests also run on every file of
//! `fuzz/corpus/checkpoint/` and `fuzz/regressions/checkpoint/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| govdata::fuzzing::signed::checkpoint(data));
