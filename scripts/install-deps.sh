#!/usr/bin/env bash
# Installs every build and test dependency from Debian 12's packages. Idempotent and quiet:
# when everything is already there it checks with dpkg and does not touch apt at all.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libasio-dev libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libssl-dev libsqlite3-dev prometheus-cpp-dev
  libcpp-httplib-dev
  python3 python3-yaml iproute2 procps
  chromium  # the web view's browser test (tests/browser/)
  clang libclang-rt-14-dev llvm  # the ASan+UBSan build with the fuzz targets (libFuzzer), symbolized reports
)
# Node and npm drive that browser (playwright-core); any Node >= 18 will do, Debian's or another
# already installed (which brings its own npm).
command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Fill npm's cache with the browser test's locked packages, so that its `npm ci --prefer-offline`
# (a CTest fixture) needs no network afterwards. Once cached, this touches no network either.
browser_tests="$(cd "$(dirname "$0")/../tests/browser" && pwd)"
scratch=$(mktemp -d)
cp "$browser_tests/package.json" "$browser_tests/package-lock.json" "$scratch"
(cd "$scratch" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
rm -rf "$scratch"
