#!/usr/bin/env bash
# Recovery after SIGKILL: Anvil's kill-to-next-committed-round for a worker node and for the
# coordinator's node (3 node JVMs x 1 worker + embedded PostgreSQL), next to TorchElastic's
# kill-to-first-step-after-restart from ../shared/peers/pytorch/chaos_run.py:
#   bench/run-recovery.sh [--runs N] [--torch-runs N]
# ANVIL_BENCH_SNAPSHOT=1 runs from a private copy of the jars (see run-cluster-bench.sh).
exec "$(dirname "${BASH_SOURCE[0]}")/run-cluster-bench.sh" RecoveryBench run-recovery "$@"
