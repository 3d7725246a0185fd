#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite: unit and integration tests through
# CTest, then the deploy tests (the compose cluster on a real Docker engine; the .deb packages
# installed into a clean Debian root).
#
# Usage: scripts/test.sh [--sanitize=address|thread]
#   --sanitize=address  builds into ./build-asan with ASan + UBSan (stopping at the first report)
#   --sanitize=thread   builds into ./build-tsan with TSan
# and runs the whole CTest suite there, daemons included (suppressions: tests/sanitizers/). The
# deploy tests are skipped in sanitizer mode (they test packaging and images of the normal build,
# not code), and the fault rounds run 5 of each kind instead of 20 (HOLLERITH_FAULT_ROUNDS, unless
# set): the sanitized binaries are several times slower.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=""
for arg in "$@"; do
  case "$arg" in
    --sanitize=address | --sanitize=thread) sanitize="${arg#--sanitize=}" ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
scripts/install-deps.sh
if [[ -z "$sanitize" ]]; then
  scripts/build.sh
  # --repeat until-pass:2: two tests are known to fail rarely (see the README); a real failure fails twice.
  ctest --test-dir build --output-on-failure --timeout 300 -j"$(nproc)" --repeat until-pass:2
  timeout 900 deploy/compose-test.sh build
  timeout 900 deploy/package-test.sh build
  exit 0
fi

dir=build-${sanitize/address/asan}
dir=${dir/thread/tsan}
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOLLERITH_SANITIZE="$sanitize" >/dev/null
cmake --build "$dir" -j"$(nproc)"
supp=$PWD/tests/sanitizers
export HOLLERITH_FAULT_ROUNDS=${HOLLERITH_FAULT_ROUNDS:-5}
if [[ "$sanitize" == address ]]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp
  export LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0
else
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp
fi
# Sanitized code is slower: more time per test than the normal run's 300 s.
ctest --test-dir "$dir" --output-on-failure --timeout 900 -j"$(nproc)"
