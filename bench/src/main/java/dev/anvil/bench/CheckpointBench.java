package dev.anvil.bench;

import dev.anvil.bench.ClusterCheckpointCost.Run;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What checkpoints cost, snapshot and incremental mode: directly (in this JVM, against an embedded
 * PostgreSQL, next to {@code torch.save} of a same-size model) and as training time on a cluster.
 *
 * <p>Three models on synthetic data (kernel native, batch 128, 16 logical shards, SGD lr 0.05
 * momentum 0.9 by default, so one optimizer slot; {@code --optimizer adam} gives two):
 * <b>small</b>, the project's small MLP, mlp [784, 128, 10] (101,770 parameters) on 40,000 samples
 * x 784 features, 10 classes; <b>large</b>, mlp [784, 1024, 256, 10] (1,068,810 parameters) on the
 * same data; and, only when asked for, <b>tiny</b>, mlp [32, 64, 8] (2,632 parameters) on 24,000
 * samples x 32 features, 8 classes (as {@code examples/synthetic-mlp.conf}), whose sub-millisecond
 * rounds make it the worst case for any fixed cost per checkpoint.
 *
 * <p>Part 1, <b>direct cost</b> ({@link DirectCheckpointCost}): medians over the repetitions after
 * a warm-up of a snapshot's copy, encoding and store, and of the incremental mode's gradient log;
 * with {@link TorchSaveCost} for reference. Part 2, <b>training-time overhead</b> ({@link
 * ClusterCheckpointCost}): each model's job on a local cluster with no checkpoints, snapshot every
 * 50 and every 10, incremental every 50, interleaved, R repeats; checkpoint figures from the nodes'
 * {@code /metrics}. Then the summary ({@link CheckpointReport}).
 *
 * <p>Usage: {@link CheckpointBenchOptions#USAGE}; {@code --checkpoint-directory} runs the cluster
 * with {@code anvil.checkpoint.directory} (checkpoint bytes as files). Start it as {@code
 * bench/run-checkpoint.sh} does: the node JVMs are launched with this JVM's class path.
 */
public final class CheckpointBench {
  private CheckpointBench() {}

  public static void main(String[] args) throws Exception {
    CheckpointBenchOptions o =
        Console.options(args, CheckpointBenchOptions::parse, CheckpointBenchOptions.USAGE);
    sayHeader(o);
    Console.requireNativeBlas();
    Map<BenchModel, DirectCheckpointCost.Result> direct = new LinkedHashMap<>();
    if (o.direct()) {
      Console.say("");
      Console.say(
          "== 1. direct cost (this JVM, embedded PostgreSQL, %d reps after %d warm-up)" + " ==",
          o.directReps(), o.directWarmup());
      direct = DirectCheckpointCost.measure(o);
    }
    Map<BenchModel, TorchSaveCost.Result> torch = o.torch() ? torchSave(o) : Map.of();
    Map<BenchModel, List<Run>> runs = new LinkedHashMap<>();
    if (o.cluster()) {
      Console.say("");
      Console.say(
          "== 2. training-time overhead (LocalCluster 2 node JVMs x 1 worker slot, job on"
              + " %d workers) ==",
          ClusterCheckpointCost.WORKERS);
      runs = ClusterCheckpointCost.measure(o);
    }
    Console.say("");
    Console.say("==== summary ====");
    CheckpointReport.printDirect(o, direct, torch);
    CheckpointReport.printOverhead(o, runs);
  }

  private static void sayHeader(CheckpointBenchOptions o) {
    for (BenchModel m : o.models()) {
      Console.say(
          "%s = mlp [%s], %d rounds (warm-up %d)",
          m.name(), m.layers(), m.rounds(), m.warmupRounds());
    }
    Console.say(
        "checkpoint cost: synthetic data, kernel native, batch 128, 16 logical shards,"
            + " optimizer %s; modes %s; repeats %d (interleaved)",
        o.optimizer().hocon(),
        CheckpointMode.MEASURED.stream().map(CheckpointMode::label).toList(),
        o.repeats());
    Console.say(
        "available processors %d; load average %.2f",
        Runtime.getRuntime().availableProcessors(), Console.loadAverage());
    Console.checkBlasThreads("bench/run-checkpoint.sh", "workers");
  }

  private static Map<BenchModel, TorchSaveCost.Result> torchSave(CheckpointBenchOptions o) {
    Console.say("");
    Console.say("== torch.save of a same-size model + %s state_dict ==", o.optimizer().label());
    Map<BenchModel, TorchSaveCost.Result> out = new LinkedHashMap<>();
    for (BenchModel m : o.models()) {
      TorchSaveCost.Result t = TorchSaveCost.measure(m, o);
      out.put(m, t);
      Console.say(
          "torch.save %-5s %s",
          m.name(),
          t.measured()
              ? String.format(
                  Locale.ROOT,
                  "bytes %,d  BytesIO %.3f ms  file %.3f ms  file+fsync %.3f ms",
                  t.bytes(),
                  t.bytesio(),
                  t.file(),
                  t.fileSync())
              : "skipped: " + t.problem());
    }
    return out;
  }
}
