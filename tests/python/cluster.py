"""A real cluster for the Python client's tests: the build's coordinator and workers as
processes on loopback (port 0), in a temporary directory, stopped (SIGKILL if need be) when the
test ends, pass or fail."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, TypeVar

BUILD = Path(os.environ.get("HOLLERITH_BUILD_DIR", Path(__file__).resolve().parents[2] / "build"))
COORDINATOR = BUILD / "coordinator" / "hollerith-coordinator"
WORKER = BUILD / "worker" / "hollerith-worker"
CLI = BUILD / "cli" / "hollerith"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

T = TypeVar("T")


def wait_for(what: str, check: Callable[[], Optional[T]], seconds: float = 30.0) -> T:
    """Polls `check` until it returns something other than None/False, or fails the test."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(0.05)


def hollerith(*args: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    """Runs the CLI (bounded: 60 s)."""
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


class Cluster:
    """A coordinator and `workers` workers. `tls`: with the cluster's certificates (made with
    `hollerith certs`) instead of a token. `coordinator_args`: more flags of the coordinator."""

    def __init__(self, root: Path, workers: int = 2, tls: bool = False,
                 coordinator_args: Optional[List[str]] = None) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.data = root / "data"
        self.tls = tls
        self.coordinator_args = coordinator_args or []
        self.procs: List[subprocess.Popen] = []
        self.coordinator: Optional[subprocess.Popen] = None
        self.address = ""
        self.standby: Optional[subprocess.Popen] = None  # add_standby()
        self.standby_address = ""
        self.certs = root / "certs"
        try:
            if tls:
                self._make_certs(workers)
            self.start_coordinator("127.0.0.1:0")
            for i in range(workers):
                self.start_worker(f"w{i + 1}")
            if workers:
                self.wait_workers(workers)
        except BaseException:
            self.stop()  # nobody else can: the caller never gets the cluster
            raise

    # ------------------------------------------------------------------ credentials
    @property
    def token_file(self) -> str:
        return str(self.data / "token")

    def client_kwargs(self, role: str = "client") -> Dict[str, str]:
        """What hollerith.Client needs for this cluster: a token file, or the TLS files of a
        certificate with `role` (client, or a worker's name)."""
        if self.tls:
            return {"address": self.address, "tls_ca": str(self.certs / "ca.crt"),
                    "tls_cert": str(self.certs / f"{role}.crt"),
                    "tls_key": str(self.certs / f"{role}.key")}
        return {"address": self.address, "token_file": self.token_file}

    def cli_env(self) -> Dict[str, str]:
        env = {"HOLLERITH_COORDINATOR": self.address}
        if self.tls:
            env.update(HOLLERITH_TLS_CA=str(self.certs / "ca.crt"),
                       HOLLERITH_TLS_CERT=str(self.certs / "client.crt"),
                       HOLLERITH_TLS_KEY=str(self.certs / "client.key"))
        else:
            env["HOLLERITH_TOKEN_FILE"] = self.token_file
        return env

    def _make_certs(self, workers: int) -> None:
        d = str(self.certs)
        steps = [["certs", "init", d],
                 ["certs", "issue", "coordinator", "--role", "coordinator", "--host", "127.0.0.1",
                  "--host", "localhost", "--dir", d],
                 ["certs", "issue", "client", "--role", "client", "--dir", d]]
        steps += [["certs", "issue", f"w{i + 1}", "--role", "worker", "--dir", d]
                  for i in range(workers)]
        for step in steps:
            r = hollerith(*step)
            assert r.returncode == 0, r.stderr

    def _tls_flags(self, name: str) -> List[str]:
        if not self.tls:
            return []
        return ["--tls-ca", str(self.certs / "ca.crt"), "--tls-cert",
                str(self.certs / f"{name}.crt"), "--tls-key", str(self.certs / f"{name}.key")]

    # ------------------------------------------------------------------ processes
    def _spawn(self, argv: List[str], log: str) -> subprocess.Popen:
        out = open(self.root / log, "ab")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        out.close()
        self.procs.append(proc)
        return proc

    def _wait_line(self, log: str, start: int, pattern: str, proc: subprocess.Popen,
                   what: str) -> str:
        """Waits until `log` (from byte `start`) has a line matching `pattern`; its group 1."""
        path = self.root / log

        def found() -> Optional[str]:
            text = path.read_bytes()[start:].decode(errors="replace") if path.exists() else ""
            match = re.search(pattern, text, re.M)
            if match is None and proc.poll() is not None:
                raise AssertionError(f"{what}: the coordinator exited: {text[-2000:]}")
            return match.group(1) if match else None

        return wait_for(what, found)

    def start_coordinator(self, listen: str) -> None:
        log = self.root / "coordinator.log"
        start = log.stat().st_size if log.exists() else 0
        self.coordinator = self._spawn(
            [str(COORDINATOR), "--listen", listen, "--data-dir", str(self.data),
             "--http-listen", "", "--heartbeat-ms", "200", *self._tls_flags("coordinator"),
             *self.coordinator_args], "coordinator.log")
        self.address = self._wait_line("coordinator.log", start, r"^listening on (\S+)",
                                       self.coordinator, "the coordinator to listen")

    def add_standby(self) -> str:
        """A second coordinator on the same PostgreSQL store (the coordinator's flags), with a
        data dir of its own, waiting as a standby; its address. Workers started after it get
        both addresses."""
        self.standby = self._spawn(
            [str(COORDINATOR), "--listen", "127.0.0.1:0", "--data-dir", str(self.root / "standby"),
             "--token-file", self.token_file, "--http-listen", "", "--heartbeat-ms", "200",
             *self.coordinator_args], "standby.log")
        self.standby_address = self._wait_line("standby.log", 0, r"^standby on (\S+)",
                                               self.standby, "the standby to listen")
        return self.standby_address

    def fail_over(self) -> None:
        """kill -9 of the leader; returns once the standby leads."""
        assert self.standby is not None
        self.kill_coordinator()
        self.coordinator = self.standby
        self._wait_line("standby.log", 0, r"^listening on (\S+)", self.standby,
                        "the standby to take over")
        self.address, self.standby, self.standby_address = self.standby_address, None, ""

    def kill_coordinator(self) -> None:
        """kill -9: whatever it had not committed is lost, as in a crash."""
        assert self.coordinator is not None
        self.coordinator.send_signal(signal.SIGKILL)
        self.coordinator.wait(timeout=30)

    def restart_coordinator(self) -> None:
        """kill -9, then a new coordinator on the same data dir and the same address."""
        self.kill_coordinator()
        self.start_coordinator(self.address)

    def start_worker(self, name: str) -> None:
        auth = self._tls_flags(name) or ["--token-file", self.token_file]
        addresses = ",".join(a for a in (self.address, self.standby_address) if a)
        self._spawn([str(WORKER), "--coordinator", addresses, "--name", name, "--slots", "2",
                     "--work-dir", str(self.root / name), *auth], f"{name}.log")

    def wait_workers(self, n: int) -> None:
        def connected() -> bool:
            r = hollerith("workers", "--json", env=self.cli_env())
            return r.returncode == 0 and r.stdout.count('"name"') >= n
        wait_for(f"{n} workers to connect", connected)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def logs(self) -> str:
        """The tail of every process's log, for a failing test's report."""
        parts = []
        for log in sorted(self.root.glob("*.log")):
            parts.append(f"---- {log.name}\n" + log.read_text(errors="replace")[-3000:])
        return "\n".join(parts)
