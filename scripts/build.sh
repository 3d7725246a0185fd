#!/usr/bin/env bash
# Configures and builds into ./build (-O2 with the debug info backtraces and perf need: -g1, line
# tables and functions, no local variables: a fifth quicker to build than -g; Ninja; ccache when
# installed).
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
    -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) cmake_args+=("$arg") ;;
  esac
done
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" "${launcher[@]}" "${cmake_args[@]}" >/dev/null
cmake --build build -j"$(nproc)" "${targets[@]}"
