#!/usr/bin/env bash
# The whole test suite: lint and type-check, unit tests, C tests, integration tests.
# Every stage runs even when an earlier one failed; the last line totals them all.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

summary="$(mktemp)"
nats_dir=""
nats_pid=""
cleanup() {
  rm -f "$summary"
  if [ -n "$nats_pid" ]; then kill "$nats_pid" 2>/dev/null; wait "$nats_pid" 2>/dev/null; fi
  if [ -n "$nats_dir" ]; then rm -rf "$nats_dir"; fi
}
trap cleanup EXIT

# Some suites use the machine's NATS on 127.0.0.1:4222 (JetStream on); start one for this run when
# none answers there. Suites that kill or cluster servers start their own on free ports.
if ! (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; then
  nats_dir="$(mktemp -d)"
  nats-server -a 127.0.0.1 -p 4222 -js -sd "$nats_dir" >"$nats_dir/nats.log" 2>&1 &
  nats_pid=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && break; sleep 0.1; done
  echo "started nats-server on 127.0.0.1:4222 for this run (pid $nats_pid)"
fi
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
stage unit pnpm exec mocha --config .mocharc.unit.json 'packages/*/test/**/*.test.ts' 'services/*/test/**/*.test.ts'
stage c make -s -C packages/fs-shim test
stage integration pnpm exec mocha --config .mocharc.integration.json 'test/integration/**/*.test.ts'

# Lines in $summary: "<passed> <failed> <skipped> <label>" from each runner.
read -r passed failed skipped < <(awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}' "$summary")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
printf '\ntests: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
exit "$status"
