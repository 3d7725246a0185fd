#!/usr/bin/python3
"""Hollerith benchmark harness (issues 4 and 30): every workload against Hollerith, its baselines
and its peers, in the same run, and issue 30's targets checked on the users' configuration.

Hollerith runs as real processes: one coordinator and 2 workers on loopback (the default cluster of
`hollerith up`), started fresh for every measured run from this script (ports from 127.0.0.1:0,
temporary directories) and stopped by PID afterwards, also on errors and Ctrl-C. Jobs are submitted
and awaited by bench/serial_driver.cc (one gRPC channel, no CLI start-up per job); serial_python
runs bench/python_serial_driver.py (the Python client, from BIN_DIR/python) beside it. Clocks and
the trace are on, as always.

Rows of Hollerith, every one in the same run, alternating:
  "hollerith durable+mTLS+metrics"  the users' configuration, where issue 30's targets are checked:
                                    the default SQLite store, mutual TLS (`hollerith certs`), and
                                    --metrics-listen on all daemons, each scraped every second
  "hollerith"                       the default: SQLite store, plaintext loopback with a token
  "hollerith --store memory", "hollerith --metrics-listen", "hollerith mTLS",
  "hollerith --store postgres"      one setting changed each (--no-*-peer skips one); postgres on a
                                    PostgreSQL 15 server this script starts and always stops
                                    (bench/postgres_server.py), an empty database per cluster

Baselines and peers, in the same run: the bare gRPC bidi round trip (BIN_DIR/bench/
hollerith-grpc-floor, "inline": answered inside the reaction) for chain_hop; the link's own
measured round trip for hop_rtt (workers in network namespaces behind a delaying proxy,
bench/rtt_link.py; needs root); the same load tool with 3 workers for scale (bench/scale_load.py);
Dask distributed (LocalCluster(n_workers=2, threads_per_worker=1, processes=True), fresh for every
run) with the same DAG shapes as Python tasks; GNU `make -j2` for the shell workload. Where Dask
cannot finish the full size in reasonable time its size is capped (--dask-max-tasks etc.) and its
per-task figure is taken from the smaller run; the table says so.

Every row is printed with its baseline, ratio and target (medians over --reps); `--check` exits 1
when a target of the workloads run is missed or could not be measured.

  /usr/bin/python3 bench/run_bench.py --bin-dir build --check           # everything, issue sizes
  /usr/bin/python3 bench/run_bench.py --bin-dir build --scale 0.3       # smaller
  /usr/bin/python3 bench/run_bench.py --bin-dir build --smoke           # seconds; the CTest test

Writes bench/results/latest.json (every run's raw numbers), latest.md (the table) and latest.png.
Needs python3-distributed and python3-matplotlib (bench/install-bench-deps.sh) except in --smoke.
"""

import argparse
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import time

from postgres_server import PostgresError, PostgresServer, missing_binaries

# The harness's parts; their names are re-exported here (other scripts import them from run_bench).
from bench_common import (  # noqa: F401
    DEFAULT, GRPC_FLOOR, HERE, HOLLERITH_ROWS, MEMORY_STORE, METRICS_ON, MUTUAL_TLS, POSTGRES_STORE,
    PYTHON, REPO, USERS, BenchError, NotRun, log)
from bench_sizes import FULL, SCALE_BASE_WORKERS, SMOKE, WORKLOADS, sizes_for  # noqa: F401
from bench_cluster import (  # noqa: F401
    SCRAPE_LOOP, HollerithCluster, proc_cpu_s, proc_status, raise_nofile, stop_pid)
from bench_specs import (  # noqa: F401
    NOOP, downstream, spec_chain, spec_fanin, spec_fanout, spec_fanout_runtime, spec_million,
    spec_million_yaml, spec_montage, spec_shell)
from bench_stats import (  # noqa: F401
    cpu_idle_fraction, fanin_gap_from_trace, hops_from_trace, load_trace_cards, percentile,
    scale_bytes, settle, summarize)
