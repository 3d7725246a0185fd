#!/usr/bin/env bash
# Soak: the fault rounds of tests/integration/fault_rounds_test.cc, many more times (100 worker
# kill -9 rounds, 50 coordinator kill -9 rounds) plus the partition test, on real processes; prints
# the figures (rounds, jobs, lost, wrong results, failed verifications, time to detect a dead
# worker). Usage: scripts/soak.sh [BUILD_DIR] [WORKER_ROUNDS] [COORDINATOR_ROUNDS]
# HOLLERITH_FAULT_SEED repeats a run (the seed is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
worker_rounds=${2:-100}
coordinator_rounds=${3:-50}
seed=${HOLLERITH_FAULT_SEED:-$(od -An -tu4 -N4 /dev/urandom | tr -d ' ')}
tests="$build/tests/integration_tests"
[[ -x "$tests" ]] || { echo "build first: $tests is missing" >&2; exit 2; }
echo "soak: seed $seed (HOLLERITH_FAULT_SEED=$seed repeats it)"
start=$SECONDS
status=0
run() {
  local rounds=$1 filter=$2
  HOLLERITH_FAULT_SEED=$seed HOLLERITH_FAULT_ROUNDS=$rounds timeout 3600 "$tests" \
    --gtest_filter="$filter" 2>&1 | tee /tmp/hollerith-soak.$$.log |
    grep -E "fault summary|FAILED|Failure|SEED" || true
  grep -q "\[  PASSED  \]" /tmp/hollerith-soak.$$.log || status=1
}
run "$worker_rounds" 'FaultRounds.WorkersKilledMidJobNeverChangeResults'
run "$coordinator_rounds" 'FaultRounds.CoordinatorKilledWhileJobsRunLosesNoAcknowledgedJob'
run 1 'FaultRounds.AWorkerStoppedPastItsLeaseIsFencedAndTheJobStaysCorrect:Partition.*'
rm -f /tmp/hollerith-soak.$$.log
echo "soak: $((SECONDS - start)) s, $([[ $status == 0 ]] && echo passed || echo FAILED)"
exit $status
