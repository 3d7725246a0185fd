#!/usr/bin/python3
"""Hollerith benchmark harness (issue 4): every workload against Hollerith and its peers.

Hollerith runs as real processes: one coordinator and 2 workers on loopback (the default cluster of
`hollerith up`), started fresh for every measured run from this script (ports from 127.0.0.1:0,
temporary directories) and stopped by PID afterwards, also on errors and Ctrl-C. Jobs are submitted
and awaited by bench/serial_driver.cc (one gRPC channel, no CLI start-up per job); serial_python
runs bench/python_serial_driver.py (the Python client, from BIN_DIR/python) beside it. Clocks and
the trace are on, as always.

Peers, in the same run, alternating with Hollerith: Dask distributed
(LocalCluster(n_workers=2, threads_per_worker=1, processes=True), fresh for every run) with the same
DAG shapes as Python tasks, and GNU `make -j2` for the shell workload. Where a peer cannot finish the
full size in reasonable time its size is capped (--dask-max-tasks etc.) and its per-task figure is
taken from the smaller run; the table says so.

Hollerith also runs beside itself with one setting changed (the store in memory, metrics on, mutual
TLS, --no-*-peer to skip one); `hollerith --store postgres` on a PostgreSQL 15 server this script
starts for the run and always stops (bench/postgres_server.py), an empty database per cluster.

  /usr/bin/python3 bench/run_bench.py --bin-dir build-bench               # everything, issue sizes
  /usr/bin/python3 bench/run_bench.py --bin-dir build-bench --scale 0.3   # smaller
  /usr/bin/python3 bench/run_bench.py --bin-dir build-bench --smoke       # seconds; the CTest test

Writes bench/results/latest.json (every run's raw numbers), latest.md (the table) and latest.png.
Needs python3-distributed and python3-matplotlib (bench/install-bench-deps.sh) except in --smoke.
"""

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from postgres_server import PostgresError, PostgresServer, missing_binaries

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3"  # Debian's, with python3-grpcio: runs the Python client's driver

WORKLOADS = ["fanout_noop", "fanout_runtime", "chain_hop", "fanin", "shell", "million", "serial",
             "serial_python", "cache_rerun", "cache_lookup"]

# Sizes at --scale 1.0 (the issue's) and in --smoke.
FULL = {
    "fanout_noop": {"stacks": 100_000},
    "fanout_runtime": {"stacks": 10_000},
    "chain_hop": {"cards": 1_000},  # per stack
    "fanin": {"stacks": 10_000},
    "shell": {"cards": 5_000},
    "million": {"stacks": 1_000, "cards": 1_000},
    "serial": {"jobs": 10_000},
    "serial_python": {"jobs": 1_000},  # per driver run
    "cache_rerun": {"images": 250},  # 4 cards per image and one add: 1,001 cards
    "cache_lookup": {"stacks": 50_000},
}
SMOKE = {
    "fanout_noop": {"stacks": 200},
    "fanout_runtime": {"stacks": 100},
    "chain_hop": {"cards": 20},
    "fanin": {"stacks": 100},
    "shell": {"cards": 20},
    "million": {"stacks": 10, "cards": 10},
    "serial": {"jobs": 20},
    "serial_python": {"jobs": 20},
    "cache_rerun": {"images": 5},
    "cache_lookup": {"stacks": 200},
}

