#!/usr/bin/env bash
# Runs a bench main class that uses LocalCluster: bench/run-cluster-bench.sh CLASS NAME [ARGS...]
# (used by run-cluster-throughput.sh and run-recovery.sh).
# Builds the bench module (and the modules it depends on) when it is missing or the sources
# changed since the last build, then runs dev.anvil.bench.CLASS with OPENBLAS_NUM_THREADS=1.
# LocalCluster launches the node JVMs with this JVM's classpath, so it must be the bench jar plus
# bench/target/lib/*. ANVIL_BENCH_SNAPSHOT=1 runs from a private copy of those jars, so that a
# rebuild during the run cannot disturb it.
set -euo pipefail

MAIN="$1"
NAME="$2"
shift 2

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/bench/target/anvil-bench-0.1.0-SNAPSHOT.jar"
STAMP="$ROOT/bench/target/bench.stamp"

SOURCES=("$ROOT/pom.xml" "$ROOT/bench/pom.xml" "$ROOT/bench/src/main")
for module in core worker coordinator persistence runtime; do
  SOURCES+=("$ROOT/$module/pom.xml" "$ROOT/$module/src/main")
done

if [ ! -f "$JAR" ] || [ ! -f "$STAMP" ] || [ ! -f "$ROOT/bench/target/lib/anvil-runtime-0.1.0-SNAPSHOT.jar" ] \
    || [ -n "$(find "${SOURCES[@]}" -newer "$STAMP" -print -quit 2>/dev/null)" ]; then
  echo "$NAME: building the bench module..." >&2
  (cd "$ROOT" && ./mvnw -q -B -DskipTests -pl bench -am package) >&2
  touch "$STAMP"
fi

cd "$ROOT"
export OPENBLAS_NUM_THREADS=1
CP="bench/target/anvil-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*"
if [ "${ANVIL_BENCH_SNAPSHOT:-0}" = 1 ]; then
  # A build during the run (e.g. another checkout user's `mvnw package`) rewrites the jars under
  # the running JVMs and can end the run: run from a private copy of the classpath instead.
  SNAP="$(mktemp -d /tmp/anvil-bench-classpath.XXXXXX)"
  trap 'rm -rf "$SNAP"' EXIT
  cp bench/target/anvil-bench-0.1.0-SNAPSHOT.jar "$SNAP/" && cp -r bench/target/lib "$SNAP/lib"
  CP="$SNAP/anvil-bench-0.1.0-SNAPSHOT.jar:$SNAP/lib/*"
  echo "$NAME: classpath snapshot in $SNAP" >&2
  java ${ANVIL_JAVA_OPTS:-} -cp "$CP" "dev.anvil.bench.$MAIN" "$@"
  exit $?
fi
exec java ${ANVIL_JAVA_OPTS:-} -cp "$CP" "dev.anvil.bench.$MAIN" "$@"
