#!/usr/bin/env bash
# Tests the compose cluster on a real Docker engine: builds the images, brings up a coordinator and
# workers x, y, z, submits jobs from the host's CLI and compares them with `run --local`, kills the
# worker holding a running stack, scales unnamed workers, restarts the coordinator, and stops
# everything with SIGTERM. Installs docker.io/docker-compose if missing, starts dockerd if none is
# running (and stops only what it started), and always tears down (`down -v`), printing every
# container's log when a check failed. Usage: deploy/compose-test.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
cli="$build/cli/hollerith"
project="hollerith-test-$$"
work=$(mktemp -d /tmp/hollerith-compose-test.XXXXXX)
started_dockerd=""
step() { echo "compose-test: $*"; }
fail() { echo "compose-test: FAIL: $*" >&2; exit 1; }
# Waits until `cmd` succeeds, for at most $1 seconds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null ||
    ! [[ -x /bin/busybox ]]; then
  step "installing docker.io docker-compose busybox-static"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io docker-compose busybox-static \
    ca-certificates file >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  step "starting dockerd"
  dockerd --host unix:///var/run/docker.sock >"$work/dockerd.log" 2>&1 &
  started_dockerd=$!
  wait_for 60 docker info || { cat "$work/dockerd.log" >&2; fail "dockerd did not start"; }
fi

compose() { docker-compose -p "$project" -f deploy/docker-compose.yml "$@"; }
cleanup() {
  local rc=$?
  set +e
  if ((rc != 0)); then
    echo "---- container logs ($project) ----" >&2
    compose logs --no-color --timestamps >&2
  fi
  compose down -v --remove-orphans >/dev/null 2>&1
  if [[ -n "$started_dockerd" ]]; then
    kill "$started_dockerd" 2>/dev/null
    wait "$started_dockerd" 2>/dev/null
  fi
  rm -rf "$work"
  ((rc == 0)) && step "PASS (${SECONDS}s)"
  exit "$rc"
}
trap cleanup EXIT

step "building images"
deploy/build-images.sh "$build"
export HOLLERITH_TOKEN_PATH="$work/token" HOLLERITH_PORT="" HOLLERITH_VERSION=latest
deploy/make-token.sh "$HOLLERITH_TOKEN_PATH" >/dev/null

