"""Issue 30's targets and the results table: TARGETS, METRICS (per workload: metric, unit,
direction, rows), medians over --reps, the target checks and the table's rows, text and extra
lines."""

import statistics

from bench_common import (DEFAULT, GRPC_FLOOR, MEMORY_STORE, METRICS_ON, MUTUAL_TLS,
                          POSTGRES_STORE, USERS)
from bench_sizes import FULL, SCALE_BASE_WORKERS
from bench_stats import summarize

# Issue 30's targets (ratios against baselines of the same run; medians over --reps). Each is
# checked on one row: the users' configuration, except chain_hop's plaintext 1.5x. Earlier rounds'
# targets are in bench/README.md's history.
TARGETS = {
    "chain_hop": [
        (DEFAULT, "p50 ≤ 1.5× the bare gRPC round trip (inline)"),
        (USERS, "p50 ≤ 1.7× the bare gRPC round trip (inline), over mTLS"),
        (USERS, "p99 ≤ 3× p50"),
    ],
    "fanout_noop": [(USERS, "≥ 100,000 cards/s"), (USERS, "≥ 150× Dask")],
    "fanin": [(USERS, "≤ 10 ms last leaf → combine start, 10,000 leaves")],
    "shell": [(USERS, "≥ 1.0× make -j2")],
    "million": [(USERS, "≤ 3 s from JSON, submit → done, 1,000,000 cards"),
                (USERS, "≤ 6 s from YAML, submit → done, 1,000,000 cards"),
                (USERS, "coordinator peak RSS ≤ 500 B per card (VmHWM / cards)")],
    "serial": [(USERS, "p50 ≤ 0.5 ms"), (USERS, "p99 ≤ 2 ms")],
    "hop_rtt": [(USERS, "hop p50 ≤ RTT p50 + 100 µs (0.5 ms link)")],
    # Durable store and metrics, but a token, not mutual TLS: a worker's certificate names it, and
    # the load generator's 10,000 workers would need 10,000 certificates.
    "scale": [(METRICS_ON, "placements/s at N workers ≥ 0.5× at 3 workers"),
              (METRICS_ON, "release p50 at N workers ≤ 2× at 3 workers"),
              (METRICS_ON, "release p99 at N workers ≤ 2× at 3 workers"),
              (METRICS_ON, "no lease expires")],
}

# Per workload: metric, unit, whether higher is better, and the rows that run it (Hollerith's in
# their configurations, baselines and peers; the first two always run).
PEERS_OF_DEFAULT = [MEMORY_STORE, METRICS_ON, MUTUAL_TLS]
METRICS = {
    "fanout_noop": ("cards/s, submit→done", "cards/s", True,
                    [USERS, DEFAULT, "dask", MEMORY_STORE, POSTGRES_STORE, METRICS_ON, MUTUAL_TLS]),
    "fanout_runtime": ("cards/s, submit→done, stacks made at run time", "cards/s", True,
                       [USERS, DEFAULT]),
    "chain_hop": ("µs per cross-node hop, p50", "µs", False,
                  [USERS, DEFAULT, GRPC_FLOOR, "dask", MEMORY_STORE, METRICS_ON, MUTUAL_TLS]),
    "hop_rtt": ("µs per cross-node hop, p50, workers behind a 0.5 ms RTT link", "µs", False,
                [USERS, DEFAULT]),
    "fanin": ("ms last leaf finish→combine start", "ms", False, [USERS, DEFAULT, "dask"]),
    "shell": ("cards/s running `true`", "cards/s", True, [USERS, DEFAULT, "make -j2", "dask"]),
    "million": ("seconds, submit→done, from JSON", "s", False, [USERS, DEFAULT, "dask"]),
    "serial": ("ms per job p50, submit→done", "ms", False,
               [USERS, DEFAULT, "dask", MEMORY_STORE, POSTGRES_STORE, MUTUAL_TLS]),
    "serial_python": ("ms per job p50, submit→done, Python client (`submit(spec).wait()`)", "ms",
                      False, [USERS, DEFAULT, MEMORY_STORE, MUTUAL_TLS]),
    "cache_rerun": ("warm/cold time, submit→done, rerun of an unchanged all-`cache: true` "
                    "shell job", "×", False, [USERS, DEFAULT]),
    "cache_lookup": ("µs per card added by `cache: true` when every lookup misses", "µs", False,
                     [USERS, DEFAULT]),
    # The load generator alone is the cluster's workers: durable store and metrics, with a token.
    "scale": ("placements/s, N load-generator workers", "/s", True, [METRICS_ON]),
}
BASELINES = {GRPC_FLOOR, "dask", "make -j2"}


