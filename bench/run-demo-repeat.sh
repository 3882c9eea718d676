#!/usr/bin/env bash
# `./anvil demo` as a new user runs it, several times in a row, on a fresh clone of this
# repository's HEAD (nothing built, nothing cached in the clone):
#   bench/run-demo-repeat.sh [RUNS] [-- DEMO OPTIONS...]      (default 5 runs)
# Each run must exit 0, print both recoveries (a worker's node and the coordinator's node
# killed), both rejoins and equal hashes. Prints per run: exit code, seconds, the recovery lines,
# the rejoin times (restart to first round using the node's workers); then the medians.
# Output and each run's folder stay in $ANVIL_BENCH_OUT (default: a new folder under /tmp).
set -uo pipefail
runs=5
if [ $# -gt 0 ] && [ "$1" != "--" ]; then runs=$1; shift; fi
[ "${1:-}" = "--" ] && shift
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${ANVIL_BENCH_OUT:-$(mktemp -d /tmp/anvil-demo-repeat.XXXXXX)}"
mkdir -p "$out"
clone="$out/clone"
rm -rf "$clone"
git clone -q "$repo" "$clone" || exit 1
echo "fresh clone of $(git -C "$repo" rev-parse --short HEAD) in $clone; $runs runs of ./anvil demo $*"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
failed=0
: > "$out/rejoins-worker.txt"
: > "$out/rejoins-coordinator.txt"
: > "$out/seconds.txt"
for i in $(seq 1 "$runs"); do
  log="$out/run-$i.log"
  start=$(date +%s.%N)
  (cd "$clone" && ./anvil demo --out "$out/run-$i" "$@") > "$log" 2>&1
  code=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  recoveries=$(grep -c "^kill-node of .*: the next round was committed" "$log")
  rejoins=$(grep -c " rejoined the job: " "$log")
  equal=$(grep -c "^OK: the reference and the" "$log")
  printf 'run %d: exit %d, %.0f s, recoveries printed %d, rejoins %d, hashes equal %s\n' \
    "$i" "$code" "$secs" "$recoveries" "$rejoins" "$([ "$equal" = 1 ] && echo yes || echo NO)"
  grep "^kill-node of \| rejoined the job: \|^  reference \|^  cluster " "$log" | sed 's/^/    /'
  grep " rejoined the job: " "$log" | sed -E 's/.* ([0-9]+) ms after its restart.*/\1/' \
    > "$out/run-$i.rejoins"
  sed -n 1p "$out/run-$i.rejoins" >> "$out/rejoins-worker.txt"
  sed -n '2,$p' "$out/run-$i.rejoins" >> "$out/rejoins-coordinator.txt"
  printf '%.0f\n' "$secs" >> "$out/seconds.txt"
  if [ "$code" != 0 ] || [ "$recoveries" -lt 2 ] || [ "$rejoins" -lt 2 ] || [ "$equal" != 1 ]; then
    failed=$((failed + 1))
    echo "    FAILED: see $log"
  fi
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
echo "passed $((runs - failed)) of $runs; seconds: $(tr '\n' ' ' < "$out/seconds.txt")(median $(median "$out/seconds.txt"))"
for who in worker coordinator; do
  echo "rejoin of the ${who}'s node, restart to first round using its workers, ms:" \
    "$(tr '\n' ' ' < "$out/rejoins-$who.txt")(median $(median "$out/rejoins-$who.txt"))"
done
echo "logs in $out"
[ "$failed" = 0 ]
