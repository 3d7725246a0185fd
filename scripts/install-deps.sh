#!/usr/bin/env bash
# Installs Hollerith's dependencies from Debian 12's packages. Idempotent and quiet: when everything
# is already there it checks with dpkg and does not touch apt at all.
#   scripts/install-deps.sh          what building the daemons and the CLI needs (the first command),
#                                    Node and npm among it (the web view's npm packages)
#   scripts/install-deps.sh --test   that, plus what the test suite needs: GoogleTest, Google
#                                    Benchmark, Chromium and the browser test's npm packages, clang
#                                    and LLVM for the sanitizer and fuzz builds, Docker and
#                                    debootstrap for the deploy tests
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libasio-dev libspdlog-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libssl-dev libsqlite3-dev prometheus-cpp-dev
  libcpp-httplib-dev
  libpq-dev  # the PostgreSQL job store (--store postgres://...)
  libgoogle-perftools-dev  # tcmalloc, the programs' allocator
)
# Node and npm: the build installs the web view's npm packages (coordinator/web/package-lock.json)
# and the browser test drives Chromium with playwright-core; any Node >= 18 will do, Debian's or
# another already installed (which brings its own npm).
command -v npm >/dev/null || packages+=(nodejs npm)
with_tests=0
case "${1:-}" in
  --test) with_tests=1 ;;
  "") ;;
  -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac
if ((with_tests)); then
  packages+=(
    libgtest-dev libgmock-dev libbenchmark-dev
    python3 python3-yaml iproute2 procps
    python3-grpcio python3-protobuf python3-pytest python3-venv mypy  # the Python client's tests
    chromium  # the web view's browser test (tests/browser/)
    postgresql  # the PostgreSQL job store's tests start a real server (tests/support/postgres_server)
    clang libclang-rt-14-dev llvm  # the ASan+UBSan build with the fuzz targets (libFuzzer), symbolized reports
    docker.io docker-compose busybox-static ca-certificates file  # deploy/compose-test.sh
    debootstrap systemd dpkg-dev  # deploy/package-test.sh
  )
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # On a test machine (--test) dpkg skips its fsync after every file it unpacks: a fresh CI
  # machine installs about a thousand packages, and an interrupted install there is simply redone.
  unsafe_io=()
  ((with_tests)) && unsafe_io=(-o Dpkg::Options::=--force-unsafe-io)
  apt-get install -y -qq --no-install-recommends "${unsafe_io[@]}" "${missing[@]}" >/dev/null
fi

# Fills npm's cache with the packages locked in DIR/package-lock.json, so that a later
# `npm ci --prefer-offline` of them needs no network. Once cached, this touches no network either.
fill_npm_cache() {
  local scratch
  scratch=$(mktemp -d)
  cp "$1/package.json" "$1/package-lock.json" "$scratch"
  (cd "$scratch" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
  rm -rf "$scratch"
}
root="$(cd "$(dirname "$0")/.." && pwd)"
fill_npm_cache "$root/coordinator/web"  # the build's (coordinator/web/bundle_npm.cmake)
if ((with_tests)); then
  fill_npm_cache "$root/tests/browser"  # the browser test's (a CTest fixture)
fi