def fmt(v, unit=""):
    if v is None:
        return "—"
    if unit in ("cards/s", "/s", "B"):
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}" if abs(v) >= 0.01 else f"{v:.2g}"


def with_unit(v, unit):
    if v is None:
        return "—"
    return f"{fmt(v, unit)}{'' if unit == '×' else ' '}{unit}"


class Unmeasured(Exception):
    """A target's value or baseline is missing from the run; the message says why."""


def medians(results):
    """med(workload, system, key): the median of a key over a row's successful runs (None if
    none); need(...): the same, or Unmeasured saying why it is missing."""
    runs = results["runs"]

    def values(w, system, key):
        return [r[key] for r in runs.get(w, {}).get(system, [])
                if r.get("ok") and r.get(key) is not None]

    def med(w, system, key="value"):
        v = values(w, system, key)
        return statistics.median(v) if v else None

    def need(w, system, key="value"):
        v = med(w, system, key)
        if v is not None:
            return v
        rs = runs.get(w, {}).get(system)
        if not rs:
            why = {"dask": "Dask did not run (not installed, --no-peers or --smoke)",
                   "make -j2": "make did not run (not installed, --no-peers or --smoke)"}
            raise Unmeasured(why.get(system, f"{system} did not run {w}"))
        for r in rs:
            if r.get("not_run"):
                raise Unmeasured(f"not run: {r['not_run']}")
        errors = [r["error"] for r in rs if r.get("error")]
        raise Unmeasured(f"{system} failed: {errors[0][:300]}" if errors else
                         f"{system} gave no {key}")
    return med, need


