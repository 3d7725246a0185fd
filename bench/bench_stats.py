"""Measurement helpers of the benchmark harness: CPU idleness and settle(), percentile(),
summarize(), and readers of a job's exported trace (per-card times, hops, fan-in gap) and of
scale_load's byte counts."""

import json
import math
import statistics
import time

from bench_common import BenchError


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


def scale_bytes(doc, what):
    """Coordinator bytes per WHAT ("worker", "stack") from scale_load's result, whichever key it
    uses."""
    for key in (f"bytes_per_{what}", f"coordinator_bytes_per_{what}", f"rss_per_{what}_bytes",
                f"{what}_bytes"):
        if doc.get(key) is not None:
            return doc[key]
    return None


def fanin_gap_from_trace(path):
    start, finish = load_trace_cards(path)
    leaves = [t for c, t in finish.items() if c != "combine"]
    if "combine" not in start or not leaves:
        raise BenchError("trace has no combine start or no leaf finish")
    return (start["combine"] - max(leaves)) / 1000.0



def summarize(values):
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}
