"""Process helpers of the benchmark harness and HollerithCluster: one coordinator and its workers
started as real processes on loopback, measured through /proc and stopped by PID."""

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request

from bench_common import HERE, PYTHON, BenchError


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


def voluntary_switches(pid):
    """Voluntary context switches of all of a process's threads so far (each one a thread that
    blocked and was woken again), None if it is gone."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
    except (OSError, ValueError):
        return None
    return total


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


# Scrapes one metrics URL every INTERVAL seconds with the token in FILE, printing "OK FAILED
# LAST_ERROR" after each round: run inside a worker's network namespace (hop_rtt), where its
# 127.0.0.1 endpoint is not reachable from the harness's own threads.
SCRAPE_LOOP = r"""
import sys, time, urllib.request
url, token, interval = sys.argv[1], open(sys.argv[2]).read().strip(), float(sys.argv[3])
ok = failed = 0
err = ""
while True:
    try:
        urllib.request.urlopen(urllib.request.Request(
            url, headers={"Authorization": "Bearer " + token}), timeout=5).read()
        ok += 1
    except Exception as e:
        failed += 1
        err = str(e).replace("\n", " ")[:200]
    print(ok, failed, err, flush=True)
    time.sleep(interval)
"""


def raise_nofile():
    """In the coordinator's child before exec (scale): as many open files as the kernel allows
    (as root the hard limit is raised too), for one stream per connected worker."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard
    if os.geteuid() == 0:
        try:
            with open("/proc/sys/fs/nr_open") as f:
                want = max(hard, int(f.read()))
        except (OSError, ValueError):
            pass
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class HollerithCluster:
    """One coordinator and workers (w1, w2 by default; none for a load generator) on loopback, in a
    temp dir; stop() kills by PID.

    Hooks, set before start(): `worker_address(name)` is the address worker NAME dials (default the
    coordinator's), `wrap_worker(name, argv)` the argv it runs under (e.g. in a network
    namespace), `on_coordinator_up(cluster)` runs between the coordinator's start and the
    workers', `coordinator_preexec` is the coordinator's preexec_fn, `cert_hosts` the coordinator
    certificate's --host list."""

    def __init__(self, bin_dir, keep_dir=False, tls=False, workers=("w1", "w2")):
        self.bin_dir = bin_dir
        self.keep_dir = keep_dir
        self.tls = tls  # mutual TLS with certificates from `hollerith certs` instead of the token
        self.worker_names = list(workers)
        self.dir = tempfile.mkdtemp(prefix="hollerith-bench-")
        self.coordinator = None
        self.workers = []
        self.address = None
        self.token_file = None
        self.extra_coordinator_flags = []
        self.extra_worker_flags = []
        self.cert_hosts = ["127.0.0.1"]
        self.worker_address = None
        self.wrap_worker = None
        self.on_coordinator_up = None
        self.coordinator_preexec = None
        self.scrape_s = None  # with --metrics-listen: scrape every endpoint this often
        self._scraper = None
        self._scraping = False
        self._scrape_procs = []  # (Popen, output path): scrapers inside wrapped workers' namespaces
        self.scrapes = {"ok": 0, "failed": 0, "endpoints": 0, "last_error": ""}
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
        hosts = [a for h in self.cert_hosts for a in ("--host", h)]
        cmds = ([["certs", "init", certs],
                 ["certs", "issue", "coordinator", "--role", "coordinator"] + hosts]
                + [["certs", "issue", w, "--role", "worker"] for w in self.worker_names]
                + [["certs", "issue", "client", "--role", "client"]])
        for c in cmds:
            extra = [] if c[1] == "init" else ["--dir", certs]
            subprocess.run([cli] + c + extra, check=True, stdout=subprocess.DEVNULL, timeout=60)

    @property
    def metrics_on(self):
        return "--metrics-listen" in self.extra_coordinator_flags

    def metrics_token_file(self):
        """The token scrapes present: the cluster's (with TLS the coordinator still makes one in
        its data dir, the password of metrics and the web view)."""
        return self.token_file or os.path.join(self.dir, "coordinator", "token")

    def start(self, timeout=30.0):
        self.start_coordinator(timeout)
        if self.on_coordinator_up:
            self.on_coordinator_up(self)
        self.start_workers(timeout)
        if self.scrape_s:
            self._start_scraper()
        if self.perf_prefix:
            # Software clock sampling: hardware counters are often unavailable in VMs.
            for name, proc in ([("coordinator", self.coordinator)]
                               + list(zip(self.worker_names, self.workers))):
                self._perf.append(subprocess.Popen(
                    # Wall-clock sample times (-k): `perf script` lines up with the trace's.
                    ["perf", "record", "-q", "-e", "cpu-clock", "-F", os.environ.get("HOLLERITH_PERF_HZ", "999"), "-g",
                     "-k", "CLOCK_REALTIME", "-o", f"{self.perf_prefix}-{name}.data", "-p", str(proc.pid)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(0.5)  # perf attaches asynchronously
        return self

    def start_coordinator(self, timeout=30.0):
        coord_out = os.path.join(self.dir, "coordinator.out")
        if self.tls:
            self.make_certs()
            self.token_file = ""  # the certificates are the credentials
        with open(coord_out, "wb") as out:
            self.coordinator = subprocess.Popen(
                [self.binary("coordinator/hollerith-coordinator"), "--listen", "127.0.0.1:0",
                 "--data-dir", os.path.join(self.dir, "coordinator")] + self.tls_flags("coordinator")
                + self.extra_coordinator_flags,
                stdout=out, stderr=self._open_log("coordinator.log"), stdin=subprocess.DEVNULL,
                preexec_fn=self.coordinator_preexec)
        deadline = time.monotonic() + timeout
        while (self.address is None or self.token_file is None
               or (self.metrics_on and not os.path.exists(self.metrics_token_file()))):
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

    def start_workers(self, timeout=30.0):
        for name in self.worker_names:
            creds = self.tls_flags(name) if self.tls else ["--token-file", self.token_file]
            if self.tls and "--metrics-listen" in self.extra_worker_flags:
                creds += ["--token-file", self.metrics_token_file()]  # with TLS: metrics only
            address = self.worker_address(name) if self.worker_address else self.address
            argv = ([self.binary("worker/hollerith-worker"), "--coordinator", address,
                     "--name", name, "--work-dir", os.path.join(self.dir, name)]
                    + creds + self.extra_worker_flags)
            if self.wrap_worker:
                argv = self.wrap_worker(name, argv)
            self.workers.append(subprocess.Popen(
                argv, stdout=self._open_log(name + ".log"), stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL))
        if self.worker_names:
            self.driver(["wait-workers", "--count", str(len(self.worker_names)), "--timeout",
                         str(timeout)], timeout + 5)

    def _metrics_urls(self, path, want, timeout=10.0):
        """The `metrics on URL` lines of a daemon's output (a worker prints it once it started)."""
        deadline = time.monotonic() + timeout
        while True:
            with open(path, errors="replace") as f:
                urls = sorted(set(line.split()[-1] for line in f
                                  if line.startswith("metrics on ") or " metrics on " in line))
            urls = [u for u in urls if u.startswith("http://")]
            if len(urls) >= want or time.monotonic() > deadline:
                return urls
            time.sleep(0.05)

    def _start_scraper(self):
        """Scrapes /metrics of the coordinator and every worker every scrape_s, with the cluster's
        token, as Prometheus would (its default is every 15 s to 1 min: this is the pessimistic
        side). Workers run wrapped (in a namespace) are scraped from inside it."""
        token = self.metrics_token_file()
        host_urls = self._metrics_urls(os.path.join(self.dir, "coordinator.out"), 1)
        wrapped = []
        for name in self.worker_names:
            urls = self._metrics_urls(os.path.join(self.dir, name + ".log"), 1)
            if self.wrap_worker:
                wrapped += [(name, u) for u in urls]
            else:
                host_urls += urls
        found = len(host_urls) + len(wrapped)
        if found != 1 + len(self.worker_names):
            raise BenchError(f"expected {1 + len(self.worker_names)} metrics endpoints, found "
                             f"{host_urls + [u for _, u in wrapped]}")
        self.scrapes["endpoints"] = found
        for name, url in wrapped:
            out = os.path.join(self.dir, f"scrape-{name}.out")
            with open(out, "wb") as f:
                self._scrape_procs.append((subprocess.Popen(
                    self.wrap_worker(name, [PYTHON, "-c", SCRAPE_LOOP, url, token,
                                            str(self.scrape_s)]),
                    stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL), out))
        with open(token) as f:
            header = {"Authorization": "Bearer " + f.read().strip()}
        self._scraping = True

        def scrape():
            while self._scraping:
                for u in host_urls:
                    try:
                        urllib.request.urlopen(urllib.request.Request(u, headers=header),
                                               timeout=5).read()
                        self.scrapes["ok"] += 1
                    except OSError as e:
                        self.scrapes["failed"] += 1
                        self.scrapes["last_error"] = f"{u}: {e}"
                time.sleep(self.scrape_s)
        self._scraper = threading.Thread(target=scrape, daemon=True)
        self._scraper.start()

    def _stop_scrapers(self):
        self._scraping = False
        if self._scraper:
            self._scraper.join(timeout=10)
            self._scraper = None
        for p, out in self._scrape_procs:
            stop_pid(p, grace=2.0)
            try:
                with open(out, errors="replace") as f:
                    last = f.read().strip().splitlines()[-1:]
                if last:
                    ok, failed, *err = last[0].split(" ", 2)
                    self.scrapes["ok"] += int(ok)
                    self.scrapes["failed"] += int(failed)
                    if err and err[0]:
                        self.scrapes["last_error"] = err[0]
            except (OSError, ValueError):
                pass
        self._scrape_procs = []

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

    def switches(self):
        """{daemon: voluntary context switches so far}: the coordinator and every worker."""
        procs = [("coordinator", self.coordinator)] + list(zip(self.worker_names, self.workers))
        return {name: voluntary_switches(p.pid) for name, p in procs}

    def log_tail(self, name, lines=15):
        try:
            with open(os.path.join(self.dir, name), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        self._stop_scrapers()
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
