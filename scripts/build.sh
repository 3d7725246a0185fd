#!/usr/bin/env bash
# Configures and builds into ./build (Release with debug info, Ninja, ccache when installed).
#   scripts/build.sh                 the daemons and the CLI only (what the demo and users need)
#   scripts/build.sh --all [ARGS]    everything: also the tests and benchmarks (needs
#                                    scripts/install-deps.sh --test); ARGS go to cmake
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(--target hollerith hollerith-coordinator hollerith-worker)
cmake_args=()
for arg in "$@"; do
  case "$arg" in
    --all) targets=(); cmake_args+=(-DHOLLERITH_TESTS=ON) ;;
    -h | --help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) cmake_args+=("$arg") ;;
  esac
done
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" "${cmake_args[@]}" >/dev/null
cmake --build build -j"$(nproc)" "${targets[@]}"