def target_check(results, w, i, system):
    """Issue 30's target I of workload W evaluated on SYSTEM's row: a dict with value, unit,
    baseline (label, value), ratio (text), met, note, and whether the value is the row's main
    metric. Raises Unmeasured."""
    med, need = medians(results)
    n = med(w, system, "n")
    out = {"main": False, "note": "", "baseline": None, "baseline_value": None, "ratio": None}

    def ratio(v, b):
        return v / b if b else None

    if w == "chain_hop" and i in (0, 1):
        h, f = need(w, system), need(w, GRPC_FLOOR)
        r = ratio(h, f)
        limit = 1.5 if i == 0 else 1.7
        out.update(value=h, unit="µs", baseline="bare gRPC round trip, inline p50",
                   baseline_value=f, ratio=f"{r:.2f}×", met=r <= limit, main=True)
    elif w == "chain_hop":
        p99, p50 = need(w, system, "p99_us"), need(w, system)
        r = p99 / p50
        out.update(value=p99, unit="µs (p99)", baseline="its p50", baseline_value=p50,
                   ratio=f"{r:.2f}×", met=r <= 3)
    elif w == "fanout_noop" and i == 0:
        h = need(w, system)
        out.update(value=h, unit="cards/s", met=h >= 100_000, main=True)
    elif w == "fanout_noop":
        h, d = need(w, system), need(w, "dask")
        r = h / d
        out.update(value=h, unit="cards/s", baseline="Dask", baseline_value=d, ratio=f"{r:,.0f}×",
                   met=r >= 150, main=True)
        dn = med(w, "dask", "n")
        if dn is not None and n is not None and dn < n:
            out["note"] = f"Dask's rate from {dn:,.0f} tasks"
    elif w == "fanin":
        h = need(w, system)
        out.update(value=h, unit="ms", met=h <= 10, main=True)
        if n is not None and n != FULL["fanin"]["stacks"]:
            out["note"] = f"{n:,.0f} leaves, not 10,000"
    elif w == "shell":
        h, m = need(w, system), need(w, "make -j2")
        r = h / m
        out.update(value=h, unit="cards/s", baseline="make -j2", baseline_value=m,
                   ratio=f"{r:.2f}×", met=r >= 1.0, main=True)
    elif w == "million" and i in (0, 1):
        s = need(w, system, "value" if i == 0 else "yaml_s")
        full = s * 1_000_000 / n if n else s
        out.update(value=full, unit="s", met=full <= (3 if i == 0 else 6), main=i == 0)
        if n != 1_000_000:
            out["note"] = f"measured {s:.2f} s for {n:,.0f} cards, scaled linearly"
    elif w == "million":
        j, y = need(w, system, "peak_rss_per_card_bytes"), need(w, system,
                                                              "yaml_peak_rss_per_card_bytes")
        out.update(value=max(j, y), unit="B/card", met=max(j, y) <= 500,
                   note=f"JSON {j:,.0f}, YAML {y:,.0f} B/card peak; above idle JSON "
                        f"{fmt(med(w, system, 'rss_per_card_bytes'), 'B')}, YAML "
                        f"{fmt(med(w, system, 'yaml_rss_per_card_bytes'), 'B')} B/card"
                        + (f"; {n:,.0f} cards" if n != 1_000_000 else ""))
    elif w == "serial" and i == 0:
        h = need(w, system)
        out.update(value=h, unit="ms", met=h <= 0.5, main=True)
    elif w == "serial":
        h = need(w, system, "p99_ms")
        out.update(value=h, unit="ms (p99)", met=h <= 2)
    elif w == "hop_rtt":
        h, rtt = need(w, system), need(w, system, "rtt_p50_us")
        out.update(value=h, unit="µs", baseline="the link's RTT p50, same path", baseline_value=rtt,
                   ratio=f"RTT {h - rtt:+,.0f} µs", met=h <= rtt + 100, main=True)
    elif w == "scale" and i == 0:
        v, b = need(w, system), need(w, system, "base_value")
        r = v / b
        out.update(value=v, unit="placements/s", baseline=f"{SCALE_BASE_WORKERS} workers",
                   baseline_value=b, ratio=f"{r:.2f}×", met=r >= 0.5, main=True)
        out["note"] = (f"{fmt(med(w, system, 'workers'), 'B')} workers "
                       f"({fmt(med(w, system, 'workers_per_channel'), 'B')} per TCP connection), "
                       f"{fmt(n, 'B')} stacks")
    elif w == "scale" and i in (1, 2):
        key = "release_p50_us" if i == 1 else "release_p99_us"
        v, b = need(w, system, key), need(w, system, "base_" + key)
        r = v / b
        out.update(value=v, unit="µs", baseline=f"{SCALE_BASE_WORKERS} workers", baseline_value=b,
                   ratio=f"{r:.2f}×", met=r <= 2)
    elif w == "scale":
        need(w, system)
        runs = [r for r in results["runs"][w][system] if r.get("ok")]
        expired = sum(r.get("lease_expired") or 0 for r in runs)
        out.update(value=expired, unit="leases expired", met=expired == 0)
    else:
        raise Unmeasured(f"no check for target {i} of {w}")
    return out


def evaluate_targets(results):
    """Every target of the workloads run, on the row it is checked on (checked=True), and on the
    default row too where the users' configuration is the checked one (checked=False: shown for
    comparison). hop_rtt is checked on the users' row when it ran over the link, else on the
    default (the row says so)."""
    verdicts = []
    med, _ = medians(results)
    for w in results["workloads"]:
        for i, (system, target) in enumerate(TARGETS.get(w, [])):
            rows = [(system, True)]
            if w == "hop_rtt" and med(w, USERS) is None and med(w, DEFAULT) is not None:
                rows = [(USERS, False), (DEFAULT, True)]
            elif (system == USERS and DEFAULT in METRICS[w][3]
                  and not (w == "chain_hop" and i == 1)):  # the default has its own 1.5x
                rows.append((DEFAULT, False))
            for row, checked in rows:
                v = {"workload": w, "system": row, "target": target, "checked": checked}
                try:
                    v.update(target_check(results, w, i, row))
                    v["status"] = "met" if v["met"] else "missed"
                except Unmeasured as e:
                    v.update(status="not measured", met=False, why=str(e))
                if w == "hop_rtt" and row == DEFAULT and checked:
                    v["note"] = ("the users' configuration did not run over the link; checked on "
                                 "the default. " + v.get("note", "")).strip()
                verdicts.append(v)
    return verdicts


