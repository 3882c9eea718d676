#!/usr/bin/env bash
# Anvil's local trainer (native and java kernels) vs PyTorch single process, side by side:
#   bench/run-local-throughput.sh [--epochs E] [--repeats R]
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
