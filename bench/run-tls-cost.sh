#!/usr/bin/env bash
# What mutual TLS between the members costs a round: a TLS and a plain-TCP local cluster (2 node
# JVMs x 1 worker each) run the cluster benchmark's small and large jobs, interleaved:
#   bench/run-tls-cost.sh [--repeats R (5)] [--small-epochs E (2)] [--large-rounds N (150)]
# Needs Fashion-MNIST (apt-get install dataset-fashion-mnist) and native BLAS.
exec "$(dirname "${BASH_SOURCE[0]}")/run-cluster-bench.sh" TlsCostBench run-tls-cost "$@"