def build_table(results, verdicts):
    """Every row of every workload: workload, row, value, baseline, ratio, target, verdict."""
    med, _ = medians(results)
    rows = []
    for w in results["workloads"]:
        metric, unit, higher, systems = METRICS[w]
        runs = results["runs"][w]
        default = med(w, DEFAULT)
        for system in systems:
            if system not in runs:
                continue
            rs = runs[system]
            stats = summarize([r.get("value") for r in rs if r.get("ok")])
            value = (f"{with_unit(stats['median'], unit)} ({fmt(stats['min'], unit)}–"
                     f"{fmt(stats['max'], unit)})" if stats else None)
            if value is None:
                not_run = next((r["not_run"] for r in rs if r.get("not_run")), None)
                error = next((r["error"] for r in rs if r.get("error")), "failed")
                value = f"not run: {not_run}" if not_run else f"failed: {error[:160]}"
            mine = [v for v in verdicts if v["workload"] == w and v["system"] == system]
            if mine and not stats:
                value = "not run" if value.startswith("not run") else "failed"  # why: in met?
            for v in mine:
                if v["status"] == "not measured":
                    verdict = f"not measured: {v['why'][:200]}"
                    rows.append({"workload": w, "system": system, "value": value,
                                 "baseline": "—", "ratio": "—", "target": v["target"],
                                 "verdict": verdict if v["checked"] else f"({verdict})",
                                 "checked": v["checked"], "status": v["status"], "note": ""})
                    continue
                shown = (value if v["main"] and stats and v["value"] == stats["median"]
                         else f"{fmt(v['value'], unit)} {v['unit']}")
                base = (f"{v['baseline']}: {fmt(v['baseline_value'], unit)}"
                        if v["baseline"] else "—")
                status = "met" if v["met"] else "**missed**"
                rows.append({"workload": w, "system": system, "value": shown, "baseline": base,
                             "ratio": v["ratio"] or "—", "target": v["target"],
                             "verdict": status if v["checked"] else f"({v['status']})",
                             "checked": v["checked"], "status": v["status"], "note": v["note"]})
            if mine:
                continue
            base, ratio, target = "—", "—", "—"
            if system in BASELINES:
                target = "(baseline)" if system == GRPC_FLOOR else "(peer)"
                cap = next((r for r in rs if r.get("ok") and r.get("capped")), None)
                if cap:
                    target += f" n={cap['n']:,}" + (", extrapolated" if cap.get("extrapolated")
                                                    else ", rate from the capped run")
            elif system != DEFAULT and stats and default:
                base, ratio = (f"{DEFAULT}: {fmt(default, unit)}",
                               f"{stats['median'] / default:.2f}×")
            rows.append({"workload": w, "system": system, "value": value, "baseline": base,
                         "ratio": ratio, "target": target, "verdict": "—", "checked": False,
                         "status": None, "note": ""})
    return rows


def render_table(rows, metrics_of):
    lines = ["| workload | row | value (median, min–max) | baseline | ratio | target | met? |",
             "|---|---|---|---|---|---|---|"]
    last = None
    for r in rows:
        w = r["workload"] if r["workload"] != last else ""
        if w:
            w = f"{w} ({metrics_of[w]})"
        last = r["workload"]
        note = f" — {r['note']}" if r["note"] else ""
        lines.append(f"| {w} | {r['system']} | {r['value']}{note} | {r['baseline']} | "
                     f"{r['ratio']} | {r['target']} | {r['verdict']} |")
    lines.append("")
    lines.append("met?: issue 30's targets are checked on the row they name (the users' "
                 f"configuration, `{USERS}`, except chain_hop's plaintext 1.5× on `{DEFAULT}`); "
                 "(met)/(missed) in parentheses: the same target on another row, shown for "
                 "comparison, not checked.")
    return "\n".join(lines)


