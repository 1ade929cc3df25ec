#!/usr/bin/env bash
# Runs the C test binary under valgrind (or as is with SIPNATS_NO_VALGRIND=1, e.g. for an ASan
# build), prints "fs-shim: N passed, N failed", appends "<passed> <failed> <skipped> c:fs-shim"
# to $SIPNATS_TEST_SUMMARY when set, and exits non-zero on any failure (a test, a leak, a memory
# error or a crash). The test binary starts and stops its own nats-server.
set -uo pipefail
bin="$1"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT

skipped=0
module_ok=0
if [ "${FS_OK:-}" != "yes" ]; then
  echo "mod_sipnats: skipped, FreeSWITCH not installed (pkg-config freeswitch)"
  skipped=1
elif [ -f "$(dirname "$bin")/mod_sipnats.so" ]; then
  # make test builds it first (-Wall -Wextra -Werror) when FreeSWITCH is installed.
  echo "  mod_sipnats: built against FreeSWITCH $(pkg-config --modversion freeswitch) ... ok"
  module_ok=1
fi

if ! command -v nats-server >/dev/null 2>&1; then
  echo "fs-shim: nats-server not found in PATH"
fi

if [ "${SIPNATS_NO_VALGRIND:-}" = "1" ]; then
  SIPNATS_C_RESULTS="$results" "$bin"
  rc=$?
else
  SIPNATS_C_RESULTS="$results" valgrind -q --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=1 "$bin"
  rc=$?
fi

passed=0
failed=0
if [ -s "$results" ]; then
  read -r passed failed < "$results"
fi
passed=$((passed + module_ok))
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The tests passed but valgrind found leaks or memory errors, or the binary crashed.
  echo "  valgrind/runtime: errors reported (exit $rc) ... FAIL"
  failed=$((failed + 1))
fi
echo "fs-shim: ${passed} passed, ${failed} failed"
if [ -n "${SIPNATS_TEST_SUMMARY:-}" ]; then
  echo "${passed} ${failed} ${skipped} c:fs-shim" >> "$SIPNATS_TEST_SUMMARY"
fi
[ "$failed" -eq 0 ]
