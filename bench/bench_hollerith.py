"""Hollerith's rows of the benchmark: the Hollerith class runs every workload on a fresh
HollerithCluster in one configuration (store, TLS, metrics) and returns its numbers."""

import os
import shutil
import statistics
import tempfile
import time

from bench_cluster import HollerithCluster, raise_nofile
from bench_common import BenchError, NotRun, log
from bench_sizes import SCALE_BASE_WORKERS
from bench_specs import (downstream, spec_chain, spec_fanin, spec_fanout, spec_fanout_runtime,
                         spec_million, spec_million_yaml, spec_montage, spec_shell)
from bench_stats import (fanin_gap_from_trace, hops_from_trace, percentile, scale_bytes,
                         settle)

# ----------------------------------------------------------------------------- Hollerith runs

class Hollerith:
    name = "hollerith"

    def __init__(self, args, extra_flags=(), worker_flags=(), scrape_s=None, tls=False):
        """`extra_flags`: the coordinator's, or a callable that returns them, called before every
        cluster starts (e.g. an empty database of its own)."""
        self.args = args
        self.extra_flags = extra_flags if callable(extra_flags) else list(extra_flags)
        self.worker_flags = list(worker_flags)
        self.scrape_s = scrape_s
        self.tls = tls
        self.spec_dir = tempfile.mkdtemp(prefix="hollerith-bench-specs-")
        self._specs = {}
        self.perf_runs = {}
        self.runs_of = {}  # workload -> how many times run() ran it (alternates million's order)

    def close(self):
        shutil.rmtree(self.spec_dir, ignore_errors=True)

    def spec_file(self, key, make, ext="json"):
        if key not in self._specs:
            path = os.path.join(self.spec_dir, "_".join(str(k) for k in key) + "." + ext)
            t0 = time.monotonic()
            with open(path, "w") as f:
                f.write(make())
            log(f"  generated {os.path.basename(path)} ({os.path.getsize(path) / 1e6:.1f} MB, "
                f"{time.monotonic() - t0:.1f} s)")
            self._specs[key] = path
        return self._specs[key]

    def submit(self, cluster, spec, trace=None):
        args = ["submit", "--spec", spec] + (["--trace", trace] if trace else [])
        before = cluster.usage()
        doc = cluster.driver(args, self.args.timeout)
        after = cluster.usage()
        if not doc.get("ok"):
            raise BenchError(f"job failed: {doc.get('error')}")
        doc["usage_before"], doc["usage_after"] = before, after
        return doc

    def new_cluster(self, workload, workers=("w1", "w2")):
        """A cluster of this row's configuration, not started yet."""
        flags = self.extra_flags() if callable(self.extra_flags) else self.extra_flags
        cluster = HollerithCluster(self.args.bin_dir, self.args.keep_dirs, tls=self.tls,
                                   workers=workers)
        cluster.extra_coordinator_flags = self.args.coordinator_flags.split() + flags
        cluster.extra_worker_flags = self.args.worker_flags.split() + self.worker_flags
        cluster.scrape_s = self.scrape_s
        if self.args.perf:
            os.makedirs(self.args.perf, exist_ok=True)
            self.perf_runs[workload] = self.perf_runs.get(workload, 0) + 1
            cluster.perf_prefix = os.path.join(self.args.perf, f"{workload}-rep{self.perf_runs[workload]}")
        return cluster

    def on_cluster(self, cluster, measure):
        """Starts CLUSTER, returns measure(cluster) with the cluster's scrape counts, and always
        stops it."""
        try:
            t0 = time.monotonic()
            cluster.start()
            log(f"    cluster up in {time.monotonic() - t0:.2f} s")
            r = measure(cluster)
            if cluster.scrape_s:
                cluster._stop_scrapers()
                r["scrapes"] = dict(cluster.scrapes)
                if cluster.scrapes["ok"] == 0:
                    raise BenchError("metrics on, but no scrape succeeded: "
                                     + cluster.scrapes["last_error"])
                if cluster.scrapes["failed"]:
                    log(f"    {cluster.scrapes['failed']} of "
                        f"{cluster.scrapes['ok'] + cluster.scrapes['failed']} scrapes failed: "
                        f"{cluster.scrapes['last_error']}")
            return r
        except BenchError as e:
            if cluster.coordinator is not None and cluster.coordinator.poll() is not None:
                e.args = (f"{e} (coordinator exited {cluster.coordinator.returncode}: "
                          f"{cluster.log_tail('coordinator.log', 5)})",)
            raise
        finally:
            t0 = time.monotonic()
            cluster.stop()
            log(f"    cluster stopped in {time.monotonic() - t0:.2f} s")

    def run(self, workload, size):
        self.runs_of[workload] = self.runs_of.get(workload, 0) + 1
        if workload in ("million", "hop_rtt", "scale"):  # clusters of their own
            return getattr(self, "run_" + workload)(size)
        return self.on_cluster(self.new_cluster(workload),
                               lambda c: getattr(self, "run_" + workload)(c, size))

    def run_fanout_noop(self, cluster, size):
        n = size["stacks"]
        d = self.submit(cluster, self.spec_file(("fanout", n), lambda: spec_fanout(n)))
        s = d["total_us"] / 1e6
        return {"value": n / s, "n": n, "total_s": s, "submit_s": d["submit_us"] / 1e6,
                "finish_lag_s": d.get("finish_lag_us", 0) / 1e6, "usage": d["usage_after"]}

    def run_fanout_runtime(self, cluster, size):
        # The same fan-out written out, then made at run time, on one cluster: the ratio is this
        # run's, not two runs' on a noisy machine.
        n = size["stacks"]
        written = self.submit(cluster, self.spec_file(("fanout", n), lambda: spec_fanout(n)))
        d = self.submit(cluster, self.spec_file(("fanout_runtime", n),
                                                lambda: spec_fanout_runtime(n)))
        s = d["total_us"] / 1e6
        written_rate = n / (written["total_us"] / 1e6)
        return {"value": (n + 1) / s, "written_cards_s": written_rate,
                "ratio_to_written": (n + 1) / s / written_rate, "n": n + 1, "total_s": s,
                "usage": d["usage_after"]}

    def run_chain_hop(self, cluster, size):
        n = size["cards"]
        trace = os.path.join(cluster.dir, "trace.json")
        before = cluster.switches()
        d = self.submit(cluster, self.spec_file(("chain", n), lambda: spec_chain(n)), trace)
        after = cluster.switches()
        hops, up, down = hops_from_trace(trace, n)
        # Thread wake-ups per hop: each daemon's voluntary context switches over the job.
        wakeups = {k: (after[k] - before[k]) / len(hops) for k in after
                   if after[k] is not None and before.get(k) is not None}
        return {"value": percentile(hops, 50), "p99_us": percentile(hops, 99),
                "up_p50_us": percentile(up, 50), "down_p50_us": percentile(down, 50),
                "mean_us": statistics.fmean(hops), "hops": len(hops), "n": 2 * n,
                "wakeups_per_hop": sum(wakeups.values()), "wakeups_by_daemon": wakeups,
                "total_s": d["total_us"] / 1e6, "usage": d["usage_after"]}

    def run_fanin(self, cluster, size):
        n = size["stacks"]
        trace = os.path.join(cluster.dir, "trace.json")
        d = self.submit(cluster, self.spec_file(("fanin", n), lambda: spec_fanin(n)), trace)
        return {"value": fanin_gap_from_trace(trace), "total_s": d["total_us"] / 1e6, "n": n,
                "usage": d["usage_after"]}

    def run_shell(self, cluster, size):
        n = size["cards"]
        shape = self.args.shell_shape
        d = self.submit(cluster, self.spec_file(("shell", shape, n), lambda: spec_shell(n, shape)))
        s = d["total_us"] / 1e6
        return {"value": n / s, "n": n, "total_s": s, "shape": shape, "usage": d["usage_after"]}

    def million_on(self, form, size):
        """The million-card job from FORM ("json" or "yaml") on a fresh cluster of its own: each
        format's coordinator peak RSS is its own."""
        k, m = size["stacks"], size["cards"]
        if form == "yaml":
            spec = self.spec_file(("million", k, m), lambda: spec_million_yaml(k, m), "yaml")
        else:
            spec = self.spec_file(("million", k, m), lambda: spec_million(k, m))

        def measure(cluster):
            idle = cluster.usage()
            d = self.submit(cluster, spec)
            u = d["usage_after"]
            cards = k * m
            return {"total_s": d["total_us"] / 1e6, "submit_s": d["submit_us"] / 1e6,
                    "idle_rss_bytes": idle["coordinator_rss_bytes"],
                    "peak_rss_bytes": u["coordinator_hwm_bytes"],
                    "rss_per_card_bytes": (u["coordinator_hwm_bytes"]
                                           - idle["coordinator_rss_bytes"]) / cards,
                    "peak_rss_per_card_bytes": u["coordinator_hwm_bytes"] / cards,
                    "spec_bytes": os.path.getsize(spec), "usage": u}
        log(f"    million from {form.upper()}")
        return self.on_cluster(self.new_cluster("million"), measure)

    def run_million(self, size):
        # JSON and YAML on clusters of their own, who goes first alternating from run to run.
        order = ["json", "yaml"] if self.runs_of["million"] % 2 else ["yaml", "json"]
        by = {}
        for i, form in enumerate(order):
            if i:
                self.quiet()
            by[form] = self.million_on(form, size)
        j, y = by["json"], by["yaml"]
        return {"value": j["total_s"], "yaml_s": y["total_s"], "n": size["stacks"] * size["cards"],
                "submit_s": j["submit_s"], "yaml_submit_s": y["submit_s"],
                "peak_rss_bytes": j["peak_rss_bytes"], "idle_rss_bytes": j["idle_rss_bytes"],
                "peak_rss_per_card_bytes": j["peak_rss_per_card_bytes"],
                "rss_per_card_bytes": j["rss_per_card_bytes"],
                "yaml_peak_rss_per_card_bytes": y["peak_rss_per_card_bytes"],
                "yaml_rss_per_card_bytes": y["rss_per_card_bytes"],
                "yaml_peak_rss_bytes": y["peak_rss_bytes"], "order": order, "json": j, "yaml": y,
                "usage": j["usage"], "scrapes": j.get("scrapes")}

    def run_hop_rtt(self, size):
        """chain_hop's chain with the workers in network namespaces behind a proxy that delays
        every byte half the link's RTT each way (bench/rtt_link.py); the link's round trip is
        measured over the same path before and after the job."""
        try:
            import rtt_link
        except ImportError as e:
            raise NotRun(f"bench/rtt_link.py does not load: {e}")
        reason = rtt_link.available(self.args.bin_dir)
        if reason:
            raise NotRun(reason)
        n = size["cards"]
        samples = 100 if self.args.smoke else 500
        with rtt_link.RttLink(self.args.bin_dir, rtt_us=self.args.rtt_us) as link:
            cluster = self.new_cluster("hop_rtt")
            if cluster.tls:  # workers dial the host's end of their veth
                cluster.cert_hosts += link.host_ips()
            cluster.on_coordinator_up = lambda c: link.start(c.address)
            cluster.worker_address = link.worker_address
            cluster.wrap_worker = link.wrap

            def measure(c):
                before = link.measure_rtt_us(samples)
                trace = os.path.join(c.dir, "trace.json")
                d = self.submit(c, self.spec_file(("chain", n), lambda: spec_chain(n)), trace)
                hops, up, down = hops_from_trace(trace, n)
                after = link.measure_rtt_us(samples)
                rtt = statistics.fmean([before["p50_us"], after["p50_us"]])
                hop = percentile(hops, 50)
                return {"value": hop, "p99_us": percentile(hops, 99), "rtt_p50_us": rtt,
                        "rtt_p99_us": max(before["p99_us"], after["p99_us"]),
                        "over_rtt_us": hop - rtt, "rtt_before": before, "rtt_after": after,
                        "link_rtt_us": self.args.rtt_us,
                        "up_p50_us": percentile(up, 50), "down_p50_us": percentile(down, 50),
                        "hops": len(hops), "n": 2 * n, "total_s": d["total_us"] / 1e6,
                        "usage": d["usage_after"]}
            return self.on_cluster(cluster, measure)

    def run_scale(self, size):
        """bench/scale_load.py's load generator as N workers on one coordinator with no workers of
        its own, then as 3 (or the other way round): the same tool and stacks, the same run."""
        try:
            from scale_load import run_scale
        except ImportError as e:
            raise BenchError(f"bench/scale_load.py does not load: {e}")
        n, stacks = size["workers"], size["stacks"]
        order = [SCALE_BASE_WORKERS, n] if self.runs_of["scale"] % 2 else [n, SCALE_BASE_WORKERS]
        by = {}
        for i, workers in enumerate(order):
            if i:
                self.quiet()
            log(f"    scale: {workers:,} workers, {stacks:,} stacks")
            cluster = self.new_cluster("scale", workers=())
            cluster.coordinator_preexec = raise_nofile
            by[workers] = self.on_cluster(
                cluster, lambda c, w=workers: dict(run_scale(c, w, stacks, self.args.timeout)))
        big, base = by[n], by[SCALE_BASE_WORKERS]
        return {"value": big["value"], "base_value": base["value"],
                "release_p50_us": big.get("release_p50_us"),
                "release_p99_us": big.get("release_p99_us"),
                "base_release_p50_us": base.get("release_p50_us"),
                "base_release_p99_us": base.get("release_p99_us"),
                "bytes_per_worker": scale_bytes(big, "worker"),
                "bytes_per_stack": scale_bytes(big, "stack"),
                "lease_expired": (big.get("lease_expired") or 0) + (base.get("lease_expired") or 0),
                "workers": n, "stacks": stacks, "n": stacks, "order": order,
                "workers_per_channel": big.get("workers_per_channel"),
                "at_n": big, "at_base": base}

    def run_serial(self, cluster, size, python=False):
        n = size["jobs"]
        d = cluster.driver(["serial", "--jobs", str(n), "--warmup", "10"], self.args.timeout,
                           python)
        return {"value": d["job"]["p50_us"] / 1000, "p99_ms": d["job"]["p99_us"] / 1000,
                "mean_ms": d["job"]["mean_us"] / 1000, "submit_p50_ms": d["submit"]["p50_us"] / 1000,
                "n": n, "wall_s": d["wall_s"], "usage": cluster.usage()}

    def run_serial_python(self, cluster, size):
        # The same serial jobs from the Python client (submit(spec).wait()) and from the C++
        # driver, alternating C++, Python, C++, Python on one cluster: the ratio is this run's.
        runs = {False: [], True: []}
        for i, python in enumerate([False, True, False, True]):
            if i:
                self.quiet()
            runs[python].append(self.run_serial(cluster, size, python))
        py, cpp = ({k: statistics.median(r[k] for r in runs[p])
                    for k in ("value", "p99_ms", "mean_ms")} for p in (True, False))
        return {"value": py["value"], "p99_ms": py["p99_ms"], "mean_ms": py["mean_ms"],
                "cpp_p50_ms": cpp["value"], "cpp_p99_ms": cpp["p99_ms"],
                "cpp_mean_ms": cpp["mean_ms"], "ratio_to_cpp": py["value"] / cpp["value"],
                "n": size["jobs"], "python_runs": runs[True], "cpp_runs": runs[False],
                "usage": cluster.usage()}

    def cards_run(self, cluster, doc):
        """The cards of a finished job that ran (no "cached_from" in its result document)."""
        cards = cluster.result_document(doc["job_id"])["cards"]
        return sorted(c for c, r in cards.items() if "cached_from" not in r), len(cards)

    def quiet(self):
        if not self.args.smoke:
            settle(3.0)

    def run_cache_rerun(self, cluster, size):
        # Cold, then the same spec again on the same coordinator (warm: every card a hit), then
        # with one project card's command changed: only what that change reaches runs again.
        k = size["images"]
        changed = k // 2
        spec = self.spec_file(("cache_rerun", k), lambda: spec_montage(k))
        cold = self.submit(cluster, spec)
        ran, n = self.cards_run(cluster, cold)
        if len(ran) != n:
            raise BenchError(f"cold run: {n - len(ran)} of {n} cards were cache hits already")
        self.quiet()
        warm = self.submit(cluster, spec)
        ran, _ = self.cards_run(cluster, warm)
        if ran:
            raise BenchError(f"warm run: {len(ran)} of {n} cards have no cached_from, e.g. "
                             f"{', '.join(ran[:5])}")
        self.quiet()
        edited = self.spec_file(("cache_rerun", k, "changed"), lambda: spec_montage(k, changed))
        edit = self.submit(cluster, edited)
        ran, _ = self.cards_run(cluster, edit)
        with open(edited) as f:
            expected = downstream(f.read(), f"p{changed}.project")
        cold_s, warm_s = cold["total_us"] / 1e6, warm["total_us"] / 1e6
        return {"value": warm_s / cold_s, "cold_s": cold_s, "warm_s": warm_s, "n": n,
                "edit_s": edit["total_us"] / 1e6, "edit_ran": len(ran),
                "edit_expected": len(expected), "edit_unexpected": sorted(set(ran) ^ expected),
                "usage": edit["usage_after"]}

    def run_cache_lookup(self, cluster, size):
        # The same no-op fan-out with `cache: true` (every key unique: all misses) and without,
        # alternating on one cluster. Both carry the per-stack cache_version, so they parse alike.
        # A first run warms the cluster up and is not counted; then on, off, off, on (ABBA), so
        # that what grows from run to run (the jobs the coordinator keeps) weighs on both alike.
        n = size["stacks"]
        times = {True: [], False: []}
        for i, on in enumerate([None, True, False, False, True]):
            tag = f"{os.getpid()}-{time.time_ns()}-{i}"
            spec = self.spec_file(("cache_lookup", n, tag), lambda: spec_fanout(
                n, "cache_lookup", '"cache": true, ' if on else "", tag))
            if i:
                self.quiet()
            d = self.submit(cluster, spec)
            if on is None:
                continue
            if on:  # a miss runs the card: none may be a hit
                ran, _ = self.cards_run(cluster, d)
                if len(ran) != n:
                    raise BenchError(f"cache on: {n - len(ran)} of {n} cards were hits, not misses")
            times[on].append(d["total_us"] / 1e6)
        rate_on, rate_off = 2 * n / sum(times[True]), 2 * n / sum(times[False])
        return {"value": (1 / rate_on - 1 / rate_off) * 1e6, "cards_s_on": rate_on,
                "cards_s_off": rate_off, "on_s": times[True], "off_s": times[False], "n": n,
                "usage": cluster.usage()}
