#!/usr/bin/env bash
# Anvil's local trainer vs PyTorch single process, side by side:
#   bench/run-local-throughput.sh [--model small|large] [--epochs E] [--repeats R]
#       [--warmup-epochs W] [--kernels native|java|native,java]
#       [--torch 1core|blasfree|1core,blasfree]
# Small (784-128-10, the default) runs kernels native and java against PyTorch on one core; large
# (784-1024-1024-10) runs kernel native against PyTorch on one core and with OpenBLAS on every core.
# Builds the bench module when it is missing or the sources changed since the last build, then runs
# LocalThroughputBench with OPENBLAS_NUM_THREADS=1 (shards are computed single-threaded;
# OpenBLAS must not start threads of its own).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/bench/target/anvil-bench-0.1.0-SNAPSHOT.jar"
STAMP="$ROOT/bench/target/bench.stamp"

if [ ! -f "$JAR" ] || [ ! -f "$STAMP" ] || [ -n "$(find "$ROOT/pom.xml" "$ROOT"/core/pom.xml \
    "$ROOT"/core/src/main "$ROOT"/bench/pom.xml "$ROOT"/bench/src/main \
    -newer "$STAMP" -print -quit 2>/dev/null)" ]; then
  echo "run-local-throughput: building the bench module..." >&2
  (cd "$ROOT" && ./mvnw -q -B -DskipTests -pl bench -am package) >&2
  touch "$STAMP"
fi

cd "$ROOT"
export OPENBLAS_NUM_THREADS=1
exec java ${ANVIL_JAVA_OPTS:-} -cp "bench/target/anvil-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*" \
  dev.anvil.bench.LocalThroughputBench "$@"
