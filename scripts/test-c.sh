#!/usr/bin/env bash
# The C ABI's tests, from a fresh clone: builds libgovdata, checks that the committed
# ffi/include/govdata.h matches the sources, compiles the C and C++ tests and the
# example against it with -Wall -Wextra -Werror, and runs them under valgrind
# (any memory error or definitely-lost byte fails the run). Installs gcc, g++ and
# valgrind with apt-get when they are missing.
#
#   bash scripts/test-c.sh            # debug library (shares the build of cargo test)
#   GOVDATA_C_PROFILE=release bash scripts/test-c.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

profile=${GOVDATA_C_PROFILE:-debug}
case "$profile" in
  debug) cargo_profile=() ;;
  release) cargo_profile=(--release) ;;
  *) echo "GOVDATA_C_PROFILE must be debug or release, not '$profile'" >&2; exit 2 ;;
esac

need=()
command -v gcc >/dev/null || need+=(gcc)
command -v g++ >/dev/null || need+=(g++)
command -v valgrind >/dev/null || need+=(valgrind)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --workspace resolves the dependencies' features as `cargo test --workspace` does, so
# these steps reuse its build instead of compiling every dependency a second time.
echo "== c: header matches the sources"
cargo test --locked --workspace --test header

echo "== c: building libgovdata ($profile, with the test exports)"
cargo build --locked --workspace --features govdata-ffi/testing "${cargo_profile[@]}"
target_dir=${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')}
lib_dir="$target_dir/$profile"
test -f "$lib_dir/libgovdata.so" && test -f "$lib_dir/libgovdata.a" || {
  echo "libgovdata.so or libgovdata.a missing in $lib_dir" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== c: compiling the tests and the example against ffi/include/govdata.h"
cflags=(-std=c11 -Wall -Wextra -Werror -g -I"$root/ffi/include" -I"$root/ffi/tests")
link=(-L"$lib_dir" -Wl,-rpath,"$lib_dir" -lgovdata -lpthread)
gcc "${cflags[@]}" ffi/tests/test_api.c -o "$out/test_api" "${link[@]}"
gcc "${cflags[@]}" ffi/tests/test_vectors.c -o "$out/test_vectors" "${link[@]}"
gcc "${cflags[@]}" ffi/tests/test_audit_vault.c -o "$out/test_audit_vault" "${link[@]}"
gcc "${cflags[@]}" ffi/tests/test_workflows.c -o "$out/test_workflows" "${link[@]}"
gcc "${cflags[@]}" ffi/tests/test_report.c -o "$out/test_report" "${link[@]}"
gcc "${cflags[@]}" ffi/tests/test_mask.c -o "$out/test_mask" "${link[@]}"
g++ -std=c++17 -Wall -Wextra -Werror -g -I"$root/ffi/include" -I"$root/ffi/examples" \
  ffi/tests/test_cpp.cpp -o "$out/test_cpp" "${link[@]}"
gcc "${cflags[@]}" ffi/examples/decide.c -o "$out/decide" "${link[@]}"
gcc "${cflags[@]}" ffi/examples/audit_vault.c -o "$out/audit_vault" "${link[@]}"
# The static library links on its own too.
gcc "${cflags[@]}" ffi/examples/decide.c -o "$out/decide_static" "$lib_dir/libgovdata.a" -lpthread -ldl -lm

echo "== c: running under valgrind"
export RUST_BACKTRACE=0
vg=(valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite
    --errors-for-leak-kinds=definite)
failed=0
run() {
  local name=$1; shift
  echo "-- $name"
  local status=0
  "${vg[@]}" "$@" || status=$?
  if [ "$status" != 0 ]; then
    echo "FAILED: $name (exit status $status; 99 is a valgrind error or leak)" >&2
    failed=1
  fi
}
# test_api provokes three panics on purpose; their messages on stderr are expected.
run test_api "$out/test_api" "$root"
run test_vectors "$out/test_vectors" "$root"
run test_audit_vault "$out/test_audit_vault"
run test_workflows "$out/test_workflows"
# test_report compares with the command line of the same build, byte for byte.
run test_report "$out/test_report" "$root" "$lib_dir/govdata"
# test_mask hands the library Arrow C streams built by hand and reads its streams back.
run test_mask "$out/test_mask" "$root"
run test_cpp "$out/test_cpp" "$root"
run example "$out/decide"
run example_audit_vault "$out/audit_vault"
run example_static "$out/decide_static"

if [ "$failed" != 0 ]; then
  echo "== c: FAILED" >&2
  exit 1
fi
echo "== c: all C tests passed under valgrind"
