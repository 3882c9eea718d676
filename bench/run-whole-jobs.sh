#!/usr/bin/env bash
# Whole jobs as a user runs them, side by side with PyTorch on this machine, one after the other:
#   bench/run-whole-jobs.sh [--model small|large] [--epochs E] [--repeats R] [--only WHAT,...]
#       [--anvil DIR] [--insecure-transport]
# WHAT: anvil-local (`./anvil train --local`, 2 workers), torch-single (train_single.py
# --threads 1: PyTorch's fastest single process here), anvil-cluster (`./anvil train --nodes 2`),
# ddp (2 processes x 1 core, gloo). Anvil's figure is `samplesPerSecond` of result.json (training
# rounds only, JVM warm-up included); PyTorch's is its median epoch. Paired ratios: anvil-local /
# torch-single and anvil-cluster / ddp in the same repeat. --anvil DIR runs another checkout's
# ./anvil (e.g. an older commit, for a before/after). The cluster runs with mutual TLS, as
# `anvil train --nodes` does by default; --insecure-transport runs it on plain TCP, as gloo's DDP
# does. A run that fails is reported and left out of the figures. Needs python3-torch and
# dataset-fashion-mnist (apt-get install -y python3-torch dataset-fashion-mnist).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL=small EPOCHS=3 REPEATS=5 ONLY="anvil-local,torch-single,anvil-cluster,ddp" ANVIL="$ROOT" CLUSTER_ARGS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL="$2"; shift 2 ;;
    --epochs) EPOCHS="$2"; shift 2 ;;
    --repeats) REPEATS="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --anvil) ANVIL="$(cd "$2" && pwd)"; shift 2 ;;
    --insecure-transport) CLUSTER_ARGS="--insecure-transport"; shift ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
for what in ${ONLY//,/ }; do
  case "$what" in
    anvil-local | torch-single | anvil-cluster | ddp) ;;
    *) echo "--only: unknown entry $what (anvil-local, torch-single, anvil-cluster, ddp)" >&2; exit 2 ;;
  esac
done
case "$MODEL" in
  small) LAYERS="784, 128, 10" ;;
  large) LAYERS="784, 1024, 1024, 10" ;;
  *) echo "--model must be small or large, was $MODEL" >&2; exit 2 ;;
esac

WORK="$(mktemp -d /tmp/anvil-whole-jobs.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cp -r "$ROOT/../shared/peers/pytorch" "$WORK/peer" 2>/dev/null \
  || cp -r /work/shared/peers/pytorch "$WORK/peer"
# The peer's job: Fashion-MNIST, global batch 256, plain SGD lr 0.1, the same number of epochs.
cat > "$WORK/job.conf" <<CONF
job {
  name = "whole-$MODEL", seed = 0
  model { type = mlp, layers = [$LAYERS], activation = relu }
  data { type = idx, path = "/usr/share/datasets/fashion-mnist" }
  optimizer { type = sgd, learning-rate = 0.1 }
  batch-size = 256, logical-shards = 16, epochs = $EPOCHS, kernel = native
}
CONF

anvil_sps() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['samplesPerSecond'])" "$1"; }
torch_sps() { # the median epoch of the last line of a peer's jsonl
  python3 -c "import json,statistics,sys; r=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(statistics.median(r['sps']))" "$1"
}

cluster_facts() { # RESULT REPEAT: where a cluster round's time went, and how it travelled
  python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
split = ", ".join(f"{k} {v:.3f}" for k, v in r.get("roundTimeSplitMs", {}).items())
print(f"rep {sys.argv[2]} anvil-cluster: params {r['paramsSha256'][:12]}, data-plane rounds"
      f" {r.get('dataPlaneRounds', 0)} of {r['rounds']}, mean ms a round: {split}")
PY
}

run_one() { # WHAT REPEAT: runs one job, prints its samples/s
  local r="$2"
    case "$1" in
    anvil-local)
      "$ANVIL/anvil" train --local --workers 2 --job "$WORK/job.conf" --out "$WORK/r.json" -q >/dev/null
      anvil_sps "$WORK/r.json" ;;
    anvil-cluster)
      "$ANVIL/anvil" train --nodes 2 $CLUSTER_ARGS --job "$WORK/job.conf" --out "$WORK/r.json" \
        --run-dir "$WORK/run-$2" -q >/dev/null
      cluster_facts "$WORK/r.json" "$2" >&2
      anvil_sps "$WORK/r.json" ;;
    torch-single)
      (cd "$WORK/peer" && /usr/bin/python3 train_single.py --model "$MODEL" --epochs "$EPOCHS" \
        --threads 1 --out "$WORK/t.jsonl" >/dev/null)
      torch_sps "$WORK/t.jsonl" ;;
    ddp)
      (cd "$WORK/peer" && OMP_NUM_THREADS=1 /usr/bin/python3 torchrun_fixed.py --standalone \
        --nproc_per_node=2 train_ddp.py --model "$MODEL" --epochs "$EPOCHS" --mode ddp \
        --out "$WORK/d.jsonl" >/dev/null 2>&1)
      torch_sps "$WORK/d.jsonl" ;;
  esac
}

"$ANVIL/anvil" --version >/dev/null 2>&1 || true # builds the distribution once, before timing
echo "whole jobs: $MODEL MLP [$LAYERS], $EPOCHS epochs, $REPEATS repeats, anvil from $ANVIL" \
  "($(git -C "$ANVIL" rev-parse --short HEAD)), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$REPEATS"); do
  for what in ${ONLY//,/ }; do
    # a run that fails (e.g. torchrun's rendezvous port taken) is reported and left out
    if ! sps=$(run_one "$what" "$r"); then
      printf 'rep %d %-14s failed; left out\n' "$r" "$what" >&2
      continue
    fi
    printf 'rep %d %-14s %10.0f samples/s\n' "$r" "$what" "$sps" | tee -a "$WORK/lines"
  done
done
python3 - "$WORK/lines" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    _, rep, what, sps, _ = line.split()
    runs[what][int(rep)] = float(sps)
print("median samples/s: " + ", ".join(f"{w} {statistics.median(v.values()):,.0f}" for w, v in runs.items()))
for a, b in (("anvil-local", "torch-single"), ("anvil-cluster", "ddp")):
    if a in runs and b in runs:
        ratios = [runs[a][r] / runs[b][r] for r in runs[a] if r in runs[b]]
        print(f"{a} / {b}: median paired ratio {statistics.median(ratios):.2f}"
              f" (per repeat {', '.join(f'{x:.2f}' for x in ratios)})")
if "anvil-cluster" in runs and "anvil-local" in runs:
    print(f"efficiency anvil-cluster / anvil-local: "
          f"{statistics.median(runs['anvil-cluster'].values()) / statistics.median(runs['anvil-local'].values()):.2f}")
PY
