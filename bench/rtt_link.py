"""A link with a fixed round-trip time between each worker and the coordinator (issue 30).

This kernel has no netem, so the delay is the benchmark's own: each worker runs in a network
namespace of its own, joined to the host by a veth pair on a /30 of 10.201.0.0/16, and dials a
hollerith-delay-proxy on the host's end of its veth, which forwards to the coordinator on loopback
and holds every byte rtt_us/2 in each direction. A hop from a card on w1 to a card on w2 crosses
w1's proxy once (up) and w2's once (down): one RTT of added latency, as across a real link.

    with RttLink(bin_dir, rtt_us=500) as link:     # as root; rtt_link.available() says why not
        link.start("127.0.0.1:PORT")               # the coordinator's address
        argv = link.wrap("w1", [worker, "--coordinator", link.worker_address("w1"), ...])
        baseline = link.measure_rtt_us()           # {"p50_us": .., "p99_us": ..}

stop() (also at exit, and on leaving the `with`) kills the proxies by PID and deletes the
namespaces and veths; it is idempotent. Run this file to measure the link alone:
    python3 bench/rtt_link.py --bin-dir build [--rtt-us 500] [--samples 2000]
"""

import atexit
import ctypes
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SUBNETS = ipaddress.ip_network("10.201.0.0/16")  # carved into /30s, one per namespace
PROXY = os.path.join("bench", "hollerith-delay-proxy")
_PR_SET_PDEATHSIG = 1


def _ip(*args, check=True):
    p = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {p.stderr.strip()}")
    return p


def available(bin_dir=None):
    """None if RttLink can run here, else the reason (a sentence)."""
    if os.geteuid() != 0:
        return "not root (network namespaces and veths need CAP_NET_ADMIN)"
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    if bin_dir is not None and not os.access(os.path.join(bin_dir, PROXY), os.X_OK):
        return f"{os.path.join(bin_dir, PROXY)} is missing (build hollerith-delay-proxy)"
    ns = f"hlb-{os.getpid()}-probe"
    veth = f"hlb{os.getpid()}p"
    try:
        p = _ip("netns", "add", ns, check=False)
        if p.returncode != 0:
            return f"cannot create a network namespace: {p.stderr.strip()}"
        p = _ip("link", "add", veth + "h", "type", "veth", "peer", "name", veth + "n",
                "netns", ns, check=False)
        if p.returncode != 0:
            return f"cannot create a veth pair: {p.stderr.strip()}"
    finally:
        _ip("link", "del", veth + "h", check=False)
        _ip("netns", "del", ns, check=False)
    return None


def sweep_stale():
    """Deletes namespaces (and their veths) left by an RttLink whose process is gone (killed -9)."""
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        m = re.match(r"(hlb-(\d+)-\w+)", line)
        if m and not os.path.exists(f"/proc/{m.group(2)}"):
            _ip("netns", "del", m.group(1), check=False)  # takes both ends of its veth with it


def _used_networks():
    """Every IPv4 network on an address or route of the host (any table)."""
    nets = []
    for line in _ip("-4", "-o", "addr", "show", check=False).stdout.splitlines():
        m = re.search(r"inet (\S+)", line)
        if m:
            nets.append(ipaddress.ip_interface(m.group(1)).network)
    for line in _ip("-4", "route", "show", "table", "all", check=False).stdout.splitlines():
        first = line.split()[0] if line.split() else ""
        if first in ("broadcast", "local", "unicast") and len(line.split()) > 1:
            first = line.split()[1]
        try:
            nets.append(ipaddress.ip_network(first, strict=False))
        except ValueError:
            pass  # "default", "unreachable ..."
    return nets


