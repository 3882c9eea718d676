#!/usr/bin/env bash
# The data plane's allreduce alone, over plain TCP and mutual TLS, both models' parameter counts:
#   bench/run-allreduce.sh [--workers W (2)] [--rounds N (200)] [--repeats R (5)]
exec "$(dirname "${BASH_SOURCE[0]}")/run-cluster-bench.sh" AllreduceBench run-allreduce "$@"
