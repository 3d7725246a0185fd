#!/usr/bin/env bash
# Configures and builds a sanitizer tree with clang:
#   address -> ./build-asan: ASan + UBSan, and the libFuzzer targets of tests/fuzz (the same tree
#              serves scripts/test.sh --sanitize=address and scripts/fuzz.sh)
#   thread  -> ./build-tsan: TSan
# -O1 with line tables only (build type "Sanitized", which adds nothing of its own): quick to
# build, and every report still names file and line.
# Usage: scripts/sanitized-build.sh address|thread [TARGET...]   (default: everything)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
shift || true
case "$kind" in
  address) dir=build-asan extra=(-DHOLLERITH_FUZZ=ON) ;;
  thread) dir=build-tsan extra=() ;;
  *) echo "usage: scripts/sanitized-build.sh address|thread [TARGET...]" >&2; exit 2 ;;
esac
command -v clang++ >/dev/null || { echo "needs clang (scripts/install-deps.sh installs it)" >&2; exit 2; }
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Sanitized -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_FLAGS="-O1 -gline-tables-only" \
  -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" -DHOLLERITH_SANITIZE="$kind" "${extra[@]}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$dir" -j"$(nproc)" "${targets[@]}"