from bench_hollerith import Hollerith
from bench_peers import Dask, GrpcFloor, Make  # noqa: F401
from bench_targets import (  # noqa: F401
    BASELINES, METRICS, PEERS_OF_DEFAULT, TARGETS, Unmeasured, build_table, evaluate_targets,
    extra_lines, fmt, medians, render_table, target_check, with_unit)


def draw_chart(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    workloads = [w for w in results["workloads"] if results["runs"].get(w)]
    if not workloads:
        return
    fig, axes = plt.subplots(1, len(workloads), figsize=(3.4 * len(workloads), 4.6), squeeze=False)
    for ax, w in zip(axes[0], workloads):
        labels, med, lo, hi = [], [], [], []
        for system in METRICS[w][3]:
            s = summarize([r.get("value") for r in results["runs"][w].get(system, [])
                           if r.get("ok")])
            if s is None:
                continue
            labels.append(system.replace("hollerith ", "").replace("durable+mTLS+metrics", "users'"))
            med.append(s["median"])
            lo.append(s["median"] - s["min"])
            hi.append(s["max"] - s["median"])
        ax.bar(range(len(labels)), med, yerr=[lo, hi], capsize=4,
               color=[("#d62728" if i == 0 else "#1f77b4") for i in range(len(labels))])
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=30, fontsize=7, ha="right")
        better = "higher" if METRICS[w][2] else "lower"
        ax.set_title(f"{w}\n{METRICS[w][1]} ({better} is better)", fontsize=9)
        if med and min(med) > 0 and max(med) / min(med) > 50:
            ax.set_yscale("log")
    fig.suptitle("Hollerith's rows, baselines and peers (median, min–max bars)", fontsize=10)
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
    p.add_argument("--check", action="store_true",
                   help="exit 1 when any of issue 30's targets of the workloads run is missed or "
                        "could not be measured (a row not run, a baseline missing: --no-peers "
                        "leaves Dask's and make's out), and say which and why")
    p.add_argument("--scale", type=float, default=1.0, help="sizes × this (1.0 = the issue's)")
    p.add_argument("--million-scale", type=float, help="scale of `million` alone (default --scale)")
    p.add_argument("--serial-jobs", type=int, help="jobs in `serial` (default 10,000 × --scale)")
    p.add_argument("--scale-workers", type=int,
                   help="load-generator workers in `scale` (default 10,000 × --scale)")
    p.add_argument("--scale-stacks", type=int,
                   help="stacks in flight in `scale` (default 100,000 × --scale)")
    p.add_argument("--rtt-us", type=int, default=500,
                   help="hop_rtt: the link's round-trip time, µs (needs root: network namespaces)")
    p.add_argument("--reps", type=int, default=3, help="repetitions of every workload and peer")
    p.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated subset")
    p.add_argument("--smoke", action="store_true",
                   help="tiny sizes, Hollerith's default and users' rows and the gRPC floor only "
                        "(unless --peers), 1 rep, targets shown but not checked (unless --check); "
                        "exit 1 if anything fails")
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
    not_run = []

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupted)  # before the PostgreSQL server: it is stopped too

    metrics_on = ["--metrics-listen", "127.0.0.1:0"]
    systems = {USERS: Hollerith(args, metrics_on, metrics_on, scrape_s=1.0, tls=True),
               DEFAULT: Hollerith(args)}
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
    # scale runs there (the load generator has one token, not a certificate per worker): also in
    # --smoke and with --no-metrics-peer when scale is asked for.
    if (not args.no_metrics_peer and not args.smoke) or "scale" in workloads:
        systems[METRICS_ON] = Hollerith(args, metrics_on, metrics_on, scrape_s=1.0)
    if not args.no_tls_peer and not args.smoke:
        systems[MUTUAL_TLS] = Hollerith(args, tls=True)
    if "chain_hop" in workloads:  # a baseline, not a peer: also in --smoke and with --no-peers
        try:
            systems[GRPC_FLOOR] = GrpcFloor(args)
        except BenchError as e:
            log(f"{e}: chain_hop has no baseline")
            failures.append(f"{GRPC_FLOOR}: {e}")
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
                order = [p for p in METRICS[w][3] if p in systems]
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
                    except NotRun as e:  # not a failure of the run; a target not measured
                        r = {"ok": False, "not_run": str(e)}
                        not_run.append(f"{w} on {name}: NOT RUN: {e}")
                    except BenchError as e:
                        r = {"ok": False, "error": str(e)}
                        failures.append(f"{w} on {name}: {e}")
                    except Exception as e:  # a peer's own failure must not lose the whole run
                        r = {"ok": False, "error": f"{type(e).__name__}: {e}"}
                        failures.append(f"{w} on {name}: {type(e).__name__}: {e}")
                    r["wall_s"] = time.monotonic() - t0
                    r["rep"] = rep
                    results["runs"][w].setdefault(name, []).append(r)
                    if r["ok"]:
                        shown = f"{fmt(r.get('value'), METRICS[w][1])} {METRICS[w][1]}"
                    elif r.get("not_run"):
                        shown = "NOT RUN: " + r["not_run"]
                    else:
                        shown = "FAILED " + r["error"][:300]
                    log(f"    → {shown} ({r['wall_s']:.1f} s)")
    except KeyboardInterrupt:
        log("interrupted: clusters stopped; writing what was measured")
        failures.append("interrupted")
    finally:
        for s in systems.values():
            s.close()
        if postgres:
            postgres.stop()
    results["elapsed_s"] = time.monotonic() - t_start

    verdicts = evaluate_targets(results)
    rows = build_table(results, verdicts)
    results["table"] = rows
    results["targets"] = verdicts
    results["failures"] = failures
    results["not_run"] = not_run
    table = render_table(rows, {w: METRICS[w][0] for w in METRICS})
    extras = extra_lines(results)
    header = (f"Hollerith benchmark, {results['date']}, {results['machine']['cpus']} cores "
              f"({results['machine']['cpu_model']}), reps {args.reps}, scale "
              f"{'smoke' if args.smoke else args.scale}; sizes {json.dumps(sizes)}")
    if args.smoke:
        header += ("\n\nSmoke: sizes far below the issue's; the targets are shown, not checked"
                   + (" (--check given: checked all the same)." if args.check else "."))
    text = header + "\n\n" + table + "\n\n" + "\n".join(f"- {x}" for x in extras) + "\n"
    checked = [v for v in verdicts if v["checked"]]
    missed = [v for v in checked if not v["met"]]
    untargeted = [w for w in TARGETS if w not in workloads]
    text += (f"\nTargets: {len(checked) - len(missed)} of {len(checked)} met"
             + (f"; not checked (not in --workloads): {', '.join(untargeted)}" if untargeted else "")
             + "\n")
    print(text)

    with open(os.path.join(out_dir, "latest.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    with open(os.path.join(out_dir, "latest.md"), "w") as f:
        f.write(text)
    try:
        draw_chart(results, os.path.join(out_dir, "latest.png"))
    except ImportError:
        if not args.smoke:
            log("matplotlib is not installed (bench/install-bench-deps.sh): no chart")
    log(f"results in {out_dir}/latest.json, latest.md" +
        (", latest.png" if os.path.exists(os.path.join(out_dir, "latest.png")) else ""))
    for line in not_run:
        log(line)
    status = 0
    if failures:
        log("FAILURES:\n  " + "\n  ".join(failures))
        status = 1
    if args.check and missed:
        log("TARGETS MISSED OR NOT MEASURED (--check):\n  " + "\n  ".join(
            f"{v['workload']} on {v['system']}: {v['target']} — "
            + (f"not measured: {v['why']}" if v["status"] == "not measured" else
               f"{fmt(v['value'])} {v['unit']}"
               + (f" vs {v['baseline']} {fmt(v['baseline_value'])}" if v["baseline"] else "")
               + (f" ({v['ratio']})" if v["ratio"] else "")
               + (f"; {v['note']}" if v["note"] else ""))
            for v in missed))
        status = 1
    elif args.check:
        log(f"--check: all {len(checked)} targets met")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
