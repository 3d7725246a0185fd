#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang, into ./build-asan) and runs each for SECONDS
# (default 30), one per core at a time. Each starts from its seed corpus (tests/fuzz/corpus/NAME,
# which also holds every input that once crashed it: regression seeds) and from what earlier runs
# found (build-asan/fuzz-corpus/NAME). A crash, leak, timeout or out-of-memory input is kept as a
# file in build-asan/fuzz-crashes/NAME/; the script exits 1 if any target found one.
#
# Usage: scripts/fuzz.sh [SECONDS] [--no-build] [NAME...]   (NAME: spec_yaml, trace, ...; default all)
# Reproduce a crash: build-asan/tests/fuzz/fuzz_NAME build-asan/fuzz-crashes/NAME/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=30
build=1
names=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) seconds="$arg" ;;
    *) names+=("$arg") ;;
  esac
done
if ((${#names[@]} == 0)); then
  for f in tests/fuzz/*_fuzz.cc; do names+=("$(basename "$f" _fuzz.cc)"); done
fi
if ((build)); then
  scripts/sanitized-build.sh address "${names[@]/#/fuzz_}"
fi
for name in "${names[@]}"; do
  [[ -x build-asan/tests/fuzz/fuzz_$name ]] || {
    echo "no fuzz target build-asan/tests/fuzz/fuzz_$name (names: tests/fuzz/*_fuzz.cc; built?)" >&2
    exit 2
  }
done
# One target per core at a time: each libFuzzer process is single-threaded.
jobs=$(nproc)
run_one() {
  local name=$1 work=build-asan/fuzz-corpus/$1 crashes=build-asan/fuzz-crashes/$1
  mkdir -p "$work" "$crashes"
  # -timeout: one input may take 10 s (sanitized); -rss_limit_mb: bounded memory is a property
  # under test (a spec of a few KiB must not take GiBs).
  build-asan/tests/fuzz/fuzz_"$name" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" \
    "$work" "tests/fuzz/corpus/$name" > "build-asan/fuzz-$name.log" 2>&1
}
report() {
  local name=$1 rc=$2
  echo "== fuzz_$name for ${seconds}s: $( ((rc == 0)) && echo ok || echo "FAILED (exit $rc)")"
  if ((rc != 0)); then
    grep -a -E "ERROR|SUMMARY|Test unit written|==[0-9]+==" "build-asan/fuzz-$name.log" | head -20 >&2 || true
  fi
  grep -a -E "stat::number_of_executed_units|stat::new_units_added" "build-asan/fuzz-$name.log" |
    tr '\n' ' ' || true
  echo
}
echo "== ${#names[@]} fuzz targets, ${seconds}s each, $jobs at a time"
failed=()
declare -A pid_of=()
finish_one() {  # waits for any running target, reports it
  local pid rc=0 name
  wait -n -p pid "${pid_of[@]}" || rc=$?
  for name in "${!pid_of[@]}"; do
    if [[ ${pid_of[$name]} == "$pid" ]]; then
      unset "pid_of[$name]"
      report "$name" "$rc"
      ((rc == 0)) || failed+=("$name")
    fi
  done
}
for name in "${names[@]}"; do
  while ((${#pid_of[@]} >= jobs)); do finish_one; done
  run_one "$name" &
  pid_of[$name]=$!
done
while ((${#pid_of[@]})); do finish_one; done
if ((${#failed[@]})); then
  echo "fuzz targets that crashed: ${failed[*]} (inputs in build-asan/fuzz-crashes/)" >&2
  exit 1
fi
echo "no crashes"
