#!/usr/bin/python3
"""The `serial` mode of hollerith-serial-driver (bench/serial_driver.cc), written with the Python
client: N one-card noop jobs one after the other, each `client.submit(spec).wait()` before the
next, over one client (one gRPC channel). Same flags, same spec, same warm-up and the same JSON on
stdout, so bench/run_bench.py reads both alike; errors go to stderr with exit code 1.

  PYTHONPATH=BUILD/python /usr/bin/python3 bench/python_serial_driver.py \
      --coordinator HOST:PORT --token-file FILE serial --jobs 1000 --warmup 10

A job's time runs from just before submit() to wait()'s return: the C++ driver stops when the
watch stream delivers job_finished; wait() then also reads the job's result (one GetJob).
"""

import argparse
import json
import secrets
import sys
import time

import hollerith

from run_bench import percentile  # the harness's, the same interpolation as the C++ driver's

# serial_driver.cc's spec, byte for byte.
SPEC = '{"name": "serial", "stacks": {"A": {"cards": [{"id": "c0", "builtin": "noop"}]}}}'


def summary(us):
    return {"n": len(us), "p50_us": percentile(us, 50), "p90_us": percentile(us, 90),
            "p99_us": percentile(us, 99), "min_us": min(us, default=0),
            "max_us": max(us, default=0), "mean_us": sum(us) / len(us) if us else 0}


def serial(client, jobs, warmup):
    total, submit = [], []
    t_start = time.perf_counter()
    for i in range(warmup + jobs):
        t0 = time.perf_counter()
        try:
            job = client.submit(SPEC, key=secrets.token_hex(16))  # a fresh key, as the C++ one
            t1 = time.perf_counter()
            job.wait(progress=False, check=True)
        except hollerith.HollerithError as e:
            print(f"serial job {i}: {e}", file=sys.stderr)
            return 1
        t2 = time.perf_counter()
        if i < warmup:
            continue
        total.append((t2 - t0) * 1e6)
        submit.append((t1 - t0) * 1e6)
    print(json.dumps({"ok": True, "jobs": jobs, "warmup": warmup,
                      "wall_s": time.perf_counter() - t_start, "job": summary(total),
                      "submit": summary(submit)}), flush=True)
    return 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--coordinator", required=True, help="host:port")
    p.add_argument("--token-file", help="the coordinator's token file (without TLS)")
    p.add_argument("--tls-ca", help="CA bundle: with --tls-cert and --tls-key, mutual TLS")
    p.add_argument("--tls-cert", help="client certificate (role client)")
    p.add_argument("--tls-key", help="its key")
    modes = p.add_subparsers(dest="mode", required=True)
    s = modes.add_parser("serial", help="N one-card jobs, one after the other")
    s.add_argument("--jobs", type=int, default=1000, help="measured jobs")
    s.add_argument("--warmup", type=int, default=10, help="jobs run first and not counted")
    args = p.parse_args(argv)
    try:
        client = hollerith.Client(args.coordinator, token_file=args.token_file,
                                  tls_ca=args.tls_ca, tls_cert=args.tls_cert, tls_key=args.tls_key)
    except hollerith.HollerithError as e:
        print(e, file=sys.stderr)
        return 1
    with client:
        return serial(client, args.jobs, args.warmup)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
