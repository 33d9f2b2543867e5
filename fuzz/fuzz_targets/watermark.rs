//! Fuzz target `watermark` (the watermark detector on a file): the body is
//! `govdata::fuzzing::mask::watermark`, which the library's tests also run on every file of
//! `fuzz/corpus/watermark/` and `fuzz/regressions/watermark/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| govdata::fuzzing::mask::watermark(data));