# The targets (checked on the medians of this run).
TARGETS = {
    "fanout_noop": "≥ 50,000 cards/s and ≥ 100× Dask",
    "fanout_runtime": "≥ 0.67× the same fan-out written in the spec (same run)",
    "chain_hop": "p50 ≤ 150 µs and ≥ 50× faster than Dask",
    "fanin": "(no target)",
    "shell": "≥ 0.8× make -j2",
    "million": "≤ 60 s and coordinator peak RSS ≤ 1 KiB per card",
    "serial": "≤ 1 ms per job (p50)",
    "serial_python": "≤ 2× the C++ driver per job (p50)",
    "cache_rerun": "warm rerun ≤ 1/20 of the cold run (same run), every card a hit",
    "cache_lookup": "≤ 20 µs per card for a lookup that misses (on vs off, same run)",
    # A second target of fanout_noop, for the PostgreSQL store (issue 31).
    "fanout_noop --store postgres": "≥ 0.5× the default SQLite store's fan-out (same run)",
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ----------------------------------------------------------------------------- process helpers

def proc_status(pid, field):
    """A kB field of /proc/PID/status (VmHWM, VmRSS), in bytes; None if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def proc_cpu_s(pid):
    """User + system CPU seconds of a running process (its own threads), None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def stop_pid(proc, grace=5.0):
    """SIGTERM, then SIGKILL after `grace` seconds: only the processes this script started."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except ProcessLookupError:
        pass
    except KeyboardInterrupt:  # SIGTERM or Ctrl-C while it stops: no more grace
        proc.kill()
        proc.wait()
        raise


class HollerithCluster:
    """One coordinator and 2 workers (w1, w2) on loopback, in a temp dir; stop() kills by PID."""

    def __init__(self, bin_dir, keep_dir=False, tls=False):
        self.bin_dir = bin_dir
        self.keep_dir = keep_dir
        self.tls = tls  # mutual TLS with certificates from `hollerith certs` instead of the token
        self.dir = tempfile.mkdtemp(prefix="hollerith-bench-")
        self.coordinator = None
        self.workers = []
        self.address = None
        self.token_file = None
        self.extra_coordinator_flags = []
        self.extra_worker_flags = []
        self.scrape_s = None  # with --metrics-listen: scrape every endpoint this often
        self._scraper = None
        self._scraping = False
        self.perf_prefix = None  # with --perf: DIR/WORKLOAD-repN, one perf.data per daemon
        self._perf = []
        self._logs = []
        self._log_pos = 0

    def binary(self, rel):
        path = os.path.join(self.bin_dir, rel)
        if not os.access(path, os.X_OK):
            raise BenchError(f"{path} is missing: build first "
                             f"(cmake --build {self.bin_dir})")
        return path

    def _open_log(self, name):
        f = open(os.path.join(self.dir, name), "wb")
        self._logs.append(f)
        return f

    def tls_flags(self, name):
        """--tls-* for NAME's certificate (none without TLS)."""
        if not self.tls:
            return []
        certs = os.path.join(self.dir, "certs")
        return ["--tls-ca", os.path.join(certs, "ca.crt"),
                "--tls-cert", os.path.join(certs, name + ".crt"),
                "--tls-key", os.path.join(certs, name + ".key")]

    def make_certs(self):
        certs = os.path.join(self.dir, "certs")
        cli = self.binary("cli/hollerith")
        cmds = [["certs", "init", certs],
                ["certs", "issue", "coordinator", "--role", "coordinator", "--host", "127.0.0.1"],
                ["certs", "issue", "w1", "--role", "worker"],
                ["certs", "issue", "w2", "--role", "worker"],
                ["certs", "issue", "client", "--role", "client"]]
        for c in cmds:
            extra = [] if c[1] == "init" else ["--dir", certs]
            subprocess.run([cli] + c + extra, check=True, stdout=subprocess.DEVNULL)

    def start(self, timeout=30.0):
        coord_out = os.path.join(self.dir, "coordinator.out")
        if self.tls:
            self.make_certs()
            self.token_file = ""  # the certificates are the credentials
        with open(coord_out, "wb") as out:
            self.coordinator = subprocess.Popen(
                [self.binary("coordinator/hollerith-coordinator"), "--listen", "127.0.0.1:0",
                 "--data-dir", os.path.join(self.dir, "coordinator")] + self.tls_flags("coordinator")
                + self.extra_coordinator_flags,
                stdout=out, stderr=self._open_log("coordinator.log"), stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while self.address is None or self.token_file is None:
            if self.coordinator.poll() is not None:
                raise BenchError("coordinator exited at start: " + self.log_tail("coordinator.log"))
            if time.monotonic() > deadline:
                raise BenchError("coordinator did not print its address")
            with open(coord_out) as f:
                for line in f:
                    if line.startswith("listening on "):
                        self.address = line.split()[2]
                    elif line.startswith("token file: "):
                        self.token_file = line[len("token file: "):].strip()
            time.sleep(0.02)
        for name in ("w1", "w2"):
            self.workers.append(subprocess.Popen(
                [self.binary("worker/hollerith-worker"), "--coordinator", self.address,
                 "--name", name, "--work-dir", os.path.join(self.dir, name)]
                + (self.tls_flags(name) if self.tls else ["--token-file", self.token_file])
                + self.extra_worker_flags,
                stdout=self._open_log(name + ".log"), stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL))
        self.driver(["wait-workers", "--count", "2", "--timeout", str(timeout)], timeout + 5)
        if self.scrape_s:
            self._start_scraper(coord_out)
        if self.perf_prefix:
            # Software clock sampling: hardware counters are often unavailable in VMs.
            for name, proc in [("coordinator", self.coordinator)] + list(zip(("w1", "w2"), self.workers)):
                self._perf.append(subprocess.Popen(
                    ["perf", "record", "-q", "-e", "cpu-clock", "-F", os.environ.get("HOLLERITH_PERF_HZ", "999"), "-g",
                     "-o", f"{self.perf_prefix}-{name}.data", "-p", str(proc.pid)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(0.5)  # perf attaches asynchronously
        return self

    def _start_scraper(self, coord_out):
        """Scrapes /metrics of the coordinator and both workers every scrape_s, as Prometheus
        would (its default is every 15 s to 1 min: this is the pessimistic side)."""
        urls = []
        for path in [coord_out] + [os.path.join(self.dir, n + ".log") for n in ("w1", "w2")]:
            with open(path, errors="replace") as f:
                urls += [line.split()[-1] for line in f if line.startswith("metrics on ")
                         or " metrics on " in line]
        urls = sorted(set(u for u in urls if u.startswith("http://")))
        if len(urls) != 3:
            raise BenchError(f"expected 3 metrics endpoints, found {urls}")
        self._scraping = True

        def scrape():
            while self._scraping:
                for u in urls:
                    try:
                        urllib.request.urlopen(u, timeout=5).read()
                    except OSError:
                        pass
                time.sleep(self.scrape_s)
        self._scraper = threading.Thread(target=scrape, daemon=True)
        self._scraper.start()

    def client_flags(self):
        """--coordinator and the credentials, for the driver and the CLI."""
        return ["--coordinator", self.address] + (
            self.tls_flags("client") if self.tls else ["--token-file", self.token_file])

    def result_document(self, job_id, timeout=120):
        """A finished job's result document (`hollerith status JOB --json`)."""
        p = subprocess.run([self.binary("cli/hollerith"), "status", job_id, "--json"]
                           + self.client_flags(), capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise BenchError(f"hollerith status {job_id} --json failed: {p.stderr.strip()[-800:]}")
        return json.loads(p.stdout)

    def driver(self, args, timeout, python=False):
        """Runs the driver (`python`: bench/python_serial_driver.py, the Python client staged in
        BIN_DIR/python); fails fast if a daemon dies or a worker loses its lease meanwhile
        (a lost lease re-places every stack of the worker: the run no longer measures anything)."""
        env = None
        if python:
            stage = os.path.join(self.bin_dir, "python")
            if not os.path.isdir(os.path.join(stage, "hollerith", "_proto")):
                raise BenchError(f"{stage} has no hollerith package: build first "
                                 f"(cmake --build {self.bin_dir})")
            # Flags only, as the C++ driver: no HOLLERITH_* settings from the environment.
            env = {k: v for k, v in os.environ.items() if not k.startswith("HOLLERITH_")}
            env["PYTHONPATH"] = stage
            cmd = [PYTHON, os.path.join(HERE, "python_serial_driver.py")]
        else:
            cmd = [self.binary("bench/hollerith-serial-driver")]
        cmd += self.client_flags() + args
        what = args[0]
        deadline = time.monotonic() + timeout
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
        try:
            while True:
                try:
                    out, err = p.communicate(timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    pass
                problem = None
                if time.monotonic() > deadline:
                    problem = f"did not finish in {timeout:.0f} s"
                elif not self.alive():
                    problem = "a daemon exited: " + self.log_tail("coordinator.log", 5)
                elif what != "wait-workers" and (lost := self.lease_lost()):
                    problem = ("a worker missed its lease under load and its stacks were "
                               "re-placed: " + lost)
                if problem:
                    raise BenchError(f"driver {what}: {problem}")
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        last = out.strip().splitlines()[-1] if out.strip() else "{}"
        try:
            doc = json.loads(last)
        except ValueError:
            doc = {}
        if p.returncode != 0:
            raise BenchError(f"driver {what} failed: {err.strip()[-800:]}")
        return doc

    def lease_lost(self):
        """The coordinator's first 'missed its lease' line since the last call, if any."""
        path = os.path.join(self.dir, "coordinator.log")
        try:
            with open(path, "rb") as f:
                f.seek(self._log_pos)
                chunk = f.read()
        except OSError:
            return None
        cut = chunk.rfind(b"\n") + 1
        self._log_pos += cut
        for line in chunk[:cut].decode(errors="replace").splitlines():
            if "missed its lease" in line:
                return line.strip()
        return None

    def alive(self):
        procs = [self.coordinator] + self.workers
        return all(p is not None and p.poll() is None for p in procs)

    def usage(self):
        """Coordinator memory and CPU, worker CPU, read while they still run."""
        pid = self.coordinator.pid
        return {
            "coordinator_hwm_bytes": proc_status(pid, "VmHWM"),
            "coordinator_rss_bytes": proc_status(pid, "VmRSS"),
            "coordinator_cpu_s": proc_cpu_s(pid),
            "workers_cpu_s": sum(proc_cpu_s(w.pid) or 0 for w in self.workers),
        }

    def log_tail(self, name, lines=15):
        try:
            with open(os.path.join(self.dir, name), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        self._scraping = False
        if self._scraper:
            self._scraper.join(timeout=10)
        for p in self._perf:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in self._perf:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        # Interrupted meanwhile (SIGTERM, Ctrl-C): the rest is killed all the same, then re-raised.
        interrupt = None
        for p in self.workers + [self.coordinator]:
            try:
                stop_pid(p, grace=0 if interrupt else 5.0)
            except KeyboardInterrupt as e:
                interrupt = e
        for f in self._logs:
            f.close()
        if not self.keep_dir:
            # rm(1): a worker killed mid-job can leave very many workspaces behind.
            subprocess.run(["rm", "-rf", "--one-file-system", self.dir], check=False)
        if interrupt:
            raise interrupt


# ----------------------------------------------------------------------------- job specs (JSON)

NOOP = '{"id": "c0", "builtin": "noop"}'


def spec_fanout(stacks, name="fanout_noop", job_keys="", version=None):
    """`stacks` one-card no-op stacks. `job_keys`: JSON members put before "stacks"; `version`:
    every stack gets `cache_version: VERSION-i` (a cache key of its own)."""
    keys = (lambda i: f'"cache_version": "{version}-{i}", ') if version else (lambda i: "")
    body = ",".join(f'"s{i}": {{{keys(i)}"cards": [{NOOP}]}}' for i in range(stacks))
    return f'{{"name": "{name}", {job_keys}"stacks": {{{body}}}}}'


def spec_fanout_runtime(stacks):
    """One card writes the list of `stacks` items; a run-time matrix makes a no-op stack each."""
    make = ("awk 'BEGIN { printf \"[\"; for (i = 0; i < %d; i++) printf (i ? \",%%d\" : \"%%d\"), i; "
            "print \"]\" }' > l.json" % stacks)
    return json.dumps({"name": "fanout_runtime", "stacks": {
        "list": {"cards": [{"id": "make", "run": make, "outputs": ["l.json"]}]},
        "s": {"matrix": {"from": "list.make:l.json"}, "cards": [{"id": "c0", "builtin": "noop"}]},
    }})


def spec_chain(cards):
    a, b = [], []
    for i in range(cards):
        after_a = f', "after": ["B.c{i - 1}"]' if i > 0 else ""
        a.append(f'{{"id": "c{i}", "builtin": "noop"{after_a}}}')
        b.append(f'{{"id": "c{i}", "builtin": "noop", "after": ["A.c{i}"]}}')
    return ('{"name": "chain_hop", "stacks": {'
            f'"A": {{"node": "w1", "cards": [{",".join(a)}]}}, '
            f'"B": {{"node": "w2", "cards": [{",".join(b)}]}}}}}}')


def spec_fanin(stacks):
    body = ",".join(f'"s{i}": {{"cards": [{NOOP}]}}' for i in range(stacks))
    return f'{{"name": "fanin", "stacks": {{{body}}}, "combine": {{"builtin": "noop"}}}}'


def spec_shell(cards, shape):
    card = '"run": ["true"]'  # argv: exec'd directly, as make execs a recipe without metacharacters
    if shape == "stacks":
        body = ",".join(f'"s{i}": {{"cards": [{{"id": "c0", {card}}}]}}' for i in range(cards))
    else:  # two long stacks, one per worker
        half = [cards - cards // 2, cards // 2]
        body = ",".join(
            f'"{n}": {{"node": "{w}", "cards": ['
            + ",".join(f'{{"id": "c{i}", {card}}}' for i in range(k)) + "]}"
            for n, w, k in (("A", "w1", half[0]), ("B", "w2", half[1])) if k > 0)
    return f'{{"name": "shell", "stacks": {{{body}}}}}'


def spec_million(stacks, cards):
    stack = '{"cards": [' + ",".join(f'{{"id": "c{j}", "builtin": "noop"}}'
                                     for j in range(cards)) + "]}"
    body = ",".join(f'"s{i}": {stack}' for i in range(stacks))
    return f'{{"name": "million", "stacks": {{{body}}}}}'


def spec_montage(images, changed=None):
    """A Montage-like shell job of 4·images + 1 cards, all `cache: true`, each a small sh -c
    command on files of a few KB: stack pI's `project` writes p.dat; stack dI's `diff` reads the
    projections of I and its neighbour I+1 (wrapping), its `fit` the diff; stack bI's `background`
    reads projection I and fit I; one `add` reads every background. `changed`: the image whose
    project command (and so its p.dat) differs."""
    stacks = {}
    for i in range(images):
        tag = f"p{i}" + ("-changed" if i == changed else "")
        stacks[f"p{i}"] = {"cards": [{"id": "project", "outputs": ["p.dat"],
                                      "run": f"seq 1 500 | sed 's/^/{tag}-/' > p.dat"}]}
        stacks[f"d{i}"] = {"cards": [
            {"id": "diff", "run": "paste a.dat b.dat > d.dat", "outputs": ["d.dat"],
             "inputs": [{"from": f"p{i}.project:p.dat", "dest": "a.dat"},
                        {"from": f"p{(i + 1) % images}.project:p.dat", "dest": "b.dat"}]},
            {"id": "fit", "run": "cksum d.dat > f.dat && head -c 2048 d.dat >> f.dat",
             "outputs": ["f.dat"]}]}
        stacks[f"b{i}"] = {"cards": [{"id": "background", "run": "cat p.dat f.dat > b.dat",
                                      "inputs": [f"p{i}.project:p.dat", f"d{i}.fit:f.dat"],
                                      "outputs": ["b.dat"]}]}
    stacks["add"] = {"cards": [{"id": "add", "run": "cat b*.dat | cksum > mosaic.txt",
                                "outputs": ["mosaic.txt"],
                                "inputs": [{"from": f"b{i}.background:b.dat", "dest": f"b{i}.dat"}
                                           for i in range(images)]}]}
    return json.dumps({"name": "cache_rerun", "cache": True, "stacks": stacks})


def downstream(spec, card):
    """STACK.CARD names a change to `card` reaches in a spec: itself, the cards after it in its
    stack (their keys chain), and, transitively, those reading its outputs (every command here
    writes what it reads into its outputs, so a changed input changes them)."""
    stacks = json.loads(spec)["stacks"]
    reached, grew = {card}, True
    while grew:
        grew = False
        for s, st in stacks.items():
            for k, c in enumerate(st["cards"]):
                sources = {(x if isinstance(x, str) else x["from"]).split(":")[0]
                           for x in c.get("inputs", [])}
                if k:
                    sources.add(f"{s}.{st['cards'][k - 1]['id']}")
                if f"{s}.{c['id']}" not in reached and sources & reached:
                    reached.add(f"{s}.{c['id']}")
                    grew = True
    return reached


# ----------------------------------------------------------------------------- statistics

def cpu_idle_fraction(window_s):
    """Share of all CPUs' time spent idle over `window_s` seconds (from /proc/stat)."""
    def read():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total
    idle0, total0 = read()
    time.sleep(window_s)
    idle1, total1 = read()
    return (idle1 - idle0) / max(1, total1 - total0)


def settle(max_s=10.0):
    """Before every measured run (either system): wait until the machine is quiet again, e.g.
    until a peer's worker processes from the previous run have really exited, so one system's
    teardown is not measured as the next one's slowness."""
    deadline = time.monotonic() + max_s
    while time.monotonic() < deadline and cpu_idle_fraction(0.2) < 0.9:
        pass


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    rank = p / 100 * (len(v) - 1)
    lo = int(rank)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (rank - lo)


def load_trace_cards(path, releases=None):
    """({card: start_us}, {card: finish_us}) from a Chrome trace (the last try of each card);
    fills `releases` with {(from, to): coordinator wall µs of the release} if given."""
    with open(path) as f:
        doc = json.load(f)
    start, finish = {}, {}
    for ev in doc.get("traceEvents", []):
        args = ev.get("args") or {}
        kind, card = args.get("kind"), args.get("card")
        if card is None:
            continue
        if kind == "card_started":
            start[card] = ev["ts"]
        elif kind == "card_finished":
            finish[card] = ev["ts"]
        elif kind == "release" and releases is not None:
            releases[(card, args.get("target"))] = ev["ts"]
    return start, finish


def hops_from_trace(path, cards):
    """µs from the finish of each dependency to the start of its dependent (every edge crosses
    nodes): A.ci -> B.ci and B.ci -> A.c(i+1). Also split at the coordinator's release: `up`
    (finish on one worker -> release decided by the coordinator) and `down` (release -> start on
    the other worker). All on one host, so the three wall clocks agree."""
    releases = {}
    start, finish = load_trace_cards(path, releases)
    hops, up, down = [], [], []
    edges = []
    for i in range(cards):
        edges.append((f"A.c{i}", f"B.c{i}"))
        if i + 1 < cards:
            edges.append((f"B.c{i}", f"A.c{i + 1}"))
    for dep, dependent in edges:
        hops.append(start[dependent] - finish[dep])
        rel = releases.get((dep, dependent))
        if rel is not None:
            up.append(rel - finish[dep])
            down.append(start[dependent] - rel)
    return hops, up, down


def fanin_gap_from_trace(path):
    start, finish = load_trace_cards(path)
    leaves = [t for c, t in finish.items() if c != "combine"]
    if "combine" not in start or not leaves:
        raise BenchError("trace has no combine start or no leaf finish")
    return (start["combine"] - max(leaves)) / 1000.0


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

    def close(self):
        shutil.rmtree(self.spec_dir, ignore_errors=True)

    def spec_file(self, key, make):
        if key not in self._specs:
            path = os.path.join(self.spec_dir, "_".join(str(k) for k in key) + ".json")
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

    def run(self, workload, size):
        flags = self.extra_flags() if callable(self.extra_flags) else self.extra_flags
        cluster = HollerithCluster(self.args.bin_dir, self.args.keep_dirs, tls=self.tls)
        cluster.extra_coordinator_flags = self.args.coordinator_flags.split() + flags
        cluster.extra_worker_flags = self.args.worker_flags.split() + self.worker_flags
        cluster.scrape_s = self.scrape_s
        if self.args.perf:
            os.makedirs(self.args.perf, exist_ok=True)
            self.perf_runs[workload] = self.perf_runs.get(workload, 0) + 1
            cluster.perf_prefix = os.path.join(self.args.perf, f"{workload}-rep{self.perf_runs[workload]}")
        try:
            t0 = time.monotonic()
            cluster.start()
            log(f"    cluster up in {time.monotonic() - t0:.2f} s")
            return getattr(self, "run_" + workload)(cluster, size)
        except BenchError as e:
            if cluster.coordinator is not None and cluster.coordinator.poll() is not None:
                e.args = (f"{e} (coordinator exited {cluster.coordinator.returncode}: "
                          f"{cluster.log_tail('coordinator.log', 5)})",)
            raise
        finally:
            t0 = time.monotonic()
            cluster.stop()
            log(f"    cluster stopped in {time.monotonic() - t0:.2f} s")

    def run_fanout_noop(self, cluster, size):
        n = size["stacks"]
        d = self.submit(cluster, self.spec_file(("fanout", n), lambda: spec_fanout(n)))
        s = d["total_us"] / 1e6
        return {"value": n / s, "n": n, "total_s": s, "submit_s": d["submit_us"] / 1e6,
                "usage": d["usage_after"]}

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
        d = self.submit(cluster, self.spec_file(("chain", n), lambda: spec_chain(n)), trace)
        hops, up, down = hops_from_trace(trace, n)
        return {"value": percentile(hops, 50), "p99_us": percentile(hops, 99),
                "up_p50_us": percentile(up, 50), "down_p50_us": percentile(down, 50),
                "mean_us": statistics.fmean(hops), "hops": len(hops), "n": 2 * n,
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

    def run_million(self, cluster, size):
        k, m = size["stacks"], size["cards"]
        spec = self.spec_file(("million", k, m), lambda: spec_million(k, m))
        idle = cluster.usage()
        d = self.submit(cluster, spec)
        u = d["usage_after"]
        cards = k * m
        baseline = idle["coordinator_rss_bytes"]
        return {"value": d["total_us"] / 1e6, "n": cards, "submit_s": d["submit_us"] / 1e6,
                "idle_rss_bytes": baseline, "peak_rss_bytes": u["coordinator_hwm_bytes"],
                "rss_per_card_bytes": (u["coordinator_hwm_bytes"] - baseline) / cards,
                "peak_rss_per_card_bytes": u["coordinator_hwm_bytes"] / cards,
                "spec_bytes": os.path.getsize(spec), "usage": u}

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


# ----------------------------------------------------------------------------- the run

# Per workload: metric, unit, whether higher is better, and which peers run it.
# Hollerith itself with the coordinator's store in memory (`--store memory`), beside the default
# durable SQLite store: what durability costs, measured side by side in the same run.
MEMORY_STORE = "hollerith --store memory"
# Hollerith with the coordinator's store on a real PostgreSQL 15 server (`--store postgres://...`)
# that this script starts for the run (bench/postgres_server.py; durability at its defaults, fsync
# and synchronous_commit on), an empty database for every cluster: beside the default SQLite store.
POSTGRES_STORE = "hollerith --store postgres"
# Hollerith with Prometheus metrics on (--metrics-listen on the coordinator and both workers,
# each scraped every second): what metrics cost, side by side with the default (metrics off).
METRICS_ON = "hollerith --metrics-listen"
# Hollerith with mutual TLS (certificates from `hollerith certs`) instead of plaintext and a token.
MUTUAL_TLS = "hollerith mTLS"

METRICS = {
    "fanout_noop": ("cards/s, submit→done", "cards/s", True,
                    ["dask", MEMORY_STORE, POSTGRES_STORE, METRICS_ON, MUTUAL_TLS]),
    "fanout_runtime": ("cards/s, submit→done, stacks made at run time", "cards/s", True, []),
    "chain_hop": ("µs per cross-node hop, p50", "µs", False,
                  ["dask", MEMORY_STORE, METRICS_ON, MUTUAL_TLS]),
    "fanin": ("ms last leaf finish→combine start", "ms", False, ["dask"]),
    "shell": ("cards/s running `true`", "cards/s", True, ["make -j2", "dask"]),
    "million": ("seconds, submit→done", "s", False, ["dask"]),
    "serial": ("ms per job p50, submit→done", "ms", False,
               ["dask", MEMORY_STORE, POSTGRES_STORE, MUTUAL_TLS]),
    "serial_python": ("ms per job p50, submit→done, Python client (`submit(spec).wait()`)", "ms",
                      False, [MEMORY_STORE, MUTUAL_TLS]),
    "cache_rerun": ("warm/cold time, submit→done, rerun of an unchanged all-`cache: true` "
                    "shell job", "×", False, []),
    "cache_lookup": ("µs per card added by `cache: true` when every lookup misses", "µs", False,
                     []),
}


def sizes_for(args):
    if args.smoke:
        sizes = {w: dict(s) for w, s in SMOKE.items()}
    else:
        sc = args.scale
        sizes = {
            "fanout_noop": {"stacks": max(1, round(FULL["fanout_noop"]["stacks"] * sc))},
            "fanout_runtime": {"stacks": max(1, round(FULL["fanout_runtime"]["stacks"] * sc))},
            "chain_hop": {"cards": max(2, round(FULL["chain_hop"]["cards"] * sc))},
            "fanin": {"stacks": max(1, round(FULL["fanin"]["stacks"] * sc))},
            "shell": {"cards": max(1, round(FULL["shell"]["cards"] * sc))},
            # Fewer cards per stack, always 1,000 stacks (the shape the RSS target is about).
            "million": {"stacks": FULL["million"]["stacks"],
                        "cards": max(1, round(FULL["million"]["cards"] * sc))},
            "serial": {"jobs": max(1, round(FULL["serial"]["jobs"] * sc))},
            "serial_python": {"jobs": max(1, round(FULL["serial_python"]["jobs"] * sc))},
            "cache_rerun": {"images": max(2, round(FULL["cache_rerun"]["images"] * sc))},
            "cache_lookup": {"stacks": max(1, round(FULL["cache_lookup"]["stacks"] * sc))},
        }
    if args.million_scale is not None:
        sizes["million"]["cards"] = max(1, round(FULL["million"]["cards"] * args.million_scale))
    if args.serial_jobs is not None:
        sizes["serial"]["jobs"] = args.serial_jobs
    return sizes


def summarize(values):
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def fmt(v, unit):
    if v is None:
        return "—"
    if unit == "cards/s":
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}" if abs(v) >= 0.01 else f"{v:.2g}"


def build_table(results, sizes):
    rows = []
    for w in results["workloads"]:
        metric, unit, higher, peers = METRICS[w]
        runs = results["runs"][w]
        hr = [r for r in runs.get("hollerith", []) if r.get("ok")]
        h = summarize([r["value"] for r in hr])
        row_peers = [p for p in peers if p in runs] or [None]
        for p in row_peers:
            pr = [r for r in runs.get(p, []) if r.get("ok")] if p else []
            ps = summarize([r["value"] for r in pr])
            note = ""
            if pr and pr[0].get("capped"):
                note = (f"{p} n={pr[0]['n']:,}" +
                        (", extrapolated" if pr[0].get("extrapolated") else ", rate from capped run"))
            ratio = h["median"] / ps["median"] if h and ps and ps["median"] else None
            rows.append({"workload": w, "metric": metric, "unit": unit, "higher_is_better": higher,
                         "hollerith": h, "hollerith_n": hr[0]["n"] if hr else None,
                         "peer": p, "peer_stats": ps, "peer_n": pr[0]["n"] if pr else None,
                         "ratio": ratio, "note": note})
    return rows


def extra_lines(results):
    """Secondary figures per workload (medians over the Hollerith runs)."""
    out = []
    runs = results["runs"]

    def med(w, key, system="hollerith"):
        vals = [r[key] for r in runs.get(w, {}).get(system, []) if r.get("ok") and r.get(key) is not None]
        return statistics.median(vals) if vals else None

    if "fanout_runtime" in runs:
        out.append(f"fanout_runtime: written out, the same fan-out ran at "
                   f"{fmt(med('fanout_runtime', 'written_cards_s'), 'cards/s')} cards/s; made at "
                   f"run time / written out = {fmt(med('fanout_runtime', 'ratio_to_written'), '')}×")
    if "chain_hop" in runs:
        out.append(f"chain_hop: Hollerith p99 {fmt(med('chain_hop', 'p99_us'), 'µs')} µs, mean "
                   f"{fmt(med('chain_hop', 'mean_us'), 'µs')} µs; p50 split at the coordinator's "
                   f"release: finish→release {fmt(med('chain_hop', 'up_p50_us'), 'µs')} µs, "
                   f"release→start {fmt(med('chain_hop', 'down_p50_us'), 'µs')} µs; Dask p99 "
                   f"{fmt(med('chain_hop', 'p99_us', 'dask'), 'µs')} µs")
    if "fanin" in runs:
        out.append(f"fanin: Hollerith total {fmt(med('fanin', 'total_s'), 's')} s for "
                   f"{fmt(med('fanin', 'n'), 'cards/s')} stacks; Dask total "
                   f"{fmt(med('fanin', 'total_s', 'dask'), 's')} s for "
                   f"{fmt(med('fanin', 'n', 'dask'), 'cards/s')}")
    if "million" in runs:
        per = med("million", "rss_per_card_bytes")
        peak = med("million", "peak_rss_bytes")
        idle = med("million", "idle_rss_bytes")
        n = med("million", "n")
        if per is not None:
            out.append(f"million: {fmt(n, 'cards/s')} cards; coordinator peak RSS "
                       f"{peak / 2**20:,.0f} MiB (idle {idle / 2**20:,.0f} MiB): "
                       f"{per:,.0f} B per card above idle, {peak / n:,.0f} B per card in all")
    if "serial" in runs:
        out.append(f"serial: Hollerith p99 {fmt(med('serial', 'p99_ms'), 'ms')} ms, mean "
                   f"{fmt(med('serial', 'mean_ms'), 'ms')} ms, SubmitJob alone p50 "
                   f"{fmt(med('serial', 'submit_p50_ms'), 'ms')} ms")
    for system in runs.get("serial_python", {}):
        if med("serial_python", "n", system) is not None:
            out.append(f"serial_python on {system}: Python p50 "
                       f"{fmt(med('serial_python', 'value', system), 'ms')} ms (p99 "
                       f"{fmt(med('serial_python', 'p99_ms', system), 'ms')}), C++ driver p50 "
                       f"{fmt(med('serial_python', 'cpp_p50_ms', system), 'ms')} ms (p99 "
                       f"{fmt(med('serial_python', 'cpp_p99_ms', system), 'ms')}): Python/C++ = "
                       f"{fmt(med('serial_python', 'ratio_to_cpp', system), '')}×; means "
                       f"{fmt(med('serial_python', 'mean_ms', system), 'ms')} vs "
                       f"{fmt(med('serial_python', 'cpp_mean_ms', system), 'ms')} ms (alternating, "
                       f"same cluster)")
    if "cache_rerun" in runs and med("cache_rerun", "n") is not None:
        out.append(f"cache_rerun: {fmt(med('cache_rerun', 'n'), 'cards/s')} cards, cold "
                   f"{fmt(med('cache_rerun', 'cold_s'), 's')} s, warm (every card a hit, checked) "
                   f"{fmt(med('cache_rerun', 'warm_s'), 's')} s; with one project card's command "
                   f"changed, {fmt(med('cache_rerun', 'edit_ran'), 'cards/s')} cards ran (expected "
                   f"from the shape: {fmt(med('cache_rerun', 'edit_expected'), 'cards/s')}) in "
                   f"{fmt(med('cache_rerun', 'edit_s'), 's')} s")
    if "cache_lookup" in runs and med("cache_lookup", "n") is not None:
        out.append(f"cache_lookup: {fmt(med('cache_lookup', 'n'), 'cards/s')} no-op stacks, "
                   f"`cache: true` with every lookup a miss "
                   f"{fmt(med('cache_lookup', 'cards_s_on'), 'cards/s')} cards/s, without "
                   f"{fmt(med('cache_lookup', 'cards_s_off'), 'cards/s')} cards/s (alternating, "
                   f"same cluster)")
    cpu = []
    for w in results["workloads"]:
        vals = [(r["usage"]["coordinator_cpu_s"], r["usage"]["workers_cpu_s"])
                for r in runs.get(w, {}).get("hollerith", []) if r.get("ok") and r.get("usage")]
        if vals:
            cpu.append(f"{w} {statistics.median(v[0] for v in vals):.1f}/"
                       f"{statistics.median(v[1] for v in vals):.1f}")
    if cpu:
        out.append("CPU s coordinator/workers per run (incl. start-up): " + ", ".join(cpu))
    return out


def check_targets(results):
    runs = results["runs"]

    def med(w, system="hollerith", key="value"):
        vals = [r[key] for r in runs.get(w, {}).get(system, []) if r.get("ok")]
        return statistics.median(vals) if vals else None

    verdicts = {}
    h, d = med("fanout_noop"), med("fanout_noop", "dask")
    if h is not None:
        ok = h >= 50_000 and (d is None or h >= 100 * d)
        verdicts["fanout_noop"] = (ok, f"{h:,.0f} cards/s" + (f" = {h / d:,.0f}× Dask" if d else ""))
    pg = med("fanout_noop", POSTGRES_STORE)
    if h is not None and pg is not None:
        verdicts["fanout_noop --store postgres"] = (
            pg >= 0.5 * h, f"{pg / h:.2f}× SQLite, {pg:,.0f} vs {h:,.0f} cards/s")
    r = med("fanout_runtime", key="ratio_to_written")
    if r is not None:
        verdicts["fanout_runtime"] = (r >= 0.67, f"{r:.2f}× the written fan-out, "
                                                 f"{med('fanout_runtime'):,.0f} cards/s")
    h, d = med("chain_hop"), med("chain_hop", "dask")
    if h is not None:
        ok = h <= 150 and (d is None or d / h >= 50)
        verdicts["chain_hop"] = (ok, f"p50 {h:,.0f} µs" + (f", {d / h:,.1f}× faster than Dask" if d else ""))
    h, m = med("shell"), med("shell", "make -j2")
    if h is not None and m is not None:
        verdicts["shell"] = (h >= 0.8 * m, f"{h / m:.2f}× make -j2")
    h = med("million")
    per = med("million", key="rss_per_card_bytes")
    n = med("million", key="n")
    if h is not None:
        full = h * 1_000_000 / n if n else h
        extrap = "" if n == 1_000_000 else f" (measured {h:.1f} s on {n:,.0f} cards, scaled linearly)"
        verdicts["million"] = (full <= 60 and per is not None and per <= 1024,
                               f"{full:.1f} s{extrap}, {per:,.0f} B/card above idle")
    h = med("serial")
    if h is not None:
        verdicts["serial"] = (h <= 1.0, f"p50 {h:.2f} ms per job")
    r = med("serial_python", key="ratio_to_cpp")
    if r is not None:
        verdicts["serial_python"] = (r <= 2.0, f"{r:.2f}× the C++ driver, p50 "
                                               f"{med('serial_python'):.2f} vs "
                                               f"{med('serial_python', key='cpp_p50_ms'):.2f} ms")
    h = med("cache_rerun")
    if h is not None:
        verdicts["cache_rerun"] = (h <= 1 / 20, f"warm/cold {h:.3f} = 1/{1 / h:,.0f}, "
                                                f"{med('cache_rerun', key='warm_s'):.2f} s vs "
                                                f"{med('cache_rerun', key='cold_s'):.2f} s")
    h = med("cache_lookup")
    if h is not None:
        verdicts["cache_lookup"] = (h <= 20, f"{h:.1f} µs per card")
    return verdicts


def render_table(rows, verdicts):
    lines = ["| workload | metric | cards (Hollerith / peer) | Hollerith median (min–max) | peer "
             "| peer median (min–max) | Hollerith/peer | note |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        h, p, u = r["hollerith"], r["peer_stats"], r["unit"]
        hs = f"{fmt(h['median'], u)} ({fmt(h['min'], u)}–{fmt(h['max'], u)})" if h else "failed"
        ps = f"{fmt(p['median'], u)} ({fmt(p['min'], u)}–{fmt(p['max'], u)})" if p else "—"
        ratio = f"{r['ratio']:.3g}" if r["ratio"] is not None else "—"
        better = "higher" if r["higher_is_better"] else "lower"
        n = lambda x: f"{x:,}" if x is not None else "—"  # noqa: E731
        size = n(r["hollerith_n"]) + (f" / {n(r['peer_n'])}" if r["peer"] else "")
        lines.append(f"| {r['workload']} | {r['metric']} ({better} is better) | {size} | {hs} | "
                     f"{r['peer'] or '—'} | {ps} | {ratio} | {r['note']} |")
    out = "\n".join(lines)
    if verdicts:
        out += "\n\nTargets:\n" + "\n".join(
            f"- {w}: {TARGETS[w]} — **{'met' if ok else 'missed'}** ({why})"
            for w, (ok, why) in verdicts.items())
    return out


def draw_chart(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    workloads = []
    for r in rows:
        if r["workload"] not in workloads:
            workloads.append(r["workload"])
    fig, axes = plt.subplots(1, len(workloads), figsize=(3.2 * len(workloads), 4.2), squeeze=False)
    for ax, w in zip(axes[0], workloads):
        wr = [r for r in rows if r["workload"] == w]
        labels, med, lo, hi = [], [], [], []
        entries = [("Hollerith", wr[0]["hollerith"])] + [(r["peer"], r["peer_stats"]) for r in wr if r["peer"]]
        for label, s in entries:
            if s is None:
                continue
            labels.append(label)
            med.append(s["median"])
            lo.append(s["median"] - s["min"])
            hi.append(s["max"] - s["median"])
        colors = ["#1f77b4", "#ff7f0e", "#2ca02c"][:len(labels)]
        ax.bar(range(len(labels)), med, yerr=[lo, hi], color=colors, capsize=4)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=20, fontsize=8)
        better = "higher" if wr[0]["higher_is_better"] else "lower"
        ax.set_title(f"{w}\n{wr[0]['unit']} ({better} is better)", fontsize=9)
        if med and min(med) > 0 and max(med) / min(med) > 50:
            ax.set_yscale("log")
    fig.suptitle("Hollerith vs peers (median, min–max bars)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def source_info():
    """Which tree was measured (read-only git queries)."""
    def git(*a):
        try:
            return subprocess.run(["git", "-C", REPO] + list(a), capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    return {"commit": git("rev-parse", "HEAD"),
            "modified_files": git("status", "--porcelain", "--untracked-files=no").splitlines()}


def machine_info():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "python": platform.python_version(), "load_avg_at_start": os.getloadavg()}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin-dir", default=os.path.join(REPO, "build-bench"),
                   help="CMake build dir holding coordinator/, worker/, bench/ binaries")
    p.add_argument("--scale", type=float, default=1.0, help="sizes × this (1.0 = the issue's)")
    p.add_argument("--million-scale", type=float, help="scale of `million` alone (default --scale)")
    p.add_argument("--serial-jobs", type=int, help="jobs in `serial` (default 10,000 × --scale)")
    p.add_argument("--reps", type=int, default=3, help="repetitions of every workload and peer")
    p.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated subset")
    p.add_argument("--smoke", action="store_true",
                   help="tiny sizes, Hollerith only (unless --peers), 1 rep; exit 1 if anything fails")
    p.add_argument("--peers", action="store_true", help="in --smoke, run the peers too")
    p.add_argument("--no-peers", action="store_true", help="no Dask or make")
    p.add_argument("--no-tls-peer", action="store_true",
                   help="skip Hollerith over mutual TLS (plaintext loopback with a token alone)")
    p.add_argument("--no-store-peer", action="store_true",
                   help="skip Hollerith with the in-memory store (the default durable store alone)")
    p.add_argument("--no-postgres-peer", action="store_true",
                   help="skip Hollerith with its store on a PostgreSQL server the run starts "
                        "(/usr/lib/postgresql/15/bin)")
    p.add_argument("--no-metrics-peer", action="store_true",
                   help="skip Hollerith with metrics on (--metrics-listen, scraped every second)")
    p.add_argument("--shell-shape", choices=["stacks", "two-stacks"], default="stacks",
                   help="shell: one-card stacks, or two long stacks pinned to w1/w2")
    p.add_argument("--dask-max-tasks", type=int, default=10_000,
                   help="cap on Dask tasks in fanout/fanin/million (rates from the capped run)")
    p.add_argument("--dask-max-chain", type=int, default=1_000, help="cap on Dask chain cards per side")
    p.add_argument("--dask-max-shell", type=int, default=2_000, help="cap on Dask shell tasks")
    p.add_argument("--dask-max-serial", type=int, default=1_000, help="cap on Dask serial jobs")
    p.add_argument("--timeout", type=float, default=600, help="seconds allowed per measured run")
    p.add_argument("--coordinator-flags", default="",
                   help="extra hollerith-coordinator flags, e.g. '--missed-heartbeats 30' "
                        "(default: none, as `hollerith up`)")
    p.add_argument("--worker-flags", default="",
                   help="extra hollerith-worker flags, e.g. '--default-limits memory=4GiB,cpu=1h' "
                        "(default: none)")
    p.add_argument("--out-dir", help="where latest.{json,md,png} go (default bench/results; "
                                     "--smoke: a temp dir)")
    p.add_argument("--perf", metavar="DIR",
                   help="perf record (cpu-clock, call graphs) the coordinator and workers of every "
                        "Hollerith run into DIR/WORKLOAD-repN-{coordinator,w1,w2}.data")
    p.add_argument("--keep-dirs", action="store_true", help="keep cluster temp dirs (logs)")
    args = p.parse_args(argv)
    args.bin_dir = os.path.abspath(args.bin_dir)
    if args.smoke:
        args.reps = 1 if "--reps" not in argv else args.reps
    return args


def main(argv):
    args = parse_args(argv)
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        log(f"unknown workloads: {unknown}; choose from {WORKLOADS}")
        return 2
    sizes = sizes_for(args)
    want_peers = not args.no_peers and (args.peers or not args.smoke)
    out_dir = args.out_dir or (os.path.join(args.bin_dir, "bench-smoke") if args.smoke
                               else os.path.join(HERE, "results"))
    os.makedirs(out_dir, exist_ok=True)
    failures = []

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupted)  # before the PostgreSQL server: it is stopped too

    systems = {"hollerith": Hollerith(args)}
    if not args.no_store_peer and not args.smoke:
        systems[MEMORY_STORE] = Hollerith(args, ["--store", "memory"])
    postgres = None
    if (not args.no_postgres_peer and not args.smoke
            and any(POSTGRES_STORE in METRICS[w][3] for w in workloads)):
        if missing_binaries():
            log(f"PostgreSQL 15 is not installed ({', '.join(missing_binaries())} missing; "
                f"Debian: postgresql-15): the {POSTGRES_STORE} rows are skipped")
        else:
            try:
                # One server for the whole run (stopped in the finally below, or at exit).
                postgres = PostgresServer().start()
                log(f"PostgreSQL on 127.0.0.1:{postgres.port} ({postgres.dir})")

                def postgres_flags():  # a coordinator recovers every job of its database
                    return ["--store", postgres.uri(postgres.fresh_database()),
                            "--store-passfile", postgres.passfile()]
                systems[POSTGRES_STORE] = Hollerith(args, postgres_flags)
            except PostgresError as e:
                log(f"PostgreSQL did not start: {e}")
                failures.append(f"{POSTGRES_STORE}: {e}")
    if not args.no_metrics_peer and not args.smoke:
        on = ["--metrics-listen", "127.0.0.1:0"]
        systems[METRICS_ON] = Hollerith(args, on, on, scrape_s=1.0)
    if not args.no_tls_peer and not args.smoke:
        systems[MUTUAL_TLS] = Hollerith(args, tls=True)
    if want_peers:
        try:
            systems["dask"] = Dask(args)
        except ImportError:
            log("Dask is not installed (bench/install-bench-deps.sh): its rows are skipped")
        try:
            systems["make -j2"] = Make(args)
        except BenchError as e:
            log(f"{e}: its rows are skipped")

    results = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "machine": machine_info(), "source": source_info(), "command": " ".join([sys.executable] + sys.argv),
               "args": {k: v for k, v in vars(args).items()}, "sizes": sizes,
               "workloads": workloads, "runs": {w: {} for w in workloads}}
    if postgres:
        results["postgres"] = postgres.info()

    t_start = time.monotonic()
    try:
        for rep in range(args.reps):
            for w in workloads:
                order = ["hollerith"] + [p for p in METRICS[w][3] if p in systems]
                if rep % 2 == 1:
                    order.reverse()  # alternate who goes first
                for name in order:
                    log(f"[rep {rep + 1}/{args.reps}] {w} on {name} {sizes[w]}")
                    if not args.smoke:
                        settle()
                    t0 = time.monotonic()
                    try:
                        r = systems[name].run(w, sizes[w])
                        r["ok"] = True
                    except BenchError as e:
                        r = {"ok": False, "error": str(e)}
                        failures.append(f"{w} on {name}: {e}")
                    except Exception as e:  # a peer's own failure must not lose the whole run
                        r = {"ok": False, "error": f"{type(e).__name__}: {e}"}
                        failures.append(f"{w} on {name}: {type(e).__name__}: {e}")
                    r["wall_s"] = time.monotonic() - t0
                    r["rep"] = rep
                    results["runs"][w].setdefault(name, []).append(r)
                    shown = fmt(r.get("value"), METRICS[w][1]) if r["ok"] else "FAILED " + r["error"][:300]
                    log(f"    → {shown} {METRICS[w][1] if r['ok'] else ''} ({r['wall_s']:.1f} s)")
    except KeyboardInterrupt:
        log("interrupted: clusters stopped; writing what was measured")
        failures.append("interrupted")
    finally:
        for s in systems.values():
            s.close()
        if postgres:
            postgres.stop()
    results["elapsed_s"] = time.monotonic() - t_start

    rows = build_table(results, sizes)
    verdicts = {} if args.smoke else check_targets(results)
    results["table"] = rows
    results["targets"] = {w: {"target": TARGETS[w], "met": ok, "measured": why}
                          for w, (ok, why) in verdicts.items()}
    results["failures"] = failures
    table = render_table(rows, verdicts)
    extras = extra_lines(results)
    header = (f"Hollerith benchmark, {results['date']}, {results['machine']['cpus']} cores "
              f"({results['machine']['cpu_model']}), reps {args.reps}, scale "
              f"{'smoke' if args.smoke else args.scale}; sizes {json.dumps(sizes)}")
    text = header + "\n\n" + table + "\n\n" + "\n".join(f"- {x}" for x in extras) + "\n"
    print(text)

    with open(os.path.join(out_dir, "latest.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    with open(os.path.join(out_dir, "latest.md"), "w") as f:
        f.write(text)
    try:
        draw_chart(rows, os.path.join(out_dir, "latest.png"))
    except ImportError:
        if not args.smoke:
            log("matplotlib is not installed (bench/install-bench-deps.sh): no chart")
    log(f"results in {out_dir}/latest.json, latest.md" +
        (", latest.png" if os.path.exists(os.path.join(out_dir, "latest.png")) else ""))
    if failures:
        log("FAILURES:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
