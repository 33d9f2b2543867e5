//! Fuzz target `c_abi`: the body is `govdata_c::fuzzing::c_abi`, which the C ABI crate's
//! tests also run on every file of `fuzz/corpus/c_abi/` and `fuzz/regressions/c_abi/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| govdata_c::fuzzing::c_abi(data));
