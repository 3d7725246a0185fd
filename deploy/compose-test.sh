#!/usr/bin/env bash
# Tests the compose cluster on a real Docker engine: builds the images, brings up a coordinator and
# workers x, y, z, submits jobs from the host's CLI and compares them with `run --local`, kills the
# worker holding a running stack, scales unnamed workers, restarts the coordinator, and stops
# everything with SIGTERM. Then the HA variant (docker-compose.ha.yml: PostgreSQL, coordinator and
# coordinator-b on it): kills the leader while a job runs; the standby takes over, the job ends as
# `run --local` does (with an output the killed leader stored) and a new job runs. Installs
# docker.io/docker-compose if missing, starts dockerd if none is running (and stops only what it
# started), and always tears down (`down -v`), printing every container's log when a check failed.
# Usage: deploy/compose-test.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
cli="$build/cli/hollerith"
project="hollerith-test-$$"
project_ha="hollerith-test-ha-$$"
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
compose_ha() {
  docker-compose -p "$project_ha" -f deploy/docker-compose.yml -f deploy/docker-compose.ha.yml "$@"
}
cleanup() {
  local rc=$?
  set +e
  if ((rc != 0)); then
    echo "---- container logs ($project) ----" >&2
    compose logs --no-color --timestamps >&2
    echo "---- container logs ($project_ha) ----" >&2
    compose_ha logs --no-color --timestamps >&2
  fi
  compose down -v --remove-orphans >/dev/null 2>&1
  compose_ha down -v --remove-orphans >/dev/null 2>&1
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
deploy/build-images.sh --postgres "$build"
export HOLLERITH_TOKEN_PATH="$work/token" HOLLERITH_PORT="" HOLLERITH_VERSION=latest
export HOLLERITH_PGPASS_PATH="$work/pgpass" HOLLERITH_PORT_B=""
deploy/make-token.sh "$HOLLERITH_TOKEN_PATH" >/dev/null
deploy/make-pgpass.sh "$HOLLERITH_PGPASS_PATH" >/dev/null

# Every container of the project reports healthy ($1: compose, the default, or compose_ha).
all_healthy() {
  local ids; ids=$("${1:-compose}" ps -q)
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
  (cd "$work" && TMPDIR="$work" "$cli" run --local "$OLDPWD/$spec" --json >"$work/$name.local.json") ||
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
(cd "$work" && TMPDIR="$work" "$cli" run --local "$OLDPWD/deploy/test/long.yaml" --json >"$work/long.local.json")
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

step "HA: PostgreSQL, coordinator and coordinator-b on it, workers x, y, z given both"
ha_start=$SECONDS
compose down -v >/dev/null 2>&1  # done with the single coordinator: its containers go
compose_ha up -d >/dev/null 2>"$work/up-ha.log" || { cat "$work/up-ha.log" >&2; fail "compose up (HA)"; }
wait_for 90 all_healthy compose_ha || fail "the HA cluster did not become healthy within 90 s"
# The leader says `leading: epoch N` on stdout, the standby `standby: the leader is ADDR`.
logged() { docker logs "$1" 2>&1 | grep -q "$2"; }
find_roles() {
  local service id
  leader="" standby=""
  for service in coordinator coordinator-b; do
    id=$(compose_ha ps -q "$service")
    if logged "$id" '^leading: epoch'; then leader=$service; else standby=$service; fi
  done
  [[ -n "$leader" && -n "$standby" ]] &&
    logged "$(compose_ha ps -q "$standby")" '^standby: the leader is'
}
wait_for 30 find_roles || fail "no leader and standby among coordinator and coordinator-b"
leader_port=$(compose_ha port "$leader" 7070)
standby_port=$(compose_ha port "$standby" 7070)
for p in "$leader_port" "$standby_port"; do
  [[ "$p" == 127.0.0.1:* ]] || fail "a coordinator's port is published on $p, not 127.0.0.1"
done
# The standby first: the CLI is told "not the leader" there and goes on to the leader.
HOLLERITH_COORDINATOR="$standby_port,$leader_port"
step "  $leader leads, $standby waits; --coordinator $HOLLERITH_COORDINATOR"
(cd "$work" && TMPDIR="$work" "$cli" run --local "$OLDPWD/deploy/test/failover.yaml" --json >"$work/failover.local.json")
job=$("$cli" submit deploy/test/failover.yaml --coordinator "$HOLLERITH_COORDINATOR") ||
  fail "submit to the HA cluster"
wait_for 30 nap_node || fail "L.nap did not start on the HA cluster"
step "  L.nap runs: docker kill $leader (SIGKILL)"
killed_at=$(date +%s%N)
docker kill "$(compose_ha ps -q "$leader")" >/dev/null
wait_for 30 logged "$(compose_ha ps -q "$standby")" '^leading: epoch' ||
  fail "$standby did not take over within 30 s"
step "  $standby leads after $((($(date +%s%N) - killed_at) / 1000000)) ms (polled every 0.5 s)"
wait_for 60 job_done || fail "job $job did not finish after its coordinator was killed"
"$cli" status "$job" --json >"$work/failover.ha.json"
/usr/bin/python3 deploy/test/compare_results.py "$work/failover.local.json" \
  "$work/failover.ha.json" "L.nap=x|y" "M.use=z" ||
  fail "the job's results after the failover differ from run --local"
workers_back() { [[ $("$cli" workers | tail -n +2 | wc -l) -eq 3 ]]; }
wait_for 30 workers_back || fail "the workers did not all reconnect to $standby: $("$cli" workers)"
step "  a new job, accepted by $standby alone"
check_job examples/report.yaml
step "  stop: the others end cleanly (PostgreSQL on SIGINT, the rest on SIGTERM)"
compose_ha stop -t 30 >/dev/null 2>&1
for service in postgres "$standby" x y z; do
  code=$(docker inspect -f '{{.State.ExitCode}}' "$(compose_ha ps -q "$service")")
  [[ "$code" == 0 ]] || fail "$service (HA) exited with $code when stopped"
done
compose_ha down -v >/dev/null 2>&1
step "  HA phase: $((SECONDS - ha_start)) s"
