#!/usr/bin/env bash
# The whole test suite: lint and type-check, unit tests, C tests, integration tests.
# Every stage runs even when an earlier one failed; the last line totals them all.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

summary="$(mktemp)"
trap 'rm -f "$summary"' EXIT
export SIPNATS_TEST_SUMMARY="$summary"
status=0

stage() {
  local name="$1"; shift
  printf '\n=== %s ===\n' "$name"
  if ! "$@"; then
    printf '=== %s FAILED ===\n' "$name"
    status=1
  fi
}

stage lint pnpm run --silent lint
stage unit pnpm exec mocha --config .mocharc.unit.json
stage c make -s -C packages/fs-shim test
stage integration pnpm exec mocha --config .mocharc.integration.json

# Lines in $summary: "<passed> <failed> <skipped> <label>" from each runner.
read -r passed failed skipped < <(awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}' "$summary")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
printf '\ntests: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
exit "$status"