def extra_lines(results):
    """Secondary figures per workload (medians over the runs of each Hollerith row)."""
    out = []
    runs = results["runs"]
    med, _ = medians(results)

    def hollerith_rows(w):
        return [s for s in (USERS, DEFAULT) if med(w, s) is not None]

    if "fanout_runtime" in runs:
        for s in hollerith_rows("fanout_runtime"):
            out.append(f"fanout_runtime on {s}: written out, the same fan-out ran at "
                       f"{fmt(med('fanout_runtime', s, 'written_cards_s'), 'cards/s')} cards/s; "
                       f"made at run time / written out = "
                       f"{fmt(med('fanout_runtime', s, 'ratio_to_written'))}×")
    if "chain_hop" in runs:
        for s in hollerith_rows("chain_hop"):
            out.append(f"chain_hop on {s}: p99 {fmt(med('chain_hop', s, 'p99_us'))} µs, mean "
                       f"{fmt(med('chain_hop', s, 'mean_us'))} µs; p50 split at the coordinator's "
                       f"release: finish→release {fmt(med('chain_hop', s, 'up_p50_us'))} µs, "
                       f"release→start {fmt(med('chain_hop', s, 'down_p50_us'))} µs; "
                       f"{fmt(med('chain_hop', s, 'wakeups_per_hop'))} thread wake-ups per hop "
                       f"(voluntary context switches of the coordinator and both workers)")
        if med("chain_hop", GRPC_FLOOR) is not None:
            out.append(f"chain_hop: bare gRPC round trip p50 inline "
                       f"{fmt(med('chain_hop', GRPC_FLOOR))} µs (p99 "
                       f"{fmt(med('chain_hop', GRPC_FLOOR, 'p99_us'))}), through an asio loop on "
                       f"each side {fmt(med('chain_hop', GRPC_FLOOR, 'handoff_p50_us'))} µs"
                       + (f"; Dask p99 {fmt(med('chain_hop', 'dask', 'p99_us'))} µs"
                          if med("chain_hop", "dask") is not None else ""))
    if "hop_rtt" in runs:
        for s in hollerith_rows("hop_rtt"):
            out.append(f"hop_rtt on {s}: hop p50 {fmt(med('hop_rtt', s))} µs, p99 "
                       f"{fmt(med('hop_rtt', s, 'p99_us'))} µs; the link's RTT p50 "
                       f"{fmt(med('hop_rtt', s, 'rtt_p50_us'))} µs (p99 "
                       f"{fmt(med('hop_rtt', s, 'rtt_p99_us'))}), measured before and after the "
                       f"job over the same path; finish→release "
                       f"{fmt(med('hop_rtt', s, 'up_p50_us'))} µs, release→start "
                       f"{fmt(med('hop_rtt', s, 'down_p50_us'))} µs")
        for s in (USERS, DEFAULT):
            nr = next((r["not_run"] for r in runs["hop_rtt"].get(s, []) if r.get("not_run")), None)
            if nr:
                out.append(f"hop_rtt on {s}: NOT RUN: {nr}")
    if "fanin" in runs:
        for s in hollerith_rows("fanin"):
            out.append(f"fanin on {s}: total {fmt(med('fanin', s, 'total_s'))} s for "
                       f"{fmt(med('fanin', s, 'n'), 'cards/s')} stacks")
        if med("fanin", "dask") is not None:
            out.append(f"fanin on Dask: total {fmt(med('fanin', 'dask', 'total_s'))} s for "
                       f"{fmt(med('fanin', 'dask', 'n'), 'cards/s')} tasks")
    if "million" in runs:
        for s in hollerith_rows("million"):
            n = med("million", s, "n")
            peak, idle = med("million", s, "peak_rss_bytes"), med("million", s, "idle_rss_bytes")
            ypeak = med("million", s, "yaml_peak_rss_bytes")
            out.append(f"million on {s}: {fmt(n, 'cards/s')} cards; JSON {fmt(med('million', s))} s "
                       f"(submit {fmt(med('million', s, 'submit_s'))} s), YAML "
                       f"{fmt(med('million', s, 'yaml_s'))} s (submit "
                       f"{fmt(med('million', s, 'yaml_submit_s'))} s); coordinator peak RSS JSON "
                       f"{peak / 2**20:,.0f} MiB, YAML {(ypeak or 0) / 2**20:,.0f} MiB (idle "
                       f"{idle / 2**20:,.0f} MiB): per card in all JSON "
                       f"{fmt(med('million', s, 'peak_rss_per_card_bytes'), 'B')} B, YAML "
                       f"{fmt(med('million', s, 'yaml_peak_rss_per_card_bytes'), 'B')} B; above "
                       f"idle JSON {fmt(med('million', s, 'rss_per_card_bytes'), 'B')} B, YAML "
                       f"{fmt(med('million', s, 'yaml_rss_per_card_bytes'), 'B')} B")
    if "serial" in runs:
        for s in hollerith_rows("serial"):
            out.append(f"serial on {s}: p99 {fmt(med('serial', s, 'p99_ms'))} ms, mean "
                       f"{fmt(med('serial', s, 'mean_ms'))} ms, accepted after p50 "
                       f"{fmt(med('serial', s, 'submit_p50_ms'))} ms")
    for system in runs.get("serial_python", {}):
        if med("serial_python", system, "n") is not None:
            out.append(f"serial_python on {system}: Python p50 "
                       f"{fmt(med('serial_python', system))} ms (p99 "
                       f"{fmt(med('serial_python', system, 'p99_ms'))}), C++ driver p50 "
                       f"{fmt(med('serial_python', system, 'cpp_p50_ms'))} ms (p99 "
                       f"{fmt(med('serial_python', system, 'cpp_p99_ms'))}): Python/C++ = "
                       f"{fmt(med('serial_python', system, 'ratio_to_cpp'))}× (alternating, "
                       f"same cluster)")
    if "cache_rerun" in runs:
        for s in hollerith_rows("cache_rerun"):
            out.append(f"cache_rerun on {s}: {fmt(med('cache_rerun', s, 'n'), 'cards/s')} cards, "
                       f"cold {fmt(med('cache_rerun', s, 'cold_s'))} s, warm (every card a hit, "
                       f"checked) {fmt(med('cache_rerun', s, 'warm_s'))} s; with one project "
                       f"card's command changed, {fmt(med('cache_rerun', s, 'edit_ran'), 'B')} "
                       f"cards ran (expected {fmt(med('cache_rerun', s, 'edit_expected'), 'B')}) "
                       f"in {fmt(med('cache_rerun', s, 'edit_s'))} s")
    if "cache_lookup" in runs:
        for s in hollerith_rows("cache_lookup"):
            out.append(f"cache_lookup on {s}: {fmt(med('cache_lookup', s, 'n'), 'B')} no-op stacks, "
                       f"`cache: true` with every lookup a miss "
                       f"{fmt(med('cache_lookup', s, 'cards_s_on'), 'cards/s')} cards/s, without "
                       f"{fmt(med('cache_lookup', s, 'cards_s_off'), 'cards/s')} cards/s")
    if "scale" in runs:
        for s in [s for s in (USERS, METRICS_ON, DEFAULT) if med("scale", s) is not None]:
            out.append(f"scale on {s}: {fmt(med('scale', s, 'workers'), 'B')} workers, "
                       f"{fmt(med('scale', s, 'stacks'), 'B')} stacks: "
                       f"{fmt(med('scale', s), '/s')} placements/s, release p50/p99 "
                       f"{fmt(med('scale', s, 'release_p50_us'))}/"
                       f"{fmt(med('scale', s, 'release_p99_us'))} µs; with "
                       f"{SCALE_BASE_WORKERS} workers {fmt(med('scale', s, 'base_value'), '/s')} "
                       f"placements/s, {fmt(med('scale', s, 'base_release_p50_us'))}/"
                       f"{fmt(med('scale', s, 'base_release_p99_us'))} µs; coordinator "
                       f"{fmt(med('scale', s, 'bytes_per_worker'), 'B')} B per worker, "
                       f"{fmt(med('scale', s, 'bytes_per_stack'), 'B')} B per stack; leases "
                       f"expired: {sum(r.get('lease_expired') or 0 for r in runs['scale'][s] if r.get('ok'))}")
    scrapes = {}
    for w in results["workloads"]:
        for r in runs.get(w, {}).get(USERS, []):
            for k in ("ok", "failed"):
                scrapes[k] = scrapes.get(k, 0) + ((r.get("scrapes") or {}).get(k) or 0)
    if scrapes:
        out.append(f"{USERS}: {scrapes['ok']:,} metrics scrapes succeeded, {scrapes['failed']:,} "
                   f"failed (every daemon, every second)")
    cpu = []
    for w in results["workloads"]:
        vals = [(r["usage"]["coordinator_cpu_s"], r["usage"]["workers_cpu_s"])
                for r in runs.get(w, {}).get(USERS, []) if r.get("ok") and r.get("usage")]
        if vals:
            cpu.append(f"{w} {statistics.median(v[0] for v in vals):.1f}/"
                       f"{statistics.median(v[1] for v in vals):.1f}")
    if cpu:
        out.append(f"CPU s coordinator/workers per run of {USERS} (incl. start-up): "
                   + ", ".join(cpu))
    return out
