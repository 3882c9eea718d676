#!/usr/bin/env bash
# Checkpoint cost, small MLP [784,128,10] and large MLP [784,1024,256,10] (and, asked for, tiny [32,64,8]):
# direct cost (this JVM, embedded PostgreSQL) of a snapshot (state copy, encode + SHA-256 in one
# pass, CheckpointStore.write) and of incremental mode's gradient log (CheckpointStore.writeGradients
# of one round and of a batch), torch.save of a same-size model for reference, and the
# training-time overhead on a local cluster (2 node JVMs x 1 worker + embedded PostgreSQL) of
# none / snapshot every 50 / snapshot every 10 / incremental every 50, interleaved:
#   bench/run-checkpoint.sh [--repeats R] [--small-rounds N] [--large-rounds N] [--tiny-rounds N]
#       [--warmup-small-rounds W] [--warmup-large-rounds W] [--warmup-tiny-rounds W] [--direct-reps N]
#       [--direct-warmup N] [--gradient-batch B] [--optimizer sgd|adam] [--no-direct]
#       [--no-cluster] [--no-torch] [--models small,large,tiny] [--checkpoint-directory]
# (--checkpoint-directory: the cluster writes checkpoints as files, anvil.checkpoint.directory)
# ANVIL_BENCH_SNAPSHOT=1 runs from a private copy of the jars (see run-cluster-bench.sh).
exec "$(dirname "${BASH_SOURCE[0]}")/run-cluster-bench.sh" CheckpointBench run-checkpoint "$@"
