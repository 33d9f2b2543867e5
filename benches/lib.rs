//! Benchmarks of govdata; see the `benches/` targets.
