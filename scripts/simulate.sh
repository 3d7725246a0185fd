#!/usr/bin/env bash
# The seeded simulator of the cluster (docs/simulator.md) over more seeds than CI's 10,000: one
# process per core, each on its own range of seeds, every failing seed listed (--keep-going).
# Usage: scripts/simulate.sh [SCHEDULES] [FIRST_SEED] [BUILD_DIR]
#   scripts/simulate.sh 1000000            a million schedules from seed 1
#   build/tests/hollerith-sim --seed S --print     one schedule, step by step
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-100000}
first=${2:-1}
build=${3:-build}
sim="$build/tests/hollerith-sim"
[[ -x "$sim" ]] || { echo "build first: $sim is missing (scripts/build.sh --all)" >&2; exit 2; }
cores=$(nproc)
per=$(((total + cores - 1) / cores))
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
echo "simulate: $total schedules from seed $first on $cores processes"
start=$SECONDS
pids=()
for ((i = 0; i < cores; i++)); do
  from=$((first + i * per))
  count=$((i == cores - 1 ? total - i * per : per))
  "$sim" --keep-going --from "$from" --seeds "$count" >"$logs/$i.out" 2>"$logs/$i.err" &
  pids+=($!)
done
status=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || status=1
  cat "$logs/$i.out"
done
echo "simulate: $((SECONDS - start)) s, $([[ $status == 0 ]] && echo "every invariant held" || echo FAILED)"
exit $status
