"""The benchmark's peers and baselines other than Hollerith: Dask distributed, GNU make -j2 and
the bare gRPC round trip (GrpcFloor)."""

import math
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

from bench_common import GRPC_FLOOR, BenchError
from bench_stats import percentile


# ----------------------------------------------------------------------------- Dask (peer)

def _noop(*_):
    return None


def _true(*_):
    subprocess.run(["true"], check=True)
    return None


class Dask:
    name = "dask"

    def __init__(self, args):
        self.args = args
        import distributed  # noqa: F401  (fail early, with a clear message, if it is missing)

    def close(self):
        pass

    def run(self, workload, size):
        import logging
        from distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        try:
            with Client(cluster) as client:
                client.wait_for_workers(2)
                return getattr(self, "run_" + workload)(client, size)
        finally:
            cluster.close()

    def cap(self, n, limit):
        return min(n, limit), n > limit

    def map_rate(self, client, fn, n, limit):
        """Tasks/s of `fn` mapped over n independent tasks (at most `limit` of them)."""
        from distributed import wait
        n, capped = self.cap(n, limit)
        t0 = time.perf_counter()
        wait(client.map(fn, range(n), pure=False))
        s = time.perf_counter() - t0
        return {"value": n / s, "n": n, "capped": capped, "total_s": s}

    def run_fanout_noop(self, client, size):
        return self.map_rate(client, _noop, size["stacks"], self.args.dask_max_tasks)

    def run_chain_hop(self, client, size):
        from distributed import get_task_stream, wait
        n, capped = self.cap(size["cards"], self.args.dask_max_chain)
        w1, w2 = sorted(client.scheduler_info()["workers"])
        t0 = time.perf_counter()
        with get_task_stream(client) as ts:
            prev = None
            for i in range(n):
                a = client.submit(_noop, prev, key=f"A-c{i}", workers=[w1],
                                  allow_other_workers=False, pure=False)
                prev = client.submit(_noop, a, key=f"B-c{i}", workers=[w2],
                                     allow_other_workers=False, pure=False)
            wait(prev)
        s = time.perf_counter() - t0
        start, stop = {}, {}
        for rec in ts.data:
            for ss in rec["startstops"]:
                if ss["action"] == "compute":
                    start[rec["key"]], stop[rec["key"]] = ss["start"], ss["stop"]
        hops = []
        for i in range(n):
            hops.append((start[f"B-c{i}"] - stop[f"A-c{i}"]) * 1e6)
            if i + 1 < n:
                hops.append((start[f"A-c{i + 1}"] - stop[f"B-c{i}"]) * 1e6)
        return {"value": percentile(hops, 50), "p99_us": percentile(hops, 99),
                "mean_us": statistics.fmean(hops), "hops": len(hops), "n": 2 * n,
                "capped": capped, "total_s": s}

    def run_fanin(self, client, size):
        from distributed import get_task_stream
        n, capped = self.cap(size["stacks"], self.args.dask_max_tasks)
        t0 = time.perf_counter()
        with get_task_stream(client) as ts:
            leaves = client.map(_noop, range(n), pure=False)
            combine = client.submit(_noop, leaves, key="combine", pure=False)
            combine.result()
        s = time.perf_counter() - t0
        leaf_stop, combine_start = 0.0, None
        for rec in ts.data:
            for ss in rec["startstops"]:
                if ss["action"] != "compute":
                    continue
                if rec["key"] == "combine":
                    combine_start = ss["start"]
                else:
                    leaf_stop = max(leaf_stop, ss["stop"])
        return {"value": (combine_start - leaf_stop) * 1000, "total_s": s, "n": n,
                "capped": capped}

    def run_shell(self, client, size):
        return self.map_rate(client, _true, size["cards"], self.args.dask_max_shell)

    def run_million(self, client, size):
        k, m = size["stacks"], size["cards"]
        # Same shape (k chains of m tasks), fewer of them: k' chains of m' tasks, k'·m' ≤ the cap.
        m2 = min(m, max(1, int(math.sqrt(self.args.dask_max_tasks))))
        k2 = min(k, max(1, self.args.dask_max_tasks // m2))
        graph = {}
        for i in range(k2):
            graph[f"s{i}-c0"] = (_noop,)
            for j in range(1, m2):
                graph[f"s{i}-c{j}"] = (_noop, f"s{i}-c{j - 1}")
        t0 = time.perf_counter()
        client.get(graph, [f"s{i}-c{m2 - 1}" for i in range(k2)])
        s = time.perf_counter() - t0
        n = k2 * m2
        # Extrapolated to the full size at the measured per-task rate.
        return {"value": s * (k * m) / n, "measured_s": s, "n": n, "capped": n < k * m,
                "extrapolated": n < k * m}

    def run_serial(self, client, size):
        n, capped = self.cap(size["jobs"], self.args.dask_max_serial)
        for i in range(10):
            client.submit(_noop, -i, pure=False).result()
        lat = []
        for i in range(n):
            t0 = time.perf_counter()
            client.submit(_noop, i, pure=False).result()
            lat.append((time.perf_counter() - t0) * 1000)
        return {"value": percentile(lat, 50), "p99_ms": percentile(lat, 99), "n": n,
                "capped": capped}


# ----------------------------------------------------------------------------- make (peer)

class Make:
    name = "make -j2"

    def __init__(self, args):
        self.args = args
        if shutil.which("make") is None:
            raise BenchError("GNU make is not installed")

    def close(self):
        pass

    def run(self, workload, size):
        if workload != "shell":
            raise BenchError("make only runs the shell workload")
        n = size["cards"]
        d = tempfile.mkdtemp(prefix="hollerith-bench-make-")
        try:
            targets = [f"t{i}" for i in range(n)]
            with open(os.path.join(d, "Makefile"), "w") as f:
                f.write("all: " + " ".join(targets) + "\n")
                for t in targets:
                    f.write(f"{t}:\n\t@true\n")
            t0 = time.perf_counter()
            subprocess.run(["make", "-r", "-s", "-j2", "-C", d, "all"], check=True,
                           stdout=subprocess.DEVNULL)
            s = time.perf_counter() - t0
        finally:
            shutil.rmtree(d, ignore_errors=True)
        return {"value": n / s, "n": n, "total_s": s}


# ----------------------------------------------------------------------------- the gRPC floor (baseline)

class GrpcFloor:
    """bench/hollerith-grpc-floor: round trips on one gRPC callback bidi stream between two
    processes on loopback, answered inside the reaction ("inline", the value) and through an asio
    loop on each side ("handoff"). chain_hop's baseline, in the same run."""
    name = GRPC_FLOOR
    LINE = re.compile(r"^(\w+)\s+round trip p50\s+([\d.]+)\s*µs\s+p99\s+([\d.]+)\s*µs\s+"
                      r"\((\d+) round trips\)")

    def __init__(self, args):
        self.args = args
        self.path = os.path.join(args.bin_dir, "bench", "hollerith-grpc-floor")
        if not os.access(self.path, os.X_OK):
            raise BenchError(f"{self.path} is missing (cmake --build {args.bin_dir} "
                             f"--target hollerith-grpc-floor)")

    def close(self):
        pass

    def run(self, workload, size):
        if workload != "chain_hop":
            raise BenchError("the gRPC floor is chain_hop's baseline only")
        # As many round trips as the chain has hops, at least 1,000 (10% are warm-up).
        trips = max(1_000, 2 * size["cards"] * 10)
        p = subprocess.run([self.path, "--round-trips", str(trips)], capture_output=True,
                           text=True, timeout=min(self.args.timeout, 300))
        if p.returncode != 0:
            raise BenchError(f"hollerith-grpc-floor exited {p.returncode}: {p.stderr.strip()[-400:]}")
        got = {}
        for line in p.stdout.splitlines():
            m = self.LINE.match(line.strip())
            if m:
                got[m.group(1)] = {"p50_us": float(m.group(2)), "p99_us": float(m.group(3)),
                                   "round_trips": int(m.group(4))}
        if "inline" not in got:
            raise BenchError(f"hollerith-grpc-floor printed no inline round trip: {p.stdout[-400:]!r}")
        r = {"value": got["inline"]["p50_us"], "p99_us": got["inline"]["p99_us"],
             "n": got["inline"]["round_trips"], "inline": got["inline"]}
        if "handoff" in got:
            r["handoff"] = got["handoff"]
            r["handoff_p50_us"] = got["handoff"]["p50_us"]
        return r
