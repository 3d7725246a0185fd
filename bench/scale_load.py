"""The coordinator at scale (issue 30): runs bench/hollerith-load (N simulated worker sessions in
one process, one job of S stacks in released pairs) against a started cluster that has no
workers of its own, and returns its figures.

    run_scale(cluster, workers, stacks, timeout) -> dict

`cluster` is a started run_bench.HollerithCluster (workers=()) or anything with binary(rel),
client_flags(), coordinator.pid and lease_lost(). `--smoke` starts such a cluster itself and runs
20 workers and 200 stacks (the ctest bench_load_smoke).
"""
import argparse
import json
import os
import subprocess
import sys


class ScaleError(Exception):
    pass


def run_scale(cluster, workers, stacks, timeout, workers_per_channel=None):
    """hollerith-load's JSON (workers, stacks, connect_s, placements_per_s, release_p50_us,
    release_p99_us, job_total_s, coordinator memory, lease_expired, ...) plus "value":
    placements_per_s. Raises ScaleError when the run fails, the job does not succeed, or a lease
    was lost (the tool's own count or the coordinator's log).

    `workers_per_channel`: sessions sharing one TCP connection. Default: 1 up to 1,000 workers,
    else 10. On the 2-core VM, 10,000 sessions on 10,000 connections lose leases while
    connecting (welcomes reach the sessions at ~100/s against a 5 s lease), so the 10,000-worker
    figure is 10,000 sessions over 1,000 connections; the JSON says which."""
    if workers_per_channel is None:
        workers_per_channel = 1 if workers <= 1000 else 10
    argv = [cluster.binary("bench/hollerith-load"), "--workers", str(workers),
            "--stacks", str(stacks), "--timeout", str(timeout),
            "--workers-per-channel", str(workers_per_channel),
            "--coordinator-pid", str(cluster.coordinator.pid)] + list(cluster.client_flags())
    log = os.path.join(getattr(cluster, "dir", ""), "coordinator.log")
    if getattr(cluster, "dir", None) and os.path.exists(log):
        argv += ["--coordinator-log", log]
    try:
        # The tool bounds itself by --timeout; the margin covers start-up and teardown.
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout + 60)
    except subprocess.TimeoutExpired as e:
        raise ScaleError(f"hollerith-load did not end within {timeout + 60} s") from e
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    result = None
    if lines:
        try:
            result = json.loads(lines[-1])
        except ValueError:
            result = None
    lost = cluster.lease_lost()
    if p.returncode != 0 or result is None or not result.get("ok"):
        why = (result or {}).get("error") or p.stderr.strip()[-800:]
        raise ScaleError(f"hollerith-load --workers {workers} --stacks {stacks} failed "
                         f"(exit {p.returncode}): {why}")
    if lost:
        raise ScaleError(f"a load worker lost its lease: {lost}")
    result["value"] = result["placements_per_s"]
    return result


def _smoke(bin_dir):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run_bench  # the harness's cluster (started without workers)

    cluster = run_bench.HollerithCluster(bin_dir, workers=())
    try:
        cluster.start()
        result = run_scale(cluster, workers=20, stacks=200, timeout=40)
    finally:
        cluster.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="20 workers, 200 stacks")
    parser.add_argument("--bin-dir", required=True, help="the build directory")
    args = parser.parse_args()
    if not args.smoke:
        parser.error("only --smoke runs on its own; the harness calls run_scale()")
    try:
        sys.exit(_smoke(args.bin_dir))
    except (ScaleError, Exception) as e:  # noqa: BLE001 - a smoke test reports any failure
        print(f"bench_load_smoke: {e}", file=sys.stderr)
        sys.exit(1)
