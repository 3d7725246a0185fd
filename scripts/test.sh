#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite: unit and integration tests through
# CTest, then the deploy tests (the compose cluster on a real Docker engine; the .deb packages
# installed into a clean Debian root).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# --repeat until-pass:2: two tests are known to fail rarely (see the README); a real failure fails twice.
ctest --test-dir build --output-on-failure --timeout 300 -j"$(nproc)" --repeat until-pass:2
timeout 900 deploy/compose-test.sh build
timeout 900 deploy/package-test.sh build
