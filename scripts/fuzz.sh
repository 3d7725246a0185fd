#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang, into ./build-asan) and runs each for SECONDS
# (default 30), one after the other. Each starts from its seed corpus (tests/fuzz/corpus/NAME,
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
failed=()
for name in "${names[@]}"; do
  work=build-asan/fuzz-corpus/$name crashes=build-asan/fuzz-crashes/$name
  mkdir -p "$work" "$crashes"
  echo "== fuzz_$name for ${seconds}s"
  # -timeout: one input may take 10 s (sanitized); -rss_limit_mb: bounded memory is a property
  # under test (a spec of a few KiB must not take GiBs).
  if ! build-asan/tests/fuzz/fuzz_"$name" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" \
    "$work" "tests/fuzz/corpus/$name" > "build-asan/fuzz-$name.log" 2>&1; then
    failed+=("$name")
    grep -a -E "ERROR|SUMMARY|Test unit written|==[0-9]+==" "build-asan/fuzz-$name.log" | head -20 >&2 || true
  fi
  grep -a -E "stat::number_of_executed_units|stat::new_units_added" "build-asan/fuzz-$name.log" |
    tr '\n' ' ' || true
  echo
done
if ((${#failed[@]})); then
  echo "fuzz targets that crashed: ${failed[*]} (inputs in build-asan/fuzz-crashes/)" >&2
  exit 1
fi
echo "no crashes"
