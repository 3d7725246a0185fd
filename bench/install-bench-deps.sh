#!/bin/sh
# Installs the benchmark peers and the chart library from Debian's packages (run as root):
# Dask distributed (the peer for the DAG workloads), matplotlib (the PNG chart), GNU make (the peer
# for the shell workload) and Google Benchmark (hollerith-core-bench).
# The smoke mode of bench/run_bench.py needs none of them.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3-distributed python3-matplotlib make libbenchmark-dev \
  postgresql  # the `hollerith --store postgres` rows: a server the run starts (bench/postgres_server.py)
