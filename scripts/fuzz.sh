#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for SECONDS seconds each (default 60) with libFuzzer, on the
# stable toolchain: cargo-fuzz when it is installed (`cargo fuzz run --sanitizer none`), else
# a plain cargo build with the same coverage instrumentation. New inputs libFuzzer finds go to
# fuzz/found/TARGET (not committed); a crash is written to fuzz/artifacts/TARGET/ and stops the
# script with a non-zero status. Copy a crash into fuzz/regressions/TARGET/ once it is fixed:
# `cargo test --workspace` replays every file there.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(request inventory policy_pack audit_segment vault_file key_store test_file config bundle checkpoint
        mask watermark c_abi)
fi
# FUZZ_JOBS=N runs N fuzzing processes per target (libFuzzer then logs to fuzz-*.log).
parallel=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
    parallel=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
fi

host=$(rustc -vV | sed -n 's/^host: //p')
bin_dir="fuzz/target/$host/release"
if cargo fuzz --version >/dev/null 2>&1; then
    build() { (cd fuzz && cargo fuzz build --sanitizer none); }
else
    # What cargo-fuzz passes with --sanitizer none: SanitizerCoverage for libFuzzer's
    # feedback, and the checks of a debug build. `--target` keeps the flags off build
    # scripts and proc macros, which are not linked with libFuzzer.
    export RUSTFLAGS="${RUSTFLAGS:-} -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
    build() { cargo build --release --locked --manifest-path fuzz/Cargo.toml --bins --target "$host"; }
fi

echo "building the fuzz targets"
build
status=0
for t in "${targets[@]}"; do
    mkdir -p "fuzz/found/$t" "fuzz/artifacts/$t" "fuzz/regressions/$t"
    echo "== $t: ${seconds}s"
    if ! "$bin_dir/$t" -max_total_time="$seconds" "${parallel[@]}" \
        -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 -max_len=65536 \
        "fuzz/found/$t" "fuzz/corpus/$t" "fuzz/regressions/$t" 2>"fuzz/found/$t.log"; then
        echo "!! $t crashed: see fuzz/found/$t.log and fuzz/artifacts/$t/"
        tail -40 "fuzz/found/$t.log"
        status=1
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov:" "fuzz/found/$t.log" | tail -3 || true
done
exit $status