def _die_with_parent():
    """In the child before exec: SIGTERM when the harness dies, even by SIGKILL."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class RttLink:
    """Namespaces w1, w2 (by default) each behind a delay proxy to the coordinator; see the module
    docstring. Not thread-safe; one per harness process is the intended use."""

    def __init__(self, bin_dir, rtt_us=500, names=("w1", "w2"), spin_us=None):
        """SPIN_US: the proxies' --spin-us (None: theirs, 60 µs; see hollerith-delay-proxy --help)."""
        self.proxy_bin = os.path.join(bin_dir, PROXY)
        if not os.access(self.proxy_bin, os.X_OK):
            raise RuntimeError(f"{self.proxy_bin} is missing: build hollerith-delay-proxy")
        self.rtt_us = rtt_us
        self.delay_us = rtt_us // 2
        self.spin_us = spin_us
        self.names = list(names)
        self.tag = f"hlb-{os.getpid()}"
        self.links = {}  # name -> {"ns", "host_if", "host_ip", "ns_ip"}
        self.proxies = {}  # name -> (Popen, "HOST:PORT")
        self.proxy_stats = {}  # name -> the proxy's --stats at stop: how late it wrote, µs
        self.dir = tempfile.mkdtemp(prefix="hollerith-rtt-link-")
        self._stopped = False
        atexit.register(self.stop)
        sweep_stale()

    # ------------------------------------------------------------------------- set-up

    def _create(self):
        """The namespaces and veths (once)."""
        if self.links:
            return
        if self._stopped:
            raise RuntimeError("RttLink was stopped")
        used = _used_networks()
        free = (n for n in SUBNETS.subnets(new_prefix=30)
                if not any(n.overlaps(u) for u in used if u.prefixlen > 0))
        for name in self.names:
            net = next(free, None)
            if net is None:
                raise RuntimeError(f"no free /30 left in {SUBNETS}")
            host_ip, ns_ip = list(net.hosts())
            ns = f"{self.tag}-{name}"
            host_if = f"hlb{os.getpid()}{name}"[:14] + "h"  # at most 15 characters
            ns_if = host_if[:-1] + "n"
            self.links[name] = {"ns": ns, "host_if": host_if, "host_ip": str(host_ip),
                                "ns_ip": str(ns_ip)}
            _ip("netns", "add", ns)
            _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if, "netns", ns)
            _ip("addr", "add", f"{host_ip}/30", "dev", host_if)
            _ip("link", "set", host_if, "up")
            _ip("-n", ns, "addr", "add", f"{ns_ip}/30", "dev", ns_if)
            _ip("-n", ns, "link", "set", ns_if, "up")
            _ip("-n", ns, "link", "set", "lo", "up")

    def _proxy(self, listen_ip, to, delay_us, log_name, stats=False):
        """Starts a delay proxy; (Popen, its HOST:PORT)."""
        log = open(os.path.join(self.dir, log_name), "wb")
        argv = [self.proxy_bin, "--listen", f"{listen_ip}:0", "--to", to,
                "--delay-us", str(delay_us)] + (["--stats"] if stats else []) + (
                    ["--spin-us", str(self.spin_us)] if self.spin_us is not None else [])
        return self._spawn(argv, log)

    def _spawn(self, argv, log):
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                             text=True, preexec_fn=_die_with_parent)
        log.close()
        line = p.stdout.readline()
        if not line.startswith("listening on "):
            self._kill(p)
            raise RuntimeError(f"{' '.join(argv)} did not start: {line.strip()}")
        return p, line.split()[2]

    @staticmethod
    def _kill(p, grace=2.0):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p.stdout:
            p.stdout.close()

    # ------------------------------------------------------------------------- the interface

    def start(self, coordinator_address):
        """One proxy per namespace, on the host's end of its veth, to COORDINATOR_ADDRESS
        (HOST:PORT, numeric: the proxy does no DNS)."""
        self._create()
        for name, link in self.links.items():
            if name not in self.proxies:
                self.proxies[name] = self._proxy(link["host_ip"], coordinator_address,
                                                 self.delay_us, f"proxy-{name}.log", stats=True)
        return self

    def worker_address(self, name):
        """HOST:PORT that the worker in namespace NAME dials (its --coordinator)."""
        if name not in self.proxies:
            raise KeyError(f"no proxy for {name!r}: call start() first (names: {self.names})")
        return self.proxies[name][1]

    def host_ips(self):
        """The host-side veth IPs, which workers dial: a TLS coordinator certificate needs them
        as --host too."""
        self._create()
        return [link["host_ip"] for link in self.links.values()]

    def wrap(self, name, argv):
        """ARGV run inside namespace NAME (ip netns exec execs it: the PID is ARGV's own)."""
        self._create()
        return ["ip", "netns", "exec", self.links[name]["ns"]] + list(argv)

    def measure_rtt_us(self, samples=500, name="w1", delay_us=None, proxy=True, size=64):
        """Round trips of SIZE-byte pings from inside namespace NAME, through a proxy with the
        link's delay (or DELAY_US; none if not PROXY) to an echo on the host: the path a worker's
        message takes, up and back. The rtt JSON: {"p50_us", "p99_us", "min_us", ...}, plus
        "proxy" (how late the proxy wrote, µs) when one was used."""
        self._create()
        link = self.links[name]
        delay = self.delay_us if delay_us is None else delay_us
        started = []
        try:
            echo = self._spawn([self.proxy_bin, "echo", "--listen",
                                ("127.0.0.1" if proxy else link["host_ip"]) + ":0"],
                               open(os.path.join(self.dir, "echo.log"), "wb"))
            started.append(echo[0])
            target = echo[1]
            if proxy:
                p = self._proxy(link["host_ip"], echo[1], delay, "rtt-proxy.log", stats=True)
                started.append(p[0])
                target = p[1]
            r = subprocess.run(self.wrap(name, [self.proxy_bin, "rtt", "--to", target,
                                                "--samples", str(samples), "--size", str(size)]),
                               capture_output=True, text=True, timeout=60 + samples * 0.1)
            if r.returncode != 0:
                raise RuntimeError(f"rtt through {target} failed: {r.stderr.strip()}")
            doc = json.loads(r.stdout.strip().splitlines()[-1])
        finally:
            for p in reversed(started):
                self._kill(p)
        if proxy:
            doc["proxy"] = self._stats("rtt-proxy.log")
        doc["delay_us"] = delay if proxy else None
        return doc

    def _stats(self, log_name):
        try:
            with open(os.path.join(self.dir, log_name)) as f:
                lines = [ln for ln in f if ln.startswith("{")]
            return json.loads(lines[-1]) if lines else None
        except (OSError, ValueError):
            return None

    def stop(self):
        """Kills the proxies (by PID), then any process still in the namespaces (started there
        by wrap()), deletes the namespaces and veths. Idempotent; never raises."""
        if self._stopped:
            return
        self._stopped = True
        for name, (p, _) in self.proxies.items():
            try:
                self._kill(p)
                self.proxy_stats[name] = self._stats(f"proxy-{name}.log")
            except Exception as e:  # noqa: BLE001 — clean up the rest regardless
                print(f"rtt_link: stopping proxy {name}: {e}", file=sys.stderr)
        for link in self.links.values():
            self._kill_namespace_processes(link["ns"])
            _ip("link", "del", link["host_if"], check=False)
            _ip("netns", "del", link["ns"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
        try:
            atexit.unregister(self.stop)
        except Exception:  # noqa: BLE001 — interpreter shutting down
            pass

    @staticmethod
    def _kill_namespace_processes(ns):
        """A process left in a deleted namespace keeps it (and its veth) alive: a worker the
        harness did not stop. Only processes inside this link's own namespace."""
        pids = [int(x) for x in _ip("netns", "pids", ns, check=False).stdout.split()]
        if not pids:
            return
        print(f"rtt_link: killing processes left in {ns}: {pids}", file=sys.stderr)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
                time.sleep(0.02)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description="Measure the RttLink path alone: direct, through a "
                                 "proxy with no delay, and with the link's delay.")
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--rtt-us", type=int, default=500)
    ap.add_argument("--samples", type=int, default=2000)
    args = ap.parse_args(argv)
    reason = available(args.bin_dir)
    if reason:
        print(f"RttLink unavailable: {reason}", file=sys.stderr)
        return 2
    with RttLink(args.bin_dir, args.rtt_us) as link:
        out = {"direct": link.measure_rtt_us(args.samples, proxy=False),
               "proxy_no_delay": link.measure_rtt_us(args.samples, delay_us=0),
               "link": link.measure_rtt_us(args.samples)}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
