"""What a GetJob of a large running job costs the coordinator, with and without the result
document (JobRef.without_results, what `hollerith top` and the web view's cluster page ask for).

    /usr/bin/python3 bench/getjob_cost.py --bin-dir build [--stacks 100000] [--calls 10]

Starts the harness's cluster (bench_cluster.HollerithCluster: loopback, port 0, a temporary
directory) without workers: every stack of the one-card-stack job waits, so the job stays running, submits the job with the Python
client, then alternates the two calls. Prints the coordinator's CPU per call (/proc/PID/stat) and
each call's p50 as the client sees it.
"""
import argparse
import json
import os
import statistics
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin-dir", required=True, help="the build directory")
    p.add_argument("--stacks", type=int, default=100_000)
    p.add_argument("--calls", type=int, default=10, help="calls of each kind")
    args = p.parse_args()
    sys.path.insert(0, os.path.join(args.bin_dir, "python"))
    import hollerith  # noqa: E402 - the build's package
    from hollerith._proto import hollerith_pb2 as pb  # noqa: E402

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_cluster import HollerithCluster  # noqa: E402 - the harness's cluster

    cluster = HollerithCluster(args.bin_dir, workers=())  # no workers: every stack waits
    try:
        cluster.start()
        co = cluster.coordinator
        client = hollerith.Client(cluster.address, token_file=cluster.token_file)
        spec = {"name": "big", "stacks": {f"s{i}": {"cards": [{"id": "c", "builtin": "noop"}]}
                                          for i in range(args.stacks)}}
        spec_path = os.path.join(cluster.dir, "big.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        job = client.submit(spec_path)

        def cpu_s():
            with open(f"/proc/{co.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        wall = {False: [], True: []}
        cpu = {False: [], True: []}
        for _ in range(args.calls):
            for without in (False, True):
                ref = pb.JobRef(job=job.id, without_results=without)
                c0, t0 = cpu_s(), time.perf_counter()
                client._call("GetJob", ref, job=job.id)
                wall[without].append((time.perf_counter() - t0) * 1e3)
                cpu[without].append((cpu_s() - c0) * 1e3)
        print(f"GetJob of a running {args.stacks:,}-stack job, {args.calls} calls each, alternating: "
              f"coordinator CPU per call {statistics.mean(cpu[False]):.0f} ms with results, "
              f"{statistics.mean(cpu[True]):.0f} ms without; p50 at the client "
              f"{statistics.median(wall[False]):.1f} / {statistics.median(wall[True]):.1f} ms")
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