# Every container of the project reports healthy.
all_healthy() {
  local ids; ids=$(compose ps -q)
  [[ -n "$ids" ]] || return 1
  for id in $ids; do
    [[ "$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id")" == healthy ]] || return 1
  done
}
step "up: coordinator and workers x, y, z"
compose up -d >/dev/null 2>"$work/up.log" || { cat "$work/up.log" >&2; fail "compose up"; }
wait_for 120 all_healthy || fail "the cluster did not become healthy within 120 s"
export HOLLERITH_COORDINATOR
HOLLERITH_COORDINATOR=$(compose port coordinator 7070)
export HOLLERITH_TOKEN_FILE="$HOLLERITH_TOKEN_PATH"
[[ "$HOLLERITH_COORDINATOR" == 127.0.0.1:* ]] || fail "the coordinator's port is published on $HOLLERITH_COORDINATOR, not 127.0.0.1"
"$cli" workers | tee "$work/workers.txt"
for w in x y z; do grep -q "^$w " "$work/workers.txt" || fail "worker $w is not connected"; done

# Runs SPEC on the cluster and locally and compares the results; extra args are node checks.
check_job() {
  local spec=$1; shift
  local name; name=$(basename "$spec" .yaml)
  (cd "$work" && "$cli" run --local "$OLDPWD/$spec" --json >"$work/$name.local.json") ||
    fail "run --local $spec"
  "$cli" submit "$spec" --json >"$work/$name.cluster.json" || fail "submit $spec"
  /usr/bin/python3 deploy/test/compare_results.py "$work/$name.local.json" \
    "$work/$name.cluster.json" "$@" || fail "$spec: the cluster's results differ from run --local"
}
step "examples/report.yaml: cluster results equal run --local"
check_job examples/report.yaml
step "deploy/test/pinned.yaml: stacks pinned by name and labels ran where pinned"
check_job deploy/test/pinned.yaml X.make=x Y.use=y Z.after=z "A.any=x|y"

step "kill the worker holding a running stack: the job completes with the same results"
(cd "$work" && "$cli" run --local "$OLDPWD/deploy/test/long.yaml" --json >"$work/long.local.json")
job=$("$cli" submit deploy/test/long.yaml)
nap_node() {
  "$cli" status "$job" --json | /usr/bin/python3 -c '
import json, sys
card = json.load(sys.stdin)["cards"]["L.nap"]
sys.exit(0 if card["state"] == "running" else 1) if card["node"] else sys.exit(1)'
}
wait_for 30 nap_node || fail "L.nap did not start"
holder=$("$cli" status "$job" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["cards"]["L.nap"]["node"])')
container=""
for id in $(compose ps -q); do
  [[ "$(docker inspect -f '{{.Config.Hostname}}' "$id")" == "$holder" ]] && container=$id
done
[[ -n "$container" ]] || fail "no container for worker $holder"
step "  L.nap runs on $holder: docker kill"
docker kill "$container" >/dev/null
job_done() { "$cli" status "$job" --json | grep -q '"state": "\(succeeded\|failed\|cancelled\)"' &&
             ! "$cli" status "$job" --json | grep -q '"state": "running"'; }
wait_for 60 job_done || fail "job $job did not finish after its worker was killed"
"$cli" status "$job" --json >"$work/long.cluster.json"
other=$([[ "$holder" == x ]] && echo y || echo x)
/usr/bin/python3 deploy/test/compare_results.py "$work/long.local.json" "$work/long.cluster.json" \
  "L.nap=$other" "M.wait=z" || fail "the re-placed job's results differ from run --local"
compose start "$( [[ "$holder" == x ]] && echo x || echo y)" >/dev/null 2>&1
wait_for 60 all_healthy || fail "the killed worker did not come back"

step "scale: two unnamed workers join"
compose up -d --scale worker=2 >/dev/null 2>"$work/scale.log" || { cat "$work/scale.log" >&2; fail "scale"; }
wait_for 60 all_healthy || fail "scaled workers did not become healthy"
[[ $("$cli" workers | tail -n +2 | wc -l) -eq 5 ]] || fail "expected 5 workers: $("$cli" workers)"

step "restart the coordinator: finished jobs are still listed, workers reconnect, new jobs run"
"$cli" status >"$work/jobs-before.txt"
compose restart coordinator >/dev/null 2>&1
wait_for 120 all_healthy || fail "the cluster was not healthy again after the coordinator restarted"
HOLLERITH_COORDINATOR=$(compose port coordinator 7070)  # an ephemeral host port is picked anew
wait_for 60 bash -c "[[ \$('$cli' workers | tail -n +2 | wc -l) -eq 5 ]]" || fail "workers did not reconnect"
"$cli" status >"$work/jobs-after.txt"
for id in $(tail -n +2 "$work/jobs-before.txt" | awk '{print $1}'); do
  grep -q "^$id " "$work/jobs-after.txt" ||
    fail "job $id was not listed after the coordinator restarted: $(cat "$work/jobs-after.txt")"
done
report_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["job_id"])' "$work/report.cluster.json")
"$cli" status "$report_id" --json >"$work/report.after-restart.json"
/usr/bin/python3 deploy/test/compare_results.py "$work/report.local.json" \
  "$work/report.after-restart.json" || fail "$report_id's results changed across the restart"
step "  $(($(wc -l <"$work/jobs-before.txt") - 1)) finished jobs listed, with their results, after the restart"
check_job examples/report.yaml

step "stop: every daemon ends cleanly on SIGTERM"
compose stop -t 30 >/dev/null 2>&1
for id in $(compose ps -q); do
  code=$(docker inspect -f '{{.State.ExitCode}}' "$id")
  name=$(docker inspect -f '{{.Name}}' "$id")
  [[ "$code" == 0 ]] || fail "$name exited with $code on SIGTERM"
done
