"""Names every part of the benchmark harness (bench/run_bench.py) shares: paths, the Hollerith rows'
system names, log() and the harness's errors."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3"  # Debian's, with python3-grpcio: runs the Python client's driver

# The rows of Hollerith (system names in the results).
DEFAULT = "hollerith"
# The users' configuration (issue 30): the default durable SQLite store, mutual TLS, and metrics on
# every daemon scraped every second. Issue 30's targets are checked on this row.
USERS = "hollerith durable+mTLS+metrics"
# One setting changed from the default each, side by side in the same run:
# the coordinator's store in memory (`--store memory`): what durability costs;
MEMORY_STORE = "hollerith --store memory"
# the store on a real PostgreSQL 15 server (`--store postgres://...`) that this script starts for the
# run (bench/postgres_server.py; durability at its defaults, fsync and synchronous_commit on), an
# empty database for every cluster;
POSTGRES_STORE = "hollerith --store postgres"
# Prometheus metrics on (--metrics-listen on the coordinator and the workers, each scraped every
# second with the cluster's token);
METRICS_ON = "hollerith --metrics-listen"
# mutual TLS (certificates from `hollerith certs`) instead of plaintext and a token.
MUTUAL_TLS = "hollerith mTLS"
# Baselines measured in the same run (not peers: what Hollerith is compared with, not against).
GRPC_FLOOR = "grpc floor"  # bench/hollerith-grpc-floor, a bare gRPC bidi round trip
HOLLERITH_ROWS = [USERS, DEFAULT, MEMORY_STORE, POSTGRES_STORE, METRICS_ON, MUTUAL_TLS]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


class NotRun(BenchError):
    """A workload this machine cannot run (hop_rtt without root): not a failure of the run, but a
    target that was not measured."""
