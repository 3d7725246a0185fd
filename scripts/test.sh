#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite, printing how long each part took:
#   1. the normal build (./build): unit and integration tests through CTest, then the deploy tests
#      (the compose cluster on a real Docker engine; the .deb packages in a clean Debian root),
#      which in the full run go on while the ASan tree of part 2 builds;
#   2. the CTest suite under ASan + UBSan (./build-asan, clang), stopping at the first report;
#   3. every libFuzzer target for 20 s (scripts/fuzz.sh 20: one per core at a time, same tree),
#      failing on a crash;
#   4. the suites that do not link gRPC under TSan (./build-tsan; Debian's gRPC is not built for
#      TSan: see below).
# Usage: scripts/test.sh [--only=normal|address|thread|fuzz]   (default: all four, in that order)
# Sanitized runs skip the deploy tests (they test the packaging and images of the normal build)
# and the benchmarks, and run 5 fault rounds of each kind instead of 20 (HOLLERITH_FAULT_ROUNDS).
# A failed test is run once more; every test that needed that is named (RETRIED) at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
only=""
for arg in "$@"; do
  case "$arg" in
    --only=normal | --only=address | --only=thread | --only=fuzz) only="${arg#--only=}" ;;
    --sanitize=address | --sanitize=thread) only="${arg#--sanitize=}" ;;  # the older spelling
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
scripts/install-deps.sh --test

mkdir -p build
retried=$PWD/build/retried-tests.txt
: >"$retried"

# CTest in DIR (more ctest ARGS after it). A test that fails is run once more, so that one unlucky
# scheduling on a loaded 2-core machine does not fail the suite; a test that fails twice fails
# it. Every test that needed the second run is named ("RETRIED: DIR NAME"), here and at the end.
ctest_once_more() {
  local dir=$1
  shift
  if ctest --test-dir "$dir" --output-on-failure "$@"; then return 0; fi
  local failed=$dir/Testing/Temporary/LastTestsFailed.log
  [[ -s "$failed" ]] || return 1
  sed 's/^[0-9]*://' "$failed" | sed "s|^|RETRIED: $dir |" | tee -a "$retried"
  ctest --test-dir "$dir" --output-on-failure --rerun-failed "$@"
}

part() {
  local start=$SECONDS
  echo "== test.sh: $*"
  "$@"
  echo "== test.sh: $* took $((SECONDS - start)) s"
}

normal_suite() {
  scripts/build.sh --all
  ctest_once_more build --timeout 300 -j"$(nproc)"
}
deploy_tests() {
  timeout 900 deploy/compose-test.sh build
  timeout 900 deploy/package-test.sh build
}
normal() {
  normal_suite
  deploy_tests
}

# In the full run the deploy tests run while the ASan tree builds: they mostly wait on Docker, the
# mirror and dpkg, and the build keeps the cores busy meanwhile. Both are over before the ASan
# suite starts, so no sanitized test shares the machine with them (their output is printed then).
deploy_log=$PWD/build/deploy-tests.log
deploy_pid=""
start_deploy_tests() {
  (part deploy_tests) >"$deploy_log" 2>&1 &
  deploy_pid=$!
  echo "== test.sh: deploy tests started beside the ASan build (output: $deploy_log)"
}
finish_deploy_tests() {
  local rc=0
  wait "$deploy_pid" || rc=$?
  deploy_pid=""
  cat "$deploy_log"
  return "$rc"
}

# TSan runs the suites whose executables do not link gRPC. Debian's gRPC and abseil are not
# built with TSan, so their locks are invisible to it: every hand-off between a gRPC thread and
# code compiled from gRPC's headers (the callback reactors, in every gRPC suite) is reported as a
# race that is not one. The threads of our own (card runner, slot pool, local executor, scheduler,
# store, logging) are all in these suites; the daemons' gRPC side runs under ASan only.
tsan_suites=(base_tests log_tests spec_tests core_tests trace_tests artifacts_tests pki_tests
  runner_tests local_tests)

sanitized() (
  local kind=$1 dir selection=()
  local supp=$PWD/tests/sanitizers
  export HOLLERITH_FAULT_ROUNDS=${HOLLERITH_FAULT_ROUNDS:-5}
  if [[ "$kind" == address ]]; then
    scripts/sanitized-build.sh address
    dir=build-asan
    # quarantine_size_mb=32 (default 256): freed memory ASan holds back would otherwise count in the
    # daemons' RSS, which the hostile-input tests bound.
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0:quarantine_size_mb=32
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp
    export LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0
  else
    scripts/sanitized-build.sh thread "${tsan_suites[@]}"
    dir=build-tsan
    selection=(-L "^($(IFS='|'; echo "${tsan_suites[*]}"))\$")
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp
  fi
  # Sanitized code is slower: more time per test than the normal run's 300 s.
  ctest_once_more "$dir" --timeout 900 -j"$(nproc)" "${selection[@]}"
)

report_retries() {
  echo "== test.sh: took $SECONDS s in all"
  if [[ -s "$retried" ]]; then
    echo "== test.sh: tests that passed only when run again (each needs an explanation):"
    cat "$retried"
  else
    echo "== test.sh: no test needed a second run"
  fi
}
# A PostgreSQL server a test started (tests/support/postgres_server) outlives the test only when
# the test process itself was killed (a timeout, a crash): stop those, and only those (their data
# dirs are the tests' temporary directories), however the run ends.
stop_test_databases() {
  pkill -KILL -f "postgres -D /tmp/hollerith-test-" 2>/dev/null || true
}
# A run that stops early still lets deploy tests it started finish (they always tear down what they
# started; timeout bounds them).
trap 'stop_test_databases; [[ -z "$deploy_pid" ]] || finish_deploy_tests || true; report_retries' EXIT

case "$only" in
  normal) part normal ;;
  address) part sanitized address ;;
  thread) part sanitized thread ;;
  fuzz) part timeout 900 scripts/fuzz.sh 20 ;;
  *)
    part normal_suite
    start_deploy_tests
    part scripts/sanitized-build.sh address
    finish_deploy_tests
    part sanitized address
    part timeout 900 scripts/fuzz.sh 20 --no-build
    part sanitized thread
    ;;
esac
