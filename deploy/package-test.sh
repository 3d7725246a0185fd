#!/usr/bin/env bash
# Tests the Debian packages the way an admin meets them: builds them (CPack), installs them with apt
# into a clean Debian 12 root made by debootstrap (so Depends must be right), checks the system
# user, the conffiles and the systemd units (`systemd-analyze verify` inside that root), then
# starts the installed coordinator and worker as user hollerith and runs a job with the installed
# CLI; builds the client example out of tree against libhollerith-client-dev (CMake package and
# pkg-config) and runs it; runs the Python pipeline example with python3-hollerith. Network:
# loopback only, plus the Debian mirror apt already uses.
# Usage: deploy/package-test.sh [BUILD_DIR]   (default: build)
set -euo pipefail
# The chroot has none of this host's build tools (say ccache): no launcher leaks into its builds.
unset CMAKE_CXX_COMPILER_LAUNCHER CMAKE_C_COMPILER_LAUNCHER
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
work=$(mktemp -d /tmp/hollerith-package-test.XXXXXX)
root="$work/root"
pids=()
step() { echo "package-test: $*"; }
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
cleanup() {
  local rc=$?
  set +e
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  # $! is the subshell that ran as_hollerith, not the daemon under it: stop every process whose
  # root is the chroot (the daemons, and anything a card left), then wait until none is left.
  in_root() {
    local p found=1
    for p in /proc/[0-9]*; do
      [[ "$(readlink "$p/root" 2>/dev/null)" == "$root" ]] && { kill "-$1" "${p#/proc/}" 2>/dev/null; found=0; }
    done
    return "$found"
  }
  in_root TERM && { wait_for 10 eval '! in_root 0' || in_root KILL; }
  if ((rc != 0)); then
    for f in "$work"/*.log; do [[ -f "$f" ]] && { echo "---- $f" >&2; tail -n 40 "$f" >&2; }; done
  fi
  for m in proc dev/pts dev; do mountpoint -q "$root/$m" && umount -l "$root/$m"; done
  rm -rf "$work"
  ((rc == 0)) && step "PASS (${SECONDS}s)"
  exit "$rc"
}
trap cleanup EXIT

need=()
for tool in debootstrap systemd-analyze dpkg-shlibdeps; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ((${#need[@]})); then
  step "installing debootstrap systemd dpkg-dev (for ${need[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends debootstrap systemd dpkg-dev >/dev/null
fi

step "building packages"
cmake --build "$build" --target package >"$work/cpack.log" 2>&1 || fail "cpack"
debs=("$build"/hollerith_*.deb "$build"/hollerith-coordinator_*.deb "$build"/hollerith-worker_*.deb
  "$build"/libhollerith-client-dev_*.deb "$build"/python3-hollerith_*.deb)
for d in "${debs[@]}"; do [[ -f "$d" ]] || fail "missing $d"; done
for d in "${debs[@]}"; do
  step "  $(basename "$d"): $(dpkg-deb -f "$d" Depends | cut -c1-100)..."
done
dpkg-deb -f "$build"/hollerith-coordinator_*.deb Depends | grep -q libgrpc++ ||
  fail "hollerith-coordinator's Depends lack libgrpc++ (dpkg-shlibdeps did not run?)"

step "debootstrap a clean Debian 12 (minbase)"
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  fail "debootstrap"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The root is thrown away after the test: its dpkg need not fsync every file it unpacks.
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/hollerith-test-unsafe-io"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mkdir -p "$root/tmp/debs"
cp "${debs[@]}" "$root/tmp/debs/"
cp -r examples "$root/tmp/examples"

step "apt-get install the five packages (dependencies from the mirror), systemd, a compiler"
chroot "$root" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
  apt-get install -y -qq --no-install-recommends /tmp/debs/*.deb systemd g++ cmake make pkg-config' \
  >"$work/apt.log" 2>&1 ||
  fail "apt-get install of the packages"
chroot "$root" getent passwd hollerith | grep -q ':/var/lib/hollerith:' || fail "no hollerith user"
[[ "$(chroot "$root" stat -c %U /var/lib/hollerith)" == hollerith ]] || fail "/var/lib/hollerith not owned by hollerith"
for role in coordinator worker; do
  [[ -f "$root/etc/hollerith/$role.env" ]] || fail "no /etc/hollerith/$role.env"
  grep -qx "/etc/hollerith/$role.env" "$root/var/lib/dpkg/info/hollerith-$role.conffiles" ||
    fail "$role.env is not a conffile"
  unit="$root/usr/lib/systemd/system/hollerith-$role.service"
  [[ -f "$unit" ]] || fail "no unit hollerith-$role.service"
  chroot "$root" systemd-analyze verify "/usr/lib/systemd/system/hollerith-$role.service" \
    >"$work/verify-$role.log" 2>&1 || fail "systemd-analyze verify hollerith-$role.service"
  # Warnings (unknown keys, bad values) count as failures too.
  [[ ! -s "$work/verify-$role.log" ]] ||
    fail "systemd-analyze verify hollerith-$role.service: $(cat "$work/verify-$role.log")"
  for key in NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=; do
    grep -q "^$key" "$unit" || fail "hollerith-$role.service lacks $key"
  done
done
chroot "$root" hollerith --help >/dev/null || fail "the installed CLI does not run"

step "start the installed coordinator and worker as hollerith, run examples/report.yaml"
as_hollerith() { chroot "$root" setpriv --reuid=hollerith --regid=hollerith --init-groups "$@"; }
. "$root/etc/hollerith/coordinator.env"
as_hollerith /usr/bin/hollerith-coordinator --listen 127.0.0.1:0 --data-dir "$HOLLERITH_DATA_DIR" \
  >"$work/coordinator.out" 2>"$work/coordinator.log" &
pids+=($!)
wait_for 30 grep -q '^listening on' "$work/coordinator.out" || fail "the coordinator did not start"
address=$(sed -n 's/^listening on //p' "$work/coordinator.out")
token=/var/lib/hollerith/token
as_hollerith /usr/bin/hollerith-worker --coordinator "$address" --token-file "$token" --name pkg \
  --work-dir /var/lib/hollerith/worker >"$work/worker.log" 2>&1 &
pids+=($!)
wait_for 30 grep -q 'connected to coordinator' "$work/worker.log" || fail "the worker did not connect"
chroot "$root" env HOLLERITH_COORDINATOR="$address" HOLLERITH_TOKEN_FILE="$token" \
  hollerith submit /tmp/examples/report.yaml --json >"$work/result.json" 2>"$work/submit.log" ||
  fail "the job failed"
grep -q '"stdout": "500500 1001000\\n"' "$work/result.json" || fail "unexpected result: $(cat "$work/result.json")"
grep -q '"node": "pkg"' "$work/result.json" || fail "the job did not run on the installed worker"

step "the client example builds out of tree against libhollerith-client-dev and runs the job"
chroot "$root" /bin/sh -c 'cmake -S /usr/share/doc/libhollerith-client-dev/examples -B /tmp/example &&
  cmake --build /tmp/example' >"$work/example-build.log" 2>&1 ||
  fail "find_package(Hollerith) build: $(tail -n 30 "$work/example-build.log")"
chroot "$root" /bin/sh -c 'g++ -std=c++20 -o /tmp/example-pc \
  /usr/share/doc/libhollerith-client-dev/examples/client_example.cc \
  $(pkg-config --cflags --libs hollerith-client)' >"$work/example-pc.log" 2>&1 ||
  fail "pkg-config hollerith-client build"
chroot "$root" env HOLLERITH_COORDINATOR="$address" HOLLERITH_TOKEN_FILE="$token" \
  /tmp/example/hollerith-client-example /tmp/examples/report.yaml >"$work/example.log" 2>&1 ||
  fail "the client example's job failed"
grep -q succeeded "$work/example.log" || fail "the client example did not report success"

step "python3-hollerith: the Python pipeline example runs the job with Debian's grpcio"
chroot "$root" env HOLLERITH_COORDINATOR="$address" HOLLERITH_TOKEN_FILE="$token" \
  python3 /usr/share/doc/python3-hollerith/examples/pipeline.py >"$work/python.log" 2>&1 ||
  fail "the Python example failed: $(tail -n 30 "$work/python.log")"
grep -qx "500500 1001000" "$work/python.log" || fail "the Python example printed: $(cat "$work/python.log")"
