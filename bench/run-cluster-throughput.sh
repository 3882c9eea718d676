#!/usr/bin/env bash
# Anvil on a local cluster (2 node JVMs x 1 worker + embedded PostgreSQL) vs PyTorch DDP (gloo,
# 2 processes x 1 core), with Anvil's single-process reference trainer for the efficiency figure:
#   bench/run-cluster-throughput.sh [--repeats R] [--small-epochs E] [--large-rounds N]
#       [--warmup-small-rounds W] [--warmup-large-rounds W] [--no-ddp] [--tls]
# ANVIL_BENCH_SNAPSHOT=1 runs from a private copy of the jars (see run-cluster-bench.sh).
exec "$(dirname "${BASH_SOURCE[0]}")/run-cluster-bench.sh" ClusterThroughputBench run-cluster-throughput "$@"
